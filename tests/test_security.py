"""Security headers, CSRF, error pages and the secret key."""

import pytest
from werkzeug.exceptions import InternalServerError

from catalogue import create_app
from tests.helpers import csrf_token


@pytest.mark.parametrize("path", ["/", "/auth/login", "/no-such-page", "/static/css/site.css"])
def test_every_response_carries_security_headers(client, path):
    with client.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    # No inline script may run, and nobody may frame the site
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_scripts(client):
    page = client.get("/auth/register").get_data(as_text=True)
    assert "<script>" not in page
    assert " on" + "click=" not in page
    # htmx is configured not to evaluate code or run scripts from responses
    assert '"allowEval": false' in page and '"allowScriptTags": false' in page


def test_post_without_csrf_token_is_refused_with_a_friendly_page(client, make_user):
    make_user(email="teacher@example.ru")
    response = client.post("/auth/login", data={"email": "teacher@example.ru", "password": "пароль-надёжный-1"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Страница устарела" in page
    assert "<html" in page
    assert client.get("/account/").status_code == 302


def test_htmx_request_sends_csrf_token_as_a_header(client, auth, make_user):
    make_user(email="teacher@example.ru")
    auth.login("teacher@example.ru")
    token = csrf_token(client, "/account/")
    # Without the header an htmx POST is refused...
    refused = client.post("/auth/logout", headers={"HX-Request": "true"})
    assert refused.status_code == 400
    # ... with it, it goes through
    response = client.post("/auth/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 204
    assert response.headers["HX-Location"]
    assert client.get("/account/").status_code == 302


def test_unknown_url_gets_a_russian_404_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Страница не найдена" in response.get_data(as_text=True)


def test_errors_for_htmx_fragments_go_to_the_message_area(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Страница не найдена" in page
    assert "<html" not in page
    assert response.headers["HX-Retarget"] == "#messages"
    assert "HX-Request" in response.headers["Vary"]


def test_boosted_navigation_to_a_missing_page_gets_the_whole_page(client):
    response = client.get("/no-such-page", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in response.get_data(as_text=True)
    assert "HX-Retarget" not in response.headers


def test_forbidden_and_method_not_allowed_pages(client, auth, make_user):
    make_user(email="teacher@example.ru")
    auth.login("teacher@example.ru")
    forbidden = client.get("/admin/users/")
    assert forbidden.status_code == 403
    assert "Доступ запрещён" in forbidden.get_data(as_text=True)
    not_allowed = client.get("/auth/logout")
    assert not_allowed.status_code == 405
    assert "Действие недоступно" in not_allowed.get_data(as_text=True)


def test_too_large_request_gets_a_russian_413(client, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/auth/login", data={"email": "x" * 4096})
    assert response.status_code == 413
    assert "Слишком большой файл" in response.get_data(as_text=True)


def test_server_error_gets_a_russian_500_page(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():
        raise InternalServerError

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Ошибка на сервере" in response.get_data(as_text=True)


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    settings = {"INSTANCE_PATH": str(tmp_path), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"}
    first = create_app(settings)
    second = create_app(settings)
    key = (tmp_path / "secret_key").read_text()
    assert len(key) >= 48
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key
    # Another installation gets another key
    other = tmp_path / "other"
    assert create_app({**settings, "INSTANCE_PATH": str(other)}).config["SECRET_KEY"] != key
