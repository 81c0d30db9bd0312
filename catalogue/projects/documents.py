"""A typical project as a PDF (WeasyPrint) for the teacher who takes it into work."""

from flask import render_template

from catalogue.pdf import cached
from catalogue.projects import services
from catalogue.projects.models import Project
from catalogue.urls import external_url

CACHE_FOLDER = "cache/projects"
CACHE_KEEP = 2  # versions of one project kept on disk; an edited project gets a new file


def project_html(project: Project) -> str:
    """The project as HTML for the PDF: facts, texts, stages, the names of its files, the page's address."""
    return render_template(
        "projects/pdf.html",
        project=project,
        attached=services.attachments("project", project.id),
        page_url=external_url("projects.detail", project_id=project.id, slug=project.slug),
    )


def project_pdf(project: Project) -> bytes:
    """The PDF of ``project``, rendered again only when its HTML changed (edited, republished)."""
    return cached(f"project-{project.id}", project_html(project), CACHE_FOLDER, CACHE_KEEP)


def filenames(project: Project) -> tuple[str, str]:
    """The file's ASCII name (transliterated) and its readable Russian one."""
    readable = " ".join("".join(c if c.isprintable() and c not in '\\/:*?"<>|' else " " for c in project.title).split())
    return f"proekt-{project.id}-{project.slug}.pdf", f"{readable or 'Проект'}.pdf"
