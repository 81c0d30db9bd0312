"""PDF documents made with WeasyPrint: rendering without fetches, a disk cache keyed by the HTML, the response.

Used by the contest (diplomas; the collection is rendered part by part into files by a background job, see
``catalogue.contest.collection``) and by typical projects.
"""

import hashlib
import secrets
from pathlib import Path
from urllib.parse import quote

from flask import Response, current_app


def write_pdf(html: str) -> bytes:
    # Imported here: WeasyPrint loads Pango through cffi, which only the PDF pages need.
    from weasyprint import HTML, URLFetcher

    # Only inlined data: images; no file:, http: or other fetches from user-controlled HTML.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=html, base_url="data:,", url_fetcher=fetcher).write_pdf()


def write_pdf_file(html: str, path: Path) -> int:
    """Render ``html`` into the file ``path``; the number of pages."""
    from weasyprint import HTML, URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})
    document = HTML(string=html, base_url="data:,", url_fetcher=fetcher).render()
    document.write_pdf(target=str(path))
    return len(document.pages)


def cached(name: str, html: str, folder: str, keep: int) -> bytes:
    """The PDF of ``html``, from the cache when the same HTML was rendered before.

    Files are ``<instance>/<folder>/<name>-<digest of the HTML>.pdf``: any change of the content gives a new
    file; of the files of one ``name`` the ``keep`` newest stay, older versions are removed.
    """
    digest = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32]
    directory = Path(current_app.instance_path) / folder
    path = directory / f"{name}-{digest}.pdf"
    if path.is_file():
        return path.read_bytes()
    pdf = write_pdf(html)
    directory.mkdir(parents=True, exist_ok=True)
    # A name of its own: two workers rendering the same version at once must not write into one file.
    temporary = path.with_name(f"{path.stem}.{secrets.token_hex(4)}.part")
    temporary.write_bytes(pdf)
    temporary.replace(path)
    for old in sorted(directory.glob(f"{name}-*.pdf"), key=_modified, reverse=True)[keep:]:
        old.unlink(missing_ok=True)
    return pdf


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # removed meanwhile by another worker
        return 0.0


def pdf_response(
    pdf: bytes, filename: str, public: bool = False, attachment: bool = False, name: str | None = None
) -> Response:
    """``pdf`` shown in the browser, or offered for saving with ``attachment``.

    ``filename`` is ASCII; ``name``, when given, is the readable (Russian) file name, sent per RFC 5987
    beside it.
    """
    response = Response(pdf, mimetype="application/pdf")
    disposition = f'{"attachment" if attachment else "inline"}; filename="{filename}"'
    if name:
        disposition += f"; filename*=UTF-8''{quote(name, safe='')}"
    response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "public, max-age=300" if public else "private, no-store"
    # A PDF viewer is a plugin: it needs object-src, which the site's CSP forbids.
    response.headers["Content-Security-Policy"] = "default-src 'none'; object-src 'self'; img-src 'self' data:"
    return response
