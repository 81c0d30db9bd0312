"""Search never goes dark: the live generation, else the previous one, else the database.

The search page asks :func:`engine` for what to search. On the normal path that is the Whoosh index itself, after
one check that it opened (``exists()``, which opens it once per generation and process anyway). When the live
generation cannot be read — the index folder deleted, a segment file truncated — the page is answered:

1. from the previous generation (a rebuild keeps it until the next one), newest first;
2. where none is readable, from the database: the stored documents (``search_document``, kept by the indexer with
   the index) through SQLite FTS5 or PostgreSQL full-text search, with the same words, filters and paging, newest
   first, and the notice :data:`NOTICE` on the page.

Either way a rebuild starts in a background thread of this process, once (not per request): another one is
started only if none is running and the last began more than :data:`RETRY_SECONDS` ago. It waits for the write
lock, does nothing if another process repaired the index meanwhile, and bumps the page cache's content
generation when it is done, so that no page kept while search was degraded outlives it. A generation found
unreadable is remembered per process and not tried again; a rebuild makes a new one.
"""

import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import select
from sqlalchemy import text as sql

from catalogue import page_cache
from catalogue.extensions import db
from catalogue.search import doctor, indexer, spelling, stored
from catalogue.search.backend import EngineQuery, EngineResult
from catalogue.search.whoosh_backend import _GENERATION, WhooshBackend

log = logging.getLogger(__name__)

NOTICE = "Поиск обновляется: результаты могут быть неполными."
RETRY_SECONDS = 60.0
REBUILD_LOCK_TIMEOUT = 300.0


@dataclass
class _IndexState:
    unreadable: set[str] = field(default_factory=set)  # generation names found unreadable
    rebuild: threading.Thread | None = None
    started: float = float("-inf")
    pinned: dict[str, WhooshBackend] = field(default_factory=dict)  # previous generations opened for searching


_states: dict[str, _IndexState] = {}
_lock = threading.Lock()


def _state(whoosh: WhooshBackend) -> _IndexState:
    with _lock:
        return _states.setdefault(str(whoosh.root), _IndexState())


class _Generation(WhooshBackend):
    """One named generation of an index, searched as if it were the live one."""

    def __init__(self, base: WhooshBackend, name: str):
        super().__init__(base.root, base.stemmer)
        self.name = name

    def current_name(self) -> str | None:
        return self.name


def usable(whoosh: WhooshBackend) -> bool:
    """The live generation opens and has not been found unreadable in this process."""
    try:
        return whoosh.exists() and whoosh.current_name() not in _state(whoosh).unreadable
    except Exception as e:  # a torn table of contents, a file gone
        log.error("Search index: the live generation cannot be opened (%s: %s)", type(e).__name__, e)
        doctor.release(e)
        return False


def _nothing_to_index(whoosh: WhooshBackend) -> bool:
    """No index because nothing was ever indexed (a new site): an empty answer, not a broken index to rebuild."""
    try:
        if whoosh.exists():
            return False
    except Exception:  # a torn table of contents: broken, not new
        return False
    return db.session.scalar(select(stored.SearchDocumentRow.key).limit(1)) is None


