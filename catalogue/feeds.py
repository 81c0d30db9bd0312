"""Spreading what is published: Atom feeds and the sitemap.

``atom_feed`` builds any feed from a list of :class:`FeedEntry`; the feeds and the sitemap's items are the
``feed`` and ``sitemap`` parts the content types declare (``catalogue.content``).
XML is built with ElementTree, so text is always escaped; characters that XML 1.0
cannot carry at all are dropped. Only published items ever reach a feed or the sitemap.
"""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from flask import Blueprint, Response, abort
from werkzeug.routing import BuildError

from catalogue import content
from catalogue.clock import utcnow
from catalogue.content import FeedEntry
from catalogue.urls import external_url

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_LENGTH = 50
SITE_NAME = "Профориентация Приангарья"
# Control characters are not allowed in XML 1.0, not even escaped.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Public pages without an item behind them; an endpoint that does not exist (yet) is left out.
STATIC_PAGES = ("main.home", "projects.index", "practices.index", "contest.index", "main.privacy")

bp = Blueprint("feeds", __name__)


def _clean(text: str) -> str:
    return XML_INVALID.sub("", text or "")


def _timestamp(value: dt.datetime) -> str:
    return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def atom_feed(title: str, feed_url: str, site_url: str, entries: list[FeedEntry], subtitle: str = "") -> bytes:
    """An Atom 1.0 document (RFC 4287) of ``entries``, newest first as given."""
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "ru"})
    _sub(feed, "id", feed_url)
    _sub(feed, "title", title)
    if subtitle:
        _sub(feed, "subtitle", subtitle)
    updated = max((e.updated for e in entries), default=None) or utcnow()
    _sub(feed, "updated", _timestamp(updated))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=site_url)
    _sub(_sub(feed, "author"), "name", SITE_NAME)
    _sub(feed, "generator", SITE_NAME)
    for e in entries:
        entry = _sub(feed, "entry")
        _sub(entry, "id", e.url)
        _sub(entry, "title", e.title)
        _sub(entry, "link", rel="alternate", type="text/html", href=e.url)
        _sub(entry, "updated", _timestamp(e.updated))
        if e.published:
            _sub(entry, "published", _timestamp(e.published))
        if e.author:
            _sub(_sub(entry, "author"), "name", e.author)
        for category in e.categories:
            _sub(entry, "category", term=category)
        if e.summary:
            _sub(entry, "summary", e.summary, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def feed_response(document: bytes) -> Response:
    response = Response(document, content_type="application/atom+xml; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=600"
    return response


# -- the feeds --------------------------------------------------------------------------------------


@bp.get("/feeds/<name>.atom")
def feed(name: str):
    """The feed a content type declares (``catalogue.content.Feed``): practices, projects, contest results."""
    declared = next((t.feed for t in content.all_types() if t.feed is not None and t.feed.name == name), None)
    if declared is None:
        abort(404)
    return feed_response(
        atom_feed(
            declared.title,
            external_url("feeds.feed", name=name),
            external_url(declared.home_endpoint),
            declared.entries(FEED_LENGTH),
            subtitle=declared.subtitle,
        )
    )


# -- the sitemap ------------------------------------------------------------------------------------


def _static_urls() -> Iterable[tuple[str, dt.datetime | None]]:
    for endpoint in STATIC_PAGES:
        try:
            yield external_url(endpoint), None
        except BuildError:
            continue


def _published_urls() -> Iterable[tuple[str, dt.datetime | None]]:
    """The public pages every content type declares: a few narrow queries, no objects loaded."""
    for content_type in content.all_types():
        if content_type.sitemap is not None:
            yield from content_type.sitemap()


@bp.get("/sitemap.xml")
def sitemap():
    """The sitemap (sitemaps.org 0.9) of the public pages and everything published."""
    urlset = ET.Element("urlset", {"xmlns": SITEMAP_NS})
    for loc, changed in [*_static_urls(), *_published_urls()]:
        url = _sub(urlset, "url")
        _sub(url, "loc", loc)
        if changed:
            _sub(url, "lastmod", changed.date().isoformat())
    document = ET.tostring(urlset, encoding="utf-8", xml_declaration=True)
    response = Response(document, content_type="application/xml; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
