"""Tables for the organizers' spreadsheets: CSV that the Russian Excel opens as is, XLSX, and safe cells.

Both are streamed: rows are read, written and sent a few at a time, so a table of any length fits in memory.

UTF-8 with a BOM and «;» between cells (the Russian Excel's list separator); no cell that a
spreadsheet would run as a formula (CSV injection).
"""

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence

from flask import Response, stream_with_context

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


CHUNK_ROWS = 200  # rows written out at once by the streaming writers
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def to_csv(rows: Iterable[Sequence], *, delimiter: str = ";", bom: bool = True) -> Iterator[bytes]:
    """The CSV of ``rows`` in pieces of ``CHUNK_ROWS`` rows, read from ``rows`` as it goes (bounded memory).

    ``delimiter=",", bom=False``: the form of open data sets (plain UTF-8, commas), not Excel's.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if bom:
        buffer.write("\ufeff")
    for n, row in enumerate(rows, start=1):
        writer.writerow([safe_cell(value) for value in row])
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_cell(sheet, value, header: bool):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet)
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
    if header:
        cell.font = Font(bold=True)
    return cell


def to_xlsx(rows: Iterable[Sequence], title: str) -> Iterator[bytes]:
    """An XLSX workbook of ``rows`` (the first is the header), in pieces; text is always text, never a formula.

    openpyxl's write-only mode keeps the rows in a temporary file, not in memory: the workbook is written
    row by row as ``rows`` yields them, then read out of its file in chunks. Column widths follow the header.
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    for r, row in enumerate(rows):
        if r == 0:
            for c, value in enumerate(row, start=1):
                width = min(max(10, len(str(value or "")) + 2), 60)
                sheet.column_dimensions[get_column_letter(c)].width = width
        sheet.append([_xlsx_cell(sheet, value, header=r == 0) for value in row])
    with tempfile.TemporaryFile() as file:
        workbook.save(file)
        file.seek(0)
        while chunk := file.read(64 * 1024):
            yield chunk


def download(data: bytes | Iterable[bytes], filename: str, content_type: str) -> Response:
    """A private download of ``data`` (bytes, or pieces made as they are sent) as ``filename`` (an ASCII name).

    Pieces are made inside the request's context, so they may read the database as they go.
    """
    body = data if isinstance(data, bytes) else stream_with_context(iter(data))
    response = Response(body, content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def csv_download(rows: Iterable[Sequence], filename: str) -> Response:
    return download(to_csv(rows), filename, "text/csv; charset=utf-8")


def xlsx_download(rows: Iterable[Sequence], filename: str, title: str) -> Response:
    return download(to_xlsx(rows, title), filename, XLSX_TYPE)
