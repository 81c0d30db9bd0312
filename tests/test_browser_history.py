"""In a real browser: Back and Forward show the filters and the words that the address says, and walking through a
select with the arrow keys leaves one history entry, not one per key."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_project
from tests.test_practices_factories import make_practice

pytestmark = pytest.mark.browser


@pytest.fixture
def projects(app, make_user):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    for title, ages, spheres in [
        ("Лесная экология", ["8-9"], ["forestry"]),
        ("Энергетика для младших", ["6-7"], ["energy"]),
        ("Энергетика для старших", ["10-11"], ["energy"]),
        ("Программисты Ангары", ["10-11"], ["it"]),
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


def history_length(page) -> int:
    return page.evaluate("window.history.length")


def test_back_after_filtering_shows_the_filters_of_the_address(page, projects):
    results = page.locator("#project-results")
    titles = results.locator(".card h2, .card h3")
    age, sphere = page.get_by_label("Возрастная группа"), page.get_by_label("Сфера")
    order = page.get_by_label("Порядок")
    # A teacher filters the catalogue to 10–11 and sorts it by title
    page.goto("/projects/")
    age.select_option(label="10–11 классы")
    expect(results).to_contain_text("Найдено: 2 проекта")
    order.select_option(label="по названию")
    expect(page).to_have_url(re.compile(r"sort=title"))
    expect(titles.first).to_have_text("Программисты Ангары")

    # She opens a project and comes back
    results.get_by_role("link", name="Программисты Ангары").click()
    expect(page.get_by_role("heading", name="Программисты Ангары", level=1)).to_be_visible()
    page.go_back()

    # The results and every select say the same thing: 10–11, by title
    expect(page).to_have_url(re.compile(r"age=10-11.*sort=title"))
    expect(results).to_contain_text("Найдено: 2 проекта")
    expect(age.locator("option:checked")).to_have_text("10–11 классы")
    expect(order.locator("option:checked")).to_have_text("по названию")

    # Another filter now narrows the same results, the age is kept
    sphere.select_option(label="Энергетика")
    expect(results).to_contain_text("Найдено: 1 проект")
    expect(titles).to_have_text(["Энергетика для старших"])
    expect(page).to_have_url(re.compile(r"age=10-11"))

    # Back once more: the sphere is empty again, the age still there; Forward brings the sphere back
    page.go_back()
    expect(results).to_contain_text("Найдено: 2 проекта")
    expect(sphere.locator("option:checked")).not_to_have_text("Энергетика")
    expect(age.locator("option:checked")).to_have_text("10–11 классы")
    page.go_forward()
    expect(results).to_contain_text("Найдено: 1 проект")
    expect(sphere.locator("option:checked")).to_have_text("Энергетика")


def test_back_after_searching_shows_the_words_in_the_search_box(page, projects):
    box = page.locator("#site-search-q")
    results = page.locator("#search-results")
    # A visitor types words into the search page's box
    page.goto("/search")
    box.press_sequentially("энергетика", delay=40)
    expect(results).to_contain_text("Найдено: 2 материала")
    expect(page).to_have_url(re.compile(r"q=%D1%8D"))

    # He opens a result and comes back: the words are still in the box, above their results
    results.get_by_role("link", name=re.compile("Энергетика для старших")).click()
    expect(page.get_by_role("heading", name="Энергетика для старших", level=1)).to_be_visible()
    page.go_back()
    expect(results).to_contain_text("Найдено: 2 материала")
    expect(box).to_have_value("энергетика")

    # Further Back, to the page before the words: the box is empty again
    page.go_back()
    expect(page).to_have_url(re.compile(r"/search$"))
    expect(results).to_contain_text("Недавно опубликованное")
    expect(box).to_have_value("")


def test_back_to_the_filtered_moderation_queue_shows_its_filter(app, page, make_user):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    make_user(roles=("moderator",), email="moderator@example.ru")
    with app.test_request_context():
        make_project(teacher, "submitted", title="Проект ждёт проверки")
        make_practice(teacher, "submitted", title="Практика ждёт проверки")
    page.goto("/auth/login")
    page.get_by_label("Электронная почта").fill("moderator@example.ru")
    page.get_by_label("Пароль").fill("пароль-надёжный-1")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()

    # The moderator narrows the queue to practices and opens one
    page.goto("/moderation")
    results = page.locator("#queue-results")
    kind = page.get_by_label("Тип материала")
    expect(results).to_contain_text("2 материала ждут проверки")
    kind.select_option(label="Лучшая практика")
    expect(results).to_contain_text("1 материал ждёт проверки")
    results.get_by_role("link", name="Практика ждёт проверки").click()
    expect(page.get_by_role("heading", name="Практика ждёт проверки", level=1)).to_be_visible()

    # Back: the queue and its select both say «Лучшая практика»
    page.go_back()
    expect(results).to_contain_text("1 материал ждёт проверки")
    expect(kind.locator("option:checked")).to_have_text("Лучшая практика")


def test_walking_through_a_select_with_the_arrow_keys_leaves_one_history_entry(page, projects):
    results = page.locator("#project-results")
    age = page.get_by_label("Возрастная группа")
    page.goto("/projects/")
    before = history_length(page)

    # A keyboard user walks down the age select: each step shows its results at once
    age.focus()
    for _ in range(3):
        age.press("ArrowDown")
        page.wait_for_load_state("networkidle")
    expect(age.locator("option:checked")).to_have_text("10–11 классы")
    expect(page).to_have_url(re.compile(r"age=10-11"))
    expect(results).to_contain_text("Найдено: 2 проекта")
    # ... and the walk is one entry of the history, not three
    assert history_length(page) == before + 1

    # Leaving the select ends the walk: the next walk is an entry of its own
    page.get_by_label("Сфера").focus()
    page.get_by_label("Сфера").press("ArrowDown")
    page.wait_for_load_state("networkidle")
    expect(page).to_have_url(re.compile(r"sphere=\w"))
    assert history_length(page) == before + 2

    # One Back undoes the whole second walk, the next one the whole first
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"sphere=\w"))
    expect(page).to_have_url(re.compile(r"age=10-11"))
    expect(age.locator("option:checked")).to_have_text("10–11 классы")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/projects/$"))
    expect(results).to_contain_text("4 проекта")
    expect(age.locator("option:checked")).to_have_text(re.compile("Все"))
