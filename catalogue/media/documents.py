"""Documents: PDF, Office Open XML (DOCX, PPTX, XLSX) and OpenDocument (ODT, ODP, ODS) by their structure.

What is stored is a copy without the properties writers fill in from the computer's account (author,
last editor, company, manager, title, dates): :func:`clean_pdf` rewrites a PDF without its Info
dictionary and XMP streams, :func:`clean_office` rewrites the archive with blank property parts.
"""

import io

from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

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
# Keys of PDF dictionaries that hold metadata: XMP streams (the catalog's, a page's, an image's) and
# applications' private data.
PDF_METADATA_KEYS = ("/Metadata", "/PieceInfo")
# Property parts of a package, each replaced by an empty one of its kind (the parts stay: the package's
# relationships name them). 3MF packages use the same core properties as Office files.
OOXML_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
    b' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
OOXML_APP = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
    b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>'
)
OOXML_CUSTOM = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"'
    b' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>'
)
OOXML_PROPERTIES = {"docprops/core.xml": OOXML_CORE, "docprops/app.xml": OOXML_APP, "docprops/custom.xml": OOXML_CUSTOM}
ODF_META = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" office:version="1.2">'
    b"<office:meta/></office:document-meta>"
)


def is_pdf(data: bytes) -> bool:
    return data.startswith(PDF_MAGIC)


def check_pdf(data: bytes, display_name: str) -> dict:
    """Facts of a PDF; :raise UploadError: the file ends before its end-of-file marker (cut short)."""
    if b"%%EOF" not in data[-PDF_TAIL:]:
        raise UploadError(f"Файл «{display_name}» повреждён или загружен не полностью: у PDF нет окончания.")
    version = data[5:8].decode("ascii", "replace")
    return {"format": "pdf", "pdf_version": version}


def clean_pdf(data: bytes, display_name: str) -> tuple[bytes, int]:
    """The PDF written again without its Info dictionary and XMP metadata, and its page count.

    Only what the document's catalog reaches is written, so earlier revisions (which keep old metadata
    after an incremental save) go too. The copy is read back: same number of pages, no metadata.

    :raise UploadError: the PDF cannot be read or rewritten safely; it is refused rather than stored as is.
    """
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise UploadError(f"Файл «{display_name}» защищён паролем. Сохраните PDF без защиты и загрузите снова.")
        pages = len(reader.pages)
        stripped = _rewritten(reader, strip=True)
        # Written again from what the catalog still reaches: the metadata streams, unreferenced now, stay behind.
        cleaned = _rewritten(PdfReader(io.BytesIO(stripped), strict=False), strip=False)
        check = PdfReader(io.BytesIO(cleaned), strict=False)
        if len(check.pages) != pages or check.metadata is not None or _has_metadata(check.root_object):
            raise ValueError("the rewritten PDF still has metadata or lost pages")
    except UploadError:
        raise
    except Exception as e:  # pypdf raises many types on broken or hostile files
        raise UploadError(
            f"Файл «{display_name}» не удалось проверить и очистить от сведений об авторе: PDF повреждён "
            "или устроен необычно. Сохраните его заново (например, «Печать в PDF») и загрузите снова."
        ) from e
    return cleaned, pages


def _rewritten(reader: PdfReader, strip: bool) -> bytes:
    """The document the catalog reaches, without the Info dictionary (and, with ``strip``, without metadata keys)."""
    writer = PdfWriter(clone_from=reader)
    writer.metadata = None
    if strip:
        for obj in _reachable(writer.root_object):
            for key in PDF_METADATA_KEYS:
                obj.pop(NameObject(key), None)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _reachable(root: DictionaryObject) -> list[DictionaryObject]:
    """Every dictionary (streams included) reachable from ``root``, each once."""
    found, seen, stack = [], set(), [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            found.append(obj)
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return found


def _has_metadata(root: DictionaryObject) -> bool:
    return any(key in obj for obj in _reachable(root) for key in PDF_METADATA_KEYS)


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


def clean_office(archive: SafeZip, file_format: str) -> bytes:
    """The archive rewritten with blank document properties (author, last editor, company, manager, title)."""
    if file_format in ODF_MIMETYPES.values():
        return archive.rewritten(lambda name, data: ODF_META if name == "meta.xml" else data, stored_first="mimetype")
    return archive.rewritten(blank_package_properties)


def blank_package_properties(name: str, data: bytes) -> bytes:
    """An Office Open XML property part (core, app, custom) replaced by an empty one; other parts as they are."""
    return OOXML_PROPERTIES.get(name.casefold(), data)
