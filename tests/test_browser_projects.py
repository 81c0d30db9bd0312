"""In a real browser: a typical project goes from a teacher's draft through moderation to the catalogue."""

import re

import pytest
from playwright.sync_api import expect

from tests.helpers import PDF

pytestmark = pytest.mark.browser


def log_in(page, email):
    page.goto("/auth/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill("пароль-надёжный-1")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()


def log_out(page):
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Выйти").click()
    expect(page.get_by_role("link", name="Войти")).to_be_visible()


def test_project_from_draft_through_moderation_to_the_catalogue(page, make_user):
    make_user(roles=("teacher",), email="teacher@example.ru")
    make_user(roles=("moderator",), email="moderator@example.ru")

    # A teacher writes a project with three stages
    log_in(page, "teacher@example.ru")
    page.goto("/projects/new")
    page.get_by_label("Название проекта").fill("Инженеры Ангары")
    page.get_by_label("Кратко о проекте").fill("Как устроены мосты через Ангару.")
    page.get_by_label("Цель").fill("Познакомить с профессией инженера-мостостроителя.")
    page.get_by_label("10–11 классы").check()
    page.get_by_label("Строительство и архитектура").check()
    page.get_by_label("Групповой").check()
    page.get_by_label("Продолжительность, недель").fill("6")
    stage_titles = page.get_by_label("Название этапа")
    stage_titles.nth(0).fill("Экскурсия на мост")
    # «Add stage» brings new rows in place, with what was typed kept
    page.get_by_role("button", name="+ Добавить этап").click()
    expect(stage_titles).to_have_count(2)
    stage_titles.nth(1).fill("Расчёт нагрузки")
    page.get_by_role("button", name="+ Добавить этап").click()
    expect(stage_titles).to_have_count(3)
    stage_titles.nth(2).fill("Макет моста")
    expect(stage_titles.nth(0)).to_have_value("Экскурсия на мост")
    # ... moves the last stage up
    page.get_by_role("button", name="Поднять этап 3").click()
    expect(stage_titles.nth(1)).to_have_value("Макет моста")
    page.get_by_label("Ожидаемые результаты").fill("Макет моста и расчёт.")
    # ... attaches a worksheet
    page.get_by_label("Файлы к проекту").set_input_files(
        {"name": "Рабочий лист.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.get_by_role("button", name="Сохранить черновик").click()
    expect(page.get_by_role("heading", name="Инженеры Ангары")).to_be_visible()
    expect(page.get_by_role("link", name="Рабочий лист.pdf")).to_be_visible()
    stages = page.locator("ol.stages > li > strong")
    expect(stages).to_have_text(["Экскурсия на мост", "Макет моста", "Расчёт нагрузки"])
    # ... and submits it
    page.get_by_role("button", name="Отправить на проверку").click()
    expect(page.locator(".status")).to_have_text("На проверке")
    log_out(page)

    # The moderator sees it in the queue (the header counts it) and asks for changes
    log_in(page, "moderator@example.ru")
    expect(page.locator(".user-nav .badge-count")).to_have_text("1")
    page.get_by_role("link", name=re.compile("Модерация")).click()
    page.get_by_role("link", name="Инженеры Ангары").click()
    page.get_by_label("Комментарий автору").fill("Добавьте, какие колледжи готовят мостостроителей.")
    page.get_by_role("button", name="Вернуть на доработку").click()
    # The decision panel updates in place; the header count drops through the HX-Trigger event
    expect(page.locator("#decision .status")).to_have_text("Нужны исправления")
    expect(page.locator(".user-nav .badge-count")).to_have_count(0)
    log_out(page)

    # The teacher reads the comment, fixes and resubmits
    log_in(page, "teacher@example.ru")
    page.goto("/projects/mine")
    page.get_by_role("link", name="Инженеры Ангары").click()
    expect(page.get_by_text("Добавьте, какие колледжи готовят мостостроителей.")).to_be_visible()
    page.get_by_role("link", name="Редактировать").click()
    page.get_by_label("Ресурсы и материалы").fill("Ангарский политехнический техникум, ИрГУПС.")
    page.get_by_role("button", name="Сохранить черновик").click()
    page.get_by_role("button", name="Отправить на проверку").click()
    expect(page.locator(".status")).to_have_text("На проверке")
    log_out(page)

    # The moderator publishes
    log_in(page, "moderator@example.ru")
    page.get_by_role("link", name=re.compile("Модерация")).click()
    page.get_by_role("link", name="Инженеры Ангары").click()
    page.get_by_role("button", name="Опубликовать").click()
    expect(page.locator("#decision .status")).to_have_text("Опубликовано")
    log_out(page)

    # A visitor finds it with the age group filter; the URL follows the filter
    page.goto("/projects/")
    page.get_by_label("Возрастная группа").select_option(label="10–11 классы")
    expect(page).to_have_url(re.compile(r"age=10-11"))
    results = page.locator("#project-results")
    expect(results).to_contain_text("Инженеры Ангары")
    page.get_by_label("Возрастная группа").select_option(label="6–7 классы")
    expect(results).not_to_contain_text("Инженеры Ангары")
    # Back restores the previous filter's results
    page.go_back()
    expect(results).to_contain_text("Инженеры Ангары")
    results.get_by_role("link", name="Инженеры Ангары").click()
    expect(page.get_by_text("Ангарский политехнический техникум, ИрГУПС.")).to_be_visible()
    # ... and the worksheet is there for the visitor to download, under a neutral name
    expect(page.get_by_text("Рабочий лист.pdf")).to_have_count(0)
    href = page.get_by_role("link", name=re.compile(r"^proekt-\d+-prilozhenie-\d+\.pdf$")).get_attribute("href")
    response = page.request.get(href)
    assert response.ok and response.body() == PDF
