"""What teachers, moderators and visitors do with typical projects and their reports."""

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import lazyload, selectinload

from catalogue.accounts.models import Role, User
from catalogue.content import FeedEntry, Sitemap
from catalogue.extensions import db
from catalogue.formatting import slugify
from catalogue.markdown import plain_text
from catalogue.media import services as media
from catalogue.media.attachments import attach_files
from catalogue.pagination import FIRST_PAGE, Page, Pager, paginate
from catalogue.permissions import InvalidInput, NotFound, PermissionDenied, require_role
from catalogue.projects import runs
from catalogue.projects.models import (
    DURATIONS,
    Project,
    ProjectFormat,
    ProjectReport,
    ProjectStage,
    project_age_group,
    project_sphere,
)
from catalogue.taxonomy.models import AgeGroup, Sphere
from catalogue.unit_of_work import rolled_back_on_error
from catalogue.urls import external_url
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Status

PER_PAGE = 12
MAX_STAGES = 20


# -- writing projects -------------------------------------------------------------------------------


@dataclass
class StageData:
    title: str
    description: str = ""


@dataclass
class ProjectData:
    title: str
    summary: str
    goal: str
    format: str
    duration_weeks: int
    expected_results: str
    resources: str
    age_group_ids: list[int]
    sphere_ids: list[int]
    stages: list[StageData] = field(default_factory=list)
    # Keys of the actor's pending uploads to attach, and of attached files to remove.
    attach: list[str] = field(default_factory=list)
    detach: list[str] = field(default_factory=list)


def _apply(project: Project, data: ProjectData) -> None:
    stages = [s for s in data.stages if s.title.strip()]
    if not stages:
        raise InvalidInput("Добавьте хотя бы один этап проекта.", "stages")
    if len(stages) > MAX_STAGES:
        raise InvalidInput(f"Не больше {MAX_STAGES} этапов.", "stages")
    if data.format not in ProjectFormat.LABELS:
        raise InvalidInput("Выберите формат проекта.", "format")
    age_groups = list(db.session.scalars(select(AgeGroup).where(AgeGroup.id.in_(data.age_group_ids))))
    if not age_groups:
        raise InvalidInput("Выберите хотя бы одну возрастную группу.", "age_group_ids")
    project.title = data.title.strip()
    project.summary = data.summary.strip()
    project.goal = data.goal.strip()
    project.format = data.format
    project.duration_weeks = data.duration_weeks
    project.expected_results = data.expected_results.strip()
    project.resources = data.resources.strip()
    project.age_groups = age_groups
    project.spheres = list(db.session.scalars(select(Sphere).where(Sphere.id.in_(data.sphere_ids))))
    project.stages = [
        ProjectStage(position=n, title=s.title.strip(), description=s.description.strip())
        for n, s in enumerate(stages, start=1)
    ]


def create_project(actor: User, data: ProjectData) -> Project:
    """A teacher (or an admin) starts a draft.

    :raise PermissionDenied: not a teacher or admin.
    :raise InvalidInput: no stages, age groups or format.
    """
    require_role(actor, Role.TEACHER, Role.ADMIN)
    project = Project(author_id=actor.id, organization_id=actor.organization_id, status=Status.DRAFT)
    _apply(project, data)
    db.session.add(project)
    db.session.flush()
    with rolled_back_on_error():
        attach_files(actor, "project", project.id, add=data.attach)
    db.session.commit()
    return project


def update_project(actor: User, project: Project, data: ProjectData) -> Project:
    """The author edits a draft or a project returned for changes.

    :raise PermissionDenied: not the author.
    :raise Conflict: under review or decided.
    """
    workflow.ensure_can_edit(actor, project)
    with rolled_back_on_error():
        _apply(project, data)
        attach_files(actor, "project", project.id, add=data.attach, remove=data.detach)
    db.session.commit()
    return project


# -- reading projects -------------------------------------------------------------------------------


def get_project(actor, project_id: int, with_stages: bool = True, only_row: bool = False) -> Project:
    """:raise NotFound: no such project, or not visible to ``actor``.

    ``only_row=True``: the project's own row and nothing more (a page whose body is cached); its author,
    organization, age groups, spheres and stages are loaded when first used.
    """
    stmt = select(Project).where(Project.id == project_id)
    if only_row:
        stmt = stmt.options(lazyload("*"))
    elif with_stages:
        stmt = stmt.options(selectinload(Project.stages))
    project = db.session.scalar(stmt)
    workflow.ensure_can_view(actor, project)
    return project


