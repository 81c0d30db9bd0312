"""«Взять в работу»: the classes that run a published project, their counts, the teachers' reminders to report.

A run belongs to its teacher: only they see, edit or delete it. The public sees counts alone («Проводят 3 класса
в 2 муниципалитетах»), one grouped query; the table is public content for the page cache (its changes bump the
content generation like any other, :mod:`catalogue.page_cache`).
"""

import datetime as dt
from dataclasses import dataclass

import click
from flask import current_app, url_for
from flask.cli import AppGroup
from sqlalchemy import distinct, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from catalogue.accounts.models import Role, User
from catalogue.clock import local_today, utcnow
from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.pagination import FIRST_PAGE, Page, Pager, paginate
from catalogue.permissions import InvalidInput, NotFound, PermissionDenied
from catalogue.projects.models import Project, ProjectReport, ProjectRun, class_key
from catalogue.unit_of_work import rolled_back_on_error
from catalogue.workflow import services as workflow

GRADES = range(6, 12)
MAX_CLASSES = 15  # of one teacher on one project: the public count is not a teacher's to inflate
REMIND_BATCH = 200  # runs reminded per transaction


@dataclass
class RunData:
    class_label: str
    grade: int
    started_on: dt.date
    pupils: int | None = None


@dataclass(frozen=True)
class RunCounts:
    classes: int
    municipalities: int


def may_run(actor) -> bool:
    """Whether ``actor`` may take projects into class: a teacher (the form asks for their school)."""
    return bool(actor.is_authenticated and actor.is_active and actor.has_role(Role.TEACHER))


def _ensure_teacher(actor) -> None:
    if not may_run(actor):
        raise PermissionDenied
    if actor.organization_id is None:
        raise InvalidInput("Укажите свою школу в профиле: класс записывается за школой.")


def default_grade(project: Project) -> int | None:
    """The grade the project is meant for: the first grade of its youngest age group (as the report form has it)."""
    return min((g.grade_from for g in project.age_groups), default=None)


def _apply(run: ProjectRun, project: Project, data: RunData) -> None:
    label = " ".join(data.class_label.split())
    if not class_key(label):
        raise InvalidInput("Укажите класс, например «7Б».", "class_label")
    if data.grade not in GRADES:
        raise InvalidInput("Выберите параллель с 6 по 11 класс.", "grade")
    if data.started_on != run.started_on:
        run.reminded_at = None  # a new due date gets its own reminder
    run.class_label = label
    run.class_key = class_key(label)
    run.grade = data.grade
    run.started_on = data.started_on
    run.due_on = data.started_on + dt.timedelta(weeks=project.duration_weeks)
    run.pupils = data.pupils


def _same_class(run: ProjectRun) -> ProjectRun | None:
    return db.session.scalar(
        select(ProjectRun).where(
            ProjectRun.project_id == run.project_id,
            ProjectRun.organization_id == run.organization_id,
            ProjectRun.class_key == run.class_key,
            ProjectRun.id != run.id if run.id else True,
        )
    )


def _duplicate_message(other: ProjectRun) -> str:
    return (
        f"Класс {other.class_label} вашей школы уже проводит этот проект (с {ru_date(other.started_on)}). "
        "Если это другой класс, укажите его букву или название."
    )


def _save(run: ProjectRun) -> ProjectRun:
    with db.session.no_autoflush:
        other = _same_class(run)
    if other is not None:
        db.session.rollback()
        raise InvalidInput(_duplicate_message(other), "class_label")
    try:
        db.session.commit()
    except IntegrityError:  # the same class recorded at the same moment by a colleague
        db.session.rollback()
        raise InvalidInput("Этот класс вашей школы уже проводит этот проект.", "class_label") from None
    return run


def take_into_class(actor: User, project: Project, data: RunData) -> ProjectRun:
    """A teacher records that a class of their school runs a published project.

    :raise PermissionDenied: not a teacher. :raise NotFound: the project is not published.
    :raise InvalidInput: no school in the profile, no class, a grade out of 6–11, the class runs it already,
        or the teacher has recorded ``MAX_CLASSES`` classes of it.
    """
    _ensure_teacher(actor)
    if not project.is_published:
        raise NotFound
    classes = select(func.count(ProjectRun.id)).where(
        ProjectRun.project_id == project.id, ProjectRun.teacher_id == actor.id
    )
    if db.session.scalar(classes) >= MAX_CLASSES:
        raise InvalidInput(f"Один педагог может записать на проект не больше {MAX_CLASSES} классов.")
    organization = actor.organization
    run = ProjectRun(
        project=project,
        project_id=project.id,
        teacher_id=actor.id,
        organization_id=organization.id,
        municipality_id=organization.municipality_id,
    )
    _apply(run, project, data)
    db.session.add(run)
    return _save(run)


def get_own_run(actor, run_id: int) -> ProjectRun:
    """:raise NotFound: no such run, or somebody else's (nobody else may know which classes a teacher has)."""
    run = db.session.get(ProjectRun, run_id)
    if run is None or not actor.is_authenticated or run.teacher_id != actor.id:
        raise NotFound
    return run


