"""Bringing content in and out: ``flask content import FILE.json`` and ``content export FILE.json``.

A moderator brings the roadmap's existing projects, class reports and practices in from one JSON file; the import
checks them with the site's forms, takes them through the real lifecycle with the administrator as the actor, and
writes all of them or none. The export writes the same format back.
"""

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalogue.extensions import db
from catalogue.practices.models import Practice
from catalogue.projects.models import Project, ProjectReport
from catalogue.taxonomy.models import Organization
from catalogue.workflow.models import AuditEntry, Status

PROJECT = {
    "title": "Энергетики Ангары",
    "author": "teacher@import.example",
    "summary": "Класс знакомится с профессиями гидроэнергетики.",
    "goal": "Познакомить обучающихся с профессиями энергетики.",
    "age_groups": ["8-9", "10-11"],
    "spheres": ["energy"],
    "format": "group",
    "duration_weeks": 4,
    "stages": [
        {"title": "Экскурсия на ГЭС", "description": "Знакомство со сменой."},
        {"title": "Защита проекта", "description": ""},
    ],
    "expected_results": "Макет каскада и выступление.",
    "resources": "Автобус до Братской ГЭС.",
}

REPORT = {
    "project": "Энергетики Ангары",
    "author": "teacher@import.example",
    "class_name": "8 «Б»",
    "grade": 8,
    "started_on": "2025-09-01",
    "finished_on": "2025-10-01",
    "participants": 24,
    "body": "Съездили на ГЭС и построили макет.",
    "results": "Трое выбрали инженерный профиль.",
}


def practice(organization: Organization) -> dict:
    return {
        "title": "Профессиональные пробы в колледже",
        "author": "teacher@import.example",
        "summary": "Девятиклассники неделю работают в мастерских колледжа.",
        "organization": {"name": organization.name, "municipality": organization.municipality.name},
        "roadmap_items": [3, 7],
        "grade_from": 8,
        "grade_to": 9,
        "spheres": ["energy", "it"],
        "participants": 120,
        "student_share": 40,
        "period_from": "2023-09-01",
        "period_to": None,
        "results": "Половина участников выбрала колледж.",
        "resources": "",
        "steps": [{"title": "Договориться с колледжем", "description": "Письмо директору."}],
        "description": "Подробная история практики.",
        "contacts": "Кузнецова М. С., кабинет 12",
    }


@pytest.fixture
def people(app, make_user):
    admin = make_user(("admin",), email="admin@import.example")
    teacher = make_user(("teacher",), email="teacher@import.example", last_name="Кузнецова", first_name="Марина")
    return admin, teacher


@pytest.fixture
def organization(app):
    with app.app_context():
        org = db.session.scalar(select(Organization).order_by(Organization.id).limit(1))
        org.municipality  # noqa: B018  (loaded before the session closes)
        db.session.expunge(org)
        return org


def run_import(runner, tmp_path, data, admin="admin@import.example", *args, name="content.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return runner.invoke(args=["content", "import", str(path), "--admin", admin, *args])


def letters(app) -> list[str]:
    """The letters the site wrote (no SMTP server in tests: files in instance/mail/)."""
    return [p.read_text() for p in sorted((Path(app.instance_path) / "mail").glob("*.eml"))]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def history(item, key: str) -> list[tuple[str, str, str]]:
    rows = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.content_type == key, AuditEntry.content_id == item.id)
        .order_by(AuditEntry.id)
    )
    return [(e.action, e.to_status, e.actor.email) for e in rows]


