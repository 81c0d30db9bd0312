"""The database engine (``SEARCH_BACKEND = "postgresql"``): PostgreSQL full-text search over our own analysis.

The words are analysed in Python by the same :mod:`catalogue.search.analysis` as Whoosh's, and the *stems* are
stored, so that both engines find the same documents for the same words. Tables (modelled below, made by the
migration ``postgres_search``; on SQLite they exist, empty and unused):

``search_engine_entry``
    one row per indexed item: ``words``, a ``tsvector`` written as a literal of our stems with their positions
    (title weight A, text weight B), GIN-indexed; ``facets``, a ``text[]`` of ``key=value``, GIN-indexed;
    ``date`` for the date sort; the digest for ``search check``.
``search_engine_word``
    the dictionary of surface forms (:mod:`catalogue.search.spelling`) with their counts and stems, and a
    ``pg_trgm`` index: typo candidates (similar trigrams) and the completions of a word being typed (:class:`Words`).
``search_engine_state``
    one row once the index has been built (``exists``): the time of the last write (``/healthz``), and a version
    bumped by every write.

A query becomes a ``tsquery`` of stems: AND, OR, NOT, phrases (adjacent in the title, ``<->``, or all their words
in the text, as Whoosh has no positions for the text), the thesaurus' alternatives, a prefix's completions. Rows
are ranked as :mod:`catalogue.search.ranking` says (clauses matched, then ``ts_rank`` with the title weighing
``TITLE_BOOST`` times the text, then nearness in the title); facet counts are one grouped query over
``unnest(facets)``, a chosen facet counted over the rows that pass every *other* choice.

Writes go through the session of the indexer, so an ``apply`` commits with the stored documents and the outbox
rows it applies. A rebuild writes in a transaction of its own connection (the indexer commits the stored
documents batch by batch meanwhile) and commits once: searches see the old rows until then. The one-writer lock
is a PostgreSQL advisory lock of the schema, held by a connection of its own.
"""

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property

from flask import Flask, has_app_context
from sqlalchemy import DDL, DateTime, Integer, String, Text, event
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import ARRAY, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from catalogue.extensions import db
from catalogue.search import ranking, spelling, stored
from catalogue.search.analysis import DEFAULT_STEMMER, russian_analyzer
from catalogue.search.backend import EngineQuery, EngineResult, IndexEntry, IndexUnavailable
from catalogue.search.columnar import TITLE_BOOST, Plan
from catalogue.search.whoosh_backend import WhooshBackend

MAX_POSITION = 16383  # PostgreSQL's largest position in a tsvector
MAX_POSITIONS = 255  # positions kept per word (PostgreSQL keeps at most 256)
RANK_SCALE = 10.0  # ts_rank is about a tenth of BM25: nearness and thesaurus weights keep their meaning
# ts_rank's weights, in PostgreSQL's order {D, C, B, A}: the text (B) weighs a third of the title (A).
RANK_WEIGHTS = f"{{0, 0, {1 / TITLE_BOOST:.4f}, 1}}"
# ts_rank divided by 1 + log(length): a long text's many words count for less, as BM25's length norm does.
RANK_NORMALIZATION = 1
CHUNK = 500
# Corrections: the words whose trigrams are this similar to a typed word's (two edits in a short word still are),
# at most this many of them, the most similar first, are measured with Damerau–Levenshtein.
TRIGRAM_SIMILARITY = 0.2
TRIGRAM_CANDIDATES = 200
POLL_SECONDS = 0.05
LOCK_NAME = "catalogue.search:"  # + the schema: test runs sharing a database never share the lock


class SearchEngineEntry(db.Model):
    __tablename__ = "search_engine_entry"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))
    words: Mapped[str] = mapped_column(Text().with_variant(TSVECTOR(), "postgresql"))
    facets: Mapped[str] = mapped_column(Text().with_variant(ARRAY(Text()), "postgresql"))
    date: Mapped[dt.datetime | None] = mapped_column(DateTime(), index=True)

    __table_args__ = (
        db.Index("ix_search_engine_entry_words", "words", postgresql_using="gin"),
        db.Index("ix_search_engine_entry_facets", "facets", postgresql_using="gin"),
    )


class SearchEngineWord(db.Model):
    __tablename__ = "search_engine_word"

    word: Mapped[str] = mapped_column(String(spelling.MAX_WORD_CHARS), primary_key=True)
    stem: Mapped[str] = mapped_column(String(spelling.MAX_WORD_CHARS), index=True)  # "another form of a known word"
    count: Mapped[int] = mapped_column(Integer)


