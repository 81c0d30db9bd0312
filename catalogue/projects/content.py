"""Typical projects and their reports as content types: lifecycle, search, files, feed, sitemap, import/export."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalogue import content_io
from catalogue.accounts.models import Role
from catalogue.content import ContentType, Feed
from catalogue.content_io import ContentIO, Field, FieldError, Incoming, Link
from catalogue.extensions import db
from catalogue.forms import choices
from catalogue.projects import search, services
from catalogue.projects.forms import ProjectForm, ReportForm
from catalogue.projects.models import Project, ProjectReport, ProjectStage, project_age_group, project_sphere
from catalogue.search.registry import Dependency, SearchableType
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
from catalogue.taxonomy.services import age_groups, spheres
from catalogue.workflow import registry as workflow
from catalogue.workflow import services as workflow_services
from catalogue.workflow.models import Status


def _describe_project(project: Project) -> str:
    parts = [project.grades_label]
    if project.organization:
        parts.append(f"{project.organization.name} ({project.organization.municipality.name})")
    return " · ".join(p for p in parts if p)


def _report_age_filter(stmt, age_group_id: int):
    group = db.session.get(AgeGroup, age_group_id)
    if group is None:
        return stmt.where(False)
    return stmt.where(ProjectReport.grade.between(group.grade_from, group.grade_to))


def _readable(model):
    """Files of an item are readable by whoever may see the item."""

    def can_read(user, owner_id: int) -> bool:
        item = db.session.get(model, owner_id)
        return item is not None and workflow_services.can_view(user, item)

    return can_read


# What a project's document shows of other records (``search.project_document``).
PROJECT_DEPENDS_ON = (
    Dependency(ProjectStage, lambda stage: [stage.project_id]),
    Dependency(
        Organization, lambda o: select(Project.id).where(Project.organization_id == o.id), ("name", "municipality_id")
    ),
    Dependency(
        Municipality,
        lambda m: select(Project.id).join(Organization).where(Organization.municipality_id == m.id),
        ("name",),
    ),
    Dependency(
        Sphere,
        lambda s: select(project_sphere.c.project_id).where(project_sphere.c.sphere_id == s.id),
        ("name", "slug"),
    ),
    Dependency(
        AgeGroup,
        lambda g: select(project_age_group.c.project_id).where(project_age_group.c.age_group_id == g.id),
        ("slug",),
    ),
)

# A report's: its organization, its project's spheres, and the age groups its grade falls into.
REPORT_DEPENDS_ON = (
    Dependency(Project, lambda p: select(ProjectReport.id).where(ProjectReport.project_id == p.id)),
    Dependency(
        Organization,
        lambda o: select(ProjectReport.id).where(ProjectReport.organization_id == o.id),
        ("name", "municipality_id"),
    ),
    Dependency(
        Municipality,
        lambda m: select(ProjectReport.id).join(Organization).where(Organization.municipality_id == m.id),
        ("name",),
    ),
    Dependency(AgeGroup, lambda g: select(ProjectReport.id), ("slug", "grade_from", "grade_to")),
)

# -- import and export (``catalogue.content_io``) ---------------------------------------------------------


def _project_form(formdata) -> ProjectForm:
    form = ProjectForm(formdata=formdata, meta={"csrf": False})
    form.age_group_ids.choices = choices((g.id, g.name) for g in age_groups())
    form.sphere_ids.choices = choices((s.id, s.name) for s in spheres())
    return form


def _find_project(incoming: Incoming) -> Project | None:
    return db.session.scalar(
        select(Project)
        .where(Project.title == incoming.form.title.data, Project.author_id == incoming.author.id)
        .order_by(Project.id)
        .limit(1)
    )


def _export_project(project: Project) -> dict:
    return {
        "title": project.title,
        "author": project.author.email,
        "summary": project.summary,
        "goal": project.goal,
        "age_groups": [g.slug for g in project.age_groups],
        "spheres": [s.slug for s in project.spheres],
        "format": project.format,
        "duration_weeks": project.duration_weeks,
        "stages": [{"title": s.title, "description": s.description} for s in project.stages],
        "expected_results": project.expected_results,
        "resources": project.resources,
    }


PROJECT_IO = ContentIO(
    section="projects",
    label="Проект",
    form=_project_form,
    fields=(
        Field("title"),
        Field("summary"),
        Field("goal"),
        Field("age_groups", content_io.terms(AgeGroup), "age_group_ids"),
        Field("spheres", content_io.terms(Sphere), "sphere_ids"),
        Field("format"),
        Field("duration_weeks"),
        Field("stages", content_io.rows("title", "description", limit=services.MAX_STAGES), label="Этапы"),
        Field("expected_results"),
        Field("resources"),
    ),
    author_roles=(Role.TEACHER, Role.ADMIN),
    title=lambda raw: raw.get("title"),
    identity=lambda incoming: (incoming.form.title.data, incoming.author.id),
    find=_find_project,
    create=lambda incoming: services.create_project(incoming.author, incoming.form.project_data()),
    update=lambda project, incoming: services._apply(project, incoming.form.project_data()),
    export=_export_project,
    exported=lambda all_states: content_io.published_or_all(Project, all_states),
)


def _project_named(title, importer) -> str:
    """A report's project, by its title: published on the site, or brought by the same file and published by it."""
    if not isinstance(title, str) or not title.strip():
        raise FieldError("укажите название проекта")
    title = content_io.clean(title).strip()
    statuses = set(db.session.scalars(select(Project.status).where(Project.title == title)))
    if any(isinstance(raw, dict) and raw.get("title") == title for raw in importer.section("projects")):
        statuses.add(Status.PUBLISHED if importer.state == "published" else Status.DRAFT)
    if not statuses:
        raise FieldError(f"нет проекта «{content_io.short(title)}»")
    if Status.PUBLISHED not in statuses:
        raise FieldError(f"проект «{content_io.short(title)}» не опубликован, а отчёты пишут об опубликованных")
    return title


