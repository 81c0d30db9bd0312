"""The search thesaurus: related words found at query time, named on the page, edited by administrators."""

import re

import pytest
from sqlalchemy import func, select

from catalogue.extensions import db
from catalogue.search import thesaurus
from catalogue.search.thesaurus import SynonymGroup
from tests.factories import make_project
from tests.helpers import csrf_token

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
    def make(**kw) -> int:
        with app.test_request_context():
            return make_project(teacher, "published", moderator=moderator, **kw).id

    return make


@pytest.fixture
def admin(make_user, auth):
    user = make_user(roles=("admin",), email="admin@example.ru")
    assert auth.login(user).status_code == 303
    return user


def add_group(app, *terms: str) -> int:
    with app.app_context():
        group = SynonymGroup(**thesaurus.group_row(list(terms)))
        db.session.add(group)
        db.session.commit()
        return group.id


def search_page(client, q: str) -> tuple[list[str], str]:
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    titles = [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<h3><a href="[^"]*">(.*?)</a></h3>', html)]
    return titles, html


def related_line(html: str) -> str | None:
    found = re.search(r'<p class="search-related">(.*?)</p>', html, re.S)
    return found.group(1) if found else None


# -- the thesaurus of the field ---------------------------------------------------------------------------


def test_the_packaged_thesaurus_covers_the_field():
    groups = thesaurus.data_file_groups()
    assert len(groups) >= 150
    folded = [{t.casefold() for t in group} for group in groups]

    def together(*terms: str) -> bool:
        return any({t.casefold() for t in terms} <= group for group in folded)

    assert together("ИТ", "IT", "айти", "информационные технологии", "программист")
    assert together("врач", "доктор", "медик", "медицина")
    assert together("ГЭС", "гидроэлектростанция", "электростанция")
    assert together("железная дорога", "железнодорожник", "машинист", "РЖД")
    assert together("профпроба", "профессиональная проба")
    assert together("лесник", "лесничий", "лесное хозяйство")
    assert together("робот", "роботы", "робототехника")
    assert together("ветеринар", "ветврач")
    # Every sphere of the taxonomy seed has a group that names it.
    from catalogue.taxonomy.seed import SPHERES

    all_terms = {t.casefold() for group in groups for t in group}
    spheres_named = [name for _slug, name, _d in SPHERES if name.split()[0].casefold() in " ".join(all_terms)]
    assert len(spheres_named) == len(SPHERES)


# -- a synonym finds, and the page says so ----------------------------------------------------------------


def test_a_related_word_finds_the_project_and_the_page_names_it(app, client, publish):
    publish(title="Кружок программирования", summary="Школьники пишут первую игру на Python.")
    publish(title="Юный энергетик", summary="Как работает турбина.")
    titles, html = search_page(client, "айти")
    assert titles == []  # nobody wrote «айти»
    assert related_line(html) is None

    add_group(app, "ИТ", "айти", "программирование", "информационные технологии")
    titles, html = search_page(client, "айти")
    assert titles == ["Кружок программирования"]
    assert related_line(html) == "Также искали: ИТ, программирование, информационные технологии"


def test_a_phrase_of_the_query_is_looked_up_as_one_term(app, client, publish):
    add_group(app, "железная дорога", "машинист", "РЖД")
    publish(title="Один день машиниста", summary="Экскурсия в депо.")
    titles, html = search_page(client, "железной дороги")
    assert titles == ["Один день машиниста"]
    assert "машинист" in related_line(html)


def test_the_word_typed_outranks_its_related_words(app, client, publish):
    add_group(app, "врач", "доктор", "медик")
    publish(title="Профессия медика", summary="Знакомство с больницей.")
    publish(title="Профессия врача", summary="Знакомство с поликлиникой.")
    publish(title="Театральная студия", summary="Сцена и свет.")
    titles, _html = search_page(client, "врач")
    assert titles == ["Профессия врача", "Профессия медика"]


def test_related_words_are_escaped_on_the_page(app, client, publish):
    add_group(app, "дизайн", "<b>графика</b>")
    publish(title="Школа дизайна", summary="Плакаты.")
    _titles, html = search_page(client, "дизайн")
    assert "Также искали: &lt;b&gt;графика&lt;/b&gt;" in html


