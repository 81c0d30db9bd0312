"""Results: weighted totals, the ranking per nomination and age category, awards, publication."""

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import Float, Integer, Numeric, and_, case, cast, func, literal, select, tuple_, type_coerce, update

from catalogue.accounts.models import Role, User
from catalogue.clock import utcnow
from catalogue.content import FeedEntry, Sitemap, SitemapRows
from catalogue.contest import collection
from catalogue.contest import entries as entry_service
from catalogue.contest.models import AgeCategory, Award, Entry, Nomination, Review, Score, Season
from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.forms import MAX_ID, bounded_int
from catalogue.pagination import NUMBERED_PAGES, PER_PAGE, Page, Pager, paginate
from catalogue.permissions import Conflict, InvalidInput, require_role
from catalogue.urls import external_url
from catalogue.workflow import services as workflow
from catalogue.workflow.models import Status

# Shown on the results pages: how places are decided.
TIE_RULE = (
    "Места в каждой номинации и возрастной категории определяются по итоговому баллу — сумме средних оценок "
    "жюри по критериям, умноженных на веса критериев. При равенстве выше та работа, у которой выше средняя "
    "оценка по первому критерию; при равенстве и по нему — работа, отправленная на конкурс раньше."
)
PRIZE_PLACES = 3  # 1st place: winner; 2nd and 3rd: prize-winners; the rest: participants
PODIUM = 10  # the most winners and prize-winners of a group on the results' first page (the rest: its own pages)


@dataclass
class Standing:
    entry: Entry
    total: float | None  # None: no juror has scored it
    criterion_means: dict[int, float]
    reviews: int
    place: int | None = None
    proposed: Award = Award.PARTICIPANT

    @property
    def display_total(self) -> str:
        return "—" if self.total is None else f"{self.total:.2f}".replace(".", ",")


@dataclass
class Group:
    nomination: Nomination
    category: AgeCategory
    standings: list[Standing] = field(default_factory=list)


def _scored(season: Season, groups: list[tuple[int, int]] | None = None):
    """A subquery of the season's admitted entries: each with its total, the jury's reviews, its place and the mean
    of every criterion (``mean_<id>``), and its group's order (``nomination_position``, ``category_position``).
    ``groups`` (nomination, age category) limits it to those groups; places are the same, being ranked per group.

    The database computes it all (:data:`TIE_RULE`), so the ranking can be read a few rows at a time and confirmed
    by one UPDATE. Totals are rounded to 6 decimals before comparing, so that equal sums of floats tie.
    """
    criteria = list(season.criteria)
    among = [] if groups is None else [tuple_(Entry.nomination_id, Entry.age_category_id).in_(groups)]
    means = (
        select(Review.entry_id, Score.criterion_id, func.avg(Score.value).label("mean"))
        .join(Score, Score.review_id == Review.id)
        .join(Entry, Entry.id == Review.entry_id)
        .where(Entry.season_id == season.id, *among)
        .group_by(Review.entry_id, Score.criterion_id)
        .subquery()
    )
    counts = (
        select(Review.entry_id, func.count(Review.id).label("reviews"))
        .join(Entry, Entry.id == Review.entry_id)
        .where(Entry.season_id == season.id, *among)
        .group_by(Review.entry_id)
        .subquery()
    )
    reviews = func.coalesce(counts.c.reviews, 0)
    per_criterion = {c.id: means.alias(f"mean_{c.id}") for c in criteria}
    weighted = [literal(float(c.weight)) * per_criterion[c.id].c.mean for c in criteria]
    total = case(
        (
            and_(reviews > 0, *[m.c.mean.is_not(None) for m in per_criterion.values()]),
            cast(func.round(cast(sum(weighted[1:], weighted[0]) if weighted else literal(0.0), Numeric), 6), Float),
        ),
        else_=None,
    )
    first = per_criterion[criteria[0].id].c.mean if criteria else literal(0.0)
    order = (
        case((total.is_(None), 1), else_=0),
        total.desc(),
        func.coalesce(first, 0.0).desc(),
        func.coalesce(Entry.submitted_at, Entry.created_at),
        Entry.id,
    )
    scored = (
        select(
            Entry.id.label("entry_id"),
            total.label("total"),
            reviews.label("reviews"),
            type_coerce(  # an int, also as a page's key (catalogue/pagination.py)
                func.row_number().over(partition_by=(Entry.nomination_id, Entry.age_category_id), order_by=order),
                Integer,
            ).label("place"),
            Nomination.position.label("nomination_position"),
            Entry.nomination_id.label("nomination_id"),
            AgeCategory.position.label("category_position"),
            Entry.age_category_id.label("age_category_id"),
            *[cast(m.c.mean, Float).label(m.name) for m in per_criterion.values()],
        )
        .select_from(Entry)
        .join(Nomination, Nomination.id == Entry.nomination_id)
        .join(AgeCategory, AgeCategory.id == Entry.age_category_id)
        .outerjoin(counts, counts.c.entry_id == Entry.id)
        .where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED, *among)
    )
    for criterion_id, m in per_criterion.items():
        scored = scored.outerjoin(m, and_(m.c.entry_id == Entry.id, m.c.criterion_id == criterion_id))
    return scored.subquery()


