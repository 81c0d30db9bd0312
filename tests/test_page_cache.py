"""The page cache for anonymous visitors: a page is rendered once per content generation and address,
every change of public content shows at once, and nothing of a logged-in person or of a draft ever leaks."""

import shutil
import socket
import subprocess
import time

import pytest
from sqlalchemy import select

from catalogue.contest import results
from catalogue.contest.models import Season
from catalogue.extensions import db
from catalogue.page_cache import ContentGeneration
from catalogue.practices import services as practices
from catalogue.practices.models import Practice, PracticeRevision
from catalogue.projects.models import Project
from catalogue.search import indexer
from catalogue.taxonomy import services as taxonomy
from catalogue.taxonomy.models import Sphere
from catalogue.workflow import services as workflow
from tests.conftest import AuthActions, app_config, make_test_app
from tests.contest_support import make_season, set_phase
from tests.factories import make_project
from tests.helpers import SITEMAP, sitemap_urls, skip_or_fail
from tests.test_practices_factories import make_practice, practice_data

pytestmark = pytest.mark.page_cache


def outcome(response) -> str | None:
    return response.headers.get("X-Page-Cache")


def csrf_meta(response) -> str:
    return response.get_data(as_text=True).split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def generation(app) -> int:
    with app.app_context():
        return db.session.scalar(select(ContentGeneration.value)) or 0


@pytest.fixture
def people(app, make_user):
    return {
        "teacher": make_user(roles=("teacher",), last_name="Кедрова", first_name="Вера"),
        "moderator": make_user(roles=("moderator",)),
        "admin": make_user(roles=("admin",)),
    }


def logged_in(app, user):
    """A browser of its own, logged in as ``user`` through the real form."""
    browser = app.test_client()
    assert AuthActions(browser).login(user).status_code in (302, 303)
    return browser


def publish(app, people, title: str):
    with app.test_request_context():
        return make_project(people["teacher"], "published", moderator=people["moderator"], title=title).id


def test_a_page_is_rendered_once_and_then_served_from_the_cache(app, client, people):
    publish(app, people, "Юный энергетик")
    first = client.get("/projects/")
    second = client.get("/projects/")
    assert (outcome(first), outcome(second)) == ("miss", "hit")
    assert second.get_data() == first.get_data()
    assert "Юный энергетик" in second.get_data(as_text=True)
    assert second.headers["ETag"] == first.headers["ETag"] and second.headers["Last-Modified"]
    assert "HX-Request" in second.headers["Vary"]
    assert "Set-Cookie" not in second.headers and "X-Page-Cache-Storable" not in second.headers
    # The same address written another way is the same page
    client.get("/projects/?sphere=energy&age=8-9")
    assert outcome(client.get("/projects/?age=8-9&sphere=energy")) == "hit"
    head = client.head("/projects/")
    assert outcome(head) == "hit" and head.get_data() == b""


def test_publishing_shows_at_once(app, client, people):
    publish(app, people, "Юный энергетик")
    client.get("/projects/")
    before = generation(app)
    publish(app, people, "Юный агроном")
    assert generation(app) > before
    page = client.get("/projects/")
    assert outcome(page) == "miss" and "Юный агроном" in page.get_data(as_text=True)


def test_unpublishing_shows_at_once(app, client, people):
    project_id = publish(app, people, "Юный энергетик")
    assert "Юный энергетик" in client.get("/").get_data(as_text=True)
    assert outcome(client.get(f"/projects/{project_id}", follow_redirects=True)) == "miss"
    with app.test_request_context():
        project = db.session.get(Project, project_id)
        workflow.transition(db.session.merge(people["moderator"]), project, "unpublish", "Устарел.")
    assert "Юный энергетик" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/projects/{project_id}", follow_redirects=True).status_code == 404


def test_a_taxonomy_change_shows_at_once(app, client, people):
    publish(app, people, "Юный энергетик")
    assert "Энергетика" in client.get("/projects/").get_data(as_text=True)
    with app.test_request_context():
        sphere = db.session.scalar(select(Sphere).where(Sphere.slug == "energy"))
        data = taxonomy.SphereData(slug="energy", name="Электроэнергетика", description=sphere.description)
        taxonomy.save_sphere(db.session.merge(people["admin"]), sphere, data)
    assert "Электроэнергетика" in client.get("/projects/").get_data(as_text=True)


def test_a_season_change_shows_at_once(app, client, people):
    with app.test_request_context():
        season_id = make_season(people["admin"], year=2027, phase="accepting").id
    assert "приём работ" in client.get("/").get_data(as_text=True)
    with app.test_request_context():
        season = db.session.get(Season, season_id)
        set_phase(people["admin"], season, "judging")
    assert "«СоЗДатель-2027»: приём работ" not in client.get("/").get_data(as_text=True)


