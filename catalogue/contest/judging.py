"""The jury's work: what each juror scores, saving a juror's scores of an entry, and progress."""

from dataclasses import dataclass

from sqlalchemy import and_, case, false, func, not_, select

from catalogue.accounts.models import Role, User
from catalogue.clock import utcnow
from catalogue.contest.models import AgeCategory, Entry, JuryAssignment, Nomination, Review, Score, Season
from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.pagination import FIRST_PAGE, Page, Pager, paginate
from catalogue.permissions import Conflict, InvalidInput, NotFound, PermissionDenied, require_role
from catalogue.workflow.models import Status

MAX_COMMENT = 3000


def is_conflicted(juror: User, entry: Entry) -> bool:
    """A juror never scores an entry from their own organization."""
    return juror.organization_id is not None and juror.organization_id == entry.organization_id


def seasons_of(juror: User) -> list[Season]:
    """Seasons in which ``juror`` sits on a jury, newest first."""
    stmt = (
        select(Season)
        .join(Nomination, Nomination.season_id == Season.id)
        .join(JuryAssignment, JuryAssignment.nomination_id == Nomination.id)
        .where(JuryAssignment.juror_id == juror.id)
        .distinct()
        .order_by(Season.year.desc())
    )
    return list(db.session.scalars(stmt))


@dataclass
class JuryItem:
    entry: Entry
    review: Review | None
    conflict: bool

    @property
    def scored(self) -> bool:
        return self.review is not None


@dataclass
class Progress:
    scored: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.scored / self.total) if self.total else 100


def items_for(juror: User, season: Season) -> list[JuryItem]:
    """The admitted entries of ``juror``'s nominations in ``season``, with their review and conflicts: all of them
    (the demo's scoring; the jury's page reads :func:`jury_page`)."""
    stmt, order, load = _jury_list(juror, season)
    return load(db.session.execute(stmt.order_by(*order)).all())


def _assigned_entries(juror: User, season: Season):
    """The admitted entries of ``juror``'s nominations in ``season``."""
    mine = and_(JuryAssignment.nomination_id == Entry.nomination_id, JuryAssignment.juror_id == juror.id)
    return (
        select(Entry).join(JuryAssignment, mine).where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED)
    )


def _conflicted(juror: User):
    """The SQL of :func:`is_conflicted`."""
    if juror.organization_id is None:
        return false()
    return and_(Entry.organization_id.is_not(None), Entry.organization_id == juror.organization_id)


def _jury_list(juror: User, season: Season):
    """The jury's list: its statement, its order (nomination, category, title) and what makes its rows items."""
    nomination = Nomination.position.label("nomination_position")
    category = AgeCategory.position.label("category_position")
    stmt = (
        _assigned_entries(juror, season)
        .add_columns(nomination, category)
        .join(Nomination, Nomination.id == Entry.nomination_id)
        .join(AgeCategory, AgeCategory.id == Entry.age_category_id)
    )

    def load(rows) -> list[JuryItem]:
        ids = [row.Entry.id for row in rows]
        reviews = {
            r.entry_id: r
            for r in db.session.scalars(select(Review).where(Review.juror_id == juror.id, Review.entry_id.in_(ids)))
        }
        return [JuryItem(row.Entry, reviews.get(row.Entry.id), is_conflicted(juror, row.Entry)) for row in rows]

    return stmt, [nomination, Nomination.id, category, Entry.title, Entry.id], load


def jury_page(juror: User, season: Season, pager: Pager = FIRST_PAGE) -> Page:
    """One page of :func:`items_for` (three queries)."""
    stmt, order, load = _jury_list(juror, season)
    count = _assigned_entries(juror, season).with_only_columns(func.count())
    return paginate(stmt, order, pager, load=load, count=count)


def unscored_first(juror: User, season: Season, limit: int) -> list[JuryItem]:
    """At most ``limit`` of :func:`items_for`, those still to score first, in the jury list's order (two queries)."""
    stmt, order, load = _jury_list(juror, season)
    reviewed = select(Review.id).where(Review.entry_id == Entry.id, Review.juror_id == juror.id).exists()
    done = case((reviewed, 1), (_conflicted(juror), 1), else_=0)
    return load(db.session.execute(stmt.order_by(done, *order).limit(limit)).all())


def assigned_count(juror: User, season: Season) -> int:
    """How many admitted entries ``juror``'s nominations have in ``season``, conflicts included (one query)."""
    return db.session.scalar(_assigned_entries(juror, season).with_only_columns(func.count()))