@dataclass
class ProjectFilters:
    age: str = ""
    sphere: str = ""
    format: str = ""
    duration: str = ""
    sort: str = "new"
    pager: Pager = FIRST_PAGE
    per_page: int = PER_PAGE

    @property
    def active(self) -> bool:
        return any((self.age, self.sphere, self.format, self.duration))


SORTS = {"new": "сначала новые", "title": "по названию"}


# A card shows no author: their joined row would bring a query for their roles too.
CARD_LOADING = (lazyload(Project.author),)


def published_projects(filters: ProjectFilters):
    """One page of published projects matching ``filters``: a fixed number of queries."""
    stmt = published_select(filters)
    by_title = filters.sort == "title"
    order = [Project.title, Project.id] if by_title else [Project.published_at.desc(), Project.id.desc()]
    return paginate(stmt, order, filters.pager, per_page=filters.per_page)


def published_select(filters: ProjectFilters, loading=CARD_LOADING):
    """The published projects matching ``filters`` (the catalogue's page, its feeds and digests), unordered."""
    stmt = select(Project).where(Project.status == Status.PUBLISHED).options(*loading)
    if filters.age:
        stmt = stmt.where(Project.age_groups.any(AgeGroup.slug == filters.age))
    if filters.sphere:
        stmt = stmt.where(Project.spheres.any(Sphere.slug == filters.sphere))
    if filters.format in ProjectFormat.LABELS:
        stmt = stmt.where(Project.format == filters.format)
    for key, _label, low, high in DURATIONS:
        if filters.duration == key:
            stmt = stmt.where(Project.duration_weeks.between(low, high))
    return stmt


def _published_counts(column) -> dict[int, int]:
    """How many published projects each value of an association table's ``column`` has (one query)."""
    rows = db.session.execute(
        select(column, func.count())
        .join(Project, Project.id == column.table.c.project_id)
        .where(Project.status == Status.PUBLISHED)
        .group_by(column)
    )
    return dict(rows.all())


def published_counts_by_age_group() -> dict[int, int]:
    return _published_counts(project_age_group.c.age_group_id)


def published_counts_by_sphere() -> dict[int, int]:
    return _published_counts(project_sphere.c.sphere_id)


def latest_published(limit: int = 3) -> list[Project]:
    """The newest published projects (the home page, the feed)."""
    return list(
        db.session.scalars(
            select(Project)
            .where(Project.status == Status.PUBLISHED)
            .options(*CARD_LOADING)
            .order_by(Project.published_at.desc(), Project.id.desc())
            .limit(limit)
        )
    )