# -- administrators edit it; the next search uses it, with no reindex ---------------------------------------


def group_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SynonymGroup))


def test_an_administrator_adds_edits_and_deletes_a_group_and_search_follows(app, client, publish, admin):
    publish(title="Охрана тайги", summary="Как лесничий следит за лесом.")
    assert search_page(client, "лесник")[0] == []

    token = csrf_token(client, "/admin/taxonomy/thesaurus/new")
    response = client.post("/admin/taxonomy/thesaurus/new", data={"csrf_token": token, "terms": "лесник\nлесничий"})
    assert response.status_code == 303
    assert search_page(client, "лесник")[0] == ["Охрана тайги"]

    with app.app_context():
        group_id = db.session.scalar(select(SynonymGroup.id))
    listing = client.get("/admin/taxonomy/thesaurus/").get_data(as_text=True)
    assert "лесник" in listing and "лесничий" in listing

    response = client.post(
        f"/admin/taxonomy/thesaurus/{group_id}", data={"csrf_token": token, "terms": "лесник\nлесное хозяйство"}
    )
    assert response.status_code == 303
    assert search_page(client, "лесник")[0] == []  # «лесничий» is no longer related

    response = client.post(f"/admin/taxonomy/thesaurus/{group_id}/delete", data={"csrf_token": token})
    assert response.status_code == 303
    assert group_count(app) == 0


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ("", "Заполните это поле"),
        ("одно слово", "хотя бы два слова"),
        ("айти\nАйти\n", "хотя бы два слова"),  # the same word twice is one term
        ("ИТ\nайти", "Такая группа уже есть"),
    ],
)
def test_a_group_that_cannot_be_saved_is_refused_in_russian(app, client, admin, terms, message):
    add_group(app, "айти", "ИТ")
    token = csrf_token(client, "/admin/taxonomy/thesaurus/new")
    response = client.post("/admin/taxonomy/thesaurus/new", data={"csrf_token": token, "terms": terms})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert group_count(app) == 1


def test_only_administrators_edit_the_thesaurus_and_every_change_needs_the_token(app, client, make_user, auth):
    group_id = add_group(app, "айти", "ИТ")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    auth.login(moderator)
    assert client.get("/admin/taxonomy/thesaurus/").status_code == 403
    assert client.post(f"/admin/taxonomy/thesaurus/{group_id}/delete").status_code in (400, 403)
    admin = make_user(roles=("admin",), email="admin@example.ru")
    auth.logout()
    auth.login(admin)
    assert client.post(f"/admin/taxonomy/thesaurus/{group_id}/delete").status_code == 400  # no CSRF token
    assert client.post(f"/admin/taxonomy/thesaurus/{group_id + 1000}/delete", data={}).status_code == 400
    assert group_count(app) == 1


def test_the_list_is_paged_by_first_word(app, client, admin):
    with app.app_context():
        for number in range(25):
            db.session.add(SynonymGroup(**thesaurus.group_row([f"слово{number:02d}", f"синоним{number:02d}"])))
        db.session.commit()
    first = client.get("/admin/taxonomy/thesaurus/").get_data(as_text=True)
    assert "слово00" in first and "слово19" in first and "слово20" not in first
    assert "25 групп" in first
    second = client.get("/admin/taxonomy/thesaurus/", query_string={"page": 2}).get_data(as_text=True)
    assert "слово20" in second and "слово24" in second and "слово00" not in second


def test_the_packaged_thesaurus_carries_the_derived_words(app, client, publish):
    with app.app_context():
        assert thesaurus.load_data_file() >= 150  # as the migration loads it
    publish(title="Агроном", summary="Как вырастить урожай в Сибири.")
    publish(title="Ветеринарная клиника", summary="День в клинике для животных.")
    assert search_page(client, "агрономов")[0] == ["Агроном"]  # Snowball: «агрон» and «агроном»
    assert search_page(client, "ветврач")[0] == ["Ветеринарная клиника"]
    assert search_page(client, "айти")[0] == []
