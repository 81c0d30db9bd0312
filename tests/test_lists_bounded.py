"""No page grows with the whole table: every list is paged, deep pages start reading at their key in an index."""

import datetime as dt
import re
from html import unescape

import pytest
from sqlalchemy import insert, text

from catalogue.extensions import db
from catalogue.pagination import NUMBERED_PAGES
from catalogue.projects.models import Project
from catalogue.projects.services import PER_PAGE
from catalogue.workflow.models import Status
from tests.helpers import recorded_statements

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


def walk(client, url: str) -> list[list[str]]:
    """Every page of a list from ``url`` on, following «Вперёд →»: the numbers of the projects on each."""
    pages = []
    while url:
        page = client.get(url).get_data(as_text=True)
        pages.append(titles(page))
        url = link(page, "next")
    return pages


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("new", lambda n: list(range(n - 1, -1, -1))), ("title", lambda n: list(range(n)))],
)
def test_the_catalogue_pages_past_the_numbered_ones_by_key_and_back_without_losing_a_project(
    app, client, make_user, sort, expected
):
    author = make_user()
    count = PER_PAGE * (NUMBERED_PAGES + 3) + 5  # three keyset pages and a short last one past the numbered
    with app.app_context():
        # Titles with commas: the key of the title order holds them
        add_published_projects(author.id, count, title=lambda i: f"Проект, номер {i:05d}")

    pages = walk(client, f"/projects/?sort={sort}")
    assert [int(n) for page in pages for n in page] == expected(count)
    assert len(pages) == NUMBERED_PAGES + 4 and all(len(p) == PER_PAGE for p in pages[:-1])

    # Past the numbered pages the links carry the last project's key instead of a number...
    tenth = client.get(f"/projects/?sort={sort}&page={NUMBERED_PAGES}").get_data(as_text=True)
    deep = link(tenth, "next")
    assert "after=" in deep and "page=" not in deep and f"sort={sort}" in deep
    deep_page = client.get(deep).get_data(as_text=True)
    assert "В начало" in deep_page
    # ...and «← Назад» from there leads to the same tenth page
    back = client.get(link(deep_page, "prev")).get_data(as_text=True)
    assert titles(back) == titles(tenth)
    # A page number beyond the numbered ones shows the last numbered page
    assert titles(client.get(f"/projects/?sort={sort}&page=1427").get_data(as_text=True)) == titles(tenth)
    # A key that is not one of ours shows the first page, never an error
    for junk in ("x", ",", "2026-13-01T00:00:00,1", "1,2,3,4", "a" * 1000):
        response = client.get(f"/projects/?sort={sort}&after={junk}")
        assert response.status_code == 200 and titles(response.get_data(as_text=True)) == pages[0]


def page_query(statements) -> tuple[str, object]:
    """The statement that read the page's rows (the one with LIMIT on the project table)."""
    return next((s, p) for s, p in statements if "FROM project" in s and "LIMIT" in s)


@pytest.mark.parametrize(
    ("sort", "index"), [("new", "ix_project_status_published"), ("title", "ix_project_status_title")]
)
def test_a_deep_page_of_the_catalogue_reads_its_rows_from_the_index_of_its_order(
    app, client, make_user, backend, sort, index
):
    author = make_user()
    with app.app_context():
        add_published_projects(author.id, 3000)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    tenth = client.get(f"/projects/?sort={sort}&page={NUMBERED_PAGES}").get_data(as_text=True)
    deep = link(tenth, "next")
    with app.app_context(), recorded_statements(db.engine) as statements:
        assert client.get(deep).status_code == 200
    statement, parameters = page_query(statements)
    with app.app_context():
        connection = db.session.connection()
        if backend == "sqlite":
            plan = " ".join(
                row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
            # The rows come in the index's order: no sort of the whole table
            assert f"USING INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan
        else:
            rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters).scalar()
            plan = rows[0]["Plan"]
            nodes = [plan, *plan.get("Plans", [])]
            scan = next(n for n in _flatten(plan) if n.get("Index Name") == index)
            # It starts at the key: it reads no more than a page and the one after, of 3,000 rows
            assert scan["Actual Rows"] <= PER_PAGE + 1, nodes
            assert not any(n["Node Type"] == "Sort" for n in _flatten(plan)), nodes


def _flatten(plan: dict) -> list[dict]:
    return [plan, *(n for child in plan.get("Plans", []) for n in _flatten(child))]
