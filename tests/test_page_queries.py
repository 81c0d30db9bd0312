"""The pages people open most cost a fixed number of queries, and search snippets come from text stored at indexing."""

import re

import pytest
from sqlalchemy import select

from catalogue.extensions import db
from catalogue.practices import services as practices
from catalogue.practices.models import Practice
from catalogue.search import indexer
from catalogue.search.stored import SearchDocumentRow
from catalogue.workflow import services as workflow
from tests.contest_support import make_season
from tests.factories import make_project
from tests.test_practices_factories import adopt, login, make_people, make_practice, practice_data
from tests.test_search_site import count_queries


def publish(app, teacher, moderator, count: int, start: int) -> None:
    with app.test_request_context():
        for n in range(start, start + count):
            make_project(teacher, "published", moderator=moderator, title=f"Проект о профессиях № {n}",
                         summary=f"**Профессии** региона, выпуск {n}.")  # fmt: skip
            make_practice(moderator, "published", title=f"Практика о профессиях № {n}")


def pages(client) -> list[str]:
    """Home, both lists, the first item of each, the contest, a search (of one type: each type found costs its
    loading queries, whatever the number of its items)."""
    found = []
    for list_url, pattern in (("/projects/", r'href="(/projects/\d+-[^"/]*)"'),
                              ("/practices/", r'href="(/practices/\d+-[^"/]*)"')):  # fmt: skip
        item = re.search(pattern, client.get(list_url).get_data(as_text=True))
        assert item is not None, list_url
        found += [list_url, item.group(1)]
    return ["/", *found, "/contest/", "/search?q=проект"]