def test_a_good_file_brings_projects_reports_and_practices_published_through_their_lifecycle(
    app, runner, tmp_path, people, organization, client
):
    data = {"projects": [PROJECT], "reports": [REPORT], "practices": [practice(organization)]}

    result = run_import(runner, tmp_path, data)

    assert result.exit_code == 0, result.output
    assert "projects: создано 1" in result.output and "practices: создано 1" in result.output
    with app.app_context():
        project = db.session.scalar(select(Project))
        assert project.status == Status.PUBLISHED and project.author.email == "teacher@import.example"
        assert [g.slug for g in project.age_groups] == ["8-9", "10-11"]
        assert [s.title for s in project.stages] == ["Экскурсия на ГЭС", "Защита проекта"]
        # Submitted on the author's behalf and published as a moderator would: the admin is the actor
        assert history(project, "project") == [
            ("submit", "submitted", "admin@import.example"),
            ("publish", "published", "admin@import.example"),
        ]
        report = db.session.scalar(select(ProjectReport))
        assert (report.project_id, report.class_name, report.status) == (project.id, "8 «Б»", Status.PUBLISHED)
        assert report.organization_id == report.author.organization_id
        item = db.session.scalar(select(Practice))
        assert item.status == Status.PUBLISHED and item.organization_id == organization.id
        assert item.roadmap_numbers == [3, 7] and item.period_to is None
        comment = db.session.scalar(select(AuditEntry.comment).where(AuditEntry.content_type == "practice"))
        assert comment == "Импорт из файла content.json"
    # The author is told, as after any publication, once the import is committed
    assert len(letters(app)) == 3 and all("teacher@import.example" in letter for letter in letters(app))
    # The search outbox indexed what the import published
    page = client.get("/search?q=ГЭС").get_data(as_text=True)
    assert "Энергетики Ангары" in page


def test_with_state_draft_the_items_wait_as_drafts(app, runner, tmp_path, people):
    result = run_import(runner, tmp_path, {"projects": [PROJECT]}, "admin@import.example", "--state", "draft")

    assert result.exit_code == 0, result.output
    with app.app_context():
        project = db.session.scalar(select(Project))
        assert project.status == Status.DRAFT and history(project, "project") == []


def test_a_file_with_errors_writes_nothing_and_lists_every_error_by_item_and_field(
    app, runner, tmp_path, people, organization
):
    broken_project = {**PROJECT, "title": "Юные геологи", "age_groups": ["6-8"], "duration_weeks": 60}
    no_stages = {**PROJECT, "title": "Без этапов", "stages": [], "format": "solo"}
    stranger = {**PROJECT, "title": "Чужой проект", "author": "nobody@import.example"}
    bad_practice = {**practice(organization), "grade_from": 10, "grade_to": 8, "roadmap_items": [14]}
    nowhere = {**practice(organization), "title": "Практика без школы", "organization": "Школа, которой нет"}
    data = {"projects": [PROJECT, broken_project, no_stages, stranger], "practices": [bad_practice, nowhere]}

    result = run_import(runner, tmp_path, data)

    assert result.exit_code == 1
    errors = result.output
    assert "Ничего не импортировано." in errors
    assert "Проект 2 «Юные геологи»: поле «Возрастные группы»: нет такого значения «6-8»" in errors
    assert "Проект 2 «Юные геологи»: поле «Продолжительность, недель»: От 1 до 52 недель." in errors
    assert "Проект 3 «Без этапов»: поле «Формат»:" in errors
    assert "Проект 3 «Без этапов»: поле «Этапы»: Добавьте хотя бы один этап" in errors
    assert "Проект 4 «Чужой проект»: поле «Автор»: нет пользователя с адресом «nobody@import.example»" in errors
    assert "Практика 1 «Профессиональные пробы в колледже»: поле «До класса включительно»: Последний класс" in errors
    assert "Практика 1 «Профессиональные пробы в колледже»: поле «Пункты дорожной карты»:" in errors
    assert "Практика 2 «Практика без школы»: поле «Организация»: нет такой организации «Школа, которой нет»" in errors
    # The good project was not written either: all or nothing
    with app.app_context():
        assert count(Project) == count(Practice) == count(AuditEntry) == 0


def test_a_report_about_a_project_that_stays_a_draft_is_an_error(app, runner, tmp_path, people):
    result = run_import(
        runner, tmp_path, {"projects": [PROJECT], "reports": [REPORT]}, "admin@import.example", "--state", "draft"
    )

    assert result.exit_code == 1
    assert (
        "Отчёт 1 «Энергетики Ангары, 8 «Б»»: поле «Проект»: проект «Энергетики Ангары» не опубликован" in result.output
    )
    with app.app_context():
        assert count(Project) == count(ProjectReport) == 0


