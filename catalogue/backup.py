"""Backups that restore: the database, the uploaded files and the instance's settings, with a manifest of checksums.

``flask --app catalogue backup create DIR`` takes a consistent copy while the site runs:

1. every uploaded file is copied (files are never rewritten: a key names one content for ever);
2. the database is copied as of one moment, without stopping writers — SQLite with ``VACUUM INTO`` (a read
   transaction: WAL lets the site write meanwhile), PostgreSQL with ``pg_dump`` (one MVCC snapshot);
3. files uploaded meanwhile are copied too, and every file the copied database names is checked to be there;
4. ``instance/secret_key`` and ``instance/config.py`` (signed links and sessions stay valid after a restore);
5. ``manifest.json``: the database's kind and migration, and the size and SHA-256 of every file of the backup.

``backup restore DIR`` checks every checksum first, refuses an instance that is not empty, brings the database back
(migrating it forward when the code is newer), the files and the settings, and rebuilds the search index — the
index and the page cache are never backed up, they are made from the database. ``backup verify DIR`` checks the
checksums only. The search index, the page cache, compiled templates and built PDFs are left out: all are made again.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, select
from sqlalchemy.engine import make_url

from catalogue.clock import utcnow
from catalogue.database import reading
from catalogue.extensions import db
from catalogue.media import storage

FORMAT = "proforientir-backup"
VERSION = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"
UPLOADS = "uploads"
SETTINGS = "instance"
SETTINGS_FILES = ("secret_key", "config.py")


class BackupError(Exception):
    """A backup that cannot be taken or restored; the message says why, in Russian."""


@dataclass
class Report:
    files: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)  # files the database names that could not be copied
    seconds: float = 0.0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _is_sqlite() -> bool:
    return _url().get_backend_name() == "sqlite"


def _sqlite_path() -> Path:
    database = _url().database
    if not database or database == ":memory:":
        raise BackupError("База данных SQLite в памяти: копировать нечего.")
    return Path(database)


def _libpq() -> tuple[str, str | None]:
    """The database's URL as pg_dump and pg_restore take it, and the schema of its ``search_path`` if it names one."""
    url = _url()
    options = url.query.get("options", "")
    options = options if isinstance(options, str) else " ".join(options)
    schema = None
    for part in options.split():
        if part.startswith("-csearch_path="):
            schema = part.removeprefix("-csearch_path=").split(",")[0].strip('"')
    plain = url.set(drivername="postgresql", query={})
    return plain.render_as_string(hide_password=False), schema


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"Не найдена программа {name}: установите клиент PostgreSQL (пакет postgresql-client).")
    return found


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our own arguments)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} завершился с ошибкой: {result.stderr.strip()[:2000]}")


def _copy_uploads(target: Path, done: set[str]) -> tuple[int, int]:
    """Copy the uploads not copied yet; returns (files, bytes) copied now."""
    files = size = 0
    for key in sorted(storage.upload_keys()):  # a half-written upload is not a file yet
        if key in done:
            continue
        name = storage.name_for(key)
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            with storage.open_file(key) as source, destination.open("wb") as out:
                shutil.copyfileobj(source, out, storage.COPY_BLOCK)
        except FileNotFoundError:
            destination.unlink(missing_ok=True)
            continue  # removed meanwhile: the database no longer names it, or the check below says so
        done.add(key)
        files += 1
        size += destination.stat().st_size
    return files, size


def _named_keys(snapshot_taken: dt.datetime) -> list[str]:
    """The keys of every stored file (and its thumbnail) the database names that are older than the snapshot."""
    from catalogue.media.models import StoredFile

    with reading():
        rows = db.session.execute(
            select(StoredFile.key, StoredFile.thumbnail_key).where(StoredFile.created_at <= snapshot_taken)
        ).all()
        db.session.rollback()
    return [key for row in rows for key in row if key]


def _revision() -> str | None:
    from sqlalchemy import text

    with reading():
        try:
            revision = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        except Exception:  # a database made by create_all (the tests) has no migration table
            revision = None
        db.session.rollback()
    return revision


def create(directory: Path, echo: Callable[[str], None] = lambda _m: None) -> Report:
    """A consistent backup of this instance into ``directory`` (new or empty)."""
    import time

    started = time.perf_counter()
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"Папка {directory} не пуста: для копии нужна новая или пустая папка.")
    directory.mkdir(parents=True, exist_ok=True)
    uploads = directory / UPLOADS
    uploads.mkdir()
    report = Report()
    copied: set[str] = set()

    files, size = _copy_uploads(uploads, copied)
    echo(f"Файлы: {files} ({size / 1e6:.1f} МБ).")
    snapshot_taken = utcnow()
    revision = _revision()
    if _is_sqlite():
        # VACUUM INTO reads one snapshot in a read transaction: writers go on meanwhile (WAL).
        connection = sqlite3.connect(_sqlite_path(), timeout=60)
        try:
            connection.execute("VACUUM INTO ?", (str(directory / SQLITE_FILE),))
        finally:
            connection.close()
        database_file = SQLITE_FILE
    else:
        url, schema = _libpq()
        command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
        command.append(f"--file={directory / PG_FILE}")
        if schema:
            command.append(f"--schema={schema}")
        _run([*command, url])
        database_file = PG_FILE
    echo("База данных скопирована.")
    _copy_uploads(uploads, copied)  # uploaded while the database was copied
    named = _named_keys(snapshot_taken)
    if any(key not in copied for key in named):
        _copy_uploads(uploads, copied)  # uploaded just now
    report.missing = [key for key in named if key not in copied]
    settings = directory / SETTINGS
    settings.mkdir()
    for name in SETTINGS_FILES:
        source = Path(current_app.instance_path) / name
        if source.is_file():
            shutil.copy2(source, settings / name)
    manifest_files = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        relative = path.relative_to(directory).as_posix()
        manifest_files.append({"path": relative, "size": path.stat().st_size, "sha256": _sha256(path)})
    report.files = sum(1 for f in manifest_files if f["path"].startswith(f"{UPLOADS}/"))
    report.bytes = sum(f["size"] for f in manifest_files)
    manifest = {
        "format": FORMAT, "version": VERSION, "created_at": snapshot_taken.isoformat() + "Z",
        "database": {"kind": "sqlite" if _is_sqlite() else "postgresql", "file": database_file,
                     "revision": revision},
        "missing_files": report.missing, "files": manifest_files,
    }  # fmt: skip
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    report.seconds = time.perf_counter() - started
    return report


