"""What each role's section of the start page shows. Every section is a few bounded queries (grouped counts
and at most ``ROWS`` rows), never one per row."""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal, select, union_all

from catalogue.accounts import supervision
from catalogue.accounts.models import SupervisionStatus, User, UserRole
from catalogue.contest import judging, seasons
from catalogue.contest.models import Entry, Phase, Season
from catalogue.extensions import db
from catalogue.practices.models import Practice
from catalogue.projects.models import Project, ProjectReport, ProjectRun
from catalogue.roles import Role
from catalogue.taxonomy.models import Organization
from catalogue.workflow import registry
from catalogue.workflow.models import Status

ROWS = 10  # the most rows a section lists; «все» leads to the full list


@dataclass
class Rows:
    """At most ``ROWS`` items of a list and how many there are in all."""

    items: list[Any] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> bool:
        return self.total > len(self.items)


def _rows(stmt, *order) -> Rows:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.session.scalars(stmt.order_by(*order).limit(ROWS)).unique()) if total else []
    return Rows(items, total)


# -- moderator ---------------------------------------------------------------------------------------


@dataclass
class QueueCount:
    key: str
    label: str
    count: int


def queue_counts() -> list[QueueCount]:
    """How many items of each type wait for review: one grouped query over all types."""
    types = registry.all_types()
    waiting = union_all(
        *(select(literal(t.key).label("key")).where(t.model.status == Status.SUBMITTED) for t in types)
    ).subquery()
    counts = {key: n for key, n in db.session.execute(select(waiting.c.key, func.count()).group_by(waiting.c.key))}
    return [QueueCount(t.key, t.label, counts.get(t.key, 0)) for t in types]


# -- juror -------------------------------------------------------------------------------------------


@dataclass
class JurySection:
    season: Season | None
    items: list[judging.JuryItem]  # at most ``ROWS``, the unscored first
    progress: judging.Progress
    total: int  # every entry of the juror's nominations, conflicts included

    @property
    def shown(self) -> list[judging.JuryItem]:
        return self.items

    @property
    def next_item(self) -> judging.JuryItem | None:
        return next((i for i in self.items if not i.scored and not i.conflict), None)


def jury_section(juror: User) -> JurySection:
    """The newest season the juror sits on: their first entries (unscored first), progress, the next to score.

    Bounded: the seasons, the progress counts and one short page, however many entries the season has.
    """
    mine = judging.seasons_of(juror)
    if not mine:
        return JurySection(None, [], judging.Progress(0, 0), 0)
    season = mine[0]
    items = judging.unscored_first(juror, season, ROWS)
    return JurySection(season, items, judging.progress_for(juror, season), judging.assigned_count(juror, season))


# -- student -----------------------------------------------------------------------------------------


@dataclass
class StudentSection:
    entries: Rows
    open_season: Season | None
    supervision_requests: int  # teachers who asked to supervise and wait for an answer


def open_season(today: dt.date | None = None) -> Season | None:
    """The season that takes entries now (or has announced it will), if any."""
    season = seasons.current_season(today)
    return season if season and season.phase(today) in (Phase.ANNOUNCED, Phase.ACCEPTING) else None


def student_section(student: User) -> StudentSection:
    stmt = select(Entry).join(Season, Entry.season_id == Season.id).where(Entry.author_id == student.id)
    requests = sum(1 for s in supervision.of_student(student) if s.state == SupervisionStatus.PENDING)
    return StudentSection(
        _rows(stmt, Season.year.desc(), Entry.updated_at.desc(), Entry.id.desc()), open_season(), requests
    )


# -- teacher -----------------------------------------------------------------------------------------

# What still needs the author: drafts and items returned for changes come first.
_NEEDS_AUTHOR = (Status.DRAFT, Status.CHANGES_REQUESTED)


def _own(model, author: User, *options) -> Rows:
    needs_author = model.status.in_([str(s) for s in _NEEDS_AUTHOR])
    stmt = select(model).where(model.author_id == author.id).options(*options)
    return _rows(stmt, needs_author.desc(), model.updated_at.desc(), model.id.desc())


@dataclass
class TeacherSection:
    runs: Rows  # classes running projects: those due a report first
    projects: Rows
    reports: Rows
    practices: Rows


def teacher_section(teacher: User) -> TeacherSection:
    runs = select(ProjectRun).where(ProjectRun.teacher_id == teacher.id)
    return TeacherSection(
        runs=_rows(runs, ProjectRun.report_id.is_(None).desc(), ProjectRun.due_on, ProjectRun.id),
        projects=_own(Project, teacher),
        reports=_own(ProjectReport, teacher),
        practices=_own(Practice, teacher),
    )


# -- admin -------------------------------------------------------------------------------------------


@dataclass
class AdminSection:
    unverified_teachers: Rows
    pending_organizations: Rows
    seasons: list[Season]


def admin_section() -> AdminSection:
    teachers = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == str(Role.TEACHER), User.verified_at.is_(None), User.active.is_(True))
    )
    organizations = select(Organization).where(Organization.confirmed.is_(False))
    return AdminSection(
        unverified_teachers=_rows(teachers, User.created_at, User.id),
        pending_organizations=_rows(organizations, Organization.id),
        seasons=seasons.all_seasons(structure=False)[:ROWS],
    )
