"""Configuration defaults; ``instance/config.py`` and environment variables override them."""

import datetime as dt
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

MiB = 1024 * 1024


class DefaultConfig:
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_RECORD_QUERIES = False
    # Whole request body; per-field limits are checked by the upload validators.
    MAX_CONTENT_LENGTH = 64 * MiB
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Secure whenever SESSION_COOKIE_SECURE is (set in create_app unless given explicitly).
    REMEMBER_COOKIE_SECURE = None
    REMEMBER_COOKIE_DURATION = dt.timedelta(days=30)
    # A session unused this long is logged out; its last activity is refreshed at most once a minute.
    SESSION_IDLE_MINUTES = 12 * 60
    # The cookie is written when the session changes (at most once a minute for the activity time), not on
    # every request.
    SESSION_REFRESH_EACH_REQUEST = False
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # The site's public address: every link in letters, feeds, the sitemap and share tags starts with it,
    # never with the Host a request came with. Its host is the only one served (TRUSTED_HOSTS), plus
    # localhost and 127.0.0.1 when it is one of those (development, tests).
    SITE_URL = "http://127.0.0.1:5000"
    TRUSTED_HOSTS: list[str] | None = None  # None: derived from SITE_URL
    # The most addresses one file of the sitemap holds (the protocol allows 50,000).
    SITEMAP_URLS_PER_FILE = 50_000
    # Reverse proxies in front of the site whose X-Forwarded-For/-Proto are believed (Werkzeug's ProxyFix).
    PROXY_HOPS = 0
    # Login throttling, per (account, client address): after this many failures in a row, each further
    # try waits 1, 2, 4 ... minutes (at most LOGIN_MAX_DELAY_SECONDS); a success starts afresh.
    LOGIN_FREE_FAILURES = 5
    LOGIN_FIRST_DELAY_SECONDS = 60
    LOGIN_MAX_DELAY_SECONDS = 60 * 60
    LOGIN_FAILURES_FORGOTTEN_AFTER_SECONDS = 24 * 60 * 60
    # A generous ceiling per address across accounts within the window; it never stops an account's
    # owner at an address they logged in from before, nor a login by a link from the mail.
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_ADDRESS = 100
    LOGIN_LINK_MAX_AGE = 20 * 60
    PASSWORD_RESET_MAX_AGE = 2 * 60 * 60
    # Werkzeug's method for new password hashes: scrypt with N=32768 (about 0.1 s of one core
    # and 32 MiB per hash). Only the test suite sets a cheaper one.
    PASSWORD_HASH_METHOD = "scrypt:32768:8:1"  # noqa: S105  (a hashing method, not a password)
    # Organizations people add at registration wait for an administrator; at most this many per
    # municipality at a time, so that nobody can flood the list people pick their school from.
    MAX_PENDING_ORGANIZATIONS_PER_MUNICIPALITY = 20
    # Four eyes: a moderator's (or administrator's) own items, and their revisions of others' practices,
    # are decided by another moderator or administrator (unless they are the only one on the site).
    FOUR_EYES = True
    MAIL_SERVER = None
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_SENDER = "Профориентация Приангарья <noreply@localhost>"
    SITE_NAME = "Профориентация Приангарья"
    # The operator of the site and of its personal data (footer, «О проекте», the privacy policy).
    OPERATOR_NAME = "ГАУ ДПО ИО «Региональный институт кадровой политики и непрерывного профессионального образования»"
    OPERATOR_CONTACTS = "Иркутская область, г. Иркутск"  # address, telephone: one line of text
    OPERATOR_EMAIL: str | None = None  # for questions and requests about personal data; not shown when unset
    OPERATOR_INN: str | None = None  # the operator's ИНН: the first part of the open data sets' identifiers
    API_RATE_LIMIT = 600  # requests a minute from one client address to /api/v1/ (catalogue.api.ratelimit)
    # Megabytes of files one account may hold that are not published yet (pending uploads, drafts, items
    # under review); published items' files do not count.
    UPLOAD_QUOTA_MB = 500
    # The page cache for anonymous visitors (catalogue.page_cache): on unless PAGE_CACHE=0; entries under
    # PAGE_CACHE_DIR (default instance/page_cache), each kept at most PAGE_CACHE_SECONDS, pages up to
    # PAGE_CACHE_MAX_BYTES, at most about PAGE_CACHE_MAX_ENTRIES per content generation.
    PAGE_CACHE = True
    PAGE_CACHE_DIR: str | None = None
    PAGE_CACHE_REDIS_URL: str | None = None  # e.g. redis://127.0.0.1:6379/0: entries in Redis instead
    PAGE_CACHE_SECONDS = 600
    PAGE_CACHE_MAX_BYTES = 8 * MiB
    PAGE_CACHE_MAX_ENTRIES = 20_000
    # Render the home page once while a process starts (catalogue.warm_up): the first visitor then waits no longer
    # than the tenth.
    WARM_UP = True
    # Where every stored file goes (catalogue.media.storage): STORAGE=local, a folder MEDIA_ROOT (default
    # instance/uploads); several hosts mount one MEDIA_ROOT (NFS).
    STORAGE = "local"
    MEDIA_ROOT: str | None = None
    # Behind nginx: the prefix of an ``internal`` location aliased to the uploads folder, e.g. "/_uploads/". Files
    # are then checked here and sent by nginx (X-Accel-Redirect); unset, the application sends them itself.
    MEDIA_ACCEL_REDIRECT: str | None = None
    COLLECTION_X_ACCEL_PREFIX: str | None = None  # the same for the contest's collections, e.g. "/_collections/"
    # What an operator sees (catalogue.observability): LOG_FORMAT=json writes every log record, and one line per
    # request, as JSON on stderr; METRICS=1 serves /metrics; METRICS_ALLOW (CIDRs) may read /metrics and the checks
    # of /healthz, which fails when the search outbox waits longer than HEALTH_MAX_OUTBOX_LAG_SECONDS or the disk
    # under the instance folder has less than HEALTH_MIN_FREE_MB free.
    LOG_FORMAT = "text"
    METRICS = False
    METRICS_ALLOW = "127.0.0.1/32,::1/128"
    HEALTH_MAX_OUTBOX_LAG_SECONDS = 300
    HEALTH_MIN_FREE_MB = 200
    # Background jobs (catalogue.jobs) in a thread of the server process, after the response; False beside
    # `flask --app catalogue jobs work` (production, several worker processes).
    JOBS_IN_PROCESS = True
    # The search engine: "whoosh" (embedded, files under the instance folder) or "postgresql" (the database's
    # full-text search; a PostgreSQL database only). README, «Поиск на PostgreSQL».
    SEARCH_BACKEND = "whoosh"


