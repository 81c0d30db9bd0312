"""The page cache for anonymous visitors: whole responses kept per address and content generation.

**The generation.** One row of ``content_generation`` counts the changes of what public pages show. It is bumped
in the same transaction as the change, by session events, so that no service has to remember it: after every flush
that adds, changes or deletes a row of any table not listed in :data:`PRIVATE_TABLES` (sessions, login throttling,
notifications — what no public page shows; for ``user`` only the login columns are private), and before every bulk
``UPDATE``/``DELETE``/``INSERT`` run through the session (the workflow's guarded state changes). The search outbox
counts as public: the indexer deletes its rows once the index shows the change, and search pages stored before that
(by a worker whose index was a second behind) must not outlive it.
A table nobody has classified counts as public: a new feature is cached safely without knowing of this module.
The counter is bumped once per transaction, as its last statement (the row's lock is then taken last and held
briefly); its ``changed_at`` is the pages' ``Last-Modified``.

**The cache** is a WSGI middleware in front of the whole application. A request may be answered from it only if it is
a GET or HEAD without ``Authorization`` and without any cookie but the display ones (:data:`DISPLAY_COOKIES`, e.g.
``a11y``, which are part of the key) and an anonymous visitor's session cookie that holds nothing of theirs
(:data:`NEUTRAL_SESSION`: a form's CSRF token, which no cached page embeds; it is no part of the key): a login, the
remember cookie, a flash message waiting always go past it. The key is the Host, the path, the query string normalised
(parameters sorted by name, encoded one way), the htmx headers when ``HX-Request`` is present, the display cookies and
the oblast's date (a season's phase follows it); entries also expire after ``PAGE_CACHE_SECONDS``. A hit reads the
generation (one primary-key row, on a raw connection: no transaction, no write lock on SQLite) and one file; a
conditional request (``If-None-Match``, ``If-Modified-Since``) gets a 304.

A response is stored only when the application marks it storable (:func:`_mark_storable`: nobody logged in, the
session neutral and unchanged, no CSRF token made) and it is a 200 of HTML, XML, Atom or text, of known length within
``PAGE_CACHE_MAX_BYTES``, that sets no cookie and does not forbid storing (``no-store``, ``private``). Entries live in
``instance/page_cache/<generation>/<sha256 of the key>``, written atomically, so that every worker process shares
them; a new generation's first entry removes the older generations' directories. With ``PAGE_CACHE_REDIS_URL`` they
are kept in Redis instead (expiring by themselves), shared by several machines; if Redis is away, pages are served
uncached.
"""

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from flask import Flask, g, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import BigInteger, event, inspect, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.http import http_date, parse_cookie, parse_date

from catalogue.clock import local_today, utcnow
from catalogue.extensions import db

log = logging.getLogger(__name__)

#: Tables whose rows no public page shows: writing them leaves cached pages valid.
PRIVATE_TABLES = frozenset(
    {
        "content_generation",
        "user_session",
        "login_attempt",
        "known_address",
        "used_login_link",
        "notification",
        "api_request_count",
        "subscription",  # a person's subscriptions to lists: shown on «Мои подписки» only
        # Claims and leases change it every few seconds; a job that changes a public page bumps the generation in
        # the transaction that records it done (the contest's collection does).
        "job",
    }
)
#: Columns of otherwise public tables that no public page shows (a login stamps ``last_login_at``).
PRIVATE_COLUMNS = {"user": frozenset({"last_login_at", "password_hash", "auth_version"})}
#: Cookies that only change how a page is shown to anyone who has them: part of the key, not a bypass.
DISPLAY_COOKIES = ("a11y",)
#: What an anonymous visitor's session may hold while every page stays the same for them as for anyone: a form's
#: CSRF token (pages embed none for anonymous visitors, see :func:`csrf_token_for_templates`) and Flask-Login's
#: mark that such a session is not a fresh login. Anything else — a login, a flash message waiting — is theirs.
NEUTRAL_SESSION = {"csrf_token": None, "_fresh": False}  # key: the one value allowed (None: any)
CACHED_TYPES = ("text/html", "application/xml", "text/xml", "application/atom+xml", "text/plain")
MAX_QUERY_LENGTH = 1024
_STORABLE = "X-Page-Cache-Storable"  # set by the application for the middleware, never sent
_CHANGED = "catalogue.page_cache.changed"
CSRF_FIELD = "csrf_token"  # Flask-WTF's name for its token, in the session and in ``g``


