"""«Взять в работу»: a teacher records that a class runs a typical project; the project page counts the classes;
the teacher is reminded to report when the project's time is up, and the report links to the class."""

import datetime as dt
import email
import email.policy
import html
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalogue.clock import local_today
from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.projects import runs
from catalogue.projects.models import Project, ProjectReport, ProjectRun
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Notification
from tests.conftest import AuthActions
from tests.factories import make_project
from tests.helpers import csrf_token
from tests.test_practices_factories import BRATSK_SCHOOL, IRKUTSK_LYCEUM, organization

HTMX = {"HX-Request": "true"}
# A start some weeks back, so that the dates stay valid whenever the suite runs (a start within a year of today).
START = local_today() - dt.timedelta(days=60)


@pytest.fixture
def people(app, make_user):
    with app.app_context():
        made = {
            "author": make_user(email="author@example.ru", last_name="Авторова"),
            "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
            "teacher": make_user(
                email="teacher@example.ru",
                last_name="Соколова",
                first_name="Ирина",
                middle_name="Петровна",
                organization=organization(IRKUTSK_LYCEUM),
            ),
            "bratsk": make_user(
                email="bratsk@example.ru", last_name="Шадрин", organization=organization(BRATSK_SCHOOL)
            ),
            "student": make_user(roles=("student",), email="student@example.ru"),
        }
        for person in made.values():
            db.session.refresh(person)
        db.session.expunge_all()
        return made


@pytest.fixture
def project_id(app, people) -> int:
    """A published four-week project for grades 6–7."""
    with app.test_request_context():
        return make_project(people["author"], "published", moderator=people["moderator"], ages=["6-7"]).id


def signed_in(app, person):
    client = app.test_client()
    assert AuthActions(client).login(person.email).status_code == 303
    return client


def take(client, project_id: int, class_label="7Б", grade="7", started_on=None, pupils="24", **headers):
    data = {
        "csrf_token": csrf_token(client, "/"),
        "class_label": class_label,
        "grade": grade,
        "started_on": (started_on or local_today()).isoformat(),
        "pupils": pupils,
    }
    return client.post(f"/projects/{project_id}/runs/new", data=data, headers=headers)


def runs_in_database(app) -> list[ProjectRun]:
    with app.app_context():
        found = list(db.session.scalars(select(ProjectRun).order_by(ProjectRun.id)))
        db.session.expunge_all()
        return found


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- taking a project into class --------------------------------------------------------------------


def test_a_teacher_takes_a_project_into_class_without_javascript(app, people, project_id):
    teacher = signed_in(app, people["teacher"])
    page = text(teacher.get(f"/projects/{project_id}", follow_redirects=True))
    assert "Пока ни один класс не взял этот проект в работу." in page
    assert f'href="/projects/{project_id}/runs/new"' in page
    # The form is a page of its own: the grade from the project's age group (6–7), today's date in Irkutsk
    form = text(teacher.get(f"/projects/{project_id}/runs/new"))
    assert "<!doctype html>" in form.lower()
    assert '<option selected value="6">6 класс</option>' in form
    assert f'value="{local_today().isoformat()}"' in form
    # Without the form's token nothing is recorded
    assert teacher.post(f"/projects/{project_id}/runs/new", data={"class_label": "7Б"}).status_code == 400
    assert runs_in_database(app) == []

    response = take(teacher, project_id, "7Б", "7", START, "24")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("#runs")
    page = text(teacher.get(response.headers["Location"], follow_redirects=True))
    due = START + dt.timedelta(weeks=4)
    assert f"Записали: класс 7Б проводит проект с {ru_date(START)}. {ru_date(due)} напомним об отчёте." in page
    assert "Проводит 1 класс" in page and "в 1 муниципалитете" in page
    [run] = runs_in_database(app)
    # The school and the municipality are the teacher's, copied; the report is due after the project's 4 weeks
    assert (run.class_label, run.grade, run.pupils) == ("7Б", 7, 24)
    assert run.started_on == START and run.due_on == due
    with app.app_context():
        lyceum = organization(IRKUTSK_LYCEUM)
        assert (run.organization_id, run.municipality_id) == (lyceum.id, lyceum.municipality_id)


