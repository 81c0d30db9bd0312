"""A typical project as a PDF: its content in Cyrillic, the page's access rules, the file name, the cache."""

import io
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from pypdf import PdfReader

from catalogue.extensions import db
from catalogue.formatting import ru_date
from catalogue.media import services as media
from catalogue.media.validation import validate_upload
from catalogue.projects import documents, services
from catalogue.projects.models import Project
from catalogue.workflow import services as workflow
from tests.factories import make_project, project_data
from tests.helpers import PDF

A4 = (595.28, 841.89)  # points


@pytest.fixture
def teacher(make_user):
    return make_user(roles=("teacher",), email="teacher@example.ru", last_name="Соколова", first_name="Ирина")


@pytest.fixture
def moderator(make_user):
    return make_user(roles=("moderator",), email="moderator@example.ru")


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    """The reader and the text of all pages with whitespace (line breaks included) made single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return reader, " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def pending_upload(user, name: str) -> str:
    """A PDF uploaded by ``user`` with a form not saved yet; its key."""
    return media.store_upload(db.session.merge(user), validate_upload("document", name, PDF)).key


def pdf_url(project_id: int) -> str:
    return f"/projects/{project_id}/pdf"


def test_the_pdf_of_a_published_project_has_its_content_in_cyrillic_on_a4(app, client, teacher, moderator):
    with app.test_request_context():
        project = make_project(
            teacher,
            "published",
            moderator=moderator,
            title="Юный энергетик: как Ангара даёт свет",
            goal="Познакомить с **профессиями** энергетики.",
            ages=["6-7", "8-9"],
            spheres=["energy"],
            duration_weeks=5,
            stages=[
                services.StageData("Погружение", "Экскурсия на Иркутскую ГЭС"),
                services.StageData("Модель турбины", "Сборка из бутылок"),
                services.StageData("Защита", ""),
            ],
        )
        project_id, published = project.id, ru_date(project.published_at)
    response = client.get(pdf_url(project_id))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader, text = pdf_text(response.data)
    for expected in (
        "Юный энергетик: как Ангара даёт свет",
        "6–7 классы, 8–9 классы",
        "Групповой",
        "5 недель",
        "Обучающиеся узнают, как работает гидроэлектростанция.",
        "Познакомить с профессиями энергетики.",
        "Погружение",
        "Экскурсия на Иркутскую ГЭС",
        "Модель турбины",
        "Модель турбины.",
        "Бутылки, моторчик.",
        "Ирина С.",  # a person is named in the public form
        f"Опубликован {published}",
        f"http://localhost/projects/{project_id}-iunyi-energetik-kak-angara-daet-svet",
    ):
        assert expected in text, expected
    assert "Сферы Энергетика" in text
    # Stages in their order
    assert text.index("Погружение") < text.index("Сборка из бутылок") < text.index("Защита")
    # A4, fonts embedded (DejaVu carries the Cyrillic)
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == pytest.approx(A4, abs=0.5)
    fonts = {str(font) for page in reader.pages for font in _font_names(page)}
    assert any("DejaVu" in name for name in fonts), fonts


def _font_names(page) -> list[str]:
    resources = page["/Resources"]
    return [f.get_object()["/BaseFont"] for f in resources.get("/Font", {}).values()]


def test_the_download_is_an_attachment_with_a_readable_name_and_lists_the_files(app, client, teacher, moderator):
    with app.test_request_context():
        key = pending_upload(teacher, "Методичка «Энергия».pdf")
        project = make_project(teacher, "published", moderator=moderator, attach=[key])
        project_id = project.id
    response = client.get(pdf_url(project_id))
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="proekt-{project_id}-iunyi-energetik.pdf"' in disposition
    assert f"filename*=UTF-8''{quote('Юный энергетик.pdf', safe='')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    # The files are named, not included
    _reader, text = pdf_text(response.data)
    assert "Материалы к проекту" in text and "Методичка" not in text
    assert re.search(rf"proekt-{project_id}-prilozhenie-\d+\.pdf", text)
    # The project page links to the PDF next to the print version, as a plain download
    page = client.get(f"/projects/{project_id}-iunyi-energetik").get_data(as_text=True)
    link = re.search(r'<a [^>]*href="/projects/\d+/pdf"[^>]*>Скачать PDF</a>', page)
    assert link and f'href="/projects/{project_id}/pdf"' in link.group(0) and 'hx-boost="false"' in link.group(0)
    assert page.index("версия для печати") < page.index("Скачать PDF")


def test_a_draft_pdf_follows_the_page_rules(app, client, auth, teacher, moderator, make_user):
    with app.test_request_context():
        project_id = make_project(teacher, "draft", title="Черновик про воду").id
    # A visitor: neither the page nor the PDF
    assert client.get(f"/projects/{project_id}", follow_redirects=True).status_code == 404
    assert client.get(pdf_url(project_id)).status_code == 404
    assert client.get(pdf_url(project_id + 100)).status_code == 404
    # Another teacher: neither
    auth.login(make_user(roles=("teacher",), email="other@example.ru"))
    assert client.get(f"/projects/{project_id}", follow_redirects=True).status_code == 404
    assert client.get(pdf_url(project_id)).status_code == 404
    auth.logout()
    # The author and a moderator: both
    for person in (teacher, moderator):
        auth.login(person)
        assert client.get(f"/projects/{project_id}", follow_redirects=True).status_code == 200
        response = client.get(pdf_url(project_id))
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        _reader, text = pdf_text(response.data)
        assert "Черновик про воду" in text and "Опубликован нет (черновик)" in text
        auth.logout()


def test_an_edited_project_gets_a_fresh_pdf_and_an_unchanged_one_the_cached_file(app, client, auth, teacher, moderator):
    with app.test_request_context():
        project_id = make_project(teacher, "draft", title="Первое название").id
    auth.login(teacher)
    first = client.get(pdf_url(project_id)).data
    assert client.get(pdf_url(project_id)).data == first  # the same version: from the cache
    cache = Path(app.instance_path) / documents.CACHE_FOLDER
    assert len(list(cache.glob(f"project-{project_id}-*.pdf"))) == 1
    # The author renames the draft, sends it and a moderator publishes it
    with app.test_request_context():
        project = db.session.get(Project, project_id)
        services.update_project(db.session.merge(teacher), project, project_data(title="Второе название"))
        workflow.transition(db.session.merge(teacher), project, "submit")
        workflow.transition(db.session.merge(moderator), project, "publish")
        published = ru_date(project.published_at)
    auth.logout()
    _reader, text = pdf_text(client.get(pdf_url(project_id)).data)
    assert "Второе название" in text and "Первое название" not in text
    assert f"Опубликован {published}" in text
    # Only the newest versions of one project are kept
    assert len(list(cache.glob(f"project-{project_id}-*.pdf"))) == documents.CACHE_KEEP


def test_markdown_in_the_pdf_is_sanitized_as_on_the_page(app, teacher, moderator):
    with app.test_request_context():
        project = make_project(
            teacher,
            "published",
            moderator=moderator,
            goal='**Важно** <script>alert(1)</script> <a href="javascript:x" hx-get="/x">ссылка</a>',
            resources="![схема](http://example.com/tracker.png) [сайт](javascript:alert(1)) <img src=file:///etc/passwd>",
        )
        html = documents.project_html(project)
        pdf = documents.project_pdf(project)
    # Raw HTML stays text, images and unsafe links are dropped: the same HTML as on the page
    assert "<strong>Важно</strong>" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html and not re.search(r"<a [^>]*hx-get", html)
    assert not re.search(r"<[a-z]+ [^>]*(src|href)=\"(javascript|file|http://example)", html)
    _reader, text = pdf_text(pdf)
    assert "Важно <script>alert(1)</script>" in text
