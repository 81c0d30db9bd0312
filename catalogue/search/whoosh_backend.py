"""The embedded engine: one Whoosh index under ``<instance>/search/``.

Layout of the directory::

    CURRENT       the name of the live index generation (replaced atomically by a rebuild)
    g-.../        index generations: the live one, and the previous one until the next rebuild
    write.lock    held by the one writer (the indexer, or a rebuild for its whole duration)

Facet counts do not go through Whoosh's grouping: for every index segment a table ``docnum -> facet value
ids`` (and the date) is read once from the facet fields' postings and kept in memory, as segments never change.
A query then costs one pass over its matching document numbers, counted in C by ``collections.Counter``.
"""

import datetime as dt
import heapq
import os
import re
import secrets
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh.codec.whoosh3 import W3Codec
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Frequency
from whoosh.system import pack_uint
from whoosh.util.filelock import FileLock

from catalogue.search.analysis import DEFAULT_STEMMER, russian_analyzer
from catalogue.search.backend import FACET_KEYS, EngineQuery, EngineResult, IndexEntry, IndexUnavailable
from catalogue.search.query import Item, ParsedQuery

TITLE_BOOST = 3.0
POINTER = "CURRENT"
LOCK = "write.lock"
_GENERATION = re.compile(r"g-[0-9]{8}T[0-9]{6}-[0-9a-f]{8}")
SUGGEST_MAX_WORDS = 6


class TermFrequencies(Frequency):
    """Term frequencies from the analyzer's ``terms()`` list instead of a stream of Token objects.

    The text field keeps no positions: a quoted phrase must stand together in a title, and in the text its
    words must all be present. Positions would make indexing a sixth slower for little gain here.
    """

    def word_values(self, value, analyzer, **kwargs):
        boost = self.field_boost
        for word, freq in Counter(analyzer.terms(value)).items():
            yield word, freq, freq * boost, pack_uint(freq)


class FacetValues(Frequency):
    """Comma-separated keys, each indexed as it is (no analysis)."""

    def word_values(self, value, analyzer, **kwargs):
        for word in {v.strip() for v in value.split(",")}:
            if word:
                yield word, 1, self.field_boost, pack_uint(1)


class BulkCodec(W3Codec):
    """Whoosh's codec, minus the per-block length statistics while building a whole index.

    Those statistics (read back from the length column once per posting) only let a query skip blocks
    that cannot reach the top; without them a block's bound is merely looser. Scores are unchanged.
    """

    length_stats = False


def _with_format(field, format_):
    field.format = format_
    return field


def make_schema(stemmer: str = DEFAULT_STEMMER) -> Schema:
    analyzer = russian_analyzer(stemmer)
    # Every indexed field is "scorable" (keeps a length column): for a field without one, Whoosh's writer
    # looks for the missing column file once per posting, which made indexing several times slower.
    facets = {key: _with_format(KEYWORD(commas=True, scorable=True), FacetValues()) for key in FACET_KEYS}
    return Schema(
        key=ID(unique=True, stored=True),
        digest=STORED(),
        title=TEXT(analyzer=analyzer),
        text=_with_format(TEXT(analyzer=analyzer, phrase=False), TermFrequencies()),
        date=COLUMN(NumericColumn("q", default=0)),  # a column only: sorting needs no postings
        **facets,
    )


def _timestamp(value: dt.datetime | None) -> int:
    if value is None:
        return 0
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp())


def whoosh_fields(entry: IndexEntry) -> dict:
    fields = {
        "key": entry.key,
        "digest": entry.digest,
        "title": entry.title,
        "text": entry.text,
        "date": _timestamp(entry.date),
    }
    for key in FACET_KEYS:
        values = entry.facets.get(key)
        if values:
            fields[key] = ",".join(values)
    return fields


# -- facet tables -------------------------------------------------------------------------------------

_value_ids: dict[tuple[str, str], int] = {}
_values: list[tuple[str, str]] = []
_intern_lock = threading.Lock()


