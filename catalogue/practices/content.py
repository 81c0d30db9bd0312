"""Best practices and revisions of them as content types: lifecycle, search, files, feed and sitemap."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalogue.content import ContentType, Feed
from catalogue.extensions import db
from catalogue.practices import search, services
from catalogue.practices.models import Practice, PracticeRevision, PracticeRoadmapItem, PracticeStep, practice_sphere
from catalogue.search.registry import Dependency, SearchableType
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
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
