"""``SEARCH_BACKEND=postgresql``: the database's own engine keeps the promises Whoosh keeps, and a few of its own.

The other search test files run, on PostgreSQL, with this engine too (``search_engine`` marker); here: the same
answers as Whoosh on the same documents, the advisory write lock, a rebuild that searches never wait for, the
trigram dictionary, and a SQLite site that refuses the engine at start-up.
"""

import datetime as dt
import threading

import pytest

from catalogue.search import indexer, spelling
from catalogue.search.backend import EngineQuery, IndexEntry, IndexUnavailable
from catalogue.search.postgres_backend import PostgresBackend
from catalogue.search.query import parse
from catalogue.search.whoosh_backend import WhooshBackend
from tests.conftest import app_config, make_test_app
from tests.factories import make_project

pytestmark = pytest.mark.search_engine

DOCUMENTS = {
    1: ("Юный энергетик", "Проект о гидроэлектростанции на Ангаре: моделирование турбины.", ["8-9"], ["energy"]),
    2: ("Ёлка из вторсырья", "Собираем новогоднюю ёлку и говорим о профессии эколога.", ["6-7"], ["ecology"]),
    3: ("Проекты для старшеклассников", "Проектами руководят инженеры; ещё говорим о 3D-моделях.", ["10-11"], ["it"]),
    4: ("Кибербезопасность", "Пароли, данные и <script>alert(1)</script> в тексте проекта.", ["8-9", "10-11"], ["it"]),
    5: ("Энергетика будущего", "Инженеры-энергетики и экологи: проект «Юный энергетик» о чистой энергии.", ["8-9"],
        ["energy", "ecology"]),
}  # fmt: skip


def entry(number: int, title: str, text: str, ages: list[str], spheres: list[str]) -> IndexEntry:
    return IndexEntry(
        key=f"project:{number}",
        type="project",
        title=title,
        text=text,
        facets={"type": ["project"], "age": ages, "sphere": spheres},
        date=dt.datetime(2026, 1, number, tzinfo=dt.UTC),
        digest=str(number),
    )


def entries(numbers=DOCUMENTS):
    return [entry(n, *DOCUMENTS[n]) for n in numbers]


# PostgreSQL's own engine: a SQLite site refuses it (test_a_sqlite_site_refuses_it).
ON_POSTGRESQL = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


@pytest.fixture
def engine(app, backend):
    """The app's engine on PostgreSQL, built from ``DOCUMENTS`` (in an app context for the test's duration)."""
    with app.app_context():
        engine = indexer.backend()
        assert isinstance(engine, PostgresBackend)
        with engine.write_lock(timeout=1):
            assert engine.rebuild(entries()) == len(DOCUMENTS)
        yield engine


def keys(result) -> set[str]:
    return set(result.keys)


QUERIES = [
    ("", {}),
    ("проектами", {}),
    ("проект", {"age": "8-9"}),
    ("проект", {"age": "8-9", "sphere": "it"}),
    ("проект", {"sphere": "нет такой"}),
    ('"юный энергетик"', {}),
    ('"энергетик юный"', {}),
    ("проект -инженер", {}),
    ("NOT ёлка", {}),
    ("гэс OR ёлка", {}),
    ("энергетик эколог", {}),
    ("инженеры проекты ёлка", {"age": "10-11"}),
]


@pytest.mark.stale_index  # the documents are the test's own, not the site's
@pytest.mark.parametrize(("text", "filters"), QUERIES)
@ON_POSTGRESQL
def test_the_same_documents_counts_and_facets_as_whoosh(engine, tmp_path, text, filters):
    whoosh = WhooshBackend(tmp_path / "search")
    with whoosh.write_lock(timeout=1):
        whoosh.rebuild(entries())
    for any_word in (False, True):
        for prefix in (False, True):
            query = EngineQuery(parse(text, prefix=prefix), filters, any_word=any_word, limit=50)
            ours, theirs = engine.search(query), whoosh.search(query)
            assert keys(ours) == keys(theirs), (text, filters, any_word, prefix)
            assert (ours.total, ours.complete, ours.searched) == (theirs.total, theirs.complete, theirs.searched)
            # A chosen facet's counts ignore its own choice, as Whoosh's do
            assert ours.counts == theirs.counts
            assert ours.terms == theirs.terms


@pytest.mark.stale_index
@ON_POSTGRESQL
def test_what_no_engine_would_read_still_gives_whooshs_answer(engine, tmp_path):
    whoosh = WhooshBackend(tmp_path / "search")
    with whoosh.write_lock(timeout=1):
        whoosh.rebuild(entries())
    for text in ['"', "AND OR NOT", "проект*", "title:проект", "(((", "-", "\x00\x07", "\ud800проект\udfff", "'",
                 "\\", "%", "проект' OR 1=1 --", "a:* & !b", "слово " * 100, '-"ёлка"', "OR OR проект AND"]:
        for any_word in (False, True):
            query = EngineQuery(parse(text, prefix=True), {"age": "8-9"}, any_word=any_word)
            ours, theirs = engine.search(query), whoosh.search(query)
            assert (keys(ours), ours.total, ours.counts) == (keys(theirs), theirs.total, theirs.counts), text


