"""Typical projects: the catalogue for teachers and visitors, the project page, the teacher's form."""

import html
import io
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from catalogue.extensions import db
from catalogue.projects import services
from catalogue.projects.models import Project, ProjectReport
from catalogue.taxonomy.models import AgeGroup, Sphere
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Status
from tests.factories import make_project, report_data
from tests.helpers import PDF, csrf_token


@pytest.fixture
def teacher(make_user):
    return make_user(roles=("teacher",), email="teacher@example.ru")


@pytest.fixture
def moderator(make_user):
    return make_user(roles=("moderator",), email="moderator@example.ru")


@pytest.fixture
def publish(app, teacher, moderator):
    """Publish a project by ``teacher``; returns its id."""

    def make(**kw) -> int:
        with app.test_request_context():
            return make_project(teacher, "published", moderator=moderator, **kw).id

    return make


@contextmanager
def count_queries(app):
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def form_data(client, path, **overrides) -> dict:
    """The project form as a teacher fills it in."""
    with client.application.app_context():
        junior = db.session.scalar(select(AgeGroup.id).where(AgeGroup.slug == "6-7"))
        energy = db.session.scalar(select(Sphere.id).where(Sphere.slug == "energy"))
    data = {
        "csrf_token": csrf_token(client, path),
        "title": "Энергия воды",
        "summary": "Как ГЭС делает электричество.",
        "goal": "Познакомить с профессиями энергетики.",
        "age_group_ids": [str(junior)],
        "sphere_ids": [str(energy)],
        "format": "group",
        "duration_weeks": "4",
        "stages-0-title": "Погружение",
        "stages-0-description": "Экскурсия",
        "stages-1-title": "Модель",
        "stages-1-description": "Сборка турбины",
        "stages-2-title": "Защита",
        "stages-2-description": "",
        "expected_results": "Модель турбины.",
        "resources": "",
    }
    data.update(overrides)
    return data


# -- catalogue --------------------------------------------------------------------------------------


def test_catalogue_shows_age_groups_with_counts_and_only_published_projects(app, client, teacher, publish):
    publish(title="Проект для младших", ages=["6-7"])
    publish(title="Проект для всех", ages=["6-7", "8-9"])
    with app.test_request_context():
        make_project(teacher, "draft", title="Черновик учителя")
    page = client.get("/projects/").get_data(as_text=True)
    assert "Проект для младших" in page and "Проект для всех" in page
    assert "Черновик учителя" not in page
    # Each age group shows its count, with Russian plural forms
    assert re.search(r"6–7 классы</a></h2>\s*<p class=\"muted\">2 проекта", page)
    assert re.search(r"8–9 классы</a></h2>\s*<p class=\"muted\">1 проект<", page)
    assert re.search(r"10–11 классы</a></h2>\s*<p class=\"muted\">0 проектов", page)


def test_filters_narrow_the_list(client, publish):
    publish(title="Энергетика для младших", ages=["6-7"], spheres=["energy"], format="group", duration_weeks=2)
    publish(title="ИТ для старших", ages=["10-11"], spheres=["it"], format="individual", duration_weeks=10)
    cases = {
        "age=6-7": "Энергетика для младших",
        "sphere=it": "ИТ для старших",
        "format=individual": "ИТ для старших",
        "duration=short": "Энергетика для младших",
        "duration=term": "ИТ для старших",
    }
    for query, expected in cases.items():
        page = client.get(f"/projects/?{query}").get_data(as_text=True)
        titles = set(re.findall(r"(Энергетика для младших|ИТ для старших)</a></h3>", page))
        assert titles == {expected}, query


def test_sort_by_title_and_by_newest(client, publish):
    publish(title="Бета-проект")
    publish(title="Альфа-проект")
    newest = client.get("/projects/").get_data(as_text=True)
    assert newest.index("Альфа-проект") < newest.index("Бета-проект")
    by_title = client.get("/projects/?sort=title").get_data(as_text=True)
    assert by_title.index("Альфа-проект") < by_title.index("Бета-проект")
    publish(title="Ёлочный проект")
    assert "Ёлочный проект" in client.get("/projects/?sort=title").get_data(as_text=True)


def test_unknown_filter_values_show_everything_instead_of_failing(client, publish):
    publish(title="Любой проект")
    response = client.get("/projects/?age=99&format=<script>&page=abc")
    assert response.status_code == 200
    assert "Любой проект" in response.get_data(as_text=True)


