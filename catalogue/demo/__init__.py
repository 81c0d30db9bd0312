"""Demo content for a development or showcase installation (``flask --app catalogue seed-demo``).

Idempotent: everything is looked up by a natural key first, so a second run adds nothing.
"""

import datetime as dt

from sqlalchemy import func, select

from catalogue.accounts.models import Role, User
from catalogue.accounts.services import create_user
from catalogue.extensions import db
from catalogue.taxonomy.models import Organization
from catalogue.taxonomy.seed import seed_taxonomies

DEMO_PASSWORD = "demo-demo-2026"  # noqa: S105  (printed in the README; demo installations only)

DEMO_USERS = [
    # email, last, first, middle, roles, organization, grade, birth date
    ("admin@demo.example", "Соколова", "Ирина", "Петровна", {Role.ADMIN}, None, None, None),
    ("moderator@demo.example", "Белых", "Андрей", "Викторович", {Role.MODERATOR}, None, None, None),
    ("jury@demo.example", "Ермакова", "Ольга", "Николаевна", {Role.JURY},
     "Иркутский национальный исследовательский технический университет", None, None),
    ("teacher@demo.example", "Кузнецова", "Марина", "Сергеевна", {Role.TEACHER},
     "МБОУ г. Иркутска СОШ № 19", None, None),
    ("teacher2@demo.example", "Шадрин", "Павел", "Олегович", {Role.TEACHER},
     "МБОУ «СОШ № 12» г. Братска", None, None),
    ("student@demo.example", "Иванов", "Артём", "Дмитриевич", {Role.STUDENT},
     "МБОУ г. Иркутска СОШ № 19", 8, dt.date(2012, 3, 14)),
    ("student2@demo.example", "Петрова", "Алёна", "Игоревна", {Role.STUDENT},
     "МБОУ «СОШ № 12» г. Братска", 10, dt.date(2010, 9, 2)),
]  # fmt: skip


def seed_demo() -> list[str]:
    """Load demo content; returns the e-mails of the accounts it created.

    Demo decisions are real transitions (audited, notified in the site), but no letters go out.
    """
    from flask import current_app

    from catalogue.demo.contest import seed_contest
    from catalogue.demo.practices import seed_practices
    from catalogue.demo.projects import seed_projects
    from catalogue.monitoring.demo import seed_coordinator

    suppress = current_app.config.get("MAIL_SUPPRESS", False)
    current_app.config["MAIL_SUPPRESS"] = True
    try:
        # Notifications link to pages: URLs need a request context even on the command line.
        with current_app.test_request_context("/"):
            created = _seed_users()
            seed_projects()
            seed_practices()
            _backdate_fresh_items()
            seed_contest(DEMO_PASSWORD)
            created += seed_coordinator(DEMO_PASSWORD)
    finally:
        current_app.config["MAIL_SUPPRESS"] = suppress
    return created


def advance(author: User, moderator: User, item, state: str) -> None:
    """Bring a demo draft to ``state`` ("draft", "submitted" or "published") through real transitions."""
    from catalogue.workflow import services as workflow

    if state in ("submitted", "published"):
        workflow.transition(author, item, "submit")
    if state == "published":
        workflow.transition(moderator, item, "publish")


def _seed_users() -> list[str]:
    seed_taxonomies()
    existing = set(db.session.scalars(select(User.email)))
    created = []
    for email, last, first, middle, roles, org_name, grade, birth_date in DEMO_USERS:
        if email in existing:
            continue
        organization = (
            db.session.scalar(select(Organization).where(Organization.name == org_name)) if org_name else None
        )
        create_user(
            email,
            DEMO_PASSWORD,
            last,
            first,
            roles,
            middle_name=middle,
            organization=organization,
            grade=grade,
            birth_date=birth_date,
        )
        created.append(email)
    db.session.commit()
    return created


# -- a history for the demo ---------------------------------------------------------------------


def _backdate_fresh_items() -> None:
    """Give the projects, reports and practices the seeder has just published believable past dates.

    Seeded in one go they would all be "published today", after the adoptions and class reports
    they carry. A project is dated a month before its first class report, a report a week after
    the class finished, a practice three weeks before its first adoption; the others a few weeks
    apart. The audit rows move with them, and the search index follows through the outbox.
    """
    from catalogue.clock import utcnow
    from catalogue.practices.models import Practice, PracticeAdoption
    from catalogue.projects.models import Project, ProjectReport
    from catalogue.workflow.models import Status

    now = utcnow()
    fresh = now - dt.timedelta(hours=1)

    def published(model):
        return list(
            db.session.scalars(
                select(model).where(model.status == Status.PUBLISHED, model.published_at >= fresh).order_by(model.id)
            )
        )

    first_report = dict(
        db.session.execute(
            select(ProjectReport.project_id, func.min(ProjectReport.started_on)).group_by(ProjectReport.project_id)
        ).all()
    )
    first_adoption = dict(
        db.session.execute(
            select(PracticeAdoption.practice_id, func.min(PracticeAdoption.adopted_on)).group_by(
                PracticeAdoption.practice_id
            )
        ).all()
    )

    for n, project in enumerate(reversed(published(Project))):
        if project.id in first_report:
            day = first_report[project.id] - dt.timedelta(days=30 + 3 * n)
        else:
            day = now.date() - dt.timedelta(days=5 + 11 * n)
        backdate("project", project, at_noon(day))
    for report in published(ProjectReport):
        backdate("report", report, at_noon(min(report.finished_on + dt.timedelta(days=7), now.date())))
    for n, practice in enumerate(reversed(published(Practice))):
        if practice.id in first_adoption:
            day = first_adoption[practice.id] - dt.timedelta(days=21 + 2 * n)
        else:
            day = now.date() - dt.timedelta(days=8 + 9 * n)
        backdate("practice", practice, at_noon(day))
    db.session.commit()


def at_noon(day: dt.date) -> dt.datetime:
    """Noon in Irkutsk on ``day``, as a stored (naive UTC) moment."""
    return dt.datetime.combine(day, dt.time(4, 0))


def backdate(type_key: str, item, when: dt.datetime) -> None:
    """Date a demo item published at ``when`` (sent two days before, begun four before that), its audit
    rows with it; the caller commits (the search index follows through the outbox)."""
    from catalogue.workflow.models import AuditEntry

    sent = when - dt.timedelta(days=2)
    item.created_at = when - dt.timedelta(days=6)
    item.submitted_at = sent
    item.published_at = when
    item.updated_at = when
    audit = select(AuditEntry).where(AuditEntry.content_type == type_key, AuditEntry.content_id == item.id)
    for entry in db.session.scalars(audit):
        entry.created_at = sent if entry.action == "submit" else when
