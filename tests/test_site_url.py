"""Links are never built from a forged Host: letters, feeds, the sitemap and share tags use SITE_URL."""

import email
import re
from pathlib import Path

import pytest

from catalogue import create_app
from catalogue.extensions import db
from tests.conftest import app_config
from tests.helpers import csrf_token, sitemap_files
from tests.test_practices_factories import make_people, make_practice

SITE = "https://proforientir.example"


def letters(app) -> list[email.message.Message]:
    folder = Path(app.instance_path) / "mail"
    return [email.message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))] if folder.exists() else []


def body(message) -> str:
    return message.get_payload(decode=True).decode()


def test_reset_request_with_a_forged_host_is_refused_and_mails_nothing(client, app, make_user):
    make_user(email="teacher@example.ru")
    token = csrf_token(client, "/auth/reset")
    # Someone posts the victim's address with their own server as Host
    response = client.post(
        "/auth/reset", data={"email": "teacher@example.ru", "csrf_token": token}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Неизвестный адрес сайта" in page
    assert "evil.example" not in page
    assert letters(app) == []


def test_a_request_without_a_valid_csrf_token_and_a_forged_host_is_also_a_plain_400(client):
    response = client.post("/auth/reset", data={"email": "x@example.ru"}, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "Неизвестный адрес сайта" in response.get_data(as_text=True)


def test_reset_letter_links_to_site_url_whatever_host_served_the_request(client, app, make_user):
    app.config["SITE_URL"] = SITE
    make_user(email="teacher@example.ru")
    token = csrf_token(client, "/auth/reset")
    # localhost is served in development, but the letter must still point at the public address
    response = client.post("/auth/reset", data={"email": "teacher@example.ru", "csrf_token": token})
    assert response.status_code == 303
    (letter,) = letters(app)
    assert re.search(rf"{re.escape(SITE)}/auth/reset/\S+", body(letter))
    assert "localhost" not in body(letter)


def test_only_the_host_of_site_url_is_served_in_production(tmp_path):
    config = app_config(tmp_path / "instance", f"sqlite:///{tmp_path / 'c.db'}") | {"SITE_URL": SITE + "/"}
    app = create_app(config)
    assert app.config["SITE_URL"] == SITE
    assert app.config["TRUSTED_HOSTS"] == ["proforientir.example"]
    client = app.test_client()
    assert client.get("/auth/login", base_url=SITE).status_code == 200
    for host in ("localhost", "127.0.0.1", "evil.example", "proforientir.example.evil.example"):
        assert client.get("/auth/login", headers={"Host": host}).status_code == 400, host


@pytest.fixture
def published(app, make_user):
    people = make_people(app, make_user)
    with app.test_request_context():
        make_practice(people["moderator"], "published", title="Практика для ленты")
        db.session.commit()


def test_feeds_sitemap_and_share_tags_never_reflect_the_request_host(client, app, published):
    app.config["SITE_URL"] = SITE
    sitemap = [loc.removeprefix(SITE) for loc in sitemap_files(client, SITE) if "practice" in loc]
    for path in ("/feeds/practices.atom", *sitemap, "/practices/"):
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert SITE + "/practices/" in text, path
        assert "http://localhost" not in text, path
        # A forged Host gets no feed at all
        assert client.get(path, headers={"Host": "evil.example"}).status_code == 400
    # The sitemap index lists its files on SITE_URL too
    index = client.get("/sitemap.xml").get_data(as_text=True)
    assert SITE + "/sitemap-" in index
    assert "http://localhost" not in index
    assert client.get("/sitemap.xml", headers={"Host": "evil.example"}).status_code == 400
    practice_page = client.get("/practices/1", follow_redirects=True).get_data(as_text=True)
    assert f'content="{SITE}/practices/1' in practice_page


def test_notification_letters_link_to_site_url(app, make_user):
    app.config["SITE_URL"] = SITE
    people = make_people(app, make_user)
    # Made during a request to another (trusted) host name, the link is still on SITE_URL
    with app.test_request_context(base_url="http://127.0.0.1:5000"):
        make_practice(people["teacher"], "published", moderator=people["moderator"], title="Практика")
    texts = [body(m) for m in letters(app)]
    assert texts
    assert all(f"Открыть: {SITE}/" in t for t in texts)
