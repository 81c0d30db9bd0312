"""Search forgives typos, the wrong keyboard layout and a word still being typed; the header box suggests.

Corrections come from a dictionary of the words as published (surface forms, never stems) that the indexer keeps
beside the index; a query that finds little is corrected word by word, and the page says what it searched.
"""

import datetime as dt
import re

import pytest
from werkzeug.datastructures import MultiDict

from catalogue.search import indexer, spelling, stored
from catalogue.search.analysis import fold, spelling_words
from catalogue.search.backend import EngineQuery, IndexEntry
from catalogue.search.query import parse
from catalogue.search.service import SearchParams
from catalogue.search.whoosh_backend import WhooshBackend
from tests.factories import make_project

# With PostgreSQL, these run with SEARCH_BACKEND=postgresql; tests marked ``whoosh`` are about Whoosh's files.
pytestmark = pytest.mark.search_engine

VET = ("Ветеринар в сельском хозяйстве", "Профпроба для восьмиклассников в ветклинике: ветеринары лечат коров.")
CODE = ("Программирование роботов", "Учимся программированию на Python; программисты Иркутска в гостях.")
METAL = ("Юный металлург", "Экскурсия на алюминиевый завод в Братске: металлургия и её профессии.")


@pytest.fixture
def publish(app, make_user):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")

    def make(title: str, summary: str = "Проект для школьников.") -> int:
        with app.test_request_context():
            return make_project(teacher, "published", moderator=moderator, title=title, summary=summary).id

    return make


def page(client, **args) -> str:
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def titles(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<h3><a href="[^"]*">(.*?)</a></h3>', html)]


def said(meant: str, typed: str) -> str:
    return rf"Показаны результаты по запросу «{re.escape(meant)}»\. Искать\s*«<a [^>]*>{re.escape(typed)}</a>»"


# -- typos ----------------------------------------------------------------------------------------------


def test_a_misspelt_word_shows_the_results_of_the_right_one_and_offers_the_words_as_typed(client, publish):
    for item in (VET, CODE, METAL):
        publish(*item)
    for typed, meant, found in (
        ("ветиринар", "ветеринар", VET[0]),
        ("програмирование", "программирование", CODE[0]),
        ("металург", "металлург", METAL[0]),
        ("Ветиринар ", "ветеринар", VET[0]),  # a whole word (a space after it), capitalised
    ):
        html = page(client, q=typed)
        assert titles(html) == [found], typed
        assert re.search(said(meant, typed.strip()), html), typed
        assert "ничего не найдено" not in html
        # The link searches the words as typed, with no correction (exact=1).
        as_typed = re.search(r'Искать\s*«<a href="([^"]*)"', html).group(1).replace("&amp;", "&")
        assert "exact=1" in as_typed
        exact = client.get(as_typed).get_data(as_text=True)
        assert f"По запросу «{typed.strip()}» ничего не найдено" in exact and "Показаны результаты" not in exact


def test_a_longer_query_is_corrected_word_by_word(client, publish):
    publish(*METAL)
    publish(*VET)
    html = page(client, q="Металург на алюминевый заводе ")
    assert titles(html) == [METAL[0]]
    # Each misspelt word is replaced by its correction; the others («на», «заводе») stay as typed.
    assert re.search(said("металлург на алюминиевый заводе", "Металург на алюминевый заводе"), html)


def test_a_suggestion_is_a_published_word_never_a_stem(client, publish, app):
    publish("Железнодорожники Приангарья", "Машинисты и проводники рассказывают о работе на Восточно-Сибирской.")
    html = page(client, q="железнодоржники ")
    assert re.search(said("железнодорожники", "железнодоржники"), html)
    assert "железнодорожн»" not in html
    with app.app_context():
        words = set(indexer.backend().dictionary().counts)
        documents = stored.load([key for key, _digest in indexer.backend().digests()])
    published = set().union(*(spelling_words(f"{d.title} {d.text}") for d in documents.values()))
    # Surface forms only, as published: «железнодорожники», no stem such as «железнодорожн».
    assert "железнодорожники" in words and "железнодорожн" not in words and words <= published


def test_a_query_that_finds_enough_is_left_as_typed(client, publish):
    for n in range(3):
        publish(f"Ветеринар {n + 1}", "Ветеринары и ветврачи.")
    publish("Ветеран труда", "Встреча с ветераном.")
    html = page(client, q="ветеринар ")
    assert len(titles(html)) == 3 and "Показаны результаты" not in html
    # «ветеран» is a real word of the index: it is searched as it is, not «corrected» to a more frequent one.
    html = page(client, q="ветеран ")
    assert titles(html) == ["Ветеран труда"] and "Показаны результаты" not in html


def test_another_form_of_a_known_word_is_no_typo():
    words = {"проекты": 5, "проектов": 2, "протекты": 9, "ветеринар": 3}
    dictionary = spelling.Dictionary(words)
    analyzer = WhooshBackend("/nonexistent").analyzer

    def stem(word):
        return analyzer.terms(word)[0]

    assert dictionary.correct("проектах", stem) is None  # the index finds it: its stem is known
    assert dictionary.correct("ветиринар", stem) == "ветеринар"
    assert spelling.damerau_levenshtein("ветеринар", "ветернiар", 2) == 2
    assert spelling.damerau_levenshtein("металург", "металлург", 2) == 1
    assert spelling.damerau_levenshtein("прогарммирование", "программирование", 2) == 1  # a transposition
    assert dictionary.correct("вет", stem) is None  # short words: one edit at most, and «вет» has no neighbour