class ResilientSearch:
    """The engine of one search page: what :mod:`catalogue.search.service` calls ``search``, ``analyze`` and
    ``dictionary`` on."""

    def __init__(self, app: Flask, whoosh: WhooshBackend):
        self.app = app
        self.whoosh = whoosh
        self.current: WhooshBackend | None = whoosh if usable(whoosh) or _nothing_to_index(whoosh) else None
        self.notice: str | None = None
        if self.current is None:
            self._degrade()

    def _degrade(self) -> None:
        start_rebuild(self.app, self.whoosh)
        self.current = self._previous()
        if self.current is None:
            self.notice = NOTICE

    def _previous(self) -> WhooshBackend | None:
        """The newest other generation that can be searched (the one a rebuild is writing has no segments yet)."""
        state = _state(self.whoosh)
        live = self.whoosh.current_name()
        try:
            found = [p for p in self.whoosh.root.iterdir() if p.is_dir() and _GENERATION.fullmatch(p.name)]
            names = [p.name for p in sorted(found, key=lambda p: p.stat().st_mtime_ns, reverse=True)]
        except OSError:
            return None
        for name in names:
            if name == live or name in state.unreadable:
                continue
            generation = state.pinned.get(name) or _Generation(self.whoosh, name)
            try:
                if generation.exists() and generation._open()[1].doc_count_all():
                    state.pinned = {name: generation}
                    return generation
            except Exception as e:  # tried again next time: it may be a rebuild's, half written
                log.error("Search index: generation %s cannot be opened (%s: %s)", name, type(e).__name__, e)
                doctor.release(e)
        return None

    def _broken(self, error: Exception) -> None:
        name = self.current.current_name() if self.current is not None else None
        log.error("Search index: generation %s is unreadable (%s: %s)", name, type(error).__name__, error)
        if name:
            _state(self.whoosh).unreadable.add(name)
        self._degrade()

    def search(self, query: EngineQuery) -> EngineResult:
        while self.current is not None:
            try:
                return self.current.search(query)
            except Exception as e:  # a truncated or missing segment file
                self._broken(e)
                doctor.release(e)
        return database_search(self.whoosh, query)

    def analyze(self, text: str) -> list[str]:
        return self.whoosh.analyze(text)  # the analysis needs no index

    def dictionary(self) -> spelling.Dictionary:
        """The readable generation's words (typos, a word being typed); none while the database answers."""
        if self.current is None:
            return spelling.EMPTY
        try:
            return self.current.dictionary()
        except Exception as e:
            self._broken(e)
            doctor.release(e)
            return spelling.EMPTY


def engine(app: Flask):
    """What the search page searches: see the module docstring."""
    whoosh = indexer.backend(app)
    if not isinstance(whoosh, WhooshBackend):
        indexer.sync_pending(app)
        return whoosh
    resilient = ResilientSearch(app, whoosh)
    if resilient.current is whoosh:  # a broken index is the background rebuild's, not this request's
        indexer.sync_pending(app)
    return resilient


# -- the database's answer ---------------------------------------------------------------------------------


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _clauses(whoosh: WhooshBackend, query: EngineQuery) -> tuple[list[list[list[str]]], list[list[str]]]:
    """The query as stems: clauses (each a choice of items, an item all its stems) and excluded items."""
    clauses = []
    for clause in query.parsed.clauses:
        items = [terms for terms in (whoosh.analyze(item.text) for item in clause) if terms]
        if items:
            clauses.append(items)
    excluded = [terms for terms in (whoosh.analyze(item.text) for item in query.parsed.excluded) if terms]
    return clauses, excluded


def _fts5(clauses, excluded, any_word: bool) -> str:
    def item(stems):
        return "(" + " AND ".join('"' + stem.replace('"', '""') + '"*' for stem in stems) + ")"

    joined = (" OR " if any_word else " AND ").join("(" + " OR ".join(map(item, c)) + ")" for c in clauses)
    return joined + "".join(f" NOT {item(stems)}" for stems in excluded)


def _tsquery(clauses, excluded, any_word: bool) -> str:
    def item(stems):
        return "(" + " & ".join("'" + stem.replace("\\", "").replace("'", "''") + "':*" for stem in stems) + ")"

    joined = (" | " if any_word else " & ").join("(" + " | ".join(map(item, c)) + ")" for c in clauses)
    return joined + "".join(f" & !{item(stems)}" for stems in excluded)


