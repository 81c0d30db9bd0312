"""Fixtures for the whole suite.

Every test that uses ``app`` runs once on SQLite and once on PostgreSQL (``TEST_DATABASE_URL``,
in a schema of its own for each run).
A missing PostgreSQL or Chromium skips its tests, or fails them when ``CATALOGUE_REQUIRE_ALL=1``.
"""

import datetime as dt
import hashlib
import itertools
import os
import shutil
import threading
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pytest
from flask import Flask, has_app_context
from jinja2 import BytecodeCache
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import Rule
from werkzeug.serving import WSGIRequestHandler, make_server

from catalogue import create_app
from catalogue.config import database_uri
from catalogue.extensions import db
from catalogue.media import services as media_services
from tests.helpers import DEFAULT_PASSWORD, csrf_token, postgres_schema, skip_or_fail

BACKENDS = ("sqlite", "postgresql")
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, quiet: no sandbox (CI runs as root), no GPU, no calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSER_TIMEOUT_MS = 10_000
# A cheap scrypt (N=128; OpenSSL refuses much less): the production cost (N=32768, ``DefaultConfig``)
# would be most of the suite's time. ``test_accounts`` checks that a site configured by nobody uses it.
TEST_PASSWORD_HASH_METHOD = "scrypt:128:8:1"


def postgres_url() -> str | None:
    """``TEST_DATABASE_URL`` as a psycopg 3 URL, or None when unset."""
    url = os.environ.get("TEST_DATABASE_URL")
    return database_uri(url, "") if url else None


def app_config(instance_path: Path, database: str) -> dict:
    """The configuration every test app gets; settings from the environment cannot leak in."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "INSTANCE_PATH": str(instance_path),
        "SQLALCHEMY_DATABASE_URI": database,
        "WTF_CSRF_ENABLED": True,
        "MAIL_SERVER": None,
        "SESSION_COOKIE_SECURE": False,
        # The test client's own address; links in letters and feeds start with it.
        "SITE_URL": "http://localhost",
        "PASSWORD_HASH_METHOD": TEST_PASSWORD_HASH_METHOD,
        # Off, so that every other test sees the application itself; tests/test_page_cache.py turns it on.
        "PAGE_CACHE": False,
        # Every test makes an app: rendering the home page at each start would only slow the suite.
        "WARM_UP": False,
        # Jobs run when a test runs them (catalogue.jobs.run_pending), never in a thread behind its back.
        "JOBS_IN_PROCESS": False,
    }


class _SharedBytecodeCache(BytecodeCache):
    """Compiled templates kept in memory for the whole session and shared by every test app.

    Each test makes its own app and so its own Jinja environment; without this every one of
    them would parse and compile the templates it renders again. A bucket's key includes the
    template's source checksum, so a changed template is compiled anew.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CACHE = _SharedBytecodeCache()


_compile_url_builder = Rule._compile_builder
_URL_BUILDERS: dict[tuple, object] = {}


def _shared_url_builder(rule: Rule, append_unknown: bool = True):
    """Werkzeug's URL builder of ``rule``, generated once per session for every app alike.

    Werkzeug writes, parses and compiles Python source for each of a rule's two builders; for the site's
    150 rules that is two thirds of ``create_app``, and every test makes an app. A builder is a plain
    function of the rule's parsed parts, its defaults and its converters' kinds (the rule object comes in
    as its first argument), so rules alike in those share one. ``tests/test_infrastructure.py`` checks
    that shared builders give the URLs fresh ones give.
    """
    key = (
        append_unknown,
        rule.rule,
        tuple(rule._trace),
        repr(sorted((rule.defaults or {}).items())),
        tuple(sorted((name, type(converter)) for name, converter in rule._converters.items())),
    )
    builder = _URL_BUILDERS.get(key)
    if builder is None:
        builder = _URL_BUILDERS[key] = _compile_url_builder(rule, append_unknown)
    return builder


Rule._compile_builder = _shared_url_builder


_render_thumbnail = media_services.render_thumbnail
_THUMBNAILS: dict[tuple, bytes] = {}
# Larger models are drawn every time: hashing them would add to the memory the upload tests measure.
_SHARED_THUMBNAIL_BYTES = 1 << 20


def _shared_thumbnail(triangles, size=(480, 360), up="z", colours=None) -> bytes:
    """The thumbnail an upload gets, drawn once per session for each model, size, axis and colours.

    The tests upload the same few models hundreds of times (every contest entry has one), and drawing one
    takes a tenth of a second; the picture depends on nothing but these arguments. ``render_thumbnail``
    itself, imported from ``catalogue.media.thumbnails``, draws every time for the tests of the picture.
    """
    arrays = [np.ascontiguousarray(triangles)] + ([] if colours is None else [np.ascontiguousarray(colours)])
    if sum(array.nbytes for array in arrays) > _SHARED_THUMBNAIL_BYTES:
        return _render_thumbnail(triangles, size, up, colours)
    digest = hashlib.blake2b()
    for array in arrays:
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
    key = (digest.hexdigest(), tuple(size), up, colours is None)
    picture = _THUMBNAILS.get(key)
    if picture is None:
        picture = _THUMBNAILS[key] = _render_thumbnail(triangles, size, up, colours)
    return picture


