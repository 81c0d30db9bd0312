"""The season's collection of materials: a PDF built by a background job, kept as a file, served as one.

A visitor never triggers a render: the public address serves the file of the newest completed build, or says
«Сборник готовится» (queueing the first build if there never was one). A build is queued when the results are
published or taken back (``results``) and when an administrator asks for it («Собрать сборник»); admitting an entry
changes nothing until the next build.

The build works in bounded memory at any size, in time proportional to the entries: every part is a small HTML
document rendered by WeasyPrint on its own — per nomination × age category, the winners' and prize-winners' works in
full with their pictures (a few dozen at a time), then every admitted entry as a line of a compact table (a few
hundred at a time) — written to a file of its own; the cover and contents come last, when the page of every section
is known, and ``pypdf`` joins the files. The database is read a chunk at a time in short transactions, never during
a render. The parts are rendered in a folder of the worker's host (``instance/work/``); the joined file goes to the
site's storage (:mod:`catalogue.media.storage`, atomically, under ``contest/collections/``), so every host serves it;
the completed job's result names it.
"""

import base64
import datetime as dt
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from catalogue import page_cache
from catalogue.clock import utcnow
from catalogue.contest.models import AgeCategory, Award, Entry, Nomination, Season
from catalogue.extensions import db
from catalogue.jobs import JobContext, enqueue, job, queue
from catalogue.jobs.models import Job, JobState
from catalogue.media import storage
from catalogue.pdf import write_pdf_file
from catalogue.urls import external_url
from catalogue.workflow.models import Status

log = logging.getLogger(__name__)

KIND = "contest.collection"
FOLDER = "contest/collections"  # in the site's storage (catalogue.media.storage)
KEEP = 3  # built files kept per season (a download under way keeps reading its own)
FULL_CHUNK = 30  # works in full (with a picture) per rendered part
TABLE_CHUNK = 400  # catalogue lines per rendered part
IN_FULL = (Award.WINNER, Award.PRIZE)


def key(season: Season) -> str:
    return f"{KIND}:{season.id}"


def queue_build(season: Season) -> Job:
    """Queue a build of ``season``'s collection in the current transaction (nothing new when one is queued or
    running: a running one notices changed results when it ends and builds once more)."""
    return enqueue(KIND, {"season_id": season.id}, key=key(season))


@dataclass
class Built:
    name: str  # in the storage
    built_at: dt.datetime
    entries: int
    pages: int

    @property
    def file_name(self) -> str:
        return self.name.rpartition("/")[2]


def built(season: Season) -> Built | None:
    """The collection file now served, with its build date; None before the first build completes."""
    done = queue.latest_done(key(season))
    if done is None or not (result := done.result) or not result.get("file"):
        return None
    name = f"{FOLDER}/{result['file']}"
    try:
        if not storage.backend().exists(name):
            return None
    except ValueError:  # not a name this site writes
        return None
    return Built(name, done.finished_at, result.get("entries", 0), result.get("pages", 0))


def state(season: Season) -> Job | None:
    """The newest job of the season's collection (any state), for the administrators."""
    return db.session.scalar(select(Job).where(Job.key == key(season)).order_by(Job.created_at.desc(), Job.id.desc()))


def building(season: Season) -> Job | None:
    """The build queued or running now, if any."""
    return queue.active(key(season))


def has_admitted(season: Season) -> bool:
    return (
        db.session.scalar(
            select(Entry.id).where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED).limit(1)
        )
        is not None
    )


def needs_build(season: Season) -> bool:
    """No file is served and none is coming: never built, or built and its file is gone (a restored backup, a lost
    disk). A failed build waits for an administrator's «Собрать сборник» instead of every visitor retrying it."""
    latest = state(season)
    return latest is None or latest.state == JobState.DONE


# -- the build ------------------------------------------------------------------------------------


