"""Search on the site: what is found, the page with and without htmx, and an index kept true through the outbox."""

import re
import shutil
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from catalogue.extensions import db
from catalogue.search import indexer
from catalogue.search.backend import EngineQuery, IndexUnavailable
from catalogue.search.outbox import SearchOutbox
from catalogue.search.query import parse
from catalogue.workflow import services as workflow
from tests.factories import make_project

# With PostgreSQL, these run with SEARCH_BACKEND=postgresql; tests marked ``whoosh`` are about Whoosh's files.
pytestmark = pytest.mark.search_engine


@pytest.fixture
def teacher(make_user):
    return make_user(roles=("teacher",), email="teacher@example.ru")


@pytest.fixture
def moderator(make_user):
    return make_user(roles=("moderator",), email="moderator@example.ru")


@pytest.fixture
def publish(app, teacher, moderator):
    """Publish a project through the real services; returns its id."""

    def make(state="published", **kw) -> int:
        with app.test_request_context():
            return make_project(teacher, state, moderator=moderator, **kw).id

    return make


def hits(client, **args) -> list[str]:
    """The result titles on the search page (the full page, as without JavaScript)."""
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<h3><a href="[^"]*">(.*?)</a></h3>', html)]


def indexed_keys(app, text="") -> list[str]:
    """What the index itself answers (no safety-net sync on the way)."""
    with app.app_context():
        return indexer.backend().search(EngineQuery(parse(text), limit=100)).keys


def outbox_size(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SearchOutbox))


@contextmanager
def count_queries(app):
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


# -- what is found --------------------------------------------------------------------------------


def test_any_word_form_finds_the_project(client, publish):
    publish(title="Проекты по энергетике", summary="Моделирование турбины и ёлка из бутылок.")
    for text in ("проект", "проекты", "проектов", "проектами", "моделированию", "елка", "ЁЛКИ"):
        assert hits(client, q=text) == ["Проекты по энергетике"], text


def test_only_published_items_are_found(client, publish):
    publish(state="draft", title="Черновик об энергетике")
    publish(state="submitted", title="Энергетика на проверке")
    publish(title="Энергетика опубликована")
    assert hits(client, q="энергетика") == ["Энергетика опубликована"]


def test_unpublishing_removes_the_item_and_republishing_brings_it_back(app, client, publish, moderator):
    project_id = publish(title="Лесная профессия")
    assert hits(client, q="лесная") == ["Лесная профессия"]
    with app.test_request_context():
        from catalogue.projects.models import Project

        project = db.session.get(Project, project_id)
        workflow.transition(db.session.merge(moderator), project, "unpublish", "Устарело.")
    assert indexed_keys(app, "лесная") == []
    assert hits(client, q="лесная") == []
    with app.test_request_context():
        project = db.session.get(Project, project_id)
        workflow.transition(db.session.merge(moderator), project, "republish")
    assert indexed_keys(app, "лесная") == [f"project:{project_id}"]


def test_changes_are_in_the_index_right_after_the_commit(app, publish):
    project_id = publish(title="Робототехника")
    assert indexed_keys(app, "робототехника") == [f"project:{project_id}"]
    assert outbox_size(app) == 0


# -- the page -------------------------------------------------------------------------------------------


def test_facets_show_counts_and_narrow_the_results(client, publish):
    publish(title="Энергетика для младших", ages=["6-7"], spheres=["energy"])
    publish(title="Энергетика для средних", ages=["8-9"], spheres=["energy", "it"])
    publish(title="Энергетика для старших", ages=["10-11"], spheres=["it"])
    html = client.get("/search", query_string={"q": "энергетика"}).get_data(as_text=True)
    assert "Найдено: <strong>3 материала</strong>" in html
    assert re.search(r"8–9 классы</span> <span class=\"facet-count\">1<", html)
    assert re.search(r"Информационные технологии</span> <span class=\"facet-count\">2<", html)
    # Choosing a sphere narrows the results; the age groups count within it
    assert sorted(hits(client, q="энергетика", sphere="it")) == ["Энергетика для средних", "Энергетика для старших"]
    html = client.get("/search", query_string={"q": "энергетика", "sphere": "it"}).get_data(as_text=True)
    assert "Найдено: <strong>2 материала</strong>" in html
    assert "6–7 классы" not in html
    assert "Профессиональная сфера: Информационные технологии" in html  # the choice, with a link to remove it


def test_snippets_mark_the_words_and_escape_the_text(client, publish):
    publish(  # one sentence: a snippet is the best sentence
        title="Безопасность <b>в сети</b>",
        summary="Говорим о паролях <script>alert('x')</script> и какие Пароли надёжные.",
    )
    html = client.get("/search", query_string={"q": "пароли"}).get_data(as_text=True)
    assert "<mark>паролях</mark>" in html and "<mark>Пароли</mark>" in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "Безопасность &lt;b&gt;в сети&lt;/b&gt;" in html


def test_a_misspelt_query_suggests_the_right_word(client, publish):
    publish(title="Юный энергетик")
    html = client.get("/search", query_string={"q": "энергетек"}).get_data(as_text=True)
    assert re.search(r"Показаны результаты по запросу «энергетик»\. Искать\s*«<a [^>]*>энергетек</a>»", html)