def database_search(whoosh: WhooshBackend, query: EngineQuery) -> EngineResult:
    """``query`` answered from the stored documents (newest first; no facet counts)."""
    clauses, excluded = _clauses(whoosh, query)
    searched = bool(clauses or excluded)
    terms = [stem for clause in clauses for stems in clause for stem in stems]
    conditions, params = [], {}
    joins = ""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    if clauses:
        if sqlite:
            joins = " JOIN search_document_fts ON search_document_fts.rowid = search_document.rowid"
            conditions.append("search_document_fts MATCH :words")
            params["words"] = _fts5(clauses, excluded, query.any_word)
        else:
            conditions.append(f"{stored.WORDS} @@ to_tsquery('simple', :words)")
            params["words"] = _tsquery(clauses, excluded, query.any_word)
    elif excluded:  # only words that must not be there: everything else
        if sqlite:
            conditions.append(
                "search_document.rowid NOT IN "
                "(SELECT rowid FROM search_document_fts WHERE search_document_fts MATCH :words)"
            )
            params["words"] = _fts5([[stems] for stems in excluded], [], any_word=True)
        else:
            conditions.append(f"NOT {stored.WORDS} @@ to_tsquery('simple', :words)")
            params["words"] = _tsquery([[stems] for stems in excluded], [], any_word=True)
    for number, (key, value) in enumerate(sorted(query.filters.items())):
        conditions.append(f"search_document.facets LIKE :facet{number} ESCAPE '\\'")
        params[f"facet{number}"] = f"%|{_like(key)}={_like(value)}|%"
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    source = f"FROM search_document{joins}{where}"
    try:
        total = db.session.execute(sql(f"SELECT count(*) {source}"), params).scalar() or 0
        keys = list(
            db.session.scalars(
                sql(
                    f"SELECT search_document.key {source} "
                    "ORDER BY search_document.date IS NULL, search_document.date DESC, search_document.key "
                    "LIMIT :limit OFFSET :offset"
                ),
                params | {"limit": query.limit, "offset": query.offset},
            )
        )
    except Exception:
        db.session.rollback()
        log.exception("Search from the database failed")
        return EngineResult([], 0, {}, terms, searched=searched)
    return EngineResult(keys, total, {}, terms, searched=searched)


# -- the rebuild in the background -------------------------------------------------------------------------


def start_rebuild(app: Flask, whoosh: WhooshBackend) -> threading.Thread | None:
    """A rebuild in a background thread, unless one runs or began less than :data:`RETRY_SECONDS` ago. Not in a
    process beside a separate indexer (``SEARCH_SYNC_IN_PROCESS=0``): the index has one writer, and its watcher
    rebuilds a missing or unreadable index itself."""
    if not app.config["SEARCH_SYNC_IN_PROCESS"]:
        return None
    state = _state(whoosh)
    with _lock:
        if state.rebuild is not None and state.rebuild.is_alive():
            return state.rebuild
        if time.monotonic() - state.started < RETRY_SECONDS:
            return None
        state.started = time.monotonic()
        state.rebuild = threading.Thread(target=_rebuild, args=(app,), name="search-rebuild", daemon=True)
        state.rebuild.start()
        return state.rebuild


def rebuilding(app: Flask) -> threading.Thread | None:
    """The background rebuild of ``app``'s index, if one was started in this process."""
    whoosh = indexer.backend(app)
    return _state(whoosh).rebuild if isinstance(whoosh, WhooshBackend) else None


def _rebuild(app: Flask) -> None:
    with app.app_context():
        whoosh = indexer.backend()
        try:
            with whoosh.write_lock(REBUILD_LOCK_TIMEOUT):
                if usable(whoosh):
                    log.info("Search index: repaired meanwhile by another process")
                    return
                log.warning("Search index: unreadable or missing, rebuilding it in the background")
                count = indexer._rebuild_locked(whoosh)
                # Written just now: whatever a search met while it was being written does not count against it.
                _state(whoosh).unreadable.discard(whoosh.current_name())
            page_cache.bump(db.session)
            db.session.commit()
            log.warning("Search index: rebuilt in the background (%s items)", count)
        except Exception:
            db.session.rollback()
            log.exception("Search index: the background rebuild failed")
        finally:
            db.session.remove()
