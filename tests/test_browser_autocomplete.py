"""In a real browser: the header's search box suggests titles and words, and is used from the keyboard alone."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import BROWSER_TIMEOUT_MS
from tests.factories import make_project
from tests.test_browser_axe import AXE, RUN_AXE

pytestmark = pytest.mark.browser


@pytest.fixture
def projects(app, make_user):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    for title, summary in [
        ("Программирование роботов", "Программисты Иркутска учат программировать."),
        ("Ветеринар в сельском хозяйстве", "Профпроба в ветклинике."),
    ]:
        with app.test_request_context():
            make_project(teacher, "published", moderator=moderator, title=title, summary=summary)


@pytest.fixture
def page(browser, live_server):
    """A page that lets axe (a test tool, not the site's) in past the site's Content-Security-Policy."""
    context = browser.new_context(base_url=live_server, locale="ru-RU", bypass_csp=True)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_the_combobox_by_keyboard(page, projects):
    box = page.locator("#site-search-q")
    listbox = page.locator("#site-search-listbox")
    options = listbox.get_by_role("option")
    # A visitor on the home page types the beginning of a word: suggestions open under the box
    page.goto("/")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "false")
    page.add_script_tag(path=str(AXE))
    assert page.evaluate(RUN_AXE) == []  # nothing serious with the suggestions closed…
    box.press_sequentially("прогр", delay=30)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-controls", "site-search-listbox")
    expect(options.first).to_contain_text("Программирование роботов")
    expect(listbox.locator(".suggest-word").first).to_have_text(re.compile("^програм"))
    assert page.evaluate(RUN_AXE) == []  # …or open

    # ↓ moves through the options, the box names the active one; Escape closes and keeps what was typed
    box.press("ArrowDown")
    first_id = options.first.get_attribute("id")
    expect(box).to_have_attribute("aria-activedescendant", first_id)
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")
    expect(box).to_have_attribute("aria-activedescendant", first_id)
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("прогр")

    # ↓ opens them again; a word completes the query and Enter searches it
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-expanded", "true")
    words = listbox.locator(".suggest-word")
    word = words.first.get_attribute("data-value")
    while box.get_attribute("aria-activedescendant") != words.first.get_attribute("id"):
        box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q="))
    expect(page.locator("#search-results")).to_contain_text("Программирование роботов")
    expect(page.locator("#site-search-q")).to_have_value(re.compile(rf"^{word}\s*$"))  # a whole word now

    # On the search page, a title leads straight to the item
    box.fill("")
    box.press_sequentially("ветер", delay=30)
    expect(options.first).to_contain_text("Ветеринар в сельском хозяйстве")
    box.press("ArrowDown")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/projects/\d+"))
    expect(page.locator("h1")).to_have_text("Ветеринар в сельском хозяйстве")
