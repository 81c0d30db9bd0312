"""Spreading what is published: Atom feeds, the sitemap, canonical addresses and Open Graph tags."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from catalogue.extensions import db
from catalogue.feeds import FeedEntry, atom_feed
from catalogue.practices import services as practices
from catalogue.practices.models import Practice, PracticeRevision
from catalogue.projects import services as projects
from catalogue.taxonomy.models import AgeGroup
from catalogue.workflow import services as workflow
from tests.helpers import SITEMAP, sitemap_files, sitemap_urls
from tests.test_practices_factories import make_people, make_practice, practice_data

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def people(app, make_user):
    return make_people(app, make_user)


def make_project(people, title: str, state: str) -> projects.Project:
    teacher = db.session.merge(people["teacher"])
    project = projects.create_project(
        teacher,
        projects.ProjectData(
            title=title,
            summary="Обучающиеся собирают модель гидротурбины.",
            goal="Познакомить с энергетикой.",
            format="group",
            duration_weeks=4,
            expected_results="Модель.",
            resources="",
            age_group_ids=list(db.session.scalars(select(AgeGroup.id).where(AgeGroup.slug == "8-9"))),
            sphere_ids=[],
            stages=[projects.StageData("Погружение")],
        ),
    )
    if state in ("submitted", "published"):
        workflow.transition(teacher, project, "submit")
    if state == "published":
        workflow.transition(db.session.merge(people["moderator"]), project, "publish")
    return project


@pytest.fixture
def content(app, people):
    """Published, submitted, draft and withdrawn practices and projects, a published and a draft report."""
    with app.test_request_context():
        items = {
            "practice": make_practice(people["moderator"], "published", title="Опубликованная практика"),
            "practice_submitted": make_practice(people["teacher"], "submitted", title="Практика на проверке"),
            "practice_draft": make_practice(people["teacher"], "draft", title="Черновик практики"),
            "practice_archived": make_practice(people["moderator"], "archived", title="Снятая практика"),
            "project": make_project(people, "Опубликованный проект", "published"),
            "project_submitted": make_project(people, "Проект на проверке", "submitted"),
            "project_draft": make_project(people, "Черновик проекта", "draft"),
        }
        bratsk = db.session.merge(people["bratsk"])
        report_data = projects.ReportData("8 «Б»", 8, dt.date(2025, 2, 1), dt.date(2025, 3, 1), 20, "Сделали.", "Итог.")
        report = projects.create_report(bratsk, items["project"], report_data)
        workflow.transition(bratsk, report, "submit")
        workflow.transition(db.session.merge(people["moderator"]), report, "publish")
        items["report"] = report
        items["report_draft"] = projects.create_report(bratsk, items["project"], report_data)
        return {key: (type(obj).__name__, obj.id) for key, obj in items.items()}


def parse_xml(document: bytes) -> ET.Element:
    """Parse the site's own output; raises unless well-formed."""
    return ET.fromstring(document)


def atom_titles(response) -> list[str]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = parse_xml(response.get_data())  # well-formed, or this raises
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    for entry in root.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{required}") is not None
    return [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]


def test_practices_feed_is_valid_atom_with_published_practices_only(app, client, content):
    assert atom_titles(client.get("/feeds/practices.atom")) == ["Опубликованная практика"]
    root = parse_xml(client.get("/feeds/practices.atom").get_data())
    entry = root.find(f"{ATOM}entry")
    link = entry.find(f"{ATOM}link").get("href")
    assert re.fullmatch(rf"http://localhost/practices/{content['practice'][1]}-[a-z0-9-]+", link)
    assert entry.findtext(f"{ATOM}summary") == "Раз в месяц в школу приходит инженер-энергетик."
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["Встречи с представителями профессий"]


def test_projects_feed_is_valid_atom_with_published_projects_only(app, client, content):
    assert atom_titles(client.get("/feeds/projects.atom")) == ["Опубликованный проект"]


def test_an_empty_feed_is_still_valid(app, client):
    assert atom_titles(client.get("/feeds/practices.atom")) == []


def test_newly_published_practices_come_first_and_the_feed_follows_revisions(app, client, people):
    with app.test_request_context():
        make_practice(people["moderator"], "published", title="Старая практика")
        newer = make_practice(people["teacher"], "published", moderator=people["moderator"], title="Новая практика").id
    assert atom_titles(client.get("/feeds/practices.atom")) == ["Новая практика", "Старая практика"]
    # A revision waiting for review changes nothing in the feed; an approved one does
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])
        practice = db.session.get(Practice, newer)
        revision = practices.revise_practice(teacher, practice, practice_data(title="Новая практика, вторая редакция"))
        workflow.transition(teacher, revision, "submit")
        revision_id = revision.id
    assert atom_titles(client.get("/feeds/practices.atom"))[0] == "Новая практика"
    with app.test_request_context():
        revision = db.session.get(PracticeRevision, revision_id)
        workflow.transition(db.session.merge(people["moderator"]), revision, "publish")
    assert atom_titles(client.get("/feeds/practices.atom"))[0] == "Новая практика, вторая редакция"


