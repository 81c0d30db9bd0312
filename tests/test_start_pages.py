"""After logging in people land on their start page: a section for each of their roles, with what waits for them
and the way to it. Registration started from «Зарегистрироваться и подать работу» comes back to that form."""

import re
from html import unescape
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from catalogue.contest import judging, seasons
from catalogue.contest.models import Entry
from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.workflow import services as workflow
from tests.contest_support import SCHOOL_A, UNIVERSITY, loaded, make_entry, make_season, organization, set_phase
from tests.factories import make_project
from tests.helpers import csrf_token
from tests.test_accounts import letters_to, registration
from tests.test_practices_factories import make_practice
from tests.test_search_site import count_queries


@pytest.fixture
def people(app, make_user):
    with app.app_context():
        school, university = organization(SCHOOL_A), organization(UNIVERSITY)
        return loaded(
            {
                "admin": make_user(roles=("admin",), email="admin@example.ru"),
                "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
                "teacher": make_user(roles=("teacher",), email="teacher@example.ru", organization=school),
                "student": make_user(roles=("student",), email="student@example.ru", grade=8, organization=school),
                "other": make_user(roles=("student",), email="other@example.ru", grade=9, organization=school),
                "juror": make_user(roles=("jury",), email="juror@example.ru", organization=university),
            }
        )