def test_a_refusal_while_writing_rolls_back_what_came_before_it(app, runner, tmp_path, people, make_user):
    # Four eyes: with another moderator on the site, the admin does not publish their own project
    make_user(("moderator",), email="moderator@import.example")
    own = {**PROJECT, "title": "Проект администратора", "author": "admin@import.example"}

    result = run_import(runner, tmp_path, {"projects": [PROJECT, own]})

    assert result.exit_code == 1
    assert "Проект 2 «Проект администратора»: Свой материал проверяет и публикует другой модератор" in result.output
    with app.app_context():
        assert count(Project) == count(AuditEntry) == 0
    # The first project's publication was undone with the rest: nobody was told of it
    assert letters(app) == []


def test_the_same_title_and_author_update_the_item_and_its_history_records_the_edit(
    app, runner, tmp_path, people, organization
):
    first = {"projects": [PROJECT], "reports": [REPORT], "practices": [practice(organization)]}
    assert run_import(runner, tmp_path, first).exit_code == 0
    changed = {**PROJECT, "duration_weeks": 6, "stages": [{"title": "Экскурсия на ГЭС"}]}
    recounted = {**REPORT, "participants": 25}

    result = run_import(
        runner, tmp_path, {"projects": [changed], "reports": [recounted], "practices": [practice(organization)]}
    )

    assert result.exit_code == 0, result.output
    assert "projects: создано 0, обновлено 1" in result.output
    assert "reports: создано 0, обновлено 1" in result.output
    assert "practices: создано 0, обновлено 0, без изменений 1" in result.output
    with app.app_context():
        project = db.session.scalar(select(Project))
        assert count(Project) == count(ProjectReport) == count(Practice) == 1
        assert db.session.scalar(select(ProjectReport.participants)) == 25
        assert project.duration_weeks == 6 and [s.title for s in project.stages] == ["Экскурсия на ГЭС"]
        assert history(project, "project")[-1] == ("edit", "published", "admin@import.example")
        assert len(history(db.session.scalar(select(Practice)), "practice")) == 2  # nothing new: nothing changed
    # Spaces around the texts are not a change either: the form strips them, as on the site
    spaced = {**changed, "goal": f"  {changed['goal']}  \n", "stages": [{"title": " Экскурсия на ГЭС "}]}
    result = run_import(runner, tmp_path, {"projects": [spaced]})
    assert "projects: создано 0, обновлено 0, без изменений 1" in result.output
    with app.app_context():
        assert len(history(db.session.scalar(select(Project)), "project")) == 3


def test_two_items_of_one_file_with_the_same_title_and_author_are_an_error(app, runner, tmp_path, people):
    result = run_import(runner, tmp_path, {"projects": [PROJECT, {**PROJECT, "goal": "Другая цель."}]})

    assert result.exit_code == 1
    assert "Проект 2 «Энергетики Ангары»: повторяет проект 1" in result.output


def test_export_then_import_into_an_empty_site_reproduces_the_items(app, runner, tmp_path, people, organization):
    draft = {**PROJECT, "title": "Черновик о лесе", "spheres": ["forestry"]}
    assert run_import(runner, tmp_path, {"projects": [PROJECT], "reports": [REPORT]}).exit_code == 0
    assert run_import(runner, tmp_path, {"practices": [practice(organization)]}).exit_code == 0
    drafted = run_import(runner, tmp_path, {"projects": [draft]}, "admin@import.example", "--state", "draft")
    assert drafted.exit_code == 0
    exported = tmp_path / "export.json"

    result = runner.invoke(args=["content", "export", str(exported)])

    assert result.exit_code == 0, result.output
    first = json.loads(exported.read_text(encoding="utf-8"))
    # Only what is published, unless --all
    assert [p["title"] for p in first["projects"]] == ["Энергетики Ангары"]
    assert first["projects"][0] == PROJECT and first["reports"][0] == REPORT
    assert first["practices"][0] == practice(organization)
    assert runner.invoke(args=["content", "export", "--all", str(tmp_path / "all.json")]).exit_code == 0
    assert len(json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))["projects"]) == 2
    # An empty site: the items go, the people stay
    with app.app_context():
        for model in (ProjectReport, Project, Practice):
            for item in db.session.scalars(select(model)):
                db.session.delete(item)
        db.session.commit()

    again = runner.invoke(args=["content", "import", str(exported), "--admin", "admin@import.example"])

    assert again.exit_code == 0, again.output
    assert runner.invoke(args=["content", "export", str(tmp_path / "again.json")]).exit_code == 0
    assert json.loads((tmp_path / "again.json").read_text(encoding="utf-8")) == first


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("это не JSON", "Файл не JSON: строка 1, символ 1"),
        ('{"projects": [', "Файл не JSON"),
        ("[" * 100_000 + "]" * 100_000, "Файл не JSON"),
        ("[1, 2]", "Файл: ожидается объект с разделами, а не список."),
        ('{"projects": {"title": "x"}}', "Раздел «projects»: ожидается список, а не объект."),
        ('{"lessons": []}', "Файл: неизвестный раздел «lessons»."),
        ('{"version": 2}', "Файл: версия формата 1"),
        ('{"projects": [42]}', "Проект 1: ожидается объект, а не число."),
    ],
)
def test_a_file_that_is_not_content_is_refused_with_a_reason(app, runner, tmp_path, people, content, message):
    result = run_import(runner, tmp_path, content)

    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert count(Project) == 0


