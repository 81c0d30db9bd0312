"""What teachers, moderators and visitors do with best practices: propose, revise, find, adopt, report."""

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from flask import url_for
from sqlalchemy import distinct, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload, selectinload

from catalogue.accounts.models import Role, User
from catalogue.clock import local_today, utcnow
from catalogue.content import FeedEntry, Sitemap
from catalogue.extensions import db
from catalogue.formatting import ru_date, slugify
from catalogue.markdown import plain_text
from catalogue.media import services as media
from catalogue.media.attachments import RULES, attach_files
from catalogue.media.models import StoredFile
from catalogue.pagination import FIRST_PAGE, Page, Pager, paginate
from catalogue.permissions import Conflict, InvalidInput, NotFound, PermissionDenied, require_role
from catalogue.practices import diff
from catalogue.practices.data import PracticeData, StepData
from catalogue.practices.models import (
    Practice,
    PracticeAdoption,
    PracticeRevision,
    PracticeRoadmapItem,
    PracticeStep,
)
from catalogue.practices.roadmap import BY_NUMBER
from catalogue.taxonomy.models import Municipality, Organization, Sphere
from catalogue.unit_of_work import rolled_back_on_error
from catalogue.urls import external_url
from catalogue.workflow import registry
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Status

__all__ = ["PracticeData", "StepData"]  # re-exported: callers build data from here

PER_PAGE = 12
EXPORT_BATCH = 200  # rows of a CSV download read from the database at once
MAX_STEPS = 20
GRADES = range(6, 12)
# Longest texts a service accepts (forms say the same, with friendlier messages).
MAX_LENGTHS = {
    "title": 200,
    "summary": 600,
    "description": 12000,
    "results": 4000,
    "resources": 4000,
    "contacts": 1000,
}
MAX_COMMENT = 1000
MAX_NOTE = 2000
# Revisions not yet decided: at most one per practice, so each is reviewed against the version now shown.
OPEN_REVISION = (Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED)
REVISION_ACTIONS = frozenset({"submit", "withdraw", "publish", "request_changes", "reject"})
# Owner types of stored files (``catalogue.media``): a practice's attachments, and those a revision adds.
PRACTICE_FILES = "practice"
REVISION_FILES = "practice_revision"
MAX_ATTACHMENTS = RULES[PRACTICE_FILES].max_files


# -- addresses and file access ------------------------------------------------------------------------


def practice_url(practice: Practice, **kw) -> str:
    return url_for("practices.detail", practice_id=practice.id, slug=practice.slug, **kw)


def can_read_practice_files(user, practice_id: int) -> bool:
    """Whoever may see the practice may read its files."""
    practice = db.session.get(Practice, practice_id)
    return practice is not None and workflow.can_view(user, practice)


def can_read_revision_files(user, revision_id: int) -> bool:
    """A revision's new files: its author, the practice's author and moderators, until it is applied."""
    revision = db.session.get(PracticeRevision, revision_id)
    if revision is None or not getattr(user, "is_authenticated", False):
        return False
    return revision.author_id == user.id or revision.practice.author_id == user.id or registry.is_moderator(user)


# -- writing practices ------------------------------------------------------------------------------