class ContentGeneration(db.Model):
    """The one row (id 1) counting changes of public content."""

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- the generation ---------------------------------------------------------------------------


def bump(session: Session) -> None:
    """Count a change of public content: the counter goes up when the session's transaction commits."""
    session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _bump_at_commit(session: Session) -> None:
    # The row is updated last, just before COMMIT: its lock is held for the shortest time and always taken after
    # every other row of the transaction, so two transactions never wait for each other in opposite orders.
    session.flush()
    if not session.info.pop(_CHANGED, False):
        return
    table = ContentGeneration.__table__
    now = utcnow()
    connection = session.connection()
    changed = connection.execute(
        update(table).where(table.c.id == 1).values(value=table.c.value + 1, changed_at=now)
    ).rowcount
    if not changed:
        connection.execute(table.insert().values(id=1, value=1, changed_at=now))


def _public_change(obj, session: Session) -> bool:
    table = getattr(getattr(obj, "__table__", None), "name", None)
    if table is None or table in PRIVATE_TABLES:
        return False
    private = PRIVATE_COLUMNS.get(table)
    if private is None or obj in session.new or obj in session.deleted:
        return True
    state = inspect(obj)
    return any(attr.key not in private and attr.history.has_changes() for attr in state.attrs)


@event.listens_for(Session, "after_flush")
def _note_public_changes(session: Session, _flush_context) -> None:
    if session.info.get(_CHANGED):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if (obj in session.new or obj in session.deleted or session.is_modified(obj)) and _public_change(obj, session):
            bump(session)
            return


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_change(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) not in PRIVATE_TABLES:
        bump(state.session)


@event.listens_for(Session, "after_transaction_end")
def _forget_changes(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CHANGED, None)


class GenerationReader:
    """Reads (value, changed_at) of the generation: one query on a pooled connection checked out for it alone,
    outside any transaction of the request (no ``BEGIN IMMEDIATE`` on SQLite), and returned at once.

    A connection kept per thread would be cheaper by some microseconds, but servers that start a thread per
    request (``flask run``, gthread workers) would then hold one pooled connection per thread that ever ran, and
    exhaust the pool.
    """

    QUERY = "SELECT value, changed_at FROM content_generation WHERE id = 1"

    def __init__(self, engine) -> None:
        self.engine = engine

    def __call__(self) -> tuple[int, dt.datetime | str | None]:
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(self.QUERY)
            row = cursor.fetchone()
            cursor.close()
        finally:
            connection.close()  # back to the pool, which ends the implicit transaction (PostgreSQL)
        return (0, None) if row is None else (int(row[0]), row[1])


def _moment(changed_at: dt.datetime | str | None) -> dt.datetime:
    if isinstance(changed_at, str):  # SQLite
        return dt.datetime.fromisoformat(changed_at)
    return changed_at or utcnow()


# -- the store ---------------------------------------------------------------------------------