def test_a_query_typed_in_the_wrong_keyboard_layout_shows_results_for_the_right_one(client, publish):
    publish(title="Ветеринар в сельском хозяйстве", summary="Профпроба для восьмиклассников в ветклинике.")
    publish(title="Умная теплица на Arduino", summary="Датчики влажности и полив.")
    for typed, meant, found in (
        ("dtnthbyfh", "ветеринар", "Ветеринар в сельском хозяйстве"),  # Russian typed on QWERTY
        ("ghjaghj,f", "профпроба", "Ветеринар в сельском хозяйстве"),  # «,» is the key of «б»
        ("фквгштщ", "arduino", "Умная теплица на Arduino"),  # English typed on ЙЦУКЕН
    ):
        assert hits(client, q=typed) == [found], typed
        html = client.get("/search", query_string={"q": typed}).get_data(as_text=True)
        said = rf"Показаны результаты по запросу «{meant}»\. Искать\s*«<a [^>]*>{re.escape(typed)}</a>»"
        assert re.search(said, html), typed
        assert "ничего не найдено" not in html


def test_search_as_typed_turns_the_layout_correction_off(client, publish):
    publish(title="Ветеринар в сельском хозяйстве")
    html = client.get("/search", query_string={"q": "dtnthbyfh"}).get_data(as_text=True)
    as_typed = re.search(r'Искать\s*«<a href="([^"]*)"', html).group(1).replace("&amp;", "&")
    page = client.get(as_typed).get_data(as_text=True)
    assert "По запросу «dtnthbyfh» ничего не найдено" in page
    assert "Показаны результаты" not in page


