"""Accounts: registration, login and logout, throttling, passwords, sessions."""

import datetime as dt
import email
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalogue import create_app
from catalogue.accounts.models import Role, User
from catalogue.extensions import db
from catalogue.taxonomy.models import Municipality, Organization
from tests.helpers import DEFAULT_PASSWORD, csrf_token


def organization_in(app, municipality_name: str) -> tuple[int, int]:
    """(municipality id, id of its first organization)."""
    with app.app_context():
        municipality = db.session.scalar(select(Municipality).where(Municipality.name == municipality_name))
        organization = db.session.scalar(
            select(Organization).where(Organization.municipality_id == municipality.id).order_by(Organization.id)
        )
        return municipality.id, organization.id


def registration(client, app, **overrides) -> dict:
    municipality_id, organization_id = organization_in(app, "город Иркутск")
    data = {
        "csrf_token": csrf_token(client, "/auth/register"),
        "role": "teacher",
        "last_name": "Кузнецова",
        "first_name": "Марина",
        "middle_name": "Сергеевна",
        "email": "marina@example.ru",
        "password": "очень-надёжный-пароль",
        "password_confirm": "очень-надёжный-пароль",
        "municipality_id": str(municipality_id),
        "organization_id": str(organization_id),
        "consent": "y",
    }
    data.update(overrides)
    return data


def letters_to(app, address: str) -> list[str]:
    """The bodies of the letters written to ``address`` (no SMTP server in tests: files in instance/mail/)."""
    folder = Path(app.instance_path) / "mail"
    messages = (
        [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))] if folder.exists() else []
    )
    return [m.get_payload(decode=True).decode() for m in messages if m["To"] == address]


def test_teacher_registers_and_logs_in_by_the_link_in_the_letter(client, app):
    # A teacher fills in the form
    response = client.post("/auth/register", data=registration(client, app))
    # ... is asked to look at her mail
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    assert "Проверьте почту" in client.get("/auth/login").get_data(as_text=True)
    # ... opens the link in the letter and is logged in
    (letter,) = letters_to(app, "marina@example.ru")
    link = re.search(r"http://localhost(/auth/link/\S+)", letter).group(1)
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 303
    page = client.get("/account/").get_data(as_text=True)
    assert "Кузнецова Марина Сергеевна" in page
    assert "Педагог" in page
    # The password is stored as a hash of the configured method, never as typed
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "marina@example.ru"))
        assert user.password_hash.startswith(app.config["PASSWORD_HASH_METHOD"] + "$")
        assert "очень-надёжный-пароль" not in user.password_hash
        assert user.roles == {Role.TEACHER}
        assert user.grade is None and user.birth_date is None


def test_a_site_configured_by_nobody_hashes_passwords_with_full_cost_scrypt(app, tmp_path):
    # The suite hashes cheaply; a site whose configuration says nothing about it is another matter
    settings = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "WTF_CSRF_ENABLED", "MAIL_SERVER")
    site = create_app({**{key: app.config[key] for key in settings}, "INSTANCE_PATH": str(tmp_path / "site")})
    try:
        # A teacher registers on that site
        client = site.test_client()
        response = client.post("/auth/register", data=registration(client, site))
        assert response.status_code == 303
        # ... and the password is stored as scrypt with N=32768, r=8, p=1
        with site.app_context():
            user = db.session.scalar(select(User).where(User.email == "marina@example.ru"))
            assert user.password_hash.startswith("scrypt:32768:8:1$")
        # ... with which the teacher logs in again
        client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/auth/login")})
        response = client.post(
            "/auth/login",
            data={
                "email": "marina@example.ru",
                "password": "очень-надёжный-пароль",
                "csrf_token": csrf_token(client, "/auth/login"),
            },
        )
        assert response.status_code == 303
        assert "Кузнецова" in client.get("/account/").get_data(as_text=True)
    finally:
        with site.app_context():
            db.session.remove()
            db.engine.dispose()


