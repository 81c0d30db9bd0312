"""Pieces of pages that are the same for everybody, kept per worker process until the content changes.

The page cache (:mod:`catalogue.page_cache`) serves whole pages to anonymous visitors; a logged-in person's page
differs by its header, notices and buttons, so it is made per request. What it shows of the content — a list's
cards and filter form, the home page's counters, an item's body — is the same for everyone, and is kept here:
in a dict of this process, under keys that start with the **content generation** (the counter every change of
public content bumps in its own transaction) and the oblast's date (a season's phase follows it). A new generation
empties the dict, so a change shows at once; reading the generation costs one primary-key row on a pooled
connection given back at once (:class:`catalogue.page_cache.GenerationReader`).

A key is made of the generation, the date, the piece's name and what the caller passes — an id, the query string:
never anything of the person. Whatever depends on the person (the header, notices, buttons for the author or a
moderator, CSRF tokens) stays outside, rendered per request. A piece made while the content changed is returned
but not kept.
"""

from collections.abc import Callable, Hashable
from typing import Any
from urllib.parse import urlencode

from flask import current_app, g, has_request_context, render_template, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from catalogue.clock import local_today
from catalogue.extensions import db
from catalogue.page_cache import GenerationReader

MAX_ENTRIES = 500  # per process; past it the dict starts again (a piece is 2–40 KB: at most about 20 MB)


class FragmentCache:
    def __init__(self, engine) -> None:
        self.read_generation = GenerationReader(engine)
        self.entries: dict[tuple, Any] = {}
        self.generation: int | None = None

    def get(self, name: str, parts: tuple[Hashable, ...], make: Callable[[], Any]) -> Any:
        if None in parts:  # made for this request alone
            return make()
        generation = self._generation()
        if generation != self.generation:
            self.entries, self.generation = {}, generation
        key = (generation, local_today().isoformat(), name, *parts)
        try:
            return self.entries[key]
        except KeyError:
            pass
        value = make()
        if self.read_generation()[0] == generation:  # no change while it was made
            if len(self.entries) >= MAX_ENTRIES:
                self.entries = {}
            self.entries[key] = value
        return value

    def _generation(self) -> int:
        """The generation, read once per GET (its pieces then agree, and a page of several pieces reads one row);
        a request that may change content reads it at each piece."""
        if not has_request_context() or request.method not in ("GET", "HEAD"):
            return self.read_generation()[0]
        found = g.get(_GENERATION)
        if found is None:
            found = self.read_generation()[0]
            setattr(g, _GENERATION, found)
        return found


_GENERATION = "fragments_generation"


def _cache() -> FragmentCache:
    cache = current_app.extensions.get("fragments")
    if cache is None:
        cache = current_app.extensions["fragments"] = FragmentCache(db.engine)
    return cache


def cached(name: str, *parts: Hashable, make: Callable[[], Any]) -> Any:
    """The value ``make()`` returns, made once per content generation (and day) for ``name`` and ``parts``.

    ``make`` must not depend on who asks: its result is shared by everybody's requests. A part None (see
    :func:`audience`): made for this request and not kept.
    """
    return _cache().get(name, parts, make)


def render_each(context: dict, **templates: str) -> dict[str, Markup]:
    """Each of ``templates`` (a name for the page's context: a template) rendered with the same ``context``."""
    # The templates escape what they show (autoescape): their output is HTML as it stands.
    return {name: Markup(render_template(template, **context)) for name, template in templates.items()}  # noqa: S704


def rendered(name: str, template: str, *parts: Hashable, context: Callable[[], dict]) -> Markup:
    """``template`` rendered with ``context()``, once per content generation for ``name`` and ``parts``."""
    return cached(name, *parts, make=lambda: render_each(context(), html=template)["html"])


# Where a kept form's CSRF token goes: no token, URL or text of a page holds a NUL.
CSRF_STAND_IN = "\x00csrf\x00"


def with_token(name: str, template: str, *parts: Hashable, context: Callable[[], dict]) -> Markup:
    """A form that is the same for everybody but its CSRF token: ``template`` (which writes ``csrf_token()``)
    rendered once per content generation, like :func:`rendered`, with a stand-in for the token; this request's own
    token is put in (escaped by Markup's ``replace``)."""
    piece = rendered(name, template, *parts, context=lambda: context() | {"csrf_token": lambda: CSRF_STAND_IN})
    return piece.replace(CSRF_STAND_IN, generate_csrf())


def audience(uploaders: frozenset[int] = frozenset()) -> str | None:
    """Whom a piece that names people or files is made for — a kind of reader, never a person: moderators and
    administrators see people's full names and files' original names, everyone else short names and public file
    names (:func:`catalogue.accounts.models.name_for`, :func:`catalogue.media.names.file_label`). An uploader of
    one of the files (``uploaders``: their ids) sees its original name: None, a piece made for them alone."""
    if not current_user.is_authenticated:
        return "everyone"
    if current_user.is_staff:
        return "staff"
    return None if current_user.id in uploaders else "everyone"


def query_key() -> str:
    """The request's parameters as the views read them (``request.args``), sorted by name and encoded one way."""
    return urlencode(sorted(request.args.items(multi=True), key=lambda pair: pair[0]))
