"""Ranking of multiword queries: more of the query's words first, filler words never count against a document."""

import re

import pytest

from catalogue.extensions import db
from catalogue.projects import services as projects
from catalogue.search import thesaurus
from catalogue.search.thesaurus import SynonymGroup
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
    """Publish a project whose searchable text is ``text`` and little else."""

    def make(title: str, text: str = "Без подробностей.", spheres=("creative",), ages=("8-9",)) -> int:
        with app.test_request_context():
            return make_project(
                teacher,
                "published",
                moderator=moderator,
                title=title,
                summary=text,
                goal="Цель.",
                expected_results="Итог.",
                resources="",
                spheres=list(spheres),
                ages=list(ages),
                stages=[projects.StageData("Этап", "Описание.")],
            ).id

    return make


def search(client, q: str) -> tuple[list[str], str]:
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<h3><a href="[^"]*">(.*?)</a></h3>', html)], html


def test_three_of_four_words_outrank_one_in_the_title(client, publish):
    publish("Турбина", "Турбина, турбина, турбина.")  # BM25 alone would put this first
    publish("Поездка на реку", "Плотина и водохранилище на Ангаре.")
    titles, html = search(client, "турбина плотина водохранилище ангара")
    assert titles == ["Поездка на реку", "Турбина"]
    assert "хотя бы одно из них" in html  # no document has all four


def test_documents_with_every_word_come_first_and_the_page_counts_them(client, publish):
    publish("Плотина", "Плотина, плотина, плотина.")
    publish("Экскурсия", "Плотина и турбина гидроэлектростанции.")
    titles, html = search(client, "плотина турбина")
    assert titles == ["Экскурсия", "Плотина"]
    assert "Все слова запроса — в 1 материале" in html


def test_filler_and_question_words_do_not_count_against_a_document(app, client, publish):
    with app.app_context():
        db.session.add(SynonymGroup(**thesaurus.group_row(["профпроба", "профессиональная проба"])))
        db.session.add(SynonymGroup(**thesaurus.group_row(["восьмиклассники", "8 класс", "8–9 классы"])))
        db.session.commit()
    publish("Профессиональная проба «Электромонтёр»", "Для учащихся 8 класса: собрать щиток.")
    publish("Профпроба на ферме", "Школьники 8–9 классов пробуют работу зоотехника.")
    publish("Театральная студия", "Сцена и свет.")
    titles, _html = search(client, "как провести профпробу для восьмиклассников")
    assert set(titles) == {"Профессиональная проба «Электромонтёр»", "Профпроба на ферме"}
    titles, html = search(client, "какие можно найти профпробы")
    assert set(titles) == {"Профессиональная проба «Электромонтёр»", "Профпроба на ферме"}
    assert "хотя бы одно из них" not in html  # «какие», «можно», «найти» are not words to look for


def test_words_near_each_other_in_the_title_rank_higher(client, publish):
    # The same words, as often, in titles as long: only their distance differs (the newer would win a tie).
    publish("Ремонт самолётов, покраска стен школы", "Коротко.")
    publish("Ремонт школы, покраска стен и самолётов", "Коротко.")
    titles, _html = search(client, "ремонт самолётов")
    assert titles == ["Ремонт самолётов, покраска стен школы", "Ремонт школы, покраска стен и самолётов"]


# -- snippets are sentences -----------------------------------------------------------------------------------


def snippet_of(html: str) -> str:
    return re.search(r'<p class="search-snippet">(.*?)</p>', html, re.S).group(1)


def test_the_snippet_is_the_sentence_with_most_of_the_words(client, publish):
    publish("Экскурсия", "Сначала знакомство со школой. Турбина и плотина станции вблизи. Потом турбина ещё раз.")
    _titles, html = search(client, "плотина турбина")
    assert snippet_of(html) == "<mark>Турбина</mark> и <mark>плотина</mark> станции вблизи."


def test_of_sentences_as_good_the_earliest_is_shown(client, publish):
    publish("Экскурсия", "Вводное занятие. Первая встреча с турбиной. Вторая встреча с турбиной.")
    _titles, html = search(client, "турбина")
    assert snippet_of(html) == "Первая встреча с <mark>турбиной</mark>."


def test_a_match_in_a_tag_shows_the_tag_not_a_run_of_tags(client, publish):
    publish("Кружок", "Собираем модели из конструктора.", spheres=("robotics", "creative"))
    _titles, html = search(client, "беспилотные")
    assert snippet_of(html) == "Собираем модели из конструктора."
    hit = re.search(r'<li class="search-hit">(.*?)</li>', html, re.S).group(1)
    assert '<span class="badge">Робототехника и беспилотные системы</span>' in hit
    assert "Креативные индустрии" not in hit  # the other sphere, not matched: no run of labels


def test_snippets_are_escaped(client, publish):
    publish("Экскурсия", "Турбина <script>alert(1)</script> на станции.")
    _titles, html = search(client, "турбина")
    assert "<mark>Турбина</mark> &lt;script&gt;alert(1)&lt;/script&gt; на станции." in snippet_of(html)


# -- taxonomy words ---------------------------------------------------------------------------------------------


def test_a_word_of_a_spheres_description_finds_the_items_tagged_with_it(app, client, publish):
    from catalogue.taxonomy.models import Sphere

    publish("Кружок «Умные машины»", "Собираем модели из конструктора.", spheres=("robotics",))
    publish("Школа дизайна", "Рисуем плакаты.", spheres=("creative",))
    assert search(client, "роботы")[0] == ["Кружок «Умные машины»"]  # «Роботы, БПЛА…» describes the sphere
    assert search(client, "дроны")[0] == []
    with app.app_context():
        sphere = db.session.scalar(db.select(Sphere).where(Sphere.slug == "robotics"))
        sphere.description = "Роботы, дроны, автоматизация производства"
        db.session.commit()
    assert search(client, "дроны")[0] == ["Кружок «Умные машины»"]  # the next search, with no reindex


def test_a_word_every_age_group_has_finds_nothing_by_itself(client, publish):
    publish("Школа дизайна", "Рисуем плакаты.", ages=("6-7",))
    assert search(client, "классы")[0] == []  # «классы» is in every age group's name: it says nothing
    assert search(client, "6")[0] == ["Школа дизайна"]  # «6–7 классы»