def _value_id(facet: str, value: str) -> int:
    vid = _value_ids.get((facet, value))
    if vid is None:
        with _intern_lock:
            vid = _value_ids.get((facet, value))
            if vid is None:
                vid = len(_values)
                _values.append((facet, value))
                _value_ids[(facet, value)] = vid
    return vid


@dataclass
class FacetTable:
    values: list[tuple[int, ...]]  # global docnum -> facet value ids
    dates: list[int]  # global docnum -> publication timestamp


_segment_tables: dict[tuple[str, str], FacetTable] = {}
_searcher_tables: dict[tuple, FacetTable] = {}
_tables_lock = threading.Lock()


def _segment_table(path: str, reader) -> FacetTable:
    key = (path, reader.segment().segment_id())
    table = _segment_tables.get(key)
    if table is not None:
        return table
    size = reader.doc_count_all()
    per_doc: list[list[int]] = [[] for _ in range(size)]
    for facet in FACET_KEYS:
        for value in reader.field_terms(facet):
            vid = _value_id(facet, value)
            for docnum in reader.postings(facet, value).all_ids():
                per_doc[docnum].append(vid)
    dates = list(reader.column_reader("date")) if reader.has_column("date") else [0] * size
    table = FacetTable([tuple(v) for v in per_doc], dates)
    with _tables_lock:
        _segment_tables[key] = table
    return table


def _facet_table(path: str, searcher) -> FacetTable:
    leaves = searcher.leaf_searchers()
    key = (path, *(s.reader().segment().segment_id() for s, _ in leaves))
    table = _searcher_tables.get(key)
    if table is not None:
        return table
    parts = [_segment_table(path, s.reader()) for s, _ in leaves]
    if len(parts) == 1:
        table = parts[0]
    else:
        table = FacetTable(list(chain.from_iterable(p.values for p in parts)), list(chain.from_iterable(p.dates for p in parts)))
    live = {k[1] for k in [(path, s.reader().segment().segment_id()) for s, _ in leaves]}
    with _tables_lock:
        # Tables of segments merged away, and of older states of this index, are dropped.
        for old in [k for k in _searcher_tables if k[0] == path]:
            del _searcher_tables[old]
        for old in [k for k in _segment_tables if k[0] == path and k[1] not in live]:
            del _segment_tables[old]
        _searcher_tables[key] = table
    return table


def _count(docs: Iterable[int], table: FacetTable, chosen: dict[str, int]) -> tuple[Counter, list[int]]:
    """Facet value counts and the documents that pass every chosen value.

    A chosen facet is counted over the documents that pass all the *other* choices, so that its other
    values show what one would get by switching to them.
    """
    values = table.values
    if not chosen:
        docs = list(docs)
        return Counter(chain.from_iterable(map(values.__getitem__, docs))), docs
    docs = set(docs)
    passing_each = {facet: {d for d in docs if vid in values[d]} for facet, vid in chosen.items()}
    passing = set.intersection(*passing_each.values())
    counts = Counter(chain.from_iterable(map(values.__getitem__, passing)))
    for facet in chosen:
        others = [s for f, s in passing_each.items() if f != facet]
        near = (set.intersection(docs, *others) if others else docs) - passing_each[facet]
        near_counts = Counter(chain.from_iterable(map(values.__getitem__, near)))
        counts.update({vid: n for vid, n in near_counts.items() if _values[vid][0] == facet})
    return counts, list(passing)


# -- the backend ----------------------------------------------------------------------------------------


