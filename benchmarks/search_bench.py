"""``python -m benchmarks search-bench``: Whoosh beside SQLite FTS5 on the same synthetic Russian documents.

Documents are made of Russian words in their real inflected forms (nouns of three declensions, adjectives,
verbs), drawn with a Zipf distribution, plus rare names so that the vocabulary has a long tail like real
text. Each document has a type, age groups, spheres, a municipality, for contest entries a season and a
nomination, and a date. The same queries (one to three words in random forms; a third of them with a facet
chosen) run against both engines, each returning the top ten by relevance with the counts of all six facets.

FTS5 is given the text already analysed by the same Russian analyzer (stems separated by spaces), so that
both engines match the same documents; that analysis is counted in its indexing time.
"""

import datetime as dt
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from catalogue.search.analysis import russian_analyzer
from catalogue.search.backend import FACET_KEYS, EngineQuery, IndexEntry
from catalogue.search.query import parse
from catalogue.search.whoosh_backend import WhooshBackend


def _words(text: str) -> list[str]:
    return text.split()


MASCULINE = _words(
    """
проект завод инженер конкурс техникум университет маршрут эксперимент прибор робот самолёт металл агроном
архитектор программист дизайнер эколог турист регион район город материал результат этап продукт объект сайт
сервис стенд макет бизнес транспорт порт вокзал аэропорт кран трактор комбайн доклад отчёт анализ прогноз
алгоритм код вариант процесс ресурс фестиваль
"""
)
FEMININE = _words(
    """
школа программа работа группа команда карта природа платформа схема система тема проблема среда вода база
форма культура литература структура шахта планета модель энергетика электроника механика
"""
)
FEMININE_IA = _words(
    """
технология профессия энергия экскурсия лаборатория экология презентация география биология химия индустрия
компания станция организация экспедиция коллекция экспозиция олимпиада
"""
)
NEUTER_IE = _words(
    """
моделирование исследование образование проектирование программирование управление оборудование развитие
занятие решение измерение наблюдение
"""
)
NEUTER_STVO = _words(
    """
производство хозяйство строительство мастерство сотрудничество животноводство
"""
)
ADJECTIVES = _words(
    """
нов промышленн лесн горн железнодорожн образовательн современн региональн муниципальн интересн профессиональн
научн учебн школьн северн водн полезн сложн активн командн лабораторн инженерн виртуальн цифров
"""
)
VERBS = _words(
    """
изучают изучать изучили создают создать создали проводят провести провели исследуют исследовать строят строить
собирают собрать собрали представляют представить знакомятся познакомиться узнают узнать разрабатывают
разработать моделируют моделировать проектируют проектировать программируют измеряют наблюдают описывают
обсуждают защищают готовят выполняют используют получают рассказывают
"""
)
SMALL_WORDS = _words(
    """
и в на с по для о из к от за при а но как что
"""
)

ENDINGS = {
    "m": ["", "а", "у", "ом", "е", "ы", "ов", "ам", "ами", "ах"],
    "f": ["а", "ы", "е", "у", "ой", "", "ам", "ами", "ах"],
    "ia": ["ия", "ии", "ию", "ией", "ий", "иям", "иями", "иях"],
    "ie": ["ие", "ия", "ию", "ием", "ии", "ий", "иям", "иями", "иях"],
    "stvo": ["о", "а", "у", "ом", "е", "", "ам", "ами", "ах"],
    "adj": ["ый", "ая", "ое", "ые", "ого", "ой", "ому", "ым", "ую", "ых", "ыми"],
}

TYPES = ("project", "report", "practice", "entry")
AGES = ("6-7", "8-9", "10-11")
SPHERES = tuple(f"sphere-{n}" for n in range(16))
MUNICIPALITIES = tuple(str(n) for n in range(1, 43))
SEASONS = ("2024", "2025", "2026")
NOMINATIONS = tuple(f"nomination-{n}" for n in range(6))


def lexemes() -> list[list[str]]:
    """Every word of the vocabulary as the list of its forms."""
    result = [[w + e for e in ENDINGS["m"]] for w in MASCULINE]
    result += [[w[:-1] + e for e in ENDINGS["f"]] for w in FEMININE if w.endswith("а")]
    result += [[w[:-2] + e for e in ENDINGS["ia"]] for w in FEMININE_IA]
    result += [[w[:-2] + e for e in ENDINGS["ie"]] for w in NEUTER_IE]
    result += [[w[:-1] + e for e in ENDINGS["stvo"]] for w in NEUTER_STVO]
    result += [[w + e for e in ENDINGS["adj"]] for w in ADJECTIVES]
    result += [[v] for v in VERBS]
    return result


