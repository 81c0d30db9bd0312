"""Demo content for a development or showcase installation (``flask --app catalogue seed-demo``).

Idempotent: everything is looked up by a natural key first, so a second run adds nothing.
"""

import datetime as dt

from sqlalchemy import select

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

    from catalogue.contest.demo import seed_contest
    from catalogue.practices.demo import seed_practices
    from catalogue.projects.demo import seed_projects

    suppress = current_app.config.get("MAIL_SUPPRESS", False)
    current_app.config["MAIL_SUPPRESS"] = True
    try:
        # Notifications link to pages: URLs need a request context even on the command line.
        with current_app.test_request_context("/"):
            created = _seed_users()
            seed_projects()
            seed_practices()
            seed_contest(DEMO_PASSWORD)
    finally:
        current_app.config["MAIL_SUPPRESS"] = suppress
    return created


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