def test_student_must_give_grade_and_birth_date_and_keeps_what_was_typed(client, app):
    # A student forgets the grade and the birth date
    data = registration(client, app, role="student", email="artem@example.ru", last_name="Иванов")
    response = client.post("/auth/register", data=data)
    page = response.get_data(as_text=True)
    # ... is told so next to the fields, in Russian
    assert response.status_code == 422
    assert "Укажите класс." in page
    assert "Укажите дату рождения." in page
    # ... and what was typed is still there, except the password
    assert 'value="Иванов"' in page
    assert 'value="artem@example.ru"' in page
    assert "очень-надёжный-пароль" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_student_registers_with_grade_and_birth_date(client, app):
    birth = dt.date(dt.date.today().year - 13, 5, 1)
    data = registration(client, app, role="student", email="artem@example.ru", grade="7", birth_date=birth.isoformat())
    assert client.post("/auth/register", data=data).status_code == 303
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "artem@example.ru"))
        assert (user.grade, user.birth_date, user.roles) == (7, birth, {Role.STUDENT})
        # On public pages a minor is a first name and an initial
        assert user.public_name == "Марина К."


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-address"}, "Введите адрес электронной почты"),
        ({"password": "short", "password_confirm": "short"}, "не короче 8 символов"),
        ({"password_confirm": "другой-пароль-123"}, "Пароли не совпадают."),
        ({"consent": ""}, "Без согласия на обработку данных зарегистрироваться нельзя."),
        ({"organization_id": ""}, "Выберите организацию из списка"),
        ({"last_name": ""}, "Заполните это поле."),
        ({"role": "admin"}, "Неверный вариант"),
    ],
)
def test_registration_refuses_bad_input_with_a_russian_message(client, app, overrides, message):
    response = client.post("/auth/register", data=registration(client, app, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_registering_a_taken_address_looks_the_same_and_tells_its_owner_by_mail(client, app, make_user):
    owner = make_user(email="marina@example.ru", last_name="Кузнецова")
    fresh = client.post("/auth/register", data=registration(client, app, email="nina@example.ru"))
    taken = client.post("/auth/register", data=registration(client, app, email="Marina@Example.ru"))
    # Whoever tries cannot tell a taken address from a free one
    assert taken.status_code == fresh.status_code == 303
    assert taken.headers["Location"] == fresh.headers["Location"]
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Проверьте почту: мы отправили письмо на адрес marina@example.ru." in page
    # Nothing is created or changed for the taken address ...
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id)).where(User.email == "marina@example.ru")) == 1
        assert db.session.get(User, owner.id).password_hash == owner.password_hash
    # ... and its owner learns of the attempt, with a way back in if it was them
    (letter,) = letters_to(app, "marina@example.ru")
    assert "пытался зарегистрироваться" in letter
    assert re.search(r"http://localhost/auth/reset/\S+", letter)


def test_registration_refuses_an_organization_of_another_municipality(client, app):
    _, bratsk_school = organization_in(app, "город Братск")
    response = client.post("/auth/register", data=registration(client, app, organization_id=str(bratsk_school)))
    assert response.status_code == 422
    assert "Выберите организацию из списка для выбранного муниципалитета." in response.get_data(as_text=True)


def test_organization_search_works_without_javascript(client, app):
    # A visitor without JavaScript types part of a school's name and presses «Найти»
    data = registration(client, app, organization_id="", organization_query="лицей")
    data["find_organization"] = "1"
    response = client.post("/auth/register", data=data)
    page = response.get_data(as_text=True)
    # ... sees the matching organizations as choices, with no error shown yet
    assert response.status_code == 200
    assert "МБОУ г. Иркутска лицей № 2" in page
    assert 'name="organization_id"' in page
    assert "errors" not in page
    # ... and the form still holds what was typed
    assert 'value="Кузнецова"' in page


