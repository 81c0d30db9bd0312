"""What is searchable: content types register here with a few lines (see the package docstring).

A type gives a function that turns one item into a :class:`SearchDocument` (title, plain text, facet values,
date) and, optionally, a loader that fetches items by id with whatever that function reads, so that a page of
results costs a fixed number of queries.
"""

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select

from catalogue.extensions import db
from catalogue.workflow.models import Status


@dataclass
class SearchDocument:
    """The searchable face of one item. Facet values are keys (slugs, ids), never labels."""

    title: str
    text: str = ""  # plain text (``catalogue.markdown.plain_text``): indexed, and the source of snippets
    age_groups: Sequence[str] = ()  # AgeGroup.slug of each group
    spheres: Sequence[str] = ()  # Sphere.slug of each sphere
    municipality: str | None = None  # str(Municipality.id)
    season: str | None = None  # the contest season's key (e.g. its year)
    nomination: str | None = None  # the nomination's key
    date: dt.datetime | None = None  # when it was published: the "by date" order and the recent list

    def facet_values(self) -> dict[str, list[str]]:
        """Facet key -> values, as indexed (the "type" facet is added by the index)."""
        single = {"municipality": self.municipality, "season": self.season, "nomination": self.nomination}
        values = {"age": list(self.age_groups), "sphere": list(self.spheres)}
        values.update({key: [value] for key, value in single.items() if value})
        return {key: [str(v).replace(",", " ").strip() for v in vs if str(v).strip()] for key, vs in values.items()}


def _published(obj: Any) -> bool:
    return obj.status == Status.PUBLISHED


@dataclass
class SearchableType:
    """A content type in the index. ``key`` is also the workflow content type's key ("project", "entry")."""

    key: str
    model: type
    to_document: Callable[[Any], SearchDocument]
    # Items by id (any order), with eager loads for what ``to_document``, ``facts`` and ``url`` read.
    load: Callable[[Sequence[int]], Iterable[Any]] | None = None
    # Shown as the result's type and in the type facet; the workflow type's label by default.
    label: str = ""
    # The item's page; the workflow type's ``url`` by default.
    url: Callable[[Any], str] | None = None
    # A few short facts shown under a result: «8–9 классы», «город Иркутск», «Сезон 2026».
    facts: Callable[[Any], list[str]] = lambda obj: []
    # Only public items are indexed; an item that stops being public is removed.
    is_public: Callable[[Any], bool] = _published
    # A select() of the ids of every public item (rebuild and check); status "published" by default.
    public_ids: Callable[[], Select] | None = None
    # Labels of this type's facet values that the search cannot know itself (e.g. "season", "nomination"):
    # facet key -> function from a collection of values to {value: label}.
    facet_labels: dict[str, Callable[[Collection[str]], dict[str, str]]] = field(default_factory=dict)

    def load_items(self, ids: Sequence[int]) -> list[Any]:
        if not ids:
            return []
        if self.load is not None:
            return list(self.load(ids))
        return list(db.session.scalars(select(self.model).where(self.model.id.in_(ids))).unique())

    def public_id_query(self) -> Select:
        if self.public_ids is not None:
            return self.public_ids()
        return select(self.model.id).where(self.model.status == Status.PUBLISHED).order_by(self.model.id)

    def type_label(self) -> str:
        if self.label:
            return self.label
        from catalogue.workflow import registry as workflow_registry

        content_type = workflow_registry.get(self.key)
        return content_type.label if content_type else self.key

    def item_url(self, obj: Any) -> str:
        if self.url is not None:
            return self.url(obj)
        from catalogue.workflow import registry as workflow_registry

        return workflow_registry.get(self.key).url(obj)


_types: dict[str, SearchableType] = {}


def register(searchable: SearchableType) -> SearchableType:
    """Add (or replace) a searchable content type; call it where the type registers its workflow."""
    if not searchable.key or ":" in searchable.key or "," in searchable.key:
        raise ValueError(f"bad search type key {searchable.key!r}")
    _types[searchable.key] = searchable
    return searchable


def get(key: str) -> SearchableType | None:
    return _types.get(key)


def all_types() -> list[SearchableType]:
    return list(_types.values())
