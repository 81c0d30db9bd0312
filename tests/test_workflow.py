"""The one lifecycle behind all content, exercised on typical projects."""

import html
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from catalogue.accounts.models import User
from catalogue.extensions import db
from catalogue.permissions import Conflict, InvalidInput, PermissionDenied
from catalogue.projects.models import Project
from catalogue.taxonomy.models import AgeGroup
from catalogue.workflow import services as workflow
from catalogue.workflow.models import AuditEntry, Notification, Status
from tests.factories import make_project
from tests.helpers import csrf_token


@pytest.fixture
def people(make_user):
    return {
        "teacher": make_user(roles=("teacher",), email="teacher@example.ru", first_name="Марина"),
        "other_teacher": make_user(roles=("teacher",), email="other@example.ru"),
        "student": make_user(roles=("student",), email="student@example.ru"),
        "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
        "moderator2": make_user(roles=("moderator",), email="moderator2@example.ru"),
        "admin": make_user(roles=("admin",), email="admin@example.ru"),
        "jury": make_user(roles=("jury",), email="jury@example.ru"),
    }


@pytest.fixture
def project_in(app, people):
    """Make a project in a state; its id. (A request context only while making it: the test
    client must not share an app context, and so ``g`` and the session, with test code.)"""

    def make(state, **kw) -> int:
        with app.test_request_context():
            return make_project(people["teacher"], state, moderator=people["moderator"], **kw).id

    return make


@pytest.fixture
def ctx(app):
    """For tests that call services directly, without the test client."""
    with app.test_request_context():
        yield


def act(client, project_id, action, comment="", expected=None):
    token = csrf_token(client, "/")
    data = {"csrf_token": token, "comment": comment}
    if expected:
        data["expected_status"] = expected
    return client.post(f"/workflow/project/{project_id}/{action}", data=data)


def status_of(app, project_id) -> str:
    with app.app_context():
        return db.session.get(Project, project_id).status


# -- transitions ----------------------------------------------------------------------------------


def test_author_submits_and_moderator_publishes_with_audit_and_notification(app, project_in, client, auth, people):
    project_id = project_in("draft")
    # The teacher submits the draft
    auth.login(people["teacher"])
    assert act(client, project_id, "submit").status_code == 303
    assert status_of(app, project_id) == Status.SUBMITTED
    auth.logout()
    # The moderator publishes it
    auth.login(people["moderator"])
    response = act(client, project_id, "publish", expected="submitted")
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(Project, project_id).status == Status.PUBLISHED
        assert db.session.get(Project, project_id).published_at is not None
        # Two audit rows: who, from, to
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.content_id == project_id).order_by(AuditEntry.id)
        ).all()
        assert [(r.action, r.from_status, r.to_status, r.actor_id) for r in rows] == [
            ("submit", "draft", "submitted", people["teacher"].id),
            ("publish", "submitted", "published", people["moderator"].id),
        ]
        # The author is told in the site and by mail
        notes = db.session.scalars(select(Notification).where(Notification.user_id == people["teacher"].id)).all()
        assert len(notes) == 1 and "опубликовано" in notes[0].text
    letters = list((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(letters) == 1
    assert "teacher@example.ru" in letters[0].read_text()


@pytest.mark.parametrize("action", ["request_changes", "reject"])
def test_comment_is_required_to_request_changes_or_reject(app, project_in, client, auth, people, action):
    project_id = project_in("submitted")
    auth.login(people["moderator"])
    response = act(client, project_id, action, comment="   ")
    assert response.status_code == 422
    assert "Напишите комментарий" in response.get_data(as_text=True)
    assert status_of(app, project_id) == Status.SUBMITTED
    assert act(client, project_id, action, comment="Добавьте этап рефлексии.").status_code == 303
    expected = Status.CHANGES_REQUESTED if action == "request_changes" else Status.REJECTED
    assert status_of(app, project_id) == expected


def test_author_sees_the_comment_fixes_and_resubmits(app, project_in, client, auth, people):
    project_id = project_in("changes_requested")
    auth.login(people["teacher"])
    page = client.get(f"/projects/{project_id}", follow_redirects=True).get_data(as_text=True)
    assert "Уточните цель." in page
    assert "Нужны исправления" in page
    # The edit form opens again, and the project can be resubmitted
    assert client.get(f"/projects/{project_id}/edit").status_code == 200
    assert act(client, project_id, "submit").status_code == 303
    assert status_of(app, project_id) == Status.SUBMITTED


def test_unpublish_needs_a_reason_hides_the_project_and_republish_restores_it(app, project_in, client, auth, people):
    project_id = project_in("published")
    visitor = app.test_client()
    assert visitor.get(f"/projects/{project_id}", follow_redirects=True).status_code == 200
    auth.login(people["moderator"])
    assert act(client, project_id, "unpublish").status_code == 422
    assert act(client, project_id, "unpublish", comment="Устаревшие данные.").status_code == 303
    assert status_of(app, project_id) == Status.ARCHIVED
    assert visitor.get(f"/projects/{project_id}", follow_redirects=True).status_code == 404
    assert act(client, project_id, "republish").status_code == 303
    assert visitor.get(f"/projects/{project_id}", follow_redirects=True).status_code == 200


def test_teacher_cannot_publish_not_even_their_own(app, project_in, client, auth, people):
    project_id = project_in("submitted")
    auth.login(people["teacher"])
    assert act(client, project_id, "publish").status_code == 403
    assert status_of(app, project_id) == Status.SUBMITTED


def test_moderator_who_is_also_a_teacher_does_not_review_their_own_project(app, make_user, people, ctx):
    both = make_user(roles=("teacher", "moderator"), email="both@example.ru")
    project = make_project(both, "submitted")
    assert [t.action for t in workflow.actions_for(db.session.merge(both), project)] == ["withdraw"]
    with pytest.raises(Conflict, match="другой модератор или администратор"):
        workflow.transition(db.session.merge(both), project, "publish")
    # ... another moderator may
    workflow.transition(db.session.merge(people["moderator"]), project, "publish")
    assert project.status == Status.PUBLISHED


def test_only_teachers_and_admins_write_projects(app, people, ctx):
    with pytest.raises(PermissionDenied):
        make_project(people["student"], "draft")


def test_action_not_allowed_from_the_current_state_is_refused_with_409(app, project_in, client, auth, people):
    project_id = project_in("draft")
    auth.login(people["moderator"])
    # A draft cannot be published: the author has not submitted it
    response = act(client, project_id, "publish")
    assert response.status_code == 409
    assert status_of(app, project_id) == Status.DRAFT
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.content_id == project_id)) is None