def test_organization_options_fragment_for_htmx(client, app):
    municipality_id, _ = organization_in(app, "город Иркутск")
    # ё and case do not matter
    response = client.get(
        f"/organizations/options?organization_query=ИРКУТСКИЙ+АВИАЦИОННЫЙ&municipality_id={municipality_id}",
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Иркутский авиационный техникум" in page
    assert "<html" not in page
    assert "HX-Request" in response.headers["Vary"]
    # Another municipality's organizations do not show
    assert "Братск" not in page


def test_login_and_logout(client, auth, make_user):
    user = make_user(roles=("teacher",), email="teacher@example.ru")
    response = auth.login(user)
    assert response.status_code == 303
    assert "Личный кабинет" in client.get("/account/").get_data(as_text=True)
    # Logging out ends the session
    assert auth.logout().status_code == 303
    assert client.get("/account/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client, auth, make_user):
    make_user(email="teacher@example.ru")
    response = auth.login("teacher@example.ru", "не тот пароль")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Неверный адрес электронной почты или пароль." in page
    assert 'value="teacher@example.ru"' in page
    assert client.get("/account/").status_code == 302


def test_deactivated_account_cannot_log_in(client, auth, make_user, app):
    user = make_user(email="teacher@example.ru")
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    response = auth.login("teacher@example.ru")
    assert response.status_code == 422
    assert "Учётная запись отключена" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/admin/users/", "/admin/users/"),
        ("/account/password", "/account/password"),
        ("https://evil.example/", "/start"),
        ("//evil.example/", "/start"),
        ("/\\evil.example", "/start"),
        ("javascript:alert(1)", "/start"),
    ],
)
def test_login_follows_only_a_safe_next(client, make_user, next_url, expected):
    make_user(roles=("admin",), email="admin@example.ru")
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        query_string={"next": next_url},
        data={"email": "admin@example.ru", "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_session_is_renewed_at_login(client, auth, make_user):
    make_user(email="teacher@example.ru")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    old_token = csrf_token(client, "/auth/login")
    auth.login("teacher@example.ru")
    with client.session_transaction() as session:
        assert "planted" not in session
    # The CSRF token from before the login no longer works
    response = client.post("/auth/logout", data={"csrf_token": old_token})
    assert response.status_code == 400


def test_password_change_ends_other_sessions(app, make_user):
    make_user(email="teacher@example.ru")
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        token = csrf_token(device, "/auth/login")
        device.post(
            "/auth/login", data={"email": "teacher@example.ru", "password": DEFAULT_PASSWORD, "csrf_token": token}
        )
        assert device.get("/account/").status_code == 200
    # On the laptop the teacher changes the password
    token = csrf_token(laptop, "/account/password")
    response = laptop.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": DEFAULT_PASSWORD,
            "password": "новый-пароль-2026",
            "password_confirm": "новый-пароль-2026",
        },
    )
    assert response.status_code == 303
    # The laptop stays logged in, the phone is logged out
    assert laptop.get("/account/").status_code == 200
    assert phone.get("/account/").status_code == 302


def test_password_change_needs_the_current_password(client, auth, make_user):
    make_user(email="teacher@example.ru")
    auth.login("teacher@example.ru")
    token = csrf_token(client, "/account/password")
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": "не тот",
            "password": "новый-пароль-2026",
            "password_confirm": "новый-пароль-2026",
        },
    )
    assert response.status_code == 422
    assert "Текущий пароль введён неверно." in response.get_data(as_text=True)


def test_password_reset_by_a_link_in_the_mail(client, app, make_user):
    make_user(email="teacher@example.ru")
    # The teacher asks for a reset
    token = csrf_token(client, "/auth/reset")
    response = client.post("/auth/reset", data={"email": "teacher@example.ru", "csrf_token": token})
    assert response.status_code == 303
    # With no SMTP server configured, the letter is a file under instance/mail/
    letters = list((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(letters) == 1
    message = email.message_from_bytes(letters[0].read_bytes())
    body = message.get_payload(decode=True).decode()
    assert message["To"] == "teacher@example.ru"
    link = re.search(r"http://localhost(/auth/reset/\S+)", body).group(1)
    # ... follows the link and sets a new password
    token = csrf_token(client, link)
    response = client.post(
        link, data={"csrf_token": token, "password": "новый-пароль-2026", "password_confirm": "новый-пароль-2026"}
    )
    assert response.status_code == 303
    # The link works once only
    response = client.get(link)
    assert response.status_code == 303
    assert client.get("/auth/reset").status_code == 200
    # ... and the new password logs in
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"email": "teacher@example.ru", "password": "новый-пароль-2026", "csrf_token": token}
    )
    assert response.status_code == 303


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client, app):
    token = csrf_token(client, "/auth/reset")
    response = client.post(
        "/auth/reset", data={"email": "nobody@example.ru", "csrf_token": token}, follow_redirects=True
    )
    assert "Если такой адрес зарегистрирован" in response.get_data(as_text=True)
    assert not (Path(app.instance_path) / "mail").exists()
