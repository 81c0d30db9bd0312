"""Tables for the organizers' spreadsheets: CSV that the Russian Excel opens as is, XLSX, and safe cells.

UTF-8 with a BOM and «;» between cells (the Russian Excel's list separator); no cell that a
spreadsheet would run as a formula (CSV injection).
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence

from flask import Response

from catalogue.clock import local

# A cell starting with one of these is a formula to a spreadsheet; a leading apostrophe makes it
# text. Tabs and carriage returns are on OWASP's list too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str | int:
    """One value as a cell: whole numbers stay numbers, decimals take a comma, dates are Russian
    (moments in Irkutsk time), yes/no in words, and text never starts a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return str(value).replace(".", ",")
    if isinstance(value, dt.datetime):
        return local(value).strftime("%d.%m.%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    text = str(value)
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[Sequence], title: str) -> bytes:
    """An XLSX workbook of ``rows``; text is always stored as text, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c)
            if isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # openpyxl would take "=..." for a formula
            elif isinstance(value, dt.datetime):
                # Excel knows no time zones: the moment as Irkutsk wall-clock time, as in the CSV
                cell.value = local(value).replace(tzinfo=None, microsecond=0)
                cell.number_format = "DD.MM.YYYY HH:MM"
            elif isinstance(value, dt.date | int | float) or value is None:
                cell.value = value
            else:
                cell.value = str(value)
                cell.data_type = "s"
            if r == 1:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(cell.value or "")) for cell in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(data: bytes, filename: str, content_type: str) -> Response:
    """A private download of ``data`` as ``filename`` (an ASCII name)."""
    response = Response(data, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def csv_download(rows: Iterable[Sequence], filename: str) -> Response:
    return download(to_csv(rows), filename, "text/csv; charset=utf-8")
