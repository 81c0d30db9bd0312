"""In a real browser: a teacher proposes a practice, a moderator publishes it, another school adopts it."""

import re

import pytest
from playwright.sync_api import expect

from catalogue.extensions import db
from tests.helpers import DEFAULT_PASSWORD
from tests.test_practices_factories import BRATSK_SCHOOL, IRKUTSK_SCHOOL, organization

pytestmark = pytest.mark.browser

TITLE = "Встречи с энергетиками Иркутской ГЭС"


def log_in(page, email: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()


def test_teacher_proposes_moderator_publishes_another_school_adopts(app, page, browser, live_server, make_user):
    with app.app_context():
        make_user(email="teacher@example.ru", organization=organization(IRKUTSK_SCHOOL))
        make_user(email="bratsk@example.ru", organization=organization(BRATSK_SCHOOL))
        make_user(roles=("moderator",), email="moderator@example.ru", organization=None)
        db.session.remove()

    # The teacher opens the practices and proposes one
    log_in(page, "teacher@example.ru")
    page.get_by_role("navigation", name="Основные разделы").get_by_role("link", name="Практики").click()
    expect(page.get_by_role("heading", name="Лучшие практики")).to_be_visible()
    page.get_by_role("link", name="Предложить практику").click()
    expect(page.get_by_role("heading", name="Новая практика")).to_be_visible()
    # Her school is already chosen
    expect(page.get_by_label("Организация", exact=True)).to_have_value(re.compile(r"\d+"))
    page.get_by_label("Название практики").fill(TITLE)
    page.get_by_label("Кратко о практике").fill("Раз в месяц в школу приходит инженер-энергетик.")
    page.get_by_label("6. Встречи с представителями профессий").check()
    page.get_by_label("С класса").select_option("8")
    page.get_by_label("Участников, человек").fill("120")
    page.get_by_label("Доля обучающихся организации, %").fill("60")
    page.get_by_label("Период: начало").fill("2024-09-01")
    page.get_by_label("Результаты и эффекты").fill("Участвовали 60 % обучающихся 8–11 классов.")
    # The guide: a second step is added in place by htmx
    page.get_by_label("Что сделать").first.fill("Найти гостя")
    page.get_by_role("button", name="+ Добавить шаг").click()
    expect(page.get_by_label("Что сделать")).to_have_count(2)
    expect(page.get_by_label("Что сделать").first).to_have_value("Найти гостя")
    page.get_by_label("Что сделать").nth(1).fill("Провести интервью")
    page.get_by_label("Подробное описание").fill("Ученики сами ведут интервью с гостем.")
    page.get_by_label("Контакты").fill("school19@example.ru")
    page.get_by_role("button", name="Сохранить черновик").click()
    expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(page.get_by_text("Черновик", exact=True)).to_be_visible()
    # ... and sends it for review
    page.get_by_role("button", name="Отправить на проверку").click()
    expect(page.get_by_text("На проверке", exact=True)).to_be_visible()

    # The moderator finds it in the shared queue and publishes it
    moderator = browser.new_context(base_url=live_server, locale="ru-RU").new_page()
    try:
        log_in(moderator, "moderator@example.ru")
        moderator.goto("/moderation/")
        moderator.get_by_role("link", name=TITLE).click()
        expect(moderator.locator("main")).to_contain_text("Провести интервью")
        moderator.get_by_role("button", name="Опубликовать").click()
        expect(moderator.locator("#decision")).to_contain_text("Опубликовано")
    finally:
        moderator.context.close()

    # A teacher of a school in Bratsk marks it adopted
    bratsk = browser.new_context(base_url=live_server, locale="ru-RU").new_page()
    try:
        log_in(bratsk, "bratsk@example.ru")
        bratsk.goto("/practices/")
        bratsk.get_by_role("link", name=TITLE).click()
        adoption = bratsk.locator("#adoption")
        expect(adoption).to_contain_text("Пока ни одна организация не отметила внедрение")
        bratsk.get_by_label("Когда внедрили").fill("2025-03-01")
        bratsk.get_by_label("Коротко: как прошло").fill("Провели для 9-х классов.")
        bratsk.get_by_role("button", name="Внедрили у себя").click()
        # The count shows on the page, in place
        expect(adoption).to_contain_text("Внедрили: 1 организация")
        expect(adoption).to_contain_text("город Братск")
        expect(adoption).to_contain_text("Ваша организация отметила внедрение 1 марта 2025")
        expect(bratsk.locator("#messages")).to_contain_text("Внедрение отмечено")
    finally:
        bratsk.context.close()

    # Visitors see the count too, and the practice is in the feed
    page.goto("/practices/")
    expect(page.locator("#practice-results")).to_contain_text("Внедрили: 1 организация")
    feed = page.request.get("/feeds/practices.atom")
    assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
    assert f"<title>{TITLE}</title>" in feed.text()


def test_catalogue_filters_update_in_place_and_the_address_follows(app, page, make_user):
    from tests.test_practices_factories import make_practice

    with app.app_context():
        moderator = make_user(roles=("moderator",), email="moderator@example.ru", organization=None)
    with app.test_request_context():
        make_practice(moderator, "published", title="Экскурсии на ГЭС", roadmap_items=[7])
        make_practice(moderator, "published", title="Профпробы в колледже", roadmap_items=[5])
        db.session.remove()
    page.goto("/practices/")
    results = page.locator("#practice-results")
    expect(results).to_contain_text("Профпробы в колледже")
    page.get_by_label("Пункт дорожной карты").select_option("7")
    expect(results).not_to_contain_text("Профпробы в колледже")
    expect(results).to_contain_text("Экскурсии на ГЭС")
    expect(page).to_have_url(re.compile(r"/practices/\?.*item=7"))