def read_manifest(directory: Path) -> dict:
    """The manifest of ``directory`` after checking every file's size and checksum. :raise BackupError:"""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BackupError(f"В папке {directory} нет читаемого {MANIFEST}: это не копия сайта.") from e
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError("Это не копия сайта или копия другой версии формата.")
    for entry in manifest["files"]:
        path = directory / entry["path"]
        if not path.is_file():
            raise BackupError(f"В копии нет файла {entry['path']}.")
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise BackupError(f"Файл {entry['path']} повреждён: контрольная сумма не совпадает.")
    return manifest


def _instance_is_empty() -> str | None:
    """Why this instance is not empty, or None."""
    tables = set(inspect(db.engine).get_table_names())
    db.session.remove()
    if tables - {"alembic_version"}:
        return "в базе данных уже есть таблицы"
    if next(storage.upload_keys(), None) is not None:
        return "в хранилище файлов (MEDIA_ROOT) уже есть загруженные файлы"
    return None


def restore(directory: Path, echo: Callable[[str], None] = lambda _m: None) -> int:
    """Bring the backup in ``directory`` into this empty instance; returns the number of items indexed."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    echo(f"Копия от {manifest['created_at']}: {len(manifest['files'])} файлов, контрольные суммы сходятся.")
    kind = manifest["database"]["kind"]
    if kind != ("sqlite" if _is_sqlite() else "postgresql"):
        raise BackupError(f"Копия сделана с базы {kind}, а сайт настроен на другую: восстановите в такую же базу.")
    reason = _instance_is_empty()
    if reason:
        raise BackupError(f"Восстанавливать можно только в пустой сайт, а {reason}.")
    db.engine.dispose()
    if kind == "sqlite":
        target = _sqlite_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(directory / SQLITE_FILE, target)
    else:
        url, _schema = _libpq()
        _run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={url}",
              str(directory / PG_FILE)])  # fmt: skip
    echo("База данных восстановлена.")
    if manifest["database"].get("revision"):
        from flask_migrate import upgrade

        upgrade()  # a newer version of the site brings the copy's tables up to date
    source = directory / UPLOADS
    for path in sorted(source.rglob("*")):
        if path.is_file():
            with path.open("rb") as stream:
                storage.backend().write(path.relative_to(source).as_posix(), stream)
    instance = Path(current_app.instance_path)
    for name in SETTINGS_FILES:
        saved = directory / SETTINGS / name
        if saved.is_file():
            shutil.copy2(saved, instance / name)
            if name == "secret_key":
                os.chmod(instance / name, 0o600)
    echo("Файлы и настройки восстановлены; поисковый индекс строится заново.")
    from catalogue.search import indexer, stored

    # VACUUM INTO may have renumbered the stored documents' rows, which SQLite's full-text table refers to.
    stored.refresh_full_text()
    db.session.commit()
    return indexer.rebuild()


# -- commands -------------------------------------------------------------------------------------------

@click.group("backup", help="Резервные копии: база данных, загруженные файлы и настройки.")
def backup_cli() -> None:
    pass


@backup_cli.command("create")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def create_command(directory: Path) -> None:
    """Take a consistent copy into DIRECTORY (new or empty) while the site runs."""
    try:
        report = create(directory, echo=click.echo)
    except BackupError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Копия готова: {report.files} загруженных файлов, {report.bytes / 1e6:.1f} МБ, {report.seconds:.1f} с.")
    if report.missing:
        named = ", ".join(report.missing[:20])
        click.echo(f"Внимание: нет файлов, которые называет база ({len(report.missing)}): {named}")


@backup_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(directory: Path) -> None:
    """Bring the copy in DIRECTORY into this empty instance and rebuild the search index."""
    try:
        count = restore(directory, echo=click.echo)
    except BackupError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Сайт восстановлен, в поисковом индексе {count} материалов. Перезапустите процессы сайта.")


@backup_cli.command("verify")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify_command(directory: Path) -> None:
    """Check every file of the copy in DIRECTORY against its manifest."""
    try:
        manifest = read_manifest(directory)
    except BackupError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Копия от {manifest['created_at']} цела: {len(manifest['files'])} файлов.")
