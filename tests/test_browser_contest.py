"""In a real browser: a student registers and submits a real STL, the moderator admits it, a juror scores it,
the administrator publishes the results, and a visitor turns the model in the viewer and gets the collection.
"""

import io
import re
import time

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from catalogue.contest import seasons
from catalogue.extensions import db
from catalogue.jobs import run_pending
from tests.contest_support import (
    SCHOOL_A,
    UNIVERSITY,
    fixture_bytes,
    make_entry,
    make_season,
    organization,
    set_phase,
)
from tests.helpers import FIXTURES_3D, loaded_width

pytestmark = pytest.mark.browser
PASSWORD = "пароль-надёжный-1"
# Without a GPU, Chromium renders WebGL in software (SwiftShader): a page with the viewer keeps the browser busy
# for seconds while the shaders compile, many more on a loaded machine.
VIEWER_TIMEOUT_MS = 90_000


@pytest.fixture
def patient(page):
    """The page and ``expect`` waiting as long as software WebGL may need."""
    page.set_default_timeout(VIEWER_TIMEOUT_MS)
    expect.set_options(timeout=VIEWER_TIMEOUT_MS)
    yield page
    expect.set_options(timeout=5_000)  # Playwright's default, for the tests that follow


def log_in(page, email, password=PASSWORD):
    page.goto("/auth/login")
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Личный кабинет")).to_be_visible()


def log_out(page):
    page.locator(".user-menu summary").click()
    page.get_by_role("button", name="Выйти").click()
    expect(page.get_by_role("link", name="Войти")).to_be_visible()


def orbit(page) -> list[float]:
    """The viewer camera's theta, phi and radius."""
    text = page.locator("model-viewer").evaluate("mv => mv.getCameraOrbit().toString()")
    return [float(v) for v in re.findall(r"-?[\d.]+(?:e-?\d+)?", text)]


def settled_orbit(page, changed=lambda o: True, seconds: float = 60) -> list[float]:
    """The orbit once the camera has stopped moving (and ``changed(orbit)`` holds): software rendering is slow."""
    deadline = time.monotonic() + seconds
    previous = orbit(page)
    while time.monotonic() < deadline:
        page.wait_for_timeout(500)
        current = orbit(page)
        if current == previous and changed(current):
            return current
        previous = current
    return previous