def _ranking_order(scored) -> list:
    """The ranking's order: by nomination and age category (their positions), then by place (unique in a group)."""
    return [
        scored.c.nomination_position,
        scored.c.nomination_id,
        scored.c.category_position,
        scored.c.age_category_id,
        scored.c.place,
    ]


def _proposed(scored):
    """The award the ranking proposes, in SQL: 1st place wins, 2nd and 3rd are prize-winners, the rest take part."""
    return case(
        (scored.c.total.is_(None), literal(Award.PARTICIPANT.value)),
        (scored.c.place == 1, literal(Award.WINNER.value)),
        (scored.c.place <= PRIZE_PLACES, literal(Award.PRIZE.value)),
        else_=literal(Award.PARTICIPANT.value),
    )


def _ranked(season: Season):
    """One SELECT of the season's admitted entries in the order of the ranking (see :func:`_scored`)."""
    scored = _scored(season)
    return select(Entry, scored).join(scored, scored.c.entry_id == Entry.id).order_by(*_ranking_order(scored))


def _standing(season: Season, row) -> Standing:
    means = {c.id: value for c in season.criteria if (value := getattr(row, f"mean_{c.id}")) is not None}
    place = row.place if row.total is not None else None
    proposed = Award.PARTICIPANT
    if place is not None:
        proposed = Award.WINNER if place == 1 else Award.PRIZE if place <= PRIZE_PLACES else Award.PARTICIPANT
    return Standing(row.Entry, row.total, means, row.reviews, place, proposed)


def standings(season: Season, batch: int = 200) -> Iterator[Standing]:
    """The ranking one standing at a time, read from the database ``batch`` rows at once (bounded memory)."""
    rows = db.session.execute(_ranked(season).execution_options(yield_per=batch))
    for row in rows:
        yield _standing(season, row)  # the session's identity map holds its entries weakly: they go once used


def ranking(season: Season) -> list[Group]:
    """Every admitted entry, ranked within its nomination and age category, with proposed awards."""
    groups: dict[tuple[int, int], Group] = {}
    for row in db.session.execute(_ranked(season)):
        standing = _standing(season, row)
        entry = standing.entry
        key = (entry.nomination_id, entry.age_category_id)
        groups.setdefault(key, Group(entry.nomination, entry.age_category)).standings.append(standing)
    return list(groups.values())


@dataclass
class RankedRow:
    """A row of the administrators' ranking page: its standing, and the group's heading where one starts
    (``continued``: the group began on an earlier page)."""

    standing: Standing
    group: Group | None = None
    continued: bool = False

    @property
    def award(self) -> str:
        """The award the form shows: the administrator's choice, else the confirmed one, else the proposed one."""
        entry = self.standing.entry
        return entry.award_override or entry.award or self.standing.proposed


def _page_groups(season: Season, pager: Pager) -> tuple[list[tuple[int, int]], Pager, int | None]:
    """The groups a page of the ranking needs (so the database ranks those only), from the groups' counts (one
    grouped query): the key's group and those after (before) it until they surely fill the page, or for a numbered
    page the groups from the first. A key of no group of the season gives the first page.

    A numbered page past the first ``NUMBERED_PAGES`` is read as from a key, with its number: places are 1, 2, …
    in each group, so the counts tell the key of the row before it (its group and place) without ranking anything.
    """
    counted = db.session.execute(
        select(Entry.nomination_id, Entry.age_category_id, func.count())
        .where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED)
        .group_by(Entry.nomination_id, Entry.age_category_id)
    ).all()
    counts = {(nomination, category): count for nomination, category, count in counted}
    order = [(n.id, c.id) for n in season.nominations for c in season.age_categories]
    number = None
    if not (pager.after or pager.before) and pager.page > NUMBERED_PAGES:
        number = min(pager.page, max(1, math.ceil(sum(counts.values()) / PER_PAGE)))
        before = (number - 1) * PER_PAGE  # rows before the page: the last of them is the key
        for n, c in ((n, c) for n in season.nominations for c in season.age_categories):
            count = counts.get((n.id, c.id), 0)
            if 0 < before <= count:
                pager = Pager(after=f"{n.position},{n.id},{c.position},{c.id},{before}", prefix=pager.prefix)
                break
            before -= count
        else:
            number = None
    token = (pager.after or pager.before).split(",")
    key = (bounded_int(token[1]), bounded_int(token[3])) if len(token) == 5 else None
    if key in order:
        start = order.index(key)
        following = order[start::-1] if not pager.after and pager.before else order[start:]
        wanted, rows = [following[0]], 0
        for group in following[1:]:
            if rows > _pager_rows(pager):
                break
            if counts.get(group):
                wanted.append(group)
                rows += counts[group]
        return wanted, pager, number
    if pager.after or pager.before:
        pager = Pager(prefix=pager.prefix)
    wanted, rows = [], 0
    for group in order:
        if rows > _pager_rows(pager):
            break
        if counts.get(group):
            wanted.append(group)
            rows += counts[group]
    return wanted, pager, None