class FileStore:
    """Entries as files ``<root>/<generation>/<hash>``: a JSON header line, then the body."""

    def __init__(self, root: str, max_entries: int) -> None:
        self.root = root
        self.max_entries = max_entries
        self._stores = 0

    def get(self, generation: int, digest: str) -> tuple[dict, bytes] | None:
        try:
            with open(f"{self.root}/{generation}/{digest}", "rb") as f:
                data = f.read()
        except OSError:
            return None
        header, _, body = data.partition(b"\n")
        try:
            return json.loads(header), body
        except ValueError:
            return None

    def put(self, generation: int, digest: str, meta: dict, body: bytes) -> None:
        directory = Path(self.root, str(generation))
        if not directory.is_dir():
            directory.mkdir(parents=True, exist_ok=True)
            self._remove_other_generations(generation)
        self._stores += 1
        if self._stores % 64 == 0 and sum(1 for _ in os.scandir(directory)) >= self.max_entries:
            return
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(json.dumps(meta).encode() + b"\n" + body)
            os.replace(temporary, directory / digest)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _remove_other_generations(self, generation: int) -> None:
        for child in Path(self.root).iterdir():
            if child.name != str(generation) and child.name.isdigit():
                shutil.rmtree(child, ignore_errors=True)


class RedisStore:
    """Entries in Redis (``PAGE_CACHE_REDIS_URL``), shared by the machines of a deployment: the same header line
    and body under ``<prefix><generation>:<hash>``, expiring by themselves after ``PAGE_CACHE_SECONDS``."""

    def __init__(self, url: str, seconds: int, prefix: str = "catalogue:page:") -> None:
        import redis  # the optional dependency (the `redis` extra), only when configured

        self.client = redis.Redis.from_url(url, socket_timeout=1)
        self.seconds = seconds
        self.prefix = prefix

    def get(self, generation: int, digest: str) -> tuple[dict, bytes] | None:
        data = self.client.get(f"{self.prefix}{generation}:{digest}")
        if data is None:
            return None
        header, _, body = data.partition(b"\n")
        return json.loads(header), body

    def put(self, generation: int, digest: str, meta: dict, body: bytes) -> None:
        self.client.set(
            f"{self.prefix}{generation}:{digest}", json.dumps(meta).encode() + b"\n" + body, ex=self.seconds
        )


# -- the middleware ----------------------------------------------------------------------------


