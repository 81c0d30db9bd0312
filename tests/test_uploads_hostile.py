"""Uploads cannot stall the site: checked with no write lock held, held to a quota, served harmlessly.

Also the one attachments service: every owner type keeps to its rules (count, total size, kinds).
"""

import io
import struct
import unicodedata
from dataclasses import replace

import numpy as np
import pytest
from sqlalchemy import select

from catalogue.accounts.models import User
from catalogue.contest import entries
from catalogue.extensions import db
from catalogue.media import attachments
from catalogue.media import forms as media_forms
from catalogue.media import services as media
from catalogue.media.documents import clean_pdf
from catalogue.media.errors import UploadError
from catalogue.media.models import StoredFile
from catalogue.media.validation import validate_upload
from catalogue.permissions import InvalidInput
from catalogue.projects import services as projects
from tests.contest_support import consent, make_season
from tests.factories import make_project, project_data
from tests.helpers import PDF, csrf_token, writing_request


def padded_pdf(size: int) -> bytes:
    """A valid PDF of exactly ``size`` bytes as it will be stored (uploads rewrite every PDF without metadata):
    one page whose content stream is a long comment."""

    def raw(padding: int) -> bytes:
        content = b"%" + b"0" * max(padding, 0) + b"\n"
        objects = [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << >> /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        ]
        out, offsets = bytearray(b"%PDF-1.4\n"), []
        for number, body in enumerate(objects, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        table = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, table)
        return bytes(out)

    padding = size
    for _ in range(3):
        stored, _pages = clean_pdf(raw(padding), "test.pdf")
        if len(stored) == size:
            return stored
        padding += size - len(stored)
    raise AssertionError(f"no PDF of {size} bytes")


def other_pdf(n: int) -> bytes:
    """The ``n``-th of a set of PDFs with different contents (an item attaches one content once)."""
    return padded_pdf(1000 + n)


