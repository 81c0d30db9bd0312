"""Keeping the index true to the database, through the outbox, with one writer at a time.

The unit of work writes an outbox row ("look at item X again") in the same transaction as the change. The indexer,
holding the index's write lock:

1. reads a batch of outbox rows, loads those items, and builds their documents (public ones) or deletions;
2. writes them to the index and commits it;
3. only then deletes exactly the outbox rows it read.

A failure anywhere (index locked or missing, disk full, process killed) leaves the rows in place, and the
next run applies them: index writes are idempotent. An item changed again meanwhile has a newer row.

Where it runs: with ``SEARCH_SYNC_IN_PROCESS = True`` (the default, for one server process) right after the
commit that wrote outbox rows — after the response is sent when in a request, at once otherwise (commands,
tests) — and, as a safety net, before a search finds rows left over. With several worker processes set it
to False and run ``flask --app catalogue search sync --watch`` as its own process.
"""

import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from functools import partial

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import delete, func, select

from catalogue.database import reading
from catalogue.extensions import db
from catalogue.search import processes, registry, stored
from catalogue.search.backend import IndexEntry, IndexUnavailable, SearchBackend
from catalogue.search.outbox import SearchOutbox

log = logging.getLogger(__name__)

BATCH = 500
EXTENSION = "catalogue.search"
_AFTER_RESPONSE = "_catalogue_search_after_response"


def backend(app: Flask | None = None) -> SearchBackend:
    return (app or current_app).extensions[EXTENSION]


def entry_for(searchable: registry.SearchableType, obj) -> IndexEntry:
    """The index entry of one public item."""
    document = searchable.to_document(obj)
    facets = document.facet_values()
    facets["type"] = [searchable.key]
    date = document.date.isoformat() if document.date else None
    canonical = json.dumps([document.title, document.text, facets, date], ensure_ascii=False, sort_keys=True)
    return IndexEntry(
        key=f"{searchable.key}:{obj.id}",
        type=searchable.key,
        title=document.title,
        text=document.text,
        facets=facets,
        date=document.date,
        digest=hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest(),
        names=" ".join(document.names),
    )


# -- applying the outbox ------------------------------------------------------------------------------


@dataclass
class SyncReport:
    applied: int = 0  # outbox rows applied and removed
    upserted: int = 0
    deleted: int = 0
    rebuilt: int | None = None  # items written by a rebuild of a missing index
    error: str | None = None


def sync(lock_timeout: float = 10.0, batch: int = BATCH, rebuild_missing: bool = True) -> SyncReport:
    """Apply the whole outbox. An index that cannot be written is reported, not raised: the rows stay."""
    engine = backend()
    report = SyncReport()
    try:
        with engine.write_lock(lock_timeout):
            if not engine.exists():
                if not rebuild_missing:
                    raise IndexUnavailable("no search index: run `flask --app catalogue search rebuild`")
                report.rebuilt = _rebuild_locked(engine)
            while _apply_batch(engine, batch, report) == batch:
                pass
    except (IndexUnavailable, OSError) as e:
        db.session.rollback()
        report.error = str(e)
        log.warning("Search index not updated, the outbox keeps the changes: %s", e)
    return report


def _apply_batch(engine: SearchBackend, batch: int, report: SyncReport) -> int:
    with reading():  # no write lock while the items are read and their documents built
        try:
            rows, upserts, deletes = _read_batch(batch)
        finally:
            # End the reading transaction before the (slower) index write.
            db.session.rollback()
    if not rows:
        return 0
    engine.apply(upserts, deletes)
    # The index is committed: now, and only now, the rows may go; the stored documents follow the index.
    stored.write(upserts, deletes)
    for chunk in stored.chunks([row.id for row in rows], BATCH):
        db.session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(chunk)))
    db.session.commit()
    report.applied += len(rows)
    report.upserted += len(upserts)
    report.deleted += len(deletes)
    return len(rows)


def _read_batch(batch: int) -> tuple[list, list[IndexEntry], list[str]]:
    rows = db.session.execute(
        select(SearchOutbox.id, SearchOutbox.content_type, SearchOutbox.content_id)
        .order_by(SearchOutbox.id)
        .limit(batch)
    ).all()
    wanted: dict[str, set[int]] = {}
    for row in rows:
        wanted.setdefault(row.content_type, set()).add(row.content_id)
    upserts, deletes = [], []
    for type_key, ids in wanted.items():
        searchable = registry.get(type_key)
        found = {obj.id: obj for obj in searchable.load_items(sorted(ids))} if searchable else {}
        for item_id in sorted(ids):
            obj = found.get(item_id)
            if obj is not None and searchable.is_public(obj):
                upserts.append(entry_for(searchable, obj))
            else:
                deletes.append(f"{type_key}:{item_id}")
    return rows, upserts, deletes


# -- rebuilding and checking --------------------------------------------------------------------------


def public_entries(batch: int = BATCH, store: bool = False):
    """Every public item of every registered type, as index entries (one short transaction per batch);
    with ``store``, each batch's documents are stored (``search.stored``) in that transaction."""
    for searchable in registry.all_types():
        with reading():
            ids = list(db.session.scalars(searchable.public_id_query()))
            db.session.rollback()
        for chunk in stored.chunks(ids, batch):
            # Reading holds no write lock; the stored documents are written in a short transaction of their own.
            with reading():
                try:
                    loaded = searchable.load_items(chunk)
                    entries = [entry_for(searchable, obj) for obj in loaded if searchable.is_public(obj)]
                finally:
                    db.session.rollback()
            if store:
                stored.write(entries)
                db.session.commit()
            db.session.expunge_all()
            yield from entries


