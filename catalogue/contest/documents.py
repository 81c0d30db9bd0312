"""The contest's documents: the season's collection of materials and the diplomas (PDF with WeasyPrint),
and the rows of the results for the organizers (written as CSV and XLSX by ``catalogue.exports``).

Public documents name students as «Имя Ф.» only; diplomas (for the student, the supervisor and the
administrators) and the organizers' tables carry full names.
"""

import base64
import datetime as dt
from collections.abc import Iterator

from flask import render_template

from catalogue.contest import entries as entry_service
from catalogue.contest import results
from catalogue.contest.models import Award, Entry, Season
from catalogue.formatting import ru_date
from catalogue.media import storage
from catalogue.pdf import cached, write_pdf
from catalogue.pdf import pdf_response as pdf_response  # the contest's views use it from here
from catalogue.permissions import NotFound
from catalogue.urls import external_url

CACHE_FOLDER = "cache/contest"
CACHE_KEEP = 20  # collections kept on disk; older versions are removed


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


def collection_html(season: Season) -> str:
    """The collection as HTML: cover, contents, and every admitted entry by nomination and age category."""
    items = entry_service.published_entries(season)
    if not items:
        raise NotFound
    sections: list[dict] = []
    for entry in items:
        if not sections or sections[-1]["key"] != (entry.nomination_id, entry.age_category_id):
            sections.append(
                {
                    "key": (entry.nomination_id, entry.age_category_id),
                    "nomination": entry.nomination,
                    "category": entry.age_category,
                    "entries": [],
                    "anchor": f"s{len(sections) + 1}",
                }
            )
        sections[-1]["entries"].append({"entry": entry, "thumbnail": _thumbnail_data_uri(entry)})
    return render_template(
        "contest/pdf/collection.html",
        season=season,
        sections=sections,
        count=len(items),
        show_authors=not season.authors_hidden,
        show_awards=season.results_published,
        site_url=external_url("contest.season", year=season.year),
    )


def collection_pdf(season: Season) -> bytes:
    """:raise NotFound: the season has no admitted entries."""
    return cached(f"collection-{season.year}", collection_html(season), CACHE_FOLDER, CACHE_KEEP)


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
