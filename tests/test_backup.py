"""A backup taken while people keep publishing restores into an empty site whole: every item, every file and every
index entry (issue #14 §6)."""

import hashlib
import shutil
import threading
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from catalogue import backup
from catalogue.extensions import db
from catalogue.media import services as media
from catalogue.media import storage
from catalogue.media.models import StoredFile
from catalogue.media.validation import validate_upload
from catalogue.projects.models import Project
from catalogue.search import indexer, stored
from catalogue.search.service import SearchParams, search
from catalogue.workflow.models import Status
from tests.conftest import app_config, make_test_app, postgres_url
from tests.factories import make_project
from tests.helpers import fixture_bytes, postgres_schema, writing_request


@pytest.fixture
def site(backend, tmp_path):
    """A site of its own (not the suite's shared schema): migrated, with a teacher and a moderator."""
    from catalogue.accounts.services import create_user
    from catalogue.roles import Role
    from catalogue.taxonomy.models import Organization
    from catalogue.taxonomy.seed import seed_taxonomies

    made = []

    def make(name: str, url: str | None = None):
        with ExitStack() as stack:
            if url is None and backend == "postgresql":
                url = stack.enter_context(postgres_schema(postgres_url(), "backup"))
            url = url or f"sqlite:///{tmp_path / name / 'site.sqlite'}"
            app = make_test_app(app_config(tmp_path / name, url))
            made.append((app, stack.pop_all()))
            return app

    source = make("source")
    # The settings of an installation: its signing key and its own config file.
    (Path(source.instance_path) / "secret_key").write_text("s3cret-" * 8)
    (Path(source.instance_path) / "config.py").write_text('OPERATOR_CONTACTS = "г. Иркутск, ул. Ленина, 1"\n')
    assert source.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with source.app_context():
        seed_taxonomies()
        school = db.session.scalar(select(Organization).limit(1))
        create_user("teacher@example.ru", "password-1234", roles={Role.TEACHER}, organization=school,
                    last_name="Учитель", first_name="Анна")  # fmt: skip
        create_user("moderator@example.ru", "password-1234", roles={Role.MODERATOR}, last_name="Модератор",
                    first_name="Олег")  # fmt: skip
        db.session.commit()
    yield source, make
    for app, stack in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        stack.close()


def _emptied(source) -> str | None:
    """Where the restore goes: SQLite, a new file (None); PostgreSQL, the source's own schema, dropped first — the
    dump recreates its schema, as a dump of a whole database fills an empty database."""
    url = source.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        return None
    with source.app_context():
        schema = db.session.execute(text("SELECT current_schema()")).scalar_one()
        db.session.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        db.session.commit()
        db.engine.dispose()
    return url


def _publish_with_a_model(app, number: int) -> int:
    from catalogue.accounts.models import User

    with app.app_context(), writing_request(app):
        teacher = db.session.scalar(select(User).where(User.email == "teacher@example.ru"))
        moderator = db.session.scalar(select(User).where(User.email == "moderator@example.ru"))
        project = make_project(teacher, "published", moderator, title=f"Проект номер {number}: модель станка")
        stored = media.store_upload(teacher, validate_upload("model", "станок.obj", fixture_bytes("box.obj")))
        media.claim_files(teacher, [stored.key], "project", project.id)
        db.session.commit()
        return project.id


def test_a_backup_taken_during_writes_restores_every_item_file_and_index_entry(site, tmp_path):
    source, make = site
    before = [_publish_with_a_model(source, n) for n in range(3)]
    with source.app_context():  # a gap among the stored documents' rows, as a removed item leaves
        stored.write([], [f"project:{before[0]}"])
        db.session.commit()
    stop, written, errors = threading.Event(), [], []

    def keep_publishing():
        number = 100
        while not stop.is_set():
            try:
                written.append(_publish_with_a_model(source, number))
            except Exception as e:  # the test fails below with it
                errors.append(e)
                return
            number += 1

    writer = threading.Thread(target=keep_publishing)
    writer.start()
    try:
        with source.app_context():
            report = backup.create(tmp_path / "copy")
    finally:
        stop.set()
        writer.join()
    assert not errors and report.missing == []
    assert written, "the writer published nothing while the backup ran"
    with source.app_context():
        secret = (Path(source.instance_path) / "secret_key").read_bytes()

    target = make("target", _emptied(source))
    runner = target.test_cli_runner()
    result = runner.invoke(args=["backup", "restore", str(tmp_path / "copy")])
    assert result.exit_code == 0, result.output
    assert "Сайт восстановлен" in result.output

    with target.app_context():
        restored = set(db.session.scalars(select(Project.id)))
        assert set(before) <= restored  # everything committed before the backup began
        files = db.session.scalars(select(StoredFile)).all()
        # Each project published before the backup came with its model; one the writer had just published may
        # have been copied before its model was attached (two transactions: the upload, kept without an owner until
        # it is claimed, then the claim), never a file without its row.
        assert set(before) <= {f.owner_id for f in files if f.owner_id is not None} <= restored
        for stored_file in files:
            assert hashlib.sha256(storage.read(stored_file.key)).hexdigest() == stored_file.sha256
            assert stored_file.thumbnail_key and storage.exists(stored_file.thumbnail_key)
        assert indexer.check().ok
        if db.engine.dialect.name == "sqlite":  # the full-text table agrees with the rows VACUUM INTO renumbered
            check = "INSERT INTO search_document_fts(search_document_fts, rank) VALUES ('integrity-check', 1)"
            db.session.execute(text(check))
        assert (Path(target.instance_path) / "secret_key").read_bytes() == secret
        assert "ул. Ленина" in (Path(target.instance_path) / "config.py").read_text()
        published = db.session.scalar(select(func.count()).where(Project.status == Status.PUBLISHED))
    with target.test_request_context("/search"):
        assert search(SearchParams(q="станка")).total == published >= len(before)  # every published one is found


def test_a_damaged_backup_and_a_site_that_is_not_empty_are_refused(site, tmp_path):
    source, make = site
    _publish_with_a_model(source, 1)
    with source.app_context():
        backup.create(tmp_path / "copy")
    runner = source.test_cli_runner()
    assert runner.invoke(args=["backup", "verify", str(tmp_path / "copy")]).exit_code == 0

    refused = runner.invoke(args=["backup", "restore", str(tmp_path / "copy")])
    assert refused.exit_code != 0 and "только в пустой сайт" in refused.output

    damaged = tmp_path / "damaged"
    shutil.copytree(tmp_path / "copy", damaged)
    victim = next(p for p in (damaged / "uploads").rglob("*") if p.is_file())
    victim.write_bytes(b"not the model")
    result = make("empty", _emptied(source)).test_cli_runner().invoke(args=["backup", "restore", str(damaged)])
    assert result.exit_code != 0 and "повреждён" in result.output
    with source.app_context(), pytest.raises(backup.BackupError, match="не пуста"):
        backup.create(tmp_path / "copy")
