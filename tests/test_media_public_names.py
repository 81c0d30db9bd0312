"""Files go by neutral names in public: URLs and downloads are named after the item, not the uploader's file.

A student's file is often called after the student; the public sees ``sozdatel-2027-rabota-23.stl``,
while the uploader and the moderators still see the name the file came with.
"""

import struct
from urllib.parse import quote

import numpy as np
import pytest

from catalogue.contest import entries
from catalogue.extensions import db
from catalogue.media import services as media
from catalogue.media.names import public_name
from catalogue.media.validation import validate_upload
from catalogue.workflow import services as workflow
from tests.contest_support import SCHOOL_A, consent, loaded, make_season, organization
from tests.helpers import PDF

ORIGINAL = "Кузнецов Пётр 9Б ракета.stl"


def tetrahedron_stl() -> bytes:
    corners = np.array([(0, 0, 0), (10, 0, 0), (0, 10, 0), (0, 0, 10)], dtype="<f4")
    records = np.zeros(4, dtype=[("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    records["corners"] = corners[[(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]]
    return b"\0" * 80 + struct.pack("<I", 4) + records.tobytes()


@pytest.fixture
def people(app, make_user):
    with app.app_context():
        return loaded(
            {
                "admin": make_user(roles=("admin",), email="admin@example.ru"),
                "moderator": make_user(roles=("moderator",), email="moderator@example.ru"),
                "student": make_user(
                    roles=("student",), email="student@example.ru", grade=9, organization=organization(SCHOOL_A)
                ),
                "visitor": make_user(roles=("student",), email="other@example.ru", grade=9),
            }
        )


@pytest.fixture
def published_entry(app, people):
    """An admitted entry of the 2027 season whose model the student uploaded as ``ORIGINAL``: (entry id, file key)."""
    with app.test_request_context():
        season = make_season(people["admin"], 2027)
        student = db.session.merge(people["student"])
        model = media.store_upload(student, validate_upload("model", ORIGINAL, tetrahedron_stl()))
        category = next(c for c in season.age_categories if c.includes_grade(student.grade))
        entry = entries.create_entry(
            student,
            season,
            entries.EntryData(
                nomination_id=season.nominations[0].id,
                age_category_id=category.id,
                title="Ракета",
                description="Модель ракеты.",
                software="Blender",
            ),
            entries.EntryFiles(model_key=model.key),
            consent(),
        )
        workflow.transition(student, entry, "submit")
        workflow.transition(db.session.merge(people["moderator"]), entry, "publish")
        return entry.id, model.key


def download(client, url: str):
    with client.get(url) as response:
        return response.status_code, response.headers.get("Content-Disposition", "")


def test_visitors_see_and_download_an_entry_model_by_a_neutral_name(client, published_entry):
    entry_id, key = published_entry
    page = client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    neutral = f"sozdatel-2027-rabota-{entry_id}.stl"
    # The link and its text are the neutral name; the student's file name appears nowhere
    assert f"/files/{key}/{neutral}" in page
    assert "Кузнецов" not in page and quote("Кузнецов") not in page
    status, disposition = download(client, f"/files/{key}/{neutral}")
    assert status == 200
    assert disposition == f"attachment; filename=\"{neutral}\"; filename*=UTF-8''{neutral}"


def test_an_old_link_with_the_original_name_still_works_and_downloads_neutrally(client, published_entry):
    entry_id, key = published_entry
    status, disposition = download(client, f"/files/{key}/{quote(ORIGINAL)}")
    assert status == 200
    assert f"sozdatel-2027-rabota-{entry_id}.stl" in disposition
    assert "Кузнецов" not in disposition and quote("Кузнецов") not in disposition


def test_moderator_and_uploader_still_see_the_original_name(client, auth, people, published_entry):
    entry_id, _ = published_entry
    # The moderator's review page names the file as it came
    auth.login(people["moderator"])
    assert ORIGINAL in client.get(f"/moderation/entry/{entry_id}").get_data(as_text=True)
    auth.logout()
    # So does the student's own entry page
    auth.login(people["student"])
    assert ORIGINAL in client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    auth.logout()
    # Another logged-in student sees the neutral name only
    auth.login(people["visitor"])
    page = client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    assert ORIGINAL not in page and f"sozdatel-2027-rabota-{entry_id}.stl" in page


def test_each_kind_of_file_is_named_after_its_item(app, people):
    with app.app_context():
        teacher = db.session.merge(people["admin"])
        stored = media.store_upload(teacher, validate_upload("document", "Методичка Кузнецовой.pdf", PDF))
        # Pending: only the uploader sees it, still under a neutral name
        assert public_name(stored) == f"zagruzka-{stored.id}.pdf"
        stored.owner_type, stored.owner_id = "project", 12
        assert public_name(stored) == f"proekt-12-prilozhenie-{stored.id}.pdf"
        stored.owner_type = "practice"
        assert public_name(stored) == f"praktika-12-prilozhenie-{stored.id}.pdf"
        stored.owner_type = "report"
        assert public_name(stored) == f"otchet-12-foto-{stored.id}.pdf"
        db.session.rollback()
