"""Practices made through the real services (no tests here: helpers for the practices' test modules)."""

import datetime as dt
from contextlib import contextmanager

from sqlalchemy import event, select

from catalogue.accounts.models import Role, User, UserRole
from catalogue.extensions import db
from catalogue.practices import services as practices
from catalogue.practices.models import Practice
from catalogue.taxonomy.models import Organization, Sphere
from catalogue.workflow import services as workflow

IRKUTSK_SCHOOL = "МБОУ г. Иркутска СОШ № 19"
IRKUTSK_LYCEUM = "МБОУ г. Иркутска лицей № 2"
BRATSK_SCHOOL = "МБОУ «СОШ № 12» г. Братска"
ANGARSK_SCHOOL = "МАОУ «Гимназия № 8» г. Ангарска"
OLKHON_SCHOOL = "МБОУ «Хужирская СОШ»"


def organization(name: str) -> Organization:
    return db.session.scalar(select(Organization).where(Organization.name == name))


def practice_data(**overrides) -> practices.PracticeData:
    """Valid data for a practice; ``organization`` takes a name, ``spheres`` slugs."""
    org = overrides.pop("organization", IRKUTSK_SCHOOL)
    sphere_slugs = overrides.pop("spheres", ["energy"])
    data = {
        "title": "Встречи с энергетиками",
        "summary": "Раз в месяц в школу приходит инженер-энергетик.",
        "description": "Ученики сами ведут интервью с гостем.",
        "organization_id": organization(org).id,
        "roadmap_items": [6],
        "grade_from": 8,
        "grade_to": 11,
        "sphere_ids": list(db.session.scalars(select(Sphere.id).where(Sphere.slug.in_(sphere_slugs)))),
        "period_from": dt.date(2024, 9, 1),
        "period_to": None,
        "participants": 120,
        "student_share": 60,
        "results": "Участвовали 60 % обучающихся.",
        "resources": "Актовый зал.",
        "contacts": "school@example.ru",
        "steps": [practices.StepData("Найти гостя", "Среди родителей"), practices.StepData("Провести встречу")],
    }
    data.update(overrides)
    return practices.PracticeData(**data)


def make_practice(author, state: str = "draft", moderator=None, **overrides) -> Practice:
    """A practice by ``author`` brought to ``state`` (draft, submitted, published, changes_requested, archived).

    Call inside a request context (notifications link to pages). Without ``moderator`` a moderator's own
    practice is decided by another moderator or administrator (four eyes), or by themselves if they are the only one.
    """
    author = db.session.merge(author)
    moderator = db.session.merge(moderator) if moderator is not None else another_staff_member(author) or author
    practice = practices.create_practice(author, practice_data(**overrides))
    if state != "draft":
        workflow.transition(author, practice, "submit")
    if state in ("published", "archived"):
        workflow.transition(moderator, practice, "publish")
    if state == "archived":
        workflow.transition(moderator, practice, "unpublish", "Устарело.")
    if state == "changes_requested":
        workflow.transition(moderator, practice, "request_changes", "Добавьте цифры.")
    return practice


def another_staff_member(person: User) -> User | None:
    """A moderator or administrator other than ``person`` (the first made), if there is one."""
    staff = User.role_rows.any(UserRole.role.in_((Role.MODERATOR, Role.ADMIN)))
    return db.session.scalar(select(User).where(User.id != person.id, staff).order_by(User.id).limit(1))


def adopt(teacher, practice: Practice, on: dt.date = dt.date(2025, 3, 1), comment: str = ""):
    return practices.adopt(db.session.merge(teacher), practice, practices.AdoptionData(on, comment))


@contextmanager
def counted_statements(engine):
    """Collects the SQL statements ``engine`` runs inside the block."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def make_people(app, make_user) -> dict:
    """Teachers of three schools (two in Irkutsk's school 19), a student, moderators and an admin."""
    with app.app_context():
        people = {
            "teacher": make_user(email="teacher@example.ru", organization=organization(IRKUTSK_SCHOOL)),
            "colleague": make_user(email="colleague@example.ru", organization=organization(IRKUTSK_SCHOOL)),
            "bratsk": make_user(email="bratsk@example.ru", organization=organization(BRATSK_SCHOOL)),
            "angarsk": make_user(email="angarsk@example.ru", organization=organization(ANGARSK_SCHOOL)),
            "student": make_user(roles=("student",), email="student@example.ru"),
            "moderator": make_user(roles=("moderator",), email="moderator@example.ru", organization=None),
            "moderator2": make_user(roles=("moderator",), email="moderator2@example.ru", organization=None),
            "admin": make_user(roles=("admin",), email="admin@example.ru", organization=None),
        }
        # Each commit expired the ones made before: load them again, to use after this context.
        for user in people.values():
            db.session.refresh(user)
        return people


def practice_maker(app, people):
    """``make(state="published", author="teacher", **overrides)``: a practice in a state; its id."""

    def make(state: str = "published", author: str = "teacher", **overrides) -> int:
        with app.test_request_context():
            return make_practice(people[author], state, moderator=people["moderator"], **overrides).id

    return make


def login(client, user) -> None:
    from tests.helpers import DEFAULT_PASSWORD, csrf_token

    response = client.post(
        "/auth/login",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": csrf_token(client, "/auth/login")},
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]


def form_fields(app, **overrides) -> dict:
    """What a teacher types into the practice form."""
    with app.app_context():
        org_id = organization(IRKUTSK_SCHOOL).id
        sphere_id = db.session.scalar(select(Sphere.id).where(Sphere.slug == "energy"))
    fields = {
        "title": "Встречи с энергетиками",
        "summary": "Раз в месяц в школу приходит инженер-энергетик.",
        "organization_id": str(org_id),
        "roadmap_items": ["6", "7"],
        "grade_from": "8",
        "grade_to": "11",
        "sphere_ids": [str(sphere_id)],
        "participants": "120",
        "student_share": "60",
        "period_from": "2024-09-01",
        "period_to": "",
        "results": "Участвовали 60 % обучающихся.",
        "resources": "Актовый зал.",
        "steps-0-title": "Найти гостя",
        "steps-0-description": "Среди родителей",
        "steps-1-title": "Провести встречу",
        "steps-1-description": "",
        "description": "Ученики сами ведут интервью.",
        "contacts": "school@example.ru",
    }
    fields.update(overrides)
    return fields