def test_unknown_action_is_404(app, project_in, client, auth, people):
    project_id = project_in("submitted")
    auth.login(people["moderator"])
    assert act(client, project_id, "delete_everything").status_code == 404


def test_of_two_moderators_deciding_at_once_one_wins_and_the_other_is_told(app, project_in, people):
    project_id = project_in("submitted")
    a = app.test_client()
    b = app.test_client()
    for c, who in ((a, "moderator@example.ru"), (b, "moderator2@example.ru")):
        c.post(
            "/auth/login",
            data={"email": who, "password": "пароль-надёжный-1", "csrf_token": csrf_token(c, "/auth/login")},
        )
    # Both opened the item while it was submitted; A publishes first
    assert act(a, project_id, "publish", expected="submitted").status_code == 303
    # B's request changes arrives second: refused, with the reason
    response = act(b, project_id, "request_changes", comment="Исправьте", expected="submitted")
    assert response.status_code == 409
    assert "Опубликовано" in response.get_data(as_text=True)
    assert status_of(app, project_id) == Status.PUBLISHED


@pytest.mark.stale_index  # the other moderator's decision is a raw UPDATE, behind the unit of work's back
def test_a_stale_decision_is_refused_by_the_database_not_half_applied(app, project_in, people, ctx):
    project_id = project_in("submitted")
    # A moderator's copy of the item, read before another moderator's decision landed
    stale = db.session.get(Project, project_id)
    db.session.expunge(stale)
    db.session.rollback()
    with db.engine.begin() as other:
        other.execute(update(Project).where(Project.id == project_id).values(status=Status.PUBLISHED))
    db.session.add(stale)
    moderator = db.session.merge(people["moderator2"])
    with pytest.raises(Conflict):
        workflow.transition(moderator, stale, "reject", "Слишком коротко")
    assert status_of(app, project_id) == Status.PUBLISHED
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "reject")) is None


def test_service_refuses_missing_comment_without_touching_state(app, project_in, people, ctx):
    project = db.session.get(Project, project_in("submitted"))
    with pytest.raises(InvalidInput):
        workflow.transition(db.session.merge(people["moderator"]), project, "reject", "")
    assert status_of(app, project.id) == Status.SUBMITTED


# -- who sees what --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("viewer", "sees"),
    [
        (None, False),
        ("student", False),
        ("other_teacher", False),
        ("jury", False),
        ("teacher", True),
        ("moderator", True),
        ("admin", True),
    ],
)
def test_who_sees_a_draft(app, project_in, auth, client, people, viewer, sees):
    project_id = project_in("draft")
    if viewer:
        auth.login(people[viewer])
    for path in (f"/projects/{project_id}", f"/projects/{project_id}-iunyi-energetik/print"):
        response = client.get(path, follow_redirects=True)
        assert response.status_code == (200 if sees else 404), (viewer, path)


