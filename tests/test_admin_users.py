"""Administrators manage people: find them, grant roles, deactivate."""

import pytest
from sqlalchemy import select

from catalogue.accounts.models import Role, User
from catalogue.extensions import db
from tests.helpers import DEFAULT_PASSWORD, csrf_token


def edit_form(client, user, **overrides) -> dict:
    data = {
        "csrf_token": csrf_token(client, f"/admin/users/{user.id}"),
        "last_name": user.last_name,
        "first_name": user.first_name,
        "middle_name": user.middle_name,
        "email": user.email,
        "roles": sorted(str(r) for r in user.roles),
        "organization_id": str(user.organization_id or 0),
        "grade": str(user.grade or ""),
        "active": "y",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("path", ["/admin/users/", "/admin/users/1"])
def test_only_admins_open_user_administration(client, auth, make_user, path):
    make_user(roles=("admin",), email="admin@example.ru")
    # A visitor is sent to log in first
    response = client.get(path)
    assert response.status_code == 302
    assert "/auth/login?next=" in response.headers["Location"]
    # A teacher, a moderator and a juror are refused
    for role in ("teacher", "moderator", "jury", "student"):
        person = make_user(roles=(role,))
        auth.login(person)
        assert client.get(path).status_code == 403
        auth.logout()


def test_teacher_cannot_post_to_user_administration(client, auth, make_user):
    admin = make_user(roles=("admin",), email="admin@example.ru")
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    auth.login(teacher)
    token = csrf_token(client, "/account/")
    response = client.post(
        f"/admin/users/{teacher.id}",
        data={
            "csrf_token": token,
            "last_name": "X",
            "first_name": "Y",
            "email": teacher.email,
            "roles": ["admin", "teacher"],
            "active": "y",
        },
    )
    assert response.status_code == 403
    with client.application.app_context():
        assert db.session.get(User, teacher.id).roles == {Role.TEACHER}
        assert db.session.get(User, admin.id).roles == {Role.ADMIN}


def test_admin_finds_users_by_name_case_and_yo_insensitive(client, auth, make_user):
    make_user(roles=("admin",), email="admin@example.ru")
    make_user(roles=("teacher",), email="fedorov@example.ru", last_name="Фёдоров", first_name="Пётр")
    make_user(roles=("teacher",), email="other@example.ru", last_name="Соколова")
    auth.login("admin@example.ru")
    page = client.get("/admin/users/?q=федоров").get_data(as_text=True)
    assert "Фёдоров Пётр" in page
    assert "Соколова" not in page
    # Filtering by role
    page = client.get("/admin/users/?role=admin").get_data(as_text=True)
    assert "admin@example.ru" in page and "fedorov@example.ru" not in page


def test_user_search_answers_htmx_with_the_results_fragment(client, auth, make_user):
    make_user(roles=("admin",), email="admin@example.ru")
    auth.login("admin@example.ru")
    response = client.get("/admin/users/?q=admin", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "admin@example.ru" in page
    assert "<html" not in page and "<form" not in page
    assert "HX-Request" in response.headers["Vary"]


def test_admin_grants_roles(client, auth, make_user, app):
    make_user(roles=("admin",), email="admin@example.ru")
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    auth.login("admin@example.ru")
    response = client.post(
        f"/admin/users/{teacher.id}", data=edit_form(client, teacher, roles=["teacher", "moderator", "jury"])
    )
    assert response.status_code == 303
    with app.app_context():
        assert db.session.get(User, teacher.id).roles == {Role.TEACHER, Role.MODERATOR, Role.JURY}


def test_deactivating_a_user_ends_their_session(app, make_user):
    make_user(roles=("admin",), email="admin@example.ru")
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    admin_client, teacher_client = app.test_client(), app.test_client()
    for c, email in ((admin_client, "admin@example.ru"), (teacher_client, "teacher@example.ru")):
        c.post(
            "/auth/login",
            data={"email": email, "password": DEFAULT_PASSWORD, "csrf_token": csrf_token(c, "/auth/login")},
        )
    assert teacher_client.get("/account/").status_code == 200
    # The admin unticks «active»
    data = edit_form(admin_client, teacher)
    del data["active"]
    assert admin_client.post(f"/admin/users/{teacher.id}", data=data).status_code == 303
    # The teacher's open session is over, and logging in again is refused
    assert teacher_client.get("/account/").status_code == 302
    response = teacher_client.post(
        "/auth/login",
        data={
            "email": "teacher@example.ru",
            "password": DEFAULT_PASSWORD,
            "csrf_token": csrf_token(teacher_client, "/auth/login"),
        },
    )
    assert "Учётная запись отключена" in response.get_data(as_text=True)


def test_admin_cannot_lock_themselves_out(client, auth, make_user, app):
    admin = make_user(roles=("admin",), email="admin@example.ru")
    auth.login(admin)
    response = client.post(f"/admin/users/{admin.id}", data=edit_form(client, admin, roles=["teacher"]))
    assert response.status_code == 422
    assert "Нельзя снять с себя роль администратора" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin.id).roles == {Role.ADMIN}


def test_email_of_another_user_is_refused_and_input_kept(client, auth, make_user, app):
    make_user(roles=("admin",), email="admin@example.ru")
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    auth.login("admin@example.ru")
    response = client.post(
        f"/admin/users/{teacher.id}", data=edit_form(client, teacher, email="admin@example.ru", last_name="Новикова")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Этот адрес уже принадлежит другой учётной записи." in page
    assert 'value="Новикова"' in page
    with app.app_context():
        assert db.session.scalar(select(User.last_name).where(User.id == teacher.id)) == "Иванова"


def test_unknown_user_is_404(client, auth, make_user):
    make_user(roles=("admin",), email="admin@example.ru")
    auth.login("admin@example.ru")
    assert client.get("/admin/users/9999").status_code == 404
