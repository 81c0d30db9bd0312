"""Seasons and their structure (administrators): dates, nominations, age categories, criteria, jury;
and reading them for the public pages.
"""

import datetime as dt
from dataclasses import dataclass

from flask import url_for
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from catalogue.accounts.models import Role, User
from catalogue.contest.models import (
    AgeCategory,
    Criterion,
    Entry,
    JuryAssignment,
    Nomination,
    Phase,
    Review,
    Season,
)
from catalogue.extensions import db
from catalogue.formatting import fold, ru_date
from catalogue.permissions import Conflict, InvalidInput, NotFound, require_role
from catalogue.workflow import services as workflow

MIN_YEAR, MAX_YEAR = 2000, 2100
GRADES = range(1, 12)


# -- reading ------------------------------------------------------------------------------------


def _with_structure(stmt):
    return stmt.options(
        selectinload(Season.nominations), selectinload(Season.age_categories), selectinload(Season.criteria)
    )


def all_seasons(structure: bool = True) -> list[Season]:
    """Every season, newest first; with ``structure`` also their nominations, age categories and criteria."""
    stmt = select(Season).order_by(Season.year.desc())
    return list(db.session.scalars(_with_structure(stmt) if structure else stmt))


def season_by_year(year: int) -> Season:
    """:raise NotFound: no season of that year."""
    season = db.session.scalar(_with_structure(select(Season)).where(Season.year == year))
    if season is None:
        raise NotFound
    return season


def current_season(today: dt.date | None = None, among: list[Season] | None = None) -> Season | None:
    """The season the contest page leads with: the newest that is not archived (announced ones included).

    ``among``: the seasons already loaded (newest first); otherwise they are read, without their structure
    (loaded when used).
    """
    for season in all_seasons(structure=False) if among is None else among:
        if season.phase(today) != Phase.ARCHIVED:
            return season
    return None


def previous_season(season: Season) -> Season | None:
    return db.session.scalar(select(Season).where(Season.year < season.year).order_by(Season.year.desc()).limit(1))


# -- seasons ------------------------------------------------------------------------------------


@dataclass
class SeasonData:
    year: int
    title: str
    rules: str
    submission_opens: dt.date
    submission_closes: dt.date
    judging_opens: dt.date
    judging_closes: dt.date
    results_date: dt.date
    entries_per_nomination: int = 1
    blind_judging: bool = False


def _check_dates(data: SeasonData) -> None:
    if not MIN_YEAR <= data.year <= MAX_YEAR:
        raise InvalidInput(f"Год — от {MIN_YEAR} до {MAX_YEAR}.", "year")
    if data.submission_closes < data.submission_opens:
        raise InvalidInput("Приём работ заканчивается раньше, чем начинается.", "submission_closes")
    if data.judging_opens < data.submission_closes:
        raise InvalidInput("Жюри начинает работу не раньше дня окончания приёма работ.", "judging_opens")
    if data.judging_closes < data.judging_opens:
        raise InvalidInput("Работа жюри заканчивается раньше, чем начинается.", "judging_closes")
    if data.results_date < data.judging_closes:
        raise InvalidInput("Итоги объявляются не раньше окончания работы жюри.", "results_date")
    if not 1 <= data.entries_per_nomination <= 10:
        raise InvalidInput("От 1 до 10 работ одного участника в номинации.", "entries_per_nomination")


def _apply_season(season: Season, data: SeasonData) -> None:
    season.year = data.year
    season.title = " ".join(data.title.split())
    season.rules = (data.rules or "").strip()
    season.submission_opens = data.submission_opens
    season.submission_closes = data.submission_closes
    season.judging_opens = data.judging_opens
    season.judging_closes = data.judging_closes
    season.results_date = data.results_date
    season.entries_per_nomination = data.entries_per_nomination
    season.blind_judging = data.blind_judging


def _commit_season(year: int) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise InvalidInput(f"Сезон {year} года уже есть.", "year") from None


