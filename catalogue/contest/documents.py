"""The contest's documents: the diplomas (PDF with WeasyPrint) and the rows of the results for the organizers
(written as CSV and XLSX by ``catalogue.exports``). The season's collection of materials is built by a background
job (``catalogue.contest.collection``).

Public documents name students as «Имя Ф.» only; diplomas (for the student, the supervisor and the
administrators) and the organizers' tables carry full names.
"""

import datetime as dt
from collections.abc import Iterator

from flask import render_template

from catalogue.contest import results
from catalogue.contest.models import Award, Entry, Season
from catalogue.formatting import ru_date
from catalogue.pdf import pdf_response as pdf_response  # the contest's views use it from here
from catalogue.pdf import write_pdf
from catalogue.urls import external_url


def diploma_pdf(entry: Entry) -> bytes:
    """The diploma (winner, prize-winner) or certificate (participant) of one entry."""
    html = render_template(
        "contest/pdf/diploma.html",
        entry=entry,
        season=entry.season,
        award=Award(entry.award or Award.PARTICIPANT),
        Award=Award,
        issued=ru_date(entry.season.results_published_at or dt.datetime.now(dt.UTC)),
    )
    return write_pdf(html)


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