media_services.render_thumbnail = _shared_thumbnail


def make_test_app(config: dict) -> Flask:
    """``create_app(config)`` with the templates compiled once per test session."""
    app = create_app(config)
    app.jinja_env.bytecode_cache = _TEMPLATE_CACHE
    return app


# -- database ---------------------------------------------------------------------------------


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    """The database backend of this run of the suite: ``"sqlite"`` or ``"postgresql"``."""
    if request.param == "postgresql" and postgres_url() is None:
        skip_or_fail(
            "PostgreSQL tests need TEST_DATABASE_URL, "
            "e.g. postgresql+psycopg://catalogue:catalogue@127.0.0.1:5432/catalogue_test"
        )
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory):
    """PostgreSQL: a schema of the test database private to this run, with the tables. SQLite: None."""
    if backend != "postgresql":
        yield None
        return
    with postgres_schema(postgres_url(), "test_run") as url:
        app = make_test_app(app_config(tmp_path_factory.mktemp("postgresql-setup"), url))
        with app.app_context():
            db.create_all()
            db.session.remove()
            db.engine.dispose()
        yield url


# Copies of the seeded taxonomy tables live beside the real ones under this prefix.
_SEED_COPY = "seed_copy__"


@pytest.fixture(scope="session")
def postgres_reset(database_url, tmp_path_factory) -> tuple[str, str]:
    """SQL that brings the PostgreSQL schema back to its seeded state: (emptying, refilling).

    The taxonomies are seeded once and copied aside; before each test every table is emptied
    and the copies are put back, sequences included, in two round trips instead of hundreds.
    """
    from catalogue.taxonomy.seed import seed_taxonomies

    app = make_test_app(app_config(tmp_path_factory.mktemp("postgresql-seed"), database_url))
    tables = db.metadata.sorted_tables
    with app.app_context():
        seed_taxonomies()
        quote = db.engine.dialect.identifier_preparer.quote
        with db.engine.begin() as connection:
            seeded = [t for t in tables if connection.execute(select(func.count()).select_from(t)).scalar()]
            for table in seeded:
                connection.exec_driver_sql(
                    f"CREATE TABLE {quote(_SEED_COPY + table.name)} AS TABLE {quote(table.name)}"
                )
            sequences = connection.exec_driver_sql(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = current_schema()"
            ).all()
        db.session.remove()
        db.engine.dispose()
    # On tables this small DELETE is about ten times faster than TRUNCATE.
    emptying = "".join(f"DELETE FROM {quote(t.name)};" for t in reversed(tables))  # noqa: S608  (our table names)
    refilling = "".join(f"INSERT INTO {quote(t.name)} TABLE {quote(_SEED_COPY + t.name)};" for t in seeded)
    positions = ", ".join(
        f"setval('{quote(name)}', {value}, true)" if value else f"setval('{quote(name)}', 1, false)"
        for name, value in sequences
    )
    return emptying, f"{refilling}SELECT {positions};"