def test_a_login_changes_nothing_public_and_keeps_the_cache(app, client, people):
    client.get("/")
    before = generation(app)
    logged_in(app, people["teacher"])
    assert generation(app) == before
    assert outcome(client.get("/")) == "hit"


def test_conditional_requests_get_304_until_the_page_changes(app, client, people):
    publish(app, people, "Юный энергетик")
    page = client.get("/projects/")
    etag, modified = page.headers["ETag"], page.headers["Last-Modified"]
    again = client.get("/projects/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    assert client.get("/projects/", headers={"If-Modified-Since": modified}).status_code == 304
    publish(app, people, "Юный агроном")
    changed = client.get("/projects/", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Юный агроном" in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_a_logged_in_page_never_reaches_a_visitor_and_the_reverse(app, client, people):
    teacher = logged_in(app, people["teacher"])
    own = teacher.get("/")
    assert "Кедрова" in own.get_data(as_text=True) or "Вера" in own.get_data(as_text=True)
    assert outcome(own) is None and own.headers["Cache-Control"] == "no-store"
    anonymous = client.get("/")
    assert outcome(anonymous) == "miss"
    assert "Кедрова" not in anonymous.get_data(as_text=True) and "Вера" not in anonymous.get_data(as_text=True)
    assert outcome(client.get("/")) == "hit"
    # The visitor's stored page is not what the teacher gets
    again = teacher.get("/")
    assert outcome(again) is None and "Войти" not in again.get_data(as_text=True).split("<main")[0]


def test_drafts_and_items_under_review_never_leak(app, client, people):
    with app.test_request_context():
        draft = make_project(people["teacher"], "draft", title="Черновик проекта").id
        waiting = make_project(people["teacher"], "submitted", title="Проект на проверке").id
    author = logged_in(app, people["teacher"])
    assert author.get(f"/projects/{draft}", follow_redirects=True).status_code == 200
    assert author.get(f"/projects/{waiting}", follow_redirects=True).status_code == 200
    for item in (draft, waiting):
        for _ in range(2):
            response = client.get(f"/projects/{item}")
            assert response.status_code == 404 and outcome(response) is None
    listing = client.get("/projects/").get_data(as_text=True)
    assert "Черновик проекта" not in listing and "Проект на проверке" not in listing


def test_htmx_fragments_and_display_cookies_are_kept_apart(app, client, people):
    publish(app, people, "Юный энергетик")
    full = client.get("/search?q=энергетик")
    fragment = client.get("/search?q=энергетик", headers={"HX-Request": "true", "HX-Target": "results"})
    assert outcome(full) == outcome(fragment) == "miss"
    assert "<html" in full.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    assert outcome(client.get("/search?q=энергетик")) == "hit"
    hx_again = client.get("/search?q=энергетик", headers={"HX-Request": "true", "HX-Target": "results"})
    assert outcome(hx_again) == "hit" and hx_again.get_data() == fragment.get_data()

    a11y = app.test_client()
    a11y.set_cookie("a11y", "1")
    assert outcome(a11y.get("/search?q=энергетик")) == "miss"
    other = app.test_client()
    other.set_cookie("tracking", "x")
    assert outcome(other.get("/search?q=энергетик")) is None


def test_pages_that_set_a_cookie_or_fail_are_never_stored(app, client):
    login = client.get("/auth/login")
    assert "Set-Cookie" in login.headers and outcome(login) is None
    stranger = app.test_client()
    assert outcome(stranger.get("/auth/login")) is None
    assert outcome(stranger.get("/projects/999999")) is None and stranger.get("/projects/999999").status_code == 404
    assert outcome(stranger.post("/projects/")) is None


def test_the_cache_is_off_when_configured_so(app, client):
    # This module's apps have it on; the rest of the suite runs without it (PAGE_CACHE False)
    assert app.config["PAGE_CACHE"] is True
    assert outcome(client.get("/")) == "miss"


def test_an_approved_revision_of_a_published_practice_shows_at_once(app, client, people):
    with app.test_request_context():
        practice_id = make_practice(
            people["teacher"], "published", moderator=people["moderator"], title="Профильный лагерь"
        ).id
    assert "Профильный лагерь" in client.get("/feeds/practices.atom").get_data(as_text=True)
    assert outcome(client.get("/feeds/practices.atom")) == "hit"
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])
        practice = db.session.get(Practice, practice_id)
        revision = practices.revise_practice(teacher, practice, practice_data(title="Профильный лагерь, 2-я смена"))
        workflow.transition(teacher, revision, "submit")
        revision_id = revision.id
    assert "2-я смена" not in client.get("/feeds/practices.atom").get_data(as_text=True)
    with app.test_request_context():
        revision = db.session.get(PracticeRevision, revision_id)
        workflow.transition(db.session.merge(people["moderator"]), revision, "publish")
    assert "Профильный лагерь, 2-я смена" in client.get("/feeds/practices.atom").get_data(as_text=True)
    page = client.get(f"/practices/{practice_id}", follow_redirects=True)
    assert "Профильный лагерь, 2-я смена" in page.get_data(as_text=True)
    # A visitor's practice page has no «Внедрили у себя» form, so no CSRF token: it is shared like any page.
    again = client.get(f"/practices/{practice_id}", follow_redirects=True)
    assert outcome(again) == "hit" and "Set-Cookie" not in again.headers
    assert "входа на сайт" in again.get_data(as_text=True)


