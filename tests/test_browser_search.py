"""In a real browser: the header's search box searches as one types, facets narrow, Back goes back."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_project

pytestmark = pytest.mark.browser


@pytest.fixture
def projects(app, make_user):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    for title, ages, spheres in [
        ("Лесная экология", ["8-9"], ["forestry"]),
        ("Энергетика для младших", ["6-7"], ["energy"]),
        ("Энергетика для старших", ["10-11"], ["it"]),
    ]:
        with app.test_request_context():
            make_project(
                teacher,
                "published",
                moderator=moderator,
                title=title,
                ages=ages,
                spheres=spheres,
                summary="Проект для класса.",
                goal="Познакомить с профессиями региона.",
            )


def test_typing_updates_results_in_place_facets_narrow_and_back_restores(page, projects):
    results = page.locator("#search-results")
    titles = results.locator(".search-hit h3")
    # A visitor opens the search page: the newest items are there
    page.goto("/search")
    expect(results).to_contain_text("Недавно опубликованное")
    expect(titles).to_have_count(3)
    page.evaluate("document.querySelector('h1').dataset.marker = 'same page'")

    # She types into the header's box: the results change as she types, without loading a new page
    page.locator("#site-search-q").press_sequentially("энергетики", delay=40)
    expect(results).to_contain_text("Найдено: 2 материала")
    expect(titles).to_have_text([re.compile("Энергетика для")] * 2)
    expect(results.locator("mark").first).to_have_text(re.compile("Энергетика", re.IGNORECASE))
    expect(page.locator("h1[data-marker='same page']")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"/search\?q=%D1%8D"))

    # A facet narrows the results
    page.locator(".search-facets").get_by_role("link", name=re.compile("10–11 классы")).click()
    expect(results).to_contain_text("Найдено: 1 материал")
    expect(titles).to_have_text(["Энергетика для старших"])
    expect(page).to_have_url(re.compile(r"age=10-11"))
    expect(page.locator("h1[data-marker='same page']")).to_have_count(1)

    # Back brings the previous results back
    page.go_back()
    expect(results).to_contain_text("Найдено: 2 материала")
    expect(titles).to_have_count(2)
    expect(page).not_to_have_url(re.compile(r"age="))


def test_the_search_page_works_without_javascript(browser, live_server, projects):
    context = browser.new_context(base_url=live_server, java_script_enabled=False, locale="ru-RU")
    try:
        page = context.new_page()
        page.goto("/")
        page.locator("#site-search-q").fill("энергетика")
        page.locator(".site-search").get_by_role("button", name="Найти").click()
        expect(page.locator("#search-results")).to_contain_text("Найдено: 2 материала")
        page.locator(".search-facets").get_by_role("link", name=re.compile("6–7 классы")).click()
        expect(page.locator(".search-hit h3")).to_have_text(["Энергетика для младших"])
    finally:
        context.close()