def _check(data: PracticeData) -> PracticeData:
    """``data`` normalized, or the first broken rule.

    :raise InvalidInput: with the field it concerns.
    """
    data = data.normalized()
    for name, limit in MAX_LENGTHS.items():
        if len(getattr(data, name) or "") > limit:
            raise InvalidInput(f"Не длиннее {limit} символов.", name)
    for name in ("title", "summary", "description", "results", "contacts"):
        if not getattr(data, name):
            raise InvalidInput("Заполните это поле.", name)
    if not data.roadmap_items:
        raise InvalidInput("Отметьте хотя бы один пункт дорожной карты.", "roadmap_items")
    if any(n not in BY_NUMBER for n in data.roadmap_items):
        raise InvalidInput("В дорожной карте 13 пунктов: выберите из списка.", "roadmap_items")
    if data.grade_from not in GRADES or data.grade_to not in GRADES:
        raise InvalidInput("Классы — от 6 до 11.", "grade_from")
    if data.grade_from > data.grade_to:
        raise InvalidInput("Последний класс не может быть меньше первого.", "grade_to")
    if data.participants is not None and not 0 < data.participants <= 1_000_000:
        raise InvalidInput("Число участников — от 1 до 1 000 000.", "participants")
    if data.student_share is not None and not 0 <= data.student_share <= 100:
        raise InvalidInput("Доля — от 0 до 100 %.", "student_share")
    if data.period_to is not None and data.period_to < data.period_from:
        raise InvalidInput("Период заканчивается раньше, чем начинается.", "period_to")
    if not data.steps:
        raise InvalidInput("Добавьте хотя бы один шаг инструкции.", "steps")
    if len(data.steps) > MAX_STEPS:
        raise InvalidInput(f"Не больше {MAX_STEPS} шагов.", "steps")
    if any(len(s.title) > 200 or len(s.description) > 3000 for s in data.steps):
        raise InvalidInput("Название шага — до 200 символов, описание — до 3000.", "steps")
    return data


def _apply(practice: Practice, data: PracticeData) -> None:
    """Write checked ``data`` into ``practice``.

    :raise InvalidInput: no such organization.
    """
    organization = db.session.get(Organization, data.organization_id)
    if organization is None:
        raise InvalidInput("Выберите организацию из списка.", "organization_id")
    practice.title = data.title
    practice.summary = data.summary
    practice.description = data.description
    practice.organization = organization
    practice.municipality_id = organization.municipality_id
    practice.grade_from = data.grade_from
    practice.grade_to = data.grade_to
    practice.participants = data.participants
    practice.student_share = data.student_share
    practice.period_from = data.period_from
    practice.period_to = data.period_to
    practice.results = data.results
    practice.resources = data.resources
    practice.contacts = data.contacts
    # Rows are kept where the item stays: deleting and re-adding one composite key in one flush collides.
    keep = {row.item: row for row in practice.roadmap_rows}
    practice.roadmap_rows = [keep.get(n) or PracticeRoadmapItem(item=n) for n in data.roadmap_items]
    practice.spheres = list(db.session.scalars(select(Sphere).where(Sphere.id.in_(data.sphere_ids))))
    practice.steps = [
        PracticeStep(position=n, title=s.title, description=s.description) for n, s in enumerate(data.steps, start=1)
    ]


def ensure_can_propose(actor) -> None:
    """:raise PermissionDenied: ``actor`` may not write practices (teachers, moderators and admins may)."""
    require_role(actor, Role.TEACHER, Role.MODERATOR, Role.ADMIN)


@dataclass
class FileChanges:
    """What a form did to the attachments: pending uploads to attach, attached files ticked for removal."""

    add: list[str] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)


def attachments(practice: Practice) -> list[StoredFile]:
    """The practice's files, oldest first (one query)."""
    return media.files_of(PRACTICE_FILES, [practice.id])[practice.id]


def revision_files(revision: PracticeRevision) -> list[StoredFile]:
    """Files uploaded with a revision that is not applied yet (applied, they belong to the practice)."""
    return media.files_of(REVISION_FILES, [revision.id])[revision.id]


def create_practice(actor: User, data: PracticeData, files: FileChanges | None = None) -> Practice:
    """A teacher (or a moderator, or an admin) starts a draft, with the files uploaded in the form.

    :raise PermissionDenied: any other role.
    :raise InvalidInput: a rule of :func:`_check` is broken, or too many files.
    """
    ensure_can_propose(actor)
    data = _check(data)
    practice = Practice(author_id=actor.id, status=Status.DRAFT)
    with rolled_back_on_error():
        _apply(practice, data)
        db.session.add(practice)
        db.session.flush()
        files = files or FileChanges()
        attach_files(actor, PRACTICE_FILES, practice.id, add=files.add, remove=files.remove)
    db.session.commit()
    return practice


