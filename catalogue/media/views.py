"""Serving stored files through an access check, and the ``flask media ...`` commands."""

import datetime as dt
import unicodedata
from urllib.parse import quote

import click
from flask import Blueprint, Response, abort, current_app, url_for
from flask_login import current_user

from catalogue.media import storage
from catalogue.media.access import can_read_file, is_public
from catalogue.media.cli import inspect_command
from catalogue.media.errors import human_size
from catalogue.media.models import StoredFile
from catalogue.media.names import file_label, public_name
from catalogue.media.services import cleanup_pending, file_by_key

bp = Blueprint("media", __name__, cli_group="media")

THUMBNAIL_NAME = "thumbnail.png"
# Only images are shown in the browser; documents (PDF, office files) and models are always downloaded,
# so that a crafted document never runs as a page of this site.
INLINE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PUBLIC_MAX_AGE = 600
# Nothing inside a served file may run or load anything, even when a browser opens it after all.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@bp.get(f"/files/<key>/{THUMBNAIL_NAME}")
def thumbnail(key: str):
    """A model's thumbnail PNG, for whoever may read the model.

    :raise 404: no such file, no thumbnail, or no right to read it.
    """
    stored = _readable_file(key)
    if not stored.thumbnail_key:
        abort(404)
    return _send(stored, stored.thumbnail_key, "image/png", THUMBNAIL_NAME, inline=True)


@bp.get("/files/<key>/<path:filename>")
def file(key: str, filename: str):
    """A stored file: images shown in the browser, everything else (documents, models) downloaded.

    The name in the URL is for people only; the key finds the file, so links made with an earlier name
    (the uploader's own, before names were neutral) still work. The download is named neutrally.

    :raise 404: no such file, or no right to read it (both look the same: existence is not revealed).
    """
    stored = _readable_file(key)
    return _send(stored, stored.key, stored.media_type, public_name(stored), inline=stored.media_type in INLINE_TYPES)


def _readable_file(key: str) -> StoredFile:
    """:raise 404: unknown key or not readable by the current user."""
    stored = file_by_key(key)
    if stored is None or not can_read_file(current_user, stored):
        abort(404)
    return stored


def _send(stored: StoredFile, key: str, media_type: str, name: str, inline: bool) -> Response:
    stored_name = storage.name_for(key)
    accel = current_app.config.get("MEDIA_ACCEL_REDIRECT")
    if accel:
        # The access check is done: nginx sends the bytes itself (sendfile, ranges, conditional requests) from an
        # ``internal`` location that maps this prefix onto the uploads folder.
        if not storage.backend().exists(stored_name):
            abort(404)
        response = Response(mimetype=media_type)
        response.headers["X-Accel-Redirect"] = f"{accel.rstrip('/')}/{stored_name}"
    else:
        # Caching is decided below, per file; Flask's default max age would only get in the way.
        try:
            response = storage.send(stored_name, media_type, etag=True, max_age=lambda _path: None)
        except FileNotFoundError:  # removed meanwhile
            abort(404)
    response.headers["Content-Disposition"] = content_disposition(name, inline)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = FILE_CSP
    if is_public(stored):
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    else:
        # Private files may become unreadable (unpublished, consent withdrawn): browsers revalidate every time.
        response.headers["Cache-Control"] = "private, no-cache"
    return response


def content_disposition(name: str, inline: bool) -> str:
    """``inline`` or ``attachment`` with an ASCII fallback name and the real one per RFC 5987 (Cyrillic works)."""
    disposition = "inline" if inline else "attachment"
    stem, dot, extension = name.rpartition(".")
    ascii_stem = unicodedata.normalize("NFKD", stem if dot else name).encode("ascii", "ignore").decode("ascii")
    ascii_stem = "".join(c for c in ascii_stem if c.isalnum() or c in " ._-").strip(" .") or "file"
    fallback = f"{ascii_stem}.{extension}" if dot and extension.isascii() else ascii_stem
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# -- template helpers -------------------------------------------------------------------------


@bp.app_template_global()
def file_url(stored: StoredFile) -> str:
    """The URL of a stored file, ending in its neutral public name (never the uploader's file name)."""
    return url_for("media.file", key=stored.key, filename=public_name(stored))


@bp.app_template_global("public_file_name")
def public_file_name(stored: StoredFile) -> str:
    """The neutral name, for what everyone sees alike (the published PDFs)."""
    return public_name(stored)


@bp.app_template_global("file_label")
def file_label_for_current_user(stored: StoredFile) -> str:
    """The file's name as the current user sees it: the original one for its uploader and moderators."""
    return file_label(current_user, stored)


@bp.app_template_global()
def thumbnail_url(stored: StoredFile) -> str | None:
    """The URL of a model's thumbnail, or None when it has none."""
    return url_for("media.thumbnail", key=stored.key) if stored.thumbnail_key else None


@bp.app_template_filter("filesize")
def filesize(size: int) -> str:
    """``1,5 МБ``: a size in bytes as people read it."""
    return human_size(size)


# -- commands ---------------------------------------------------------------------------------


bp.cli.add_command(inspect_command)


@bp.cli.command("cleanup")
@click.option("--hours", default=24, show_default=True, type=click.IntRange(min=1), help="Возраст в часах.")
def cleanup_command(hours: int) -> None:
    """Remove pending uploads older than HOURS and stray files that no database row names."""
    rows, strays = cleanup_pending(dt.timedelta(hours=hours))
    click.echo(f"Удалено незавершённых загрузок: {rows}, лишних файлов на диске: {strays}.")