def _year_taken(year: int, season_id: int | None = None) -> bool:
    return db.session.scalar(select(Season.id).where(Season.year == year, Season.id != (season_id or 0))) is not None


def create_season(actor: User, data: SeasonData) -> Season:
    """An administrator announces a season.

    :raise PermissionDenied: not an administrator.
    :raise InvalidInput: the year is taken or the dates are out of order.
    """
    require_role(actor, Role.ADMIN)
    _check_dates(data)
    if _year_taken(data.year):
        raise InvalidInput(f"Сезон {data.year} года уже есть.", "year")
    season = Season()
    _apply_season(season, data)
    db.session.add(season)
    _commit_season(data.year)
    return season


def update_season(actor: User, season: Season, data: SeasonData) -> Season:
    """:raise PermissionDenied: not an administrator. :raise InvalidInput: as for :func:`create_season`."""
    require_role(actor, Role.ADMIN)
    _check_dates(data)
    if _year_taken(data.year, season.id):
        raise InvalidInput(f"Сезон {data.year} года уже есть.", "year")
    # The authors' names and schools leave (or return to) the search index with the blind flag in the same
    # transaction: the entries depend on it (``contest/content.py``), so the unit of work writes their outbox rows.
    _apply_season(season, data)
    _commit_season(data.year)
    return season


