"""Files on disk: ``<instance>/uploads/<first 2 characters of the key>/<key>``, outside ``static/``.

Names are random keys, never what the uploader called the file; writes go to a temporary file
in the same folder and are renamed into place, so a reader never sees half a file.
"""

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{20,64}")


def new_key() -> str:
    """A random, URL-safe key (192 bits)."""
    return secrets.token_urlsafe(24)


def uploads_root() -> Path:
    """The folder of all uploads: ``MEDIA_ROOT`` when configured, else ``<instance>/uploads``."""
    return Path(current_app.config.get("MEDIA_ROOT") or Path(current_app.instance_path) / "uploads")


def path_for(key: str) -> Path:
    """Where the file of ``key`` lives; :raise ValueError: not a key we make (no path tricks)."""
    if not KEY_PATTERN.fullmatch(key):
        raise ValueError(f"not a storage key: {key!r}")
    return uploads_root() / key[:2] / key


def write(key: str, data: bytes) -> Path:
    """Store ``data`` under ``key`` atomically (temporary file, fsync, rename)."""
    target = path_for(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def open_file(key: str) -> BinaryIO:
    """The stored file for reading; the caller closes it. :raise FileNotFoundError:"""
    return path_for(key).open("rb")


def read(key: str) -> bytes:
    """The whole stored file. :raise FileNotFoundError:"""
    return path_for(key).read_bytes()


def exists(key: str) -> bool:
    return path_for(key).is_file()


def delete(key: str) -> None:
    """Remove the file of ``key`` if it is there."""
    path_for(key).unlink(missing_ok=True)


def stored_files() -> list[tuple[Path, float]]:
    """Every file in the uploads folder with its modification time, for sweeping strays."""
    root = uploads_root()
    if not root.is_dir():
        return []
    return [(path, path.stat().st_mtime) for folder in root.iterdir() if folder.is_dir() for path in folder.iterdir()]
