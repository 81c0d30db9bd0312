"""The lists a person can follow: the search and the filtered catalogues, each as an Atom feed and a digest.

A :class:`Source` reads a query string exactly as its page does (the page's own form or search parameters),
keeps only what chooses the items (no sort, no page), and gives the newest published items that match it, as
:class:`catalogue.content.FeedEntry`, in one query (or one search call).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode

from werkzeug.datastructures import MultiDict

from catalogue.content import FeedEntry
from catalogue.urls import absolute, external_url

MAX_QUERY_CHARS = 1000


@dataclass(frozen=True)
class Source:
    kind: str  # stored in Subscription.kind
    title: str  # «Типовые проекты»
    page_endpoint: str
    feed_endpoint: str
    # (args) -> the pairs that choose the items, as the page reads them, and the words that describe them
    read: Callable[[MultiDict], tuple[list[tuple[str, str]], list[str]]]
    # (normalised args, limit, after) -> the newest published matching items, newest first
    entries: Callable[[MultiDict, int, dt.datetime | None], list[FeedEntry]]
    newest_first: tuple[tuple[str, str], ...] = ()  # what the page needs besides to list the newest first

    def normalise(self, args: MultiDict) -> str:
        """The query string of what chooses the items, sorted and encoded one way: the subscription's key."""
        pairs, _ = self.read(args)
        return urlencode(sorted(pairs))

    def describe(self, args: MultiDict) -> str:
        """«Типовые проекты: 8–9 классы, энергетика»."""
        _, words = self.read(args)
        return f"{self.title}: {', '.join(words)}" if words else self.title

    def newest(self, query: str, limit: int, after: dt.datetime | None = None) -> list[FeedEntry]:
        return self.entries(MultiDict(parse_qsl(query)), limit, after)

    def page_url(self, query: str) -> str:
        """The list's page, newest first (a letter's «весь список»)."""
        return external_url(self.page_endpoint, **dict(parse_qsl(query)), **dict(self.newest_first))

    def feed_url(self, query: str) -> str:
        return external_url(self.feed_endpoint, **dict(parse_qsl(query)))


def _chosen(form, names: tuple[str, ...]) -> tuple[list[tuple[str, str]], list[str]]:
    """The form's chosen values (a valid form) of the fields ``names``, and their labels."""
    if not form.validate():
        return [], []
    pairs, words = [], []
    for name in names:
        field = form[name]
        if field.data not in (None, ""):
            pairs.append((name, str(field.data)))
            label = next((c[1] for c in field.iter_choices() if c[2]), str(field.data))
            words.append(str(label))
    return pairs, words


# -- the catalogue of typical projects ----------------------------------------------------------------


def _project_filters(args: MultiDict):
    from catalogue.projects.views import catalogue_filters

    form, filters, _valid = catalogue_filters(args)  # unknown values: everything, as on the page
    return form, filters


def _read_projects(args: MultiDict):
    form, _ = _project_filters(args)
    return _chosen(form, ("age", "sphere", "format", "duration"))


def _project_entries(args: MultiDict, limit: int, after: dt.datetime | None) -> list[FeedEntry]:
    from catalogue.projects import services

    _, filters = _project_filters(args)
    return services.feed_entries(limit, filters, after)


# -- the catalogue of best practices --------------------------------------------------------------------


def _practice_filters(args: MultiDict):
    from catalogue.practices.views import catalogue_filters

    form, filters, _valid = catalogue_filters(args)  # unknown values: everything, as on the page
    return form, filters


def _read_practices(args: MultiDict):
    form, _ = _practice_filters(args)
    return _chosen(form, ("item", "municipality", "grade", "sphere"))


def _practice_entries(args: MultiDict, limit: int, after: dt.datetime | None) -> list[FeedEntry]:
    from catalogue.practices import services

    _, filters = _practice_filters(args)
    return services.feed_entries(limit, filters, after)


# -- the contest gallery of a season ---------------------------------------------------------------------


def _gallery(args: MultiDict):
    """The season the address names (``year``) with the gallery's form and filters read from ``args``; None
    without such a season."""
    from catalogue.contest import seasons
    from catalogue.contest.views import gallery_form
    from catalogue.forms import bounded_int
    from catalogue.permissions import NotFound

    year = bounded_int(args.get("year", ""))
    try:
        season = seasons.season_by_year(year) if year else None
    except NotFound:
        season = None
    return (season, *gallery_form(season, args)) if season is not None else None


def _read_gallery(args: MultiDict):
    found = _gallery(args)
    if found is None:
        return [], []
    season, form, _ = found
    pairs, words = _chosen(form, ("nomination", "age", "municipality"))
    return [("year", str(season.year)), *pairs], [f"галерея {season.year} года", *words]


def _gallery_entries(args: MultiDict, limit: int, after: dt.datetime | None) -> list[FeedEntry]:
    from catalogue.contest import entries

    found = _gallery(args)
    if found is None:
        return []
    season, _, filters = found
    return entries.gallery_feed_entries(season, filters, limit, after)


# -- the search -------------------------------------------------------------------------------------------


def _read_search(args: MultiDict):
    from catalogue.search.facets import BY_KEY
    from catalogue.search.service import SearchParams

    params = SearchParams.from_args(args)
    pairs = [("q", params.q)] if params.q else []
    words = [f"«{params.q}»"] if params.q else []
    for key, value in params.filters.items():
        pairs.append((key, value))
        words.append(BY_KEY[key].labels([value]).get(value, value))
    if params.exact:
        pairs.append(("exact", "1"))
    return pairs, words


def _search_entries(args: MultiDict, limit: int, after: dt.datetime | None) -> list[FeedEntry]:
    """The search page's results sorted by date (its «по дате»), newest first: one search call."""
    from catalogue.search import service

    params = replace(service.SearchParams.from_args(args), sort="date", page=1)
    entries = []
    for hit in service.search(params, per_page=limit).hits:
        if hit.date is None or (after is not None and hit.date <= after):
            continue
        entries.append(
            FeedEntry(
                title=hit.title.striptags(),
                url=absolute(hit.url),
                updated=hit.date,
                published=hit.date,
                summary=hit.snippet.striptags(),
                categories=[hit.type_label],
            )
        )
    return entries


SOURCES = {
    source.kind: source
    for source in (
        Source(
            "search", "Поиск", "search.index", "subscriptions.search_feed", _read_search, _search_entries,
            newest_first=(("sort", "date"),),
        ),
        Source(
            "projects", "Типовые проекты", "projects.index", "subscriptions.projects_feed", _read_projects,
            _project_entries,
        ),
        Source(
            "practices", "Лучшие практики", "practices.index", "subscriptions.practices_feed", _read_practices,
            _practice_entries,
        ),
        Source(
            "gallery", "Конкурс «СоЗДатель»", "contest.season", "subscriptions.gallery_feed", _read_gallery,
            _gallery_entries,
        ),
    )
}