def test_an_entry_from_registration_to_the_collection(patient, app, make_user):
    page = patient
    fixture_bytes("20mm-xyz-cube.stl")  # skips (or fails in CI) without the real fixtures
    with app.app_context():
        admin = make_user(roles=("admin",), email="admin@example.ru")
        make_user(roles=("moderator",), email="moderator@example.ru")
        make_user(roles=("teacher",), email="teacher@example.ru", last_name="Кузнецова", first_name="Марина",
                  organization=organization(SCHOOL_A))  # fmt: skip
        juror = make_user(roles=("jury",), email="juror@example.ru", organization=organization(UNIVERSITY))
        juror_id = juror.id
    with app.test_request_context():
        season = make_season(admin)
        seasons.assign_juror(db.session.merge(admin), season, season.nominations[0].id, juror_id)

    # A student registers
    page.goto("/auth/register")
    page.get_by_label("Обучающийся").check()
    page.get_by_label("Фамилия").fill("Тимофеев")
    page.get_by_label("Имя", exact=True).fill("Глеб")
    page.get_by_label("Электронная почта").fill("gleb@example.ru")
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Пароль ещё раз").fill(PASSWORD)
    page.get_by_label("Муниципальное образование").select_option(label="город Иркутск")
    page.get_by_label("Найдите свою организацию").press_sequentially("сош 19", delay=30)
    page.get_by_label(re.compile("МБОУ г. Иркутска СОШ № 19")).check()
    page.get_by_label("Класс", exact=True).select_option(label="10 класс")
    page.get_by_label("Дата рождения").fill("2010-05-01")
    page.get_by_label(re.compile("Я соглашаюсь на обработку")).check()
    page.get_by_role("button", name="Зарегистрироваться").click()
    expect(page.get_by_text("Проверьте почту")).to_be_visible()
    log_in(page, "gleb@example.ru")

    # ... opens the contest and starts an entry
    page.get_by_role("link", name="Конкурс «СоЗДатель»").click()
    expect(page.locator(".phase").first).to_have_text("Приём работ")
    page.get_by_role("link", name="Подать работу").click()
    page.get_by_label("Техника будущего").check()
    expect(page.get_by_label(re.compile("9–11 классы"))).to_be_checked()
    page.get_by_label("Название работы").fill("Куб для калибровки принтера")
    page.get_by_label("Описание работы").fill("Калибровочный куб 20 мм: с него начинается работа оператора 3D-печати.")
    # ... finds the supervisor by htmx search
    page.get_by_label("Найти руководителя").press_sequentially("кузн", delay=30)
    supervisor = page.get_by_label("Кузнецова Марина")
    expect(supervisor).to_be_visible()
    supervisor.check()
    page.get_by_label("3D-модель").set_input_files(str(FIXTURES_3D / "20mm-xyz-cube.stl"))
    page.get_by_label(re.compile("Согласие на обработку")).check()
    page.get_by_label(re.compile("Согласие на публикацию")).check()
    page.get_by_label("сам(а) обучающийся (14 лет и старше)").check()
    page.get_by_role("button", name="Сохранить черновик").click()
    expect(page.get_by_role("heading", name="Куб для калибровки принтера")).to_be_visible()
    expect(page.locator("figcaption")).to_contain_text("260 треугольников")
    page.get_by_role("button", name="Отправить на конкурс").click()
    expect(page.locator(".decision .status")).to_have_text("На проверке")
    log_out(page)

    # The moderator admits it
    log_in(page, "moderator@example.ru")
    page.get_by_role("link", name=re.compile("Модерация")).click()
    page.get_by_role("link", name="Куб для калибровки принтера").click()
    page.get_by_role("button", name="Допустить к конкурсу").click()
    expect(page.locator("#decision .status")).to_have_text("Опубликовано")
    log_out(page)

    # The jury's weeks come; a juror scores it
    with app.test_request_context():
        set_phase(admin, seasons.season_by_year(2027), "judging")
    log_in(page, "juror@example.ru")
    page.goto("/contest/jury/")
    expect(page.get_by_text("Оценено 0 из 1")).to_be_visible()
    page.get_by_role("link", name="Куб для калибровки принтера").click()
    page.get_by_label("Сложность модели").fill("9")
    page.get_by_label("Оригинальность").fill("4")
    page.get_by_role("button", name="Сохранить оценки").click()
    expect(page.get_by_text("Оценено 1 из 1")).to_be_visible()
    log_out(page)

    # Judging closes; the administrator confirms and publishes the results
    with app.test_request_context():
        set_phase(admin, seasons.season_by_year(2027), "results")
    log_in(page, "admin@example.ru")
    page.goto("/contest/admin/2027/results")
    expect(page.locator("select[name^=award-]")).to_have_value("winner")
    page.get_by_role("button", name="Утвердить итоги").click()
    page.get_by_role("button", name="Опубликовать итоги").click()
    expect(page.get_by_text(re.compile("Итоги опубликованы"))).to_have_count(2)
    log_out(page)

    # A visitor finds the winner in the results and turns the model in the viewer
    page.goto("/contest/2027/results")
    expect(page.locator("main")).to_contain_text("Глеб Т.")
    expect(page.locator("main")).not_to_contain_text("Тимофеев")
    page.get_by_role("link", name="Куб для калибровки принтера").click()
    viewer = page.locator("model-viewer")
    # A function, not a string: the CSP forbids eval, Playwright's string predicates included
    page.wait_for_function("() => document.querySelector('model-viewer')?.loaded === true", polling=250)
    expect(page.get_by_role("button", name="Исходный вид")).to_be_visible()
    before_orbit = settled_orbit(page)
    before = viewer.screenshot()
    box = viewer.bounding_box()
    # Off the centre, where model-viewer keeps its small pan-target element
    x, y = box["x"] + box["width"] / 3, box["y"] + box["height"] / 2 + 30
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 150, y + 40, steps=12)
    page.mouse.up()
    after_orbit = settled_orbit(page, lambda o: abs(o[0] - before_orbit[0]) > 0.3)
    assert abs(after_orbit[0] - before_orbit[0]) > 0.3, (before_orbit, after_orbit)
    assert viewer.screenshot() != before
    # ... zooms in, and puts it back as it was
    page.get_by_role("button", name="Приблизить").click()
    assert settled_orbit(page, lambda o: o[2] < after_orbit[2])[2] < after_orbit[2]
    page.get_by_role("button", name="Исходный вид").click()
    back = settled_orbit(page, lambda o: abs(o[0] - before_orbit[0]) < 0.05)
    assert back[0] == pytest.approx(before_orbit[0], abs=0.05)
    assert back[2] == pytest.approx(before_orbit[2], rel=0.05)

    # ... and downloads the collection from the season's page, once the build publishing queued has run
    with app.app_context():
        assert run_pending() == 1
    page.goto("/contest/2027/")
    link = page.get_by_role("link", name="Сборник материалов конкурса (PDF)")
    response = page.request.get(link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).split())
    assert "Куб для калибровки принтера" in text and "Глеб Т." in text and "Победитель" in text


def test_without_webgl_the_thumbnail_stands_in_for_the_model(page, app, make_user):
    fixture_bytes("teapot.stl")
    with app.app_context():
        admin = make_user(roles=("admin",), email="admin@example.ru")
        moderator = make_user(roles=("moderator",), email="moderator@example.ru")
        student = make_user(roles=("student",), email="student@example.ru", organization=organization(SCHOOL_A))
    with app.test_request_context():
        entry = make_entry(student, make_season(admin), "published", moderator, title="Чайник", model="teapot.stl")
        entry_id = entry.id
    # A browser whose canvas has no WebGL (old hardware, disabled drivers)
    page.add_init_script(
        "const get = HTMLCanvasElement.prototype.getContext;"
        "HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {"
        "  return /webgl/.test(kind) ? null : get.call(this, kind, ...rest); };"
    )
    page.goto(f"/contest/entries/{entry_id}")
    fallback = page.locator("img.viewer-fallback")
    expect(fallback).to_be_visible()
    assert loaded_width(fallback) == 480
    expect(page.locator("model-viewer")).to_have_count(0)
    expect(page.locator("[data-viewer-note]")).to_contain_text("показан снимок модели")