def test_with_htmx_the_form_appears_in_place_and_is_answered_in_place(app, people, project_id):
    teacher = signed_in(app, people["teacher"])
    fragment = teacher.get(f"/projects/{project_id}/runs/new", headers=HTMX)
    body = text(fragment)
    assert "<html" not in body and body.lstrip().startswith('<section id="runs"')
    assert f'hx-post="/projects/{project_id}/runs/new"' in body and 'hx-target="#runs"' in body
    # An error comes back in place, with what was typed
    wrong = take(teacher, project_id, class_label="", **HTMX)
    assert wrong.status_code == 422 and "Укажите класс, например «7Б»." in text(wrong)
    assert "<html" not in text(wrong)
    # Recorded: the confirmation and the new count replace the form; the message also goes to the page's flash area
    done = take(teacher, project_id, "6 «А»", "6", **HTMX)
    assert done.status_code == 200
    body = text(done)
    assert "<html" not in body and "Записали: класс 6 «А» проводит проект" in body and "Проводит 1 класс" in body
    assert "Записали" in json.loads(done.headers["HX-Trigger"])["flash_message"]
    assert len(runs_in_database(app)) == 1


def test_the_same_class_twice_is_refused_and_another_class_is_welcome(app, people, project_id, make_user):
    teacher = signed_in(app, people["teacher"])
    assert take(teacher, project_id, "7 «Б»", started_on=START).status_code == 303
    again = take(teacher, project_id, "7б")
    assert again.status_code == 422
    assert f"Класс 7 «Б» вашей школы уже проводит этот проект (с {ru_date(START)})." in text(again)
    # A colleague of the same school cannot record that class either
    with app.app_context():
        colleague = make_user(email="colleague@example.ru", organization=organization(IRKUTSK_LYCEUM))
    assert take(signed_in(app, colleague), project_id, "7-Б").status_code == 422
    # One teacher, several classes of one project
    assert take(teacher, project_id, "7В").status_code == 303
    assert [r.class_label for r in runs_in_database(app)] == ["7 «Б»", "7В"]


def test_one_teacher_records_at_most_fifteen_classes_of_a_project(app, people, project_id):
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])
        project = db.session.get(Project, project_id)
        for n in range(runs.MAX_CLASSES):
            runs.take_into_class(teacher, project, runs.RunData(f"Группа {n}", 7, START))
    refused = take(signed_in(app, people["teacher"]), project_id, "7Я")
    assert refused.status_code == 422
    assert "Один педагог может записать на проект не больше 15 классов." in text(refused)
    assert len(runs_in_database(app)) == runs.MAX_CLASSES


def test_only_teachers_take_published_projects_into_class(app, people, project_id):
    student = signed_in(app, people["student"])
    assert student.get(f"/projects/{project_id}/runs/new").status_code == 403
    assert take(student, project_id).status_code == 403
    with app.test_request_context():
        draft = make_project(people["author"]).id
    author = signed_in(app, people["author"])
    assert author.get(f"/projects/{draft}/runs/new").status_code == 404
    # A visitor is sent to log in
    assert app.test_client().get(f"/projects/{project_id}/runs/new").status_code == 302
    assert runs_in_database(app) == []


def test_a_teacher_edits_and_deletes_their_own_runs_and_nobody_else_can(app, people, project_id):
    teacher, stranger = signed_in(app, people["teacher"]), signed_in(app, people["bratsk"])
    take(teacher, project_id, "7Б", started_on=START)
    [run] = runs_in_database(app)
    # Another teacher finds nothing there: not the page, not the edit, not the delete
    assert stranger.get(f"/projects/runs/{run.id}/edit").status_code == 404
    token = csrf_token(stranger, "/")
    moved = START + dt.timedelta(days=10)
    edit = {"csrf_token": token, "class_label": "9А", "grade": "9", "started_on": moved.isoformat(), "pupils": ""}
    assert stranger.post(f"/projects/runs/{run.id}/edit", data=edit).status_code == 404
    assert stranger.post(f"/projects/runs/{run.id}/delete", data={"csrf_token": token}).status_code == 404
    assert "7Б" not in text(stranger.get("/projects/classes"))
    [unchanged] = runs_in_database(app)
    assert (unchanged.class_label, unchanged.started_on) == ("7Б", START)
    # The teacher moves the start: the report is due four weeks after the new date
    edit["csrf_token"] = csrf_token(teacher, "/")
    response = teacher.post(f"/projects/runs/{run.id}/edit", data=edit)
    assert response.status_code == 303 and response.headers["Location"].endswith("/projects/classes")
    [edited] = runs_in_database(app)
    assert (edited.class_label, edited.grade, edited.pupils) == ("9А", 9, None)
    assert edited.due_on == moved + dt.timedelta(weeks=4)
    response = teacher.post(f"/projects/runs/{run.id}/delete", data={"csrf_token": edit["csrf_token"]})
    assert response.status_code == 303
    assert "Запись о классе 9А по проекту «Юный энергетик» удалена." in text(teacher.get("/projects/classes"))
    assert runs_in_database(app) == []