def _shift_year(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def copy_season(actor: User, source: Season, year: int) -> Season:
    """A new season of ``year`` like ``source``: rules, dates moved by the years between, nominations,
    age categories, criteria and jury.

    :raise PermissionDenied: not an administrator.
    :raise InvalidInput: a season of ``year`` exists.
    """
    require_role(actor, Role.ADMIN)
    if _year_taken(year):
        raise InvalidInput(f"Сезон {year} года уже есть.", "year")
    years = year - source.year
    title = source.title.replace(str(source.year), str(year))
    if title == source.title:
        title = f"{source.title} ({year})"
    season = Season(
        year=year,
        title=title,
        rules=source.rules,
        submission_opens=_shift_year(source.submission_opens, years),
        submission_closes=_shift_year(source.submission_closes, years),
        judging_opens=_shift_year(source.judging_opens, years),
        judging_closes=_shift_year(source.judging_closes, years),
        results_date=_shift_year(source.results_date, years),
        entries_per_nomination=source.entries_per_nomination,
        blind_judging=source.blind_judging,
    )
    new_nominations = {}
    for n in source.nominations:
        new_nominations[n.id] = Nomination(name=n.name, description=n.description, position=n.position)
        season.nominations.append(new_nominations[n.id])
    season.age_categories = [
        AgeCategory(name=c.name, grade_from=c.grade_from, grade_to=c.grade_to, position=c.position)
        for c in source.age_categories
    ]
    season.criteria = [
        Criterion(name=c.name, description=c.description, max_score=c.max_score, weight=c.weight, position=c.position)
        for c in source.criteria
    ]
    db.session.add(season)
    db.session.flush()
    for assignment in jury_of(source):
        if assignment.juror.active:
            db.session.add(JuryAssignment(nomination=new_nominations[assignment.nomination_id], juror=assignment.juror))
    _commit_season(year)
    return season


# -- nominations, age categories, criteria ------------------------------------------------------


@dataclass
class NominationData:
    name: str
    description: str = ""


@dataclass
class AgeCategoryData:
    name: str
    grade_from: int
    grade_to: int


@dataclass
class CriterionData:
    name: str
    max_score: int
    weight: float
    description: str = ""


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput("Укажите название.", "name")
    return name


def _name_taken(rows, row, name: str) -> bool:
    return any(other is not row and fold(other.name) == fold(name) for other in rows)


def _has_entries(column, value: int) -> bool:
    return db.session.scalar(select(exists().where(column == value)))


def _has_reviews(season: Season) -> bool:
    return db.session.scalar(select(exists().where(Review.entry_id == Entry.id, Entry.season_id == season.id)))


def _next_position(rows) -> int:
    return max((r.position for r in rows), default=0) + 1


def save_nomination(actor: User, season: Season, nomination: Nomination | None, data: NominationData) -> Nomination:
    """Add (``nomination`` None) or edit a nomination. :raise InvalidInput: no name, or the name is taken."""
    require_role(actor, Role.ADMIN)
    name = _clean_name(data.name)
    if _name_taken(season.nominations, nomination, name):
        raise InvalidInput(f"Номинация «{name}» уже есть.", "name")
    if nomination is None:
        nomination = Nomination(season=season, position=_next_position(season.nominations))
        db.session.add(nomination)
    nomination.name = name
    nomination.description = (data.description or "").strip()
    db.session.commit()
    return nomination


def save_age_category(actor: User, season: Season, category: AgeCategory | None, data: AgeCategoryData) -> AgeCategory:
    """Add or edit an age category; grade bands of a season must not overlap.

    :raise InvalidInput: no name, a taken name, grades out of order or overlapping another category,
        or narrowing a category that already has entries of the grades left out.
    """
    require_role(actor, Role.ADMIN)
    name = _clean_name(data.name)
    if _name_taken(season.age_categories, category, name):
        raise InvalidInput(f"Категория «{name}» уже есть.", "name")
    if not (data.grade_from in GRADES and data.grade_to in GRADES and data.grade_from <= data.grade_to):
        raise InvalidInput("Классы указаны неверно: «с» не больше «по», от 1 до 11.", "grade_to")
    for other in season.age_categories:
        if other is not category and other.grade_from <= data.grade_to and data.grade_from <= other.grade_to:
            raise InvalidInput(f"Классы пересекаются с категорией «{other.name}».", "grade_from")
    if category is not None:
        outside = db.session.scalar(
            select(func.count(Entry.id)).where(
                Entry.age_category_id == category.id, ~Entry.grade.between(data.grade_from, data.grade_to)
            )
        )
        if outside:
            raise InvalidInput("В категории уже есть работы обучающихся других классов.", "grade_from")
    if category is None:
        category = AgeCategory(season=season, position=_next_position(season.age_categories))
        db.session.add(category)
    category.name = name
    category.grade_from, category.grade_to = data.grade_from, data.grade_to
    db.session.commit()
    return category


def save_criterion(actor: User, season: Season, criterion: Criterion | None, data: CriterionData) -> Criterion:
    """Add or edit a criterion; they are fixed once the jury has started scoring.

    :raise InvalidInput: no name, a taken name, a maximum not in 1..100 or a weight not in (0, 10].
    :raise Conflict: the jury has already scored entries of this season.
    """
    require_role(actor, Role.ADMIN)
    name = _clean_name(data.name)
    if _name_taken(season.criteria, criterion, name):
        raise InvalidInput(f"Критерий «{name}» уже есть.", "name")
    if not 1 <= data.max_score <= 100:
        raise InvalidInput("Максимальный балл — от 1 до 100.", "max_score")
    if not 0 < data.weight <= 10:
        raise InvalidInput("Вес — больше 0 и не больше 10.", "weight")
    if _has_reviews(season):
        raise Conflict("Критерии нельзя менять: жюри уже выставляет оценки.")
    if criterion is None:
        criterion = Criterion(season=season, position=_next_position(season.criteria))
        db.session.add(criterion)
    criterion.name = name
    criterion.description = (data.description or "").strip()
    criterion.max_score = data.max_score
    criterion.weight = round(float(data.weight), 3)
    db.session.commit()
    return criterion


def delete_part(actor: User, season: Season, part) -> None:
    """Remove a nomination, an age category or a criterion.

    :raise Conflict: it has entries (nominations, categories) or the jury has started scoring (criteria).
    """
    require_role(actor, Role.ADMIN)
    if isinstance(part, Nomination) and _has_entries(Entry.nomination_id, part.id):
        raise Conflict(f"В номинации «{part.name}» уже есть работы: её нельзя удалить.")
    if isinstance(part, AgeCategory) and _has_entries(Entry.age_category_id, part.id):
        raise Conflict(f"В категории «{part.name}» уже есть работы: её нельзя удалить.")
    if isinstance(part, Criterion) and _has_reviews(season):
        raise Conflict("Критерии нельзя менять: жюри уже выставляет оценки.")
    db.session.delete(part)
    db.session.commit()
    db.session.refresh(season)


def part_of(season: Season, model: type, part_id: int):
    """:raise NotFound: no such nomination, category or criterion in ``season``."""
    part = db.session.get(model, part_id)
    if part is None or part.season_id != season.id:
        raise NotFound
    return part


def move_part(actor: User, season: Season, part, offset: int) -> None:
    """Move a nomination, category or criterion up (-1) or down (+1) in its list."""
    require_role(actor, Role.ADMIN)
    rows = {
        Nomination: season.nominations,
        AgeCategory: season.age_categories,
        Criterion: season.criteria,
    }[type(part)]
    rows = list(rows)
    index = rows.index(part)
    target = index + offset
    if 0 <= target < len(rows):
        rows[index], rows[target] = rows[target], rows[index]
        for position, row in enumerate(rows, start=1):
            row.position = position
        db.session.commit()
        db.session.refresh(season)


# -- jury ---------------------------------------------------------------------------------------


def jurors() -> list[User]:
    """Active people with the jury role, by name."""
    rows = db.session.scalars(select(User).where(User.active, User.role_rows.any(role=Role.JURY)))
    return sorted(rows, key=lambda u: fold(u.full_name))


def jury_of(season: Season) -> list[JuryAssignment]:
    return list(
        db.session.scalars(
            select(JuryAssignment)
            .join(Nomination)
            .where(Nomination.season_id == season.id)
            .order_by(Nomination.position, Nomination.id, JuryAssignment.id)
        )
    )


def assign_juror(actor: User, season: Season, nomination_id: int, juror_id: int) -> JuryAssignment:
    """:raise InvalidInput: the nomination is not the season's, the person is not a juror, or already assigned."""
    require_role(actor, Role.ADMIN)
    nomination = db.session.get(Nomination, nomination_id) if nomination_id is not None else None
    if nomination is None or nomination.season_id != season.id:
        raise InvalidInput("Выберите номинацию этого сезона.", "nomination_id")
    juror = db.session.get(User, juror_id) if juror_id is not None else None
    if juror is None or not juror.active or not juror.has_role(Role.JURY):
        raise InvalidInput("Выберите члена жюри из списка.", "juror_id")
    taken = select(JuryAssignment.id).where(
        JuryAssignment.nomination_id == nomination.id, JuryAssignment.juror_id == juror.id
    )
    if db.session.scalar(taken) is not None:
        raise InvalidInput(f"{juror.full_name} уже в жюри номинации «{nomination.name}».", "juror_id")
    assignment = JuryAssignment(nomination=nomination, juror=juror)
    db.session.add(assignment)
    text = (
        f"Вы в жюри конкурса «{season.title}», номинация «{nomination.name}». "
        f"Оценивание работ: с {ru_date(season.judging_opens)} по {ru_date(season.judging_closes)}."
    )
    url = url_for("contest.jury_index", year=season.year)
    workflow.notify(juror, text, url)
    workflow.send_letters([(juror, text, url)], "вы в жюри конкурса")
    db.session.commit()
    return assignment


def unassign_juror(actor: User, season: Season, assignment_id: int) -> None:
    """Remove a juror from a nomination; their scores there go with them.

    :raise NotFound: no such assignment in ``season``.
    """
    require_role(actor, Role.ADMIN)
    assignment = db.session.get(JuryAssignment, assignment_id)
    if assignment is None or assignment.nomination.season_id != season.id:
        raise NotFound
    reviews = (
        select(Review)
        .join(Entry)
        .where(Review.juror_id == assignment.juror_id, Entry.nomination_id == assignment.nomination_id)
    )
    for review in db.session.scalars(reviews):
        db.session.delete(review)
    db.session.delete(assignment)
    db.session.commit()