def rebuild(lock_timeout: float = 60.0, procs: int = 1, limitmb: int = 512) -> int:
    """Build a fresh index from the database and swap it in; searches go on meanwhile. Returns the count.

    :raise IndexUnavailable: another writer holds the lock for longer than ``lock_timeout``.
    """
    engine = backend()
    with engine.write_lock(lock_timeout):
        return _rebuild_locked(engine, procs=procs, limitmb=limitmb)


def _rebuild_locked(engine: SearchBackend, procs: int = 1, limitmb: int = 512) -> int:
    # The rows visible now are covered by the rebuild, which reads the items after this point; rows
    # committed later stay and are applied to the new index. The write lock is held throughout, so the
    # indexer cannot apply (and remove) rows to the old index meanwhile.
    with reading():
        covered = list(db.session.scalars(select(SearchOutbox.id)))
        db.session.rollback()
    keys: set[str] = set()

    def entries():
        for entry in public_entries(store=True):
            keys.add(entry.key)
            yield entry

    with processes.children_die_with_parent():
        count = engine.rebuild(entries(), procs=procs, limitmb=limitmb)
    stored.keep_only(keys)
    for chunk in stored.chunks(covered, BATCH):
        db.session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(chunk)))
    db.session.commit()
    return count


@dataclass
class CheckReport:
    indexed: int = 0
    public: int = 0
    missing: list[str] = field(default_factory=list)  # public, not in the index
    stale: list[str] = field(default_factory=list)  # in the index with an older version
    extra: list[str] = field(default_factory=list)  # in the index, not public (or gone)
    pending: int = 0  # outbox rows not yet applied

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.extra)


def check() -> CheckReport:
    """Compare the index with the database, item by item; it only reads, so it never holds the write lock."""
    with reading():
        return _check()


def _check() -> CheckReport:
    indexed = dict(backend().digests())
    documents = stored.digests()
    db.session.rollback()
    report = CheckReport(indexed=len(indexed))
    seen = set()
    for entry in public_entries():
        report.public += 1
        seen.add(entry.key)
        digest = indexed.get(entry.key)
        if digest is None:
            report.missing.append(entry.key)
        elif digest != entry.digest:
            report.stale.append(entry.key)
        if documents.get(entry.key) != entry.digest:
            report.stale.append(f"{entry.key} (stored text)")
    report.extra = sorted(key for key in indexed if key not in seen)
    report.extra += sorted(f"{key} (stored text)" for key in documents if key not in seen)
    report.pending = db.session.scalar(select(func.count()).select_from(SearchOutbox)) or 0
    db.session.rollback()
    return report


# -- in-process sync after commits --------------------------------------------------------------------


@dataclass
class _ProcessState:
    """One in-process sync at a time per index; a request for another while it runs makes it go round again."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    running: bool = False
    again: bool = False


_states: dict[str, _ProcessState] = {}
_states_lock = threading.Lock()


def _state(app: Flask) -> _ProcessState:
    key = str(getattr(backend(app), "root", id(app)))
    with _states_lock:
        return _states.setdefault(key, _ProcessState())


def sync_in_process(app: Flask) -> None:
    """Apply the outbox in this process, in a fresh application context (and so a fresh session)."""
    state = _state(app)
    with state.lock:
        if state.running:
            state.again = True
            return
        state.running = True
    try:
        while True:
            with app.app_context():
                sync(lock_timeout=app.config["SEARCH_LOCK_TIMEOUT"])
            with state.lock:
                if not state.again:
                    return
                state.again = False
    except Exception:
        # The rows are still in the outbox; the next sync applies them.
        log.exception("Search index sync failed")
    finally:
        with state.lock:
            state.running = False


def sync_pending(app: Flask) -> None:
    """The safety net before a search: apply rows left by a failed or deferred sync, if there are any."""
    if app.config["SEARCH_SYNC_IN_PROCESS"] and db.session.scalar(select(SearchOutbox.id).limit(1)) is not None:
        sync_in_process(app)


def sync_after_commit() -> None:
    """Queued by the outbox after a commit that wrote rows: apply them now, or after the response is sent."""
    if not has_app_context():
        return
    app = current_app._get_current_object()
    if EXTENSION not in app.extensions or not app.config["SEARCH_SYNC_IN_PROCESS"]:
        return
    if has_request_context():
        setattr(g, _AFTER_RESPONSE, True)
    else:
        sync_in_process(app)


def _after_request(response):
    if g.pop(_AFTER_RESPONSE, False):
        # After the response has been sent: the person does not wait for the index.
        response.call_on_close(partial(sync_in_process, current_app._get_current_object()))
    return response


def _teardown_request(_error) -> None:
    # A request context that produced no response (``test_request_context`` in a command, or a failure
    # before ``after_request``) still committed its changes: apply them now.
    if g.pop(_AFTER_RESPONSE, False):
        sync_in_process(current_app._get_current_object())


def install(app: Flask) -> None:
    """The after-response hook (the outbox's rows are written, and their sync queued, by the unit of work)."""
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)