SYLLABLES = _words(
    """
ка ло ми ну ра се ти во жи ба ре ду ны ан ор ул ин ек ас ом
"""
)


class Corpus:
    """A reproducible stream of synthetic documents and queries over them."""

    def __init__(self, seed: int = 2026):
        self.random = random.Random(seed)  # noqa: S311  (reproducible test data, not secrets)
        self.lexemes = lexemes()
        self.rare = sorted({"".join(self.random.choices(SYLLABLES, k=3)) + "ск" for _ in range(8000)})
        # Zipf weights: the n-th most frequent word is used about 1/n as often as the first.
        order = self.lexemes[:]
        self.random.shuffle(order)
        self.order = order
        self.cumulative = []
        total = 0.0
        for rank in range(1, len(order) + 1):
            total += 1.0 / rank
            self.cumulative.append(total)

    def word(self) -> str:
        r = self.random
        if r.random() < 0.18:
            return r.choice(SMALL_WORDS)
        lexeme = r.choices(self.order, cum_weights=self.cumulative)[0]
        return r.choice(lexeme)

    def sentence(self, n: int) -> str:
        words = [self.word() for _ in range(n)]
        words.insert(self.random.randrange(len(words)), self.random.choice(self.rare).capitalize())
        return " ".join(words).capitalize() + "."

    def entry(self, number: int) -> IndexEntry:
        r = self.random
        kind = r.choice(TYPES)
        facets = {
            "type": [kind],
            "age": sorted(r.sample(AGES, r.choice((1, 1, 2)))),
            "sphere": sorted(r.sample(SPHERES, r.choice((1, 2, 3)))),
            "municipality": [r.choice(MUNICIPALITIES)],
        }
        if kind == "entry":
            facets["season"] = [r.choice(SEASONS)]
            facets["nomination"] = [r.choice(NOMINATIONS)]
        title = " ".join(self.word() for _ in range(r.randint(3, 6))).capitalize()
        text = " ".join(self.sentence(r.randint(8, 14)) for _ in range(r.randint(6, 14)))
        date = 1_600_000_000 + r.randrange(200_000_000)
        return IndexEntry(
            key=f"{kind}:{number}",
            type=kind,
            title=title,
            text=text,
            facets=facets,
            date=dt.datetime.fromtimestamp(date, dt.UTC),
            digest=f"{number:016x}",
        )

    def entries(self, n: int) -> Iterator[IndexEntry]:
        for number in range(1, n + 1):
            yield self.entry(number)

    def queries(self, n: int) -> list[tuple[str, dict[str, str]]]:
        r = self.random
        result = []
        for _ in range(n):
            words = [r.choice(r.choice(self.lexemes)) for _ in range(r.choice((1, 1, 2, 2, 3)))]
            if r.random() < 0.3:
                words.append(r.choice(self.rare))
            filters: dict[str, str] = {}
            if r.random() < 0.33:
                facet = r.choice(("type", "age", "sphere", "municipality"))
                filters[facet] = r.choice(
                    {"type": TYPES, "age": AGES, "sphere": SPHERES, "municipality": MUNICIPALITIES}[facet]
                )
            result.append((" ".join(words), filters))
        return result


# -- FTS5 -----------------------------------------------------------------------------------------------