def test_htmx_active_search_corrects_the_layout_too(client, publish):
    publish(title="Ветеринар в сельском хозяйстве")
    response = client.get("/search", query_string={"q": "dtnthbyfh"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert "Показаны результаты по запросу «ветеринар»" in html


def test_a_query_that_finds_results_as_typed_is_not_converted(client, publish):
    publish(title="Arduino для начинающих")
    publish(title="Ветеринар в сельском хозяйстве")
    assert hits(client, q="arduino") == ["Arduino для начинающих"]
    assert hits(client, q="ветеринар") == ["Ветеринар в сельском хозяйстве"]
    for text in ("arduino", "ветеринар"):
        assert "Показаны результаты" not in client.get("/search", query_string={"q": text}).get_data(as_text=True)


def test_a_query_whose_other_layout_is_only_stop_words_finds_nothing(client, publish):
    publish(title="Ветеринар в сельском хозяйстве")
    html = client.get("/search", query_string={"q": "lkz"}).get_data(as_text=True)  # «для» on ЙЦУКЕН
    assert "По запросу «lkz» ничего не найдено" in html
    assert "Недавно опубликованное" not in html


def test_all_words_first_then_any_word(client, publish):
    publish(title="Энергетика Ангары")
    assert hits(client, q="энергетика космонавтика") == ["Энергетика Ангары"]
    html = client.get("/search", query_string={"q": "энергетика космонавтика"}).get_data(as_text=True)
    assert "хотя бы одно из них" in html


def test_an_empty_query_shows_recent_items_newest_first(client, publish):
    publish(title="Первый проект")
    publish(title="Второй проект")
    html = client.get("/search").get_data(as_text=True)
    assert "Недавно опубликованное" in html
    assert hits(client) == ["Второй проект", "Первый проект"]


def test_results_sort_by_date_and_page(client, publish):
    for n in range(1, 13):
        publish(title=f"Проект номер {n}")
    assert hits(client, q="проект", sort="date")[:2] == ["Проект номер 12", "Проект номер 11"]
    page_two = hits(client, q="проект", sort="date", page=2)
    assert page_two == ["Проект номер 2", "Проект номер 1"]
    # A page past the end shows the last one
    assert hits(client, q="проект", sort="date", page=99) == page_two


def test_htmx_gets_only_the_results_block(client, publish):
    publish(title="Энергетика")
    response = client.get("/search", query_string={"q": "энергетика"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'class="search-hit"' in html
    assert "<title>«энергетика»: поиск" in html  # htmx updates the window title from it
    assert 'id="search-state" hx-swap-oob="true"' in html
    assert "HX-Request" in response.headers["Vary"]
    # Without htmx the same address is the whole page, with the header box active
    html = client.get("/search", query_string={"q": "энергетика"}).get_data(as_text=True)
    assert "<html" in html and 'hx-trigger="input changed delay:300ms, search"' in html
    assert 'value="энергетика"' in html


@pytest.mark.parametrize(
    "text", ['"', "AND OR NOT", "*", "title:проект*", "\x07\x1f", "проект " * 200, '"юный', "%00", "-", "ёЁ"]
)
def test_any_input_gives_a_page(client, publish, text):
    # A NUL byte is refused before any view, with a 400 (tests/test_input_bounds.py)
    publish(title="Юный проект")
    assert client.get("/search", query_string={"q": text, "age": text, "page": text, "sort": text}).status_code == 200


def test_a_page_of_results_costs_a_fixed_number_of_queries(app, client, publish):
    publish(title="Проект один", ages=["8-9"], spheres=["energy"])
    client.get("/search", query_string={"q": "проект"})
    with count_queries(app) as few:
        client.get("/search", query_string={"q": "проект"})
    for n in range(6):
        publish(title=f"Проект ещё {n}", ages=["6-7", "10-11"], spheres=["it", "energy"])
    client.get("/search", query_string={"q": "проект"})
    with count_queries(app) as many:
        assert len(hits(client, q="проект")) == 7
    assert len(many) == len(few)


# -- keeping the index true --------------------------------------------------------------------------


def test_a_locked_index_loses_nothing(app, publish):
    app.config["SEARCH_LOCK_TIMEOUT"] = 0.1
    publish(title="Первый")
    with app.app_context():
        engine = indexer.backend()
    with engine.write_lock(timeout=1):  # another writer holds the index
        project_id = publish(title="Сварка и электромонтаж")
        assert indexed_keys(app, "сварка") == []
        assert outbox_size(app) >= 1
    # The writer is gone: the next sync applies what waited
    with app.app_context():
        report = indexer.sync()
    assert report.error is None and report.applied >= 1
    assert indexed_keys(app, "сварка") == [f"project:{project_id}"]
    assert outbox_size(app) == 0


@pytest.mark.whoosh
def test_an_unusable_index_directory_loses_nothing(app, publish):
    with app.app_context():
        root = indexer.backend().root
    publish(title="Первый")
    shutil.rmtree(root)
    root.write_text("not a directory")  # the index cannot even be created
    project_id = publish(title="Геология Бодайбо")
    assert outbox_size(app) >= 1
    root.unlink()
    with app.app_context():
        report = indexer.sync()
    # The index was missing: it is built again from the database, the waiting change included
    assert report.rebuilt == 2
    assert indexed_keys(app, "геология") == [f"project:{project_id}"]
    assert outbox_size(app) == 0


@pytest.mark.whoosh
def test_a_deleted_index_is_built_again_at_the_next_change(app, publish):
    first = publish(title="Агрономы")
    with app.app_context():
        shutil.rmtree(indexer.backend().root)
    second = publish(title="Агрономия")
    assert sorted(indexed_keys(app, "агрономия")) == sorted([f"project:{first}", f"project:{second}"])


@pytest.mark.whoosh
def test_rebuild_swaps_in_a_new_index_while_searches_go_on(app, publish):
    ids = [publish(title=f"Экология {n}") for n in range(3)]
    errors, answers = [], []
    stop = threading.Event()

    def search_continuously():
        with app.app_context():
            engine = indexer.backend()
            while not stop.is_set():
                try:
                    answers.append(len(engine.search(EngineQuery(parse("экология"))).keys))
                except Exception as e:  # any failure fails the test below
                    errors.append(e)

    thread = threading.Thread(target=search_continuously)
    thread.start()
    try:
        with app.app_context():
            before = indexer.backend().current_name()
            for _ in range(3):
                assert indexer.rebuild() == 3
            after = indexer.backend().current_name()
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert answers and set(answers) == {3}
    assert before != after
    assert sorted(indexed_keys(app, "экология")) == sorted(f"project:{i}" for i in ids)


def test_rebuild_waits_for_the_writer_lock(app, publish):
    publish(title="Туризм")
    with app.app_context():
        engine = indexer.backend()
        with engine.write_lock(timeout=1), pytest.raises(IndexUnavailable):
            indexer.rebuild(lock_timeout=0.1)


def test_check_reports_missing_stale_and_extra_items(app, publish, runner):
    first = publish(title="Медицина")
    second = publish(title="Авиация")
    with app.app_context():
        assert indexer.check().ok
        engine = indexer.backend()
        with engine.write_lock(timeout=1):
            engine.apply([], [f"project:{first}"])
            stale = indexer.entry_for(indexer.registry.get("project"), _project(second))
            stale.digest = "old"
            stale.title = "Старое название"
            engine.apply([stale], [])
            extra = indexer.entry_for(indexer.registry.get("project"), _project(second))
            extra.key = "project:999999"
            engine.apply([extra], [])
        db.session.commit()  # a database engine writes in the caller's transaction
        report = indexer.check()
    assert report.missing == [f"project:{first}"]
    assert report.stale == [f"project:{second}"]
    assert report.extra == ["project:999999"]
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1 and "Нет в индексе (1)" in result.output
    # A rebuild puts it right
    assert runner.invoke(args=["search", "rebuild"]).exit_code == 0
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0, result.output
    assert "Индекс соответствует базе данных." in result.output


def test_sync_command_applies_the_outbox(app, publish, runner):
    app.config["SEARCH_SYNC_IN_PROCESS"] = False  # as with several worker processes
    project_id = publish(title="Железная дорога")
    assert outbox_size(app) >= 1
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert indexed_keys(app, "железная") == [f"project:{project_id}"]
    assert outbox_size(app) == 0


def _project(project_id):
    from catalogue.projects.models import Project

    return db.session.get(Project, project_id)
