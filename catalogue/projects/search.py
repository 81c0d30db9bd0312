"""Typical projects and their reports in the site's search."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalogue.extensions import db
from catalogue.formatting import plural
from catalogue.markdown import plain_text
from catalogue.projects.models import Project, ProjectReport
from catalogue.search import registry as search
from catalogue.taxonomy.models import AgeGroup


def project_document(project: Project) -> search.SearchDocument:
    organization = project.organization
    parts = [
        plain_text(project.summary),
        plain_text(project.goal),
        *(f"{stage.title}. {plain_text(stage.description)}" for stage in project.stages),
        plain_text(project.expected_results),
        plain_text(project.resources),
        project.format_label,
        " ".join(s.name for s in project.spheres),
    ]
    if organization:
        parts += [organization.name, organization.municipality.name]
    return search.SearchDocument(
        title=project.title,
        text="\n".join(p for p in parts if p),
        age_groups=[g.slug for g in project.age_groups],
        spheres=[s.slug for s in project.spheres],
        municipality=str(organization.municipality_id) if organization else None,
        date=project.published_at,
    )


def project_facts(project: Project) -> list[str]:
    facts = [project.grades_label, project.format_label, plural(project.duration_weeks, "неделя", "недели", "недель")]
    if project.organization:
        facts.append(project.organization.municipality.name)
    return facts


def load_projects(ids: Sequence[int]) -> list[Project]:
    return list(db.session.scalars(select(Project).where(Project.id.in_(ids)).options(selectinload(Project.stages))))


def load_reports(ids: Sequence[int]) -> list[ProjectReport]:
    reports = list(db.session.scalars(select(ProjectReport).where(ProjectReport.id.in_(ids))))
    # A report's age group follows from its grade: one query for the batch, not one per report.
    groups = list(db.session.scalars(select(AgeGroup)))
    for report in reports:
        report.search_age_groups = [g.slug for g in groups if g.includes_grade(report.grade)]
    return reports


def report_document(report: ProjectReport) -> search.SearchDocument:
    organization = report.organization
    parts = [
        plain_text(report.body),
        plain_text(report.results),
        f"{report.grade} класс",
        organization.name,
        organization.municipality.name,
    ]
    return search.SearchDocument(
        title=report.title,
        text="\n".join(p for p in parts if p),
        age_groups=getattr(report, "search_age_groups", []),
        spheres=[s.slug for s in report.project.spheres],
        municipality=str(organization.municipality_id),
        date=report.published_at,
    )


def report_facts(report: ProjectReport) -> list[str]:
    return [
        f"{report.grade} класс",
        plural(report.participants, "участник", "участника", "участников"),
        report.organization.municipality.name,
    ]