def tetrahedron_stl() -> bytes:
    corners = np.array([(0, 0, 0), (10, 0, 0), (0, 10, 0), (0, 0, 10)], dtype="<f4")
    records = np.zeros(4, dtype=[("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    records["corners"] = corners[[(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]]
    return b"\0" * 80 + struct.pack("<I", 4) + records.tobytes()


def write_from_another_connection(user_id: int, last_name: str) -> str:
    """Rename a user on a database connection of its own; ``"written"``, or the error when it had to wait.

    It waits at most a fifth of a second (SQLite) or two seconds (PostgreSQL) for a lock.
    """
    sqlite = db.engine.dialect.name == "sqlite"
    raw = db.engine.raw_connection()
    cursor = raw.cursor()
    try:
        if sqlite:
            cursor.execute("PRAGMA busy_timeout=200")
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute("SET lock_timeout = '2s'")
        # The drivers' parameter styles differ
        statement = (
            'UPDATE "user" SET last_name = ? WHERE id = ?'
            if sqlite
            else 'UPDATE "user" SET last_name = %s WHERE id = %s'
        )
        cursor.execute(statement, (last_name, user_id))
        if sqlite:
            cursor.execute("COMMIT")
        else:
            raw.commit()
        return "written"
    except Exception as e:  # the lock was held: what the test reports
        raw.rollback()
        return f"{type(e).__name__}: {e}"
    finally:
        if sqlite:
            cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()
        raw.close()


def while_validating(monkeypatch, module, user_id: int, slow_work: str = "validate_upload") -> list:
    """Make every call of the slow work in ``module`` (validating a file; building a viewer model) first try a
    write from another connection; what happened, in order."""
    seen = []
    real = getattr(module, slow_work)

    def work_and_write(*args, **kwargs):
        seen.append(("transaction open", db.session().in_transaction()))
        seen.append(("other writer", write_from_another_connection(user_id, "Петрова")))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, slow_work, work_and_write)
    return seen


# -- 1. validated before the write transaction -----------------------------------------------------


def test_another_user_can_write_while_an_upload_is_being_validated(app, client, auth, make_user, monkeypatch):
    teacher, other = make_user("teacher"), make_user("student")
    seen = while_validating(monkeypatch, media_forms, other.id)
    auth.login(teacher)
    token = csrf_token(client, "/projects/new")
    response = client.post(
        "/projects/new",
        data={"csrf_token": token, "attachments": (io.BytesIO(PDF), "План.pdf")},
        content_type="multipart/form-data",
    )
    # The form lacks its fields, but the file was checked and kept for it
    assert response.status_code == 422
    assert seen == [("transaction open", False), ("other writer", "written")]
    with app.app_context():
        assert db.session.get(User, other.id).last_name == "Петрова"
        kept = db.session.scalars(select(StoredFile).where(StoredFile.uploaded_by_id == teacher.id)).all()
        assert [f.original_name for f in kept] == ["План.pdf"]


def test_the_viewer_model_is_made_while_others_can_write(app, make_user, monkeypatch):
    admin, student, other = make_user("admin"), make_user("student"), make_user("teacher")
    with writing_request(app, "/contest/entries/new"):
        season = make_season(admin)
        actor = db.session.merge(student)
        model = media.store_upload(actor, validate_upload("model", "ракета.stl", tetrahedron_stl()))
        # The model was parsed at its upload: building the viewer model from its triangles is the slow part
        seen = while_validating(monkeypatch, entries, other.id, "triangles_to_glb")
        entry = entries.create_entry(
            actor,
            season,
            entries.EntryData(
                nomination_id=season.nominations[0].id,
                age_category_id=next(c.id for c in season.age_categories if c.includes_grade(actor.grade)),
                title="Ракета",
                description="Модель ракеты.",
            ),
            entries.EntryFiles(model_key=model.key),
            consent(),
        )
        assert seen == [("transaction open", False), ("other writer", "written")]
        assert entry.viewer_file is not None
        assert db.session.get(User, other.id).last_name == "Петрова"


# -- 3. a quota for files not yet published --------------------------------------------------------


def test_an_upload_over_the_quota_is_refused_naming_the_limit_and_the_use(app, make_user):
    app.config["UPLOAD_QUOTA_MB"] = 1
    teacher = make_user("teacher")
    with app.app_context():
        actor = db.session.merge(teacher)
        media.store_upload(actor, validate_upload("document", "первый.pdf", padded_pdf(600 * 1024)))
        with pytest.raises(UploadError) as refused:
            media.store_upload(actor, validate_upload("document", "второй.pdf", padded_pdf(600 * 1024)))
        assert str(refused.value) == (
            "Файл «второй.pdf» (600 КБ) не помещается в квоту: неопубликованные файлы занимают 600 КБ из 1 МБ. "
            "Удалите ненужные файлы из черновиков или дождитесь публикации и попробуйте снова."
        )
        # Nothing of the refused file is left behind
        assert db.session.scalar(select(StoredFile).where(StoredFile.original_name == "второй.pdf")) is None
        assert len([p for p in media.storage.uploads_root().rglob("*") if p.is_file()]) == 1


def test_files_of_published_items_no_longer_count_against_the_quota(app, make_user):
    app.config["UPLOAD_QUOTA_MB"] = 1
    teacher, moderator = make_user("teacher"), make_user("moderator")
    with app.test_request_context():
        actor = db.session.merge(teacher)
        key = media.store_upload(actor, validate_upload("document", "план.pdf", padded_pdf(700 * 1024))).key
        project = make_project(teacher, "draft", attach=[key])
        # A draft's files still count
        assert media.unpublished_bytes(actor) == 700 * 1024
        from catalogue.workflow import services as workflow

        workflow.transition(db.session.merge(teacher), project, "submit")
        workflow.transition(db.session.merge(moderator), project, "publish")
        assert media.unpublished_bytes(db.session.merge(teacher)) == 0
        media.store_upload(db.session.merge(teacher), validate_upload("document", "ещё.pdf", padded_pdf(700 * 1024)))


def test_the_quota_comes_from_the_environment(monkeypatch, tmp_path):
    from catalogue import create_app

    monkeypatch.setenv("UPLOAD_QUOTA_MB", "120")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'q.db'}"})
    with app.app_context():
        assert media.quota_bytes() == 120 * 1024 * 1024
        db.engine.dispose()


# -- 5. invisible characters in names ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "отчёт\u202efdp.exe",  # RIGHT-TO-LEFT OVERRIDE shows it as «отчётexe.pdf»
        "отчёт\u2067fdp.exe\u2069",  # isolates
        "\u200eотчёт\u200ffdp.exe",  # marks
        "отчёт\u202a\u202b\u202cfdp.exe",
        "отчёт\u200bfdp\u2060.exe",  # zero-width space, word joiner
    ],
)
def test_bidirectional_and_invisible_characters_are_removed_from_names(name):
    validated = validate_upload("document", name, PDF)
    assert validated.filename == "отчётfdp.pdf"
    assert not any(unicodedata.category(c) == "Cf" for c in validated.filename)


