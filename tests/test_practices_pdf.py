"""A best practice as a PDF: its approved content in Cyrillic, the page's access rules, the file name, the cache."""

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
from catalogue.practices import documents
from catalogue.practices import services as practices
from catalogue.practices.models import Practice, PracticeRevision
from catalogue.practices.roadmap import BY_NUMBER
from catalogue.workflow import services as workflow
from tests.helpers import PDF
from tests.test_practices_factories import (
    ANGARSK_SCHOOL,
    BRATSK_SCHOOL,
    adopt,
    login,
    make_people,
    make_practice,
    organization,
    practice_data,
    practice_maker,
)

A4 = (595.28, 841.89)  # points


@pytest.fixture
def people(app, make_user):
    return make_people(app, make_user)


@pytest.fixture
def practice_in(app, people):
    return practice_maker(app, people)


def pdf_text(data: bytes) -> tuple[PdfReader, str]:
    """The reader and the text of all pages with whitespace (line breaks included) made single spaces."""
    reader = PdfReader(io.BytesIO(data))
    return reader, " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def pdf_url(practice_id: int) -> str:
    return f"/practices/{practice_id}/pdf"


def pending_upload(user, name: str) -> str:
    """A PDF uploaded by ``user`` with a form not saved yet; its key."""
    return media.store_upload(db.session.merge(user), validate_upload("document", name, PDF)).key


def cached_files(app, practice_id: int) -> list[Path]:
    return list((Path(app.instance_path) / documents.CACHE_FOLDER).glob(f"practice-{practice_id}-*.pdf"))


def _font_names(page) -> list[str]:
    resources = page["/Resources"]
    return [str(f.get_object()["/BaseFont"]) for f in resources.get("/Font", {}).values()]


def test_the_pdf_of_a_published_practice_is_laid_out_for_repeating_it(app, client, people):
    with app.test_request_context():
        practice = make_practice(
            people["teacher"],
            "published",
            moderator=people["moderator"],
            title="Встречи с энергетиками Ангары",
            roadmap_items=[6, 7],
            spheres=["energy", "it"],
            grade_from=7,
            grade_to=9,
            resources="Актовый зал, **проектор**.",
            steps=[
                practices.StepData("Найти гостя", "Среди родителей"),
                practices.StepData("Подготовить вопросы", "Ученики пишут *интервью*"),
                practices.StepData("Провести встречу"),
            ],
        )
        practice_id, version = practice.id, ru_date(practice.current_version_date)
        municipality = practice.municipality.name
    response = client.get(pdf_url(practice_id))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader, text = pdf_text(response.data)
    for expected in (
        "Встречи с энергетиками Ангары",
        "МБОУ г. Иркутска СОШ № 19",
        f"Муниципальное образование {municipality}",
        "6. Встречи с представителями профессий",
        f"7. {BY_NUMBER[7].title}",
        "7–9 классы",
        "с 1 сентября 2024 по настоящее время",
        "120 человек",
        "60 % обучающихся организации",
        "Раз в месяц в школу приходит инженер-энергетик.",
        "Результаты и эффекты Участвовали 60 % обучающихся.",
        "Что понадобится Актовый зал, проектор.",
        "Шаг 1. Найти гостя",
        "Среди родителей",
        "Шаг 2. Подготовить вопросы",
        "Ученики пишут интервью",
        "Шаг 3. Провести встречу",
        "Ученики сами ведут интервью с гостем.",
        "Контакты school@example.ru",
        "Пока ни одна организация не отметила внедрение.",
        f"Редакция от {version}",
        f"http://localhost/practices/{practice_id}-vstrechi-s-energetikami-angary",
    ):
        assert expected in text, expected
    assert re.search(r"Профессиональные сферы [^.]*Энергетика", text)
    # In the order someone repeating it reads: what it is, what it gives, what it takes, how, whom to ask
    order = ["Кратко", "Результаты и эффекты", "Что понадобится", "Шаг 1.", "Шаг 2.", "Шаг 3.", "Подробнее", "Контакты"]
    positions = [text.index(heading) for heading in order]
    assert positions == sorted(positions)
    # A4, fonts embedded (DejaVu carries the Cyrillic)
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 1), round(float(box.height), 1)) == pytest.approx(A4, abs=0.5)
    fonts = {name for page in reader.pages for name in _font_names(page)}
    assert any("DejaVu" in name for name in fonts), fonts


def test_the_download_names_the_file_lists_the_materials_and_the_adoptions(app, client, people):
    with app.test_request_context():
        key = pending_upload(people["teacher"], "Сценарий встречи «Энергия».pdf")
        practice = practices.create_practice(
            db.session.merge(people["teacher"]), practice_data(), practices.FileChanges(add=[key])
        )
        workflow.transition(db.session.merge(people["teacher"]), practice, "submit")
        workflow.transition(db.session.merge(people["moderator"]), practice, "publish")
        practice_id = practice.id
    response = client.get(pdf_url(practice_id))
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="praktika-{practice_id}-vstrechi-s-energetikami.pdf"' in disposition
    assert f"filename*=UTF-8''{quote('Встречи с энергетиками.pdf', safe='')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "public, max-age=300"
    # The files are named, not included
    _reader, text = pdf_text(response.data)
    assert "Материалы для тиражирования" in text
    # ... by their neutral public names, never the uploader's
    assert re.search(rf"praktika-{practice_id}-prilozhenie-\d+\.pdf \(PDF,", text) and "Сценарий" not in text
    assert len(cached_files(app, practice_id)) == 1
    # Two schools of two municipalities adopt it: the next download counts them, as a new file
    with app.test_request_context():
        practice = db.session.get(Practice, practice_id)
        adopt(people["bratsk"], practice)
        adopt(people["angarsk"], practice)
        bratsk, angarsk = (organization(name).municipality.name for name in (BRATSK_SCHOOL, ANGARSK_SCHOOL))
    _reader, text = pdf_text(client.get(pdf_url(practice_id)).data)
    assert "Внедрили: 2 организации в 2 муниципалитетах" in text
    assert bratsk in text and angarsk in text
    assert len(cached_files(app, practice_id)) == 2
    # The page links to the PDF near the top, as a plain download (no htmx swap)
    page = client.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    link = re.search(r'<a [^>]*href="/practices/\d+/pdf"[^>]*>Скачать PDF</a>', page)
    assert link and f'href="/practices/{practice_id}/pdf"' in link.group(0) and 'hx-boost="false"' in link.group(0)
    assert page.index("<h1>") < page.index("Скачать PDF") < page.index("Кратко")


