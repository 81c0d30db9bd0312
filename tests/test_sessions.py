"""Sessions end when people leave: logout ends them on the server, idle ones expire, cookies are locked
down, and private pages are never stored by a browser or a proxy."""

import time

from catalogue import create_app
from catalogue.accounts.sessions import IDLE_MESSAGE, LAST_SEEN
from catalogue.extensions import db
from tests.conftest import app_config
from tests.helpers import DEFAULT_PASSWORD, csrf_token

EMAIL = "teacher@example.ru"


def log_in(client, remember: bool = False):
    token = csrf_token(client, "/auth/login")
    data = {"email": EMAIL, "password": DEFAULT_PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    response = client.post("/auth/login", data=data)
    assert response.status_code == 303
    return response


def cookie(client, name: str) -> str:
    found = client.get_cookie(name)
    assert found is not None, name
    return found.value


def test_a_copied_session_cookie_stops_working_after_logout(app, auth, client, make_user):
    make_user(email=EMAIL)
    log_in(client)
    # Someone copies the session cookie off a shared school computer
    thief = app.test_client()
    thief.set_cookie("session", cookie(client, "session"))
    assert thief.get("/account/").status_code == 200
    # The student logs out; the copy opens nothing any more
    assert auth.logout().status_code == 303
    assert thief.get("/account/").status_code == 302


def test_a_copied_remember_cookie_stops_working_after_logout(app, auth, client, make_user):
    make_user(email=EMAIL)
    log_in(client, remember=True)
    remember = cookie(client, "remember_token")
    thief = app.test_client()
    thief.set_cookie("remember_token", remember)
    assert thief.get("/account/").status_code == 200
    auth.logout()
    # The browser forgets the cookie, and a copy kept elsewhere no longer logs in
    assert client.get_cookie("remember_token") is None
    late_thief = app.test_client()
    late_thief.set_cookie("remember_token", remember)
    assert late_thief.get("/account/").status_code == 302


def test_log_out_everywhere_ends_the_sessions_of_every_device(app, make_user):
    make_user(email=EMAIL)
    phone, laptop = app.test_client(), app.test_client()
    log_in(phone, remember=True)
    log_in(laptop)
    page = laptop.get("/account/").get_data(as_text=True)
    assert "Завершить сеансы на всех устройствах" in page
    response = laptop.post("/account/logout-everywhere", data={"csrf_token": csrf_token(laptop, "/account/")})
    assert response.status_code == 303
    assert laptop.get("/account/").status_code == 302
    assert phone.get("/account/").status_code == 302
    # Logging in again works as before
    log_in(phone)
    assert phone.get("/account/").status_code == 200


def test_remember_cookie_is_httponly_lax_and_secure_behind_https(tmp_path, make_user):
    # Only the cookie flags are looked at here: CSRF (a separate matter over HTTPS) is off.
    config = app_config(tmp_path / "instance", f"sqlite:///{tmp_path / 'c.db'}") | {
        "SESSION_COOKIE_SECURE": True,
        "WTF_CSRF_ENABLED": False,
    }
    app = create_app(config)
    with app.app_context():
        db.create_all()
        make_user(email=EMAIL)
        response = app.test_client().post(
            "/auth/login",
            data={"email": EMAIL, "password": DEFAULT_PASSWORD, "remember": "y"},
            base_url="https://localhost",
        )
        db.session.remove()
        db.engine.dispose()
    (remember,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert "HttpOnly" in remember
    assert "SameSite=Lax" in remember
    assert "Secure" in remember


def test_remember_cookie_is_httponly_and_lax_in_development(client, make_user):
    make_user(email=EMAIL)
    response = log_in(client, remember=True)
    (remember,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert "HttpOnly" in remember and "SameSite=Lax" in remember
    assert "Secure" not in remember


def test_an_idle_session_expires_with_a_message_on_the_login_page(app, client, make_user):
    make_user(email=EMAIL)
    log_in(client, remember=True)
    assert client.get("/account/").status_code == 200
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    with client.session_transaction() as session:
        session[LAST_SEEN] = int(time.time()) - idle - 5
    response = client.get("/account/edit")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/login")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert IDLE_MESSAGE in page
    # The remember cookie went too: the session is over
    assert client.get("/account/").status_code == 302


def test_activity_is_noted_at_most_once_a_minute(app, client, make_user):
    make_user(email=EMAIL)
    log_in(client)
    # A session used within the idle time stays
    with client.session_transaction() as session:
        session[LAST_SEEN] = int(time.time()) - app.config["SESSION_IDLE_MINUTES"] * 60 + 30
    assert client.get("/account/").status_code == 200
    with client.session_transaction() as session:
        assert session[LAST_SEEN] >= int(time.time()) - 5
    # ... and the next request within the minute writes no cookie
    response = client.get("/account/")
    assert response.status_code == 200
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]


def test_private_pages_are_never_stored_and_public_ones_keep_their_caching(client, auth, make_user):
    make_user(email=EMAIL)
    # Anonymous: the feed keeps its public caching, the home page is not marked
    assert client.get("/feeds/practices.atom").headers["Cache-Control"] == "public, max-age=600"
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    assert client.get("/auth/login").headers["Cache-Control"] == "no-store"
    auth.login(EMAIL)
    # Logged in, nothing is kept: the account, the moderation queue link, even public pages with a name on them
    for path in ("/account/", "/", "/feeds/practices.atom"):
        response = client.get(path)
        assert response.headers["Cache-Control"] == "no-store", path
    # Static files keep theirs
    assert "no-store" not in client.get("/static/css/app.css").headers.get("Cache-Control", "")
