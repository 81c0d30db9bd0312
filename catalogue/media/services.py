"""What people and features do with files: store uploads, keep them pending, claim, list and delete them.

A form with files works like this, so that nothing a person uploaded is lost when another field fails:

1. each valid file is stored at once with no owner (*pending*), :func:`store_upload` commits;
2. the page comes back with the pending files' keys in hidden inputs (see ``forms.UploadField``);
3. when the whole form is valid, the feature's service creates its object and calls :func:`claim_files`
   in the same transaction, which attaches only the actor's own pending files.

Files are removed from disk only after the transaction that deleted their rows commits.
"""

import datetime as dt
import hashlib
import time
from collections.abc import Iterable
from functools import partial

from flask import current_app
from sqlalchemy import and_, func, not_, or_, select

from catalogue.accounts.models import User
from catalogue.clock import utcnow
from catalogue.extensions import db
from catalogue.media import access, storage
from catalogue.media.errors import MiB, UploadError, human_size
from catalogue.media.models import StoredFile
from catalogue.media.thumbnails import render_thumbnail, up_axis
from catalogue.media.validation import ValidatedUpload
from catalogue.observability import Check, health_check
from catalogue.permissions import PermissionDenied
from catalogue.unit_of_work import after_commit

PENDING_LIFETIME = dt.timedelta(hours=24)
MAX_PENDING_PER_USER = 100
# Keys taken from one form submission; more is not a person using a form.
MAX_KEYS = 100
THUMBNAIL_SIZE = (480, 360)
DEFAULT_QUOTA_MB = 500
# The workflow's state of published items: their files no longer count against the quota.
PUBLISHED = "published"


# -- storing ----------------------------------------------------------------------------------


def store_upload(
    actor,
    validated: ValidatedUpload,
    owner_type: str | None = None,
    owner_id: int | None = None,
    *,
    derived: bool = False,
) -> StoredFile:
    """Write a validated upload (and a model's thumbnail) to disk and record it; commits.

    The slow part (the thumbnail, the digest, writing to disk) happens before the transaction begins, so
    that no write lock is held meanwhile; the transaction only checks the limits and records the row.
    Without an owner the file is pending: only ``actor`` sees it until a feature claims it. A ``derived``
    file (made by the site from an accepted one, e.g. a model for the viewer) is not held to the quota.

    :raise PermissionDenied: ``actor`` is not a logged-in, active user.
    :raise UploadError: ``actor`` already has too many pending uploads, or the file does not fit their quota.
    """
    thumbnail = _thumbnail(validated)
    digest = hashlib.sha256(validated.data).hexdigest()
    written: list[str] = []
    try:
        key = _write(validated.data, written)
        thumbnail_key = _write(thumbnail, written) if thumbnail else None
        _require_user(actor)
        _lock_account(actor)
        if owner_type is None and _pending_count(actor) >= MAX_PENDING_PER_USER:
            raise UploadError(
                "Слишком много незавершённых загрузок. Сохраните или отмените начатые формы и попробуйте снова."
            )
        if not derived:
            _check_quota(actor, validated)
        stored = StoredFile(
            key=key,
            kind=validated.kind,
            media_type=validated.media_type,
            original_name=validated.filename,
            extension=validated.extension,
            size=validated.size,
            sha256=digest,
            facts=validated.facts,
            thumbnail_key=thumbnail_key,
            uploaded_by_id=actor.id,
            owner_type=owner_type,
            owner_id=owner_id,
        )
        db.session.add(stored)
        db.session.commit()
    except BaseException:
        # No row, no file: a refusal or a failed commit must not leave orphans on disk.
        db.session.rollback()
        for written_key in written:
            storage.delete(written_key)
        raise
    return stored


def release_transaction() -> None:
    """End the session's transaction before slow work (parsing a file, rendering), so that no lock is held.

    A writing request on SQLite holds the database's write lock from its first query (``BEGIN IMMEDIATE``);
    checking an upload takes seconds, and everybody else's writes would wait that long. Whatever the
    session holds is committed, as storing the upload would commit it next anyway.
    """
    session = db.session()
    if session.in_transaction():
        session.commit()


