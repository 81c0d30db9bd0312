"""Authors delete their own drafts that were never published, with the files; nothing else goes."""

import pytest
from sqlalchemy import func, select

from catalogue.contest import seasons
from catalogue.contest.models import Entry
from catalogue.extensions import db
from catalogue.media import services as media
from catalogue.media import storage
from catalogue.media.models import StoredFile
from catalogue.media.validation import validate_upload
from catalogue.permissions import PermissionDenied
from catalogue.projects.models import Project
from catalogue.workflow import services as workflow
from catalogue.workflow.models import AuditEntry
from tests.contest_support import SCHOOL_A, make_entry, make_season, organization
from tests.factories import make_project
from tests.helpers import PDF, csrf_token


@pytest.fixture
def people(make_user):
    return {
        "teacher": make_user(roles=("teacher",), email="teacher@example.ru"),
        "other": make_user(roles=("teacher",), email="other@example.ru"),
        "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
    }


def project_with_file(app, people, state: str = "draft") -> tuple[int, str]:
    """A project of the teacher with one attached PDF; (its id, the file's key)."""
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])
        key = media.store_upload(teacher, validate_upload("document", "План.pdf", PDF)).key
        project = make_project(teacher, state, moderator=people["moderator"], attach=[key])
        return project.id, key


def delete(client, type_key: str, item_id: int):
    token = csrf_token(client, "/")
    return client.post(f"/workflow/{type_key}/{item_id}/delete", data={"csrf_token": token})


def test_author_deletes_a_draft_with_its_files_after_confirming(app, client, auth, people):
    project_id, key = project_with_file(app, people)
    with app.app_context():
        assert storage.path_for(key).exists()
    auth.login(people["teacher"])
    page = client.get(f"/projects/{project_id}", follow_redirects=True).get_data(as_text=True)
    assert f"/workflow/project/{project_id}/delete" in page
    confirm = client.get(f"/workflow/project/{project_id}/delete")
    assert confirm.status_code == 200 and "Отменить это нельзя" in confirm.get_data(as_text=True)
    response = delete(client, "project", project_id)
    assert response.status_code == 303 and response.headers["Location"].endswith("/projects/mine")
    assert "удалён" in client.get("/projects/mine").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Project, project_id) is None
        assert db.session.scalar(select(func.count(StoredFile.id)).where(StoredFile.key == key)) == 0
        assert not storage.path_for(key).exists()
    assert client.get(f"/projects/{project_id}", follow_redirects=True).status_code == 404


def test_the_delete_needs_a_csrf_token(app, client, auth, people):
    project_id, _key = project_with_file(app, people)
    auth.login(people["teacher"])
    assert client.post(f"/workflow/project/{project_id}/delete").status_code == 400
    with app.app_context():
        assert db.session.get(Project, project_id) is not None


def test_someone_else_cannot_delete_it(app, client, auth, people, make_user):
    project_id, _key = project_with_file(app, people)
    make_user(roles=("moderator",), email="boss@example.ru")
    auth.login("boss@example.ru")  # a moderator sees the draft? not before it is sent; nor deletes it
    assert client.get(f"/workflow/project/{project_id}/delete").status_code in (403, 404)
    with app.test_request_context():
        project = db.session.get(Project, project_id)
        with pytest.raises(PermissionDenied):
            workflow.delete_draft(db.session.merge(people["other"]), project)
        assert db.session.get(Project, project_id) is not None


@pytest.mark.parametrize("state", ["submitted", "published"])
def test_what_was_sent_or_published_is_not_deleted(app, client, auth, people, state):
    project_id, key = project_with_file(app, people, state)
    auth.login(people["teacher"])
    page = client.get(f"/projects/{project_id}", follow_redirects=True).get_data(as_text=True)
    assert f"/workflow/project/{project_id}/delete" not in page
    assert client.get(f"/workflow/project/{project_id}/delete").status_code == 409
    response = delete(client, "project", project_id)
    assert response.status_code == 303  # back to the item, with the reason
    assert "ни разу не публиковался" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Project, project_id) is not None
        assert storage.path_for(key).exists()


def test_a_student_deletes_a_draft_entry_and_may_enter_the_nomination_again(app, client, auth, make_user):
    with app.test_request_context():
        admin = make_user(roles=("admin",), email="admin@example.ru")
        student = make_user(roles=("student",), email="student@example.ru", organization=organization(SCHOOL_A))
        season = make_season(admin)
        entry = make_entry(student, season)
        entry_id, model_key, year = entry.id, entry.model_file.key, season.year
    auth.login("student@example.ru")
    assert f"/workflow/entry/{entry_id}/delete" in client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    with app.test_request_context():  # sent once and taken back: history and notices of it go too
        entry = db.session.get(Entry, entry_id)
        workflow.transition(entry.author, entry, "submit")
        workflow.transition(entry.author, entry, "withdraw")
        assert workflow.history(entry)
    response = delete(client, "entry", entry_id)
    assert response.status_code == 303 and response.headers["Location"].endswith("/contest/mine")
    with app.test_request_context():
        assert db.session.get(Entry, entry_id) is None
        assert not storage.path_for(model_key).exists()
        assert db.session.scalar(select(func.count(AuditEntry.id))) == 0
        # The nomination is free again for a new entry
        make_entry(db.session.merge(student), seasons.season_by_year(year))
        assert db.session.scalar(select(func.count(Entry.id))) == 1