def _normalised_query(query_string: str) -> str | None:
    """Parameters sorted by name (each name's values in their order), encoded one way; None for what the site
    refuses (invalid UTF-8, a NUL), so that it never shares a key with a valid address."""
    try:
        pairs = parse_qsl(query_string, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        return None
    if any("\x00" in name or "\x00" in value for name, value in pairs):
        return None
    return urlencode(sorted(pairs, key=lambda pair: pair[0]))


def neutral_session(session: dict) -> bool:
    """Whether an anonymous visitor's session leaves every page the same for them as for anyone."""
    return all(key in NEUTRAL_SESSION and NEUTRAL_SESSION[key] in (None, value) for key, value in session.items())


class SessionCookie:
    """Reads the session cookie as Flask will (signature, age), to tell a neutral anonymous session from one that
    makes the page its holder's. A cookie Flask would refuse counts as neutral: Flask starts an empty session."""

    def __init__(self, app: Flask) -> None:
        self.name = app.config["SESSION_COOKIE_NAME"]
        self.serializer = app.session_interface.get_signing_serializer(app)
        self.max_age = int(app.permanent_session_lifetime.total_seconds())

    def neutral(self, value: str) -> bool:
        if self.serializer is None:  # no secret key: Flask has no session either
            return True
        try:
            data = self.serializer.loads(value, max_age=self.max_age)
        except Exception:  # a bad signature, an expired or malformed cookie: an empty session
            return True
        return isinstance(data, dict) and neutral_session(data)


def request_key(environ: dict, session_cookie: SessionCookie | None = None) -> str | None:
    """The cache key of a request, or None when it must not be served from or stored in the cache.

    Cookies other than the display ones take the request past the cache, except a session cookie that
    ``session_cookie`` reads as neutral (it is then no part of the key: the page is everybody's)."""
    if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or "HTTP_AUTHORIZATION" in environ:
        return None
    query = environ.get("QUERY_STRING", "")
    if len(query) > MAX_QUERY_LENGTH:
        return None
    display = ""
    if cookie_header := environ.get("HTTP_COOKIE"):
        cookies = parse_cookie(cookie_header)
        for name in cookies:
            if name in DISPLAY_COOKIES:
                continue
            if session_cookie is None or name != session_cookie.name:
                return None
            values = cookies.getlist(name)
            if len(values) != 1 or not session_cookie.neutral(values[0]):
                return None
        display = urlencode(sorted((k, v) for k, v in cookies.items(multi=True) if k in DISPLAY_COOKIES))
    path, normalised = environ.get("PATH_INFO", ""), _normalised_query(query)
    if normalised is None or "\x00" in path:
        return None
    htmx = ""
    if "HTTP_HX_REQUEST" in environ:
        htmx = urlencode(sorted((name, value) for name, value in environ.items() if name.startswith("HTTP_HX_")))
    return "\x00".join(
        (
            environ.get("HTTP_HOST", ""),
            path,
            normalised,
            htmx,
            display,
            local_today().isoformat(),
        )
    )


def _matches(if_none_match: str, etag: str) -> bool:
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


class PageCacheMiddleware:
    def __init__(self, app: Flask, wsgi_app) -> None:
        self.wsgi_app = wsgi_app
        self.max_bytes = int(app.config["PAGE_CACHE_MAX_BYTES"])
        self.seconds = int(app.config["PAGE_CACHE_SECONDS"])
        self.static_prefix = (app.static_url_path or "/static") + "/"
        if app.config.get("PAGE_CACHE_REDIS_URL"):
            self.store = RedisStore(app.config["PAGE_CACHE_REDIS_URL"], self.seconds)
        else:
            root = app.config.get("PAGE_CACHE_DIR") or os.path.join(app.instance_path, "page_cache")
            self.store = FileStore(str(root), int(app.config["PAGE_CACHE_MAX_ENTRIES"]))
        self.session_cookie = SessionCookie(app)
        with app.app_context():
            self.read_generation = GenerationReader(db.engine)

    def __call__(self, environ, start_response):
        static = environ.get("PATH_INFO", "").startswith(self.static_prefix)
        key = None if static else request_key(environ, self.session_cookie)
        if key is None:
            return self._uncached(environ, start_response)
        try:
            generation, changed_at = self.read_generation()
        except Exception:
            log.exception("Page cache: the content generation cannot be read")
            return self._uncached(environ, start_response)
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        try:
            entry = self.store.get(generation, digest)
        except Exception:  # Redis away: the site works on, uncached
            log.exception("Page cache: an entry cannot be read")
            return self._uncached(environ, start_response)
        if entry is not None and entry[0]["stored"] + self.seconds > time.time():
            return self._serve(environ, start_response, *entry, "hit")
        if environ["REQUEST_METHOD"] != "GET":
            return self._uncached(environ, start_response)
        return self._fill(environ, start_response, generation, changed_at, digest)

    def _uncached(self, environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [(k, v) for k, v in headers if k != _STORABLE], exc_info)

        return self.wsgi_app(environ, start)

    def _fill(self, environ, start_response, generation: int, changed_at, digest: str):
        captured: dict = {}

        def start(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            if not self._storable(status, headers):
                return start_response(status, [(k, v) for k, v in headers if k != _STORABLE], exc_info)
            captured["store"] = True
            return lambda data: None  # the body is collected below (no app here writes through it)

        result = self.wsgi_app(environ, start)
        if not captured.get("store"):
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = [
            (k, v)
            for k, v in captured["headers"]
            if k.lower() not in ("content-length", "date", "etag", "last-modified", _STORABLE.lower())
        ]
        if not any(k.lower() == "cache-control" for k, _ in headers):
            headers.append(("Cache-Control", "no-cache"))  # browsers keep it but ask again: 304 from here
        if not any(k.lower() == "vary" and "hx-request" in v.lower() for k, v in headers):
            headers.append(("Vary", "HX-Request"))
        headers.append(("ETag", '"' + hashlib.sha256(body).hexdigest()[:32] + '"'))
        headers.append(("Last-Modified", http_date(_moment(changed_at))))
        meta = {"status": captured["status"], "headers": headers, "stored": time.time()}
        try:
            # Content changed while the page was made: it belongs to no generation for sure, and storing it under
            # the old one would only make the store drop the new generation's entries.
            if self.read_generation()[0] == generation:
                self.store.put(generation, digest, meta, body)
        except Exception:
            log.exception("Page cache: an entry cannot be written")
        return self._serve(environ, start_response, meta, body, "miss")

    def _storable(self, status: str, headers) -> bool:
        names = {k.lower(): v for k, v in headers}
        if not status.startswith("200") or names.get(_STORABLE.lower()) != "1" or "set-cookie" in names:
            return False
        content_type = names.get("content-type", "").split(";")[0].strip().lower()
        cache_control = names.get("cache-control", "").lower()
        length = names.get("content-length")
        return (
            content_type in CACHED_TYPES
            and "no-store" not in cache_control
            and "private" not in cache_control
            and length is not None
            and length.isdigit()
            and int(length) <= self.max_bytes
        )

    def _serve(self, environ, start_response, meta: dict, body: bytes, outcome: str):
        headers = [tuple(pair) for pair in meta["headers"]]
        validators = {k: v for k, v in headers if k in ("ETag", "Last-Modified")}
        if self._not_modified(environ, validators.get("ETag"), validators.get("Last-Modified")):
            kept = [(k, v) for k, v in headers if k in ("ETag", "Last-Modified", "Cache-Control", "Vary")]
            start_response("304 NOT MODIFIED", [*kept, ("X-Page-Cache", outcome)])
            return [b""]
        headers += [("Content-Length", str(len(body))), ("X-Page-Cache", outcome)]
        start_response(meta["status"], headers)
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]

    @staticmethod
    def _not_modified(environ, etag: str | None, last_modified: str | None) -> bool:
        if if_none_match := environ.get("HTTP_IF_NONE_MATCH"):
            return etag is not None and _matches(if_none_match, etag)
        if "HTTP_IF_MODIFIED_SINCE" not in environ or last_modified is None:
            return False
        since, modified = parse_date(environ["HTTP_IF_MODIFIED_SINCE"]), parse_date(last_modified)
        return since is not None and modified is not None and modified <= since


# -- in the application ------------------------------------------------------------------------


def _mark_storable(response):
    """Tell the middleware that nothing of this response is anybody's own."""
    if (
        not current_user.is_authenticated
        and neutral_session(session)
        and not session.modified
        and CSRF_FIELD not in g
        and response.status_code == 200
    ):
        response.headers[_STORABLE] = "1"
    else:
        response.headers.pop(_STORABLE, None)
    return response


def csrf_token_for_templates() -> str:
    """``csrf_token()`` in templates: empty on an anonymous visitor's page unless the page made a token anyway.

    Every page carries a token for htmx (``base.html``); made for a visitor without a session, it would start one
    (a cookie), and written into the page, it would make the page theirs. Nobody anonymous posts with it: the forms
    anonymous visitors send (login, registration, consent) put their token in with WTForms' ``hidden_tag()``, which
    starts the session — such pages are never stored, and they show it in the header too. So whether a visitor's
    session holds a token from an earlier form changes nothing on any other page: they are served the cached ones.
    """
    if request.method in ("GET", "HEAD") and not current_user.is_authenticated and CSRF_FIELD not in g:
        return ""
    return generate_csrf()


def init_app(app: Flask) -> None:
    """Put the cache in front of the application when ``PAGE_CACHE`` is on."""
    if not app.config.get("PAGE_CACHE"):
        return
    # Flask-WTF offers its own both ways; these, registered later, take its place.
    app.jinja_env.globals["csrf_token"] = csrf_token_for_templates
    app.context_processor(lambda: {"csrf_token": csrf_token_for_templates})
    # Registered last, so run first of the after-request functions: anything later that sets a cookie is
    # still seen by the middleware (Set-Cookie is never stored).
    app.after_request(_mark_storable)
    app.wsgi_app = PageCacheMiddleware(app, app.wsgi_app)
