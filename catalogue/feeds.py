"""Spreading what is published: Atom feeds and the sitemap (an index of files of at most 50,000 addresses).

``atom_feed`` builds any feed from a list of :class:`FeedEntry`; the feeds and the sitemap's items are the
``feed`` and ``sitemap`` parts the content types declare (``catalogue.content``).
XML is built with ElementTree, so text is always escaped; characters that XML 1.0
cannot carry at all are dropped. Only published items ever reach a feed or the sitemap.
"""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from flask import Blueprint, Response, abort, current_app
from sqlalchemy import func, select
from werkzeug.routing import BuildError

from catalogue import content, fragments
from catalogue.clock import utcnow
from catalogue.content import FeedEntry, Sitemap
from catalogue.extensions import db
from catalogue.urls import external_url

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_LENGTH = 50
SITE_NAME = "Профориентация Приангарья"
# Control characters are not allowed in XML 1.0, not even escaped.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Public pages without an item behind them; an endpoint that does not exist (yet) is left out.
STATIC_PAGES = ("main.home", "projects.index", "practices.index", "contest.index", "main.about", "main.privacy")

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

    def document() -> bytes:
        return atom_feed(
            declared.title,
            external_url("feeds.feed", name=name),
            external_url(declared.home_endpoint),
            declared.entries(FEED_LENGTH),
            subtitle=declared.subtitle,
        )

    return feed_response(fragments.cached("feeds.feed", name, make=document))  # the same for everybody


# -- the sitemap ------------------------------------------------------------------------------------


PAGES = "pages"  # the section of the public pages without an item behind them


def _static_urls() -> list[tuple[str, dt.datetime | None]]:
    urls = []
    for endpoint in STATIC_PAGES:
        try:
            urls.append((external_url(endpoint), None))
        except BuildError:
            continue
    return urls


def _sections() -> dict[str, Sitemap]:
    """The content types' sitemap parts by their key, which names their files."""
    return {t.key: t.sitemap for t in content.all_types() if t.sitemap is not None}


def _rows_per_file(sitemap: Sitemap) -> int:
    return max(1, current_app.config["SITEMAP_URLS_PER_FILE"] // sitemap.urls_per_row)


def _files(sitemap: Sitemap) -> list[tuple[int, dt.datetime | None]]:
    """The numbers of a section's files that hold something, with the last change in each.

    File ``n`` holds the items whose key is in ``((n - 1) * size, n * size]``: an item never moves to another
    file, and each file is one range scan of the key. One grouped query over the keys finds them all.
    """
    size = _rows_per_file(sitemap)
    published = sitemap.query().subquery()
    key, changed = published.c[0], published.c[1]
    number = ((key - 1) // size + 1).label("number")
    return list(db.session.execute(select(number, func.max(changed)).group_by(number).order_by(number)))


def _urls(sitemap: Sitemap, number: int) -> Iterable[tuple[str, dt.datetime | None]]:
    """The addresses of file ``number`` of a section: a query of just its slice of keys."""
    size = _rows_per_file(sitemap)
    published = sitemap.query().subquery()
    key = published.c[0]
    rows = db.session.execute(select(published).where(key > (number - 1) * size, key <= number * size).order_by(key))
    for row in rows:
        yield from sitemap.urls(row)


def _xml_response(root: ET.Element) -> Response:
    document = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    response = Response(document, content_type="application/xml; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/sitemap.xml")
def sitemap():
    """The sitemap index (sitemaps.org 0.9): the public pages' file and the files of every content type."""
    index = ET.Element("sitemapindex", {"xmlns": SITEMAP_NS})
    per_file = current_app.config["SITEMAP_URLS_PER_FILE"]
    pages = len(_static_urls())
    files: list[tuple[str, int, dt.datetime | None]] = [(PAGES, n, None) for n in range(1, -(-pages // per_file) + 1)]
    for section, declared in _sections().items():
        files += [(section, number, changed) for number, changed in _files(declared)]
    for section, number, changed in files:
        entry = _sub(index, "sitemap")
        _sub(entry, "loc", external_url("feeds.sitemap_file", section=section, number=number))
        if changed:
            _sub(entry, "lastmod", _timestamp(changed))
    return _xml_response(index)


@bp.get("/sitemap-<section>-<int:number>.xml")
def sitemap_file(section: str, number: int):
    """One file of the sitemap: at most ``SITEMAP_URLS_PER_FILE`` addresses of one section."""
    if number < 1:
        abort(404)
    if section == PAGES:
        per_file = current_app.config["SITEMAP_URLS_PER_FILE"]
        urls = _static_urls()[(number - 1) * per_file : number * per_file]
    else:
        declared = _sections().get(section)
        urls = list(_urls(declared, number)) if declared is not None else []
    if not urls:
        abort(404)
    urlset = ET.Element("urlset", {"xmlns": SITEMAP_NS})
    for loc, changed in urls:
        url = _sub(urlset, "url")
        _sub(url, "loc", loc)
        if changed:
            _sub(url, "lastmod", changed.date().isoformat())
    return _xml_response(urlset)