def update_practice(actor: User, practice: Practice, data: PracticeData, files: FileChanges | None = None) -> Practice:
    """The author edits a draft or a practice returned for changes (a published one is revised instead).

    :raise PermissionDenied: not the author.
    :raise Conflict: under review or decided.
    :raise InvalidInput: a rule of :func:`_check` is broken, or too many files.
    """
    workflow.ensure_can_edit(actor, practice)
    data = _check(data)
    with rolled_back_on_error():
        _apply(practice, data)
        files = files or FileChanges()
        attach_files(actor, PRACTICE_FILES, practice.id, add=files.add, remove=files.remove)
    db.session.commit()
    return practice


# -- revisions of published practices ---------------------------------------------------------------


def may_revise(actor, practice: Practice) -> bool:
    """The practice's author, moderators and admins may propose changes to a published practice."""
    return (
        practice.is_published
        and actor is not None
        and actor.is_authenticated
        and actor.is_active
        and (practice.author_id == actor.id or registry.is_moderator(actor))
    )


def open_revision(practice: Practice) -> PracticeRevision | None:
    """The revision of ``practice`` not yet decided, if any."""
    return db.session.scalar(
        select(PracticeRevision)
        .where(PracticeRevision.practice_id == practice.id, PracticeRevision.status.in_(OPEN_REVISION))
        .order_by(PracticeRevision.id.desc())
        .limit(1)
    )


def revise_practice(
    actor: User, practice: Practice, data: PracticeData, note: str = "", files: FileChanges | None = None
) -> PracticeRevision:
    """Propose changes to a published practice: a new revision (or the actor's open one, updated).

    The practice stays as it is until a moderator publishes the revision. New files wait with the
    revision; the practice's files ticked for removal are only noted, and go when it is applied.

    :raise PermissionDenied: not the author, a moderator or an admin.
    :raise Conflict: the practice is not published, or someone else's revision is open or under review.
    :raise InvalidInput: nothing changed, too many files, or a rule of :func:`_check` is broken.
    """
    if not practice.is_published:
        raise Conflict("Правку можно предложить только к опубликованной практике.")
    if not may_revise(actor, practice):
        raise PermissionDenied
    data = _check(data)
    files = files or FileChanges()
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"Не длиннее {MAX_NOTE} символов.", "note")
    revision = open_revision(practice)
    if revision is not None:
        if revision.author_id != actor.id:
            raise Conflict("К этой практике уже предложена правка; дождитесь решения по ней.")
        workflow.ensure_can_edit(actor, revision)
    if db.session.get(Organization, data.organization_id) is None:
        raise InvalidInput("Выберите организацию из списка.", "organization_id")
    practice_files = attachments(practice)
    practice_keys = {f.key for f in practice_files}
    removed = sorted(k for k in set(files.remove) if k in practice_keys)
    with rolled_back_on_error():
        if revision is None:
            revision = PracticeRevision(practice=practice, author_id=actor.id, status=Status.DRAFT, data={})
            db.session.add(revision)
            db.session.flush()
        own = FileChanges(files.add, [k for k in files.remove if k not in practice_keys])
        kept = [f for f in practice_files if f.key not in removed]
        attach_files(actor, REVISION_FILES, revision.id, add=own.add, remove=own.remove, elsewhere=kept)
        if data == PracticeData.of(practice) and not removed and not revision_files(revision):
            raise InvalidInput("Изменений нет: правка совпадает с опубликованной версией.")
    revision.data = {**data.to_json(), "files_removed": removed}
    revision.note = note
    db.session.commit()
    return revision


