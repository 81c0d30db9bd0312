"""Seeded taxonomies, idempotent demo content, and the command-line tools."""

import io
from pathlib import Path

from sqlalchemy import func, select

from catalogue.accounts.models import Role, User
from catalogue.extensions import db
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
from catalogue.taxonomy.seed import seed_taxonomies

# The roadmap's list of the oblast's municipalities, kept apart from the packaged seed list it checks.
ROADMAP_MUNICIPALITIES = Path(__file__).resolve().parent / "fixtures" / "roadmap-municipalities.txt"


def counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Municipality, Organization, AgeGroup, Sphere, User)
    }


def test_the_oblast_has_its_42_municipalities(app):
    with app.app_context():
        names = set(db.session.scalars(select(Municipality.name)))
    assert len(names) == 42
    assert {"город Иркутск", "Ангарский городской округ", "Ольхонский район", "Эхирит-Булагатский район"} <= names
    # The packaged list is the roadmap's list
    lines = [line for line in ROADMAP_MUNICIPALITIES.read_text(encoding="utf-8").splitlines() if "\t" in line]
    assert names == {line.split("\t")[1] for line in lines}


def test_taxonomies_have_age_groups_spheres_and_organizations(app):
    with app.app_context():
        groups = db.session.scalars(select(AgeGroup).order_by(AgeGroup.position)).all()
        assert [(g.grade_from, g.grade_to) for g in groups] == [(6, 7), (8, 9), (10, 11)]
        assert db.session.scalar(select(func.count(Sphere.id))) >= 12
        # Every organization sits in a municipality, and big cities have schools, colleges and universities
        kinds = set(
            db.session.scalars(select(Organization.kind).join(Municipality).where(Municipality.name == "город Иркутск"))
        )
        assert kinds == {"school", "college", "university"}


def test_seeding_again_changes_nothing_and_keeps_admin_edits(app):
    with app.app_context():
        sphere = db.session.scalar(select(Sphere).where(Sphere.slug == "it"))
        sphere.name = "ИТ и цифровая экономика"
        db.session.commit()
        before = counts()
        seed_taxonomies()
        assert counts() == before
        assert db.session.scalar(select(Sphere.name).where(Sphere.slug == "it")) == "ИТ и цифровая экономика"


def test_demo_content_loads_once(app, runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "admin@demo.example" in first.output
    with app.app_context():
        after_first = counts()
        assert after_first["User"] >= 7
        admin = db.session.scalar(select(User).where(User.email == "admin@demo.example"))
        assert admin.roles == {Role.ADMIN}
    # A second run adds nothing
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0
    assert "уже загружены" in second.output
    with app.app_context():
        assert counts() == after_first


def test_demo_content_has_a_believable_history(app, runner):
    """Nothing published "today" in bulk: items come before what refers to them, audits match."""
    from catalogue.contest.models import Entry, Season
    from catalogue.practices.models import Practice, PracticeAdoption
    from catalogue.projects.models import Project, ProjectReport
    from catalogue.workflow.models import AuditEntry, Status

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        projects = db.session.scalars(select(Project).where(Project.status == Status.PUBLISHED)).all()
        assert len({p.published_at.date() for p in projects}) == len(projects)  # on different days
        for report in db.session.scalars(select(ProjectReport).where(ProjectReport.status == Status.PUBLISHED)):
            assert report.project.published_at.date() < report.started_on
            assert report.published_at.date() > report.finished_on
        for adoption in db.session.scalars(select(PracticeAdoption)):
            assert adoption.practice.published_at.date() < adoption.adopted_on
        practice = db.session.scalars(select(Practice).where(Practice.status == Status.PUBLISHED)).first()
        audit = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.content_type == "practice", AuditEntry.content_id == practice.id)
            .order_by(AuditEntry.id)
        ).all()
        assert [a.created_at for a in audit] == [practice.submitted_at, practice.published_at]
        finished = db.session.scalar(select(Season).where(Season.results_published_at.is_not(None)))
        for entry in db.session.scalars(
            select(Entry).where(Entry.season_id == finished.id, Entry.status == Status.PUBLISHED)
        ):
            assert finished.submission_opens <= entry.published_at.date() <= finished.submission_closes
        assert finished.results_published_at.date() == finished.results_date
        # Every demo practice comes with its replication checklist: a real XLSX listing its steps
        from openpyxl import load_workbook

        from catalogue.media import storage
        from catalogue.media.services import files_of

        published = db.session.scalars(select(Practice).where(Practice.status == Status.PUBLISHED)).all()
        attached = files_of("practice", [p.id for p in published])
        for item in published:
            (checklist,) = attached[item.id]
            assert checklist.original_name == "План внедрения практики.xlsx"
            sheet = load_workbook(io.BytesIO(storage.path_for(checklist.key).read_bytes()), read_only=True).active
            cells = [value for row in sheet.iter_rows(values_only=True) for value in row if value]
            assert item.steps[0].title in cells and item.title in cells[0]


def test_create_user_command_grants_several_roles(app, runner, client, auth):
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Chief@Example.ru",
            "--last-name",
            "Соколова",
            "--first-name",
            "Ирина",
            "--role",
            "admin",
            "--role",
            "moderator",
        ],
        input="длинный-пароль-1\nдлинный-пароль-1\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "chief@example.ru"))
        assert user.roles == {Role.ADMIN, Role.MODERATOR}
    assert auth.login("chief@example.ru", "длинный-пароль-1").status_code == 303
    # The same e-mail twice is refused
    again = runner.invoke(
        args=[
            "create-user",
            "--email",
            "chief@example.ru",
            "--last-name",
            "Х",
            "--first-name",
            "Х",
            "--role",
            "teacher",
        ],
        input="длинный-пароль-1\nдлинный-пароль-1\n",
    )
    assert again.exit_code != 0
    assert "уже есть" in again.output
