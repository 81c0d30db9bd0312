"""Documents: PDF, Office Open XML (DOCX, PPTX, XLSX) and OpenDocument (ODT, ODP, ODS) by their structure."""

from catalogue.media.errors import UploadError
from catalogue.media.zipsafe import SafeZip

PDF_MAGIC = b"%PDF-"
# Writers may leave a little after the last %%EOF (a newline, padding); readers look this far back.
PDF_TAIL = 2048
# The top-level folder that tells the Office flavours apart.
OOXML_FOLDERS = {"word/": "docx", "ppt/": "pptx", "xl/": "xlsx"}
ODF_MIMETYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
}
# Parts that carry macros: a document that runs code on opening has no place on a public site.
MACRO_MARKERS = ("vbaproject.bin", "vbadata.xml", "basic/", "scripts/")


def is_pdf(data: bytes) -> bool:
    return data.startswith(PDF_MAGIC)


def check_pdf(data: bytes, display_name: str) -> dict:
    """Facts of a PDF; :raise UploadError: the file ends before its end-of-file marker (cut short)."""
    if b"%%EOF" not in data[-PDF_TAIL:]:
        raise UploadError(f"Файл «{display_name}» повреждён или загружен не полностью: у PDF нет окончания.")
    version = data[5:8].decode("ascii", "replace")
    return {"format": "pdf", "pdf_version": version}


def zip_flavour(archive: SafeZip) -> str | None:
    """``docx``, ``pptx``, ``xlsx``, ``odt``, ``odp``, ``ods``, ``3mf``, or None for another archive."""
    names = archive.names
    if archive.has("[Content_Types].xml"):
        for folder, name in OOXML_FOLDERS.items():
            if any(n.startswith(folder) for n in names):
                return name
        if any(n.casefold().startswith("3d/") and n.casefold().endswith(".model") for n in names):
            return "3mf"
        return None
    if archive.has("mimetype"):
        mimetype = archive.read("mimetype", 200).decode("ascii", "replace").strip()
        return ODF_MIMETYPES.get(mimetype)
    return None


def check_office(archive: SafeZip, file_format: str) -> dict:
    """Facts of an Office or OpenDocument file; :raise UploadError: it carries macros."""
    for name in archive.names:
        if any(marker in name.casefold() for marker in MACRO_MARKERS):
            raise UploadError(
                f"Файл «{archive.display_name}» содержит макросы. "
                "Сохраните его как обычный документ, без макросов, и загрузите снова."
            )
    return {"format": file_format}
