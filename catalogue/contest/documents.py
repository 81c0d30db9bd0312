"""The contest's documents: the diplomas (PDF with WeasyPrint, rendered by a background job into files) and the
rows of the results for the organizers (written as CSV and XLSX by ``catalogue.exports``). The season's collection
of materials is built by a background job too (``catalogue.contest.collection``).

Public documents name students as «Имя Ф.» only; diplomas (for the student, the supervisor and the
administrators) and the organizers' tables carry full names.
"""

import datetime as dt
import hashlib
from collections.abc import Iterator

from flask import render_template

from catalogue.contest import results
from catalogue.contest.models import Award, Entry, Season
from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.jobs import JobContext, enqueue, job
from catalogue.jobs.models import Job
from catalogue.media import storage
from catalogue.pdf import pdf_response as pdf_response  # the contest's views use it from here
from catalogue.pdf import write_pdf
from catalogue.urls import external_url

DIPLOMA_KIND = "contest.diploma"
DIPLOMA_FOLDER = "contest/diplomas"  # in the site's storage: <year>/<entry id>-<digest of its HTML>.pdf


def diploma_html(entry: Entry) -> str:
    """The diploma (winner, prize-winner) or certificate (participant) of one entry, as HTML (the same for whoever
    asks: it names nobody by the viewer's rights)."""
    return render_template(
        "contest/pdf/diploma.html",
        entry=entry,
        season=entry.season,
        award=Award(entry.award or Award.PARTICIPANT),
        Award=Award,
        issued=ru_date(entry.season.results_published_at or dt.datetime.now(dt.UTC)),
    )


def diploma_pdf(entry: Entry) -> bytes:
    """The diploma rendered now (tests, and the job below)."""
    return write_pdf(diploma_html(entry))


def diploma_file(entry: Entry) -> str:
    """The stored name (:mod:`catalogue.media.storage`) of the diploma of the entry as it is now: named by the
    digest of its HTML, so a changed award, name or school is a new file and an old one is never served."""
    digest = hashlib.sha256(diploma_html(entry).encode("utf-8")).hexdigest()[:24]
    return f"{DIPLOMA_FOLDER}/{entry.season.year}/{entry.id}-{digest}.pdf"


def queue_diploma(entry: Entry) -> Job:
    """Queue the rendering of the entry's diploma (nothing new while one is queued or running)."""
    return enqueue(DIPLOMA_KIND, {"entry_id": entry.id}, key=f"{DIPLOMA_KIND}:{entry.id}")


@job(DIPLOMA_KIND, max_attempts=3, lease_seconds=5 * 60)
def build_diploma(arguments: dict, context: JobContext) -> dict | None:
    """Render the diploma into its stored file (written atomically), and remove the entry's older versions."""
    entry = db.session.get(Entry, arguments["entry_id"])
    if entry is None or not entry.award or not entry.season.results_published:
        db.session.commit()
        return None
    html, name = diploma_html(entry), diploma_file(entry)
    db.session.commit()  # nothing is read while rendering
    store = storage.backend()
    if not store.exists(name):
        store.write(name, write_pdf(html))  # one page: small
    folder, _slash, file_name = name.rpartition("/")
    for old in list(store.names(folder)):
        if old != name and old.rpartition("/")[2].startswith(f"{arguments['entry_id']}-"):
            store.delete(old)
    return {"file": file_name}


def consent_form_pdf(entry: Entry, record) -> bytes:
    """The printable consent form of a parent, filled with the entry's and the child's details."""
    from catalogue.contest.parental import TEXT_VERSION

    html = render_template(
        "contest/pdf/consent_form.html",
        entry=entry,
        student=entry.author,
        season=entry.season,
        record=record,
        version=TEXT_VERSION,
    )
    return write_pdf(html)


# -- results tables --------------------------------------------------------------------------------


def results_rows(season: Season) -> Iterator[list]:
    """The ranking for the organizers: one row per admitted entry, with full names (not for publication).

    Rows are made as they are read, a batch of entries at a time, so a download of any size fits in memory.
    """
    header = ["Номинация", "Возрастная категория", "Место", "Награда", "Итоговый балл"]
    header += [f"{c.name} (ср., из {c.max_score}, вес {c.weight:g})" for c in season.criteria]
    header += ["Оценок жюри", "Работа", "Участник", "Класс", "Организация", "Муниципальное образование",
               "Руководитель", "Соавторы", "Отправлена", "Ссылка"]  # fmt: skip
    criteria = [c.id for c in season.criteria]
    yield header
    for s in results.standings(season):
        entry = s.entry
        award = Award(entry.award).label if entry.award else f"{s.proposed.label} (предварительно)"
        yield [
            entry.nomination.name,
            entry.age_category.name,
            s.place,
            award,
            round(s.total, 2) if s.total is not None else None,
            *[round(s.criterion_means[c], 2) if c in s.criterion_means else None for c in criteria],
            s.reviews,
            entry.title,
            entry.author.full_name,
            entry.grade,
            entry.organization.name if entry.organization else "",
            entry.municipality_name,
            entry.supervisor.full_name if entry.supervisor else "",
            entry.coauthors,
            entry.submitted_at,
            external_url("contest.entry", entry_id=entry.id),
        ]