def test_bytes_that_are_not_utf8_are_refused(app, runner, tmp_path, people):
    path = tmp_path / "cp1251.json"
    path.write_bytes(json.dumps({"projects": [PROJECT]}, ensure_ascii=False).encode("cp1251"))

    result = runner.invoke(args=["content", "import", str(path), "--admin", "admin@import.example"])

    assert result.exit_code == 1 and "Файл не в кодировке UTF-8" in result.output


def test_hostile_values_are_refused_field_by_field(app, runner, tmp_path, people):
    hostile = {
        **PROJECT,
        "title": "Т" * 1_000_000,
        "summary": ["список", "вместо", "текста"],
        "goal": "цель\x00с нулём",
        "duration_weeks": True,
        "spheres": "energy",
        "stages": [{"title": {"вложенный": "объект"}}],
        "expected_results": "\ud800",
        "colour": "red",
        "bad\x00key\ud800": 1,
    }
    too_many = {**PROJECT, "title": "Слишком большой", "duration_weeks": 10**30, "age_groups": ["8-9"] * 1000}

    result = run_import(runner, tmp_path, {"projects": [hostile, too_many]})

    assert result.exit_code == 1
    errors = result.output
    long_title = "Проект 1 «" + "Т" * 79 + "…»"
    assert f"{long_title}: неизвестное поле «colour»" in errors
    assert f"{long_title}: неизвестное поле «bad�key�»" in errors
    assert f"{long_title}: поле «Кратко о проекте»: ожидается текст или число, а не список" in errors
    assert f"{long_title}: поле «Цель»: недопустимый символ NUL" in errors
    not_a_number = "ожидается текст или число, а не логическое значение"
    assert f"{long_title}: поле «Продолжительность, недель»: {not_a_number}" in errors
    assert f"{long_title}: поле «Профессиональные сферы»: ожидается список, а не текст" in errors
    assert f"{long_title}: поле «Этапы»: строка 1, «title»: ожидается текст или число, а не объект" in errors
    assert f"{long_title}: поле «Ожидаемые результаты»: недопустимый символ (одиночный суррогат)" in errors
    assert "Проект 2 «Слишком большой»: поле «Возрастные группы»: не больше 100 значений" in errors
    # A value that passes the types meets the form's own limits
    only_long = {**PROJECT, "title": "Т" * 1_000_000, "duration_weeks": 10**30}
    result = run_import(runner, tmp_path, {"projects": [only_long]})
    assert f"{long_title}: поле «Название проекта»: От 5 до 200 символов." in result.output
    assert f"{long_title}: поле «Продолжительность, недель»:" in result.output
    with app.app_context():
        assert count(Project) == 0


def test_only_an_administrator_imports(app, runner, tmp_path, people):
    result = run_import(runner, tmp_path, {"projects": [PROJECT]}, "teacher@import.example")

    assert result.exit_code == 1
    assert "Импортирует администратор: у «teacher@import.example» нет этой роли." in result.output


def test_an_author_without_the_role_is_an_error(app, runner, tmp_path, people, make_user):
    make_user(("student",), email="student@import.example")

    result = run_import(runner, tmp_path, {"projects": [{**PROJECT, "author": "student@import.example"}]})

    assert result.exit_code == 1
    assert "Проект 1 «Энергетики Ангары»: поле «Автор»: у «student@import.example» нет нужной роли" in result.output