def test_a_draft_pdf_follows_the_page_rules(app, client, people, practice_in):
    practice_id = practice_in("draft", title="Черновик про профессии")
    # A visitor: neither the page nor the PDF
    assert client.get(f"/practices/{practice_id}", follow_redirects=True).status_code == 404
    assert client.get(pdf_url(practice_id)).status_code == 404
    assert client.get(pdf_url(practice_id + 100)).status_code == 404
    # The author: both, not cached by browsers and proxies, marked as not published
    login(client, people["teacher"])
    assert client.get(f"/practices/{practice_id}", follow_redirects=True).status_code == 200
    response = client.get(pdf_url(practice_id))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    _reader, text = pdf_text(response.data)
    assert "Черновик про профессии" in text and "Редакция не опубликована (черновик)" in text
    assert "Тиражирование" not in text


@pytest.mark.parametrize("state", ["draft", "submitted", "changes_requested", "archived", "published"])
def test_whoever_may_see_the_page_may_download_the_pdf_and_nobody_else(app, people, practice_in, state):
    practice_id = practice_in(state)
    for who in (None, "student", "colleague", "bratsk", "teacher", "moderator", "admin"):
        client = app.test_client()
        if who:
            login(client, people[who])
        page = client.get(f"/practices/{practice_id}", follow_redirects=True).status_code
        assert page in (200, 404)
        assert client.get(pdf_url(practice_id)).status_code == page, (state, who)
        if who in ("teacher", "moderator") or state == "published":
            assert page == 200, (state, who)


def test_a_pending_revision_is_not_in_the_pdf_until_a_moderator_approves_it(app, client, people, practice_in):
    practice_id = practice_in("published")
    with app.test_request_context():
        first_version = ru_date(db.session.get(Practice, practice_id).current_version_date)
    before = client.get(pdf_url(practice_id)).data
    # The author proposes a new title, a new step and a new file, and sends it for review
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])
        practice = db.session.get(Practice, practice_id)
        key = pending_upload(teacher, "Анкета для гостя.pdf")
        data = practice_data(
            title="Встречи с энергетиками и авиаторами",
            steps=[practices.StepData("Найти гостя"), practices.StepData("Пригласить авиатора")],
        )
        revision = practices.revise_practice(teacher, practice, data, "Добавили авиацию.", practices.FileChanges([key]))
        workflow.transition(teacher, revision, "submit")
        revision_id = revision.id
    # Neither a visitor nor the author (who sees the revision on the page) gets it in the PDF
    author = app.test_client()
    login(author, people["teacher"])
    for viewer in (client, author):
        data = viewer.get(pdf_url(practice_id)).data
        assert data == before  # the same version, from the cache
        _reader, text = pdf_text(data)
        assert "Встречи с энергетиками" in text and f"Редакция от {first_version}" in text
        for new in ("авиатор", "Анкета для гостя.pdf"):
            assert new not in text, new
    assert len(cached_files(app, practice_id)) == 1
    # The moderator approves it: the next download is the new version, with the revision's date
    with app.test_request_context():
        revision = db.session.get(PracticeRevision, revision_id)
        workflow.transition(db.session.merge(people["moderator"]), revision, "publish")
        revised = ru_date(db.session.get(Practice, practice_id).revised_at)
    response = client.get(pdf_url(practice_id))
    _reader, text = pdf_text(response.data)
    assert "Встречи с энергетиками и авиаторами" in text
    assert "Шаг 2. Пригласить авиатора" in text and "Провести встречу" not in text
    assert re.search(rf"praktika-{practice_id}-prilozhenie-\d+\.pdf", text)
    assert f"Редакция от {revised}" in text
    disposition = response.headers["Content-Disposition"]
    assert f'filename="praktika-{practice_id}-vstrechi-s-energetikami-i-aviatorami.pdf"' in disposition
    assert len(cached_files(app, practice_id)) == documents.CACHE_KEEP


def test_markdown_in_the_pdf_is_sanitized_as_on_the_page(app, people):
    with app.test_request_context():
        practice = make_practice(
            people["teacher"],
            "published",
            moderator=people["moderator"],
            results='**Важно** <script>alert(1)</script> <a href="javascript:x" hx-get="/x">ссылка</a>',
            contacts="![фото](http://example.com/tracker.png) [сайт](javascript:alert(1)) <img src=file:///etc/passwd>",
        )
        html = documents.practice_html(practice)
        pdf = documents.practice_pdf(practice)
    # Raw HTML stays text, images and unsafe links are dropped: the same HTML as on the page
    assert "<strong>Важно</strong>" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html and not re.search(r"<a [^>]*hx-get", html)
    assert not re.search(r"<[a-z]+ [^>]*(src|href)=\"(javascript|file|http://example)", html)
    _reader, text = pdf_text(pdf)
    assert "Важно <script>alert(1)</script>" in text
