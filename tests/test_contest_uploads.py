"""The entry form with files: real models from tests/fixtures/3d accepted with their facts, thumbnails and
viewer copies; hostile files refused in Russian while the rest of the form, uploads included, is kept.
"""

import io
import re
import struct
import zipfile

import pytest
from PIL import Image
from sqlalchemy import func, select

from catalogue.contest import entries, seasons
from catalogue.contest.forms import EntryForm
from catalogue.contest.models import Entry
from catalogue.extensions import db
from catalogue.media import services, storage
from catalogue.media.errors import Deadline
from catalogue.media.gltf import parse_glb
from catalogue.media.meshes import MeshLimits
from catalogue.media.models import StoredFile
from catalogue.media.validation import validate_upload
from tests.contest_support import SCHOOL_A, fetch_status, fixture_bytes, loaded, make_season, organization
from tests.helpers import PDF, csrf_token


@pytest.fixture
def student(app, make_user):
    with app.app_context():
        made = {
            "admin": make_user(roles=("admin",), email="admin@example.ru"),
            "student": make_user(
                roles=("student",), email="student@example.ru", grade=9, organization=organization(SCHOOL_A)
            ),
        }
        loaded(made)
    with app.test_request_context():
        make_season(made["admin"])
    return made["student"]


@pytest.fixture
def form_page(client, auth, student):
    """Logged in as the student: the new entry form's CSRF token and its choices."""
    auth.login(student)
    token = csrf_token(client, "/contest/2027/submit")
    with client.application.app_context():
        season = seasons.season_by_year(2027)
        choice = {"nomination_id": season.nominations[0].id, "age_category_id": season.age_categories[1].id}
    return {"csrf_token": token, **choice}


def fields(form_page, **extra):
    data = {
        **form_page,
        "title": "Модель ледокола «Ангара»",
        "description": "Ледокол, который работал на Байкале.",
        "software": "Blender",
        "consent_processing": "y",
        "consent_publication": "y",
        "consent_giver": "parent",
        "consent_giver_name": "Иванова Мария Петровна",
        # Asked for when the student is under 14 (the default student is 13 until mid-March)
        "consent_parent_email": "ivanova.mp@example.ru",
    }
    data.update(extra)
    return data


def upload(name: str, data: bytes):
    return (io.BytesIO(data), name)


def photo_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (180, 120, 60))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (52.0, 17.0, 0.0)}  # GPS latitude of Irkutsk
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def post(client, data):
    return client.post("/contest/2027/submit", data=data, content_type="multipart/form-data")


def entry_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Entry.id)))


@pytest.mark.parametrize(
    ("name", "file_format", "triangles"),
    [
        ("20mm-xyz-cube.stl", "stl", 260),
        ("multibody.stl", "stl", 32),
        ("box.obj", "obj", 12),
        ("monkey.glb", "glb", 968),
        ("pyramids.3mf", "3mf", None),
    ],
)
def test_real_models_are_accepted_with_facts_thumbnail_and_a_viewer_copy(
    app, client, form_page, name, file_format, triangles
):
    response = post(client, fields(form_page, model=upload(name, fixture_bytes(name))))
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        entry = db.session.scalar(select(Entry))
        facts = entry.model_file.facts
        assert facts["format"] == file_format
        if triangles:
            assert facts["triangles"] == triangles
        assert len(facts["size_mm"]) == 3 and "watertight" in facts
        # A PNG thumbnail rendered on the server
        assert storage.read(entry.model_file.thumbnail_key).startswith(b"\x89PNG")
        # The viewer's copy is a plain GLB with the same triangles
        glb = storage.read(entry.viewer_file.key)
        assert parse_glb(glb, "viewer.glb", MeshLimits(), Deadline(10)).triangles.shape == (facts["triangles"], 3, 3)
        entry_id = entry.id
        viewer_url = f"/files/{entry.viewer_file.key}/sozdatel-2027-rabota-{entry.id}-prosmotr.glb"
    page = client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    assert "<model-viewer" in page and viewer_url in page
    assert "model-viewer-4.4.0.min.js" in page
    assert fetch_status(client, viewer_url) == 200