class WhooshBackend:
    """Whoosh in a directory; see the module docstring for the layout."""

    def __init__(self, root: str | os.PathLike, stemmer: str = DEFAULT_STEMMER):
        self.root = Path(root)
        self.stemmer = stemmer
        self.schema = make_schema(stemmer)
        self._analyzer = russian_analyzer(stemmer)
        self._indexes: dict[str, whoosh_index.Index] = {}

    # -- where the live index is

    def current_name(self) -> str | None:
        try:
            name = (self.root / POINTER).read_text().strip()
        except (FileNotFoundError, NotADirectoryError):
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
        """The live index's searcher, or None when there is no index yet."""
        opened = self._open()
        if opened is None:
            yield None, None
            return
        name, ix = opened
        searcher = ix.searcher()
        try:
            yield str(self.root / name), searcher
        finally:
            searcher.close()

    # -- writing

    @contextmanager
    def write_lock(self, timeout: float):
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise IndexUnavailable(f"cannot create {self.root}: {e}") from e
        lock = FileLock(str(self.root / LOCK))
        deadline = time.monotonic() + timeout
        while not lock.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise IndexUnavailable("the search index is being written by another process")
            time.sleep(0.05)
        try:
            yield
        finally:
            lock.release()

    def apply(self, upserts: Iterable[IndexEntry], deletes: Iterable[str]) -> None:
        opened = self._open()
        if opened is None:
            raise IndexUnavailable("no search index: rebuild it")
        _name, ix = opened
        writer = ix.writer(timeout=5.0)
        try:
            for key in deletes:
                writer.delete_by_term("key", key)
            for entry in upserts:
                writer.update_document(**whoosh_fields(entry))
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def rebuild(self, entries: Iterable[IndexEntry], procs: int = 1, limitmb: int = 128) -> int:
        """Write ``entries`` into a new generation, then point ``CURRENT`` at it; returns how many."""
        name = f"g-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
        path = self.root / name
        path.mkdir(parents=True)
        try:
            ix = whoosh_index.create_in(str(path), self.schema)
            count = write_entries(ix, entries, procs=procs, limitmb=limitmb)
            self._swap(name)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
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
        with self.searcher() as (_path, searcher):
            if searcher is None:
                return
            for fields in searcher.all_stored_fields():
                yield fields["key"], fields.get("digest", "")

    # -- reading

    def analyze(self, text: str) -> list[str]:
        return [t.text for t in self._analyzer(text, mode="query")]

    def _item_query(self, item: Item) -> q.Query | None:
        terms = self.analyze(" ".join(item.words))
        if not terms:
            return None
        if len(terms) == 1:
            return q.Or([q.Term("title", terms[0], boost=TITLE_BOOST), q.Term("text", terms[0])])
        in_text = q.And([q.Term("text", t) for t in terms])
        return q.Or([q.Phrase("title", terms, boost=TITLE_BOOST), in_text])

    def build_query(self, parsed: ParsedQuery, any_word: bool = False) -> q.Query | None:
        """The Whoosh query for ``parsed``; None when it has no searchable word (e.g. only stop words)."""
        clauses = []
        for clause in parsed.clauses:
            items = [x for x in map(self._item_query, clause) if x is not None]
            if items:
                clauses.append(items[0] if len(items) == 1 else q.Or(items))
        excluded = [x for x in map(self._item_query, parsed.excluded) if x is not None]
        if not clauses and not excluded:
            return None
        wanted = q.Every() if not clauses else clauses[0] if len(clauses) == 1 else (q.Or if any_word else q.And)(clauses)
        return q.AndNot(wanted, q.Or(excluded)) if excluded else wanted

    def _term_docs(self, searcher, term: str) -> set[int]:
        """Documents with ``term`` in the title or the text (global document numbers)."""
        docs: set[int] = set()
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            for field in ("title", "text"):
                if (field, term) in reader:
                    ids = reader.postings(field, term).all_ids()
                    docs.update(ids if not offset else (d + offset for d in ids))
        return docs

    def _item_docs(self, searcher, item: Item) -> set[int] | None:
        terms = self.analyze(item.text)
        if not terms:
            return None
        if len(terms) == 1:
            return self._term_docs(searcher, terms[0])
        in_text = set.intersection(*(self._term_docs(searcher, t) for t in terms))
        return in_text | set(searcher.docs_for_query(q.Phrase("title", terms)))

    def _matching(self, searcher, parsed: ParsedQuery, any_word: bool) -> set[int] | None:
        """The documents ``parsed`` matches, by set operations on posting lists; None for "all".

        Whoosh's own matcher trees (a union per word over title and text, an intersection over words) walk
        the postings one document at a time in Python; sets do the joins in C, several times faster.
        """
        clauses = []
        for clause in parsed.clauses:
            sets = [d for d in (self._item_docs(searcher, item) for item in clause) if d is not None]
            if sets:
                clauses.append(set().union(*sets))
        excluded = [d for d in (self._item_docs(searcher, item) for item in parsed.excluded) if d is not None]
        if clauses:
            clauses.sort(key=len)
            docs = set().union(*clauses) if any_word else clauses[0].intersection(*clauses[1:])
        else:
            docs = None
            if excluded:
                docs = set(searcher.reader().all_doc_ids())
        return docs.difference(*excluded) if excluded and docs is not None else docs

    def search(self, query: EngineQuery) -> EngineResult:
        whoosh_query = self.build_query(query.parsed, query.any_word)
        terms = [t for item in chain.from_iterable(query.parsed.clauses) for t in self.analyze(item.text)]
        with self.searcher() as (path, searcher):
            if searcher is None:
                return EngineResult([], 0, {}, terms, searched=whoosh_query is not None)
            table = _facet_table(path, searcher)
            docs = self._matching(searcher, query.parsed, query.any_word) if whoosh_query is not None else None
            if docs is None:
                docs = searcher.reader().all_doc_ids()
            chosen = {facet: _value_ids.get((facet, value), -1) for facet, value in query.filters.items()}
            counts, passing = _count(docs, table, chosen)
            end = query.offset + query.limit
            if whoosh_query is None or query.sort == "date":
                ranked = heapq.nlargest(end, passing, key=table.dates.__getitem__)
            else:
                results = searcher.search(whoosh_query, limit=end, filter=set(passing) if chosen else None)
                ranked = [docnum for docnum, _score in results.items()]
            keys = [searcher.stored_fields(docnum)["key"] for docnum in ranked[query.offset : end]]
        by_facet: dict[str, dict[str, int]] = {}
        for vid, n in counts.items():
            facet, value = _values[vid]
            by_facet.setdefault(facet, {})[value] = n
        return EngineResult(keys, len(passing), by_facet, terms, searched=whoosh_query is not None)

    def suggest(self, words: list[str]) -> dict[str, str]:
        """Corrections for words whose stem the index does not have.

        The vocabulary is the index's own stems: no second, unstemmed copy of every text is kept (it would
        double the postings and halve the indexing speed). A Russian stem is a prefix of the folded word, so
        the suggestion is the nearest known stem followed by the rest of the word as typed:
        «энергетеке» -> stem «энергетек» -> nearest «энергетик» -> «энергетике».
        """
        corrections: dict[str, str] = {}
        with self.searcher() as (_path, searcher):
            if searcher is None:
                return corrections
            reader = searcher.reader()
            for word in words[:SUGGEST_MAX_WORDS]:
                stems = self.analyze(word)
                if len(word) < 3 or word in corrections or len(stems) != 1 or not word.startswith(stems[0]):
                    continue
                stem = stems[0]
                if reader.doc_frequency("title", stem) or reader.doc_frequency("text", stem):
                    continue
                best = self._nearest_stem(reader, stem)
                if best:
                    corrections[word] = best + word[len(stem) :]
        return corrections

    @staticmethod
    def _nearest_stem(reader, stem: str) -> str | None:
        for distance in (1, 2):
            if distance > len(stem) // 3:
                break  # two typos in a four-letter word leave nothing of it
            found = {}
            for field in ("title", "text"):
                for candidate in reader.terms_within(field, stem, distance, prefix=1):
                    if candidate != stem:
                        found[candidate] = found.get(candidate, 0) + reader.doc_frequency(field, candidate)
            if found:
                return max(found, key=lambda c: (found[c], c))
        return None


def write_entries(ix, entries: Iterable[IndexEntry], procs: int = 1, limitmb: int = 128) -> int:
    """Add ``entries`` to an empty index in one writer (bulk: no deletions to look for)."""
    options = {"limitmb": limitmb, "codec": BulkCodec()}
    if procs > 1:
        options.update(procs=procs, multisegment=True)
    writer = ix.writer(**options)
    count = 0
    try:
        for entry in entries:
            writer.add_document(**whoosh_fields(entry))
            count += 1
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    return count
