"""In a real browser: a file over its field's limit is named before anything is sent, and a submission over the
site's limit comes back with the limit named and the way back to the form with everything typed still in it.
"""

import pytest
from playwright.sync_api import expect

from tests.contest_support import SCHOOL_A, fixture_bytes, make_season, organization
from tests.helpers import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def on_entry_form(page, app, make_user):
    """A student logged in, on the new entry form of a season taking entries."""
    with app.app_context():
        admin = make_user(roles=("admin",), email="admin@example.ru")
        make_user(roles=("student",), email="student@example.ru", grade=9, organization=organization(SCHOOL_A))
    with app.test_request_context():
        make_season(admin)
    page.goto("/auth/login")
    page.get_by_label("Электронная почта").fill("student@example.ru")
    page.get_by_label("Пароль").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()
    page.goto("/contest/2027/submit")
    return page


def test_a_model_over_50_mb_is_refused_in_the_browser_with_the_limit_named(on_entry_form, tmp_path):
    page = on_entry_form
    page.get_by_label("Название работы").fill("Ледокол «Ангара»")
    big = tmp_path / "ледокол.stl"
    with big.open("wb") as f:
        f.truncate(51 * 1024 * 1024)  # 51 MB, most of it a hole on disk
    page.get_by_label("3D-модель").set_input_files(big)
    message = page.get_by_role("alert").filter(has_text="ледокол.stl")
    expect(message).to_have_text(
        "Файл «ледокол.stl» весит 51 МБ, а можно не больше 50 МБ. Выберите файл поменьше: с этим файлом форма не "
        "отправится."
    )
    # Sending is stopped in the browser: the page stays, with what was typed
    address = page.url
    page.get_by_role("button", name="Сохранить черновик").click()
    page.wait_for_timeout(500)
    assert page.url == address
    expect(page.get_by_label("Название работы")).to_have_value("Ледокол «Ангара»")
    expect(page.get_by_label("3D-модель")).to_be_focused()
    # A file within the limit takes the message away
    small = tmp_path / "куб.stl"
    small.write_bytes(fixture_bytes("20mm-xyz-cube.stl"))
    page.get_by_label("3D-модель").set_input_files(small)
    expect(message).to_have_count(0)


def test_a_submission_over_the_sites_limit_names_it_and_back_keeps_the_form(on_entry_form, app, tmp_path):
    page = on_entry_form
    # Within every field's own limit, over the whole request's one (lowered here from 64 MB for the test)
    app.config["MAX_CONTENT_LENGTH"] = 200 * 1024
    page.get_by_label("Название работы").fill("Ледокол «Ангара»")
    page.get_by_label("Описание работы").fill("Ледокол, который работал на Байкале.")
    picture = tmp_path / "фото.png"
    picture.write_bytes(b"\x89PNG" + bytes(300 * 1024))
    page.get_by_label("Изображения").set_input_files(picture)
    page.get_by_role("button", name="Сохранить черновик").click()
    expect(page.get_by_role("heading", name="Слишком большой файл")).to_be_visible()
    expect(page.locator(".error-page")).to_contain_text("больше 200 КБ")
    page.get_by_role("link", name="Вернуться к форме").click()
    expect(page.get_by_label("Название работы")).to_have_value("Ледокол «Ангара»")
    expect(page.get_by_label("Описание работы")).to_have_value("Ледокол, который работал на Байкале.")