def test_the_dictionary_follows_the_outbox_and_the_rebuild(app, client, publish, runner):
    publish(*VET)
    assert titles(page(client, q="металург")) == []  # not published yet: nothing to correct it to
    publish(*METAL)  # the incremental sync adds its words
    assert titles(page(client, q="металург")) == [METAL[0]]
    with app.app_context():
        before = dict(indexer.backend().dictionary().counts)
    assert runner.invoke(args=["search", "rebuild"]).exit_code == 0
    with app.app_context():
        after = dict(indexer.backend().dictionary().counts)
    assert after == before and after["металлург"] == 1


# -- keyboard layout ------------------------------------------------------------------------------------


def test_the_other_layout_is_corrected_too(client, publish):
    publish(*VET)
    publish("Умная теплица на Arduino", "Датчики влажности и полив.")
    html = page(client, q="dtnbhbyfh")  # «ветиринар» typed on QWERTY: converted, then corrected
    assert titles(html) == [VET[0]] and re.search(said("ветеринар", "dtnbhbyfh"), html)
    html = page(client, q="фквгштщ")  # «arduino» typed on ЙЦУКЕН
    assert titles(html) == ["Умная теплица на Arduino"] and re.search(said("arduino", "фквгштщ"), html)


# -- prefixes -------------------------------------------------------------------------------------------


def test_a_word_being_typed_finds_the_words_it_begins(client, publish):
    publish(*VET)
    publish(*CODE)
    assert titles(page(client, q="програм")) == [CODE[0]]
    assert titles(page(client, q="ветерин")) == [VET[0]]
    assert titles(page(client, q="учимся програм")) == [CODE[0]]
    html = page(client, q="ветерин")
    assert "<mark>Ветеринар</mark>" in html and "Показаны результаты" not in html


def test_a_space_after_the_word_ends_it():
    assert SearchParams.from_args(MultiDict({"q": "програм"})).typing
    assert not SearchParams.from_args(MultiDict({"q": "програм "})).typing
    assert parse("учимся програм", prefix=True).prefix
    assert not parse("програм", prefix=False).prefix
    assert not parse("пр", prefix=True).prefix  # fewer than three letters
    assert not parse('"програм"', prefix=True).prefix and not parse("роботы -програм", prefix=True).prefix


def entry(number: int, title: str, text: str) -> IndexEntry:
    return IndexEntry(f"project:{number}", "project", title, text, {"type": ["project"]},
                      dt.datetime(2026, 1, number, tzinfo=dt.UTC), str(number))


def test_the_whole_word_ranks_above_words_it_only_begins(tmp_path):
    backend = WhooshBackend(tmp_path / "search")
    with backend.write_lock(timeout=1):
        backend.rebuild([entry(1, "Проектировщики мостов", "Проектировщики и проектирование."),
                         entry(2, "Экскурсия", "Мы сделали проект моста.")])
    keys = backend.search(EngineQuery(parse("проект", prefix=True))).keys
    assert keys == ["project:2", "project:1"]  # without the prefix the title «Проектировщики» weighs three times
    assert backend.search(EngineQuery(parse("проект"))).keys == ["project:2"]


# -- autocomplete ---------------------------------------------------------------------------------------


def test_the_suggestions_offer_titles_and_words_escaped(client, publish):
    publish("Программирование <script>alert(1)</script> роботов", "Программисты и программы.")
    publish(*VET)
    response = client.get("/search/suggest", query_string={"q": "прогр"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html
    options = re.findall(r'<li role="option" id="([^"]+)"[^>]*>(.*?)</li>', html, re.S)
    assert len(options) >= 3
    title = options[0][1]
    assert "&lt;script&gt;" in title and "<script>" not in html
    assert re.search(r'data-href="/projects/\d+-[^"]+"', html)
    words = re.findall(r'data-value="([^"]*)"', html)
    assert set(words) <= {"программирование", "программисты", "программы"} and "программы" in words
    assert len({id_ for id_, _ in options}) == len(options)  # ids for aria-activedescendant
    # Nothing for one letter, or for a word nothing begins.
    assert client.get("/search/suggest", query_string={"q": "п"}).get_data(as_text=True).strip() == ""
    assert "option" not in client.get("/search/suggest", query_string={"q": "щщщщ"}).get_data(as_text=True)


def test_the_suggestions_complete_the_last_word_of_several(client, publish):
    publish(*CODE)
    html = client.get("/search/suggest", query_string={"q": "учимся прогр"}).get_data(as_text=True)
    assert 'data-value="учимся программированию"' in html
    assert fold(CODE[0]) in fold(re.sub(r"<[^>]+>", "", html))


def test_a_word_found_through_a_related_word_or_being_typed_is_not_corrected(app, client, publish):
    from sqlalchemy import insert

    from catalogue.extensions import db
    from catalogue.search import thesaurus

    with app.app_context():
        db.session.execute(insert(thesaurus.SynonymGroup), [thesaurus.group_row(["сварка", "сварщик"])])
        db.session.commit()
    publish("Сварщик: профпроба в техникуме", "Ребята варят первый шов.")
    publish("Сборка скворечника", "Сборка домика для птиц.")
    publish("Сборка модели", "Сборка из конструктора.")
    publish("Детский врач", "Врач-педиатр рассказывает о работе.")
    publish("Медиа в школе", "Медиа и журналистика.")
    # «сварка» is in no text, but the thesaurus finds the welder: no «сборка» in its place
    html = page(client, q="сварка")
    assert titles(html) == ["Сварщик: профпроба в техникуме"] and "Показаны результаты по запросу" not in html
    # «педиа», being typed, begins «педиатр»: it is not a typo of «медиа»
    html = page(client, q="педиа")
    assert titles(html) == ["Детский врач"] and "Показаны результаты по запросу" not in html
