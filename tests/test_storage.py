"""The storage interface: every stored file by name, written atomically, in one folder (``MEDIA_ROOT``)."""

import io
import os

import pytest

from catalogue.extensions import db
from catalogue.media import services, storage
from catalogue.media.storage import LocalStorage
from catalogue.media.validation import validate_upload
from tests.conftest import app_config, make_test_app
from tests.helpers import PDF


def test_a_file_is_written_read_listed_and_deleted_by_its_name(tmp_path):
    store = LocalStorage(tmp_path / "media")
    store.write("contest/collections/sozdatel-2027-5.pdf", b"%PDF-1.7 first")
    # A stream is copied to its end: a large PDF never has to fit in memory
    store.write("ab/ab" + "c" * 30, io.BytesIO(b"model"))
    assert store.read("contest/collections/sozdatel-2027-5.pdf") == b"%PDF-1.7 first"
    with store.open("ab/ab" + "c" * 30) as stream:
        assert stream.read() == b"model"
    assert store.size("ab/ab" + "c" * 30) == 5 and store.exists("ab/ab" + "c" * 30)
    assert store.local_path("ab/ab" + "c" * 30) == tmp_path / "media" / "ab" / ("ab" + "c" * 30)
    assert sorted(store.names()) == ["ab/ab" + "c" * 30, "contest/collections/sozdatel-2027-5.pdf"]
    assert list(store.names("contest")) == ["contest/collections/sozdatel-2027-5.pdf"]
    assert list(store.names("contest/diplomas")) == []  # a folder nobody wrote into yet
    # Written again: replaced whole
    store.write("contest/collections/sozdatel-2027-5.pdf", b"%PDF-1.7 second")
    assert store.read("contest/collections/sozdatel-2027-5.pdf") == b"%PDF-1.7 second"
    store.delete("contest/collections/sozdatel-2027-5.pdf")
    store.delete("contest/collections/sozdatel-2027-5.pdf")  # gone already: nothing to do
    assert not store.exists("contest/collections/sozdatel-2027-5.pdf")
    with pytest.raises(FileNotFoundError):
        store.read("contest/collections/sozdatel-2027-5.pdf")


@pytest.mark.parametrize("name", ["../secret_key", "/etc/passwd", "a/../../b", ".part-x", "a/.hidden", "a//b", ""])
def test_a_name_that_could_leave_the_folder_or_hide_is_refused(tmp_path, name):
    store = LocalStorage(tmp_path)
    with pytest.raises(ValueError, match="not a storage name"):
        store.write(name, b"x")
    with pytest.raises(ValueError, match="not a storage name"):
        store.exists(name)


def test_a_write_that_fails_halfway_leaves_the_old_file_and_no_part(tmp_path):
    store = LocalStorage(tmp_path)
    store.write("contest/diplomas/2027/5-abc.pdf", b"old")

    class Broken(io.RawIOBase):
        def readinto(self, buffer):
            raise OSError("the client went away")

    with pytest.raises(OSError, match="went away"):
        store.write("contest/diplomas/2027/5-abc.pdf", Broken())
    assert store.read("contest/diplomas/2027/5-abc.pdf") == b"old"
    assert os.listdir(tmp_path / "contest" / "diplomas" / "2027") == ["5-abc.pdf"]


def test_a_write_under_way_is_not_listed(tmp_path):
    store = LocalStorage(tmp_path)
    store.write("ab/ab" + "d" * 30, b"whole")
    (tmp_path / "ab" / ".part-k2j3").write_bytes(b"half")  # another host's write, not renamed yet
    assert list(store.names()) == ["ab/ab" + "d" * 30]


def test_uploads_are_told_apart_from_the_contest_files_beside_them(app):
    with app.app_context():
        key = storage.new_key()
        storage.write(key, b"upload")
        storage.backend().write("contest/collections/sozdatel-2027-1.pdf", b"%PDF")
        assert list(storage.upload_keys()) == [key]
        assert storage.read(key) == b"upload" and storage.size(key) == 6
        assert storage.path_for(key).parent.parent == storage.uploads_root()


def test_an_unknown_storage_is_named_in_the_error(app):
    app.config["STORAGE"] = "s3"
    with app.app_context(), pytest.raises(RuntimeError, match="STORAGE='s3': такого хранилища нет, есть local"):
        storage.backend()


def test_a_host_whose_shared_folder_is_not_mounted_fails_its_health_check(app, client, make_user, tmp_path):
    assert client.get("/healthz").get_json()["checks"]["storage"]["ok"] is True  # nothing stored yet
    teacher = make_user(roles=("teacher",))
    with app.app_context():
        services.store_upload(db.session.merge(teacher), validate_upload("document", "План.pdf", PDF))
    assert client.get("/healthz").get_json()["checks"]["storage"] == {"ok": True, "newest_file_present": True}
    # Another host over the same database, its MEDIA_ROOT an empty mount point
    config = app_config(tmp_path / "host-b", app.config["SQLALCHEMY_DATABASE_URI"])
    host_b = make_test_app(config | {"MEDIA_ROOT": str(tmp_path / "not-mounted")})
    try:
        response = host_b.test_client().get("/healthz")
    finally:
        with host_b.app_context():
            db.engine.dispose()
    assert response.status_code == 503
    assert response.get_json()["checks"]["storage"] == {"ok": False, "newest_file_present": False}
