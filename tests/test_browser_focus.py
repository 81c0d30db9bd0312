"""In a real browser: where focus goes after an htmx swap, the keyboard in the user menu, the registration form
for teachers, and the version for the visually impaired."""

import pytest
from playwright.sync_api import expect

from tests.test_browser_projects import log_in
from tests.test_practices_factories import make_people, practice_maker

pytestmark = pytest.mark.browser


def focused(page) -> str:
    """The focused element, described: its tag, name or id, and class."""
    return page.evaluate(
        """() => { const e = document.activeElement;
                   return [e.tagName.toLowerCase(), e.name || e.id || "", e.className || ""].join("|"); }"""
    )


def test_focus_follows_the_rows_and_the_errors_of_the_project_form(page, make_user):
    make_user(roles=("teacher",), email="teacher@example.ru")
    log_in(page, "teacher@example.ru")
    page.goto("/projects/new")
    # «Добавить этап» brings a row: focus is in its title, ready to type
    page.get_by_role("button", name="+ Добавить этап").click()
    titles = page.get_by_label("Название этапа")
    expect(titles).to_have_count(2)
    expect(titles.nth(1)).to_be_focused()
    page.keyboard.type("Расчёт нагрузки")
    expect(titles.nth(1)).to_have_value("Расчёт нагрузки")
    # Sending the form with errors: focus is on the first field with an error, which says what is wrong
    page.get_by_role("button", name="Сохранить черновик").click()
    first_error = page.get_by_label("Название проекта")
    expect(first_error).to_be_focused()
    expect(first_error).to_have_attribute("aria-invalid", "true")


def test_focus_goes_to_the_error_then_to_the_result_of_marking_a_practice_adopted(app, page, make_user):
    people = make_people(app, make_user)
    practice_id = practice_maker(app, people)()
    log_in(page, "bratsk@example.ru")
    page.goto(f"/practices/{practice_id}")
    adoption = page.locator("#adoption")
    # A date in the future is refused, and focus lands on the date with its message
    page.get_by_label("Когда внедрили").fill("2099-01-01")
    page.get_by_role("button", name="Внедрили у себя").click()
    expect(adoption).to_contain_text("Дата внедрения не может быть в будущем.")
    expect(page.get_by_label("Когда внедрили")).to_be_focused()
    # A right date: focus is on what changed, the confirmation in the adoption section
    page.get_by_label("Когда внедрили").fill("2025-03-01")
    page.get_by_role("button", name="Внедрили у себя").click()
    confirmation = adoption.get_by_text("Ваша организация отметила внедрение 1 марта 2025")
    expect(confirmation).to_be_focused()


def test_typing_in_the_live_search_keeps_focus_in_the_box(page):
    page.goto("/search")
    box = page.get_by_role("combobox").first  # the search box, with its suggestions
    box.click()
    box.press_sequentially("энергетика", delay=20)
    page.wait_for_url("**q=**")
    expect(box).to_be_focused()


def test_escape_closes_the_user_menu(page, make_user):
    make_user(roles=("teacher",), email="teacher@example.ru", first_name="Марина", last_name="Кузнецова")
    log_in(page, "teacher@example.ru")
    menu = page.locator("details.user-menu")
    item = menu.get_by_role("link", name="Сменить пароль")
    menu.locator("summary").click()
    expect(item).to_be_visible()
    item.focus()
    page.keyboard.press("Escape")
    expect(item).to_be_hidden()
    expect(menu.locator("summary")).to_be_focused()


def test_a_teacher_is_not_asked_for_class_and_birth_date(page):
    page.goto("/auth/register")
    expect(page.get_by_label("Класс", exact=True)).to_be_visible()
    page.get_by_label("Педагог").check()
    expect(page.get_by_label("Класс", exact=True)).to_be_hidden()
    expect(page.get_by_label("Дата рождения")).to_be_hidden()
    page.get_by_label("Обучающийся (6–11 класс)").check()
    expect(page.get_by_label("Дата рождения")).to_be_visible()


def test_the_version_for_the_visually_impaired_is_larger_and_remembered(page):
    page.goto("/about")
    ordinary = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
    page.get_by_role("link", name="Версия для слабовидящих").click()
    page.wait_for_url("**/about")
    expect(page.locator("html")).to_have_class("a11y a11y-on")
    larger = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")
    assert larger >= ordinary * 1.3
    # ... on every page after, until switched off; images can go too
    page.get_by_role("link", name="Проекты", exact=True).click()
    expect(page.locator("html")).to_have_class("a11y a11y-on")
    page.get_by_role("link", name="Скрыть изображения").click()
    expect(page.locator("html")).to_have_class("a11y a11y-noimages")
    page.get_by_role("link", name="Обычная версия сайта").click()
    expect(page.locator("html")).not_to_have_class("a11y a11y-noimages")
    expect(page.get_by_role("link", name="Версия для слабовидящих")).to_be_visible()
