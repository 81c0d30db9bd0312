"""A person's own profile: correcting the name, a student's grade; the public pages follow."""

import pytest
from sqlalchemy import select

from catalogue.accounts.models import User
from catalogue.extensions import db
from tests.contest_support import SCHOOL_A, make_entry, make_season, organization
from tests.helpers import csrf_token


def edit(client, **fields):
    data = {"csrf_token": csrf_token(client, "/account/edit"), "middle_name": ""}
    data.update(fields)
    return client.post("/account/edit", data=data)


def user_by_email(app, email: str) -> User:
    with app.app_context():
        return db.session.scalar(select(User).where(User.email == email))


def test_teacher_corrects_the_name(client, auth, make_user, app):
    make_user(email="teacher@example.ru", last_name="Иванова", first_name="Анна")
    auth.login("teacher@example.ru")
    form = client.get("/account/edit").get_data(as_text=True)
    assert 'value="Иванова"' in form and 'name="grade"' not in form  # a teacher has no grade
    response = edit(client, last_name="Иванова-Петрова", first_name="Анна", middle_name="Сергеевна")
    assert response.status_code == 303
    assert "Иванова-Петрова Анна Сергеевна" in client.get("/account/").get_data(as_text=True)
    assert user_by_email(app, "teacher@example.ru").full_name == "Иванова-Петрова Анна Сергеевна"


def test_an_empty_name_is_refused_and_what_was_typed_stays(client, auth, make_user, app):
    make_user(email="teacher@example.ru", last_name="Иванова", first_name="Анна")
    auth.login("teacher@example.ru")
    response = edit(client, last_name="Смирнова", first_name="   ", middle_name="Олеговна")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Заполните это поле." in page or "Укажите имя." in page
    assert 'value="Смирнова"' in page and 'value="Олеговна"' in page
    assert user_by_email(app, "teacher@example.ru").last_name == "Иванова"


def test_a_name_longer_than_80_characters_is_refused(client, auth, make_user):
    make_user(email="teacher@example.ru")
    auth.login("teacher@example.ru")
    response = edit(client, last_name="Я" * 81, first_name="Анна")
    assert response.status_code == 422
    assert "Не длиннее 80 символов." in response.get_data(as_text=True)


def test_student_moves_up_a_grade_but_not_out_of_6_to_11(client, auth, make_user, app):
    make_user(roles=("student",), email="student@example.ru", grade=8)
    auth.login("student@example.ru")
    assert '<option selected value="8">' in client.get("/account/edit").get_data(as_text=True)
    assert edit(client, last_name="Иванова", first_name="Анна", grade="9").status_code == 303
    assert user_by_email(app, "student@example.ru").grade == 9
    response = edit(client, last_name="Иванова", first_name="Анна", grade="12")
    assert response.status_code == 422
    assert user_by_email(app, "student@example.ru").grade == 9


def test_the_form_needs_a_login_and_a_csrf_token(client, auth, make_user, app):
    assert client.get("/account/edit").status_code in (302, 303)
    make_user(email="teacher@example.ru", last_name="Иванова")
    auth.login("teacher@example.ru")
    response = client.post("/account/edit", data={"last_name": "Взломова", "first_name": "Анна"})
    assert response.status_code == 400
    assert user_by_email(app, "teacher@example.ru").last_name == "Иванова"


@pytest.fixture
def admitted_entry(app, make_user):
    """A student's entry admitted to an open season (authors shown); the student's e-mail."""
    with app.test_request_context():
        admin = make_user(roles=("admin",), email="admin@example.ru")
        moderator = make_user(roles=("moderator",), email="moderator@example.ru")
        student = make_user(
            roles=("student",),
            email="student@example.ru",
            last_name="Волков",
            first_name="Артём",
            organization=organization(SCHOOL_A),
        )
        season = make_season(admin, blind_judging=False)
        entry = make_entry(student, season, state="published", moderator=moderator)
        return entry.id


def test_a_renamed_student_is_found_by_the_new_name(client, auth, admitted_entry):
    assert f"/contest/entries/{admitted_entry}" in client.get("/search?q=Артём&type=entry").get_data(as_text=True)
    auth.login("student@example.ru")
    assert edit(client, last_name="Волков", first_name="Тимофей", grade="8").status_code == 303
    auth.logout()
    # The index follows in the same transaction's outbox: the new first name finds the entry, the old one not
    assert f"/contest/entries/{admitted_entry}" in client.get("/search?q=Тимофей&type=entry").get_data(as_text=True)
    assert f"/contest/entries/{admitted_entry}" not in client.get("/search?q=Артём&type=entry").get_data(as_text=True)
    entry_page = client.get(f"/contest/entries/{admitted_entry}").get_data(as_text=True)
    assert "Тимофей В." in entry_page and "Волков" not in entry_page
