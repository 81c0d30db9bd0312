"""Loading the demo practices through the same services people use: drafts, reviews, adoptions, a revision."""

import dataclasses
import datetime as dt
import io

from sqlalchemy import select

from catalogue.accounts.models import Role, User
from catalogue.accounts.services import create_user
from catalogue.demo import advance
from catalogue.demo.practices_data import PRACTICES, TEACHERS
from catalogue.extensions import db
from catalogue.media import services as media
from catalogue.media.validation import validate_upload
from catalogue.practices import services
from catalogue.practices.models import Practice, PracticeAdoption, PracticeRevision
from catalogue.taxonomy.models import Organization, Sphere
from catalogue.workflow import services as workflow


def _teachers() -> None:
    from catalogue.demo import DEMO_PASSWORD

    have = set(db.session.scalars(select(User.email)))
    for email, last, first, middle, org_name in TEACHERS:
        if email in have:
            continue
        organization = db.session.scalar(select(Organization).where(Organization.name == org_name))
        create_user(email, DEMO_PASSWORD, last, first, {Role.TEACHER}, middle_name=middle, organization=organization)
    db.session.commit()


def _data(spec: dict, organizations: dict[str, int], spheres: dict[str, int]) -> services.PracticeData:
    start, end = spec["period"]
    return services.PracticeData(
        title=spec["title"],
        summary=spec["summary"],
        description=spec["description"],
        organization_id=organizations[spec["organization"]],
        roadmap_items=spec["roadmap"],
        grade_from=spec["grades"][0],
        grade_to=spec["grades"][1],
        sphere_ids=[spheres[s] for s in spec["spheres"]],
        period_from=dt.date.fromisoformat(start),
        period_to=dt.date.fromisoformat(end) if end else None,
        participants=spec["participants"],
        student_share=spec["share"],
        results=spec["results"],
        resources=spec["resources"],
        contacts=spec["contacts"],
        steps=[services.StepData(t, d) for t, d in spec["steps"]],
    )


def _checklist_xlsx(spec: dict) -> bytes:
    """The replication checklist a school fills in: the practice's steps with columns for dates and people."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "План внедрения"
    sheet.append([f"План внедрения практики «{spec['title']}»"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([f"Практика: {spec['organization']}. Контакты: {spec['contacts']}"])
    sheet.append([])
    sheet.append(["№", "Шаг", "Что сделать", "Срок", "Ответственный", "Отметка о выполнении"])
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    for number, (title, description) in enumerate(spec["steps"], start=1):
        sheet.append([number, title, description, "", "", ""])
    for column, width in zip("ABCDEF", (5, 30, 60, 14, 24, 22), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=5):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _checklist(author: User, spec: dict) -> services.FileChanges:
    """The checklist as a pending upload of ``author``, through the same validation as any upload."""
    upload = validate_upload("document", "План внедрения практики.xlsx", _checklist_xlsx(spec))
    return services.FileChanges(add=[media.store_upload(author, upload).key])


def seed_practices() -> int:
    """Add the demo practices, adoptions and the pending revision that are missing; returns how many were added.

    Needs the demo users (``catalogue.demo``) and a request context (notifications link to pages).
    """
    _teachers()
    users = {u.email: u for u in db.session.scalars(select(User))}
    moderator = users["moderator@demo.example"]
    organizations = {o.name: o.id for o in db.session.scalars(select(Organization))}
    spheres = {s.slug: s.id for s in db.session.scalars(select(Sphere))}
    have = {p.title: p for p in db.session.scalars(select(Practice))}
    added = 0
    for spec in PRACTICES:
        practice = have.get(spec["title"])
        if practice is None:
            author = users[spec["author"]]
            practice = services.create_practice(author, _data(spec, organizations, spheres), _checklist(author, spec))
            # Four eyes: the moderator's own practice is published by the administrator.
            publisher = users["admin@demo.example"] if author.id == moderator.id else moderator
            advance(author, publisher, practice, spec["state"])
            added += 1
        if practice.is_published:
            added += _adoptions(practice, spec, users)
            if "revision" in spec:
                added += _revision(practice, spec, users, organizations, spheres)
    return added


def _adoptions(practice: Practice, spec: dict, users: dict[str, User]) -> int:
    marked = set(
        db.session.scalars(select(PracticeAdoption.organization_id).where(PracticeAdoption.practice == practice))
    )
    added = 0
    for email, date, comment in spec["adoptions"]:
        teacher = users[email]
        if teacher.organization_id in marked:
            continue
        services.adopt(teacher, practice, services.AdoptionData(dt.date.fromisoformat(date), comment))
        added += 1
    return added


def _revision(practice: Practice, spec: dict, users, organizations, spheres) -> int:
    """A revision of ``practice`` waiting for a moderator: the site keeps showing the published version."""
    if db.session.scalar(select(PracticeRevision.id).where(PracticeRevision.practice_id == practice.id)):
        return 0
    change = spec["revision"]
    author = users[change["author"]]
    data = _data(spec, organizations, spheres)
    data = dataclasses.replace(
        data,
        participants=change["participants"],
        student_share=change["share"],
        results=change["results"],
        steps=[*data.steps, services.StepData(*change["extra_step"])],
    )
    revision = services.revise_practice(author, practice, data, change["note"])
    workflow.transition(author, revision, "submit")
    return 1
