"""The adoption report as CSV that Excel opens as is: UTF-8 with a BOM, «;» between cells (the Russian
Excel's list separator), and no cell that Excel would run as a formula.
"""

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence

from flask import Response

from catalogue.practices.services import AdoptionReport

# A cell starting with one of these is a formula to a spreadsheet (CSV injection); a leading
# apostrophe makes it text. Tabs and carriage returns are on OWASP's list too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int:
    """One value as a cell: numbers stay numbers, dates are Russian, text never starts a formula."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    text = str(value)
    if text.startswith(FORMULA_STARTS) or text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def response(rows: Iterable[Sequence], filename: str) -> Response:
    """A download of ``rows`` as ``filename`` (an ASCII name)."""
    result = Response(to_csv(rows), content_type="text/csv; charset=utf-8")
    result.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    result.headers["Cache-Control"] = "no-store"
    return result


def adoptions(report: AdoptionReport) -> Iterator[Sequence]:
    yield ("Практика", "Организация практики", "Внедрила организация", "Муниципальное образование",
           "Дата внедрения", "Комментарий", "Отметил(а)", "Отмечено")  # fmt: skip
    for a in report.adoptions:
        yield (
            a.practice.title,
            a.practice.organization.name,
            a.organization.name,
            a.organization.municipality.name,
            a.adopted_on,
            a.comment,
            a.author.full_name if a.author else "",
            a.created_at.date(),
        )


def by_municipality(report: AdoptionReport) -> Iterator[Sequence]:
    yield ("Муниципальное образование", "Внедрений", "Организаций", "Практик")
    for row in report.by_municipality:
        yield (row.municipality, row.adoptions, row.organizations, row.practices)


def by_practice(report: AdoptionReport) -> Iterator[Sequence]:
    yield ("Практика", "Организация", "Муниципальное образование", "Внедрили организаций", "Муниципалитетов")
    for row in report.by_practice:
        p = row.practice
        yield (p.title, p.organization.name, p.municipality.name, row.organizations, row.municipalities)


REPORTS: dict[str, Callable[[AdoptionReport], Iterator[Sequence]]] = {
    "adoptions": adoptions,
    "municipality": by_municipality,
    "practice": by_practice,
}