# Environment variables read as configuration (name -> converter).
ENV_SETTINGS = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_SENDER": str,
    "SESSION_COOKIE_SECURE": lambda v: v.lower() in {"1", "true", "yes"},
    "SITE_URL": str,
    "SITEMAP_URLS_PER_FILE": int,
    "TRUSTED_HOSTS": lambda v: [h.strip() for h in v.split(",") if h.strip()],
    "PROXY_HOPS": int,
    "SESSION_IDLE_MINUTES": int,
    "FOUR_EYES": lambda v: v.lower() in {"1", "true", "yes"},
    "UPLOAD_QUOTA_MB": int,
    "OPERATOR_NAME": str,
    "OPERATOR_CONTACTS": str,
    "OPERATOR_EMAIL": str,
    "OPERATOR_INN": str,
    "API_RATE_LIMIT": int,
    "PAGE_CACHE": lambda v: v.lower() in {"1", "true", "yes"},
    "PAGE_CACHE_DIR": str,
    "PAGE_CACHE_REDIS_URL": str,
    "PAGE_CACHE_SECONDS": int,
    "WARM_UP": lambda v: v.lower() in {"1", "true", "yes"},
    "LOG_FORMAT": str,
    "STORAGE": str,
    "MEDIA_ROOT": str,
    "MEDIA_ACCEL_REDIRECT": str,
    "COLLECTION_X_ACCEL_PREFIX": str,
    "METRICS": lambda v: v.lower() in {"1", "true", "yes"},
    "METRICS_ALLOW": str,
    "HEALTH_MAX_OUTBOX_LAG_SECONDS": int,
    "HEALTH_MIN_FREE_MB": int,
    "JOBS_IN_PROCESS": lambda v: v.lower() in {"1", "true", "yes"},
    "SEARCH_BACKEND": str,
}
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def trusted_hosts(site_url: str) -> list[str]:
    """The Host names served: that of ``SITE_URL``, and both local names when it is a local one."""
    host = urlsplit(site_url).hostname or ""
    return list(LOCAL_HOSTS) if host in LOCAL_HOSTS else [host]


def from_environment() -> dict:
    """Settings given as environment variables, converted to their types."""
    return {name: conv(os.environ[name]) for name, conv in ENV_SETTINGS.items() if os.environ.get(name)}


def database_uri(url: str | None, instance_path: str) -> str:
    """The SQLAlchemy URI for ``DATABASE_URL``; SQLite in the instance folder when unset."""
    if not url:
        return f"sqlite:///{Path(instance_path) / 'catalogue.db'}"
    # Hosting platforms often give plain postgres:// URLs; we speak psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_path: str) -> str:
    """The secret key stored in the instance folder, generated on first use."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: when several workers start at once, the first key written wins.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key