# -- what the public sees ---------------------------------------------------------------------------


def test_the_project_page_counts_classes_and_municipalities_without_naming_anyone(app, people, project_id):
    take(signed_in(app, people["teacher"]), project_id, "7Б")
    take(signed_in(app, people["teacher"]), project_id, "7В")
    take(signed_in(app, people["bratsk"]), project_id, "8А", "8")
    page = text(app.test_client().get(f"/projects/{project_id}", follow_redirects=True))
    assert "Проводят 3 класса" in page and "в 2 муниципалитетах" in page
    # Who runs it, and where, is the teachers' own
    for private in ("Соколова", "Шадрин", IRKUTSK_LYCEUM, BRATSK_SCHOOL, "7Б", "8А"):
        assert private not in page
    assert "Педагоги отмечают, что их класс проводит проект, после" in page


@pytest.mark.page_cache
def test_a_visitor_served_from_the_page_cache_sees_a_new_class_at_once(app, people, project_id):
    visitor = app.test_client()
    url = f"/projects/{project_id}"
    assert "Пока ни один класс" in text(visitor.get(url, follow_redirects=True))
    assert "Пока ни один класс" in text(visitor.get(url, follow_redirects=True))  # now from the cache
    take(signed_in(app, people["bratsk"]), project_id, "8А", "8")
    assert "Проводит 1 класс" in text(visitor.get(url, follow_redirects=True))


# -- «Мои классы» and the start page ----------------------------------------------------------------


def test_my_classes_show_each_run_with_its_state_and_the_way_to_the_report(app, people, project_id):
    teacher = signed_in(app, people["teacher"])
    today = local_today()
    take(teacher, project_id, "6А", "6", started_on=today - dt.timedelta(weeks=5))
    take(teacher, project_id, "6Б", "6", started_on=today)
    page = text(teacher.get("/projects/classes"))
    assert "пора отчитаться" in page and "идёт" in page
    first = runs_in_database(app)[0]
    assert f"/projects/{project_id}/reports/new?run={first.id}" in page
    start = text(teacher.get("/start"))
    assert "Юный энергетик</a>, 6А" in start and 'href="/projects/classes"' in start
    assert 'href="/projects/classes">Мои классы</a>' in text(teacher.get("/"))  # the user menu


# -- reminders --------------------------------------------------------------------------------------


def letters(app, to: str = "teacher@example.ru") -> list[email.message.EmailMessage]:
    """The letters written to the mail folder (the site's outbox when no SMTP server is set) for ``to``."""
    folder = Path(app.instance_path) / "mail"
    paths = sorted(folder.glob("*.eml")) if folder.exists() else []
    found = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default) for p in paths]
    return [letter for letter in found if letter["To"] == to]


