"""Loading the demo typical projects through the same services people use."""

import datetime as dt

from sqlalchemy import select

from catalogue.accounts.models import Role, User
from catalogue.clock import local_today
from catalogue.demo import advance
from catalogue.demo.projects_data import PROJECTS, REPORTS
from catalogue.extensions import db
from catalogue.projects import runs, services
from catalogue.projects.models import Project, ProjectReport, ProjectRun
from catalogue.taxonomy.models import AgeGroup, Sphere


def _moderator() -> User:
    return db.session.scalar(select(User).where(User.role_rows.any(role=Role.MODERATOR)).order_by(User.id))


def seed_projects() -> int:
    """Add the demo projects and reports that are missing; returns how many items were added."""
    users = {u.email: u for u in db.session.scalars(select(User))}
    moderator = _moderator()
    groups = {g.slug: g.id for g in db.session.scalars(select(AgeGroup))}
    spheres = {s.slug: s.id for s in db.session.scalars(select(Sphere))}
    have = set(db.session.scalars(select(Project.title)))
    added = 0
    for spec in PROJECTS:
        if spec["title"] in have:
            continue
        author = users[spec["author"]]
        project = services.create_project(
            author,
            services.ProjectData(
                title=spec["title"],
                summary=spec["summary"],
                goal=spec["goal"],
                format=spec["format"],
                duration_weeks=spec["weeks"],
                expected_results=spec["results"],
                resources=spec["resources"],
                age_group_ids=[groups[a] for a in spec["ages"]],
                sphere_ids=[spheres[s] for s in spec["spheres"]],
                stages=[services.StageData(t, d) for t, d in spec["stages"]],
            ),
        )
        advance(author, moderator, project, spec["state"])
        added += 1

    projects = {p.title: p for p in db.session.scalars(select(Project))}
    reported = {(r.project_id, r.class_name) for r in db.session.scalars(select(ProjectReport))}
    for title, email, class_name, grade, (start, end), participants, body, results in REPORTS:
        project = projects[title]
        if (project.id, class_name) in reported or not project.is_published:
            continue
        author = users[email]
        report = services.create_report(
            author,
            project,
            services.ReportData(
                class_name=class_name,
                grade=grade,
                started_on=dt.date.fromisoformat(start),
                finished_on=dt.date.fromisoformat(end),
                participants=participants,
                body=body,
                results=results,
            ),
        )
        advance(author, moderator, report, "published")
        added += 1

    # Classes running projects («Взять в работу»), started so many days ago: one is due its report.
    running = {(r.project_id, r.teacher_id, r.class_label) for r in db.session.scalars(select(ProjectRun))}
    for title, email, class_label, grade, days_ago in RUNS:
        project, teacher = projects.get(title), users.get(email)
        if project is None or teacher is None or (project.id, teacher.id, class_label) in running:
            continue
        started = local_today() - dt.timedelta(days=days_ago)
        runs.take_into_class(teacher, project, runs.RunData(class_label, grade, started, 25))
        added += 1
    return added


RUNS = [
    ("Юный энергетик: как работает ГЭС на Ангаре", "teacher@demo.example", "6Б", 6, 40),
    ("Лес, который нас кормит: профессии лесной отрасли", "teacher@demo.example", "7А", 7, 10),
    ("Юный энергетик: как работает ГЭС на Ангаре", "teacher2@demo.example", "7В", 7, 14),
    ("Байкал под микроскопом", "teacher2@demo.example", "8А", 8, 7),
]