def _report_project(incoming: Incoming) -> Project | None:
    """The project a report names: the published one of that title, else the first."""
    return db.session.scalar(
        select(Project)
        .where(Project.title == incoming.links["project"])
        .order_by((Project.status == Status.PUBLISHED).desc(), Project.id)
        .limit(1)
    )


def _find_report(incoming: Incoming) -> ProjectReport | None:
    project = _report_project(incoming)
    if project is None:
        return None
    return db.session.scalar(
        select(ProjectReport)
        .where(
            ProjectReport.project_id == project.id,
            ProjectReport.class_name == incoming.form.class_name.data,
            ProjectReport.author_id == incoming.author.id,
        )
        .order_by(ProjectReport.id)
        .limit(1)
    )


def _create_report(incoming: Incoming) -> ProjectReport:
    return services.create_report(incoming.author, _report_project(incoming), incoming.form.report_data())


def _export_report(report: ProjectReport) -> dict:
    return {
        "project": report.project.title,
        "author": report.author.email,
        "class_name": report.class_name,
        "grade": report.grade,
        "started_on": report.started_on.isoformat(),
        "finished_on": report.finished_on.isoformat(),
        "participants": report.participants,
        "body": report.body,
        "results": report.results,
    }


def _report_title(raw: dict) -> str | None:
    project, class_name = raw.get("project"), raw.get("class_name")
    if isinstance(project, str) and isinstance(class_name, str):
        return f"{project}, {class_name}"
    return project if isinstance(project, str) else None


REPORT_IO = ContentIO(
    section="reports",
    label="Отчёт",
    form=lambda formdata: ReportForm(formdata=formdata, meta={"csrf": False}),
    fields=(
        Field("class_name"),
        Field("grade"),
        Field("started_on"),
        Field("finished_on"),
        Field("participants"),
        Field("body"),
        Field("results"),
    ),
    links=(Link("project", "Проект", _project_named),),
    author_roles=(Role.TEACHER, Role.ADMIN),
    title=_report_title,
    identity=lambda incoming: (incoming.links["project"], incoming.form.class_name.data, incoming.author.id),
    find=_find_report,
    create=_create_report,
    update=lambda report, incoming: services._apply_report(report, incoming.form.report_data()),
    export=_export_report,
    exported=lambda all_states: content_io.published_or_all(ProjectReport, all_states),
)

PROJECT = ContentType(
    key="project",
    model=Project,
    workflow=workflow.ContentType(
        label="Типовой проект",
        url=lambda p: url_for("projects.detail", project_id=p.id, slug=p.slug),
        preview_template="projects/_preview.html",
        describe=_describe_project,
        filter_age_group=lambda stmt, gid: stmt.where(Project.age_groups.any(AgeGroup.id == gid)),
        filter_municipality=lambda stmt, mid: stmt.where(Project.organization.has(Organization.municipality_id == mid)),
        queue_options=(selectinload(Project.stages),),
        after_delete=lambda: url_for("projects.mine"),
    ),
    search=SearchableType(
        to_document=search.project_document,
        load=search.load_projects,
        facts=search.project_facts,
        depends_on=PROJECT_DEPENDS_ON,
    ),
    files=_readable(Project),
    file_name=lambda f: ("проект", f.owner_id, "приложение", f.id),
    feed=Feed(
        name="projects",
        title="Типовые проекты — Профориентация Приангарья",
        subtitle="Новые типовые проекты обучающихся по возрастным группам и профессиональным сферам.",
        home_endpoint="projects.index",
        entries=services.feed_entries,
    ),
    sitemap=services.PROJECT_SITEMAP,
    content_io=PROJECT_IO,
)

REPORT = ContentType(
    key="report",
    model=ProjectReport,
    workflow=workflow.ContentType(
        label="Отчёт о проведении проекта",
        url=lambda r: url_for("projects.report", report_id=r.id),
        preview_template="projects/_report_preview.html",
        describe=lambda r: f"{r.organization.name}, {r.class_name}",
        filter_age_group=_report_age_filter,
        filter_municipality=lambda stmt, mid: stmt.where(
            ProjectReport.organization.has(Organization.municipality_id == mid)
        ),
        after_delete=lambda: url_for("projects.mine"),
    ),
    search=SearchableType(
        to_document=search.report_document,
        load=search.load_reports,
        facts=search.report_facts,
        depends_on=REPORT_DEPENDS_ON,
    ),
    files=_readable(ProjectReport),
    file_name=lambda f: ("отчёт", f.owner_id, "фото", f.id),
    sitemap=services.REPORT_SITEMAP,
    content_io=REPORT_IO,
)

CONTENT_TYPES = (PROJECT, REPORT)