def update_run(actor: User, run: ProjectRun, data: RunData) -> ProjectRun:
    """:raise NotFound: not the teacher's own run. :raise InvalidInput: as :func:`take_into_class`."""
    if run.teacher_id != actor.id:
        raise NotFound
    with rolled_back_on_error():
        _apply(run, run.project, data)
    return _save(run)


def delete_run(actor: User, run: ProjectRun) -> None:
    """The teacher removes their record (a report linked to it stays)."""
    if run.teacher_id != actor.id:
        raise NotFound
    db.session.delete(run)
    db.session.commit()


def run_counts(project_id: int) -> RunCounts:
    """How many classes run the project, in how many municipalities: one grouped query."""
    classes, municipalities = db.session.execute(
        select(func.count(ProjectRun.id), func.count(distinct(ProjectRun.municipality_id))).where(
            ProjectRun.project_id == project_id
        )
    ).one()
    return RunCounts(classes, municipalities)


def runs_of(actor: User, pager: Pager = FIRST_PAGE) -> Page:
    """One page of the teacher's runs, the latest started first (project and report joined: no query per row)."""
    stmt = (
        select(ProjectRun)
        .where(ProjectRun.teacher_id == actor.id)
        .options(lazyload(ProjectRun.teacher), lazyload(ProjectRun.project, Project.author))
    )
    return paginate(stmt, [ProjectRun.started_on.desc(), ProjectRun.id.desc()], pager)


def open_runs(actor: User, project: Project) -> list[ProjectRun]:
    """The teacher's runs of ``project`` that no report is linked to yet (a class has a handful at most)."""
    return list(
        db.session.scalars(
            select(ProjectRun)
            .where(
                ProjectRun.teacher_id == actor.id,
                ProjectRun.project_id == project.id,
                ProjectRun.report_id.is_(None),
            )
            .order_by(ProjectRun.started_on, ProjectRun.id)
        )
    )


def run_of_report(report: ProjectReport) -> ProjectRun | None:
    return db.session.scalar(select(ProjectRun).where(ProjectRun.report_id == report.id))


def link_report(actor: User, run_id: int, report: ProjectReport) -> None:
    """Link a new report to the teacher's run of the same project (the caller commits).

    :raise InvalidInput: not the teacher's open run of this project.
    """
    run = db.session.get(ProjectRun, run_id)
    if run is None or run.teacher_id != actor.id or run.project_id != report.project_id or run.report_id:
        raise InvalidInput("Выберите один из своих классов, которые проводят этот проект.", "run_id")
    run.report_id = report.id


def report_url(run: ProjectRun) -> str:
    return url_for("projects.report_create", project_id=run.project_id, run=run.id)


# -- reminders ---------------------------------------------------------------------------------------


def _due(today: dt.date):
    return (
        select(ProjectRun)
        .join(User, User.id == ProjectRun.teacher_id)
        .where(
            ProjectRun.reminded_at.is_(None),
            ProjectRun.report_id.is_(None),
            ProjectRun.due_on <= today,
            User.active.is_(True),
        )
        .order_by(ProjectRun.id)
        .limit(REMIND_BATCH)
    )


def remind_due(today: dt.date | None = None) -> int:
    """Remind each teacher, once, of every run whose duration has passed with no report linked: a notice in the
    site and a letter. Returns how many were sent.

    Each batch is one transaction: its runs are marked by one guarded ``UPDATE … RETURNING`` (what a second process
    marked meanwhile is left out) in the transaction that adds their notices, and letters go after the commit.
    Interrupted, it resends nothing; run again, it continues with what is left.
    """
    today = today or local_today()
    sent = 0
    while runs := list(db.session.scalars(_due(today))):
        claimed = set(
            db.session.scalars(
                update(ProjectRun)
                .where(ProjectRun.id.in_([run.id for run in runs]), ProjectRun.reminded_at.is_(None))
                .values(reminded_at=utcnow())
                .returning(ProjectRun.id)
                .execution_options(synchronize_session=False)
            )
        )
        letters = []
        for run in runs:
            if run.id not in claimed:  # another process reminded of it meanwhile
                continue
            text = (
                f"Срок проекта «{run.project.title}» в классе {run.class_label} прошёл ({ru_date(run.due_on)}). "
                "Пора отправить отчёт о проведении."
            )
            url = report_url(run)
            workflow.notify(run.teacher, text, url)
            letters.append((run.teacher, text, url))
        workflow.send_letters(letters, "пора отчитаться о проекте")
        db.session.commit()
        db.session.expire_all()
        sent += len(letters)
    return sent


# -- the command line --------------------------------------------------------------------------------

runs_cli = AppGroup("runs", help="Классы, которые проводят типовые проекты.")


@runs_cli.command("remind")
def remind_command() -> None:
    """Remind teachers of the runs whose duration has passed without a report (daily; idempotent)."""
    # Notices link to pages: URLs need a request context on the command line (a writing one: BEGIN IMMEDIATE).
    with current_app.test_request_context("/", method="POST"):
        sent = remind_due()
    click.echo(f"Напоминаний отправлено: {sent}.")