def test_filtering_with_htmx_returns_the_results_fragment(client, publish):
    publish(title="Проект для старших", ages=["10-11"])
    response = client.get("/projects/?age=10-11", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "Проект для старших" in page
    assert "<html" not in page and "<form" not in page
    assert "HX-Request" in response.headers["Vary"]
    # The same URL without htmx is the whole page
    assert "<html" in client.get("/projects/?age=10-11").get_data(as_text=True)


def test_catalogue_pages(client, publish):
    for n in range(14):
        publish(title=f"Проект номер {n:02d}")
    first = client.get("/projects/?sort=title").get_data(as_text=True)
    second = client.get("/projects/?sort=title&page=2").get_data(as_text=True)
    assert "Проект номер 00" in first and "Проект номер 13" not in first
    assert "Проект номер 13" in second and 'rel="prev"' in second


def test_catalogue_and_project_page_run_a_constant_number_of_queries(app, client, publish, teacher, moderator):
    def add_published_report(project_id: int) -> None:
        with app.test_request_context():
            project = db.session.get(Project, project_id)
            report = services.create_report(db.session.merge(teacher), project, report_data())
            workflow.transition(db.session.merge(teacher), report, "submit")
            workflow.transition(db.session.merge(moderator), report, "publish")

    def measure(project_id: int) -> tuple[int, int]:
        with count_queries(app) as listing:
            client.get("/projects/")
        with count_queries(app) as page:
            client.get(f"/projects/{project_id}", follow_redirects=True)
        return len(listing), len(page)

    # Two projects, one report...
    for _ in range(2):
        last = publish(ages=["6-7", "8-9"], spheres=["energy", "it"])
    add_published_report(last)
    few = measure(last)
    # ... then twelve projects, four reports: the same number of queries
    for _ in range(10):
        last = publish(ages=["6-7", "8-9"], spheres=["energy", "it"])
    for _ in range(4):
        add_published_report(last)
    assert measure(last) == few


# -- the project page ----------------------------------------------------------------------------------


def test_project_page_has_what_a_teacher_needs_and_a_canonical_url(client, publish):
    project_id = publish(title="Юный энергетик")
    response = client.get(f"/projects/{project_id}")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/projects/{project_id}-iunyi-energetik")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("Юный энергетик", "Цель", "Погружение", "Модель", "Ожидаемые результаты", "8–9 классы", "Групповой"):
        assert text in page
    assert "версия для печати" in page


def test_print_version_is_a_clean_page(client, publish):
    project_id = publish(title="Юный энергетик")
    page = client.get(f"/projects/{project_id}-iunyi-energetik/print").get_data(as_text=True)
    assert "Юный энергетик" in page and "Погружение" in page
    assert 'class="site-header"' not in page


def test_project_page_lists_similar_projects(client, publish):
    first = publish(title="Первый энергетик", spheres=["energy"], ages=["6-7"])
    publish(title="Второй энергетик", spheres=["energy"], ages=["10-11"])
    publish(title="Совсем другое", spheres=["it"], ages=["10-11"])
    page = client.get(f"/projects/{first}", follow_redirects=True).get_data(as_text=True)
    similar = page[page.index("Похожие проекты") :]
    assert "Второй энергетик" in similar and "Совсем другое" not in similar


def test_user_markdown_is_sanitized(client, publish):
    project_id = publish(goal='**Важно** <script>alert(1)</script> <a href="javascript:x" hx-get="/x">ссылка</a>')
    page = client.get(f"/projects/{project_id}", follow_redirects=True).get_data(as_text=True)
    assert "<strong>Важно</strong>" in page
    assert "<script>alert(1)</script>" not in page
    # Raw HTML stays text: no element carries the attributes
    assert not re.search(r"<[a-z]+[^>]*(hx-get|javascript:)", page)


# -- the teacher's form --------------------------------------------------------------------------------


def test_teacher_creates_a_project_with_three_stages(app, client, auth, teacher):
    auth.login(teacher)
    response = client.post("/projects/new", data=form_data(client, "/projects/new"))
    assert response.status_code == 303
    with app.app_context():
        project = db.session.scalar(select(Project))
        assert project.status == Status.DRAFT
        assert [s.title for s in project.stages] == ["Погружение", "Модель", "Защита"]
        assert project.author_id == teacher.id


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "Заполните это поле."),
        ({"title": "x" * 201}, "От 5 до 200 символов."),
        ({"age_group_ids": []}, "Выберите хотя бы одну возрастную группу."),
        ({"stages-0-title": "", "stages-1-title": "", "stages-2-title": ""}, "Добавьте хотя бы один этап"),
        ({"duration_weeks": "0"}, "От 1 до 52 недель."),
        ({"format": ""}, "Выберите формат проекта."),
    ],
)
def test_bad_input_gets_a_message_and_keeps_what_was_typed(client, auth, teacher, overrides, message):
    auth.login(teacher)
    response = client.post("/projects/new", data=form_data(client, "/projects/new", **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert "Как ГЭС делает электричество." in page
    assert 'value="Погружение"' in page or overrides.get("stages-0-title") == ""


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("add", ["Погружение", "Модель", "Защита", ""]),
        ("remove:1", ["Погружение", "Защита"]),
        ("up:2", ["Погружение", "Защита", "Модель"]),
        ("down:0", ["Модель", "Погружение", "Защита"]),
    ],
)
def test_stage_buttons_work_without_javascript(client, auth, teacher, action, expected):
    auth.login(teacher)
    response = client.post("/projects/new", data=form_data(client, "/projects/new", stage_action=action))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    titles = re.findall(r'name="stages-\d+-title" type="text" value="([^"]*)"', page)
    assert titles == expected
    # The rest of the form is still there, and nothing was saved
    assert 'value="Энергия воды"' in page
    assert "errors" not in page