def progress_for(juror: User, season: Season) -> Progress:
    """How many of the entries ``juror`` may score in ``season`` they have scored (one query)."""
    eligible = _assigned_entries(juror, season).where(not_(_conflicted(juror)))
    reviewed = select(Review.id).where(Review.entry_id == Entry.id, Review.juror_id == juror.id).exists()
    scored, total = db.session.execute(eligible.with_only_columns(func.count(case((reviewed, 1))), func.count())).one()
    return Progress(scored, total)


def entry_for_scoring(juror: User, entry_id: int) -> Entry:
    """An admitted entry of one of ``juror``'s nominations.

    :raise PermissionDenied: not a juror.
    :raise NotFound: no such entry, not admitted, or outside the juror's nominations.
    """
    require_role(juror, Role.JURY)
    entry = db.session.get(Entry, entry_id)
    if entry is None or entry.status != Status.PUBLISHED or not _assigned(juror, entry):
        raise NotFound
    return entry


def _assigned(juror: User, entry: Entry) -> bool:
    stmt = select(JuryAssignment.id).where(
        JuryAssignment.juror_id == juror.id, JuryAssignment.nomination_id == entry.nomination_id
    )
    return db.session.scalar(stmt) is not None


def review_of(juror: User, entry: Entry) -> Review | None:
    return db.session.scalar(select(Review).where(Review.juror_id == juror.id, Review.entry_id == entry.id))


def save_review(juror: User, entry: Entry, scores: dict[int, int | None], comment: str = "") -> Review:
    """Save ``juror``'s score of every criterion of the season, and a comment; all or nothing.

    :raise PermissionDenied: not a juror, not assigned to the entry's nomination, or the entry is from
        the juror's own organization.
    :raise Conflict: the entry is not admitted, or the judging window is not open (scores lock when it closes).
    :raise InvalidInput: a criterion without a score, or a score outside 0..maximum (``field``: ``score-<id>``).
    """
    require_role(juror, Role.JURY)
    if not _assigned(juror, entry):
        raise PermissionDenied("Эта работа не в ваших номинациях.")
    if is_conflicted(juror, entry):
        raise PermissionDenied("Работа из вашей организации: её оценивают другие члены жюри.")
    if entry.status != Status.PUBLISHED:
        raise Conflict("Работа не допущена к конкурсу: оценивать нечего.")
    season = entry.season
    if season.judging_closed():
        raise Conflict(f"Работа жюри завершена {ru_date(season.judging_closes)}: оценки больше не меняются.")
    if not season.is_judging_open():
        raise Conflict(f"Оценки принимаются с {ru_date(season.judging_opens)}.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"Комментарий не длиннее {MAX_COMMENT} символов.", "comment")
    for criterion in season.criteria:
        value = scores.get(criterion.id)
        if value is None:
            raise InvalidInput(f"Поставьте оценку по критерию «{criterion.name}».", f"score-{criterion.id}")
        if not 0 <= value <= criterion.max_score:
            raise InvalidInput(
                f"Оценка по критерию «{criterion.name}» — от 0 до {criterion.max_score}.", f"score-{criterion.id}"
            )
    review = review_of(juror, entry)
    if review is None:
        review = Review(entry=entry, juror_id=juror.id)
        db.session.add(review)
    review.comment = comment
    review.updated_at = utcnow()
    by_criterion = {s.criterion_id: s for s in review.scores}
    for criterion in season.criteria:
        if criterion.id in by_criterion:
            by_criterion[criterion.id].value = scores[criterion.id]
        else:
            review.scores.append(Score(criterion_id=criterion.id, value=scores[criterion.id]))
    db.session.commit()
    return review


@dataclass
class JurorProgress:
    juror: User
    nominations: list[str]
    progress: Progress
    conflicts: int


def jury_progress(actor: User, season: Season) -> list[JurorProgress]:
    """Each juror's progress in ``season`` (administrators).

    :raise PermissionDenied: not an administrator.
    """
    require_role(actor, Role.ADMIN)
    assignments = db.session.scalars(
        select(JuryAssignment).join(Nomination).where(Nomination.season_id == season.id)
    ).all()
    jurors: dict[int, User] = {}
    names: dict[int, list[str]] = {}
    for a in assignments:
        jurors[a.juror_id] = a.juror
        names.setdefault(a.juror_id, []).append(a.nomination.name)
    result = []
    for juror_id, juror in jurors.items():
        conflicts = db.session.scalar(
            _assigned_entries(juror, season).where(_conflicted(juror)).with_only_columns(func.count())
        )
        result.append(JurorProgress(juror, names[juror_id], progress_for(juror, season), conflicts))
    result.sort(key=lambda p: p.juror.full_name)
    return result