def test_a_run_past_its_time_reminds_the_teacher_once_in_the_site_and_by_mail(app, people, project_id, runner):
    teacher = signed_in(app, people["teacher"])
    today = local_today()
    take(teacher, project_id, "6А", "6", started_on=today - dt.timedelta(weeks=4))  # due today
    take(teacher, project_id, "6Б", "6", started_on=today - dt.timedelta(weeks=4) + dt.timedelta(days=1))  # tomorrow
    due, not_yet = runs_in_database(app)

    result = runner.invoke(args=["runs", "remind"])
    assert result.exit_code == 0, result.output
    assert "Напоминаний отправлено: 1." in result.output
    with app.app_context():
        [note] = db.session.scalars(select(Notification).where(Notification.user_id == people["teacher"].id))
        assert "Срок проекта «Юный энергетик» в классе 6А прошёл" in note.text
        assert note.url == f"/projects/{project_id}/reports/new?run={due.id}"
    [letter] = letters(app)
    assert letter["To"] == "teacher@example.ru"
    # (Read back whole: a longer Cyrillic subject is folded by Python's email so that a space is lost, «отчёто»)
    assert letter["Subject"] == "Профориентация Приангарья: пора отчитаться о проекте"
    body = letter.get_content()
    assert body.startswith("Здравствуйте, Ирина Петровна!")
    assert f"http://localhost/projects/{project_id}/reports/new?run={due.id}" in body

    # Run again (the daily timer, or after a crash): nothing is sent twice
    assert "Напоминаний отправлено: 0." in runner.invoke(args=["runs", "remind"]).output
    assert len(letters(app)) == 1
    with app.app_context():
        notices = select(func.count(Notification.id)).where(Notification.user_id == people["teacher"].id)
        assert db.session.scalar(notices) == 1
        assert db.session.get(ProjectRun, not_yet.id).reminded_at is None


def test_a_run_with_a_report_is_not_reminded(app, people, project_id):
    teacher = signed_in(app, people["teacher"])
    take(teacher, project_id, "6А", "6", started_on=local_today() - dt.timedelta(weeks=6))
    [run] = runs_in_database(app)
    report_form(teacher, project_id, run_id=str(run.id))
    with app.test_request_context():
        assert runs.remind_due() == 0
    assert letters(app) == []


# -- the report links to its run ----------------------------------------------------------------------


def report_form(client, project_id: int, **fields):
    data = {
        "csrf_token": csrf_token(client, "/"),
        "class_name": "6А",
        "grade": "6",
        "started_on": START.isoformat(),
        "finished_on": (START + dt.timedelta(weeks=4)).isoformat(),
        "participants": "22",
        "body": "Провели экскурсию на ГЭС.",
        "results": "Шесть моделей турбин.",
    } | fields
    return client.post(f"/projects/{project_id}/reports/new", data=data)


def test_a_report_started_from_a_run_links_to_it_and_says_which_grade_ran_it(app, people, project_id):
    teacher = signed_in(app, people["teacher"])
    take(teacher, project_id, "6А", "6", started_on=START, pupils="22")
    [run] = runs_in_database(app)
    # «Отправить отчёт» opens the form filled from the class
    form = text(teacher.get(f"/projects/{project_id}/reports/new?run={run.id}"))
    assert f'<option selected value="{run.id}">6А, с {ru_date(START)}</option>' in form
    assert 'value="6А"' in form and f'value="{START.isoformat()}"' in form and 'value="22"' in form
    # Another teacher's class cannot be claimed
    stranger = signed_in(app, people["bratsk"])
    refused = report_form(stranger, project_id, run_id=str(run.id))
    assert refused.status_code == 422
    assert "Выберите один из своих классов, которые проводят этот проект." in text(refused)

    response = report_form(teacher, project_id, run_id=str(run.id), started_on=START.isoformat())
    assert response.status_code == 303
    with app.app_context():
        report = db.session.scalar(select(ProjectReport))
        assert db.session.get(ProjectRun, run.id).report_id == report.id
        assert db.session.scalar(select(func.count(ProjectReport.id))) == 1
        report_id = report.id
    # A draft linked: the class leads to it (still «пора отчитаться» until it is sent)
    assert f'href="/projects/reports/{report_id}"' in text(teacher.get("/projects/classes"))
    # Sent for review: «отчёт отправлен»; published: the report says which grade ran it and from when
    with app.test_request_context():
        report = db.session.get(ProjectReport, report_id)
        workflow.transition(db.session.merge(people["teacher"]), report, "submit")
    assert "отчёт отправлен" in text(teacher.get("/projects/classes"))
    with app.test_request_context():
        workflow.transition(db.session.merge(people["moderator"]), db.session.get(ProjectReport, report_id), "publish")
    public = text(app.test_client().get(f"/projects/reports/{report_id}"))
    assert "Взят в работу" in public and f"6 класс, {ru_date(START)}" in public
    # The class is no longer offered for a second report
    assert f"6А, с {ru_date(START)}" not in text(teacher.get(f"/projects/{project_id}/reports/new"))
