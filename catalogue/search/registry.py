"""The search part of a content type (``catalogue.content``): its document, loader and dependencies.

A type gives a function that turns one item into a :class:`SearchDocument` (title, plain text, facet values,
date) and, optionally, a loader that fetches items by id with whatever that function reads, so that a page of
results costs a fixed number of queries.
"""

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select

from catalogue import content
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
    # People's names the text shows (a student's public name): findable as typed, but never offered by the
    # spelling dictionary, as a correction or a completion (a surname typed must not turn into a child's name).
    names: Sequence[str] = ()

    def facet_values(self) -> dict[str, list[str]]:
        """Facet key -> values, as indexed (the "type" facet is added by the index)."""
        single = {"municipality": self.municipality, "season": self.season, "nomination": self.nomination}
        values = {"age": list(self.age_groups), "sphere": list(self.spheres)}
        values.update({key: [value] for key, value in single.items() if value})
        return {key: [str(v).replace(",", " ").strip() for v in vs if str(v).strip()] for key, vs in values.items()}


@dataclass
class Dependency:
    """Items whose documents show something of another record (an organization's name, a season's blind flag).

    When a ``model`` record is added or deleted, or one of its ``fields`` changes (any column when none are
    given), ``ids(record)`` gives the items to index again: a select() of their ids, or the ids themselves.
    The unit of work (``catalogue.search.outbox``) calls it after the flush, so the select sees the change.
    """

    model: type
    ids: Callable[[Any], Select | Iterable[int]]
    fields: tuple[str, ...] = ()


def _published(obj: Any) -> bool:
    return obj.status == Status.PUBLISHED


@dataclass(kw_only=True)
class SearchableType:
    """A content type in the index. ``key`` and ``model`` are filled in from the content type."""

    key: str = ""
    model: type | None = None
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
    # Other records whose changes change this type's documents (see :class:`Dependency`).
    depends_on: tuple[Dependency, ...] = ()

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
        workflow = content.get(self.key).workflow
        return workflow.label if workflow else self.key

    def item_url(self, obj: Any) -> str:
        if self.url is not None:
            return self.url(obj)
        return content.get(self.key).workflow.url(obj)


def get(key: str) -> SearchableType | None:
    content_type = content.get(key)
    return content_type.search if content_type else None


def all_types() -> list[SearchableType]:
    return [t.search for t in content.all_types() if t.search is not None]