@dataclass
class Group:
    nomination: str
    category: str
    nomination_id: int
    category_id: int
    count: int
    first_page: int = 0


def _groups(season: Season) -> list[Group]:
    rows = db.session.execute(
        select(Nomination.name, AgeCategory.name, Nomination.id, AgeCategory.id, func.count(Entry.id))
        .join(Nomination, Entry.nomination_id == Nomination.id)
        .join(AgeCategory, Entry.age_category_id == AgeCategory.id)
        .where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED)
        .group_by(Nomination.id, AgeCategory.id, Nomination.name, AgeCategory.name, Nomination.position)
        .group_by(AgeCategory.position)
        .order_by(Nomination.position, Nomination.id, AgeCategory.position, AgeCategory.id)
    ).all()
    return [Group(*row) for row in rows]


def _ids(season: Season, group: Group, awards: tuple[str, ...] | None = None) -> list[int]:
    """The group's admitted entries in the collection's order: by place (unranked last), title."""
    stmt = (
        select(Entry.id)
        .where(
            Entry.season_id == season.id,
            Entry.status == Status.PUBLISHED,
            Entry.nomination_id == group.nomination_id,
            Entry.age_category_id == group.category_id,
        )
        .order_by(Entry.rank.asc().nulls_last(), Entry.title, Entry.id)
    )
    if awards is not None:
        stmt = stmt.where(Entry.award.in_(awards))
    return list(db.session.scalars(stmt))


def _load(ids: list[int]) -> list[Entry]:
    entries = db.session.scalars(
        select(Entry)
        .where(Entry.id.in_(ids))
        .options(selectinload(Entry.author), selectinload(Entry.supervisor))
        .execution_options(populate_existing=True)
    ).unique()
    by_id = {e.id: e for e in entries}
    return [by_id[i] for i in ids if i in by_id]


def _thumbnail_data_uri(entry: Entry) -> str | None:
    """The model's thumbnail inlined (the PDF renderer fetches nothing from the network or disk)."""
    model = entry.model_file
    if model is None or not model.thumbnail_key:
        return None
    try:
        data = storage.read(model.thumbnail_key)
    except (FileNotFoundError, ValueError):
        return None
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _chunks(ids: list[int], size: int):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class _Parts:
    """The rendered parts of one build, as files, with the number of pages so far."""

    def __init__(self, directory: Path, context: JobContext | None) -> None:
        self.directory = directory
        self.files: list[Path] = []
        self.pages = 0
        self.context = context

    def render(self, season: Season, first_page: int, **values) -> tuple[Path, int]:
        """Render one part from the data read now; the transaction ends before WeasyPrint starts."""
        html = render_template("contest/pdf/collection.html", season=season, first_page=first_page, **values)
        db.session.commit()  # end the read: no lock is held while rendering
        db.session.expunge_all()  # nor the chunk's objects
        path = self.directory / f"part-{len(self.files):05d}.pdf"
        pages = write_pdf_file(html, path)
        if self.context is not None and not self.context.heartbeat():
            raise RuntimeError("Задачу перехватил другой исполнитель.")
        return path, pages

    def add(self, season: Season, **values) -> None:
        path, pages = self.render(season, self.pages + 1, **values)
        self.files.append(path)
        self.pages += pages