def test_stage_buttons_with_htmx_return_only_the_stages(client, auth, teacher):
    auth.login(teacher)
    data = form_data(client, "/projects/new", stage_action="add")
    response = client.post("/projects/new", data=data, headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert "<html" not in page and "Название проекта" not in page
    assert page.count('name="stages-') == 8  # four stages, title and description each


def test_students_cannot_open_the_project_form(client, auth, make_user):
    auth.login(make_user(roles=("student",)))
    assert client.get("/projects/new").status_code == 403


def test_project_form_requires_login(client):
    response = client.get("/projects/new")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# -- reports -------------------------------------------------------------------------------------------


def test_teacher_reports_on_a_project_and_it_shows_once_published(app, client, auth, publish, make_user, moderator):
    project_id = publish(title="Юный энергетик")
    colleague = make_user(roles=("teacher",), email="colleague@example.ru")
    auth.login(colleague)
    token = csrf_token(client, f"/projects/{project_id}/reports/new")
    data = {
        "csrf_token": token,
        "class_name": "7 «А»",
        "grade": "7",
        "started_on": "2026-02-01",
        "finished_on": "2026-02-20",
        "participants": "22",
        "body": "Собрали шесть моделей.",
        "results": "Двое решили поступать в энергетический колледж.",
    }
    response = client.post(f"/projects/{project_id}/reports/new", data=data)
    assert response.status_code == 303
    with app.app_context():
        report = db.session.scalar(select(ProjectReport))
    token = csrf_token(client, f"/projects/reports/{report.id}")
    client.post(f"/workflow/report/{report.id}/submit", data={"csrf_token": token})
    # Not on the project page until a moderator publishes it
    page = client.get(f"/projects/{project_id}", follow_redirects=True).get_data(as_text=True)
    assert "7 «А»" not in page[page.index('id="reports-title"') :]
    auth.logout()
    auth.login(moderator)
    token = csrf_token(client, f"/moderation/report/{report.id}")
    assert client.post(f"/workflow/report/{report.id}/publish", data={"csrf_token": token}).status_code == 303
    page = client.get(f"/projects/{project_id}", follow_redirects=True).get_data(as_text=True)
    assert "7 «А»" in page and "Двое решили поступать" in page


def test_report_with_reversed_dates_is_refused(client, auth, publish, teacher):
    project_id = publish()
    auth.login(teacher)
    token = csrf_token(client, f"/projects/{project_id}/reports/new")
    response = client.post(
        f"/projects/{project_id}/reports/new",
        data={
            "csrf_token": token,
            "class_name": "7 «А»",
            "grade": "7",
            "started_on": "2026-03-01",
            "finished_on": "2026-02-01",
            "participants": "5",
            "body": "Текст",
            "results": "Итог",
        },
    )
    assert response.status_code == 422
    assert "Дата окончания раньше даты начала." in response.get_data(as_text=True)


# -- attachments --------------------------------------------------------------------------------------


def test_attachment_survives_a_failed_submit_and_is_private_until_published(app, client, auth, teacher, moderator):
    auth.login(teacher)
    # The teacher attaches a PDF but forgets the title
    data = form_data(client, "/projects/new", title="")
    data["attachments"] = (io.BytesIO(PDF), "Методичка «Энергия».pdf")
    response = client.post("/projects/new", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    # ... the file is kept: it comes back as already uploaded, with its key in the form
    key = re.search(r'name="attachments-pending" value="([^"]+)"', page).group(1)
    assert "Методичка «Энергия».pdf" in html.unescape(page)
    # She fixes the title and saves without choosing the file again
    data = form_data(client, "/projects/new")
    data["attachments-pending"] = key
    assert client.post("/projects/new", data=data, content_type="multipart/form-data").status_code == 303
    with app.app_context():
        project = db.session.scalar(select(Project))
        project_id = project.id
    page = client.get(f"/projects/{project_id}", follow_redirects=True).get_data(as_text=True)
    file_url = re.search(r'href="(/files/[^"]+)"', page).group(1)
    with client.get(file_url) as response:
        assert response.data == PDF
    # Nobody else gets the draft's file by guessing its URL
    visitor = app.test_client()
    with visitor.get(file_url) as response:
        assert response.status_code == 404
    # Once published, everyone may download it
    with app.test_request_context():
        item = db.session.get(Project, project_id)
        workflow.transition(db.session.merge(teacher), item, "submit")
        workflow.transition(db.session.merge(moderator), item, "publish")
    with visitor.get(file_url) as response:
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_attachment_of_a_wrong_type_is_refused_with_the_reason(client, auth, teacher):
    auth.login(teacher)
    data = form_data(client, "/projects/new")
    data["attachments"] = (io.BytesIO(b"<html><script>alert(1)</script></html>"), "план.pdf")
    response = client.post("/projects/new", data=data, content_type="multipart/form-data")
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "план.pdf" in page
    # ... and what was typed is kept
    assert 'value="Энергия воды"' in page
