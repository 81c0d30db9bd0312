"""Small helpers shared by the tests: CSRF tokens, backend selection, PostgreSQL schemas, 3D fixtures, the sitemap."""

import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import create_engine, make_url

REQUIRE_ALL_ENV = "CATALOGUE_REQUIRE_ALL"
# The password of every user made by the ``make_user`` fixture unless told otherwise.
DEFAULT_PASSWORD = "пароль-надёжный-1"
# A valid one-page PDF without metadata: uploads store it byte for byte (a PDF with metadata is rewritten).
PDF = (
    b"%PDF-1.3\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<\n/Type /Catalog\n/Pages 2 0 R\n>>\nendobj\n"
    b"2 0 obj\n<<\n/Type /Pages\n/Count 1\n/Kids [ 3 0 R ]\n>>\nendobj\n"
    b"3 0 obj\n<<\n/Type /Page\n/Resources <<\n>>\n/MediaBox [ 0.0 0.0 595 842 ]\n/Parent 2 0 R\n>>\nendobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000015 00000 n \n0000000064 00000 n \n0000000123 00000 n \n"
    b"trailer\n<<\n/Size 4\n/Root 1 0 R\n>>\nstartxref\n217\n%%EOF\n"
)

# Real 3D models made by other tools; their provenance and licence are in the folder's README.
FIXTURES_3D = Path(__file__).resolve().parent / "fixtures" / "3d"


@contextmanager
def writing_request(app, path: str = "/") -> Iterator[None]:
    """A POST's request context, so that SQLite begins transactions as the site's forms do (BEGIN IMMEDIATE).

    What was read after the last commit is let go before the context ends: that read began a writing transaction,
    and the search sync run when a request context ends would wait for its lock (SQLite's busy timeout, 15 s).
    """
    from catalogue.extensions import db

    with app.test_request_context(path, method="POST"):
        try:
            yield
        finally:
            db.session.rollback()


def fixture_bytes(name: str) -> bytes:
    """The bytes of a real 3D model of ``tests/fixtures/3d``."""
    return (FIXTURES_3D / name).read_bytes()


class _CsrfMetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "meta" and values.get("name") == "csrf-token" and self.token is None:
            self.token = values.get("content")


def csrf_token(client, path: str = "/") -> str:
    """GET ``path`` with ``client`` and return the token of its ``<meta name="csrf-token">``.

    The token is bound to the client's session cookie, so use it with the same client.

    :raise AssertionError: the page did not answer 200 or has no token.
    """
    response = client.get(path)
    assert response.status_code == 200, f"GET {path} answered {response.status_code}"
    parser = _CsrfMetaParser()
    parser.feed(response.get_data(as_text=True))
    parser.close()
    assert parser.token, f'GET {path} has no <meta name="csrf-token">'
    return parser.token


def skip_or_fail(reason: str) -> NoReturn:
    """Skip for a missing tool or service, or fail when ``CATALOGUE_REQUIRE_ALL=1``.

    CI sets the variable so that a broken set-up cannot pass as a run of skipped tests.
    """
    if os.environ.get(REQUIRE_ALL_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ALL_ENV}=1 allows no skipping)", pytrace=False)
    pytest.skip(reason)


def only_on(*backends: str) -> pytest.MarkDecorator:
    """Run a test on the given database backends only, e.g. ``@only_on("sqlite")``."""
    return pytest.mark.parametrize("backend", backends, indirect=True)


@contextmanager
def postgres_schema(url: str, prefix: str) -> Iterator[str]:
    """A new, empty schema in the database of ``url``, dropped afterwards.

    Yields a URL whose connections use only that schema, so that test runs sharing one
    database (a developer's and CI's) never touch each other's tables.
    """
    schema = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            # pg_trgm (the database search's typos) once per database, in its default schema, under a lock: runs
            # creating it at the same moment would collide, and one made in a run's own schema would go with it.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('catalogue-tests:pg_trgm'))")
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        # Without waiting for the disk at each commit: a test database need not survive a crash.
        options = f"-csearch_path={schema} -csynchronous_commit=off"
        scoped = make_url(url).update_query_dict({"options": options})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()


SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def sitemap_files(client, site: str = "http://localhost") -> dict[str, ET.Element]:
    """Every file the sitemap index lists, by its address: each is well-formed XML, or this raises."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/xml; charset=utf-8"
    index = ET.fromstring(response.get_data())
    assert index.tag == f"{SITEMAP}sitemapindex"
    files = {}
    for loc in [e.findtext(f"{SITEMAP}loc") for e in index.findall(f"{SITEMAP}sitemap")]:
        assert loc.startswith(site + "/"), loc
        file = client.get(loc.removeprefix(site))
        assert file.status_code == 200, loc
        assert file.headers["Content-Type"] == "application/xml; charset=utf-8"
        files[loc] = ET.fromstring(file.get_data())
        assert files[loc].tag == f"{SITEMAP}urlset"
    return files


def sitemap_urls(client, site: str = "http://localhost") -> list[ET.Element]:
    """The ``<url>`` elements of all the sitemap's files."""
    return [url for urlset in sitemap_files(client, site).values() for url in urlset.findall(f"{SITEMAP}url")]


@contextmanager
def recorded_statements(engine) -> Iterator[list[tuple[str, object]]]:
    """Every SQL statement ``engine`` runs inside the block, with its parameters, in order."""
    from sqlalchemy import event

    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def published_practice_row(number: int, school, author_id: int, published_at, **extra) -> dict:
    """One published practice as a row for a bulk ``INSERT`` (tests that need many, fast)."""
    import datetime as dt

    from catalogue.workflow.models import Status

    return {
        "title": f"Практика {number:05d}",
        "summary": "Кратко.",
        "description": "Описание.",
        "organization_id": school.id,
        "municipality_id": school.municipality_id,
        "grade_from": 6,
        "grade_to": 11,
        "period_from": dt.date(2025, 9, 1),
        "results": "Итоги.",
        "contacts": "Телефон.",
        "status": Status.PUBLISHED,
        "published_at": published_at,
        "author_id": author_id,
        **extra,
    }


# Waits for an <img> to finish loading (the browser may still be fetching it when the element appears) and gives its
# natural width, or 0 when it failed to load.
_LOADED_WIDTH = """img => img.complete ? img.naturalWidth : new Promise(done => {
    img.addEventListener("load", () => done(img.naturalWidth), {once: true});
    img.addEventListener("error", () => done(0), {once: true});
})"""


def loaded_width(image) -> int:
    """The natural width of a Playwright locator's image once the browser has loaded it (0 when it could not)."""
    return image.evaluate(_LOADED_WIDTH)