def _require_user(actor) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied


def _lock_account(actor) -> None:
    """Serialize one account's uploads on PostgreSQL, so that two at once cannot both fit the last of a quota."""
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())


def _pending_count(actor) -> int:
    query = select(func.count(StoredFile.id)).where(
        StoredFile.uploaded_by_id == actor.id, StoredFile.owner_type.is_(None)
    )
    return db.session.scalar(query) or 0


def quota_bytes() -> int:
    """The most bytes of unpublished files one account may hold (``UPLOAD_QUOTA_MB``)."""
    return int(current_app.config.get("UPLOAD_QUOTA_MB", DEFAULT_QUOTA_MB)) * MiB


def unpublished_bytes(actor) -> int:
    """What ``actor``'s files take that are not published: pending uploads and files of unpublished items.

    One query, whatever the number of files: owners are compared by their type's published ids.
    """
    published = [
        and_(
            StoredFile.owner_type == owner_type,
            StoredFile.owner_id.in_(select(model.id).where(model.status == PUBLISHED)),
        )
        for owner_type, model in access.owner_models().items()
    ]
    query = select(func.coalesce(func.sum(StoredFile.size), 0)).where(StoredFile.uploaded_by_id == actor.id)
    if published:
        # Pending files have no owner type, and NOT of a comparison with NULL is NULL: they are named apart.
        query = query.where(or_(StoredFile.owner_type.is_(None), not_(or_(*published))))
    return int(db.session.scalar(query) or 0)


def _check_quota(actor, validated: ValidatedUpload) -> None:
    """:raise UploadError: the file would take ``actor`` over the quota; the message names the limit and the use."""
    limit = quota_bytes()
    used = unpublished_bytes(actor)
    if used + validated.size > limit:
        raise UploadError(
            f"Файл «{validated.filename}» ({human_size(validated.size)}) не помещается в квоту: "
            f"неопубликованные файлы занимают {human_size(used)} из {human_size(limit)}. "
            "Удалите ненужные файлы из черновиков или дождитесь публикации и попробуйте снова."
        )


def _write(data: bytes, written: list[str]) -> str:
    key = storage.new_key()
    storage.write(key, data)
    written.append(key)
    return key


def _thumbnail(validated: ValidatedUpload) -> bytes | None:
    """A model's PNG thumbnail; None for other files, or when rendering fails (the upload still counts)."""
    if validated.triangles is None:
        return None
    try:
        return render_thumbnail(
            validated.triangles, THUMBNAIL_SIZE, up=up_axis(validated.format), colours=validated.colours
        )
    except Exception:  # a thumbnail is a nicety: log it, keep the model
        current_app.logger.exception("thumbnail of %s failed", validated.filename)
        return None


# -- pending files and owners -----------------------------------------------------------------


def pending_files(actor, keys: Iterable[str]) -> list[StoredFile]:
    """``actor``'s own pending files among ``keys``, in the order given; other keys are ignored."""
    wanted = _clean_keys(keys)
    if not wanted or actor is None or not getattr(actor, "is_authenticated", False):
        return []
    rows = db.session.scalars(
        select(StoredFile).where(
            StoredFile.key.in_(wanted), StoredFile.uploaded_by_id == actor.id, StoredFile.owner_type.is_(None)
        )
    )
    by_key = {f.key: f for f in rows}
    return [by_key[k] for k in wanted if k in by_key]


def claim_files(actor, keys: Iterable[str], owner_type: str, owner_id: int) -> list[StoredFile]:
    """Attach ``actor``'s pending files among ``keys`` to the owner; the caller commits.

    Keys of files that another user uploaded, or that already belong to something, are ignored.
    """
    files = pending_files(actor, keys)
    for stored in files:
        stored.owner_type, stored.owner_id = owner_type, owner_id
    db.session.flush()
    return files