def apply_revision(revision: PracticeRevision) -> None:
    """The workflow's ``on_published`` hook: the approved content and files replace the practice's.

    What it replaces is kept in ``revision.previous`` (file names included), so history shows every step.

    :raise InvalidInput: the content no longer fits (an organization was removed): nothing is published.
    """
    practice = revision.practice
    data = _check(PracticeData.from_json(revision.data))
    before = attachments(practice)
    removed = set(revision.data.get("files_removed") or [])
    added = revision_files(revision)
    revision.previous = {**PracticeData.of(practice).to_json(), "files": [f.original_name for f in before]}
    _apply(practice, data)
    for stored in before:
        if stored.key in removed:
            media.delete_file(stored)
    for stored in added:
        stored.owner_type, stored.owner_id = PRACTICE_FILES, practice.id
    names_after = [f.original_name for f in before if f.key not in removed] + [f.original_name for f in added]
    revision.data = {**revision.data, "files": names_after}
    practice.revised_at = utcnow()
    practice.updated_at = practice.revised_at


def revision_changes(revision: PracticeRevision) -> list[diff.FieldChange]:
    """What ``revision`` changes: against what it replaced once applied, else against the version now shown."""
    new = PracticeData.from_json(revision.data)
    if revision.is_published and revision.previous:
        old = PracticeData.from_json(revision.previous)
        old_files = revision.previous.get("files", [])
        new_files = revision.data.get("files", old_files)
    else:
        old = PracticeData.of(revision.practice)
        current = attachments(revision.practice)
        removed = set(revision.data.get("files_removed") or [])
        old_files = [f.original_name for f in current]
        new_files = [f.original_name for f in current if f.key not in removed]
        new_files += [f.original_name for f in revision_files(revision)]
    result = diff.changes(old, new)
    if old_files != new_files:
        result.append(diff.list_change("files", "Материалы для тиражирования", old_files, new_files))
    return result


def get_revision(actor, revision_id: int) -> PracticeRevision:
    """:raise NotFound: no such revision, or ``actor`` is neither its author, the practice's author nor a moderator."""
    revision = db.session.scalar(
        select(PracticeRevision)
        .where(PracticeRevision.id == revision_id)
        .options(selectinload(PracticeRevision.practice).selectinload(Practice.steps))
    )
    if revision is None or not getattr(actor, "is_authenticated", False):
        raise NotFound
    if not (
        workflow.is_author(actor, revision) or revision.practice.author_id == actor.id or registry.is_moderator(actor)
    ):
        raise NotFound
    return revision


class HistoryRow(NamedTuple):
    id: int
    published_at: dt.datetime


@dataclass(frozen=True)
class PracticeFacts:
    """What a practice's page shows of its revisions and adoptions: the same for everybody, so a page keeps it
    per content generation (``catalogue.fragments``), which every revision and adoption bumps."""

    history: tuple[HistoryRow, ...]  # the published revisions, oldest first
    pending_author_id: int | None  # the author of the revision not yet decided, if there is one
    adopted_on: dict[int, dt.date]  # organization id: the date of its «внедрили у себя»


def practice_facts(practice: Practice) -> PracticeFacts:
    """The facts of :class:`PracticeFacts` for ``practice``, read as columns (two queries, no objects)."""
    revisions = db.session.execute(
        select(PracticeRevision.id, PracticeRevision.status, PracticeRevision.published_at, PracticeRevision.author_id)
        .where(PracticeRevision.practice_id == practice.id)
        .order_by(PracticeRevision.created_at, PracticeRevision.id)
    ).all()
    pending = next((r for r in reversed(revisions) if r.status in OPEN_REVISION), None)
    adoptions = db.session.execute(
        select(PracticeAdoption.organization_id, PracticeAdoption.adopted_on).where(
            PracticeAdoption.practice_id == practice.id
        )
    ).all()
    return PracticeFacts(
        history=tuple(HistoryRow(r.id, r.published_at) for r in revisions if r.status == Status.PUBLISHED),
        pending_author_id=pending.author_id if pending is not None else None,
        adopted_on=dict(adoptions),
    )


# -- reading ----------------------------------------------------------------------------------------