class Fts5Engine:
    """The same documents in SQLite FTS5, with facet tables beside them."""

    def __init__(self, path: Path):
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
            CREATE TABLE doc (id INTEGER PRIMARY KEY, key TEXT, type TEXT, municipality TEXT, season TEXT,
                              nomination TEXT, date INTEGER);
            CREATE TABLE doc_age (doc INTEGER, value TEXT);
            CREATE TABLE doc_sphere (doc INTEGER, value TEXT);
            CREATE VIRTUAL TABLE fts USING fts5(title, text, tokenize='unicode61 remove_diacritics 0');
            """
        )
        self.analyzer = russian_analyzer()

    def _stems(self, text: str) -> str:
        return " ".join(t.text for t in self.analyzer(text))

    def index(self, entries: Iterator[IndexEntry]) -> int:
        count = 0
        with self.db:
            for number, e in enumerate(entries, start=1):
                single = {k: (e.facets.get(k) or [None])[0] for k in ("type", "municipality", "season", "nomination")}
                self.db.execute(
                    "INSERT INTO doc VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (number, e.key, single["type"], single["municipality"], single["season"], single["nomination"],
                     int(e.date.timestamp()) if e.date else 0),
                )  # fmt: skip
                self.db.executemany("INSERT INTO doc_age VALUES (?, ?)", [(number, v) for v in e.facets.get("age", [])])
                self.db.executemany(
                    "INSERT INTO doc_sphere VALUES (?, ?)", [(number, v) for v in e.facets.get("sphere", [])]
                )
                self.db.execute(
                    "INSERT INTO fts (rowid, title, text) VALUES (?, ?, ?)",
                    (number, self._stems(e.title), self._stems(e.text)),
                )
                count += 1
            self.db.executescript(
                """
                CREATE INDEX ix_doc_age ON doc_age (doc, value); CREATE INDEX ix_doc_sphere ON doc_sphere (doc, value);
                INSERT INTO fts(fts) VALUES ('optimize');
                """
            )
        return count

    def _match(self, text: str) -> str | None:
        parsed = parse(text)
        terms = [self._stems(item.text) for clause in parsed.clauses for item in clause]
        terms = [t for t in terms if t]
        return " AND ".join(f'"{t}"' for t in terms) if terms else None

    FILTER_SQL = {
        "type": "SELECT id FROM doc WHERE type = ?",
        "municipality": "SELECT id FROM doc WHERE municipality = ?",
        "age": "SELECT doc FROM doc_age WHERE value = ?",
        "sphere": "SELECT doc FROM doc_sphere WHERE value = ?",
    }
    COUNT_SQL = {
        "type": "SELECT d.type, count(*) FROM {m} JOIN doc d ON d.id = {m}.id GROUP BY 1",
        "municipality": "SELECT d.municipality, count(*) FROM {m} JOIN doc d ON d.id = {m}.id GROUP BY 1",
        "season": "SELECT d.season, count(*) FROM {m} JOIN doc d ON d.id = {m}.id "
        "WHERE d.season IS NOT NULL GROUP BY 1",
        "nomination": "SELECT d.nomination, count(*) FROM {m} JOIN doc d ON d.id = {m}.id "
        "WHERE d.nomination IS NOT NULL GROUP BY 1",
        "age": "SELECT a.value, count(*) FROM {m} JOIN doc_age a ON a.doc = {m}.id GROUP BY 1",
        "sphere": "SELECT s.value, count(*) FROM {m} JOIN doc_sphere s ON s.doc = {m}.id GROUP BY 1",
    }

    def search(self, text: str, filters: dict[str, str]) -> tuple[list[str], int, dict]:
        """Top ten by bm25 (title weighted as in Whoosh) and the six facets' counts, as the site needs them.

        The matches are scored once into a temporary table; the counts and the top ten come from it.
        (Ranking with ``rowid IN (...)`` beside ``MATCH`` is a hundred times slower in SQLite.)
        """
        match = self._match(text)
        db = self.db
        db.execute("DROP TABLE IF EXISTS temp.m")
        db.execute("DROP TABLE IF EXISTS temp.p")
        if match is None:
            return [], 0, {}
        db.execute("CREATE TEMP TABLE m (id INTEGER PRIMARY KEY, score REAL)")
        db.execute("INSERT INTO m SELECT rowid, bm25(fts, 3.0, 1.0) FROM fts WHERE fts MATCH ?", (match,))
        passing = "m"
        if filters:
            ((facet, value),) = filters.items()
            db.execute("CREATE TEMP TABLE p (id INTEGER PRIMARY KEY, score REAL)")
            db.execute(f"INSERT INTO p SELECT id, score FROM m WHERE id IN ({self.FILTER_SQL[facet]})", (value,))  # noqa: S608
            passing = "p"
        counts = {}
        for facet in FACET_KEYS:
            table = "m" if facet in filters else passing
            counts[facet] = dict(db.execute(self.COUNT_SQL[facet].format(m=table)).fetchall())
        total = db.execute(f"SELECT count(*) FROM {passing}").fetchone()[0]  # noqa: S608
        rows = db.execute(
            f"SELECT d.key FROM (SELECT id, score FROM {passing} ORDER BY score LIMIT 10) t "  # noqa: S608
            "JOIN doc d ON d.id = t.id ORDER BY t.score"
        ).fetchall()
        return [r[0] for r in rows], total, counts

    def close(self) -> None:
        self.db.close()


# -- running it -----------------------------------------------------------------------------------------


@dataclass
class EngineFigures:
    name: str
    documents: int
    index_seconds: float  # wall clock
    index_cpu: float  # CPU seconds of this process and its children (the machine may be shared)
    latencies: list[float]  # wall seconds per query
    query_cpu: float  # CPU seconds of all the queries
    first_query: float = 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    def line(self) -> str:
        rate = self.documents / self.index_seconds
        cpu_rate = self.documents / self.index_cpu if self.index_cpu else 0
        return (
            f"{self.name:<7}{self.documents:>7} docs: indexing {rate:>6.0f} docs/s ({self.index_seconds:.1f} s; "
            f"{cpu_rate:.0f} docs per CPU-second); query with facets p50 {self.percentile(50):.1f} ms, "
            f"p95 {self.percentile(95):.1f} ms, mean {statistics.mean(self.latencies) * 1000:.1f} ms "
            f"(CPU {self.query_cpu / len(self.latencies) * 1000:.1f} ms per query)"
        )


def _cpu() -> float:
    own, children = os.times()[0:2], os.times()[2:4]
    return sum(own) + sum(children)


def _measure(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``fn()``."""
    cpu, start = _cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - start, _cpu() - cpu


