"""Configuration defaults; ``instance/config.py`` and environment variables override them."""

import os
import secrets
from pathlib import Path

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
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Login throttling: failures allowed within the window, per account and per address.
    LOGIN_WINDOW_SECONDS = 15 * 60
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    PASSWORD_RESET_MAX_AGE = 2 * 60 * 60
    # Organizations people add at registration wait for an administrator; at most this many per
    # municipality at a time, so that nobody can flood the list people pick their school from.
    MAX_PENDING_ORGANIZATIONS_PER_MUNICIPALITY = 20
    MAIL_SERVER = None
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_SENDER = "Профориентация Приангарья <noreply@localhost>"
    SITE_NAME = "Профориентация Приангарья"
    # Megabytes of files one account may hold that are not published yet (pending uploads, drafts, items
    # under review); published items' files do not count.
    UPLOAD_QUOTA_MB = 500


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
    "UPLOAD_QUOTA_MB": int,
}


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
