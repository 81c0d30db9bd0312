"""Spreading what is published: Atom feeds and the sitemap.

``atom_feed`` builds any feed from a list of :class:`FeedEntry` (the contest results feed will be one more
view of a few lines). XML is built with ElementTree, so text is always escaped; characters that XML 1.0
cannot carry at all are dropped. Only published items ever reach a feed or the sitemap.
"""

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import Blueprint, Response
from sqlalchemy import select
from werkzeug.routing import BuildError

from catalogue.accounts.models import utcnow
from catalogue.contest.models import Entry, Season
from catalogue.extensions import db
from catalogue.formatting import slugify
from catalogue.markdown import plain_text
from catalogue.practices.models import Practice
from catalogue.projects.models import Project, ProjectReport
from catalogue.urls import external_url
from catalogue.workflow.models import Status

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_LENGTH = 50
SITE_NAME = "Профориентация Приангарья"
# Control characters are not allowed in XML 1.0, not even escaped.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Public pages without an item behind them; an endpoint that does not exist (yet) is left out.
STATIC_PAGES = ("main.home", "projects.index", "practices.index", "contest.index", "main.privacy")

bp = Blueprint("feeds", __name__)


@dataclass
class FeedEntry:
    title: str
    url: str  # absolute; also the entry's id, so it must not change
    updated: dt.datetime  # naive UTC, as the models store it
    published: dt.datetime | None = None
    summary: str = ""
    author: str = ""
    categories: list[str] = field(default_factory=list)


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


@bp.get("/feeds/practices.atom")
def practices():
    """Newly published best practices."""
    items = db.session.scalars(
        select(Practice)
        .where(Practice.status == Status.PUBLISHED)
        .order_by(Practice.published_at.desc(), Practice.id.desc())
        .limit(FEED_LENGTH)
    ).all()
    entries = [
        FeedEntry(
            title=p.title,
            url=external_url("practices.detail", practice_id=p.id, slug=p.slug),
            updated=p.current_version_date or p.updated_at,
            published=p.published_at,
            summary=plain_text(p.summary),
            author=f"{p.organization.name} ({p.municipality.name})",
            categories=[item.title for item in p.roadmap_items],
        )
        for p in items
    ]
    return feed_response(
        atom_feed(
            "Лучшие профориентационные практики — Профориентация Приангарья",
            external_url("feeds.practices"),
            external_url("practices.index"),
            entries,
            subtitle="Новые практики школ и колледжей Иркутской области, готовые к тиражированию.",
        )
    )


@bp.get("/feeds/projects.atom")
def projects():
    """Newly published typical projects."""
    items = db.session.scalars(
        select(Project)
        .where(Project.status == Status.PUBLISHED)
        .order_by(Project.published_at.desc(), Project.id.desc())
        .limit(FEED_LENGTH)
    ).all()
    entries = [
        FeedEntry(
            title=p.title,
            url=external_url("projects.detail", project_id=p.id, slug=p.slug),
            updated=p.published_at or p.updated_at,
            published=p.published_at,
            summary=plain_text(p.summary),
            author=p.organization.name if p.organization else p.author.short_name,
            categories=[g.name for g in p.age_groups] + [s.name for s in p.spheres],
        )
        for p in items
    ]
    return feed_response(
        atom_feed(
            "Типовые проекты — Профориентация Приангарья",
            external_url("feeds.projects"),
            external_url("projects.index"),
            entries,
            subtitle="Новые типовые проекты обучающихся по возрастным группам и профессиональным сферам.",
        )
    )


@bp.get("/feeds/contest.atom")
def contest_results():
    """Published results of the «СоЗДатель» seasons."""
    seasons = db.session.scalars(
        select(Season)
        .where(Season.results_published_at.is_not(None))
        .order_by(Season.results_published_at.desc(), Season.id.desc())
        .limit(FEED_LENGTH)
    ).all()
    entries = [
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
    return feed_response(
        atom_feed(
            "Итоги конкурса «СоЗДатель» — Профориентация Приангарья",
            external_url("feeds.contest_results"),
            external_url("contest.index"),
            entries,
            subtitle="Итоги регионального конкурса детских проектов по 3D-моделированию.",
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
    """Every published project, report, practice, season and entry: a few narrow queries, no objects loaded."""
    for id_, title, changed in db.session.execute(
        select(Project.id, Project.title, Project.updated_at).where(Project.status == Status.PUBLISHED)
    ):
        yield external_url("projects.detail", project_id=id_, slug=slugify(title)), changed
    for id_, changed in db.session.execute(
        select(ProjectReport.id, ProjectReport.updated_at).where(ProjectReport.status == Status.PUBLISHED)
    ):
        yield external_url("projects.report", report_id=id_), changed
    for id_, title, revised, published in db.session.execute(
        select(Practice.id, Practice.title, Practice.revised_at, Practice.published_at).where(
            Practice.status == Status.PUBLISHED
        )
    ):
        yield external_url("practices.detail", practice_id=id_, slug=slugify(title)), revised or published
    for year, results_at in db.session.execute(select(Season.year, Season.results_published_at)):
        yield external_url("contest.season", year=year), None
        if results_at is not None:
            yield external_url("contest.season_results", year=year), results_at
    # Admitted entries: their pages are public (blind judging hides only the authors' names).
    for id_, changed in db.session.execute(select(Entry.id, Entry.updated_at).where(Entry.status == Status.PUBLISHED)):
        yield external_url("contest.entry", entry_id=id_), changed


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