def start_page(client) -> str:
    response = client.get("/start")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, heading_id: str) -> str:
    """The HTML of one section of the start page ("" when it is not there)."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', page, re.S)
    return match.group(0) if match else ""


def next_of(url: str) -> str:
    return parse_qs(urlsplit(unescape(url)).query)["next"][0]


def texts(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_logging_in_leads_to_the_start_page_and_a_next_still_wins(client, auth, people):
    response = auth.login("teacher@example.ru")
    assert response.status_code == 303
    assert response.headers["Location"] == "/start"
    auth.logout()
    token = csrf_token(client, "/auth/login?next=/projects/mine")
    response = client.post(
        "/auth/login?next=/projects/mine",
        data={"email": "teacher@example.ru", "password": "пароль-надёжный-1", "csrf_token": token},
    )
    assert response.headers["Location"] == "/projects/mine"


def test_a_moderator_sees_the_queue_counted_by_type_with_links(app, client, auth, people):
    with app.test_request_context():
        make_project(people["teacher"], "submitted", title="Первый проект на проверке")
        make_project(people["teacher"], "submitted", title="Второй проект на проверке")
        make_project(people["teacher"], "draft", title="Черновик не в счёт")
        make_practice(people["teacher"], "submitted")
    auth.login("moderator@example.ru")
    moderation = section(start_page(client), "start-moderation")
    assert "3 материала ждут проверки" in texts(moderation)
    counts = dict(re.findall(r'<li data-type="(\w+)"><a href="[^"]+">[^<]+</a>: <strong>(\d+)</strong>', moderation))
    assert counts["project"] == "2"
    assert counts["practice"] == "1"
    assert counts["report"] == "0"
    assert 'href="/moderation?type=project"' in moderation or 'href="/moderation/?type=project"' in moderation
    # Nobody else gets the section
    auth.logout()
    auth.login("teacher@example.ru")
    assert section(start_page(client), "start-moderation") == ""


def test_a_juror_sees_progress_and_the_next_unscored_entry(app, client, auth, people):
    with app.test_request_context():
        admin = db.session.merge(people["admin"])
        season = make_season(admin)
        seasons.assign_juror(admin, season, season.nominations[0].id, people["juror"].id)
        first = make_entry(people["student"], season, "published", moderator=people["moderator"], title="Ракета")
        second = make_entry(people["other"], season, "published", moderator=people["moderator"], title="Мост")
        set_phase(admin, season, "judging")
        juror = db.session.merge(people["juror"])
        # The juror scores the second of the list (age categories 6–8 before 9–11): the first still waits
        judging.save_review(juror, second, {c.id: 3 for c in season.criteria})
        waiting_id = first.id
    auth.login("juror@example.ru")
    jury = section(start_page(client), "start-jury")
    assert "Оценено 1 из 2 (50 %)" in texts(jury)
    next_link = re.search(r'<a class="button" href="([^"]+)">Следующая работа</a>', jury)
    assert next_link.group(1) == f"/contest/jury/entries/{waiting_id}"
    assert "«Ракета»" in texts(jury)
    assert client.get(next_link.group(1)).status_code == 200


def test_a_student_sees_their_entries_states_and_deadlines_and_may_submit_while_the_season_is_open(
    app, client, auth, people
):
    with app.test_request_context():
        admin = db.session.merge(people["admin"])
        season = make_season(admin)
        make_entry(people["student"], season, "draft", title="Модель телескопа")
        closes = season.submission_closes
    auth.login("student@example.ru")
    mine = texts(section(start_page(client), "start-student"))
    assert "Модель телескопа Черновик" in mine
    assert f"отправить до {ru_date(closes)}" in mine
    assert 'href="/contest/2027/submit">Подать работу</a>' in section(start_page(client), "start-student")

    # When the season judges, there is no «Подать работу», and the entry sent shows when the results come
    with app.test_request_context():
        entry = db.session.scalar(db.select(Entry))
        workflow.transition(db.session.merge(people["student"]), entry, "submit")
        season = set_phase(db.session.merge(people["admin"]), entry.season, "judging")
        results = season.results_date
    page = section(start_page(client), "start-student")
    assert "Подать работу" not in page
    assert f"Модель телескопа На проверке 2027 · Техника будущего · итоги {ru_date(results)}" in texts(page)


def test_a_teacher_sees_own_projects_reports_and_practices_with_their_states(app, client, auth, people):
    with app.test_request_context():
        make_project(people["teacher"], "draft", title="Проект в черновике")
        make_project(people["teacher"], "changes_requested", moderator=people["moderator"], title="Проект к правке")
        make_practice(people["teacher"], "submitted", title="Практика на проверке")
    auth.login("teacher@example.ru")
    page = section(start_page(client), "start-teacher")
    text = texts(page)
    # What needs the teacher comes first
    assert text.index("Проект к правке Нужны исправления") < text.index("Проект в черновике Черновик")
    assert "Практика на проверке На проверке" in text
    assert "Отчётов пока нет." in text
    # The place where the classes running a project will be
    assert "Проекты в классах" in text


def test_a_section_lists_ten_rows_and_counts_the_rest_with_the_same_queries(app, client, auth, people):
    with app.test_request_context():
        for n in range(2):
            make_project(people["teacher"], "draft", title=f"Проект номер {n + 1}")
    auth.login("teacher@example.ru")
    with count_queries(app) as few:
        start_page(client)
    with app.test_request_context():
        for n in range(2, 14):
            make_project(people["teacher"], "draft", title=f"Проект номер {n + 1}")
    with count_queries(app) as many:
        page = section(start_page(client), "start-teacher")
    assert len(re.findall(r"Проект номер \d+", page)) == 10
    assert "Все мои проекты и отчёты (14)" in texts(page)
    assert len(many) == len(few)


def test_an_administrator_sees_teachers_and_schools_waiting_for_checks_and_the_seasons(app, client, auth, people):
    # A teacher registers with a school that is not in the list
    data = registration(
        client, app, organization_id="", new_organization="y", new_organization_name="МБОУ «Новая школа № 1»"
    )
    assert client.post("/auth/register", data=data).status_code == 303
    with app.test_request_context():
        make_season(db.session.merge(people["admin"]))
    auth.login("admin@example.ru")
    admin = texts(section(start_page(client), "start-admin"))
    assert "Педагоги ждут подтверждения: 1 Кузнецова Марина Сергеевна МБОУ «Новая школа № 1»" in admin
    assert "Организации ждут проверки: 1 МБОУ «Новая школа № 1»" in admin
    assert "СоЗДатель-2027 Приём работ" in admin


def test_a_person_with_several_roles_sees_a_section_for_each(app, client, auth, make_user):
    make_user(roles=("teacher", "moderator", "jury"), email="many@example.ru")
    auth.login("many@example.ru")
    page = start_page(client)
    assert section(page, "start-moderation") and section(page, "start-jury") and section(page, "start-teacher")
    assert section(page, "start-student") == "" and section(page, "start-admin") == ""


def test_registering_from_the_contest_comes_back_to_the_entry_form(app, client, people):
    with app.test_request_context():
        make_season(db.session.merge(people["admin"]))
    # A visitor presses «Зарегистрироваться и подать работу» on the contest page
    contest = client.get("/contest/").get_data(as_text=True)
    register = re.search(r'href="([^"]+)">Зарегистрироваться и подать работу', contest).group(1)
    assert next_of(register) == "/contest/2027/submit"
    form = client.get(register).get_data(as_text=True)
    assert next_of(re.search(r'<form method="post" action="([^"]+)"', form).group(1)) == "/contest/2027/submit"
    # ... registers as a student
    data = registration(client, app, role="student", email="newbie@example.ru", grade="8", birth_date="2012-03-01")
    response = client.post(register, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/login?")
    assert next_of(response.headers["Location"]) == "/contest/2027/submit"
    # ... and the link of her letter brings her to the entry form
    (letter,) = letters_to(app, "newbie@example.ru")
    link = re.search(r"http://localhost(/auth/link/\S+)", letter).group(1)
    assert next_of(link) == "/contest/2027/submit"
    response = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert response.headers["Location"] == "/contest/2027/submit"
    assert client.get("/contest/2027/submit").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_a_registration_next_off_the_site_is_dropped(app, client, target):
    data = registration(client, app, email="careful@example.ru")
    response = client.post("/auth/register?next=" + quote(target, safe=""), data=data)
    assert response.headers["Location"] == "/auth/login"
    (letter,) = letters_to(app, "careful@example.ru")
    link = re.search(r"http://localhost(/auth/link/\S+)", letter).group(1)
    assert "next" not in link
    response = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert response.headers["Location"] == "/start"