def _reset_postgres_tables(reset: tuple[str, str]) -> None:
    emptying, refilling = reset
    # A connection leaked by an earlier test would make us wait forever.
    lock_timeout = "SET LOCAL lock_timeout = '10s';"
    try:
        with db.engine.begin() as connection:
            connection.exec_driver_sql(lock_timeout + emptying + refilling)
    except IntegrityError:
        # Tables that refer to each other in a cycle cannot be emptied one by one.
        quote = db.engine.dialect.identifier_preparer.format_table
        truncate = f"TRUNCATE {', '.join(quote(t) for t in db.metadata.sorted_tables)} CASCADE;"
        with db.engine.begin() as connection:
            connection.exec_driver_sql(lock_timeout + truncate + refilling)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite database file with the tables and the taxonomies, made once; tests get copies."""
    from catalogue.taxonomy.seed import seed_taxonomies

    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "catalogue.db"
    app = make_test_app(app_config(folder / "instance", f"sqlite:///{path}"))
    with app.app_context():
        db.create_all()
        seed_taxonomies()
        db.session.remove()
        # Closing the last connection checkpoints the WAL into the file, so the file alone is whole.
        db.engine.dispose()
    return path


@pytest.fixture
def app(backend, database_url, tmp_path, request):
    """The application on an empty database with the taxonomies seeded."""
    if backend == "sqlite":
        database_file = tmp_path / "catalogue.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), database_file)
    database = database_url or f"sqlite:///{database_file}"
    config = app_config(tmp_path / "instance", database)
    if request.node.get_closest_marker("page_cache"):
        config["PAGE_CACHE"] = True
    marker = request.node.get_closest_marker
    if backend == "postgresql" and marker("search_engine") and not marker("whoosh"):
        config["SEARCH_BACKEND"] = "postgresql"
    app = make_test_app(config)
    try:
        if backend == "postgresql":
            with app.app_context():
                _reset_postgres_tables(request.getfixturevalue("postgres_reset"))
        yield app
    finally:
        # Also after a failed set-up: open connections would end as ResourceWarnings and
        # PostgreSQL would run out of connection slots.
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- people -----------------------------------------------------------------------------------


@pytest.fixture
def make_user(app):
    """A factory of users, created through the accounts service.

    ``make_user(roles=("teacher",), email=None, password=DEFAULT_PASSWORD, **kw)``; ``kw`` are
    more arguments of ``create_user`` (``last_name``, ``first_name``, ``middle_name``,
    ``organization``, ``grade``, ``birth_date``). Students get a grade and a birth date by
    default, everyone the first organization. Inside an app context the user stays attached to
    its session; otherwise it comes back detached, with its columns and roles loaded.
    """
    from catalogue.accounts.models import Role
    from catalogue.accounts.services import create_user
    from catalogue.taxonomy.models import Organization

    numbers = itertools.count(1)

    def make(roles=("teacher",), email=None, password=DEFAULT_PASSWORD, **kw):
        if isinstance(roles, str):
            roles = (roles,)
        roles = {Role(r) for r in roles}
        number = next(numbers)
        student = Role.STUDENT in roles
        with nullcontext() if has_app_context() else app.app_context():
            fields = {
                "last_name": "Иванова",
                "first_name": "Анна",
                "grade": 8 if student else None,
                "birth_date": dt.date(dt.date.today().year - 14, 3, 15) if student else None,
            }
            fields.update(kw)
            if "organization" not in fields:
                fields["organization"] = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
            user = create_user(email or f"{min(roles)}{number}@example.ru", password, roles=roles, **fields)
            db.session.commit()
            db.session.refresh(user)
        return user

    return make


class AuthActions:
    """Logs the test client in and out through the real forms, CSRF token included."""

    def __init__(self, client):
        self._client = client

    def login(self, email, password=DEFAULT_PASSWORD):
        """POST the login form; ``email`` may also be a User. Returns the response."""
        email = getattr(email, "email", email)
        token = csrf_token(self._client, "/auth/login")
        return self._client.post("/auth/login", data={"email": email, "password": password, "csrf_token": token})

    def logout(self):
        token = csrf_token(self._client, "/")
        return self._client.post("/auth/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


# -- a real server and a real browser ---------------------------------------------------------


class _LiveRequestHandler(WSGIRequestHandler):
    # HTTP/1.0 closes each connection after its response, and the timeout ends idle
    # sockets a browser opened ahead of time: the server's shutdown then waits for nothing.
    protocol_version = "HTTP/1.0"
    timeout = 10


@pytest.fixture
def live_server(app):
    """The same ``app`` served on a free port of 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_LiveRequestHandler)
    # A short poll interval: shutdown() waits for the loop to look, 0.5 s by default.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.port}"
    server.shutdown()
    thread.join()
    # Also waits for the request threads still running.
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("browser tests need Playwright: pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh page in its own browser context; relative URLs go to ``live_server``."""
    context = browser.new_context(base_url=live_server, locale="ru-RU")
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    yield page
    # Before the server stops, so that no request of the page is left half-served.
    context.close()


# -- the search index ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def search_index_stays_true(request):
    """After every test with an app: the search index answers for every published item as it is now.

    The outbox is applied first (as the indexer would), then ``search check``'s comparison runs. A test that
    never built an index (no search directory) costs nothing. ``@pytest.mark.stale_index`` opts out.
    """
    if "app" not in request.fixturenames or request.node.get_closest_marker("stale_index"):
        yield
        return
    app = request.getfixturevalue("app")
    yield
    from catalogue.search import indexer

    with app.app_context():
        if not Path(app.config["SEARCH_INDEX_DIR"]).is_dir() and not indexer.backend().exists():
            return
        report = indexer.sync(lock_timeout=10.0, rebuild_missing=False)
        check = indexer.check() if report.error is None else None
    if check is not None and not check.ok:
        pytest.fail(
            f"the search index is not true to the database: missing {check.missing}, stale {check.stale}, "
            f"extra {check.extra}",
            pytrace=False,
        )
