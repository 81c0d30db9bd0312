"""In a real browser: a teacher takes a project into class from its page; the form appears and answers in place."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_project
from tests.test_browser_projects import log_in

pytestmark = pytest.mark.browser


def test_a_teacher_takes_a_project_into_class_in_place(app, page, make_user):
    author = make_user(email="author@example.ru")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    make_user(email="teacher@example.ru")
    with app.test_request_context():
        project = make_project(author, "published", moderator=moderator, ages=["8-9"])
        address = f"/projects/{project.id}-{project.slug}"

    log_in(page, "teacher@example.ru")
    page.goto(address)
    runs = page.locator("#runs")
    expect(runs).to_contain_text("Пока ни один класс не взял этот проект в работу.")
    page.get_by_role("link", name="Взять в работу", exact=True).click()
    # The form takes the button's place: the page stays, the grade comes from the project's age group
    expect(page.get_by_label("Класс", exact=True)).to_be_visible()
    assert page.url.endswith(address)
    expect(page.get_by_label("Параллель")).to_have_value("8")
    # A mistake is explained next to its field, still in place
    page.get_by_role("button", name="Записать класс").click()
    expect(runs.get_by_text("Укажите класс, например «7Б».")).to_be_visible()
    page.get_by_label("Класс", exact=True).fill("8Б")
    page.get_by_label("Обучающихся").fill("25")
    page.get_by_role("button", name="Записать класс").click()
    expect(runs).to_contain_text("Записали: класс 8Б проводит проект")
    expect(runs).to_contain_text("Проводит 1 класс в 1 муниципалитете")
    assert page.url.endswith(address)
    # «Мои классы» lists the class, running
    runs.get_by_role("link", name="Мои классы").click()
    expect(page.get_by_role("heading", name="Мои классы")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Юный энергетик.*8Б.*идёт"))).to_be_visible()
