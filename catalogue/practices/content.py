"""Best practices and revisions of them as content types: lifecycle, search, files, feed, sitemap, import/export."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalogue import content_io
from catalogue.accounts.models import Role
from catalogue.content import ContentType, Feed
from catalogue.content_io import ContentIO, Field, Incoming
from catalogue.extensions import db
from catalogue.forms import choices
from catalogue.practices import search, services
from catalogue.practices.forms import PracticeForm
from catalogue.practices.models import Practice, PracticeRevision, PracticeRoadmapItem, PracticeStep, practice_sphere
from catalogue.search.registry import Dependency, SearchableType
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
from catalogue.taxonomy.services import spheres
from catalogue.workflow import registry as workflow


def _practice_age_filter(stmt, age_group_id: int):
    group = db.session.get(AgeGroup, age_group_id)
    if group is None:
        return stmt.where(False)
    return stmt.where(Practice.grade_from <= group.grade_to, Practice.grade_to >= group.grade_from)


def _revision_age_filter(stmt, age_group_id: int):
    group = db.session.get(AgeGroup, age_group_id)
    if group is None:
        return stmt.where(False)
    return stmt.where(
        PracticeRevision.practice.has((Practice.grade_from <= group.grade_to) & (Practice.grade_to >= group.grade_from))
    )


def _describe(practice: Practice) -> str:
    return f"{practice.organization.name} ({practice.municipality.name}) · {practice.grades_label}"


# What a practice's document shows of other records (``search.to_document``).
PRACTICE_DEPENDS_ON = (
    Dependency(PracticeStep, lambda step: [step.practice_id]),
    Dependency(PracticeRoadmapItem, lambda row: [row.practice_id]),
    Dependency(Organization, lambda o: select(Practice.id).where(Practice.organization_id == o.id), ("name",)),
    Dependency(Municipality, lambda m: select(Practice.id).where(Practice.municipality_id == m.id), ("name",)),
    Dependency(
        Sphere,
        lambda s: select(practice_sphere.c.practice_id).where(practice_sphere.c.sphere_id == s.id),
        ("slug",),
    ),
    Dependency(AgeGroup, lambda g: select(Practice.id), ("slug", "grade_from", "grade_to")),
)

# -- import and export (``catalogue.content_io``) ---------------------------------------------------------


def _form(formdata) -> PracticeForm:
    form = PracticeForm(formdata=formdata, meta={"csrf": False})
    form.sphere_ids.choices = choices((s.id, s.name) for s in spheres())
    return form


def _find(incoming: Incoming) -> Practice | None:
    return db.session.scalar(
        select(Practice)
        .where(Practice.title == " ".join(incoming.form.title.data.split()), Practice.author_id == incoming.author.id)
        .order_by(Practice.id)
        .limit(1)
    )


def _export(practice: Practice) -> dict:
    return {
        "title": practice.title,
        "author": practice.author.email,
        "summary": practice.summary,
        "organization": content_io.export_organization(practice.organization),
        "roadmap_items": practice.roadmap_numbers,
        "grade_from": practice.grade_from,
        "grade_to": practice.grade_to,
        "spheres": [s.slug for s in practice.spheres],
        "participants": practice.participants,
        "student_share": practice.student_share,
        "period_from": practice.period_from.isoformat(),
        "period_to": practice.period_to.isoformat() if practice.period_to else None,
        "results": practice.results,
        "resources": practice.resources,
        "steps": [{"title": s.title, "description": s.description} for s in practice.steps],
        "description": practice.description,
        "contacts": practice.contacts,
    }


PRACTICE_IO = ContentIO(
    section="practices",
    label="Практика",
    form=_form,
    fields=(
        Field("title"),
        Field("summary"),
        Field("organization", content_io.organization, "organization_id", label="Организация"),
        Field("roadmap_items", content_io.numbers),
        Field("grade_from"),
        Field("grade_to"),
        Field("spheres", content_io.terms(Sphere), "sphere_ids"),
        Field("participants"),
        Field("student_share"),
        Field("period_from"),
        Field("period_to"),
        Field("results"),
        Field("resources"),
        Field("steps", content_io.rows("title", "description", limit=services.MAX_STEPS), label="Шаги"),
        Field("description"),
        Field("contacts"),
    ),
    author_roles=(Role.TEACHER, Role.MODERATOR, Role.ADMIN),
    title=lambda raw: raw.get("title"),
    identity=lambda incoming: (" ".join(incoming.form.title.data.split()), incoming.author.id),
    find=_find,
    create=lambda incoming: services.create_practice(incoming.author, incoming.form.practice_data()),
    update=lambda practice, incoming: services._apply(practice, services._check(incoming.form.practice_data())),
    export=_export,
    exported=lambda all_states: content_io.published_or_all(Practice, all_states),
)

PRACTICE = ContentType(
    key=services.PRACTICE_FILES,
    model=Practice,
    workflow=workflow.ContentType(
        label="Лучшая практика",
        url=services.practice_url,
        preview_template="practices/_preview.html",
        describe=_describe,
        filter_age_group=_practice_age_filter,
        filter_municipality=lambda stmt, mid: stmt.where(Practice.municipality_id == mid),
        queue_options=(selectinload(Practice.steps),),
        after_delete=lambda: url_for("practices.mine"),
    ),
    search=SearchableType(
        to_document=search.to_document, load=search.load, facts=search.facts, depends_on=PRACTICE_DEPENDS_ON
    ),
    files=services.can_read_practice_files,
    file_name=lambda f: ("практика", f.owner_id, "приложение", f.id),
    feed=Feed(
        name="practices",
        title="Лучшие профориентационные практики — Профориентация Приангарья",
        subtitle="Новые практики школ и колледжей Иркутской области, готовые к тиражированию.",
        home_endpoint="practices.index",
        entries=services.feed_entries,
    ),
    sitemap=services.PRACTICE_SITEMAP,
    content_io=PRACTICE_IO,
)

REVISION = ContentType(
    key=services.REVISION_FILES,
    model=PracticeRevision,
    workflow=workflow.ContentType(
        label="Правка практики",
        url=lambda r: url_for("practices.revision", revision_id=r.id),
        preview_template="practices/_revision_preview.html",
        describe=lambda r: _describe(r.practice),
        # The practice's author follows changes others (moderators) propose to it.
        may_view=lambda user, r: r.practice.author_id == user.id,
        recipients=lambda r: [r.author, r.practice.author],
        filter_age_group=_revision_age_filter,
        filter_municipality=lambda stmt, mid: stmt.where(
            PracticeRevision.practice.has(Practice.municipality_id == mid)
        ),
        on_published=[services.apply_revision],
        actions=services.REVISION_ACTIONS,
    ),
    files=services.can_read_revision_files,
    file_name=lambda f: ("правка практики", f.owner_id, "приложение", f.id),
)

CONTENT_TYPES = (PRACTICE, REVISION)
