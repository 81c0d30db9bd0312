"""Any search or filtered list is an Atom feed: the newest 50 of exactly what its page shows, newest first."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import insert, select

from catalogue.extensions import db
from catalogue.practices.models import Practice
from catalogue.taxonomy.models import Organization
from tests.factories import make_project
from tests.helpers import published_practice_row, recorded_statements

ATOM = "{http://www.w3.org/2005/Atom}"
BASE = dt.datetime(2026, 1, 1, 9, 0)


@pytest.fixture
def teacher(make_user):
    return make_user(roles=("teacher",), email="teacher@example.ru")


@pytest.fixture
def moderator(make_user):
    return make_user(roles=("moderator",), email="moderator@example.ru")


@pytest.fixture
def publish(app, teacher, moderator):
    def make(title: str, state: str = "published", **kw) -> int:
        with app.test_request_context():
            return make_project(teacher, state, moderator=moderator, title=title, **kw).id

    return make


def valid_atom(response) -> ET.Element:
    """The feed, checked against what RFC 4287 requires of a feed and of each entry."""
    assert response.status_code == 200
    assert response.content_type == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    for element in (feed, *feed.findall(f"{ATOM}entry")):
        for required in ("id", "title", "updated"):
            assert element.find(f"{ATOM}{required}") is not None, f"<{required}> missing"
        stamp = element.find(f"{ATOM}updated").text
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp), stamp
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None  # then no entry needs its own author
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    return feed


def feed_titles(response) -> list[str]:
    return [e.find(f"{ATOM}title").text for e in valid_atom(response).findall(f"{ATOM}entry")]


def page_titles(response) -> list[str]:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<h3><a href="[^"]*">(.*?)</a></h3>', html)]


def test_the_feed_of_a_filtered_project_list_is_what_its_page_shows(client, publish):
    publish("Энергетики Ангары", ages=["8-9"])
    publish("Цифровые профессии", ages=["8-9"], spheres=["it"])
    publish("Старшим: инженеры", ages=["10-11"])
    publish("Черновик для 8–9", state="draft", ages=["8-9"])
    publish("На проверке для 8–9", state="submitted", ages=["8-9"])

    page = client.get("/projects/?age=8-9")
    shown = page_titles(page)
    assert shown == ["Цифровые профессии", "Энергетики Ангары"]  # newest first, only what is published
    # The feed keeps the page's filters, whatever the page's sort or number: the newest first.
    assert feed_titles(client.get("/projects.atom?age=8-9&sort=title&page=2")) == shown
    assert feed_titles(client.get("/projects.atom?age=8-9&sphere=it")) == ["Цифровые профессии"]

    # The page offers its feed in the head, and by the results.
    html = page.get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml" title="Типовые проекты: 8–9 классы"' in html
    assert 'href="http://localhost/projects.atom?age=8-9"' in html
    assert '<a href="/projects.atom?age=8-9" type="application/atom+xml">RSS/Atom</a>' in html


def test_the_feed_of_a_search_is_the_search_page_by_date(client, publish):
    publish("Энергетики Ангары")
    publish("Энергетика будущего")
    publish("Юные геологи", summary="Камни и минералы Приангарья.", goal="Познакомить с геологией.", spheres=["it"])
    publish("Энергетика в черновике", state="draft")

    shown = page_titles(client.get("/search", query_string={"q": "энергетика", "sort": "date"}))
    assert len(shown) == 2
    feed = client.get("/search.atom", query_string={"q": "энергетика", "page": "3"})
    assert feed_titles(feed) == shown
    assert feed_titles(client.get("/search.atom", query_string={"q": "минералы"})) == ["Юные геологи"]
    title = valid_atom(feed).find(f"{ATOM}title").text
    assert title == "Поиск: «энергетика»"
    html = client.get("/search", query_string={"q": "энергетика"}).get_data(as_text=True)
    assert 'href="http://localhost/search.atom?q=%D1%8D%D0%BD%D0%B5%D1%80%D0%B3%D0%B5%D1%82%D0%B8%D0%BA%D0%B0"' in html


def test_the_feed_of_a_long_list_is_its_newest_fifty_in_one_query(app, client, make_user):
    author = make_user()
    with app.app_context():
        schools = select(Organization).where(Organization.municipality_id.is_not(None)).order_by(Organization.id)
        first = db.session.scalars(schools).first()
        second = db.session.scalars(schools.where(Organization.municipality_id != first.municipality_id)).first()
        rows = [
            published_practice_row(i, first if i % 10 else second, author.id, BASE + dt.timedelta(minutes=i))
            for i in range(70)
        ]
        db.session.execute(insert(Practice), rows)
        db.session.commit()
        place = first.municipality_id
    pages = [page_titles(client.get(f"/practices/?municipality={place}&page={n}")) for n in range(1, 6)]
    with app.app_context(), recorded_statements(db.engine) as statements:
        feed = feed_titles(client.get(f"/practices.atom?municipality={place}"))
    assert len(feed) == 50
    assert feed == [title for page in pages for title in page][:50]
    assert feed[0] == "Практика 00069" and "Практика 00060" not in feed  # the other municipality's are not there
    practice_reads = [s for s, _ in statements if re.search(r"\bFROM practice\b", s)]
    assert len(practice_reads) == 1, practice_reads  # one query for the items, whatever their number


def test_a_feed_is_escaped_and_unknown_filters_are_ignored(client, publish):
    publish("Проект <b>жирный</b> & «кавычки»")
    response = client.get("/projects.atom?age=<script>&format=nonsense")
    assert feed_titles(response) == ["Проект <b>жирный</b> & «кавычки»"]
    assert b"<b>" not in response.data and b"<script>" not in response.data


@pytest.mark.page_cache
def test_visitors_get_the_lists_and_their_feeds_from_the_page_cache_and_a_subscription_empties_nothing(
    app, client, auth, make_user, publish
):
    publish("Энергетики Ангары", ages=["8-9"])
    reader = make_user(email="reader@example.ru")
    for url in ("/projects/?age=8-9", "/projects.atom?age=8-9", "/search.atom?q=энергетика"):
        assert client.get(url).headers.get("X-Page-Cache") == "miss", url
        assert client.get(url).headers.get("X-Page-Cache") == "hit", url
    # Someone subscribes (a private table): the visitors' pages stay where they are.
    visitor = app.test_client()
    auth.login(reader)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/projects/?age=8-9").get_data(as_text=True))
    response = client.post(
        "/subscriptions/",
        data={"csrf_token": token.group(1), "kind": "projects", "query": "age=8-9", "frequency": "weekly"},
    )
    assert response.status_code == 303
    assert visitor.get("/projects.atom?age=8-9").headers.get("X-Page-Cache") == "hit"


def test_the_feed_of_a_season_gallery_is_its_newest_admitted_entries_without_their_authors(app, client, make_user):
    from catalogue.contest.models import Entry
    from catalogue.workflow.models import Status
    from tests.contest_support import make_season

    admin = make_user(roles=("admin",), email="admin@example.ru")
    student = make_user(roles=("student",), email="student@example.ru", last_name="Секретова")
    with app.test_request_context():
        season = make_season(admin, 2030, phase="results")
        first, second = (n.id for n in season.nominations[:2])
        category = season.age_categories[0].id
        rows = [
            {
                "season_id": season.id, "nomination_id": first if i % 2 == 0 else second, "age_category_id": category,
                "title": f"Работа {i}", "description": "Модель.", "author_id": student.id, "grade": 8,
                "organization_id": student.organization_id, "status": Status.PUBLISHED,
                "published_at": BASE + dt.timedelta(minutes=i),
            }
            for i in range(5)
        ]
        rows.append(rows[0] | {"title": "Работа на проверке", "status": Status.SUBMITTED, "published_at": None})
        db.session.execute(insert(Entry), rows)
        db.session.commit()

    page = client.get(f"/contest/2030/?nomination={first}")
    response = client.get(f"/contest/2030/gallery.atom?nomination={first}&page=2")
    assert feed_titles(response) == ["Работа 4", "Работа 2", "Работа 0"]  # newest first
    assert sorted(page_titles(page)) == ["Работа 0", "Работа 2", "Работа 4"]  # the gallery: by title
    assert "Секретова" not in response.get_data(as_text=True)
    assert f'href="http://localhost/contest/2030/gallery.atom?nomination={first}"' in page.get_data(as_text=True)
    assert client.get("/contest/1999/gallery.atom").status_code == 404
