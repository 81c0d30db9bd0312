"""Files attached to practices: kept across a failed form, served by the practice's visibility, revised with review."""

import io
import re
from dataclasses import replace

import pytest
from PIL import Image
from sqlalchemy import select

from catalogue.extensions import db
from catalogue.media import attachments
from catalogue.media import services as media
from catalogue.media.models import StoredFile
from catalogue.media.validation import validate_upload
from catalogue.permissions import InvalidInput
from catalogue.practices import services as practices
from catalogue.practices.models import Practice, PracticeRevision
from catalogue.workflow import services as workflow
from tests.helpers import PDF, csrf_token
from tests.test_practices_factories import form_fields, login, make_people, make_practice, practice_data


@pytest.fixture
def people(app, make_user):
    return make_people(app, make_user)


def pending_upload(user, name: str, data: bytes = PDF) -> str:
    """A PDF (or ``data``) uploaded by ``user`` with a form not saved yet; its key."""
    return media.store_upload(db.session.merge(user), validate_upload("document", name, data)).key


def picture(n: int) -> bytes:
    """A PNG of its own colour: files with different contents (one content is attached once)."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (n * 40 % 256, 80, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def get(client, url: str) -> tuple[int, bytes]:
    """GET a file, closing the response (send_file keeps the file open)."""
    with client.get(url) as response:
        return response.status_code, response.get_data()


def file_url(client, page: str, name: str) -> str:
    return re.search(rf'href="(/files/[^"]+)">{re.escape(name)}</a>', page).group(1)


def test_a_file_uploaded_with_a_failed_form_is_kept_and_attached_on_save(app, client, people):
    login(client, people["teacher"])
    # The form fails (no results), but the file is kept and shown, with its key in a hidden input
    fields = form_fields(app, results="")
    data = {**fields, "csrf_token": csrf_token(client, "/"), "attachments": (io.BytesIO(PDF), "Положение.pdf")}
    response = client.post("/practices/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Положение.pdf" in page
    key = re.search(r'name="attachments-pending" value="([^"]+)"', page).group(1)
    # Fixed and sent again: the file is attached to the practice
    fields = {**form_fields(app), "csrf_token": csrf_token(client, "/"), "attachments-pending": key}
    response = client.post("/practices/new", data=fields, content_type="multipart/form-data")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Материалы для тиражирования" in page
    url = file_url(client, page, "Положение.pdf")
    with app.app_context():
        stored = db.session.scalar(select(StoredFile).where(StoredFile.key == key))
        practice_id = db.session.scalar(select(Practice.id))
        assert (stored.owner_type, stored.owner_id) == ("practice", practice_id)
    # The author reads it; while the practice is a draft, nobody else does
    assert get(client, url)[0] == 200
    visitor = app.test_client()
    assert get(visitor, url)[0] == 404
    # Published, it is public
    with app.test_request_context():
        practice = db.session.get(Practice, practice_id)
        workflow.transition(db.session.merge(people["teacher"]), practice, "submit")
        workflow.transition(db.session.merge(people["moderator"]), practice, "publish")
    assert get(visitor, url) == (200, PDF)


def test_a_file_that_is_not_what_it_claims_is_refused_with_the_reason(app, client, people):
    login(client, people["teacher"])
    data = {
        **form_fields(app),
        "csrf_token": csrf_token(client, "/"),
        "attachments": (io.BytesIO(b"<html>nothing</html>"), "fake.pdf"),
    }
    response = client.post("/practices/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "fake.pdf" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Practice.id)) is None


def test_the_author_removes_a_file_from_a_draft(app, people):
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])
        key = pending_upload(teacher, "Сценарий.pdf")
        practice = practices.create_practice(teacher, practice_data(), practices.FileChanges(add=[key]))
        assert [f.original_name for f in practices.attachments(practice)] == ["Сценарий.pdf"]
        practices.update_practice(teacher, practice, practice_data(), practices.FileChanges(remove=[key]))
        assert practices.attachments(practice) == []
        assert db.session.scalar(select(StoredFile).where(StoredFile.key == key)) is None


def test_someone_elses_pending_upload_cannot_be_attached(app, people):
    with app.test_request_context():
        key = pending_upload(people["bratsk"], "Чужой.pdf")
        teacher = db.session.merge(people["teacher"])
        practice = practices.create_practice(teacher, practice_data(), practices.FileChanges(add=[key]))
        assert practices.attachments(practice) == []


def test_at_most_ten_files(app, people, monkeypatch):
    monkeypatch.setitem(attachments.RULES, "practice", replace(attachments.RULES["practice"], max_files=2))
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])
        keys = [pending_upload(teacher, f"Файл {n}.png", picture(n)) for n in range(3)]
        with pytest.raises(InvalidInput, match="Не больше 2 файлов"):
            practices.create_practice(teacher, practice_data(), practices.FileChanges(add=keys))
        # Nothing saved, and the uploads are still pending for the form
        assert db.session.scalar(select(Practice.id)) is None
        assert len(media.pending_files(teacher, keys)) == 3


def test_a_revision_changes_files_only_when_approved(app, client, people):
    with app.test_request_context():
        teacher = db.session.merge(people["teacher"])
        old_key = pending_upload(teacher, "Старое положение.pdf")
        practice = make_practice(people["teacher"], "draft")
        practices.update_practice(teacher, practice, practice_data(), practices.FileChanges(add=[old_key]))
        workflow.transition(teacher, practice, "submit")
        workflow.transition(db.session.merge(people["moderator"]), practice, "publish")
        practice_id = practice.id
        # The author proposes: a new file instead of the old one
        new_key = pending_upload(teacher, "Новое положение.pdf")
        revision = practices.revise_practice(
            teacher, practice, practice_data(), files=practices.FileChanges(add=[new_key], remove=[old_key])
        )
        workflow.transition(teacher, revision, "submit")
        revision_id = revision.id
        # The moderator sees the change of files in the diff
        changes = {c.key: c for c in practices.revision_changes(revision)}
        assert set(changes) == {"files"}
        assert "<del>Старое положение.pdf</del><br>\n<ins>Новое положение.pdf</ins>" in str(changes["files"].html)

    visitor = app.test_client()
    public = visitor.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    # (the public sees files by neutral names: the practice's number and the file's)
    assert f"/files/{old_key}/praktika-{practice_id}-prilozhenie-" in public and new_key not in public
    with app.app_context():
        new_file = db.session.scalar(select(StoredFile).where(StoredFile.key == new_key))
        new_url = f"/files/{new_key}/{new_file.original_name}"  # a link made before names were neutral works too
    # The new file is private to the revision's people until then
    assert get(visitor, new_url)[0] == 404
    login(client, people["moderator"])
    assert get(client, new_url)[0] == 200
    review = client.get(f"/moderation/practice_revision/{revision_id}").get_data(as_text=True)
    assert "Материалы для тиражирования" in review

    # Approved: the practice has the new file, the old one is gone
    with app.test_request_context():
        revision = db.session.get(PracticeRevision, revision_id)
        workflow.transition(db.session.merge(people["moderator"]), revision, "publish")
        practice = db.session.get(Practice, practice_id)
        assert [f.original_name for f in practices.attachments(practice)] == ["Новое положение.pdf"]
        assert db.session.scalar(select(StoredFile).where(StoredFile.key == old_key)) is None
        # History keeps the names
        assert revision.previous["files"] == ["Старое положение.pdf"]
        assert revision.data["files"] == ["Новое положение.pdf"]
    assert get(visitor, new_url)[0] == 200
    page = visitor.get(f"/practices/{practice_id}", follow_redirects=True).get_data(as_text=True)
    assert f"/files/{new_key}/" in page and f"/files/{old_key}/" not in page


def test_a_revision_that_only_adds_a_file_is_a_change(app, people):
    with app.test_request_context():
        practice = make_practice(people["teacher"], "published", moderator=people["moderator"])
        teacher = db.session.merge(people["teacher"])
        key = pending_upload(teacher, "Презентация.pdf")
        revision = practices.revise_practice(teacher, practice, practice_data(), files=practices.FileChanges(add=[key]))
        assert [f.key for f in practices.revision_files(revision)] == [key]