def test_the_whole_form_with_images_and_a_note(app, client, form_page):
    data = fields(
        form_page,
        model=upload("куб.stl", fixture_bytes("20mm-xyz-cube.stl")),
        images=[upload("фото.jpg", photo_with_gps()), upload("рендер.png", _png())],
        note=upload("записка.pdf", PDF),
    )
    assert post(client, data).status_code == 303
    with app.app_context():
        entry = db.session.scalar(select(Entry))
        images = db.session.scalars(
            select(StoredFile).where(StoredFile.owner_id == entry.id, StoredFile.kind == "image")
        ).all()
        assert sorted(i.original_name for i in images) == ["рендер.png", "фото.jpg"]
        # Re-encoded: the GPS position of the minor's photo is gone
        photo = next(i for i in images if i.extension == "jpg")
        assert 0x8825 not in Image.open(io.BytesIO(storage.read(photo.key))).getexif()
        assert entry.note_file.original_name == "записка.pdf"
        assert entry.consent_processing and entry.consents[0].giver_name == "Иванова Мария Петровна"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (20, 80, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("3D/3dmodel.model", b"<model>" + b" " * (80 * 1024 * 1024) + b"</model>")
    return buffer.getvalue()


def test_a_model_saved_in_metres_is_shown_with_the_unit_warning(app, client, form_page):
    response = post(client, fields(form_page, model=upload("fuze.obj", fixture_bytes("fuze.obj"))))
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        entry_id = db.session.scalar(select(Entry.id))
    page = client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    assert "Похоже, модель сохранена не в миллиметрах: её наибольшая сторона — 0,215 мм." in page


CUBE_HEADER = 84


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("cut.stl", lambda: fixture_bytes("20mm-xyz-cube.stl")[:-70], "Формат не распознан"),
        ("liar.stl", lambda: b"\0" * 80 + struct.pack("<I", 10**8) + b"\0" * 50, "Формат не распознан"),
        ("page.stl", lambda: b"<html><script>alert(1)</script></html>", "Формат не распознан"),
        ("picture.stl", _png, "это изображение PNG"),
        ("empty.stl", lambda: fixture_bytes("empty.stl"), "нет ни одного треугольника"),
        ("stl_empty_bin.stl", lambda: fixture_bytes("stl_empty_bin.stl"), "нет ни одного треугольника"),
        ("bomb.3mf", _zip_bomb, "zip-бомб"),
    ],
)
def test_hostile_models_are_refused_with_the_reason_and_the_rest_kept(app, client, form_page, name, make, reason):
    data = fields(form_page, model=upload(name, make()), images=[upload("рендер.png", _png())])
    response = post(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert reason in page
    # What was typed is still there...
    assert "Модель ледокола «Ангара»" in page and "Ледокол, который работал на Байкале." in page
    # ... and the good image waits as a pending upload, with its key in the form
    keys = re.findall(r'name="images-pending" value="([^"]+)"', page)
    assert len(keys) == 1
    assert entry_count(app) == 0
    # Sending the form again with a good model keeps the image
    again = fields(
        form_page, **{"images-pending": keys[0]}, model=upload("куб.stl", fixture_bytes("20mm-xyz-cube.stl"))
    )
    assert post(client, again).status_code == 303
    with app.app_context():
        entry = db.session.scalar(select(Entry))
        attached = db.session.scalars(select(StoredFile.key).where(StoredFile.owner_id == entry.id)).all()
        assert keys[0] in attached


def test_an_oversize_model_is_refused(app, client, form_page, monkeypatch):
    monkeypatch.setitem(EntryForm.model.kwargs, "max_size", 4096)
    response = post(client, fields(form_page, model=upload("big.stl", fixture_bytes("20mm-xyz-cube.stl"))))
    assert response.status_code == 422
    assert "больше 4 КБ" in response.get_data(as_text=True)


def test_the_viewer_copy_is_made_from_the_triangles_checked_at_upload(app, student):
    with app.test_request_context():
        student = db.session.merge(student)
        season = seasons.season_by_year(2027)
        # The student's model is checked and stored as an upload of the entry form is
        stored = services.store_upload(student, validate_upload("model", "куб.stl", fixture_bytes("20mm-xyz-cube.stl")))
        # Whatever becomes of the stored file afterwards, nothing reads it again in this request
        storage.path_for(stored.key).write_bytes(b"not a model any more")
        entry = entries.create_entry(
            student,
            season,
            entries.EntryData(season.nominations[0].id, season.age_categories[1].id, "Куб", "Калибровочный куб."),
            entries.EntryFiles(model_key=stored.key),
        )
        # The viewer's copy was made from the triangles of the check: the model was parsed once
        entry = db.session.get(Entry, entry.id)
        assert entry.viewer_file is not None
        glb = storage.read(entry.viewer_file.key)
        assert parse_glb(glb, "viewer.glb", MeshLimits(), Deadline(10)).triangles.shape == (260, 3, 3)


def test_an_other_field_error_keeps_the_uploaded_model(app, client, form_page):
    # No title: refused, but the model is stored as pending and shown
    response = post(client, fields(form_page, title="", model=upload("куб.stl", fixture_bytes("20mm-xyz-cube.stl"))))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Заполните это поле." in page and "куб.stl" in page
    (key,) = re.findall(r'name="model-pending" value="([^"]+)"', page)
    # The student fixes the title only: the model comes from the pending upload
    assert post(client, fields(form_page, **{"model-pending": key})).status_code == 303
    assert entry_count(app) == 1


def test_an_entry_needs_a_model(app, client, form_page):
    response = post(client, fields(form_page))
    assert response.status_code == 422
    assert "Загрузите 3D-модель" in response.get_data(as_text=True)


def test_another_users_pending_upload_cannot_be_claimed(app, client, form_page, make_user):
    other = make_user(roles=("student",), email="other@example.ru")
    with app.test_request_context():
        from tests.contest_support import stored_model

        foreign = stored_model(other).key
    response = post(client, fields(form_page, **{"model-pending": foreign}))
    assert response.status_code == 422
    assert entry_count(app) == 0