def similar_projects(project: Project, limit: int = 4) -> list[Project]:
    """Published projects sharing an age group or a sphere with ``project``, newest first."""
    age_ids = [g.id for g in project.age_groups]
    sphere_ids = [s.id for s in project.spheres]
    stmt = (
        select(Project)
        .where(
            Project.status == Status.PUBLISHED,
            Project.id != project.id,
            or_(Project.age_groups.any(AgeGroup.id.in_(age_ids)), Project.spheres.any(Sphere.id.in_(sphere_ids))),
        )
        .order_by(Project.published_at.desc(), Project.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def projects_of(actor: User, pager: Pager = FIRST_PAGE) -> Page:
    """One page of the author's own projects in every state, recently changed first."""
    stmt = select(Project).where(Project.author_id == actor.id)
    return paginate(stmt, [Project.updated_at.desc(), Project.id.desc()], pager)


# -- reports ----------------------------------------------------------------------------------------


@dataclass
class ReportData:
    class_name: str
    grade: int
    started_on: dt.date
    finished_on: dt.date
    participants: int
    body: str
    results: str
    attach: list[str] = field(default_factory=list)
    detach: list[str] = field(default_factory=list)
    run_id: int | None = None  # the teacher's class running the project that this report is about («Взять в работу»)


def _apply_report(report: ProjectReport, data: ReportData) -> None:
    if data.finished_on < data.started_on:
        raise InvalidInput("Дата окончания раньше даты начала.", "finished_on")
    report.class_name = data.class_name.strip()
    report.grade = data.grade
    report.started_on = data.started_on
    report.finished_on = data.finished_on
    report.participants = data.participants
    report.body = data.body.strip()
    report.results = data.results.strip()


def create_report(actor: User, project: Project, data: ReportData) -> ProjectReport:
    """A teacher reports how their class carried out a published project.

    :raise PermissionDenied: not a teacher.
    :raise InvalidInput: no organization in the teacher's profile, or dates reversed.
    """
    require_role(actor, Role.TEACHER, Role.ADMIN)
    if not project.is_published:
        raise NotFound
    if actor.organization_id is None:
        raise InvalidInput("Укажите свою организацию в профиле: отчёт публикуется от имени школы.")
    report = ProjectReport(project=project, author_id=actor.id, organization_id=actor.organization_id)
    _apply_report(report, data)
    db.session.add(report)
    db.session.flush()
    with rolled_back_on_error():
        if data.run_id is not None:
            runs.link_report(actor, data.run_id, report)
        attach_files(actor, "report", report.id, add=data.attach)
    db.session.commit()
    return report


def update_report(actor: User, report: ProjectReport, data: ReportData) -> ProjectReport:
    workflow.ensure_can_edit(actor, report)
    with rolled_back_on_error():
        _apply_report(report, data)
        attach_files(actor, "report", report.id, add=data.attach, remove=data.detach)
    db.session.commit()
    return report


def get_report(actor, report_id: int) -> ProjectReport:
    """:raise NotFound: no such report, or not visible to ``actor``."""
    report = db.session.get(ProjectReport, report_id)
    workflow.ensure_can_view(actor, report)
    return report


def attachments(owner_type: str, owner_id: int) -> list:
    return media.files_of(owner_type, [owner_id])[owner_id]


def published_reports(project: Project) -> list[ProjectReport]:
    return list(
        db.session.scalars(
            select(ProjectReport)
            .where(ProjectReport.project_id == project.id, ProjectReport.status == Status.PUBLISHED)
            .order_by(ProjectReport.finished_on.desc(), ProjectReport.id.desc())
        )
    )


def reports_of(actor: User, pager: Pager = FIRST_PAGE) -> Page:
    """One page of the author's reports, recently changed first."""
    stmt = select(ProjectReport).where(ProjectReport.author_id == actor.id)
    return paginate(stmt, [ProjectReport.updated_at.desc(), ProjectReport.id.desc()], pager)


def ensure_teacher(actor) -> None:
    """:raise PermissionDenied: ``actor`` may not write projects."""
    if not (actor.is_authenticated and actor.has_role(Role.TEACHER, Role.ADMIN)):
        raise PermissionDenied


# -- feeds and the sitemap ----------------------------------------------------------------------------


def feed_entries(
    limit: int, filters: ProjectFilters | None = None, after: dt.datetime | None = None
) -> list[FeedEntry]:
    """The newest published projects (matching ``filters``, published after ``after``), newest first, for the
    Atom feeds and the subscriptions' digests: one query."""
    stmt = published_select(filters or ProjectFilters(), loading=())  # a feed names the author
    if after is not None:
        stmt = stmt.where(Project.published_at > after)
    items = db.session.scalars(stmt.order_by(Project.published_at.desc(), Project.id.desc()).limit(limit)).all()
    return [
        FeedEntry(
            title=p.title,
            url=external_url("projects.detail", project_id=p.id, slug=p.slug),
            updated=p.published_at or p.updated_at,
            published=p.published_at,
            summary=plain_text(p.summary),
            author=p.organization.name if p.organization else p.author.public_name,
            categories=[g.name for g in p.age_groups] + [s.name for s in p.spheres],
        )
        for p in items
    ]


# Every published project and report: narrow queries, no objects loaded.
PROJECT_SITEMAP = Sitemap(
    query=lambda: select(Project.id, Project.updated_at, Project.title).where(Project.status == Status.PUBLISHED),
    urls=lambda row: [(external_url("projects.detail", project_id=row[0], slug=slugify(row[2])), row[1])],
)
REPORT_SITEMAP = Sitemap(
    query=lambda: select(ProjectReport.id, ProjectReport.updated_at).where(ProjectReport.status == Status.PUBLISHED),
    urls=lambda row: [(external_url("projects.report", report_id=row[0]), row[1])],
)
