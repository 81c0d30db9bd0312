"""The one registry of content types: each feature declares its types once, in ``<feature>/content.py``.

A :class:`ContentType` is composed of the parts the rest of the site reads:

- ``workflow``: the lifecycle settings (:class:`catalogue.workflow.registry.ContentType`), read by moderation;
- ``search``: the search document and its dependencies (:class:`catalogue.search.registry.SearchableType`);
- ``files``: who may read the files whose media owner type is the key (``can_read(user, owner_id)``);
- ``file_name``: the words of those files' neutral public names (``catalogue.media.names``), e.g.
  ``lambda f: ("проект", f.owner_id, "приложение", f.id)`` → ``proekt-12-prilozhenie-40.pdf``;
- ``feed``: an Atom feed of the type (:class:`Feed`), served at ``/feeds/<name>.atom``;
- ``sitemap``: the type's public addresses with their last change (:class:`Sitemap`), for the files that
  ``/sitemap.xml`` (a sitemap index) lists;
- ``content_io``: how items of the type are read from and written to the JSON of ``flask content import`` and
  ``content export`` (:class:`catalogue.content_io.ContentIO`).

The parts' own ``key`` and ``model`` are filled in from the type's. ``create_app`` lists the features
(``catalogue.FEATURES``); :func:`load_features` imports each feature's ``content`` module and registers its
``CONTENT_TYPES``. This module imports nothing of the site: the features and the readers depend on it.
"""

import datetime as dt
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# (absolute URL, when it last changed or None), one per public page of an item.
SitemapRows = Iterable[tuple[str, dt.datetime | None]]


@dataclass
class Sitemap:
    """A type's public pages for the sitemap, cut into files by ranges of ``key``.

    ``query()`` is a narrow select of the published items (no objects loaded) whose first column is an integer
    key (the id) and whose second is when the item last changed (or a NULL); ``urls(row)`` gives the item's
    public addresses, at most ``urls_per_row`` of them.
    """

    query: Callable[[], Any]
    urls: Callable[[Any], SitemapRows]
    urls_per_row: int = 1


@dataclass
class FeedEntry:
    title: str
    url: str  # absolute; also the entry's id, so it must not change
    updated: dt.datetime  # naive UTC, as the models store it
    published: dt.datetime | None = None
    summary: str = ""
    author: str = ""
    categories: list[str] = field(default_factory=list)


@dataclass
class Feed:
    """An Atom feed of one type: ``/feeds/<name>.atom``, linked from the page ``home_endpoint``."""

    name: str
    title: str
    subtitle: str
    home_endpoint: str
    # The newest ``limit`` entries, newest first (absolute URLs).
    entries: Callable[[int], list[FeedEntry]]


@dataclass(kw_only=True)
class ContentType:
    key: str  # "project", "report", "entry", "practice": the workflow, search, media owner and audit key
    model: type | None = None
    workflow: Any = None  # catalogue.workflow.registry.ContentType
    search: Any = None  # catalogue.search.registry.SearchableType
    files: Callable[[Any, int], bool] | None = None
    file_name: Callable[[Any], Sequence[str | int]] | None = None
    feed: Feed | None = None
    sitemap: Sitemap | None = None
    content_io: Any = None  # catalogue.content_io.ContentIO

    def __post_init__(self) -> None:
        for part in (self.workflow, self.search, self.content_io):
            if part is not None:
                part.key = self.key
                part.model = self.model


_types: dict[str, ContentType] = {}


def register(content_type: ContentType) -> ContentType:
    """Add (or replace) a content type."""
    key = content_type.key
    if not key or ":" in key or "," in key:
        raise ValueError(f"bad content type key {key!r}")
    _types[key] = content_type
    return content_type


def unregister(key: str) -> None:
    """Forget a content type (tests)."""
    _types.pop(key, None)


def get(key: str) -> ContentType | None:
    return _types.get(key)


def all_types() -> list[ContentType]:
    """Every registered type, in the order the features declared them."""
    return list(_types.values())


def of(obj: Any) -> ContentType:
    for content_type in _types.values():
        if content_type.model is not None and isinstance(obj, content_type.model):
            return content_type
    raise LookupError(f"{type(obj).__name__} is not a registered content type")


def load_features(features: Sequence[str]) -> None:
    """Register the ``CONTENT_TYPES`` of each feature's ``catalogue.<feature>.content``, in the order given."""
    for feature in features:
        module = importlib.import_module(f"catalogue.{feature}.content")
        for content_type in module.CONTENT_TYPES:
            register(content_type)