def test_authors_edit_only_drafts_and_returned_items(app, project_in, client, auth, people):
    project_id = project_in("submitted")
    auth.login(people["teacher"])
    assert client.get(f"/projects/{project_id}/edit").status_code == 409
    other = project_in("draft")
    auth.logout()
    auth.login(people["other_teacher"])
    assert client.get(f"/projects/{other}/edit").status_code == 404


# -- the moderation queue ---------------------------------------------------------------------------


def test_queue_lists_submitted_items_oldest_first_for_moderators_only(app, project_in, client, auth, people):
    first = project_in("submitted", title="Первый проект")
    second = project_in("submitted", title="Второй проект")
    project_in("draft", title="Черновик проекта")
    auth.login(people["teacher"])
    assert client.get("/moderation/").status_code == 403
    auth.logout()
    auth.login(people["moderator"])
    page = client.get("/moderation/").get_data(as_text=True)
    assert page.index("Первый проект") < page.index("Второй проект")
    assert "Черновик проекта" not in page
    assert f"/moderation/project/{first}" in page and f"/moderation/project/{second}" in page


def test_queue_filters_by_age_group_and_answers_htmx_with_a_fragment(app, project_in, client, auth, people):
    project_in("submitted", title="Для младших", ages=["6-7"])
    project_in("submitted", title="Для старших", ages=["10-11"])
    auth.login(people["moderator"])
    with app.app_context():
        senior = db.session.scalar(select(AgeGroup.id).where(AgeGroup.slug == "10-11"))
    response = client.get(f"/moderation/?age={senior}", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "Для старших" in page and "Для младших" not in page
    assert "<html" not in page
    assert "HX-Request" in response.headers["Vary"]


def test_queue_shows_twenty_at_a_time_and_its_pages_keep_the_filters(app, project_in, client, auth, people):
    waiting = [project_in("submitted", title=f"Старшим {n}", ages=["10-11"]) for n in range(1, 26)]
    project_in("submitted", title="Младшим", ages=["6-7"])
    auth.login(people["moderator"])
    with app.app_context():
        senior = db.session.scalar(select(AgeGroup.id).where(AgeGroup.slug == "10-11"))

    def listed(page: str) -> list[int]:
        return [int(n) for n in re.findall(r'href="/moderation/project/(\d+)"', page)]

    first = client.get(f"/moderation/?age={senior}").get_data(as_text=True)
    assert "25 материалов ждут проверки" in first
    assert listed(first) == waiting[:20]
    assert "← Назад" not in first
    next_page = html.unescape(re.search(r'href="([^"]+)" rel="next"', first)[1])
    assert f"age={senior}" in next_page and "page=2" in next_page
    # The next page, as htmx asks for it and as a plain link, holds the other 5 of the same filter
    for headers in ({"HX-Request": "true"}, {}):
        second = client.get(next_page, headers=headers).get_data(as_text=True)
        assert listed(second) == waiting[20:]
        assert "Младшим" not in second
        back = html.unescape(re.search(r'href="([^"]+)" rel="prev"', second)[1])
        assert f"age={senior}" in back and "page=1" in back
        assert 'rel="next"' not in second
    # A page beyond the last shows the last, not an error
    assert listed(client.get(f"/moderation/?age={senior}&page=99").get_data(as_text=True)) == waiting[20:]


def test_htmx_decision_returns_the_panel_and_triggers_the_queue_event(app, project_in, client, auth, people):
    project_id = project_in("submitted")
    auth.login(people["moderator"])
    token = csrf_token(client, f"/moderation/project/{project_id}")
    response = client.post(
        f"/workflow/project/{project_id}/publish",
        data={"expected_status": "submitted", "comment": ""},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert "queue-changed" in response.headers["HX-Trigger"]
    page = response.get_data(as_text=True)
    assert "Опубликовано" in page and "<html" not in page
    # The header badge, refreshed by that event, shows what is left
    assert client.get("/moderation/count").get_data(as_text=True).strip() == ""


def test_notifications_are_listed_and_marked_read(app, project_in, client, auth, people):
    project_in("published")
    auth.login(people["teacher"])
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "опубликовано" in page
    # The header shows the unread count
    assert 'class="badge badge-count">1<' in client.get("/").get_data(as_text=True)
    client.post("/account/notifications/read", data={"csrf_token": csrf_token(client, "/account/notifications")})
    with app.app_context():
        assert workflow.unread_count(db.session.get(User, people["teacher"].id)) == 0