# -- 6. one attachments service -------------------------------------------------------------------


def test_a_project_keeps_at_most_ten_files_however_often_it_is_edited(app, make_user):
    teacher = make_user("teacher")
    with writing_request(app):
        actor = db.session.merge(teacher)
        first = [
            media.store_upload(actor, validate_upload("document", f"{n}.pdf", other_pdf(n))).key for n in range(10)
        ]
        project = projects.create_project(actor, project_data(attach=first))
        project_id = project.id
        more = [
            media.store_upload(actor, validate_upload("document", f"ещё {n}.pdf", other_pdf(10 + n))).key
            for n in range(10)
        ]
        with pytest.raises(InvalidInput) as refused:
            projects.update_project(db.session.merge(teacher), project, project_data(attach=more))
        assert (str(refused.value), refused.value.field) == ("Не больше 10 файлов у одного проекта.", "attachments")
        assert len(projects.attachments("project", project_id)) == 10
        # The refused uploads wait for the form, and one file fits once another is removed
        assert len(media.pending_files(db.session.merge(teacher), more)) == 10
        project = projects.get_project(db.session.merge(teacher), project_id)
        projects.update_project(db.session.merge(teacher), project, project_data(attach=more[:1], detach=first[:1]))
        names = [f.original_name for f in projects.attachments("project", project_id)]
        assert len(names) == 10 and "0.pdf" not in names and "ещё 0.pdf" in names


def test_the_project_form_names_the_file_limit(app, client, auth, make_user, monkeypatch):
    monkeypatch.setitem(attachments.RULES, "project", replace(attachments.RULES["project"], max_files=1))
    teacher = make_user("teacher")
    with writing_request(app):
        actor = db.session.merge(teacher)
        keys = [media.store_upload(actor, validate_upload("document", f"{n}.pdf", other_pdf(n))).key for n in range(2)]
        project = make_project(teacher, "draft", attach=keys[:1])
        project_id = project.id
    auth.login(teacher)
    token = csrf_token(client, f"/projects/{project_id}/edit")
    page = client.get(f"/projects/{project_id}/edit").get_data(as_text=True)
    assert "0.pdf" in page
    with app.test_request_context():
        data = project_data()
    form = {
        "csrf_token": token,
        "title": data.title,
        "summary": data.summary,
        "goal": data.goal,
        "format": data.format,
        "duration_weeks": str(data.duration_weeks),
        "expected_results": data.expected_results,
        "resources": data.resources,
        "age_group_ids": [str(i) for i in data.age_group_ids],
        "sphere_ids": [str(i) for i in data.sphere_ids],
        "stages-0-title": "Погружение",
        "stages-0-description": "Экскурсия",
        "attachments-pending": keys[1],
    }
    response = client.post(f"/projects/{project_id}/edit", data=form)
    assert response.status_code == 422
    assert "Не больше 1 файла у одного проекта." in response.get_data(as_text=True)


def test_the_total_size_of_an_owners_files_is_limited(app, make_user, monkeypatch):
    monkeypatch.setitem(attachments.RULES, "project", replace(attachments.RULES["project"], max_total_bytes=1000))
    teacher = make_user("teacher")
    with writing_request(app):
        actor = db.session.merge(teacher)
        keys = [
            media.store_upload(actor, validate_upload("document", f"{n}.pdf", padded_pdf(600 + n))).key
            for n in range(2)
        ]
        with pytest.raises(InvalidInput) as refused:
            projects.create_project(actor, project_data(attach=keys))
        assert str(refused.value) == "Файлы вместе занимают 1,2 КБ, а можно не больше 1000 байт."


def test_an_entry_takes_only_images_as_its_pictures(app, make_user):
    admin, student = make_user("admin"), make_user("student")
    with writing_request(app):
        season = make_season(admin)
        actor = db.session.merge(student)
        model = media.store_upload(actor, validate_upload("model", "ракета.stl", tetrahedron_stl()))
        note = media.store_upload(actor, validate_upload("document", "записка.pdf", PDF))
        with pytest.raises(InvalidInput, match="Изображения — JPEG, PNG или WebP"):
            entries.create_entry(
                actor,
                season,
                entries.EntryData(
                    nomination_id=season.nominations[0].id,
                    age_category_id=next(c.id for c in season.age_categories if c.includes_grade(actor.grade)),
                    title="Ракета",
                    description="Модель ракеты.",
                ),
                entries.EntryFiles(model_key=model.key, image_keys=[note.key]),
                consent(),
            )
