"""Zip containers (Office, OpenDocument, 3MF) opened with guards against zip bombs.

Only the central directory is trusted for the decision to go on; every read is bounded as well,
because the sizes a hostile archive declares may lie.
"""

import io
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from catalogue.media.errors import MiB, UploadError, human_size

ZIP_MAGIC = b"PK\x03\x04"
# Errors the zipfile module raises on broken or unsupported archives.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError, zlib.error)
# Rewritten archives carry no dates of their own: when a file was edited is nobody's business.
NEUTRAL_DATE = (1980, 1, 1, 0, 0, 0)
# Members are unpacked and rewritten this much at a time.
BLOCK_SIZE = 1 * MiB


@dataclass(frozen=True)
class ZipLimits:
    """What a container may hold: entries, their total unpacked size, and how hard each may be compressed."""

    max_entries: int = 2000
    max_total_size: int = 100 * MiB
    max_ratio: int = 200
    # Small entries may compress as well as they like: they cannot hurt.
    ratio_exempt_size: int = 1 * MiB


DEFAULT_LIMITS = ZipLimits()


@dataclass
class _Budget:
    """What is left of the unpacked size an archive may have, as counted while reading (not as declared)."""

    left: int


class SafeZip:
    """A zip archive in memory whose directory passed the limits; members are read with bounds."""

    def __init__(self, data: bytes, display_name: str, limits: ZipLimits = DEFAULT_LIMITS) -> None:
        self.display_name = display_name
        self.limits = limits
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except ZIP_ERRORS as e:
            raise UploadError(f"Файл «{display_name}» повреждён: не удалось прочитать архив внутри него.") from e
        self._infos = {info.filename: info for info in infos}
        self._check_directory(infos)

    def _check_directory(self, infos: list[zipfile.ZipInfo]) -> None:
        """:raise UploadError: too many entries, too much data unpacked, a bomb-like ratio, encryption."""
        name, limits = self.display_name, self.limits
        if len(infos) > limits.max_entries:
            raise UploadError(f"Файл «{name}» отклонён: в архиве внутри него больше {limits.max_entries} файлов.")
        total = sum(info.file_size for info in infos)
        if total > limits.max_total_size:
            raise UploadError(
                f"Файл «{name}» отклонён: после распаковки он занял бы больше {human_size(limits.max_total_size)}."
            )
        for info in infos:
            if info.flag_bits & 0x1:
                raise UploadError(f"Файл «{name}» защищён паролем; загрузите его без пароля.")
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.ratio_exempt_size and ratio > limits.max_ratio:
                raise UploadError(
                    f"Файл «{name}» отклонён: данные внутри сжаты подозрительно сильно (в {int(ratio)} раз), "
                    "так выглядят «zip-бомбы»."
                )

    @property
    def names(self) -> list[str]:
        return list(self._infos)

    def has(self, member: str) -> bool:
        return member in self._infos

    def find(self, member: str) -> str | None:
        """The stored name of ``member`` compared case-insensitively (producers differ), or None."""
        if member in self._infos:
            return member
        folded = member.casefold()
        return next((n for n in self._infos if n.casefold() == folded), None)

    def read(self, member: str, limit: int) -> bytes:
        """The unpacked bytes of ``member``; :raise UploadError: larger than ``limit`` or broken."""
        with self.open(member, limit) as stream:
            return stream.read()

    def open(self, member: str, limit: int) -> "BoundedReader":
        """A stream of ``member`` that refuses to yield more than ``limit`` bytes."""
        try:
            raw = self._zip.open(self._infos[member])
        except ZIP_ERRORS as e:
            raise UploadError(f"Файл «{self.display_name}» повреждён: не удалось распаковать «{member}».") from e
        return BoundedReader(raw, limit, self.display_name)

    def rewritten(self, change: Callable[[str, bytes], bytes | None], stored_first: str | None = None) -> bytes:
        """A new archive of the members, each passed through ``change(name, data)`` (None leaves it out).

        Members keep their order and compression; dates, comments and extra fields are not copied.
        ``stored_first`` (OpenDocument's ``mimetype``) goes first and uncompressed, as its readers expect.
        """

        def whole(name: str, blocks: Iterator[bytes]) -> Iterable[bytes] | None:
            # Gathered in a BytesIO, whose value is its own buffer: one copy of the member, not two.
            gathered = io.BytesIO()
            for block in blocks:
                gathered.write(block)
            data = change(name, gathered.getvalue())
            return None if data is None else (data,)

        return self.streamed(whole, stored_first)

    def streamed(
        self,
        change: Callable[[str, Iterator[bytes]], Iterable[bytes] | None],
        stored_first: str | None = None,
        compresslevel: int | None = None,
    ) -> bytes:
        """A new archive of the members, each unpacked a block at a time and written as it comes.

        ``change(name, blocks)`` gets the member's unpacked blocks and returns the blocks to write instead
        (``blocks`` itself copies the member), or None to leave the member out. Everything unpacked counts
        against the limit of the whole archive, whatever the directory declares; otherwise as :meth:`rewritten`.
        ``compresslevel`` is zlib's (None: its default).
        """
        infos = list(self._infos.values())
        if stored_first is not None and stored_first in self._infos:
            infos.sort(key=lambda info: info.filename != stored_first)
        budget = _Budget(self.limits.max_total_size)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as output:
            for info in infos:
                if info.is_dir():
                    continue
                blocks = change(info.filename, self._blocks(info.filename, budget))
                if blocks is None:
                    continue
                member = zipfile.ZipInfo(info.filename, NEUTRAL_DATE)
                stored = info.filename == stored_first or info.compress_type == zipfile.ZIP_STORED
                member.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                # A member named by a ZipInfo takes its own level, not the archive's (``compress_level`` from 3.13).
                member._compresslevel = compresslevel
                member.external_attr = 0o644 << 16
                with output.open(member, "w") as target:
                    for block in blocks:
                        target.write(block)
        return buffer.getvalue()

    def _blocks(self, member: str, budget: _Budget) -> Iterator[bytes]:
        """The unpacked ``member`` a block at a time, each counted against ``budget``."""
        with self.open(member, budget.left) as stream:
            while block := stream.read(BLOCK_SIZE):
                budget.left -= len(block)
                yield block

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "SafeZip":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


class BoundedReader(io.RawIOBase):
    """A read-only stream that counts what it yields and turns unpacking errors into upload errors."""

    def __init__(self, raw: IO[bytes], limit: int, display_name: str) -> None:
        super().__init__()
        self._raw = raw
        self._left = limit
        self._limit = limit
        self._display_name = display_name

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        # One byte past the limit is enough to know it is exceeded.
        want = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        try:
            chunk = self._raw.read(want)
        except ZIP_ERRORS as e:
            raise UploadError(f"Файл «{self._display_name}» повреждён: архив внутри него не распаковывается.") from e
        self._left -= len(chunk)
        if self._left < 0:
            raise UploadError(
                f"Файл «{self._display_name}» отклонён: после распаковки он занял бы больше {human_size(self._limit)}."
            )
        return chunk

    def readinto(self, buffer) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._raw.close()
        super().close()
