"""In a real browser: a visitor registers as a teacher, logs in and out."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_visitor_registers_as_teacher_logs_in_and_out(page):
    # A visitor opens the home page
    page.goto("/")
    expect(page).to_have_title(re.compile("Профориентация"))
    # ... follows «Регистрация»
    page.get_by_role("link", name="Регистрация").click()
    expect(page.get_by_role("heading", name="Регистрация")).to_be_visible()
    # ... says who they are
    page.get_by_label("Педагог").check()
    page.get_by_label("Фамилия").fill("Кузнецова")
    page.get_by_label("Имя", exact=True).fill("Марина")
    page.get_by_label("Электронная почта").fill("marina@example.ru")
    page.get_by_label("Пароль", exact=True).fill("очень-надёжный-пароль")
    page.get_by_label("Пароль ещё раз").fill("очень-надёжный-пароль")
    # ... picks the municipality: the organization list fills in by htmx
    page.get_by_label("Муниципальное образование").select_option(label="город Иркутск")
    options = page.locator("#organization-options")
    expect(options).to_contain_text("Иркутский авиационный техникум")
    # ... types part of the school's name: the list narrows as she types
    page.get_by_label("Найдите свою организацию").press_sequentially("сош 19", delay=30)
    expect(options).to_contain_text("МБОУ г. Иркутска СОШ № 19")
    expect(options).not_to_contain_text("Иркутский авиационный техникум")
    page.get_by_label(re.compile("МБОУ г. Иркутска СОШ № 19")).check()
    page.get_by_label(re.compile("Я соглашаюсь на обработку")).check()
    page.get_by_role("button", name="Зарегистрироваться").click()
    # She is asked to look at her mail (the same answer whether the address was free or not) ...
    expect(page.get_by_text("Проверьте почту")).to_be_visible()
    # ... and may also log in with her password right away
    page.get_by_label("Электронная почта").fill("marina@example.ru")
    page.get_by_label("Пароль").fill("очень-надёжный-пароль")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
    expect(page.get_by_text("Здравствуйте, Марина!")).to_be_visible()
    expect(page.locator("main")).to_contain_text("МБОУ г. Иркутска СОШ № 19")

    # She logs out from the user menu
    page.get_by_text("Марина Кузнецова").click()
    page.get_by_role("button", name="Выйти").click()
    expect(page.get_by_text("Вы вышли из учётной записи.")).to_be_visible()
    expect(page.get_by_role("link", name="Войти")).to_be_visible()


def test_wrong_password_shows_a_message_in_russian(page, make_user):
    make_user(email="teacher@example.ru")
    page.goto("/auth/login")
    page.get_by_label("Электронная почта").fill("teacher@example.ru")
    page.get_by_label("Пароль").fill("не тот пароль")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_contain_text("Неверный адрес электронной почты или пароль.")
    expect(page.get_by_label("Электронная почта")).to_have_value("teacher@example.ru")