def build(season_id: int, context: JobContext | None = None) -> dict | None:
    """Build the collection of the season; the result names the file (None when nothing is admitted)."""
    season = db.session.get(Season, season_id)
    if season is None:
        return None
    year, published_at = season.year, season.results_published_at
    groups = _groups(season)
    if not groups:
        db.session.commit()
        return {"file": None, "entries": 0, "pages": 0, "results_published_at": _iso(published_at)}
    total = sum(g.count for g in groups)
    show = {"show_authors": not season.authors_hidden, "show_awards": season.results_published}
    # The parts stay on this host (only the joined file is shared), in a folder of the attempt's job
    work = Path(current_app.instance_path) / "work" / f"collection-{context.job_id if context else 'direct'}"
    shutil.rmtree(work, ignore_errors=True)  # a killed attempt's parts
    work.mkdir(parents=True)
    try:
        cover_values = {
            "cover": True,
            "groups": groups,
            "count": total,
            "site_url": external_url("contest.season", year=year),
        }
        # The cover and contents first with stand-in page numbers, to know how many pages they take
        season = db.session.get(Season, season_id)
        _path, front_pages = _Parts(work, None).render(season, 1, **cover_values)
        parts = _Parts(work, context)
        parts.pages = front_pages
        for group in groups:
            group.first_page = parts.pages + 1
            heading = True
            full = _ids(db.session.get(Season, season_id), group, IN_FULL) if show["show_awards"] else []
            for chunk in _chunks(full, FULL_CHUNK):
                items = [{"entry": e, "thumbnail": _thumbnail_data_uri(e)} for e in _load(chunk)]
                parts.add(db.session.get(Season, season_id), group=group, heading=heading, full=items, **show)
                heading = False
            lines = _ids(db.session.get(Season, season_id), group)
            for number, chunk in enumerate(_chunks(lines, TABLE_CHUNK)):
                rows = _load(chunk)
                parts.add(
                    db.session.get(Season, season_id),
                    group=group,
                    heading=heading,
                    table=rows,
                    table_title=number == 0,
                    start=number * TABLE_CHUNK + 1,
                    **show,
                )
                heading = False
        season = db.session.get(Season, season_id)
        front, pages = parts.render(season, 1, **cover_values)
        if pages != front_pages:  # the page numbers made the contents longer: once more, shifted
            log.warning("Collection %s: contents took %s pages, not %s", year, pages, front_pages)
        name = f"{FOLDER}/sozdatel-{year}-{context.job_id if context else 0}.pdf"
        _join(front, parts.files, groups, work / "joined.pdf", name)
        if context is not None:
            season = db.session.get(Season, season_id)
            context.again = season.results_published_at != published_at
            db.session.commit()
        _remove_old(year, keep=name)
        # The public pages name the new file and its date: counted a change with the job's completion
        page_cache.bump(db.session)
        return {
            "file": name.rpartition("/")[2],
            "entries": total,
            "pages": pages + parts.pages - front_pages,
            "results_published_at": _iso(published_at),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _join(front: Path, files: list[Path], groups: list[Group], path: Path, name: str) -> None:
    """The parts as one PDF, with a bookmark per section, written to ``path`` and stored as ``name``."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.append(str(front))
    for part in files:
        writer.append(str(part))
    for group in groups:
        writer.add_outline_item(title=f"{group.nomination} · {group.category}", page_number=group.first_page - 1)
    writer.add_metadata({"/Title": Path(name).stem, "/Producer": "Профориентация Приангарья"})
    with path.open("wb") as out:
        writer.write(out)
    writer.close()
    with path.open("rb") as joined:
        storage.backend().write(name, joined)


def _remove_old(year: int, keep: str) -> None:
    store = storage.backend()

    def modified(name: str) -> float:
        try:
            return store.modified(name)
        except FileNotFoundError:  # removed meanwhile by another build
            return 0.0

    prefix = f"{FOLDER}/sozdatel-{year}-"
    files = sorted((n for n in store.names(FOLDER) if n.startswith(prefix) and n.endswith(".pdf")), key=modified)
    for old in [n for n in reversed(files) if n != keep][KEEP - 1 :]:
        store.delete(old)


@job(KIND, max_attempts=3, lease_seconds=15 * 60)
def build_job(arguments: dict, context: JobContext) -> dict | None:
    return build(arguments["season_id"], context)


def latest_states(season: Season) -> dict:
    """What the administrators see: the file served (with its date) and the newest job with its state."""
    return {"built": built(season), "job": state(season), "JobState": JobState, "now": utcnow()}
