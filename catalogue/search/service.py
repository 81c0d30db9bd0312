"""The search page's one service: what a visitor asked, what the index answers, and the items behind it."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from flask import current_app
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from catalogue.formatting import plural
from catalogue.forms import bounded_int
from catalogue.search import fallback, registry, snippets, spelling, stored, thesaurus
from catalogue.search.backend import FACET_KEYS, SORTS, EngineQuery, EngineResult
from catalogue.search.facets import FACETS
from catalogue.search.highlight import highlighted
from catalogue.search.query import clean

MAX_PAGE = 1000
FEW = 2  # a query that finds this many or fewer is tried in the other keyboard layout and corrected
MAX_VALUE_CHARS = 80
FACET_VALUES_SHOWN = 8


@dataclass
class SearchParams:
    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "relevance"
    page: int = 1
    exact: bool = False  # search the words as typed, with no correction
    typing: bool = False  # no space after the last word: it may be a word being typed (see ``parse``)

    @classmethod
    def from_args(cls, args: MultiDict) -> "SearchParams":
        """Whatever the address says, read leniently: unknown or malformed values are ignored."""
        filters = {}
        for key in FACET_KEYS:
            value = clean(args.get(key, ""))[:MAX_VALUE_CHARS]
            if value:
                filters[key] = value
        sort = args.get("sort", "")
        page = args.get("page")
        return cls(
            q=clean(args.get("q", "")),
            filters=filters,
            sort=sort if sort in SORTS else "relevance",
            page=min(bounded_int(page) or 1, MAX_PAGE),
            exact=args.get("exact") == "1",
            typing=not args.get("q", " ")[-1:].isspace(),
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for ``url_for``; a facet set to None is dropped, and the page resets."""
        args: dict[str, Any] = {
            "q": self.q or None,
            **self.filters,
            "sort": None if self.sort == "relevance" else self.sort,
            "exact": "1" if self.exact else None,
        }
        args["page"] = None
        args.update(changes)
        return {key: value for key, value in args.items() if value not in (None, "")}

    def hidden_fields(self) -> list[tuple[str, str]]:
        """The current choices other than the words, for a form that changes only the words."""
        return [(key, str(value)) for key, value in self.args().items() if key not in ("q", "exact")]


@dataclass
class Hit:
    type_key: str
    type_label: str
    url: str
    title: Markup
    snippet: Markup
    facts: list[str]
    date: dt.datetime | None
    obj: Any
    tags: list[str] = field(default_factory=list)  # the matched names of its spheres, municipality...: as tags


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool
    args: dict[str, Any]  # the page with this value chosen (or, when it is chosen, without it)


@dataclass
class FacetGroup:
    key: str
    title: str
    values: list[FacetValue]
    shown: int  # how many values are visible before "more"

    @property
    def selected(self) -> FacetValue | None:
        return next((v for v in self.values if v.selected), None)


@dataclass
class SearchPage:
    params: SearchParams
    hits: list[Hit]
    total: int
    per_page: int
    facets: list[FacetGroup]
    searched: bool  # False: no words, the page shows the newest items
    any_word: bool = False  # all the words together found nothing; these results have some of them
    complete: int | None = None  # results with every word, when others (with some of them) follow
    suggestion: str | None = None  # the query as meant (other keyboard layout, typos corrected): already shown
    corrected: bool = False  # the results are for ``suggestion``, not for the words as typed
    related: list[str] = field(default_factory=list)  # words the thesaurus added: «Также искали: …»
    notice: str | None = None  # search is degraded (answered from the database while the index is rebuilt)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def page(self) -> int:
        return min(self.params.page, self.pages)

    def page_args(self, number: int) -> dict[str, Any]:
        return self.params.args(page=number if number > 1 else None)

    def page_numbers(self) -> list[int | None]:
        """Page numbers around the current one, with None for a gap."""
        shown = {1, self.pages, *range(self.page - 2, self.page + 3)}
        numbers: list[int | None] = []
        for n in sorted(n for n in shown if 1 <= n <= self.pages):
            if numbers and n - (numbers[-1] or 0) > 1:
                numbers.append(None)
            numbers.append(n)
        return numbers

    @property
    def summary(self) -> str:
        return plural(self.total, "материал", "материала", "материалов")

    @property
    def active_filters(self) -> list[tuple[FacetGroup, FacetValue]]:
        return [(group, group.selected) for group in self.facets if group.selected]

    @property
    def as_typed_args(self) -> dict[str, Any]:
        return self.params.args(exact="1")