def _time_queries(search: Callable[[str, dict], object], queries: list[tuple[str, dict]]) -> tuple[list[float], float]:
    latencies = []
    cpu = _cpu()
    for text, filters in queries:
        start = time.perf_counter()
        search(text, filters)
        latencies.append(time.perf_counter() - start)
    return latencies, _cpu() - cpu


def run(
    documents: int,
    queries: int = 200,
    procs: int = 2,
    limitmb: int = 1024,
    directory: str | None = None,
    echo: Callable[[str], None] = print,
    database_url: str | None = None,
) -> tuple[EngineFigures, ...]:
    """Index ``documents`` synthetic documents in both engines and time ``queries`` queries on each.

    Before the timed queries each engine has answered one query (Whoosh has read its per-segment facet
    tables, SQLite has its pages cached); Whoosh's cache of decoded postings starts empty.
    """
    from benchmarks import spelling_bench
    from catalogue.search import columnar

    with tempfile.TemporaryDirectory(prefix="search-bench-", dir=directory) as tmp:
        workdir = Path(tmp)
        corpus_queries = Corpus(seed=7).queries(queries)
        echo(f"Making {documents} synthetic documents…")
        entries = list(Corpus().entries(documents))
        words = sum(len(e.text.split()) + len(e.title.split()) for e in entries) / len(entries)
        echo(f"  {words:.0f} words per document on average; {queries} queries, a third with a facet chosen")

        echo(f"Whoosh: indexing (procs={procs}, limitmb={limitmb})…")
        backend = WhooshBackend(workdir / "whoosh")
        with backend.write_lock(timeout=1):
            seconds, cpu = _measure(lambda: backend.rebuild(entries, procs=procs, limitmb=limitmb))
        first, _ = _measure(lambda: backend.search(EngineQuery(parse("проект"))))
        columnar.term_cache.clear()
        # As the site reads a query typed with no space after it: its last word is also a prefix.
        latencies, query_cpu = _time_queries(
            lambda text, filters: backend.search(EngineQuery(parse(text, prefix=True), filters)), corpus_queries
        )
        whoosh = EngineFigures("Whoosh", documents, seconds, cpu, latencies, query_cpu, first_query=first)
        echo(whoosh.line())
        echo(f"  first query after opening the index (reads the facet tables): {first * 1000:.0f} ms")
        spelling_bench.run(backend, echo=echo, corpus_queries=corpus_queries)

        echo("FTS5: indexing…")
        fts = Fts5Engine(workdir / "fts5.db")
        try:
            seconds, cpu = _measure(lambda: fts.index(iter(entries)))
            fts.search("проект", {})
            latencies, query_cpu = _time_queries(fts.search, corpus_queries)
        finally:
            fts.close()
        sqlite_figures = EngineFigures("FTS5", documents, seconds, cpu, latencies, query_cpu)
        echo(sqlite_figures.line())
        if not database_url:
            return whoosh, sqlite_figures
        database = _postgresql(database_url, workdir, entries, corpus_queries, documents)
        echo(database.line() + " (CPU: this process only, not the database server's)")
    return whoosh, sqlite_figures, database


def _postgresql(database_url: str, workdir: Path, entries, corpus_queries, documents: int) -> EngineFigures:
    """``SEARCH_BACKEND=postgresql`` on a throwaway schema of ``database_url``, the same entries and queries."""
    from sqlalchemy import text as sql

    from benchmarks.search_evaluation import postgres_app
    from catalogue.extensions import db
    from catalogue.search.postgres_backend import PostgresBackend

    with postgres_app(database_url, workdir):
        backend = PostgresBackend()
        with backend.write_lock(timeout=1):
            seconds, cpu = _measure(lambda: backend.rebuild(entries))
        db.session.execute(sql("ANALYZE"))
        db.session.commit()
        backend.search(EngineQuery(parse("проект")))

        def search(text, filters):
            backend.search(EngineQuery(parse(text, prefix=True), filters))
            db.session.rollback()  # a request's transaction each

        latencies, query_cpu = _time_queries(search, corpus_queries)
    return EngineFigures("PgSQL", documents, seconds, cpu, latencies, query_cpu)
