"""The embedded engine: one Whoosh index under ``<instance>/search/``.

Layout of the directory::

    CURRENT       the name of the live index generation (replaced atomically by a rebuild)
    g-.../        index generations: the live one, and the previous one until the next rebuild
    write.lock    held by the one writer (the indexer, or a rebuild for its whole duration)
    write.lock.holder  its holder's pid and start time (a dead holder's lock is broken: ``locks``)

Whoosh analyses, stores and merges; queries are evaluated by :mod:`catalogue.search.columnar` over the same
segments with numpy (Whoosh's own matchers were several times too slow for facet counts at 100,000 items).
Tuning for indexing speed, measured with ``python -m benchmarks search-bench``: text is analysed once per
field into a list of terms (the same list gives the field's length); the text field keeps frequencies but
no positions; every indexed field keeps a length column (without one Whoosh looks for the missing file once
per posting); a rebuild writes without per-block length statistics and can use several processes.
"""

import datetime as dt
import os
import re
import secrets
import shutil
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Frequency
from whoosh.index import LockError
from whoosh.system import pack_uint

from catalogue.search import columnar, locks, spelling
from catalogue.search.analysis import DEFAULT_STEMMER, russian_analyzer
from catalogue.search.backend import FACET_KEYS, EngineQuery, EngineResult, IndexEntry, IndexUnavailable
from catalogue.search.query import ParsedQuery

POINTER = "CURRENT"
LOCK = "write.lock"
_GENERATION = re.compile(r"g-[0-9]{8}T[0-9]{6}-[0-9a-f]{8}")


class TermFrequencies(Frequency):
    """Term frequencies of an already analysed list of terms (or of a text, analysed here).

    The text field keeps no positions: a quoted phrase must stand together in a title, and in the text its
    words must all be present. Positions would make indexing a sixth slower for little gain here.
    """

    def word_values(self, value, analyzer, **kwargs):
        terms = value if isinstance(value, list | tuple) else analyzer.terms(value)
        boost = self.field_boost
        for word, freq in Counter(terms).items():
            yield word, freq, freq * boost, pack_uint(freq)


class FacetValues(Frequency):
    """Comma-separated keys, each indexed as it is (no analysis)."""

    def word_values(self, value, analyzer, **kwargs):
        for word in {v.strip() for v in value.split(",")}:
            if word:
                yield word, 1, self.field_boost, pack_uint(1)


class BulkCodec(W3Codec):
    """Whoosh's codec, minus the per-block length statistics, for building a whole index.

    Whoosh reads those statistics back once per posting while writing; only its own matchers' block
    skipping uses them, and queries here do not go through those matchers.
    """

    length_stats = False


def _with_format(field, format_):
    field.format = format_
    return field


def make_schema(stemmer: str = DEFAULT_STEMMER) -> Schema:
    analyzer = russian_analyzer(stemmer)
    facets = {key: _with_format(KEYWORD(commas=True, scorable=True), FacetValues()) for key in FACET_KEYS}
    return Schema(
        key=ID(unique=True, stored=True),
        digest=STORED(),
        title=TEXT(analyzer=analyzer),
        text=_with_format(TEXT(analyzer=analyzer, phrase=False), TermFrequencies()),
        # Columns only (no postings): the date sorts, the lengths weigh BM25.
        date=COLUMN(NumericColumn("q", default=0)),
        title_len=COLUMN(NumericColumn("I", default=0)),
        text_len=COLUMN(NumericColumn("I", default=0)),
        **facets,
    )


def _timestamp(value: dt.datetime | None) -> int:
    """Microseconds since 1970 (items published in the same second still sort by time)."""
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp() * 1_000_000)


def whoosh_fields(entry: IndexEntry, analyzer) -> dict:
    title, text = analyzer.terms(entry.title), analyzer.terms(entry.text)
    fields = {
        "key": entry.key,
        "digest": entry.digest,
        "title": title,
        "text": text,
        "title_len": len(title),
        "text_len": len(text),
        "date": _timestamp(entry.date),
    }
    for key in FACET_KEYS:
        values = entry.facets.get(key)
        if values:
            fields[key] = ",".join(values)
    return fields