class SearchEngineState(db.Model):
    __tablename__ = "search_engine_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime())
    version: Mapped[int] = mapped_column(Integer)


# The trigram index of the dictionary's words has no model (its operator class comes with the extension).
TRIGRAM_EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
TRIGRAM_INDEX = "CREATE INDEX IF NOT EXISTS ix_search_engine_word_trigram ON search_engine_word USING gin (word {ops})"


@event.listens_for(SearchEngineWord.__table__, "after_create")
def _trigram_index(target, connection, **kw) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(TRIGRAM_EXTENSION)
        connection.exec_driver_sql(TRIGRAM_INDEX.format(ops=trigram_ops(connection)))


def trigram_ops(connection) -> str:
    """``gin_trgm_ops``, qualified by the extension's schema (a test schema's search path has only itself)."""
    schema = connection.exec_driver_sql("SELECT extnamespace::regnamespace::text FROM pg_extension "
                                        "WHERE extname = 'pg_trgm'").scalar()  # fmt: skip
    return f"{schema}.gin_trgm_ops" if schema else "gin_trgm_ops"


event.listen(SearchEngineWord.__table__, "before_drop", DDL("DROP INDEX IF EXISTS ix_search_engine_word_trigram"))


# -- documents as tsvector literals, queries as tsquery literals ------------------------------------------


def _lexeme(term: str) -> str:
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector(title: list[str], text: list[str]) -> str:
    """The ``tsvector`` literal of a document's analysed title and text: positions from 1, the text after a gap
    (no phrase spans the two), title positions weighted A, text positions B."""
    positions: dict[str, list[str]] = {}
    for number, term in enumerate(title, start=1):
        positions.setdefault(term, []).append(f"{min(number, MAX_POSITION)}A")
    start = len(title) + 2
    for number, term in enumerate(text, start=start):
        positions.setdefault(term, []).append(f"{min(number, MAX_POSITION)}B")
    return " ".join(f"{_lexeme(term)}:{','.join(dict.fromkeys(found[:MAX_POSITIONS]))}" for term, found in
                    positions.items())  # fmt: skip


def _item(terms: list[str]) -> str:
    """One word, or a phrase: together in the title, or all its words in the text (as Whoosh matches it)."""
    if len(terms) == 1:
        return _lexeme(terms[0])
    in_title = " <-> ".join(f"{_lexeme(t)}:A" for t in terms)
    in_text = " & ".join(f"{_lexeme(t)}:B" for t in terms)
    return f"(({in_title}) | ({in_text}))"


def _any(items: Iterable[list[str]]) -> str:
    return " | ".join(_item(terms) for terms in items)


def _near(a: str, b: str) -> str:
    return " | ".join(f"{_lexeme(a)}:A <{n}> {_lexeme(b)}:A" for n in range(1, ranking.NEAR_SLOP + 1))


class _Sql:
    """A WHERE clause and its parameters, built a piece at a time."""

    def __init__(self) -> None:
        self.params: dict = {}

    def bind(self, value) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _facet(key: str, value: str) -> str:
    return f"{key}={value}"


# -- the dictionary ---------------------------------------------------------------------------------------


class _Counts(Mapping):
    """The counts of the dictionary's words, asked a word at a time."""

    def __getitem__(self, word: str) -> int:
        count = db.session.execute(sql("SELECT count FROM search_engine_word WHERE word = :w"), {"w": word}).scalar()
        if count is None:
            raise KeyError(word)
        return count

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.get(word) is not None

    def __len__(self) -> int:
        return db.session.execute(sql("SELECT count(*) FROM search_engine_word")).scalar() or 0

    def __bool__(self) -> bool:
        return db.session.execute(sql("SELECT 1 FROM search_engine_word LIMIT 1")).first() is not None

    def __iter__(self):
        yield from db.session.scalars(sql("SELECT word FROM search_engine_word ORDER BY word"))


class _KnownStems:
    def __contains__(self, stem: object) -> bool:
        found = db.session.execute(sql("SELECT 1 FROM search_engine_word WHERE stem = :s LIMIT 1"), {"s": stem})
        return found.first() is not None


