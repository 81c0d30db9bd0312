"""Bad input never gets a 500: NUL bytes and broken UTF-8 get a Russian 400, numbers no database
holds are ignored or refused on the form, LIKE searches are escaped and bounded, every text field
has a length limit.
"""

import time

import pytest
from wtforms import Form, HiddenField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

from tests.helpers import csrf_token

HUGE = "99999999999999999999"
MALFORMED = "недопустимые символы"


def _login(client, auth, user) -> str:
    """Log ``user`` in; the CSRF token of the new session."""
    auth.login(user)
    return csrf_token(client, "/")


# -- NUL and invalid UTF-8 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/search?q=%D0%B0%00b",
        "/projects/?q=%00",
        "/search?q=%FF%FE",
        "/organizations/options?q=%C3%28",
        "/practices/%FF",
        "/projects/%00",
    ],
)
def test_nul_bytes_and_broken_utf8_in_the_address_get_a_russian_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert MALFORMED in response.get_data(as_text=True)


def test_nul_byte_in_the_login_form_gets_a_400_not_a_database_error(client, make_user):
    make_user(email="teacher@example.ru")
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login", data={"email": "teacher@example.ru\x00", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 400
    assert MALFORMED in response.get_data(as_text=True)


def test_broken_utf8_in_a_form_body_gets_a_400(client, make_user):
    token = csrf_token(client, "/auth/login")
    body = f"email=%FF%FE%40example.ru&password=x&csrf_token={token}".encode()
    response = client.post("/auth/login", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert MALFORMED in response.get_data(as_text=True)


def test_nul_byte_in_a_multipart_form_field_gets_a_400(client, auth, make_user):
    teacher = make_user()
    token = _login(client, auth, teacher)
    response = client.post(
        "/projects/new",
        data={"csrf_token": token, "title": "Проект\x00с нулём"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert MALFORMED in response.get_data(as_text=True)


def test_a_nul_byte_in_a_cookie_does_no_harm(client):
    client.set_cookie("remember_token", "1|\x00abc")
    client.set_cookie("session", "\x00")
    assert client.get("/").status_code == 200


# -- integers out of range ----------------------------------------------------------------------


@pytest.mark.parametrize("value", [HUGE, "²", "-1", "1e3"])
def test_supervisor_id_that_no_database_holds_is_ignored(client, auth, make_user, value):
    student = make_user(roles="student")
    _login(client, auth, student)
    response = client.get(f"/contest/supervisors?supervisor_id={value}&student_id={value}")
    assert response.status_code == 200


@pytest.mark.parametrize("facet", ["nomination", "municipality", "season", "age"])
def test_search_facet_beyond_any_database_integer_is_ignored(client, facet):
    response = client.get(f"/search?{facet}={HUGE}")
    assert response.status_code == 200
    response = client.get(f"/search?{facet}=²")
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["age", "municipality"])
@pytest.mark.parametrize("value", [HUGE, "²"])
def test_moderation_queue_filter_beyond_any_database_integer_is_ignored(client, auth, make_user, name, value):
    moderator = make_user(roles="moderator")
    _login(client, auth, moderator)
    response = client.get(f"/moderation/?{name}={value}")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/practices/?municipality={HUGE}&item={HUGE}&grade={HUGE}",
        f"/contest/?nomination={HUGE}&age={HUGE}&municipality={HUGE}",
        f"/organizations/options?municipality_id={HUGE}&organization_id={HUGE}",
        f"/projects/?page={HUGE}",
        "/projects/?page=²",
        "/search?page=²",
    ],
)
def test_public_filters_beyond_any_database_integer_are_ignored(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("field", ["organization_id", "municipality_id"])
def test_registration_with_an_id_no_database_holds_is_a_form_error(client, field):
    token = csrf_token(client, "/auth/register")
    response = client.post(
        "/auth/register",
        data={
            "csrf_token": token,
            "role": "teacher",
            "last_name": "Смирнова",
            "first_name": "Ольга",
            "email": "smirnova@example.ru",
            "password": "пароль-надёжный-1",
            "password_confirm": "пароль-надёжный-1",
            "municipality_id": "1",
            "organization_id": "1",
            field: HUGE,
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "smirnova@example.ru" in page  # what was typed stays


# -- LIKE patterns --------------------------------------------------------------------------------


def test_a_60000_character_school_search_answers_quickly(client):
    started = time.perf_counter()
    response = client.get("/organizations/options", query_string={"q": "школа " * 10_000})
    assert response.status_code == 200
    assert time.perf_counter() - started < 5


def test_a_60000_character_supervisor_search_answers(client, auth, make_user):
    student = make_user(roles="student")
    _login(client, auth, student)
    response = client.get("/contest/supervisors", query_string={"supervisor_query": "x" * 60_000})
    assert response.status_code == 200


@pytest.mark.parametrize("pattern", ["%", "_", "\\", "%%", "С%Ш"])
def test_like_metacharacters_in_a_school_search_match_only_themselves(client, pattern):
    response = client.get("/organizations/options", query_string={"q": pattern})
    assert response.status_code == 200
    # No seeded organization has these characters in its name: a wildcard would have listed them all
    assert 'type="radio"' not in response.get_data(as_text=True)


def test_like_metacharacters_in_the_admin_user_search_match_only_themselves(client, auth, make_user):
    admin = make_user(roles="admin")
    make_user(last_name="Кузнецова")
    _login(client, auth, admin)
    response = client.get("/admin/users/", query_string={"q": "%"})
    assert response.status_code == 200
    assert "Кузнецова" not in response.get_data(as_text=True)
    assert "Кузнецова" in client.get("/admin/users/", query_string={"q": "кузнец"}).get_data(as_text=True)


# -- forms ----------------------------------------------------------------------------------------


def _practice_form(token: str, **overrides) -> dict:
    data = {
        "csrf_token": token,
        "title": "Неделя профессий на заводе",
        "summary": "Кратко.",
        "organization_id": "1",
        "roadmap_items": "1",
        "grade_from": "6",
        "grade_to": "9",
        "period_from": "2024-09-01",
        "results": "Выбор профиля.",
        "description": "Подробно.",
        "contacts": "Телефон школы.",
        "steps-0-title": "Договориться с заводом",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("share", "message"),
    [("150", "От 0 до 100 %."), ("50%", "Неверное целое число."), ("abc", "Неверное целое число.")],
)
def test_student_share_out_of_range_or_not_a_number_is_a_russian_form_error(client, auth, make_user, share, message):
    teacher = make_user()
    token = _login(client, auth, teacher)
    response = client.post("/practices/new", data=_practice_form(token, student_share=share))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "Неделя профессий на заводе" in page


@pytest.mark.parametrize("field", ["participants", "student_share"])
def test_numbers_no_database_holds_are_a_form_error(client, auth, make_user, field):
    teacher = make_user()
    token = _login(client, auth, teacher)
    response = client.post("/practices/new", data=_practice_form(token, **{field: HUGE}))
    assert response.status_code == 422


def test_a_huge_text_is_a_form_error_that_keeps_the_other_fields(client, auth, make_user):
    teacher = make_user()
    token = _login(client, auth, teacher)
    response = client.post("/practices/new", data=_practice_form(token, contacts="телефон " * 20_000))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Не длиннее 1000 символов." in page
    assert "Неделя профессий на заводе" in page


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_text_field_of_every_form_has_a_length_limit(app):
    # Import every module with forms, so that every form class exists
    import catalogue.accounts.forms
    import catalogue.contest.forms
    import catalogue.practices.forms
    import catalogue.projects.forms
    import catalogue.taxonomy.forms
    import catalogue.workflow.forms  # noqa: F401

    unbounded = []
    for form in _subclasses(Form):
        if not form.__module__.startswith("catalogue"):
            continue
        for name in dir(form):
            unbound = getattr(form, name, None)
            if not isinstance(unbound, UnboundField) or not issubclass(unbound.field_class, (StringField, HiddenField)):
                continue
            validators = unbound.kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else [])
            if not any(isinstance(v, Length) for v in validators):
                unbounded.append(f"{form.__module__}.{form.__name__}.{name}")
    assert unbounded == []
