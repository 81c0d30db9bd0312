"""The small interface a search engine offers the rest of the site, and the data that crosses it.

The embedded default is :class:`catalogue.search.whoosh_backend.WhooshBackend`; ``SEARCH_BACKEND = "postgresql"``
chooses :class:`catalogue.search.postgres_backend.PostgresBackend`, PostgreSQL's full-text search over the same
analysis. A database engine writes in the caller's transaction (the indexer commits it).
"""

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from catalogue.search.query import ParsedQuery

FACET_KEYS = ("type", "age", "sphere", "municipality", "season", "nomination")
SORTS = ("relevance", "date")


class IndexUnavailable(Exception):
    """The index cannot be written now (locked by another writer, or its directory unusable)."""


@dataclass
class IndexEntry:
    """One item as the index stores it."""

    key: str  # "project:12"
    type: str
    title: str
    text: str
    facets: Mapping[str, list[str]]  # facet key -> values ("type" included)
    date: dt.datetime | None
    digest: str  # changes whenever the document does: ``search check`` compares it
    names: str = ""  # people's names in the text: kept out of the spelling dictionary (SearchDocument.names)


@dataclass
class EngineQuery:
    parsed: ParsedQuery
    filters: Mapping[str, str] = field(default_factory=dict)  # facet key -> the one chosen value
    sort: str = "relevance"  # or "date"; an empty query is always by date
    offset: int = 0
    limit: int = 10
    any_word: bool = False  # any clause will do, more clauses rank higher (``catalogue.search.ranking``)


@dataclass
class EngineResult:
    keys: list[str]  # one page of "type:id", best first
    total: int  # all matches with the filters applied
    # facet key -> value -> count; a chosen facet's counts ignore its own choice, so that one can switch.
    counts: dict[str, dict[str, int]]
    terms: list[str]  # the analysed query terms, for highlighting
    searched: bool = True  # False when the query had no searchable word (all results, newest first)
    complete: int | None = None  # of ``total``, the items with every word (with ``any_word``); None: all of them


class SearchBackend(Protocol):
    def search(self, query: EngineQuery) -> EngineResult: ...

    def dictionary(self):
        """The words of the index as published, with their counts (:class:`catalogue.search.spelling.Dictionary`)."""
        ...

    def write_lock(self, timeout: float) -> AbstractContextManager[None]:
        """The one-writer lock; :raise IndexUnavailable: not acquired within ``timeout`` seconds."""
        ...

    def exists(self) -> bool: ...

    def apply(self, upserts: Iterable[IndexEntry], deletes: Iterable[str]) -> None:
        """Upsert and delete in one commit (the caller holds the write lock)."""
        ...

    def rebuild(self, entries: Iterable[IndexEntry], procs: int = 1, limitmb: int = 512) -> int:
        """Build a new index from ``entries`` and swap it in (the caller holds the write lock)."""
        ...

    def digests(self) -> Iterator[tuple[str, str]]:
        """(key, digest) of every indexed item."""
        ...

    def analyze(self, text: str) -> list[str]: ...