def files_of(owner_type: str, owner_ids: Iterable[int]) -> dict[int, list[StoredFile]]:
    """The files of each owner, oldest first, in one query; owners without files get an empty list."""
    ids = sorted(set(owner_ids))
    result: dict[int, list[StoredFile]] = {owner_id: [] for owner_id in ids}
    if not ids:
        return result
    rows = db.session.scalars(
        select(StoredFile)
        .where(StoredFile.owner_type == owner_type, StoredFile.owner_id.in_(ids))
        .order_by(StoredFile.owner_id, StoredFile.created_at, StoredFile.id)
    )
    for stored in rows:
        result[stored.owner_id].append(stored)
    return result


def file_by_key(key: str) -> StoredFile | None:
    if not storage.KEY_PATTERN.fullmatch(key or ""):
        return None
    return db.session.scalar(select(StoredFile).where(StoredFile.key == key))


def _clean_keys(keys: Iterable[str]) -> list[str]:
    """Well-formed keys, without repeats, at most ``MAX_KEYS``."""
    seen: dict[str, None] = {}
    for key in keys:
        if isinstance(key, str) and storage.KEY_PATTERN.fullmatch(key):
            seen.setdefault(key)
        if len(seen) >= MAX_KEYS:
            break
    return list(seen)


# -- deleting ---------------------------------------------------------------------------------


def delete_file(stored_file: StoredFile) -> None:
    """Delete the row now and the file (and thumbnail) from disk once the caller commits."""
    keys = [stored_file.key] + ([stored_file.thumbnail_key] if stored_file.thumbnail_key else [])
    store = storage.backend()  # bound now: the removal runs after the commit
    for name in [storage.name_for(k) for k in keys]:
        after_commit(partial(store.delete, name))
    db.session.delete(stored_file)


def delete_files_of(owner_type: str, owner_id: int) -> int:
    """Delete every file of one owner (when the owner itself is deleted); the caller commits."""
    files = files_of(owner_type, [owner_id])[owner_id]
    for stored in files:
        delete_file(stored)
    return len(files)


def discard_pending(actor, keys: Iterable[str]) -> int:
    """Delete ``actor``'s own pending files among ``keys`` (the "remove" boxes of a form); commits."""
    files = pending_files(actor, keys)
    for stored in files:
        delete_file(stored)
    db.session.commit()
    return len(files)


def cleanup_pending(older_than: dt.timedelta = PENDING_LIFETIME) -> tuple[int, int]:
    """Remove pending files older than ``older_than``, and stray files on disk without a row; commits.

    :return: (pending rows deleted, stray files removed).
    """
    cutoff = utcnow() - older_than
    stale = db.session.scalars(
        select(StoredFile).where(StoredFile.owner_type.is_(None), StoredFile.created_at < cutoff)
    ).all()
    for stored in stale:
        delete_file(stored)
    db.session.commit()
    return len(stale), _sweep_strays(time.time() - older_than.total_seconds())


def _sweep_strays(cutoff: float) -> int:
    """Remove old files that no row names (a crash between writing and committing leaves such)."""
    known = set(db.session.scalars(select(StoredFile.key)))
    known |= set(db.session.scalars(select(StoredFile.thumbnail_key).where(StoredFile.thumbnail_key.is_not(None))))
    removed = 0
    for key, modified in storage.stored_files():
        if modified < cutoff and key not in known:
            storage.delete(key)
            removed += 1
    return removed


@health_check
def _storage() -> Check:
    """The stored files are there: the newest file the database names is in the storage. A host whose shared
    ``MEDIA_ROOT`` is not mounted fails here, and the load balancer takes it out before a visitor gets a 404."""
    key = db.session.scalar(select(StoredFile.key).order_by(StoredFile.id.desc()).limit(1))
    db.session.rollback()
    if key is None:
        return Check("storage", True, {"newest_file_present": None})
    present = storage.exists(key)
    return Check("storage", present, {"newest_file_present": present})
