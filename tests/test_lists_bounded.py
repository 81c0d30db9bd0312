"""No page grows with the whole table: every list is paged, deep pages start reading at their key in an index."""

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import insert, select, text

from catalogue.contest.entries import GALLERY_PER_PAGE
from catalogue.contest.models import Entry, Season
from catalogue.extensions import db
from catalogue.pagination import NUMBERED_PAGES
from catalogue.pagination import PER_PAGE as PER_PAGE_OF_LISTS  # 20; the catalogue's cards come 12 a page
from catalogue.practices.models import Practice
from catalogue.practices.services import PER_PAGE as PER_PAGE_OF_PRACTICES
from catalogue.projects.models import Project
from catalogue.projects.services import PER_PAGE
from catalogue.taxonomy.models import Organization
from catalogue.workflow.models import Status
from tests.helpers import published_practice_row, recorded_statements

BASE = dt.datetime(2026, 1, 1, 9, 0)


def add_published_projects(author_id: int, count: int, title=lambda i: f"Проект {i:05d}") -> None:
    """``count`` published projects at once (one bulk INSERT), published a minute apart, the first one oldest."""
    rows = [
        {
            "title": title(i),
            "summary": "Кратко.",
            "goal": "Цель.",
            "format": "group",
            "duration_weeks": 4,
            "expected_results": "Итог.",
            "status": Status.PUBLISHED,
            "published_at": BASE + dt.timedelta(minutes=i),
            "author_id": author_id,
        }
        for i in range(count)
    ]
    db.session.execute(insert(Project), rows)
    db.session.commit()


def link(page: str, rel: str) -> str | None:
    """The address of the pager's ``rel`` link on ``page`` (None when there is none)."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page)
    return unescape(found.group(1)) if found else None


def titles(page: str) -> list[str]:
    return re.findall(r"Проект[^<]*?(\d{5})", page)


def walk(client, url: str, found=titles) -> list[list[str]]:
    """Every page of a list from ``url`` on, following «Вперёд →»: what ``found`` finds on each."""
    pages = []
    while url:
        page = client.get(url).get_data(as_text=True)
        pages.append(found(page))
        url = link(page, "next")
    return pages


def pager_numbers(page: str) -> list[str]:
    """What the pager shows between «← Назад» and «Вперёд →»: page numbers, the current one in brackets, … for gaps."""
    nav = page.split('<ul class="pagination">', 1)[1].split("</ul>", 1)[0]
    return [
        f"[{current}]" if current else gap or number
        for current, gap, number in re.findall(r'aria-current="page">(\d+)<|>(…)<|<a href="[^"]*">(\d+)</a>', nav)
    ]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("new", lambda n: list(range(n - 1, -1, -1))), ("title", lambda n: list(range(n)))],
)
def test_every_page_of_the_catalogue_has_a_number_and_any_of_them_is_one_click_away(
    app, client, make_user, sort, expected
):
    author = make_user()
    count = PER_PAGE * (NUMBERED_PAGES + 3) + 5  # three pages past those read with an OFFSET, and a short last one
    last = NUMBERED_PAGES + 4
    with app.app_context():
        # Titles with commas: the key of the title order holds them
        add_published_projects(author.id, count, title=lambda i: f"Проект, номер {i:05d}")

    pages = walk(client, f"/projects/?sort={sort}")
    assert [int(n) for page in pages for n in page] == expected(count)
    assert len(pages) == last and all(len(p) == PER_PAGE for p in pages[:-1])

    # Deep pages have numbers too: the pager shows the first, those around the current one and the last
    deep = client.get(f"/projects/?sort={sort}&page=12").get_data(as_text=True)
    assert titles(deep) == pages[11]
    assert pager_numbers(deep) == ["1", "…", "10", "11", "[12]", "13", "14"]
    assert link(deep, "next").endswith("page=13") and f"sort={sort}" in link(deep, "next")
    assert pager_numbers(client.get(f"/projects/?sort={sort}").get_data(as_text=True)) == [
        "[1]",
        "2",
        "3",
        "…",
        str(last),
    ]
    # The last page, and any number beyond it, shows the last page, short as it is
    for number in (last, last + 1, 1427):
        assert titles(client.get(f"/projects/?sort={sort}&page={number}").get_data(as_text=True)) == pages[-1]
    # A key (a cursor of the API, a link someone kept) still reads the rows after it; «← Назад» leads back
    with app.app_context():
        row = db.session.scalars(select(Project).where(Project.title.endswith(pages[0][-1]))).one()
        key = f"{row.title},{row.id}" if sort == "title" else f"{row.published_at.isoformat()},{row.id}"
    keyed = client.get("/projects/", query_string={"sort": sort, "after": key}).get_data(as_text=True)
    assert titles(keyed) == pages[1] and "В начало" in keyed and pager_numbers(keyed) == []
    assert titles(client.get(link(keyed, "prev")).get_data(as_text=True)) == pages[0]
    # A key that is not one of ours shows the first page, never an error
    for junk in ("x", ",", "2026-13-01T00:00:00,1", "1,2,3,4", "a" * 1000, f"2026-01-01T00:00:00,{10**30}", "Б,-1"):
        response = client.get(f"/projects/?sort={sort}&after={junk}")
        assert response.status_code == 200 and titles(response.get_data(as_text=True)) == pages[0]


def seek_and_page(statements, table: str) -> tuple[tuple[str, object], tuple[str, object]]:
    """The two statements of a deep numbered page: the seek of its start key (the order's columns alone, at an
    OFFSET), then the page's rows from that key on."""
    reads = [(s, p) for s, p in statements if f"FROM {table}" in s and "LIMIT" in s and "count(" not in s]
    narrow = [(s, p) for s, p in reads if f"{table}.summary" not in s.split("FROM")[0]]
    return narrow[0], next((s, p) for s, p in reads if (s, p) not in narrow)


