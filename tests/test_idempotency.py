"""A create form sent twice makes one item: the retry after a lost answer, and two copies racing each other
(issue #14 §4)."""

import re
import threading

import pytest
from sqlalchemy import func, select

from catalogue.extensions import db
from catalogue.idempotency import ALREADY_SENT
from catalogue.projects.models import Project, ProjectReport
from tests.factories import make_project
from tests.helpers import DEFAULT_PASSWORD
from tests.test_projects import form_data

TOKEN = re.compile(r'name="request_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def teacher(make_user):
    return make_user(roles="teacher", email="teacher@example.ru")


def _token(client, path: str) -> str:
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"the form at {path} has no request token"
    return match.group(1)


def _projects(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Project))


def test_a_project_form_sent_again_after_a_lost_answer_makes_one_project(app, client, auth, teacher):
    auth.login(teacher)
    data = form_data(client, "/projects/new", request_token=_token(client, "/projects/new"))
    first = client.post("/projects/new", data=data)
    assert first.status_code == 303
    again = client.post("/projects/new", data=data)  # the browser sends the same request again
    assert again.status_code == 303 and again.location == first.location
    assert ALREADY_SENT in client.get(again.location).get_data(as_text=True)
    assert _projects(app) == 1
    # A new empty form is a new request: it makes a new project.
    fresh = form_data(client, "/projects/new", title="Второй проект", request_token=_token(client, "/projects/new"))
    assert client.post("/projects/new", data=fresh).status_code == 303
    assert _projects(app) == 2


def test_a_form_returned_with_errors_keeps_its_token_and_the_corrected_send_makes_the_item(app, client, auth, teacher):
    auth.login(teacher)
    token = _token(client, "/projects/new")
    refused = client.post("/projects/new", data=form_data(client, "/projects/new", title="", request_token=token))
    assert refused.status_code == 422
    assert f'value="{token}"' in refused.get_data(as_text=True)  # the same form, corrected, is the same request
    assert client.post("/projects/new", data=form_data(client, "/projects/new", request_token=token)).status_code == 303
    assert _projects(app) == 1


def test_a_token_is_a_persons_own(app, client, auth, teacher, make_user):
    auth.login(teacher)
    data = form_data(client, "/projects/new", request_token=_token(client, "/projects/new"))
    mine = client.post("/projects/new", data=data).location
    auth.logout()
    other = make_user(roles="teacher", email="other@example.ru")
    auth.login(other)
    data["csrf_token"] = form_data(client, "/projects/new")["csrf_token"]
    theirs = client.post("/projects/new", data=data)
    assert theirs.status_code == 303 and theirs.location != mine
    assert _projects(app) == 2


def test_a_report_form_sent_twice_makes_one_report(app, client, auth, teacher, make_user):
    moderator = make_user(roles="moderator")
    with app.test_request_context():
        project_id = make_project(teacher, "published", moderator=moderator).id
    auth.login(teacher)
    path = f"/projects/{project_id}/reports/new"
    body = client.get(path).get_data(as_text=True)
    token = TOKEN.search(body).group(1)
    data = {"csrf_token": form_data(client, path)["csrf_token"], "request_token": token, "class_name": "7 «А»",
            "grade": "7", "started_on": "2026-09-01", "finished_on": "2026-10-01", "participants": "20",
            "body": "Класс собрал модель.", "results": "Модель и доклад."}  # fmt: skip
    first = client.post(path, data=data)
    assert first.status_code == 303, first.get_data(as_text=True)[:2000]
    assert client.post(path, data=data).location == first.location
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ProjectReport)) == 1


def test_two_copies_of_one_request_at_once_make_one_project(app, teacher):
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        form = form_data(client, "/auth/login")
        client.post("/auth/login", data={"email": teacher.email, "password": DEFAULT_PASSWORD,
                                         "csrf_token": form["csrf_token"]})  # fmt: skip
    token = _token(clients[0], "/projects/new")
    bodies = [form_data(client, "/projects/new", request_token=token) for client in clients]
    answers, start = [None, None], threading.Barrier(2)

    def send(number: int):
        start.wait()
        answers[number] = clients[number].post("/projects/new", data=bodies[number])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].location == answers[1].location
    assert _projects(app) == 1


@pytest.mark.parametrize("path", ["/projects/new", "/practices/new"])
def test_every_create_form_carries_a_token(client, auth, teacher, path):
    auth.login(teacher)
    assert _token(client, path) != _token(client, path)  # new each time the empty form is shown
