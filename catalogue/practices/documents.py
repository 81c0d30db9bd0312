"""A best practice as a PDF (WeasyPrint) for the school that wants to repeat it."""

from flask import render_template

from catalogue.pdf import cached
from catalogue.practices import services
from catalogue.practices.models import Practice
from catalogue.urls import external_url

CACHE_FOLDER = "cache/practices"
CACHE_KEEP = 2  # versions of one practice kept on disk; an approved revision or an adoption gives a new file


def practice_html(practice: Practice) -> str:
    """The content ``practice`` shows now (an open revision is not in it) as HTML for the PDF.

    Facts, texts, the numbered steps, the names of its files, its adoptions, the date of the version, the
    page's address: a change to any of them is a new HTML, and so a new file in the cache.
    """
    return render_template(
        "practices/pdf.html",
        practice=practice,
        attached=services.attachments(practice),
        municipalities_adopted=services.adopted_municipalities(practice),
        page_url=external_url("practices.detail", practice_id=practice.id, slug=practice.slug),
    )


def practice_pdf(practice: Practice) -> bytes:
    """The PDF of ``practice``, rendered again only when its HTML changed."""
    return cached(f"practice-{practice.id}", practice_html(practice), CACHE_FOLDER, CACHE_KEEP)


def filenames(practice: Practice) -> tuple[str, str]:
    """The file's ASCII name (transliterated) and its readable Russian one."""
    kept = "".join(c if c.isprintable() and c not in '\\/:*?"<>|' else " " for c in practice.title)
    readable = " ".join(kept.split())
    ascii_name = f"praktika-{practice.id}-{practice.slug}" if practice.slug else f"praktika-{practice.id}"
    return f"{ascii_name}.pdf", f"{readable or 'Практика'}.pdf"