def _pager_rows(pager: Pager) -> int:
    """How many rows before a page's end decide it: its own and one more (from a key), or all up to it (a number)."""
    return PER_PAGE if pager.after or pager.before else pager.page * PER_PAGE


def ranking_page(season: Season, pager: Pager) -> Page:
    """One page of the ranking, by nomination and age category then place (four queries, whatever the page); the
    database ranks only the groups the page shows and those beside them that decide its neighbours."""
    groups, pager, number = _page_groups(season, pager)
    scored = _scored(season, groups)
    stmt = select(Entry, scored).join(scored, scored.c.entry_id == Entry.id)

    def load(rows) -> list[RankedRow]:
        made, previous = [], None
        for row in rows:
            standing = _standing(season, row)
            entry = standing.entry
            key = (entry.nomination_id, entry.age_category_id)
            heading = Group(entry.nomination, entry.age_category) if key != previous else None
            made.append(RankedRow(standing, heading, heading is not None and row.place > 1))
            previous = key
        return made

    count = select(func.count()).where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED)
    page = paginate(stmt, _ranking_order(scored), pager, load=load, count=count)
    if number is not None:  # a deep page asked for by number, read from its key: it keeps its number
        page.page = number
    return page


def _check_open(season: Season) -> None:
    if not season.judging_closed():
        raise Conflict(f"Итоги подводятся после окончания работы жюри ({ru_date(season.judging_closes)}).")
    if season.results_published:
        raise Conflict("Итоги уже опубликованы: сначала снимите их с публикации.")


def save_awards(actor: User, season: Season, awards: dict[int, str]) -> None:
    """Keep the administrator's choice of awards for these entries until the results are confirmed; the public
    sees nothing of it. A choice equal to the proposed award is no override (the proposal stands).

    :raise PermissionDenied: not an administrator.
    :raise Conflict: the jury is still at work, or the results are published already.
    :raise InvalidInput: an unknown award.
    """
    require_role(actor, Role.ADMIN)
    _check_open(season)
    if any(value not in Award.__members__.values() for value in awards.values()):
        raise InvalidInput("Выберите награду из списка.")
    scored = _scored(season)
    for value in set(awards.values()):
        ids = [entry_id for entry_id, chosen in awards.items() if chosen == value]
        db.session.execute(
            update(Entry)
            .where(Entry.id == scored.c.entry_id, Entry.id.in_(ids))
            .values(award_override=case((_proposed(scored) == value, None), else_=literal(value)))
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def confirm_results(actor: User, season: Season, awards: dict[int, str] | None = None) -> None:
    """The administrator fixes totals, places and awards for the whole season in one UPDATE: each entry's award is
    the administrator's choice (:func:`save_awards`; ``awards`` are saved first) or the proposed one.

    :raise PermissionDenied: not an administrator.
    :raise Conflict: the jury is still at work, or the results are published already.
    :raise InvalidInput: an unknown award.
    """
    require_role(actor, Role.ADMIN)
    _check_open(season)
    if awards:
        save_awards(actor, season, awards)
    scored = _scored(season)
    db.session.execute(
        update(Entry)
        .where(Entry.id == scored.c.entry_id)
        .values(
            total_score=scored.c.total,
            rank=case((scored.c.total.is_(None), None), else_=scored.c.place),
            award=func.coalesce(Entry.award_override, _proposed(scored)),
        )
        .execution_options(synchronize_session=False)
    )
    season.results_confirmed_at = utcnow()
    db.session.commit()


def publish_results(actor: User, season: Season) -> int:
    """Publish the confirmed results; students and supervisors are told. Returns how many were told.

    :raise Conflict: not confirmed yet, or already published.
    """
    require_role(actor, Role.ADMIN)
    if season.results_confirmed_at is None:
        raise Conflict("Сначала утвердите итоги.")
    if season.results_published:
        raise Conflict("Итоги уже опубликованы.")
    season.results_published_at = utcnow()
    told = 0
    for entry in entry_service.published_entries(season):
        text = f"Итоги конкурса «{season.title}»: работа «{entry.title}» — {entry.award_label.lower()}."
        for person in {p.id: p for p in (entry.author, entry.supervisor) if p is not None}.values():
            workflow.notify(person, text, entry_service.entry_url(entry))
            told += 1
    collection.queue_build(season)  # the collection with the awards, built in the background
    db.session.commit()
    return told


def unpublish_results(actor: User, season: Season) -> None:
    """Take the results back (to correct them); awards stay as confirmed."""
    require_role(actor, Role.ADMIN)
    season.results_published_at = None
    collection.queue_build(season)  # the collection without the awards
    db.session.commit()


@dataclass
class AwardedGroup:
    """A nomination and age category of the published results: how many entries it has, and those shown."""

    nomination: Nomination
    category: AgeCategory
    count: int
    standings: list[Standing] = field(default_factory=list)


def _awarded(season: Season):
    return select(Entry).where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED, Entry.award.is_not(None))


