"""Typical projects and their reports as content types: lifecycle, search, files, feed and sitemap."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalogue.content import ContentType, Feed
from catalogue.extensions import db
from catalogue.projects import search, services
from catalogue.projects.models import Project, ProjectReport, ProjectStage, project_age_group, project_sphere
from catalogue.search.registry import Dependency, SearchableType
from catalogue.taxonomy.models import AgeGroup, Municipality, Organization, Sphere
from catalogue.workflow import registry as workflow
from catalogue.workflow import services as workflow_services


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
)

CONTENT_TYPES = (PROJECT, REPORT)