def test_published_results_show_at_once_in_the_feed_the_sitemap_and_the_season(app, client, people):
    with app.test_request_context():
        finished = make_season(people["admin"], 2026, phase="results", title="СоЗДатель-2026")
        results.confirm_results(db.session.merge(people["admin"]), finished, {})
        season_id = finished.id
    assert "Итоги конкурса «СоЗДатель-2026»" not in client.get("/feeds/contest.atom").get_data(as_text=True)
    assert not any(url.endswith("/contest/2026/results") for url in sitemap_locations(client))
    assert outcome(client.get("/feeds/contest.atom")) == "hit"
    with app.test_request_context():
        results.publish_results(db.session.merge(people["admin"]), db.session.get(Season, season_id))
    assert "Итоги конкурса «СоЗДатель-2026»" in client.get("/feeds/contest.atom").get_data(as_text=True)
    assert any(url.endswith("/contest/2026/results") for url in sitemap_locations(client))
    assert client.get("/contest/2026/results").status_code == 200


def sitemap_locations(client) -> set[str]:
    return {url.findtext(f"{SITEMAP}loc") for url in sitemap_urls(client)}


def test_an_address_the_site_refuses_never_shares_a_key_with_a_valid_one(app, client):
    client.get("/search?q=%EF%BF%BD")  # U+FFFD, valid UTF-8: stored
    assert outcome(client.get("/search?q=%EF%BF%BD")) == "hit"
    refused = client.get("/search?q=%FF")  # invalid UTF-8 would decode to U+FFFD
    assert refused.status_code == 400 and outcome(refused) is None
    assert client.get("/search?q=a%00b").status_code == 400


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    """A redis-server of this module's own on a free port (Debian's ``redis-server``)."""
    import redis

    server = shutil.which("redis-server")
    if server is None:
        skip_or_fail("The page cache's Redis test needs redis-server (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    arguments = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)]
    process = subprocess.Popen([server, *arguments], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def redis_url(redis_server):
    """The module's Redis, emptied: each test's database starts its generations afresh."""
    import redis

    with redis.Redis.from_url(redis_server) as client:
        client.flushdb()
    return redis_server


def test_with_redis_configured_every_worker_shares_the_pages(app, people, redis_url, tmp_path):
    publish(app, people, "Юный энергетик")
    # Two worker processes of one site (on two machines, say), each with its own instance folder
    workers = [
        make_test_app(
            app_config(tmp_path / f"worker-{n}", app.config["SQLALCHEMY_DATABASE_URI"])
            | {"PAGE_CACHE": True, "PAGE_CACHE_REDIS_URL": redis_url}
        )
        for n in (1, 2)
    ]
    try:
        first, second = (worker.test_client() for worker in workers)
        assert outcome(first.get("/projects/")) == "miss"
        page = second.get("/projects/")
        assert outcome(page) == "hit" and "Юный энергетик" in page.get_data(as_text=True)
        assert not any((tmp_path / f"worker-{n}" / "page_cache").exists() for n in (1, 2))
        publish(app, people, "Юный агроном")
        page = second.get("/projects/")
        assert outcome(page) == "miss" and "Юный агроном" in page.get_data(as_text=True)
        assert outcome(first.get("/projects/")) == "hit"
    finally:
        for worker in workers:
            with worker.app_context():
                db.engine.dispose()


def test_search_pages_follow_the_index_when_a_separate_indexer_applies_the_changes(app, client, people):
    # Production with several workers: the indexer is a process of its own, a second behind the commit
    app.config["SEARCH_SYNC_IN_PROCESS"] = False
    found = "Найдено: <strong>1 материал</strong>"
    publish(app, people, "Юный ветеринар")
    assert found not in client.get("/search?q=ветеринар").get_data(as_text=True)
    assert outcome(client.get("/search?q=ветеринар")) == "hit"
    with app.app_context():
        indexer.sync()
    page = client.get("/search?q=ветеринар")
    assert outcome(page) == "miss" and found in page.get_data(as_text=True)


def test_a_flash_message_waiting_after_logout_is_shown_not_a_stored_page(app, client, people):
    assert outcome(client.get("/")) == "miss"
    leaving = logged_in(app, people["teacher"])
    AuthActions(leaving).logout()
    page = leaving.get("/")  # anonymous again, with the message waiting in the session
    assert outcome(page) is None and "Вы вышли из учётной записи." in page.get_data(as_text=True)
    assert "Вы вышли" not in client.get("/").get_data(as_text=True)


def test_a_server_that_starts_a_thread_per_request_keeps_answering(app, live_server, people):
    # `make run` serves each request on a thread of its own: reading the generation must give its connection
    # back, or the pool (5 + 10 overflow) runs dry after fifteen threads and every page waits, then fails.
    import urllib.request

    publish(app, people, "Школьная метеостанция")
    with app.app_context():
        pool = db.engine.pool
    for path in ["/", "/projects/", "/practices/", "/search?q=%D0%BC%D0%B5%D1%82%D0%B5%D0%BE"] * 8:
        with urllib.request.urlopen(live_server + path, timeout=20) as response:  # noqa: S310 (our own server)
            assert response.status == 200, path
    assert pool.checkedout() == 0


def test_a_visitor_whose_session_holds_only_a_forms_token_is_served_from_the_cache(app, client, people):
    publish(app, people, "Юный энергетик")
    assert outcome(client.get("/projects/")) == "miss"
    # A visitor opens the login form (a CSRF token goes into a session cookie), then leaves it for the catalogue
    visitor = app.test_client()
    login_page = visitor.get("/auth/login")
    assert "Set-Cookie" in login_page.headers and outcome(login_page) is None
    assert visitor.get_cookie("session") is not None
    for _ in range(2):
        page = visitor.get("/projects/")
        assert outcome(page) == "hit" and "Set-Cookie" not in page.headers
        assert page.get_data() == client.get("/projects/").get_data()
    # The first page the site makes for them notes in their session that it is no fresh login (a cookie set: not
    # stored); after that, a page first made for such a visitor is stored for everyone: it holds nothing of theirs
    first = visitor.get("/contest/")
    assert outcome(first) is None and "Set-Cookie" in first.headers
    made = visitor.get("/practices/")
    visitor_token = visitor.get_cookie("session").value
    assert outcome(made) == "miss" and 'name="csrf-token" content=""' in made.get_data(as_text=True)
    assert outcome(visitor.get("/practices/")) == "hit"
    assert outcome(app.test_client().get("/practices/")) == "hit"
    assert visitor_token not in made.get_data(as_text=True)
    # The form itself carries the visitor's token: it is never stored, nor given to anybody else
    again = visitor.get("/auth/login")
    assert outcome(again) is None and 'name="csrf-token" content=""' not in again.get_data(as_text=True)
    stranger = app.test_client().get("/auth/login")
    assert outcome(stranger) is None and csrf_meta(stranger) != csrf_meta(again)


def test_a_session_with_anything_of_its_own_still_goes_past_the_cache(app, client, people):
    assert outcome(client.get("/")) == "miss"
    assert outcome(client.get("/")) == "hit"
    # Logged in, or only remembered: never the cache
    teacher = logged_in(app, people["teacher"])
    assert outcome(teacher.get("/")) is None
    remembered = app.test_client()
    remembered.set_cookie("remember_token", "1:1:whatever")
    assert outcome(remembered.get("/")) is None
    # A flash message waiting (a failed login leaves none; the idle logout does): shown, not a stored page
    with app.test_request_context():
        from flask import session as flask_session

        flask_session["_flashes"] = [("info", "Сообщение для одного посетителя")]
        flask_session["csrf_token"] = "x"
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(flask_session))
    flashed = app.test_client()
    flashed.set_cookie("session", cookie)
    page = flashed.get("/")
    assert outcome(page) is None and "Сообщение для одного посетителя" in page.get_data(as_text=True)
    assert "Сообщение для одного посетителя" not in client.get("/").get_data(as_text=True)
    # A forged cookie is no session at all to the site, and the page is everybody's
    forged = app.test_client()
    forged.set_cookie("session", cookie[:-3] + "abc")
    page = forged.get("/")
    assert outcome(page) == "hit" and "Сообщение" not in page.get_data(as_text=True)