class WhooshBackend:
    """Whoosh in a directory; see the module docstring for the layout."""

    def __init__(self, root: str | os.PathLike, stemmer: str = DEFAULT_STEMMER):
        self.root = Path(root)
        self.stemmer = stemmer
        self.schema = make_schema(stemmer)
        self.analyzer = russian_analyzer(stemmer)
        self._indexes: dict[str, whoosh_index.Index] = {}

    # -- where the live index is

    def current_name(self) -> str | None:
        try:
            name = (self.root / POINTER).read_text().strip()
        except OSError:
            return None
        return name if _GENERATION.fullmatch(name) else None

    def _open(self) -> tuple[str, whoosh_index.Index] | None:
        name = self.current_name()
        if name is None:
            return None
        ix = self._indexes.get(name)
        if ix is None:
            path = self.root / name
            if not whoosh_index.exists_in(str(path)):
                return None
            ix = whoosh_index.open_dir(str(path), schema=self.schema)
            self._indexes = {name: ix}
        return name, ix

    def exists(self) -> bool:
        return self._open() is not None

    @contextmanager
    def searcher(self):
        """(generation name, searcher) of the live index, or (None, None) when there is none yet."""
        opened = self._open()
        if opened is None:
            yield None, None
            return
        name, ix = opened
        try:
            searcher = ix.searcher()
        except OSError:  # swapped and removed between reading CURRENT and opening: read CURRENT again
            self._indexes = {}
            opened = self._open()
            if opened is None:
                yield None, None
                return
            name, ix = opened
            searcher = ix.searcher()
        try:
            yield name, searcher
        finally:
            searcher.close()

    # -- writing

    @contextmanager
    def write_lock(self, timeout: float):
        """The one-writer lock (:mod:`catalogue.search.locks`: a dead holder's lock is broken)."""
        with locks.write_lock(self.root, timeout):
            yield

    def apply(self, upserts: Iterable[IndexEntry], deletes: Iterable[str]) -> None:
        upserts, deletes = list(upserts), list(deletes)
        if not upserts and not deletes:
            return
        opened = self._open()
        if opened is None:
            raise IndexUnavailable("no search index: rebuild it")
        try:
            writer = opened[1].writer(timeout=5.0)
        except LockError as e:
            raise IndexUnavailable("the search index is locked") from e
        try:
            for key in deletes:
                writer.delete_by_term("key", key)
            for entry in upserts:
                writer.update_document(**whoosh_fields(entry, self.analyzer))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        words = spelling.surface_forms(t for e in upserts for t in (e.title, e.text))
        words.subtract(spelling.surface_forms(e.names for e in upserts if e.names))  # never offer people's names
        spelling.add(self.root / opened[0], words)

    def rebuild(self, entries: Iterable[IndexEntry], procs: int = 1, limitmb: int = 512) -> int:
        """Write ``entries`` into a new generation, then point ``CURRENT`` at it; returns how many."""
        name = f"g-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        path = self.root / name
        path.mkdir(parents=True)
        try:
            ix = whoosh_index.create_in(str(path), self.schema)
            words: Counter = Counter()
            count = self._write_all(ix, spelling.counting(entries, words), procs=procs, limitmb=limitmb)
            spelling.write(path, words)
            self._swap(name)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return count

    def _write_all(self, ix, entries: Iterable[IndexEntry], procs: int, limitmb: int) -> int:
        options: dict = {"limitmb": limitmb, "codec": BulkCodec()}
        if procs > 1:
            # Each process writes its own segment; they are kept apart rather than merged at the end.
            options.update(procs=procs, multisegment=True)
        writer = ix.writer(**options)
        count = 0
        try:
            for entry in entries:
                writer.add_document(**whoosh_fields(entry, self.analyzer))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def _swap(self, name: str) -> None:
        previous = self.current_name()
        temporary = self.root / f"{POINTER}.{secrets.token_hex(4)}"
        with open(temporary, "w") as f:
            f.write(name)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, self.root / POINTER)  # atomic: a reader sees the old name or the new one
        # Searches that opened the previous generation just now may still read it: it goes at the next rebuild.
        for child in self.root.iterdir():
            if child.is_dir() and _GENERATION.fullmatch(child.name) and child.name not in (name, previous):
                shutil.rmtree(child, ignore_errors=True)

    def digests(self) -> Iterator[tuple[str, str]]:
        with self.searcher() as (_name, searcher):
            if searcher is None:
                return
            for fields in searcher.all_stored_fields():
                yield fields["key"], fields.get("digest", "")

    # -- reading

    def analyze(self, text: str) -> list[str]:
        return self.analyzer.terms(text)

    def plan(self, parsed: ParsedQuery, any_word: bool = False) -> columnar.Plan | None:
        """``parsed`` in index terms; None when it has no searchable word (e.g. only stop words)."""
        clauses = []
        weights: dict[str, float] = {}
        facets: dict[int, list[tuple[str, str]]] = {}
        for clause in parsed.clauses:
            items = []
            for item in clause:
                terms = self.analyze(item.text)
                if terms:
                    items.append(terms)
                    weights.update({t: max(weights.get(t, 0.0), item.weight) for t in terms})
            if items:
                tagged = [item.facet for item in clause if item.facet is not None]
                if tagged:
                    facets[len(clauses)] = tagged
                clauses.append(items)
        excluded = [terms for terms in (self.analyze(item.text) for item in parsed.excluded) if terms]
        if not clauses and not excluded:
            return None
        if parsed.prefix and clauses:
            weights.update(spelling.expand_prefix(self, parsed, clauses))
        return columnar.Plan(clauses, excluded, any_word, weights, facets)

    def dictionary(self) -> spelling.Dictionary:
        """The live generation's dictionary of surface forms (see :mod:`catalogue.search.spelling`)."""
        name = self.current_name()
        return spelling.load(self.root / name) if name else spelling.EMPTY

    def _segments(self, name: str, searcher) -> list[columnar.Segment]:
        root = str(self.root / name)
        segments = []
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            if reader.segment() is None:
                continue  # an index with nothing in it yet: a reader without a segment
            segment_id = reader.segment().segment_id()
            table = columnar.segment_table(root, segment_id, reader)
            live = columnar.live_mask(root, segment_id, reader, table.size)
            segments.append(columnar.Segment(root, segment_id, leaf, offset, table, live))
        columnar.forget(str(self.root), root, {s.name for s in segments})
        return segments

    def search(self, query: EngineQuery) -> EngineResult:
        plan = self.plan(query.parsed, query.any_word)
        terms = plan.terms if plan is not None else []
        with self.searcher() as (name, searcher):
            if searcher is None:
                return EngineResult([], 0, {}, terms, searched=plan is not None)
            segments = self._segments(name, searcher)
            chosen = {facet: columnar.known_value_id(facet, value) for facet, value in query.filters.items()}
            outcome = columnar.run(
                segments,
                columnar.Statistics(searcher),
                plan,
                chosen,
                by_date=query.sort == "date",
                offset=query.offset,
                limit=query.limit,
            )
            keys = [searcher.stored_fields(docnum)["key"] for docnum in outcome.docnums]
        return EngineResult(
            keys, outcome.total, outcome.counts, terms, searched=plan is not None, complete=outcome.complete
        )