def get_practice(actor, practice_id: int, only_row: bool = False) -> Practice:
    """One practice with its steps and adoptions: a fixed number of queries.

    ``only_row=True``: the practice's row with its organization and municipality (a page whose body is cached);
    the rest is loaded when first used.

    :raise NotFound: no such practice, or not visible to ``actor``.
    """
    if only_row:
        loading = [lazyload("*"), joinedload(Practice.organization), joinedload(Practice.municipality)]
    else:
        loading = [selectinload(Practice.steps), selectinload(Practice.adoptions)]
    practice = db.session.scalar(select(Practice).where(Practice.id == practice_id).options(*loading))
    workflow.ensure_can_view(actor, practice)
    return practice


@dataclass
class PracticeFilters:
    item: int | None = None
    municipality: int | None = None
    grade: int | None = None
    sphere: str = ""
    sort: str = "new"
    pager: Pager = FIRST_PAGE
    per_page: int = PER_PAGE

    @property
    def active(self) -> bool:
        return any((self.item, self.municipality, self.grade, self.sphere))


SORTS = {"new": "сначала новые", "adopted": "чаще внедряют"}


# A card (and the feed) shows no author: their joined row would bring a query for their roles too.
CARD_LOADING = (lazyload(Practice.author),)


def published_practices(filters: PracticeFilters):
    """One page of published practices matching ``filters``: a fixed number of queries."""
    stmt = published_select(filters)
    if filters.sort == "adopted":
        order = [Practice.adoption_count.desc(), Practice.published_at.desc(), Practice.id.desc()]
    else:
        order = [Practice.published_at.desc(), Practice.id.desc()]
    return paginate(stmt, order, filters.pager, per_page=filters.per_page)


def published_select(filters: PracticeFilters):
    """The published practices matching ``filters`` (the catalogue's page, its feed and its digests), unordered."""
    stmt = select(Practice).where(Practice.status == Status.PUBLISHED).options(*CARD_LOADING)
    if filters.item:
        stmt = stmt.where(Practice.roadmap_rows.any(PracticeRoadmapItem.item == filters.item))
    if filters.municipality:
        stmt = stmt.where(Practice.municipality_id == filters.municipality)
    if filters.grade:
        stmt = stmt.where(Practice.grade_from <= filters.grade, Practice.grade_to >= filters.grade)
    if filters.sphere:
        stmt = stmt.where(Practice.spheres.any(Sphere.slug == filters.sphere))
    return stmt


def latest_published(limit: int = 50) -> list[Practice]:
    """Published practices, newest publication first (for the feed)."""
    return list(
        db.session.scalars(
            select(Practice)
            .where(Practice.status == Status.PUBLISHED)
            .options(*CARD_LOADING)
            .order_by(Practice.published_at.desc(), Practice.id.desc())
            .limit(limit)
        )
    )


def practices_of(actor: User, pager: Pager = FIRST_PAGE) -> Page:
    """One page of the author's own practices in every state, recently changed first."""
    stmt = select(Practice).where(Practice.author_id == actor.id)
    return paginate(stmt, [Practice.updated_at.desc(), Practice.id.desc()], pager)


def revisions_by(actor: User, pager: Pager = FIRST_PAGE) -> Page:
    """One page of the revisions ``actor`` proposed, recently changed first."""
    stmt = select(PracticeRevision).where(PracticeRevision.author_id == actor.id)
    return paginate(stmt, [PracticeRevision.updated_at.desc(), PracticeRevision.id.desc()], pager)


# -- adoption («тиражирование») ---------------------------------------------------------------------


@dataclass
class AdoptionData:
    adopted_on: dt.date
    comment: str = ""


def adoption_refusal(actor, practice: Practice) -> str | None:
    """Why ``actor`` cannot mark ``practice`` adopted now, in Russian; None when they can."""
    if not practice.is_published:
        return "Отметить внедрение можно только у опубликованной практики."
    if actor.organization_id is None:
        return "Укажите свою организацию в профиле: внедрение отмечается от имени школы или колледжа."
    if actor.organization_id == practice.organization_id:
        return "Это практика вашей организации: внедрение отмечают другие школы и колледжи."
    return None