@pytest.mark.stale_index
@ON_POSTGRESQL
def test_ranking_and_date_order_follow_whoosh(engine):
    # A title match first; more of the words first; no words: newest first; by date: newest first
    assert engine.search(EngineQuery(parse("проекты"))).keys[0] == "project:3"
    assert engine.search(EngineQuery(parse("энергетик эколог"), any_word=True)).keys[0] == "project:5"
    assert engine.search(EngineQuery(parse(""), limit=2)).keys == ["project:5", "project:4"]
    by_date = engine.search(EngineQuery(parse("проект"), sort="date", limit=50))
    assert by_date.keys == sorted(by_date.keys, reverse=True)
    # Paging past the end: the total, no keys
    beyond = engine.search(EngineQuery(parse("проект"), offset=40))
    assert beyond.keys == [] and beyond.total == 4


@pytest.mark.stale_index
@ON_POSTGRESQL
def test_one_writer_at_a_time_through_an_advisory_lock(engine):
    # Another writer (another connection, as another process would have) waits, then gives up
    with engine.write_lock(timeout=1), pytest.raises(IndexUnavailable), engine.write_lock(timeout=0.2):
        pass
    # Released: the next writer takes it at once
    with engine.write_lock(timeout=0.2):
        engine.apply([], ["project:2"])
    assert "project:2" not in keys(engine.search(EngineQuery(parse("ёлка"))))


@pytest.mark.stale_index
@ON_POSTGRESQL
def test_searches_go_on_during_a_rebuild_and_see_the_new_index_after_it(app, engine):
    halfway, resume = threading.Event(), threading.Event()
    errors = []

    def slow_entries():
        yield from entries([1, 3])
        halfway.set()
        assert resume.wait(10)
        yield from entries([5])

    def rebuild():
        with app.app_context():
            try:
                with engine.write_lock(timeout=1):
                    engine.rebuild(slow_entries())
            except Exception as e:  # any failure fails the test below
                errors.append(e)

    thread = threading.Thread(target=rebuild)
    thread.start()
    try:
        assert halfway.wait(10)
        # Half the new rows are written, not committed: the old index answers, whole
        assert keys(engine.search(EngineQuery(parse("")))) == {f"project:{n}" for n in DOCUMENTS}
        assert engine.search(EngineQuery(parse("ёлка"))).keys == ["project:2"]
    finally:
        resume.set()
        thread.join()
    assert not errors
    from catalogue.extensions import db

    db.session.rollback()  # a new transaction sees the swap
    assert keys(engine.search(EngineQuery(parse("")))) == {"project:1", "project:3", "project:5"}


@pytest.mark.stale_index
@ON_POSTGRESQL
def test_typos_and_completions_come_from_the_trigram_dictionary(engine, tmp_path):
    words = engine.dictionary()
    assert words.completions("энерг") == ["энергетик", "энергетика", "энергетики", "энергии"]
    assert words.completions("zzz") == []
    whoosh = WhooshBackend(tmp_path / "search")
    with whoosh.write_lock(timeout=1):
        whoosh.rebuild(entries())
    for typed in ["энергетеке проект", "праекты", "кибербезопастность", "йцукенг", "элка"]:
        # The same corrections as Whoosh's symmetric-delete dictionary
        assert list(spelling.alternatives(engine, typed)) == list(spelling.alternatives(whoosh, typed)), typed
    assert list(spelling.alternatives(engine, "энергетеке проект"))[-1] == "энергетик проект"
    # The incremental sync adds the words of new documents
    with engine.write_lock(timeout=1):
        engine.apply([entry(6, "Металлурги Шелехова", "Алюминиевый завод.", ["8-9"], ["industry"])], [])
    assert engine.dictionary().counts["металлурги"] == 1
    assert list(spelling.alternatives(engine, "металурги"))[-1] == "металлурги"


def test_a_sqlite_site_refuses_it(tmp_path):
    config = app_config(tmp_path / "instance", f"sqlite:///{tmp_path / 'site.db'}") | {"SEARCH_BACKEND": "postgresql"}
    with pytest.raises(RuntimeError, match="SEARCH_BACKEND=postgresql ищет средствами PostgreSQL"):
        make_test_app(config)


@ON_POSTGRESQL
def test_health_and_search_check_know_the_database_engine(app, backend, client, runner, make_user):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    with app.app_context():
        assert isinstance(indexer.backend(), PostgresBackend)
    result = runner.invoke(args=["search", "check"])  # nothing built yet: says so, and how to fix it
    assert result.exit_code == 1 and "Индекс в базе данных ещё не построен" in result.output
    assert "search rebuild" in result.output
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Сварка")  # the first sync builds the index
    health = client.get("/healthz").get_json()["checks"]["search"]
    assert health["ok"] and health["index_present"] and 0 <= health["index_age_seconds"] < 60
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    assert "Опубликовано: 1, в индексе: 1" in result.output