def test_feed_helper_escapes_markup_and_drops_characters_xml_cannot_carry():
    document = atom_feed(
        "Итоги конкурса «СоЗДатель»",
        "http://localhost/feeds/contest.atom",
        "http://localhost/contest/",
        [
            FeedEntry(
                title="<script>alert(1)</script> & \x01\x0bпобедители",
                url="http://localhost/contest/2026/results?a=1&b=2",
                updated=dt.datetime(2026, 11, 26, 10, 0, 0, 123),
                summary="]]> <b>жирный</b>",
                categories=["Номинация «Архитектура»"],
            )
        ],
    )
    root = parse_xml(document)
    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "<script>alert(1)</script> & победители"
    assert entry.find(f"{ATOM}link").get("href") == "http://localhost/contest/2026/results?a=1&b=2"
    assert entry.findtext(f"{ATOM}updated") == "2026-11-26T10:00:00Z"
    assert b"<script>" not in document


def test_sitemap_lists_public_pages_and_published_items_only(app, client, content):
    urls = sitemap_urls(client)
    locations = [u.findtext(f"{SITEMAP}loc") for u in urls]
    paths = {loc.removeprefix("http://localhost") for loc in locations}
    assert {"/", "/projects/", "/practices/", "/privacy"} <= paths
    published = {
        f"/practices/{content['practice'][1]}-",
        f"/projects/{content['project'][1]}-",
        f"/projects/reports/{content['report'][1]}",
    }
    for prefix in published:
        assert any(p.startswith(prefix) for p in paths), prefix
    hidden = [key for key in content if key not in ("practice", "project", "report")]
    for key in hidden:
        kind, item_id = content[key]
        prefix = {"Practice": "/practices/", "Project": "/projects/", "ProjectReport": "/projects/reports/"}[kind]
        assert not any(re.fullmatch(rf"{prefix}{item_id}(-.*)?", p) for p in paths), key
    # Items carry the date they last changed
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\d", u.findtext(f"{SITEMAP}lastmod"))
        for u in urls
        if "/practices/" in u.findtext(f"{SITEMAP}loc") and u.findtext(f"{SITEMAP}loc").count("/") > 4
    )


def meta(page: str, prop: str) -> str | None:
    found = re.search(rf'<meta property="{prop}" content="([^"]*)"', page)
    return found.group(1) if found else None


def test_practice_and_project_pages_have_canonical_urls_and_open_graph(app, client, content):
    _, practice_id = content["practice"]
    page = client.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    canonical = re.search(r'<link rel="canonical" href="([^"]+)">', page).group(1)
    assert re.fullmatch(rf"http://localhost/practices/{practice_id}-[a-z0-9-]+", canonical)
    assert meta(page, "og:url") == canonical
    assert meta(page, "og:title") == "Опубликованная практика"
    assert meta(page, "og:type") == "article" and meta(page, "og:locale") == "ru_RU"
    assert meta(page, "og:description").startswith("Раз в месяц")
    assert 'type="application/atom+xml"' in page

    _, project_id = content["project"]
    page = client.get(f"/projects/{project_id}", follow_redirects=True).get_data(as_text=True)
    canonical = re.search(r'<link rel="canonical" href="([^"]+)">', page).group(1)
    assert re.fullmatch(rf"http://localhost/projects/{project_id}-[a-z0-9-]+", canonical)
    assert meta(page, "og:title") == "Опубликованный проект"


def test_sitemap_is_an_index_of_files_of_at_most_the_configured_size(app, client, people):
    app.config["SITEMAP_URLS_PER_FILE"] = 3
    with app.test_request_context():
        published = [make_project(people, f"Проект {n}", "published").id for n in range(1, 6)]
        drafts = [make_project(people, "Черновик", "draft").id]
        published += [make_project(people, f"Проект {n}", "published").id for n in range(6, 8)]
        drafts.append(make_project(people, "На проверке", "submitted").id)
    files = sitemap_files(client)
    # File n of a section holds the items numbered (n - 1) * 3 + 1 to n * 3, so an item never moves
    project_files = sorted(loc for loc in files if "/sitemap-project-" in loc)
    expected = sorted({(item_id - 1) // 3 + 1 for item_id in published})
    assert project_files == [f"http://localhost/sitemap-project-{n}.xml" for n in expected]
    assert "http://localhost/sitemap-pages-1.xml" in files
    # No file holds more than 3 addresses; each published project is in exactly one, no draft in any
    assert all(len(urlset.findall(f"{SITEMAP}url")) <= 3 for urlset in files.values())
    listed = [
        int(m[1])
        for urlset in files.values()
        for loc in urlset.iter(f"{SITEMAP}loc")
        if (m := re.fullmatch(r"http://localhost/projects/(\d+)-.*", loc.text))
    ]
    assert sorted(listed) == sorted(published)
    assert not set(listed) & set(drafts)
    # The index dates each file by its last change; a file beyond the last is not found
    index = parse_xml(client.get("/sitemap.xml").get_data())
    dated = {e.findtext(f"{SITEMAP}loc"): e.findtext(f"{SITEMAP}lastmod") for e in index}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", dated[loc]) for loc in project_files)
    assert client.get(f"/sitemap-project-{expected[-1] + 1}.xml").status_code == 404
    assert client.get("/sitemap-nothing-1.xml").status_code == 404