def _already_adopted(organization: Organization, adoption: PracticeAdoption) -> Conflict:
    return Conflict(
        f"«{organization.name}» уже отметила внедрение этой практики ({ru_date(adoption.adopted_on)}). "
        "Одной отметки от организации достаточно."
    )


def adopt(actor: User, practice: Practice, data: AdoptionData) -> PracticeAdoption:
    """A teacher marks «внедрили у себя» for their organization.

    :raise PermissionDenied: not a teacher (or an admin).
    :raise InvalidInput: not published, no organization in the profile, the practice's own
        organization, a date in the future, or a long comment.
    :raise Conflict: the organization has marked it already (also when two marks race: the unique
        constraint decides).
    """
    require_role(actor, Role.TEACHER, Role.ADMIN)
    refusal = adoption_refusal(actor, practice)
    if refusal:
        raise InvalidInput(refusal)
    if data.adopted_on > local_today():
        raise InvalidInput("Дата внедрения не может быть в будущем.", "adopted_on")
    if data.adopted_on.year < 2000:
        raise InvalidInput("Проверьте год внедрения.", "adopted_on")
    comment = (data.comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"Комментарий не длиннее {MAX_COMMENT} символов.", "comment")
    organization = actor.organization
    existing = db.session.scalar(
        select(PracticeAdoption).where(
            PracticeAdoption.practice_id == practice.id, PracticeAdoption.organization_id == organization.id
        )
    )
    if existing is not None:
        raise _already_adopted(organization, existing)
    adoption = PracticeAdoption(
        practice_id=practice.id,
        organization_id=organization.id,
        adopted_on=data.adopted_on,
        comment=comment,
        author_id=actor.id,
    )
    db.session.add(adoption)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(
            select(PracticeAdoption).where(
                PracticeAdoption.practice_id == practice.id,
                PracticeAdoption.organization_id == actor.organization_id,
            )
        )
        raise _already_adopted(actor.organization, existing) from None
    practice.adoption_count = Practice.adoption_count + 1  # in SQL: two marks at once both count
    if practice.author_id != actor.id:
        workflow.notify(
            practice.author,
            f"«{practice.title}»: {organization.name} ({organization.municipality.name}) внедрила вашу практику.",
            practice_url(practice),
        )
    db.session.commit()
    return adoption


def adopted_municipalities(practice: Practice) -> list[tuple[str, int]]:
    """(municipality, organizations) of the adoptions of ``practice``, most first (from loaded adoptions)."""
    counts: dict[str, int] = {}
    for adoption in practice.adoptions:
        name = adoption.organization.municipality.name
        counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


# -- the moderators' report -------------------------------------------------------------------------


@dataclass
class MunicipalityRow:
    municipality: str
    adoptions: int
    organizations: int
    practices: int


@dataclass
class PracticeRow:
    practice: Practice
    organizations: int
    municipalities: int


@dataclass
class AdoptionReport:
    """The report's three tables: municipalities (at most the oblast's 42), and practices and adoptions, a page of
    each for the page, or every row read as it goes for the CSV downloads."""

    by_municipality: list[MunicipalityRow]
    by_practice: Iterable[PracticeRow]
    adoptions: Iterable[PracticeAdoption]
    total: int


def ensure_moderator(actor) -> None:
    """:raise PermissionDenied: not a moderator or admin."""
    if not registry.is_moderator(actor):
        raise PermissionDenied


