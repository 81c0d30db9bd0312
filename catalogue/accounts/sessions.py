"""Logged-in sessions: started at login, ended on the server at logout, expired when idle, never cached.

Each login adds a :class:`UserSession` row and puts its token into the session id (``id:version:token``),
which Flask-Login also writes into the remember cookie. The user loader accepts an id only while its row
exists, so logging out (which deletes the row) makes every copy of the cookies worthless; a password
change or a deactivation bumps the version and deletes all the person's rows.
"""

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, flash, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import joinedload

from catalogue.accounts.models import User, UserSession
from catalogue.clock import utcnow
from catalogue.extensions import db

#: The session key holding the time (Unix seconds) of the last request, refreshed at most once a minute.
LAST_SEEN = "_seen"
SEEN_REFRESH_SECONDS = 60
#: Pages that are private whoever asks for them (anonymous visitors are redirected or refused there).
PRIVATE_PREFIXES = ("/account", "/admin", "/moderation", "/auth/")
IDLE_MESSAGE = "Вы давно не заходили на сайт, и сеанс завершён. Войдите снова."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _parse(session_id: str) -> tuple[int, int, str] | None:
    parts = session_id.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or not parts[2]:
        return None
    return int(parts[0]), int(parts[1]), parts[2]


#: Figures about the person that every page's header shows, loaded with the person in the session's one query:
#: name -> a function giving a scalar subquery correlated to ``User``. The feature that owns a figure registers it
#: (the workflow: ``unread_notifications``), reads it with :func:`header_count` and calls :func:`forget_header_count`
#: when it changes it during the request.
HEADER_COUNTS: dict[str, Callable[[], Any]] = {}
_loader: list = []  # (names, statement): built once per process, again only if a count is registered later


def _session_user_statement():
    names = tuple(HEADER_COUNTS)
    if not _loader or _loader[0][0] != names:
        statement = (
            select(User, *(HEADER_COUNTS[name]().label(name) for name in names))
            .join(UserSession, UserSession.user_id == User.id)
            .where(User.id == bindparam("user_id"), UserSession.token_hash == bindparam("token_hash"))
            .options(joinedload(User.role_rows))
        )
        _loader[:] = [(names, statement)]
    return _loader[0]


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the user of a live session of the current password version, if active."""
    parsed = _parse(session_id)
    if parsed is None:
        return None
    user_id, version, token = parsed
    # One query, built once: the user with their organization, municipality and roles (joined, not a second
    # select) and the header's counts.
    names, statement = _session_user_statement()
    row = db.session.execute(statement, {"user_id": user_id, "token_hash": _digest(token)}).unique().first()
    if row is None or row[0].auth_version != version or not row[0].active:
        return None
    user = row[0]
    user.session_token = token
    user.header_counts = dict(zip(names, row[1:], strict=True))
    return user


def header_count(user, name: str) -> int | None:
    """A count :data:`HEADER_COUNTS` loaded with the session's person, or None (another person, or forgotten)."""
    counts = getattr(user, "header_counts", None)
    return None if counts is None else counts.get(name)


def forget_header_count(user, name: str) -> None:
    """The request changed what the count counts: the next :func:`header_count` is None, and its owner asks again."""
    counts = getattr(user, "header_counts", None)
    if counts is not None:
        counts.pop(name, None)


def start_session(user: User, remember: bool = False) -> None:
    """Log ``user`` in on this browser with a fresh session (nothing from before survives, new CSRF token)."""
    session.clear()
    token = secrets.token_urlsafe(32)
    lifetime = max(current_app.permanent_session_lifetime, current_app.config["REMEMBER_COOKIE_DURATION"])
    # Rows of sessions that can no longer be used go at the person's next login.
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.created_at < utcnow() - lifetime)
    )
    db.session.add(UserSession(user_id=user.id, token_hash=_digest(token)))
    db.session.commit()
    user.session_token = token
    login_user(user, remember=remember)
    session.permanent = True
    session[LAST_SEEN] = int(time.time())


def end_session() -> None:
    """Log out this browser and delete its session on the server; the remember cookie is cleared too."""
    parsed = _parse(str(session.get("_user_id", "")))
    if parsed is not None:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _digest(parsed[2])))
        db.session.commit()
    logout_user()
    session.clear()
    session["_remember"] = "clear"  # Flask-Login deletes the remember cookie in its after-request hook


def end_all_sessions(user: User) -> None:
    """End every session of ``user`` on every device (the caller commits)."""
    user.auth_version += 1
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))


def init_app(app: Flask) -> None:
    app.before_request(expire_idle_session)
    app.after_request(note_activity_and_forbid_caching)


def expire_idle_session():
    """Log out a session that has not been used for ``SESSION_IDLE_MINUTES``."""
    if request.endpoint == "static" or "_user_id" not in session:
        return None
    now = int(time.time())
    seen = session.get(LAST_SEEN)
    if isinstance(seen, int) and now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        from catalogue.htmx import redirect_htmx_aware

        end_session()
        flash(IDLE_MESSAGE, "info")
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect_htmx_aware(url_for("accounts.login", next=target))
    if not isinstance(seen, int) or now - seen >= SEEN_REFRESH_SECONDS:
        session[LAST_SEEN] = now
    return None


def note_activity_and_forbid_caching(response):
    """A session logged in by the remember cookie starts its idle clock; pages of a logged-in person
    (or private by their address) are never stored by a browser or a proxy."""
    if request.endpoint == "static":
        return response
    logged_in = "_user_id" in session
    if logged_in and LAST_SEEN not in session:
        session[LAST_SEEN] = int(time.time())
    if (logged_in or request.path.startswith(PRIVATE_PREFIXES)) and not response.cache_control.no_store:
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
        response.headers.pop("Pragma", None)
    return response