def vacuumed(backend: str, table: str) -> None:
    """PostgreSQL's visibility map made, as autovacuum makes it: what lets a scan read from an index alone."""
    if backend != "sqlite":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM ANALYZE {table}")


def assert_reads_from_index(app, backend, statement, parameters, index: str, covering: bool, most_rows=None):
    """``statement`` reads in the order of ``index`` (no sort of the table); ``covering``: from the index alone;
    ``most_rows``: on PostgreSQL, reading no more rows than that from it."""
    with app.app_context():
        connection = db.session.connection()
        if backend == "sqlite":
            plan = " ".join(
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
            assert f"{'COVERING ' if covering else ''}INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar()
            nodes = _flatten(rows[0]["Plan"])
            # The seek reads the sort index alone; the rows may come through another index of the table in the
            # same order (the planner's choice, e.g. ``ix_project_published_at``), never more than a page of them
            scan = next(
                n
                for n in nodes
                if n.get("Index Name") == index
                or (not covering and n.get("Relation Name") == index.split("_")[1] and "Index" in n["Node Type"])
            )
            if covering:
                assert scan["Node Type"] == "Index Only Scan", nodes
            if most_rows is not None:
                assert scan["Actual Rows"] <= most_rows, nodes
            assert not any(n["Node Type"] == "Sort" for n in nodes), nodes


@pytest.mark.parametrize(
    ("sort", "index"), [("new", "ix_project_status_published"), ("title", "ix_project_status_title")]
)
def test_a_deep_page_of_the_catalogue_seeks_its_start_in_the_index_of_its_order_and_reads_a_page_from_there(
    app, client, make_user, backend, sort, index
):
    author = make_user()
    with app.app_context():
        add_published_projects(author.id, 3000)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        vacuumed(backend, "project")
    number = 100  # of 250: rows 1,188–1,199, sought from the start; page 200 from the end
    for page_number, position in ((number, (number - 1) * PER_PAGE - 1), (200, 3000 - 199 * PER_PAGE)):
        with app.app_context(), recorded_statements(db.engine) as statements:
            page = client.get(f"/projects/?sort={sort}&page={page_number}").get_data(as_text=True)
        shown = [int(n) for n in titles(page)]
        order = list(range(2999, -1, -1)) if sort == "new" else list(range(3000))
        assert shown == order[(page_number - 1) * PER_PAGE : page_number * PER_PAGE]
        (seek, seek_parameters), (rows, row_parameters) = seek_and_page(statements, "project")
        # The seek reads the order's columns alone, from the index (an index-only scan), from the nearer end
        assert position in (seek_parameters.values() if isinstance(seek_parameters, dict) else seek_parameters)
        assert_reads_from_index(app, backend, seek, seek_parameters, index, covering=True)
        # The page starts at the key: of 3,000 rows, no more than a page, the one after, and on PostgreSQL one that
        # may close the last run of equal keys (an incremental sort by the id)
        assert_reads_from_index(app, backend, rows, row_parameters, index, covering=False, most_rows=PER_PAGE + 2)


def test_a_deep_page_of_the_practices_most_adopted_first_reads_from_the_index_of_the_stored_count(
    app, client, make_user, backend
):
    author = make_user()
    with app.app_context():
        school = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
        rows = [
            published_practice_row(i, school, author.id, BASE + dt.timedelta(minutes=i), adoption_count=i % 7)
            for i in range(3000)
        ]
        db.session.execute(insert(Practice), rows)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        vacuumed(backend, "practice")
    number = 40
    with app.app_context(), recorded_statements(db.engine) as statements:
        page = client.get(f"/practices/?sort=adopted&page={number}").get_data(as_text=True)
    # The most adopted first (6 of every 7th), the newest first among equals
    shown = [int(n) for n in re.findall(r"Практика (\d{5})", page)]
    expected = sorted(range(3000), key=lambda i: (-(i % 7), -i))
    assert shown == expected[(number - 1) * PER_PAGE_OF_PRACTICES : number * PER_PAGE_OF_PRACTICES]
    (seek, seek_parameters), (rows, row_parameters) = seek_and_page(statements, "practice")
    index = "ix_practice_status_adopted"
    assert_reads_from_index(app, backend, seek, seek_parameters, index, covering=True)
    assert_reads_from_index(
        app, backend, rows, row_parameters, index, covering=False, most_rows=PER_PAGE_OF_PRACTICES + 1
    )


def _flatten(plan: dict) -> list[dict]:
    return [plan, *(n for child in plan.get("Plans", []) for n in _flatten(child))]


def add_entries(season, author_id: int, count: int, **columns) -> None:
    """``count`` admitted entries of ``season`` spread over its nominations and categories (one bulk INSERT)."""
    groups = [(n.id, c.id) for n in season.nominations for c in season.age_categories]
    rows = [
        {
            "season_id": season.id,
            "nomination_id": groups[i % len(groups)][0],
            "age_category_id": groups[i % len(groups)][1],
            "title": f"Работа {i:05d}",
            "description": "Модель.",
            "author_id": author_id,
            "grade": 8,
            "status": Status.PUBLISHED,
            **{name: value(i) for name, value in columns.items()},
        }
        for i in range(count)
    ]
    db.session.execute(insert(Entry), rows)
    db.session.commit()


def entry_numbers(page: str) -> list[int]:
    return [int(n) for n in re.findall(r">Работа (\d{5})<", page)]


@pytest.fixture
def season(app, make_user):
    from tests.contest_support import make_season

    admin = make_user(roles=("admin",), email="admin@example.ru")
    student = make_user(roles=("student",), email="student@example.ru")
    with app.test_request_context():
        made = make_season(admin, 2030, phase="results")
        return made.id, student.id


def test_the_gallery_pages_through_every_group_in_order_past_the_numbered_pages(app, client, season):
    season_id, student_id = season
    count = GALLERY_PER_PAGE * (NUMBERED_PAGES + 2) + 7
    with app.app_context():
        made = db.session.get(Season, season_id)
        add_entries(made, student_id, count)
        groups = [(n.id, c.id) for n in made.nominations for c in made.age_categories]
    pages = walk(client, "/contest/2030/", entry_numbers)
    seen = [n for page in pages for n in page]
    # By nomination, then category, then title: each group's entries together, in the season's order of groups
    expected = sorted(range(count), key=lambda i: (groups.index(groups[i % len(groups)]), i))
    assert seen == expected and len(pages) == NUMBERED_PAGES + 3


def test_the_gallery_walked_back_from_its_last_page_and_filtered_loses_and_repeats_no_entry(app, client, season):
    season_id, student_id = season
    count = GALLERY_PER_PAGE * (NUMBERED_PAGES + 3) + 5
    with app.app_context():
        made = db.session.get(Season, season_id)
        # Titles in an order of their own, against the order of the ids
        add_entries(made, student_id, count, title=lambda i: f"Работа {count - i:05d}")
        groups = [(n.id, c.id) for n in made.nominations for c in made.age_categories]
        nomination = made.nominations[1].id
    forward = walk(client, "/contest/2030/", entry_numbers)
    expected = sorted(range(1, count + 1), key=lambda n: (groups.index(groups[(count - n) % len(groups)]), n))
    assert [n for page in forward for n in page] == expected
    # Back from the last page by «← Назад», keyset pages and then numbered ones, every page as it was
    url, backward = link(client.get("/contest/2030/").get_data(as_text=True), "next"), []
    page = client.get(url).get_data(as_text=True)
    while (after := link(page, "next")) is not None:
        page = client.get(after).get_data(as_text=True)
    while True:
        backward.insert(0, entry_numbers(page))
        if (url := link(page, "prev")) is None:
            break
        page = client.get(url).get_data(as_text=True)
    assert backward == forward
    # A filter pages through its own groups only
    filtered = walk(client, f"/contest/2030/?nomination={nomination}", entry_numbers)
    assert [n for page in filtered for n in page] == [
        n for n in expected if groups[(count - n) % len(groups)][0] == nomination
    ]


def test_a_deep_gallery_page_reads_its_rows_group_by_group_from_the_gallery_index(app, client, season, backend):
    season_id, student_id = season
    with app.app_context():
        add_entries(db.session.get(Season, season_id), student_id, 3000)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    tenth = client.get(f"/contest/2030/?page={NUMBERED_PAGES}").get_data(as_text=True)
    # Deep in the list, and from a key near the end of a group, so that the page spans two groups
    deep = client.get(link(client.get(link(tenth, "next")).get_data(as_text=True), "next")).get_data(as_text=True)
    late = link(deep, "next")
    for _ in range(19):  # page 32: rows 744–767, across the first group's end at 750
        late = link(client.get(late).get_data(as_text=True), "next")
    with app.app_context(), recorded_statements(db.engine) as statements:
        page = client.get(late).get_data(as_text=True)
    assert len(entry_numbers(page)) == GALLERY_PER_PAGE
    statement, parameters = next((s, p) for s, p in statements if "group_ordinal" in s)
    assert "UNION ALL" in statement
    with app.app_context():
        connection = db.session.connection()
        if backend == "sqlite":
            plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            reads = [step for step in plan if " entry" in step]
            # Each of the two groups is read from the index, in its order, from the key on; the only sorts are of
            # what those reads return (a page at most), never of the table
            assert len(reads) == 2 and all(
                step.startswith("SEARCH entry USING COVERING INDEX ix_entry_gallery") for step in reads
            ), plan
            assert "title>?" in reads[0], plan
            sorts = [i for i, step in enumerate(plan) if "TEMP B-TREE" in step]
            assert all(plan[i - 1].startswith("SCAN anon") for i in sorts), plan
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar()
            nodes = _flatten(rows[0]["Plan"])
            scans = [n for n in nodes if n.get("Relation Name") == "entry"]
            assert len(scans) == 2 and all(n.get("Index Name") == "ix_entry_gallery" for n in scans), nodes
            # It starts at the key: of 3,000 rows it reads no more than a page and the one after
            assert sum(n["Actual Rows"] for n in scans) <= 2 * (GALLERY_PER_PAGE + 1), nodes


def test_the_results_show_the_first_places_of_each_group_and_page_through_all_of_one(app, client, season):
    season_id, student_id = season
    count = 4 * (20 * (NUMBERED_PAGES + 1) + 3)  # one keyset page past the numbered ones in every group
    with app.app_context():
        made = db.session.get(Season, season_id)
        made.results_confirmed_at = made.results_published_at = BASE
        groups = len(made.nominations) * len(made.age_categories)
        add_entries(
            made,
            student_id,
            count,
            rank=lambda i: i // groups + 1,
            award=lambda i: "winner" if i < groups else "prize" if i < 3 * groups else "participant",
        )
        first = f"nomination={made.nominations[0].id}&amp;age={made.age_categories[0].id}"
    overview = client.get("/contest/2030/results").get_data(as_text=True)
    # The winner and prize-winners of each of the four groups, and a link to all of each
    assert len(entry_numbers(overview)) == 3 * groups and f"results?{first}" in overview
    assert overview.count(f"Все работы с наградами: {count // groups} →") == groups
    pages = walk(client, f"/contest/2030/results?{unescape(first)}", entry_numbers)
    # Every entry of the first group, by place
    assert [n for page in pages for n in page] == list(range(0, count, groups))
    assert len(pages) == NUMBERED_PAGES + 2


def test_a_teachers_own_projects_come_a_page_at_a_time_beside_their_reports(app, client, auth, make_user):
    teacher = make_user(email="teacher@example.ru")
    with app.app_context():
        add_published_projects(teacher.id, 2 * PER_PAGE_OF_LISTS + 5)
    auth.login("teacher@example.ru")
    first = client.get("/projects/mine").get_data(as_text=True)
    assert len(titles(first)) == PER_PAGE_OF_LISTS and link(first, "next") == "/projects/mine?page=2"
    # The reports' pager has arguments of its own: turning the projects' pages leaves it alone
    assert "Отчётов пока нет" in first and "reports_page" not in first
    third = client.get("/projects/mine?page=3").get_data(as_text=True)
    assert titles(third) == [f"{n:05d}" for n in range(4, -1, -1)]