def adoption_report(
    actor, practices_pager: Pager | None = FIRST_PAGE, adoptions_pager: Pager | None = FIRST_PAGE
) -> AdoptionReport:
    """Adoptions by the adopting organizations' municipality, by practice (a page), and one by one (a page);
    with ``None`` for the pagers, every row of the two, read a batch at a time (the CSV downloads).

    :raise PermissionDenied: not a moderator or admin.
    """
    ensure_moderator(actor)
    by_municipality = [
        MunicipalityRow(*row)
        for row in db.session.execute(
            select(
                Municipality.name,
                func.count(PracticeAdoption.id),
                func.count(distinct(PracticeAdoption.organization_id)),
                func.count(distinct(PracticeAdoption.practice_id)),
            )
            .select_from(PracticeAdoption)
            .join(Organization, Organization.id == PracticeAdoption.organization_id)
            .join(Municipality, Municipality.id == Organization.municipality_id)
            .group_by(Municipality.id, Municipality.name)
            .order_by(func.count(PracticeAdoption.id).desc(), Municipality.name)
        )
    ]
    adopting = (
        select(
            PracticeAdoption.practice_id,
            func.count(PracticeAdoption.id).label("organizations"),
            func.count(distinct(Organization.municipality_id)).label("municipalities"),
        )
        .join(Organization, Organization.id == PracticeAdoption.organization_id)
        .group_by(PracticeAdoption.practice_id)
        .subquery()
    )
    practices = select(Practice, adopting.c.organizations, adopting.c.municipalities).join(
        adopting, adopting.c.practice_id == Practice.id
    )
    practices_order = [adopting.c.organizations.desc(), Practice.title, Practice.id]
    adoptions = select(PracticeAdoption).options(
        selectinload(PracticeAdoption.practice), selectinload(PracticeAdoption.author)
    )
    adoptions_order = [PracticeAdoption.adopted_on.desc(), PracticeAdoption.id.desc()]

    def practice_rows(rows) -> list[PracticeRow]:
        return [PracticeRow(*row) for row in rows]

    if practices_pager is None or adoptions_pager is None:
        # Generators: the queries run as the download is sent (inside ``stream_with_context``), not before.
        def every_practice() -> Iterator[PracticeRow]:
            rows = db.session.execute(practices.order_by(*practices_order).execution_options(yield_per=EXPORT_BATCH))
            yield from (PracticeRow(*row) for row in rows)

        def every_adoption() -> Iterator[PracticeAdoption]:
            yield from db.session.scalars(
                adoptions.order_by(*adoptions_order).execution_options(yield_per=EXPORT_BATCH)
            )

        total = db.session.scalar(select(func.count(PracticeAdoption.id))) or 0
        return AdoptionReport(by_municipality, every_practice(), every_adoption(), total)
    by_practice = paginate(practices, practices_order, practices_pager, load=practice_rows)
    page = paginate(adoptions, adoptions_order, adoptions_pager)
    return AdoptionReport(by_municipality, by_practice, page, page.total)


# -- feeds and the sitemap ----------------------------------------------------------------------------


def feed_entries(
    limit: int, filters: PracticeFilters | None = None, after: dt.datetime | None = None
) -> list[FeedEntry]:
    """The newest published practices (matching ``filters``, published after ``after``), newest first, for the
    Atom feeds and the subscriptions' digests: one query."""
    stmt = published_select(filters or PracticeFilters())
    if after is not None:
        stmt = stmt.where(Practice.published_at > after)
    items = db.session.scalars(stmt.order_by(Practice.published_at.desc(), Practice.id.desc()).limit(limit)).all()
    return [
        FeedEntry(
            title=p.title,
            url=external_url("practices.detail", practice_id=p.id, slug=p.slug),
            updated=p.current_version_date or p.updated_at,
            published=p.published_at,
            summary=plain_text(p.summary),
            author=f"{p.organization.name} ({p.municipality.name})",
            categories=[item.title for item in p.roadmap_items],
        )
        for p in items
    ]


# Every published practice: one narrow query, no objects loaded.
PRACTICE_SITEMAP = Sitemap(
    query=lambda: select(Practice.id, func.coalesce(Practice.revised_at, Practice.published_at), Practice.title).where(
        Practice.status == Status.PUBLISHED
    ),
    urls=lambda row: [(external_url("practices.detail", practice_id=row[0], slug=slugify(row[2])), row[1])],
)
