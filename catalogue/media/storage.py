"""Every file the site stores, behind one interface: uploads, their thumbnails and viewer files, the contest's
collection PDFs and diplomas.

A stored file has a **name**: a relative path of plain segments (``ab/<key>`` for an upload,
``contest/collections/sozdatel-2027-5.pdf``). :class:`Storage` is what the site needs of a store; the setting
``STORAGE`` chooses one (``local``, the only one yet: :class:`LocalStorage` over the folder ``MEDIA_ROOT``, default
``<instance>/uploads``). Several hosts share the files by mounting one ``MEDIA_ROOT`` (NFS): a write goes to a
temporary file in the target's own folder, is flushed to the disk and renamed, and a rename within one folder is
atomic on NFS as on a local disk, so no host ever reads half a file.

Uploads are named by random keys, never by what the uploader called the file: ``<first 2 characters>/<key>``. The
module's functions of a key (:func:`write`, :func:`read`, :func:`path_for`…) are the uploads' API; the contest's
files use :func:`backend` with names of their own under ``contest/`` (never a two-letter folder).
"""

import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Response, current_app, send_file

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")
# Plain segments only: no "..", no absolute path, no hidden file (temporary files start with a dot)
NAME_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}(/[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}){0,7}")
UPLOAD_NAME = re.compile(r"([A-Za-z0-9_-]{2})/(\1[A-Za-z0-9_-]{18,62})")
COPY_BLOCK = 1024 * 1024


class Storage(Protocol):
    """A store of files by name. Every write is atomic: a reader sees the old file, the new one, or none."""

    def write(self, name: str, data: bytes | BinaryIO) -> None:
        """Store ``data`` (bytes, or a binary stream read to its end) under ``name``, replacing what was there."""

    def open(self, name: str) -> BinaryIO:
        """The file for reading; the caller closes it. :raise FileNotFoundError:"""

    def read(self, name: str) -> bytes:
        """The whole file. :raise FileNotFoundError:"""

    def delete(self, name: str) -> None:
        """Remove the file if it is there."""

    def exists(self, name: str) -> bool: ...

    def size(self, name: str) -> int:
        """Bytes. :raise FileNotFoundError:"""

    def modified(self, name: str) -> float:
        """The time of the last write (seconds since the epoch). :raise FileNotFoundError:"""

    def names(self, prefix: str = "") -> Iterator[str]:
        """The name of every file under the folder ``prefix`` (all of them for ``""``), in no set order."""

    def local_path(self, name: str) -> Path | None:
        """The file's path on this host's file system (``send_file``, ``X-Accel-Redirect``), None when it has none."""


def check_name(name: str) -> str:
    """:raise ValueError: not a name a file can have here (no path tricks)."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"not a storage name: {name!r}")
    return name


class LocalStorage:
    """Files in a folder of this host's file system, local or a shared mount (see the module's docstring)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root / check_name(name)

    def write(self, name: str, data: bytes | BinaryIO) -> None:
        target = self._path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(descriptor, "wb") as stream:
                if isinstance(data, bytes | bytearray | memoryview):
                    stream.write(data)
                else:
                    shutil.copyfileobj(data, stream, COPY_BLOCK)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _sync_folder(target.parent)  # the rename itself survives a crash

    def open(self, name: str) -> BinaryIO:
        return self._path(name).open("rb")

    def read(self, name: str) -> bytes:
        return self._path(name).read_bytes()

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def size(self, name: str) -> int:
        return self._path(name).stat().st_size

    def modified(self, name: str) -> float:
        return self._path(name).stat().st_mtime

    def names(self, prefix: str = "") -> Iterator[str]:
        top = self._path(prefix) if prefix else self.root
        for folder, subfolders, files in os.walk(top):
            subfolders[:] = [s for s in subfolders if not s.startswith(".")]
            relative = Path(folder).relative_to(self.root).as_posix()
            for file in files:
                if not file.startswith("."):  # a write under way
                    yield file if relative == "." else f"{relative}/{file}"

    def local_path(self, name: str) -> Path | None:
        return self._path(name)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError:  # a file system that cannot sync a folder (some network ones) has made the rename durable
        pass
    finally:
        os.close(descriptor)


BACKENDS = {"local": LocalStorage}


def backend() -> Storage:
    """The application's store, made once from ``STORAGE`` and ``MEDIA_ROOT``."""
    store = current_app.extensions.get("catalogue.storage")
    if store is None:
        kind = current_app.config.get("STORAGE") or "local"
        if kind not in BACKENDS:
            raise RuntimeError(f"STORAGE={kind!r}: такого хранилища нет, есть {', '.join(sorted(BACKENDS))}.")
        root = current_app.config.get("MEDIA_ROOT") or Path(current_app.instance_path) / "uploads"
        store = current_app.extensions["catalogue.storage"] = BACKENDS[kind](root)
    return store


def send(name: str, mimetype: str, **options) -> Response:
    """The stored file as a response (conditional requests and ranges included); ``options`` go to ``send_file``.

    :raise FileNotFoundError:"""
    store = backend()
    path = store.local_path(name)
    if path is not None:
        if not path.is_file():
            raise FileNotFoundError(name)
        return send_file(path, mimetype=mimetype, conditional=True, **options)
    options.setdefault("last_modified", store.modified(name))
    return send_file(store.open(name), mimetype=mimetype, conditional=True, **options)


# -- uploads, by key ----------------------------------------------------------------------------------


def new_key() -> str:
    """A random, URL-safe key (192 bits)."""
    return secrets.token_urlsafe(24)


def name_for(key: str) -> str:
    """The stored name of the upload ``key``; :raise ValueError: not a key we make (no path tricks)."""
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return f"{key[:2]}/{key}"


def uploads_root() -> Path:
    """The local folder of the uploads (``MEDIA_ROOT``); :raise RuntimeError: a store without local files."""
    root = getattr(backend(), "root", None)
    if root is None:
        raise RuntimeError("The configured storage has no local folder.")
    return root


def path_for(key: str) -> Path:
    """Where the file of ``key`` lives on this host; :raise ValueError: not a key we make."""
    path = backend().local_path(name_for(key))
    if path is None:
        raise RuntimeError("The configured storage has no local files.")
    return path


def write(key: str, data: bytes | BinaryIO) -> None:
    """Store ``data`` under ``key`` atomically (temporary file, fsync, rename)."""
    backend().write(name_for(key), data)


def open_file(key: str) -> BinaryIO:
    """The stored file for reading; the caller closes it. :raise FileNotFoundError:"""
    return backend().open(name_for(key))


def read(key: str) -> bytes:
    """The whole stored file. :raise FileNotFoundError:"""
    return backend().read(name_for(key))


def exists(key: str) -> bool:
    return backend().exists(name_for(key))


def size(key: str) -> int:
    return backend().size(name_for(key))


def delete(key: str) -> None:
    """Remove the file of ``key`` if it is there."""
    backend().delete(name_for(key))


def upload_keys() -> Iterator[str]:
    """The key of every stored upload (the contest's documents and files being written left out)."""
    store = backend()
    for name in store.names():
        if match := UPLOAD_NAME.fullmatch(name):
            yield match.group(2)


def stored_files() -> list[tuple[str, float]]:
    """Every stored upload's key with its modification time, for sweeping strays."""
    store, found = backend(), []
    for key in upload_keys():
        try:
            found.append((key, store.modified(name_for(key))))
        except FileNotFoundError:
            continue  # removed meanwhile
    return found