class Words(spelling.Dictionary):
    """:class:`catalogue.search.spelling.Dictionary` over ``search_engine_word``, nothing loaded whole: a word's
    corrections are the words of similar trigrams (``pg_trgm``'s ``%``, GIN-indexed), then the same
    Damerau–Levenshtein limits and order as the symmetric-delete index; completions are an indexed ``LIKE``."""

    def __init__(self, engine: "PostgresBackend"):
        super().__init__(_Counts())
        self.engine = engine

    def _stems(self, stem) -> _KnownStems:
        return _KnownStems()

    def candidates(self, word: str) -> list[tuple[int, int, str]]:
        limit = spelling.max_distance(word)
        db.session.execute(sql("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"),
                           {"t": str(TRIGRAM_SIMILARITY)})  # fmt: skip
        rows = db.session.execute(
            # The schema's name as PostgreSQL quotes it (regnamespace's output): no value of a visitor's.
            sql(f"SELECT word, count FROM search_engine_word WHERE word {self.engine.similar} :w "  # noqa: S608
                f"ORDER BY {self.engine.similarity}(word, :w) DESC, count DESC LIMIT :n"),
            {"w": word, "n": TRIGRAM_CANDIDATES},
        ).all()  # fmt: skip
        found = []
        for candidate, count in rows:
            distance = spelling.damerau_levenshtein(word, candidate, limit)
            if distance <= limit:
                found.append((distance, -count, candidate))
        return sorted(found)

    def completions(self, prefix: str, limit: int = spelling.PREFIX_EXPANSIONS) -> list[str]:
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return list(db.session.scalars(
            sql("SELECT word FROM search_engine_word WHERE word LIKE :p ORDER BY count DESC, word LIMIT :n"),
            {"p": pattern, "n": limit},
        ))  # fmt: skip


# -- the engine -------------------------------------------------------------------------------------------


