"""Is a built collection whole? ``python -m benchmarks collection-check [--season YEAR]`` (the site of the environment).

Reads the newest completed build of the season's collection (``catalogue.contest.collection.built``) with
``pdftotext`` (poppler-utils) or ``pypdf``, and checks it against the database: the page count the job recorded,
every admitted entry's title in the catalogue, and the winners and prize-winners in full (the first words of their
description). Prints the figures and what is missing; the exit status
is 1 when anything is.
"""

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

SPACES = re.compile(r"\s+")


def _flat(text: str) -> str:
    """The text with every run of white space (line and page breaks of table cells) as one space."""
    return SPACES.sub(" ", text).strip()


def _read(path: Path) -> tuple[int, str]:
    """The PDF's page count and text, with ``pdftotext`` when installed (faster), else ``pypdf``."""
    from pypdf import PdfReader

    reader = PdfReader(path)
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        # -raw: in the order of drawing, so a table cell's lines come together
        done = subprocess.run([pdftotext, "-raw", str(path), "-"], capture_output=True, text=True, check=True)  # noqa: S603
        return len(reader.pages), _flat(done.stdout) + " "
    return len(reader.pages), _flat(" ".join(page.extract_text() for page in reader.pages)) + " "


def check(year: int | None, echo: Callable[[str], None] = print) -> bool:
    from catalogue.contest import collection
    from catalogue.contest.models import Entry, Season
    from catalogue.database import reading
    from catalogue.extensions import db
    from catalogue.markdown import plain_text
    from catalogue.workflow.models import Status

    with reading():  # a read of its own (on SQLite no write lock), ended before the long look at the PDF
        stmt = select(Season).order_by(Season.year)
        season = db.session.scalar(stmt.where(Season.year == year) if year else stmt.limit(1))
        done = collection.built(season) if season is not None else None
        published = season is not None and season.results_published
        rows = [] if done is None else db.session.execute(
            select(Entry.id, Entry.title, Entry.award, Entry.description)
            .where(Entry.season_id == season.id, Entry.status == Status.PUBLISHED)
        ).all()  # fmt: skip
        db.session.rollback()
    if done is None:
        echo("Сборник этого сезона ещё не собран (или нет такого сезона).")
        return False
    pages, flat = _read(done.path)
    echo(f"{done.path.name}: {done.path.stat().st_size / 1e6:.1f} MB, {pages} pages (job: {done.pages}), "
         f"{done.entries} entries (job)")  # fmt: skip
    missing, not_in_full, admitted, in_full = [], [], 0, 0
    for entry_id, title, award, description in rows:
        admitted += 1
        if _flat(title) + " " not in flat:  # whole: «№ 12» is not found in «№ 123»
            missing.append(f"{entry_id} «{title}»")
        if published and award in collection.IN_FULL:
            in_full += 1
            words = " ".join(_flat(plain_text(description)).split()[:4])
            if words not in flat:
                not_in_full.append(f"{entry_id} «{title}»: «{words}…»")
    echo(f"admitted: {admitted}, missing from the catalogue: {len(missing)}; in full: {in_full}, "
         f"without their description: {len(not_in_full)}")  # fmt: skip
    for line in (missing + not_in_full)[:20]:
        echo(f"  {line}")
    return pages == done.pages and done.entries == admitted and not missing and not not_in_full


def main(year: int | None, echo: Callable[[str], None] = print) -> None:
    from catalogue import create_app

    with create_app({"WARM_UP": False, "PAGE_CACHE": False}).app_context():
        sys.exit(0 if check(year, echo) else 1)