def _published_standing(entry: Entry) -> Standing:
    return Standing(entry, entry.total_score, {}, 0, entry.rank, Award(entry.award))


def awarded_groups(season: Season) -> list[AwardedGroup]:
    """The published results at a glance: every nomination and age category that has awarded entries, with
    their count and their winners and prize-winners, ``PODIUM`` at most (two queries, however many entries)."""
    counted = db.session.execute(
        _awarded(season)
        .with_only_columns(Entry.nomination_id, Entry.age_category_id, func.count())
        .group_by(Entry.nomination_id, Entry.age_category_id)
    ).all()
    counts = {(nomination, category): count for nomination, category, count in counted}
    groups = {
        (n.id, c.id): AwardedGroup(n, c, counts[n.id, c.id])
        for n in season.nominations
        for c in season.age_categories
        if (n.id, c.id) in counts
    }
    place = func.coalesce(Entry.rank, MAX_ID)
    numbered = (
        _awarded(season)
        .where(Entry.award.in_((Award.WINNER, Award.PRIZE)))
        .with_only_columns(
            Entry.id,
            func.row_number()
            .over(partition_by=(Entry.nomination_id, Entry.age_category_id), order_by=(place, Entry.title, Entry.id))
            .label("n"),
        )
        .subquery()
    )
    podium = (
        select(Entry)
        .join(numbered, numbered.c.id == Entry.id)
        .where(numbered.c.n <= PODIUM)
        .order_by(place, Entry.title, Entry.id)
    )
    for entry in db.session.scalars(podium):
        groups[entry.nomination_id, entry.age_category_id].standings.append(_published_standing(entry))
    return list(groups.values())


def awarded_page(season: Season, nomination: Nomination, category: AgeCategory, pager: Pager) -> Page:
    """One page of a nomination and age category's published results, by place (entries without one last)."""
    place = func.coalesce(Entry.rank, MAX_ID).label("place_order")
    stmt = (
        _awarded(season)
        .add_columns(place)
        .where(Entry.nomination_id == nomination.id, Entry.age_category_id == category.id)
    )
    return paginate(
        stmt,
        [place, Entry.title, Entry.id],
        pager,
        load=lambda rows: [_published_standing(row.Entry) for row in rows],
        count=_awarded(season)
        .where(Entry.nomination_id == nomination.id, Entry.age_category_id == category.id)
        .with_only_columns(func.count()),
    )


def feed_entries(limit: int) -> list[FeedEntry]:
    """Published results of the seasons, newest first, for the Atom feed."""
    seasons = db.session.scalars(
        select(Season)
        .where(Season.results_published_at.is_not(None))
        .order_by(Season.results_published_at.desc(), Season.id.desc())
        .limit(limit)
    ).all()
    return [
        FeedEntry(
            title=f"Итоги конкурса «{season.title}»",
            url=external_url("contest.season_results", year=season.year),
            updated=season.results_published_at,
            published=season.results_published_at,
            summary=f"Опубликованы итоги регионального конкурса 3D-моделирования «{season.title}»: "
            "победители и призёры по номинациям и возрастным категориям, сборник материалов конкурса.",
            author="Конкурс «СоЗДатель»",
            categories=["Конкурс «СоЗДатель»"],
        )
        for season in seasons
    ]


def _season_urls(row) -> SitemapRows:
    _id, results_at, year = row
    yield external_url("contest.season", year=year), None
    if results_at is not None:
        yield external_url("contest.season_results", year=year), results_at


# Every season's page, and its results once published.
SEASON_SITEMAP = Sitemap(
    query=lambda: select(Season.id, Season.results_published_at, Season.year),
    urls=_season_urls,
    urls_per_row=2,
)
