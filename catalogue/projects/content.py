"""Typical projects and their reports as content types: lifecycle, search, files, feed and sitemap."""

from flask import url_for
from sqlalchemy.orm import selectinload

from catalogue.content import ContentType, Feed
from catalogue.extensions import db
from catalogue.projects import search, services
from catalogue.projects.models import Project, ProjectReport
from catalogue.search.outbox import enqueue
from catalogue.search.registry import SearchableType
from catalogue.taxonomy.models import AgeGroup, Organization
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
        on_change=[lambda p: enqueue("project", p.id)],
        after_delete=lambda: url_for("projects.mine"),
    ),
    search=SearchableType(to_document=search.project_document, load=search.load_projects, facts=search.project_facts),
    files=_readable(Project),
    feed=Feed(
        name="projects",
        title="Типовые проекты — Профориентация Приангарья",
        subtitle="Новые типовые проекты обучающихся по возрастным группам и профессиональным сферам.",
        home_endpoint="projects.index",
        entries=services.feed_entries,
    ),
    sitemap=services.project_sitemap,
)

REPORT = ContentType(
    key="report",
    model=ProjectReport,
    workflow=workflow.ContentType(
        label="Материалы проекта",
        url=lambda r: url_for("projects.report", report_id=r.id),
        preview_template="projects/_report_preview.html",
        describe=lambda r: f"{r.organization.name}, {r.class_name}",
        filter_age_group=_report_age_filter,
        filter_municipality=lambda stmt, mid: stmt.where(
            ProjectReport.organization.has(Organization.municipality_id == mid)
        ),
        on_change=[lambda r: enqueue("report", r.id)],
        after_delete=lambda: url_for("projects.mine"),
    ),
    search=SearchableType(to_document=search.report_document, load=search.load_reports, facts=search.report_facts),
    files=_readable(ProjectReport),
    sitemap=services.report_sitemap,
)

CONTENT_TYPES = (PROJECT, REPORT)
