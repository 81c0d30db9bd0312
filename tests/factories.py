"""Content made through the real services, so that permissions, audit and indexing run in tests too."""

import datetime as dt

from sqlalchemy import select

from catalogue.extensions import db
from catalogue.projects import services as projects
from catalogue.projects.models import Project
from catalogue.taxonomy.models import AgeGroup, Sphere
from catalogue.workflow import services as workflow


def project_data(**overrides) -> projects.ProjectData:
    """Valid data for a typical project; ``ages``/``spheres`` take slugs."""
    ages = overrides.pop("ages", ["8-9"])
    sphere_slugs = overrides.pop("spheres", ["energy"])
    data = {
        "title": "Юный энергетик",
        "summary": "Обучающиеся узнают, как работает гидроэлектростанция.",
        "goal": "Познакомить с профессиями энергетики.",
        "format": "group",
        "duration_weeks": 4,
        "expected_results": "Модель турбины.",
        "resources": "Бутылки, моторчик.",
        "age_group_ids": list(db.session.scalars(select(AgeGroup.id).where(AgeGroup.slug.in_(ages)))),
        "sphere_ids": list(db.session.scalars(select(Sphere.id).where(Sphere.slug.in_(sphere_slugs)))),
        "stages": [projects.StageData("Погружение", "Экскурсия"), projects.StageData("Модель", "Сборка")],
    }
    data.update(overrides)
    return projects.ProjectData(**data)


def make_project(author, state: str = "draft", moderator=None, **overrides) -> Project:
    """A project by ``author`` brought to ``state`` (draft, submitted, published) through the workflow.

    Call inside an app context with a request context (URLs of notifications need one).
    """
    project = projects.create_project(db.session.merge(author), project_data(**overrides))
    if state in ("submitted", "published", "changes_requested"):
        workflow.transition(db.session.merge(author), project, "submit")
    if state == "published":
        workflow.transition(db.session.merge(moderator), project, "publish")
    if state == "changes_requested":
        workflow.transition(db.session.merge(moderator), project, "request_changes", "Уточните цель.")
    return project


def report_data(**overrides) -> projects.ReportData:
    data = {
        "class_name": "8 «Б»",
        "grade": 8,
        "started_on": dt.date(2026, 2, 1),
        "finished_on": dt.date(2026, 3, 1),
        "participants": 20,
        "body": "Провели экскурсию и собрали модели.",
        "results": "Шесть моделей.",
    }
    data.update(overrides)
    return projects.ReportData(**data)
