"""Results: weighted totals, the ranking per nomination and age category, awards, publication."""

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select

from catalogue.accounts.models import Role, User
from catalogue.clock import utcnow
from catalogue.content import FeedEntry, Sitemap, SitemapRows
from catalogue.contest import entries as entry_service
from catalogue.contest.models import AgeCategory, Award, Entry, Nomination, Review, Season
from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.permissions import Conflict, InvalidInput, require_role
from catalogue.urls import external_url
from catalogue.workflow import services as workflow

# Shown on the results pages: how places are decided.
TIE_RULE = (
    "Места в каждой номинации и возрастной категории определяются по итоговому баллу — сумме средних оценок "
    "жюри по критериям, умноженных на веса критериев. При равенстве выше та работа, у которой выше средняя "
    "оценка по первому критерию; при равенстве и по нему — работа, отправленная на конкурс раньше."
)
PRIZE_PLACES = 3  # 1st place: winner; 2nd and 3rd: prize-winners; the rest: participants


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


def _standings(season: Season, entries: list[Entry]) -> dict[int, Standing]:
    reviews = db.session.scalars(select(Review).where(Review.entry_id.in_([e.id for e in entries]))).all()
    by_entry: dict[int, list[Review]] = {}
    for review in reviews:
        by_entry.setdefault(review.entry_id, []).append(review)
    result = {}
    for entry in entries:
        entry_reviews = by_entry.get(entry.id, [])
        means: dict[int, float] = {}
        for criterion in season.criteria:
            values = [v for r in entry_reviews if (v := r.score_for(criterion.id)) is not None]
            if values:
                means[criterion.id] = sum(values) / len(values)
        total = None
        if entry_reviews and len(means) == len(season.criteria):
            total = round(sum(c.weight * means[c.id] for c in season.criteria), 6)
        result[entry.id] = Standing(entry, total, means, len(entry_reviews))
    return result


def _order_key(season: Season, standing: Standing):
    """The tie rule of :data:`TIE_RULE`; unscored entries come last."""
    first = season.criteria[0].id if season.criteria else None
    submitted = standing.entry.submitted_at or standing.entry.created_at or dt.datetime.max
    return (
        standing.total is None,
        -(standing.total or 0.0),
        -standing.criterion_means.get(first, 0.0),
        submitted,
        standing.entry.id,
    )


def ranking(season: Season) -> list[Group]:
    """Every admitted entry, ranked within its nomination and age category, with proposed awards."""
    entries = entry_service.published_entries(season)
    standings = _standings(season, entries)
    groups: dict[tuple[int, int], Group] = {}
    for nomination in season.nominations:
        for category in season.age_categories:
            groups[(nomination.id, category.id)] = Group(nomination, category)
    for entry in entries:
        groups[(entry.nomination_id, entry.age_category_id)].standings.append(standings[entry.id])
    for group in groups.values():
        group.standings.sort(key=lambda s: _order_key(season, s))
        for place, standing in enumerate(group.standings, start=1):
            if standing.total is None:
                continue
            standing.place = place
            standing.proposed = (
                Award.WINNER if place == 1 else Award.PRIZE if place <= PRIZE_PLACES else Award.PARTICIPANT
            )
    return [g for g in groups.values() if g.standings]


def confirm_results(actor: User, season: Season, awards: dict[int, str]) -> None:
    """The administrator fixes totals, places and awards (the proposed award where ``awards`` has none).

    :raise PermissionDenied: not an administrator.
    :raise Conflict: the jury is still at work, or the results are published already.
    :raise InvalidInput: an unknown award.
    """
    require_role(actor, Role.ADMIN)
    if not season.judging_closed():
        raise Conflict(f"Итоги подводятся после окончания работы жюри ({ru_date(season.judging_closes)}).")
    if season.results_published:
        raise Conflict("Итоги уже опубликованы: сначала снимите их с публикации.")
    for value in awards.values():
        if value not in Award.__members__.values():
            raise InvalidInput("Выберите награду из списка.")
    for group in ranking(season):
        for standing in group.standings:
            entry = standing.entry
            entry.total_score = standing.total
            entry.rank = standing.place
            entry.award = awards.get(entry.id) or standing.proposed
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
    db.session.commit()
    return told


def unpublish_results(actor: User, season: Season) -> None:
    """Take the results back (to correct them); awards stay as confirmed."""
    require_role(actor, Role.ADMIN)
    season.results_published_at = None
    db.session.commit()


def awarded_groups(season: Season) -> list[Group]:
    """The published results: admitted entries with awards, by nomination, category and place."""
    groups: dict[tuple[int, int], Group] = {}
    for entry in entry_service.published_entries(season):
        if not entry.award:
            continue
        key = (entry.nomination_id, entry.age_category_id)
        group = groups.setdefault(key, Group(entry.nomination, entry.age_category))
        group.standings.append(Standing(entry, entry.total_score, {}, 0, entry.rank, Award(entry.award)))
    for group in groups.values():
        group.standings.sort(key=lambda s: (s.place is None, s.place or 0, s.entry.title))
    return list(groups.values())


def criterion_means(season: Season, entry: Entry) -> dict[int, float]:
    return _standings(season, [entry])[entry.id].criterion_means


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