class PostgresBackend:
    """Search in the site's PostgreSQL database; see the module docstring."""

    def __init__(self, app: Flask | None = None, stemmer: str = DEFAULT_STEMMER):
        self.app = app  # whose database the write lock is taken in, also outside an app context
        self.stemmer = stemmer
        self.analyzer = russian_analyzer(stemmer)

    # -- pg_trgm's operator and function, by their schema (a test schema's search path has only itself)

    @cached_property
    def _trigram_schema(self) -> str:
        found = db.session.execute(
            sql("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
        ).scalar()
        if found is None:
            raise IndexUnavailable("pg_trgm is not installed: run `flask --app catalogue db upgrade`")
        return found

    @property
    def similar(self) -> str:
        return f"OPERATOR({self._trigram_schema}.%)"

    @property
    def similarity(self) -> str:
        return f"{self._trigram_schema}.similarity"

    # -- state

    def _state(self) -> tuple[dt.datetime, int] | None:
        row = db.session.execute(sql("SELECT updated_at, version FROM search_engine_state WHERE id = 1")).first()
        return (row.updated_at, row.version) if row else None

    def exists(self) -> bool:
        return self._state() is not None

    def committed_at(self) -> float | None:
        """When the index was last written (seconds since 1970), or None before it is built: for ``/healthz``."""
        state = self._state()
        return state[0].replace(tzinfo=dt.UTC).timestamp() if state else None

    # -- writing

    @contextmanager
    def write_lock(self, timeout: float):
        """A session advisory lock on a connection of its own, polled until ``timeout``."""
        if has_app_context() or self.app is None:
            engine = db.engine
        else:
            with self.app.app_context():
                engine = db.engine
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            take = sql("SELECT pg_try_advisory_lock(hashtext(:name || current_schema()))")
            deadline = time.monotonic() + timeout
            while not connection.execute(take, {"name": LOCK_NAME}).scalar():
                if time.monotonic() >= deadline:
                    raise IndexUnavailable("the search index is locked by another writer")
                time.sleep(POLL_SECONDS)
            try:
                yield
            finally:
                connection.execute(
                    sql("SELECT pg_advisory_unlock(hashtext(:name || current_schema()))"), {"name": LOCK_NAME}
                )
        finally:
            connection.close()

    def _rows(self, entries: Iterable[IndexEntry]) -> list[dict]:
        rows = []
        for entry in entries:
            date = entry.date
            if date is not None and date.tzinfo is not None:
                date = date.astimezone(dt.UTC).replace(tzinfo=None)
            rows.append({
                "key": entry.key,
                "digest": entry.digest,
                "words": tsvector(self.analyzer.terms(entry.title), self.analyzer.terms(entry.text)),
                "facets": sorted(_facet(k, v) for k, values in entry.facets.items() for v in values),
                "date": date,
            })  # fmt: skip
        return rows

    @staticmethod
    def _insert(connection, rows: list[dict]) -> None:
        for chunk in stored.chunks(rows, CHUNK):
            connection.execute(
                sql("INSERT INTO search_engine_entry (key, digest, words, facets, date) "
                    "VALUES (:key, :digest, CAST(:words AS tsvector), :facets, :date)"),
                chunk,
            )  # fmt: skip

    def _add_words(self, connection, counts: Counter) -> None:
        rows = [
            {"word": w, "stem": (self.analyzer.terms(w) or [w])[0][: spelling.MAX_WORD_CHARS], "count": n}
            for w, n in sorted(counts.items())
            if n > 0
        ]
        for chunk in stored.chunks(rows, CHUNK):
            connection.execute(
                sql("INSERT INTO search_engine_word (word, stem, count) VALUES (:word, :stem, :count) "
                    "ON CONFLICT (word) DO UPDATE SET count = search_engine_word.count + excluded.count"),
                chunk,
            )  # fmt: skip
        # People's names in a document take their count away from a word they share (as Whoosh's words.tsv does)
        fewer = [{"word": w, "count": n} for w, n in counts.items() if n < 0]
        if fewer:
            connection.execute(sql("UPDATE search_engine_word SET count = count + :count WHERE word = :word"), fewer)
            connection.execute(sql("DELETE FROM search_engine_word WHERE word = ANY(:words) AND count <= 0"),
                               {"words": [row["word"] for row in fewer]})  # fmt: skip

    def apply(self, upserts: Iterable[IndexEntry], deletes: Iterable[str]) -> None:
        """In the caller's transaction (the indexer commits it with the stored documents and the outbox)."""
        upserts, deletes = list(upserts), list(deletes)
        if not upserts and not deletes:
            return
        if not self.exists():
            raise IndexUnavailable("no search index: rebuild it")
        connection = db.session.connection()
        gone = [e.key for e in upserts] + deletes
        for chunk in stored.chunks(gone, CHUNK):
            connection.execute(sql("DELETE FROM search_engine_entry WHERE key = ANY(:keys)"), {"keys": chunk})
        self._insert(connection, self._rows(upserts))
        words = spelling.surface_forms(t for e in upserts for t in (e.title, e.text))
        words.subtract(spelling.surface_forms(e.names for e in upserts if e.names))  # never offer people's names
        self._add_words(connection, words)
        connection.execute(
            sql("UPDATE search_engine_state SET version = version + 1, updated_at = :now WHERE id = 1"), {"now": _now()}
        )

    def rebuild(self, entries: Iterable[IndexEntry], procs: int = 1, limitmb: int = 512) -> int:
        """Replace every row in one transaction of a connection of its own; searches see the old ones until it
        commits. ``procs`` and ``limitmb`` are Whoosh's: the database needs neither."""
        words: Counter = Counter()
        count = 0
        with db.engine.connect() as connection, connection.begin():
            connection.execute(sql("DELETE FROM search_engine_entry"))
            batch: list[IndexEntry] = []
            for entry in spelling.counting(entries, words):
                batch.append(entry)
                if len(batch) == CHUNK:
                    self._insert(connection, self._rows(batch))
                    count += len(batch)
                    batch = []
            self._insert(connection, self._rows(batch))
            count += len(batch)
            folded: Counter = Counter()
            for word, n in words.items():
                if n > 0 and spelling._kept(word.replace("ё", "е")):
                    folded[word.replace("ё", "е")] += n
            connection.execute(sql("DELETE FROM search_engine_word"))
            self._add_words(connection, folded)
            connection.execute(
                sql("INSERT INTO search_engine_state (id, updated_at, version) VALUES (1, :now, 1) "
                    "ON CONFLICT (id) DO UPDATE SET updated_at = :now, version = search_engine_state.version + 1"),
                {"now": _now()},
            )  # fmt: skip
        return count

    def digests(self) -> Iterator[tuple[str, str]]:
        yield from db.session.execute(sql("SELECT key, digest FROM search_engine_entry")).all()

    # -- reading

    def analyze(self, text: str) -> list[str]:
        return self.analyzer.terms(text)

    # The parsed query in index terms: the same as Whoosh's (it needs only ``analyze`` and ``dictionary``).
    plan = WhooshBackend.plan

    def dictionary(self) -> spelling.Dictionary:
        """The dictionary's words where they are, in the database (:class:`Words`); none before the index is built."""
        return Words(self) if self.exists() else spelling.EMPTY

    def search(self, query: EngineQuery) -> EngineResult:
        plan = self.plan(query.parsed, query.any_word)
        terms = plan.terms if plan is not None else []
        q = _Sql()
        match = self._match(plan, q) if plan is not None else "TRUE"
        hits = self._hits(plan, q)
        filters = {key: f"facets @> ARRAY[{q.bind(_facet(key, value))}]" for key, value in query.filters.items()}
        passing = " AND ".join([match, *filters.values()])
        clauses = len(plan.clauses) if plan is not None else 0
        complete = f"count(*) FILTER (WHERE {hits} = {clauses})" if hits else "count(*)"
        total, done = db.session.execute(
            sql(f"SELECT count(*), {complete} FROM search_engine_entry WHERE {passing}"), q.params  # noqa: S608
        ).one()
        keys: list[str] = []
        if total and query.limit and query.offset < total:
            order = self._order(plan, hits, q, by_date=query.sort == "date")
            keys = list(db.session.scalars(
                sql(f"SELECT key FROM search_engine_entry WHERE {passing} "  # noqa: S608
                    f"ORDER BY {order}date DESC NULLS LAST, key DESC LIMIT :limit OFFSET :offset"),
                q.params | {"limit": query.limit, "offset": query.offset},
            ))  # fmt: skip
        counts = self._counts(match, filters, q)
        return EngineResult(keys, total, counts, terms, searched=plan is not None, complete=done)

    def _match(self, plan: Plan, q: _Sql) -> str:
        conditions = [self._clause(number, clause, plan, q) for number, clause in enumerate(plan.clauses)]
        matched = f"({(' OR ' if plan.any_word else ' AND ').join(conditions)})" if conditions else "TRUE"
        if plan.excluded:
            matched += f" AND NOT words @@ CAST({q.bind(_any(plan.excluded))} AS tsquery)"
        return matched

    @staticmethod
    def _clause(number: int, clause: list[list[str]], plan: Plan, q: _Sql) -> str:
        condition = f"words @@ CAST({q.bind(_any(clause))} AS tsquery)"
        tagged = [_facet(f, v) for f, v in plan.facets.get(number, ())]
        if tagged:
            condition = f"({condition} OR facets && CAST({q.bind(tagged)} AS text[]))"
        return condition

    def _hits(self, plan: Plan | None, q: _Sql) -> str:
        """How many clauses a row matches, with ``any_word`` and several clauses; else empty."""
        if plan is None or not plan.any_word or len(plan.clauses) < 2:
            return ""
        return "(" + " + ".join(f"({self._clause(n, c, plan, q)})::int" for n, c in enumerate(plan.clauses)) + ")"

    @staticmethod
    def _order(plan: Plan | None, hits: str, q: _Sql, by_date: bool) -> str:
        if by_date or plan is None or not plan.terms:
            return ""
        by_weight: dict[float, list[str]] = {}
        for term in plan.terms:
            by_weight.setdefault(plan.weights.get(term, 1.0), []).append(term)
        rank = " + ".join(
            f"{weight * RANK_SCALE!r} * ts_rank('{RANK_WEIGHTS}', words, "
            f"CAST({q.bind(' | '.join(map(_lexeme, group)))} AS tsquery), {RANK_NORMALIZATION})"
            for weight, group in by_weight.items()
        )
        key = f"{ranking.CLAUSE_STEP!r} * {hits} + {rank}" if hits else rank
        if len(plan.clauses) > 1:
            for a, b in ranking.near_pairs(plan.clauses):
                key += f" + {ranking.NEAR_BONUS!r} * (words @@ CAST({q.bind(_near(a, b))} AS tsquery))::int"
        return f"{key} DESC, "

    @staticmethod
    def _counts(match: str, filters: dict[str, str], q: _Sql) -> dict[str, dict[str, int]]:
        """Facet counts over the matching rows: a chosen facet's values over the rows passing the other choices."""
        cases = " ".join(
            f"WHEN split_part(value, '=', 1) = {q.bind(key)} THEN "
            + " AND ".join(["TRUE", *(c for other, c in filters.items() if other != key)])
            for key in filters
        )
        everything = " AND ".join(["TRUE", *filters.values()])
        condition = f"CASE {cases} ELSE {everything} END" if filters else "TRUE"
        rows = db.session.execute(
            sql(f"SELECT value, count(*) FROM search_engine_entry, unnest(facets) AS value "  # noqa: S608
                f"WHERE {match} AND {condition} GROUP BY value"),
            q.params,
        ).all()  # fmt: skip
        counts: dict[str, dict[str, int]] = {}
        for value, count in rows:
            key, _, item = value.partition("=")
            counts.setdefault(key, {})[item] = count
        return counts