def search(params: SearchParams, per_page: int | None = None) -> SearchPage:
    """One page of results for ``params``: a fixed number of database queries, whatever the page holds."""
    app = current_app._get_current_object()
    per_page = per_page or app.config["SEARCH_PER_PAGE"]
    engine = fallback.engine(app)  # the index, or what answers while it cannot be read (with a notice)
    expansion = thesaurus.parse_expanded(params.q, engine, params.typing)
    # Any of the words will do; documents with more of them come first (catalogue.search.ranking).
    query = EngineQuery(
        expansion.parsed, params.filters, params.sort, (params.page - 1) * per_page, per_page, any_word=True
    )
    result = engine.search(query)
    suggestion = None
    if result.searched and not params.exact and _worth_correcting(result, expansion, params, engine):
        # Typed in the wrong keyboard layout, or misspelt? Show what the query as meant finds, and say so: when
        # it finds more items with every word (any word of a long query finds something: «заводе»).
        for text in spelling.alternatives(engine, params.q):
            other = thesaurus.parse_expanded(text, engine, params.typing)
            attempt_query = replace(query, parsed=other.parsed)
            attempt = engine.search(attempt_query)
            if attempt.searched and _with_every_word(attempt) > _with_every_word(result):
                query, result, suggestion, expansion = attempt_query, attempt, text, other
                break
    if result.total and query.offset >= result.total:
        # A page past the end (an old link): show the last one.
        query = replace(query, offset=(-(-result.total // per_page) - 1) * per_page)
        params = replace(params, page=query.offset // per_page + 1)
        result = engine.search(query)
    partial = result.complete is not None and result.complete < result.total
    return SearchPage(
        params=params,
        hits=_hits(result, engine),
        total=result.total,
        per_page=per_page,
        facets=_facet_groups(result, params),
        searched=result.searched,
        any_word=partial and not result.complete,
        complete=result.complete if partial and result.complete else None,
        suggestion=suggestion,
        corrected=bool(suggestion) and bool(result.total),
        related=expansion.used[: thesaurus.MAX_SHOWN] if result.total else [],
        notice=getattr(engine, "notice", None),
    )


def _with_every_word(result: EngineResult) -> int:
    return result.total if result.complete is None else result.complete


def _worth_correcting(result: EngineResult, expansion, params: SearchParams, engine) -> bool:
    """Whether to try the query as meant (other layout, typos corrected): when nothing has every word; or when
    almost nothing has, unless the thesaurus found it («сварка» finds «сварщик») or the last word is the beginning
    of known words, being typed («педиа»)."""
    if not expansion.parsed.clauses:
        return False  # only words that must not be there: nothing to correct
    every = _with_every_word(result)
    if every == 0:
        return True
    if every > FEW or expansion.used:
        return False
    words = expansion.parsed.words()
    dictionary = getattr(engine, "dictionary", None)
    return not (params.typing and words and dictionary is not None and dictionary().completions(words[-1], limit=1))


def _hits(result: EngineResult, engine) -> list[Hit]:
    """The page's items loaded by id, one query per content type, in the index's order."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for key in result.keys:
        type_key, _, item_id = key.partition(":")
        if item_id.isdigit():
            wanted[type_key].append(int(item_id))
    loaded: dict[tuple[str, int], Any] = {}
    for type_key, ids in wanted.items():
        searchable = registry.get(type_key)
        if searchable is not None:
            loaded.update(((type_key, obj.id), obj) for obj in searchable.load_items(ids))
    # Titles and plain texts as indexed: no Markdown rendered at read time.
    documents = stored.load(result.keys)
    names = snippets.current_tag_names() if result.keys else []
    hits = []
    for key in result.keys:
        type_key, _, item_id = key.partition(":")
        searchable = registry.get(type_key)
        obj = loaded.get((type_key, int(item_id))) if item_id.isdigit() else None
        if searchable is None or obj is None or not searchable.is_public(obj):
            continue  # changed since it was indexed; the outbox brings the index up to date
        document = documents.get(key) or searchable.to_document(obj)  # not stored yet: built once here
        snippet = snippets.best(document.text, result.terms, engine.analyze, names)
        hits.append(
            Hit(
                type_key=type_key,
                type_label=searchable.type_label(),
                url=searchable.item_url(obj),
                title=highlighted(document.title, result.terms, whole=True),
                snippet=snippet.text,
                facts=[fact for fact in searchable.facts(obj) if fact],
                date=document.date,
                obj=obj,
                tags=snippet.tags,
            )
        )
    return hits


def _facet_groups(result: EngineResult, params: SearchParams) -> list[FacetGroup]:
    groups = []
    for facet in FACETS:
        counts = result.counts.get(facet.key, {})
        chosen = params.filters.get(facet.key)
        values = set(counts) | ({chosen} if chosen else set())
        if not values:
            continue
        labels = facet.labels(values)
        order = list(labels) if facet.ordered_by_label else []
        rest = sorted(values - set(order), key=lambda v: (-counts.get(v, 0), labels.get(v, v).casefold(), v))
        items = [
            FacetValue(
                value=value,
                label=labels.get(value, value),
                count=counts.get(value, 0),
                selected=value == chosen,
                args=params.args(**{facet.key: None if value == chosen else value}),
            )
            for value in order + rest
        ]
        shown = max(FACET_VALUES_SHOWN, 1 + max((i for i, v in enumerate(items) if v.selected), default=0))
        groups.append(FacetGroup(facet.key, facet.title, items, shown))
    return groups
