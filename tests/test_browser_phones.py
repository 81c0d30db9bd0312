"""On a phone (375 × 740 CSS pixels): the first result is on the first screen, and tables are cards.

Measured with the boxes the browser lays out (no screenshots). No sideways scrolling on any page is checked by the
axe walk (tests/test_browser_axe.py), which opens every page at 375 px anyway.
"""

import datetime as dt

import pytest
from playwright.sync_api import expect
from sqlalchemy import insert

from catalogue.contest.models import Entry, Season
from catalogue.extensions import db
from catalogue.workflow.models import Status
from tests.factories import make_project
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 740}
WIDE = {"width": 1280, "height": 800}
SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


@pytest.fixture
def projects(app, make_user):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    for title, ages in [("Энергетика Ангары", ["8-9"]), ("Энергетика для старших", ["10-11"])]:
        with app.test_request_context():
            make_project(teacher, "published", moderator=moderator, title=title, ages=ages, spheres=["energy"])


def on_first_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"]


def test_on_a_phone_the_first_result_is_on_the_first_screen_and_the_filters_fold(page, projects):
    page.set_viewport_size(PHONE)
    # A teacher searches on her phone: the facets are folded behind «Фильтры», the first hit is on the first screen
    page.goto("/search?q=энергетика")
    first_hit = page.locator(".search-hit h3").first
    expect(page.locator(".search-hit h3")).to_have_count(2)
    assert on_first_screen(first_hit), first_hit.bounding_box()
    fold = page.locator(".search-facets summary")
    expect(fold).to_have_text("Фильтры")
    facet = page.locator(".search-facets").get_by_role("link", name="10–11 классы")
    expect(facet).to_be_hidden()
    # She opens them and picks an age group: the summary counts it, and the chosen filter shows above the results
    fold.click()
    facet.click()
    expect(page.locator(".search-hit h3")).to_have_text(["Энергетика для старших"])
    expect(fold).to_have_text("Фильтры (1)")
    expect(page.get_by_role("list", name="Выбранные фильтры")).to_contain_text("10–11 классы")
    assert page.evaluate(SIDEWAYS) <= 0

    # The catalogue: the age tiles, then the folded filters, and the first project still on the first screen
    page.goto("/projects/")
    first_project = page.locator("#project-results .card h3, #project-results .card h2").first
    expect(first_project).to_be_visible()
    assert on_first_screen(first_project), first_project.bounding_box()
    expect(page.get_by_label("Возрастная группа")).to_be_hidden()
    page.goto("/projects/?age=10-11&sphere=energy")
    expect(page.locator(".filters-fold summary")).to_have_text("Фильтры (2)")
    assert page.evaluate(SIDEWAYS) <= 0

    # On a wide screen the filters are simply there, without a summary to open
    page.set_viewport_size(WIDE)
    expect(page.get_by_label("Возрастная группа")).to_be_visible()
    expect(page.locator(".filters-fold summary")).to_be_hidden()


@pytest.fixture
def results(app, make_user):
    """Season 2030 with its results published: three admitted entries of one group, with places, scores, awards."""
    from tests.contest_support import make_season

    admin = make_user(roles=("admin",), email="admin@example.ru")
    student = make_user(roles=("student",), email="student@example.ru", grade=8)
    with app.test_request_context():
        season = make_season(admin, 2030, phase="results")
        season.results_confirmed_at = season.results_published_at = dt.datetime(2030, 6, 1, 9, 0)
        group = {"nomination_id": season.nominations[0].id, "age_category_id": season.age_categories[0].id}
        awards = ["winner", "prize", "participant"]
        rows = [
            {
                "season_id": season.id,
                **group,
                "title": f"Модель номер {i + 1}",
                "description": "Модель.",
                "author_id": student.id,
                "grade": 8,
                "status": Status.PUBLISHED,
                "rank": i + 1,
                "award": award,
                "total_score": 20.5 - i,
            }
            for i, award in enumerate(awards)
        ]
        db.session.execute(insert(Entry), rows)
        db.session.commit()
        assert db.session.get(Season, season.id).results_published
    return student


# Each row of the table's body: where its cells are, what each cell's label says, and whether the cell shows.
ROWS = """table => [...table.tBodies[0].rows].map(row => ({
  row: row.getBoundingClientRect().toJSON(),
  cells: [...row.cells].map(cell => ({
    box: cell.getBoundingClientRect().toJSON(),
    label: getComputedStyle(cell, "::before").content,
    text: cell.innerText.trim(),
  })),
}))"""


def cards(table) -> list[dict]:
    """The rows of ``table`` as laid out: each a card when its cells stand one under another, labelled."""
    return table.evaluate(ROWS)


def test_on_a_phone_the_results_table_shows_each_row_as_a_card_with_score_award_and_state(page, results):
    page.set_viewport_size(PHONE)
    page.goto("/contest/2030/results")
    table = page.locator("table.results-table").first
    expect(table.get_by_role("columnheader", name="Балл")).to_have_count(1)  # still a table to a screen reader
    rows = cards(table)
    assert len(rows) == 2  # the winner and the prize-winner; participants are on the group's own page
    for row in rows:
        # One card per row, as wide as the screen allows, its cells one under another
        assert row["row"]["x"] >= 0 and row["row"]["x"] + row["row"]["width"] <= PHONE["width"]
        tops = [cell["box"]["y"] for cell in row["cells"] if cell["box"]["height"]]
        assert tops == sorted(tops) and len(set(tops)) == len(tops), row
        shown = {cell["label"].split("/")[0].strip().strip('"'): cell for cell in row["cells"] if cell["box"]["height"]}
        # The score and the award are there, labelled, and inside the screen
        for label in ("Балл", "Награда"):
            box = shown[label]["box"]
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (label, box)
    assert [row["cells"][4]["text"] for row in rows] == ["20,50", "19,50"]
    assert [row["cells"][5]["text"] for row in rows] == ["Победитель", "Призёр"]
    assert page.evaluate(SIDEWAYS) <= 0

    # The same table on a wide screen is a table: a row's cells side by side
    page.set_viewport_size(WIDE)
    row = cards(table)[0]
    assert len({round(cell["box"]["y"]) for cell in row["cells"]}) == 1, row

    # The student's «Мои конкурсные работы» on her phone: each entry a card with its state and award
    page.set_viewport_size(PHONE)
    page.goto("/auth/login")
    page.get_by_label("Электронная почта").fill("student@example.ru")
    page.get_by_label("Пароль").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Войти", exact=True).click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.goto("/contest/mine")
    mine = cards(page.locator("main table"))
    assert len(mine) == 3
    for row in mine:
        state = next(cell for cell in row["cells"] if "Состояние" in cell["label"])
        assert state["text"] and state["box"]["x"] + state["box"]["width"] <= PHONE["width"], row
        assert len({round(cell["box"]["y"]) for cell in row["cells"]}) == len(row["cells"]), row
    assert sorted(row["cells"][0]["text"] for row in mine) == [
        "Модель номер 1 Победитель",
        "Модель номер 2 Призёр",
        "Модель номер 3 Участник",
    ]
    assert page.evaluate(SIDEWAYS) <= 0
    # Her menu opens across the header, not past the screen's edge
    page.locator(".user-menu summary").click()
    menu = page.locator(".user-menu ul").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= PHONE["width"], menu
    assert page.evaluate(SIDEWAYS) <= 0
