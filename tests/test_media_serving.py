"""Stored files: who may read them, how they are served, pending uploads, claiming, deleting, cleanup."""

import datetime as dt
import io
import os
import struct
import time

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import event, select, update
from wtforms import StringField
from wtforms.validators import InputRequired

from catalogue.extensions import db
from catalogue.forms import BaseForm
from catalogue.media import services, storage
from catalogue.media.access import register_owner, unregister_owner
from catalogue.media.forms import UploadField, accept_uploads
from catalogue.media.models import StoredFile
from catalogue.media.validation import UploadError, validate_upload
from catalogue.permissions import PermissionDenied
from tests.helpers import PDF

OWNER = "media-test"
MODEL_NAME = "Модель кубика.stl"


def tetrahedron_stl() -> bytes:
    corners = np.array([(0, 0, 0), (10, 0, 0), (0, 10, 0), (0, 0, 10)], dtype="<f4")
    faces = corners[[(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]]
    records = np.zeros(4, dtype=[("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    records["corners"] = faces
    return b"\0" * 80 + struct.pack("<I", 4) + records.tobytes()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def upload(app):
    """``upload(user, name=MODEL_NAME, data=None, kind="model", owner_id=None)`` stores a file; returns its key."""

    def store(user, name=MODEL_NAME, data=None, kind="model", owner_id=None) -> str:
        with app.app_context():
            validated = validate_upload(kind, name, tetrahedron_stl() if data is None else data)
            owner_type = OWNER if owner_id is not None else None
            return services.store_upload(user, validated, owner_type, owner_id).key

    return store


@pytest.fixture
def owner_rules():
    """A registered test owner type; ``rules[owner_id]`` is ``"public"`` or the id of the one user who may read."""
    rules: dict[int, object] = {}

    def can_read(user, owner_id: int) -> bool:
        rule = rules.get(owner_id)
        return rule == "public" or (user.is_authenticated and rule == user.id)

    register_owner(OWNER, can_read)
    yield rules
    unregister_owner(OWNER)


def get(client, url: str):
    """GET ``url`` and return (status, headers, body), closing the response (send_file keeps a file open)."""
    with client.get(url) as response:
        return response.status_code, response.headers, response.get_data()


def row(app, key: str) -> StoredFile | None:
    with app.app_context():
        stored = db.session.scalar(select(StoredFile).where(StoredFile.key == key))
        if stored is not None:
            db.session.expunge(stored)
        return stored


def file_url_of(app, key: str) -> str:
    from catalogue.media.views import file_url

    with app.test_request_context():
        return file_url(row(app, key))


# -- reading ----------------------------------------------------------------------------------


def test_uploader_sees_a_pending_file_and_nobody_else_does(app, client, auth, make_user, upload):
    student, classmate = make_user("student"), make_user("student")
    key = upload(student)
    url = file_url_of(app, key)
    # An anonymous visitor and another student get "not found", as if there were no file
    assert get(client, url)[0] == 404
    auth.login(classmate)
    assert get(client, url)[0] == 404
    auth.logout()
    # The uploader gets the very bytes sent
    auth.login(student)
    status, headers, body = get(client, url)
    assert status == 200
    assert body == tetrahedron_stl()
    # A file only its uploader may see is never stored by a browser or a proxy
    assert headers["Cache-Control"] == "no-store"


def test_model_is_served_as_a_download_under_a_neutral_name(app, client, auth, make_user, upload):
    teacher = make_user("teacher")
    key = upload(teacher)
    auth.login(teacher)
    status, headers, _ = get(client, file_url_of(app, key))
    assert status == 200
    assert headers["Content-Type"] == "model/stl"
    assert headers["X-Content-Type-Options"] == "nosniff"
    neutral = f"zagruzka-{row(app, key).id}.stl"
    assert headers["Content-Disposition"] == f"attachment; filename=\"{neutral}\"; filename*=UTF-8''{neutral}"
    # Nothing in a served file may run
    assert "sandbox" in headers["Content-Security-Policy"]


def test_behind_nginx_the_site_checks_access_and_nginx_sends_the_bytes(app, client, auth, make_user, upload):
    student, teacher = make_user("student"), make_user("teacher")
    key = upload(student)
    url = file_url_of(app, key)
    app.config["MEDIA_ACCEL_REDIRECT"] = "/_uploads/"
    auth.login(teacher)
    assert get(client, url)[0] == 404  # someone else's pending file: no redirect, nothing given away
    auth.logout()
    auth.login(student)
    status, headers, body = get(client, url)
    assert status == 200 and body == b""
    assert headers["X-Accel-Redirect"] == f"/_uploads/{key[:2]}/{key}"
    assert headers["Content-Type"] == "model/stl" and headers["Cache-Control"] == "no-store"
    assert headers["Content-Disposition"].startswith("attachment;") and "sandbox" in headers["Content-Security-Policy"]


def test_images_are_shown_inline_and_documents_downloaded_in_a_sandbox(app, client, auth, make_user, upload):
    teacher = make_user("teacher")
    picture = upload(teacher, "Фото стенда.png", png_bytes(), kind="image")
    note = upload(teacher, "note.pdf", PDF, kind="document")
    auth.login(teacher)
    status, headers, _ = get(client, file_url_of(app, picture))
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert headers["Content-Disposition"].startswith(f'inline; filename="zagruzka-{row(app, picture).id}.png";')
    status, headers, _ = get(client, file_url_of(app, note))
    assert headers["Content-Type"] == "application/pdf"
    # A crafted PDF never opens as a page of the site: it is saved, and would run nothing if opened
    name = f"zagruzka-{row(app, note).id}.pdf"
    assert headers["Content-Disposition"] == f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
    assert "sandbox" in headers["Content-Security-Policy"].split("; ")


def test_owned_files_follow_their_owner_types_rule(app, client, auth, make_user, upload, owner_rules):
    author, reader = make_user("teacher"), make_user("teacher")
    key = upload(author, owner_id=7)
    url = file_url_of(app, key)
    # The rule lets only the reader in: not even the uploader, once the file belongs to something
    owner_rules[7] = reader.id
    auth.login(author)
    assert get(client, url)[0] == 404
    auth.logout()
    auth.login(reader)
    assert get(client, url)[0] == 200
    auth.logout()
    assert get(client, url)[0] == 404
    # Published: everyone may read it, and shared caches may keep it a while
    owner_rules[7] = "public"
    status, headers, _ = get(client, url)
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=600"


def test_files_of_an_unknown_owner_type_are_not_served(app, client, auth, make_user, upload):
    teacher = make_user("teacher")
    key = upload(teacher)
    with app.app_context():
        db.session.execute(update(StoredFile).where(StoredFile.key == key).values(owner_type="gone", owner_id=1))
        db.session.commit()
    auth.login(teacher)
    assert get(client, file_url_of(app, key))[0] == 404


def test_model_thumbnail_is_served_to_those_who_may_read_the_model(app, client, auth, make_user, upload):
    student, other = make_user("student"), make_user("student")
    key = upload(student)
    url = f"/files/{key}/thumbnail.png"
    auth.login(other)
    assert get(client, url)[0] == 404
    auth.logout()
    auth.login(student)
    status, headers, body = get(client, url)
    assert status == 200 and headers["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(body)) as picture:
        assert picture.size == (480, 360)


def test_a_file_without_a_thumbnail_has_no_thumbnail_url(app, client, auth, make_user, upload):
    teacher = make_user("teacher")
    key = upload(teacher, "note.pdf", PDF, kind="document")
    auth.login(teacher)
    assert get(client, f"/files/{key}/thumbnail.png")[0] == 404


@pytest.mark.parametrize("key", ["no-such-key-0000000000000", "..%2F..%2Fetc", "short"])
def test_unknown_or_malformed_keys_are_not_found(client, key):
    assert get(client, f"/files/{key}/x.stl")[0] == 404


def test_file_really_called_thumbnail_png_keeps_its_own_url(app, client, auth, make_user, upload):
    teacher = make_user("teacher")
    key = upload(teacher, "thumbnail.png", png_bytes(), kind="image")
    auth.login(teacher)
    url = file_url_of(app, key)
    assert url.endswith(f"/zagruzka-{row(app, key).id}.png")
    status, headers, body = get(client, url)
    assert status == 200
    with Image.open(io.BytesIO(body)) as picture:
        assert picture.size == (30, 20)
    assert headers["Content-Disposition"].startswith(f'inline; filename="zagruzka-{row(app, key).id}.png"')


# -- storing, claiming, listing ---------------------------------------------------------------


def test_stored_file_records_what_it_is(app, make_user, upload):
    teacher = make_user("teacher")
    stored = row(app, upload(teacher))
    assert (stored.kind, stored.media_type, stored.extension) == ("model", "model/stl", "stl")
    assert stored.original_name == MODEL_NAME and stored.size == len(tetrahedron_stl())
    assert stored.facts["triangles"] == 4 and stored.facts["watertight"] is True
    assert stored.uploaded_by_id == teacher.id and stored.is_pending
    with app.app_context():
        # On disk under a random name in the instance folder, not in static/
        path = storage.path_for(stored.key)
        assert path.read_bytes() == tetrahedron_stl()
        assert path.is_relative_to(app.instance_path) and "static" not in path.parts
        assert storage.path_for(stored.thumbnail_key).is_file()


def test_anonymous_visitor_cannot_store_files(app):
    from flask_login import AnonymousUserMixin

    with app.app_context(), pytest.raises(PermissionDenied):
        services.store_upload(AnonymousUserMixin(), validate_upload("document", "a.pdf", PDF))


def test_too_many_pending_uploads_are_refused(app, make_user, upload, monkeypatch):
    monkeypatch.setattr(services, "MAX_PENDING_PER_USER", 1)
    teacher = make_user("teacher")
    upload(teacher)
    with pytest.raises(UploadError, match="Слишком много незавершённых загрузок"):
        upload(teacher)


def test_claim_files_takes_only_the_actors_own_pending_files(app, make_user, upload):
    student, other = make_user("student"), make_user("student")
    mine, theirs = upload(student), upload(other)
    with app.app_context():
        claimed = services.claim_files(student, [theirs, mine, "not a key", mine], OWNER, 1)
        db.session.commit()
        assert [f.key for f in claimed] == [mine]
        # Claimed once: a second claim (for something else) takes nothing
        assert services.claim_files(student, [mine], OWNER, 2) == []
    assert (row(app, mine).owner_type, row(app, mine).owner_id) == (OWNER, 1)
    assert row(app, theirs).is_pending


def test_files_of_several_owners_come_in_one_query(app, make_user, upload):
    teacher = make_user("teacher")
    first, second, third = upload(teacher, owner_id=1), upload(teacher, owner_id=1), upload(teacher, owner_id=2)
    with app.app_context():
        selects = []

        def count(_connection, _cursor, statement, *_args):
            if statement.lstrip().upper().startswith("SELECT"):
                selects.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            files = services.files_of(OWNER, [1, 2, 3])
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert len(selects) == 1
        assert {owner: [f.key for f in found] for owner, found in files.items()} == {
            1: [first, second],
            2: [third],
            3: [],
        }


def test_deleted_file_leaves_the_disk_only_when_the_deletion_commits(app, make_user, upload):
    teacher = make_user("teacher")
    key = upload(teacher)
    with app.app_context():
        stored = services.file_by_key(key)
        paths = [storage.path_for(stored.key), storage.path_for(stored.thumbnail_key)]
        # A rolled-back deletion keeps both the row and the files
        services.delete_file(stored)
        db.session.rollback()
        assert services.file_by_key(key) is not None and all(p.is_file() for p in paths)
        # A committed one removes them
        services.delete_file(services.file_by_key(key))
        assert all(p.is_file() for p in paths)
        db.session.commit()
        assert services.file_by_key(key) is None and not any(p.exists() for p in paths)


def test_cleanup_command_removes_old_pending_files_and_strays(app, runner, make_user, upload):
    teacher = make_user("teacher")
    old, recent, owned = upload(teacher), upload(teacher), upload(teacher, owner_id=5)
    two_days_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=2)
    with app.app_context():
        db.session.execute(update(StoredFile).where(StoredFile.key.in_([old, owned])).values(created_at=two_days_ago))
        db.session.commit()
        old_path = storage.path_for(old)
        # A file no row names: a worker died between writing it and committing its row
        stray_key = storage.new_key()
        storage.write(stray_key, b"orphan")
        stray = storage.path_for(stray_key)
        # The contest's documents share the storage: never taken for strays
        storage.backend().write("contest/diplomas/2027/5-abc.pdf", b"%PDF-1.7")
        document = storage.backend().local_path("contest/diplomas/2027/5-abc.pdf")
        past = time.time() - 2 * 24 * 3600
        os.utime(stray, (past, past))
        os.utime(document, (past, past))
    result = runner.invoke(args=["media", "cleanup"])
    assert result.exit_code == 0, result.output
    assert "Удалено незавершённых загрузок: 1, лишних файлов на диске: 1." in result.output
    assert row(app, old) is None and not old_path.exists() and not stray.exists()
    assert document.read_bytes() == b"%PDF-1.7"
    assert row(app, recent) is not None and row(app, owned) is not None


# -- the form helper and its macro ------------------------------------------------------------


class AttachmentForm(BaseForm):
    title = StringField("Название", [InputRequired()])
    files = UploadField("Материалы", kind="document", max_files=2)


def submit(app, user, data: dict) -> tuple[AttachmentForm, bool, list[StoredFile], str]:
    """Post ``data`` to a form with an upload field; returns the form, validity, held files and the macro's HTML."""
    from flask import render_template_string

    with app.test_request_context("/", method="POST", data=data, content_type="multipart/form-data"):
        form = AttachmentForm(meta={"csrf": False})
        valid = form.validate()
        held = accept_uploads(form.files, user)
        html = render_template_string(
            '{% from "media/_upload.html" import upload_field %}{{ upload_field(form.files, hint="PDF или DOCX") }}',
            form=form,
        )
        keys = [f.key for f in held]
        return form, valid and not form.files.errors, keys, html


def test_valid_files_survive_a_failed_submit_and_bad_ones_are_explained(app, make_user):
    teacher = make_user("teacher")
    # The title is missing and one of two files is HTML posing as a PDF
    bad = (io.BytesIO(b"<html>no</html>"), "fake.pdf")
    form, valid, held, html = submit(app, teacher, {"title": "", "files": [(io.BytesIO(PDF), "План.pdf"), bad]})
    assert not valid and len(held) == 1
    assert "Формат файла «fake.pdf» не поддерживается" in form.files.errors[0]
    # The page shows the kept file with its key in a hidden input, the input's accept list, and the error
    assert f'<input type="hidden" name="files-pending" value="{held[0]}">' in html
    assert "План.pdf" in html and 'name="files-remove"' in html
    assert 'accept=".pdf,application/pdf' in html and "aria-invalid" in html
    assert "fake.pdf" in html
    # Sent again with the title, the kept file comes along without being uploaded again
    form, valid, again, _ = submit(app, teacher, {"title": "Проект", "files-pending": held})
    assert valid and again == held


def test_ticked_files_are_discarded_and_other_peoples_keys_ignored(app, make_user, upload):
    teacher, stranger = make_user("teacher"), make_user("teacher")
    mine, theirs = upload(teacher, "a.pdf", PDF, kind="document"), upload(stranger, "b.pdf", PDF, kind="document")
    _, _, held, _ = submit(app, teacher, {"title": "x", "files-pending": [mine, theirs], "files-remove": [mine]})
    assert held == []
    assert row(app, mine) is None and row(app, theirs) is not None


def test_a_field_takes_no_more_than_its_number_of_files(app, make_user):
    teacher = make_user("teacher")
    files = [(io.BytesIO(PDF), f"{i}.pdf") for i in range(3)]
    form, valid, held, _ = submit(app, teacher, {"title": "x", "files": files})
    assert not valid and len(held) == 2
    assert form.files.errors == ["Можно прикрепить не больше 2 файлов."]