def queries_of(app, client, urls: list[str]) -> dict[str, int]:
    counts = {}
    for url in urls:
        client.get(url)  # the first request of a page may fill per-process caches
        with count_queries(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, url
        # Queries, not transactions: SQLite's BEGIN comes only with the first of them (none on a cached piece).
        counts[url] = sum(statement != "BEGIN" for statement in statements)
    return counts


@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
def test_the_main_pages_make_as_many_queries_with_40_items_as_with_2(app, client, make_user, auth, logged_in):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    moderator = make_user(roles=("moderator",))
    with app.test_request_context():
        make_season(make_user(roles=("admin",)), year=2027, phase="accepting")
    if logged_in:
        auth.login(teacher)
    publish(app, teacher, moderator, 2, start=0)
    urls = pages(client)
    with_two = queries_of(app, client, urls)
    publish(app, teacher, moderator, 38, start=2)
    with_forty = queries_of(app, client, urls)
    assert with_forty == with_two


def test_a_logged_in_person_costs_one_query_more_than_an_anonymous_visitor(app, client, make_user, auth):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    publish(app, teacher, make_user(roles=("moderator",)), 2, start=0)
    urls = pages(client)
    anonymous = queries_of(app, client, urls)
    auth.login(make_user(roles=("teacher",)))  # a reader, not the author (who also sees the moderator's comment)
    logged_in = queries_of(app, client, urls)
    # The session with its person, roles, organization, municipality and unread notices in one query
    assert {url: logged_in[url] - anonymous[url] for url in urls} == dict.fromkeys(urls, 1)


def test_search_snippets_show_the_text_stored_when_the_item_was_indexed_and_follow_edits(
    app, client, make_user
):
    teacher = make_user(roles=("teacher",))
    moderator = make_user(roles=("moderator",))
    with app.test_request_context():
        practice = make_practice(teacher, "published", moderator=moderator, title="Агрошкола",
                                 summary="Выращиваем **картофель** в школьной теплице.")  # fmt: skip
        practice_id = practice.id
    key = f"practice:{practice_id}"
    with app.app_context():
        stored = db.session.get(SearchDocumentRow, key)
        # Markdown is reduced to plain text once, when the practice is indexed
        assert "Выращиваем картофель в школьной теплице." in stored.text and "**" not in stored.text
    html = client.get("/search", query_string={"q": "картофель"}).get_data(as_text=True)
    assert "Выращиваем <mark>картофель</mark> в школьной теплице." in html

    # The author proposes a revision of the published practice; once a moderator publishes it, the snippet follows
    with app.test_request_context():
        practice = db.session.get(Practice, practice_id)
        revision = practices.revise_practice(
            db.session.merge(teacher), practice,
            practice_data(title="Агрошкола", summary="Выращиваем *томаты* на подоконнике."),
        )  # fmt: skip
        workflow.transition(db.session.merge(teacher), revision, "submit")
        workflow.transition(db.session.merge(moderator), revision, "publish")
    with app.app_context():
        assert "Выращиваем томаты на подоконнике." in db.session.get(SearchDocumentRow, key).text
    html = client.get("/search", query_string={"q": "томаты"}).get_data(as_text=True)
    assert "Выращиваем <mark>томаты</mark> на подоконнике." in html
    assert "картофель" not in client.get("/search", query_string={"q": "агрошкола"}).get_data(as_text=True)

    # Taken off the site, it leaves no stored text behind
    with app.test_request_context():
        practice = db.session.get(Practice, practice_id)
        workflow.transition(db.session.merge(moderator), practice, "unpublish", "Устарело.")
    with app.app_context():
        assert db.session.get(SearchDocumentRow, key) is None


def test_a_rebuild_stores_every_public_document_and_drops_the_rest(app, make_user):
    teacher = make_user(roles=("teacher",))
    moderator = make_user(roles=("moderator",))
    with app.test_request_context():
        published = make_project(teacher, "published", moderator=moderator, title="Опубликованный").id
        make_project(teacher, "submitted", title="На проверке")
    with app.app_context():
        db.session.add(SearchDocumentRow(key="project:999999", title="Старый", text="", digest="0"))
        db.session.commit()
        indexer.rebuild()
        keys = set(db.session.scalars(select(SearchDocumentRow.key)))
        assert f"project:{published}" in keys and "project:999999" not in keys
        assert indexer.check().ok


def test_an_item_page_costs_a_reader_their_own_query_and_the_items_row(app, make_user):
    """A published project's and practice's page, once made, costs someone logged in their session's query and the
    item's row, however many revisions and adoptions the practice has; the author of an open revision (and the
    practice's author, and moderators) also get it read, and see it, while other readers do not."""
    people = make_people(app, make_user)
    teacher, moderator = people["teacher"], people["moderator"]
    with app.test_request_context():
        make_project(teacher, "published", moderator=moderator, title="Проект о профессиях")
        practice = make_practice(teacher, "published", moderator=moderator)
        for reader in ("bratsk", "angarsk"):
            adopt(people[reader], practice)
        revision = practices.revise_practice(db.session.merge(teacher), practice, practice_data(participants=150))
        workflow.transition(db.session.merge(teacher), revision, "submit")
        workflow.transition(db.session.merge(moderator), revision, "publish")
        practices.revise_practice(db.session.merge(teacher), practice, practice_data(participants=160))
    counts = {}
    for name in ("bratsk", "colleague", "teacher", "moderator2"):
        client = app.test_client()
        login(client, people[name])
        urls = pages(client)[1:5]  # a project's list and page, the practices' list and page
        counts[name] = queries_of(app, client, urls)
        html = client.get(urls[3]).get_data(as_text=True)
        assert ("Ваша организация отметила внедрение 1 марта 2025" in html) is (name == "bratsk")
        assert "Внедрили: 2 организации" in html and "— обновлена" in html
        assert ("предложили правку" in html) is (name == "teacher")
        assert ("К практике предложена правка" in html) is (name == "moderator2")
    project, practice_page = pages(app.test_client())[2], pages(app.test_client())[4]
    for name in ("bratsk", "colleague"):
        assert counts[name][project] == 2 and counts[name][practice_page] == 2
    # The open revision's readers pay for it: its row (and the moderator's decision buttons' check)
    assert counts["teacher"][practice_page] > 2
