"""The conventions of a Russian public site: who runs it, what it is for, how it treats personal data, a
version for the visually impaired, a favicon and robots.txt; and one word for one thing."""

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from catalogue.accounts.models import User
from catalogue.extensions import db
from catalogue.main.roadmap import ROADMAP
from tests.contest_support import make_season
from tests.factories import make_project
from tests.helpers import sitemap_urls
from tests.test_accounts import registration


class _Links(HTMLParser):
    """Every element's tag and attributes, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str, name: str) -> list[dict]:
    parser = _Links()
    parser.feed(html)
    return [attrs for tag, attrs in parser.tags if tag == name]


def body(client, path: str) -> bytes:
    """The bytes of a file the site serves (closed afterwards: static files are streamed)."""
    with client.get(path) as response:
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data()


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# -- who runs the site ------------------------------------------------------------------------------


def test_every_page_names_the_operator_and_links_about_and_the_policy(app, client):
    app.config.update(
        OPERATOR_NAME="ГАУ ДПО ИО «Пример»",
        OPERATOR_CONTACTS="664007, г. Иркутск, ул. Примерная, 1",
        OPERATOR_EMAIL=None,
    )
    for path in ("/", "/projects/", "/auth/login", "/search"):
        page = text(client.get(path))
        footer = page[page.index('<footer class="site-footer">') :]
        assert "Оператор сайта: ГАУ ДПО ИО «Пример»" in footer
        assert "664007, г. Иркутск, ул. Примерная, 1" in footer
        assert "mailto:" not in footer  # no address configured, none shown
        assert {a.get("href") for a in tags(footer, "a")} >= {"/about", "/privacy"}
    # With an address for questions about personal data, the footer links it
    app.config["OPERATOR_EMAIL"] = "pd@example.ru"
    assert 'href="mailto:pd@example.ru"' in text(client.get("/"))


def test_the_operator_comes_from_the_environment(monkeypatch, tmp_path):
    from catalogue.config import from_environment

    monkeypatch.setenv("OPERATOR_NAME", "Министерство образования Иркутской области")
    monkeypatch.setenv("OPERATOR_CONTACTS", "тел. +7 3952 00-00-00")
    monkeypatch.setenv("OPERATOR_EMAIL", "pd@example.ru")
    settings = from_environment()
    assert settings["OPERATOR_NAME"] == "Министерство образования Иркутской области"
    assert (settings["OPERATOR_CONTACTS"], settings["OPERATOR_EMAIL"]) == ("тел. +7 3952 00-00-00", "pd@example.ru")


def test_about_shows_the_roadmap_in_order_and_where_the_site_holds_its_results(app, client):
    page = text(client.get("/about"))
    assert "<h1>О проекте</h1>" in page
    assert "№ 337-р" in page
    # All thirteen items, in the order's order, each with its responsible executor
    numbers = [int(n) for n in re.findall(r"<tr(?: class=\"on-site\")?>\s*<td>(\d+)</td>", page)]
    assert numbers == list(range(1, 14))
    assert "Региональный конкурс детских творческих проектов по 3D-моделированию «СоЗДатель»" in page
    assert "Сборник материалов конкурса" in page
    # Items 3, 4 and 13 lead to their sections here
    on_site = {item.number: item.endpoint for item in ROADMAP if item.endpoint}
    assert on_site == {3: "projects.index", 4: "contest.index", 13: "practices.index"}
    assert page.count("На этом сайте") == 3
    # The roadmap's table scrolls by keyboard on a phone: a labelled, focusable region
    region = next(d for d in tags(page, "div") if "table-scroll" in d.get("class", ""))
    assert (region.get("role"), region.get("tabindex"), region.get("aria-labelledby")) == (
        "region",
        "0",
        "roadmap-title",
    )
    # «О проекте» is in the sitemap
    paths = {u.findtext("{http://www.sitemaps.org/schemas/sitemap/0.9}loc") for u in sitemap_urls(client)}
    assert "http://localhost/about" in paths


def test_the_privacy_policy_covers_what_152_fz_asks_for(app, client):
    app.config.update(OPERATOR_NAME="ГАУ ДПО ИО «Пример»", OPERATOR_EMAIL="pd@example.ru")
    page = text(client.get("/privacy"))
    assert "<h1>Политика обработки персональных данных</h1>" in page
    assert "152-ФЗ" in page
    for heading in (
        "Оператор", "Цели обработки", "Какие данные обрабатываются", "Данные несовершеннолетних",
        "Правовые основания", "Сроки хранения", "Ваши права", "Контакты",
    ):  # fmt: skip
        assert re.search(rf"<h2[^>]*>\d+\. {heading}</h2>", page), heading
    assert "ГАУ ДПО ИО «Пример»" in page and 'href="mailto:pd@example.ru"' in page
    assert "за обучающегося младше 14 лет согласие даёт родитель или законный представитель" in page
    assert "дата рождения" in page


def test_every_consent_checkbox_links_to_the_policy(app, client, make_user):
    # The registration form's consent
    form = text(client.get("/auth/register"))
    assert form.count('href="/privacy"') >= 2  # the checkbox's link and the footer's
    consent_box = form[form.index('name="consent"') :]
    assert consent_box.index('href="/privacy"') < consent_box.index("</div>")
    # The contest entry form's two consents
    admin = make_user(roles=("admin",), email="admin@example.ru")
    student = make_user(roles=("student",), email="student@example.ru", birth_date=dt.date(2010, 1, 1))
    with app.test_request_context():
        year = make_season(admin).year
    client.post("/auth/login", data={"email": student.email, "password": "пароль-надёжный-1",
                                     "csrf_token": _token(client)})  # fmt: skip
    entry_form = text(client.get(f"/contest/{year}/submit"))
    for name in ("consent_processing", "consent_publication"):
        box = entry_form[entry_form.index(f'name="{name}"') :]
        assert box.index('href="/privacy"') < box.index("</div>"), name


def _token(client) -> str:
    from tests.helpers import csrf_token

    return csrf_token(client, "/auth/login")


# -- the version for the visually impaired ----------------------------------------------------------


def test_a_visitor_switches_to_the_version_for_the_visually_impaired_and_back_without_javascript(app, client):
    page = text(client.get("/projects/?age=8-9"))
    # An ordinary page offers the switch as a plain link (no htmx boost: the whole page changes)
    switch = next(a for a in tags(page, "a") if a.get("href", "").startswith("/a11y"))
    assert switch["href"] == "/a11y?mode=on&next=/projects/?age%3D8-9"
    assert "a11y.css" not in page and '<html lang="ru">' in page
    # Following it remembers the choice for a year and comes back to the same page
    response = client.get(switch["href"])
    assert response.status_code == 303 and response.headers["Location"] == "/projects/?age=8-9"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("a11y=on;") and "Max-Age=31536000" in cookie and "HttpOnly" in cookie
    # Every page now has larger type and high contrast
    page = text(client.get("/projects/?age=8-9"))
    assert '<html lang="ru" class="a11y a11y-on">' in page and "/static/css/a11y.css" in page
    # ... images can be turned off too
    hide = next(a for a in tags(page, "a") if a.get("href", "").startswith("/a11y?mode=noimages"))
    client.get(hide["href"])
    assert '<html lang="ru" class="a11y a11y-noimages">' in text(client.get("/"))
    # ... and «Обычная версия сайта» forgets it
    back = next(a for a in tags(text(client.get("/")), "a") if "mode=off" in a.get("href", ""))
    response = client.get(back["href"])
    assert "a11y=;" in response.headers["Set-Cookie"] and "Max-Age=0" in response.headers["Set-Cookie"]
    assert "a11y.css" not in text(client.get("/"))


def test_the_switch_never_leads_off_the_site_and_ignores_unknown_modes(app, client):
    response = client.get("/a11y?mode=on&next=//evil.example/")
    assert response.headers["Location"] == "/"
    client.set_cookie("a11y", "<script>")
    assert "a11y.css" not in text(client.get("/")) and "&lt;script&gt;" not in text(client.get("/"))


def test_the_a11y_stylesheet_makes_type_larger_and_can_hide_images(app, client):
    css = body(client, "/static/css/a11y.css").decode()
    assert re.search(r"html\.a11y \{ font-size: 1[2-9]\d(\.\d+)?%; \}", css)
    assert "html.a11y-noimages img" in css


# -- favicon and robots.txt ------------------------------------------------------------------------


def test_the_site_has_a_favicon_in_svg_and_ico(app, client):
    head = text(client.get("/"))
    icons = {link["type"]: link["href"] for link in tags(head, "link") if link.get("rel") == "icon"}
    assert set(icons) == {"image/svg+xml", "image/png"}
    assert body(client, icons["image/svg+xml"]).startswith(b"<svg")
    assert body(client, icons["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    # Browsers ask for /favicon.ico whatever the page says
    assert body(client, "/favicon.ico")[:4] == b"\x00\x00\x01\x00"


def test_robots_txt_names_the_sitemap_on_the_public_address_and_keeps_out_personal_pages(app, client):
    app.config["SITE_URL"] = "https://proforientir.example"
    response = client.get("/robots.txt", headers={"Host": "localhost"})
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "User-agent: *"
    assert "Sitemap: https://proforientir.example/sitemap.xml" in lines
    assert {"Disallow: /account/", "Disallow: /admin/", "Disallow: /moderation/", "Disallow: /auth/"} <= set(lines)
    assert "Disallow: /" not in lines  # public pages stay open


# -- one word for one thing ---------------------------------------------------------------------------


def test_an_age_category_named_by_its_grades_is_not_said_twice(app, client, make_user):
    admin = make_user(roles=("admin",), email="admin@example.ru")
    with app.test_request_context():
        year = make_season(admin).year
    page = text(client.get(f"/contest/{year}/"))
    assert "6–8 классы" in page and "6–8 классы (6–8 классы)" not in page


def test_a_teacher_registers_without_class_and_birth_date(app, client):
    form = text(client.get("/auth/register"))
    # The students' fieldset hides itself when «Педагог» is chosen (CSS, no JavaScript needed)
    assert '<fieldset class="student-only">' in form
    css = body(client, "/static/css/site.css").decode()
    assert 'form:has(input[name="role"][value="teacher"]:checked) .student-only { display: none; }' in css
    # A value left in those fields by a teacher is not kept
    data = registration(client, app, grade="8", birth_date="2012-05-01")
    assert client.post("/auth/register", data=data).status_code == 303
    with app.app_context():
        teacher = db.session.scalar(select(User).where(User.email == "marina@example.ru"))
        assert (teacher.grade, teacher.birth_date) == (None, None)


@pytest.mark.parametrize(("ages", "grade"), [(["10-11"], 10), (["8-9", "10-11"], 8)])
def test_a_report_starts_with_the_grade_of_the_projects_age_group(app, client, make_user, auth, ages, grade):
    teacher = make_user(roles=("teacher",), email="teacher@example.ru")
    moderator = make_user(roles=("moderator",), email="moderator@example.ru")
    with app.test_request_context():
        project_id = make_project(teacher, "published", moderator, ages=ages).id
        db.session.commit()
    auth.login(teacher)
    form = text(client.get(f"/projects/{project_id}/reports/new"))
    selected = re.search(r'<option selected value="(\d+)">|<option value="(\d+)" selected>', form)
    assert selected and int(selected.group(1) or selected.group(2)) == grade
    # The report is one thing with one name: «Отчёт о проведении проекта»
    assert "Отчёт о проведении проекта" in form


def test_a_report_is_called_a_report_in_the_moderation_queue_and_the_search(app):
    from catalogue import content

    assert content.get("report").workflow.label == "Отчёт о проведении проекта"
