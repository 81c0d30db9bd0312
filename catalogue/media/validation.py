"""Validation of uploads by content, never by name, with bounded memory and time.

:func:`validate_upload` is the one entry point: it reads at most ``max_size`` bytes, recognises the
format from the bytes, parses the structure, and returns what may be stored: a copy without personal
metadata (images re-encoded, PDFs and packages rewritten, models' names and comments removed).
Refusals are :class:`UploadError` with a Russian sentence that says why.
"""

import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import BinaryIO

import numpy as np
from flask import g, has_app_context

from catalogue.media import documents, formats, images, meshes
from catalogue.media.errors import Deadline, MiB, UploadError, human_size
from catalogue.media.formats import DOCUMENT, FORMATS, IMAGE, KIND_FORMATS, MODEL
from catalogue.media.geometry import mesh_facts
from catalogue.media.gltf import clean_glb, parse_glb
from catalogue.media.images import ImageLimits
from catalogue.media.meshes import Mesh, MeshLimits
from catalogue.media.threemf import clean_and_read_3mf
from catalogue.media.zipsafe import ZIP_MAGIC, SafeZip, ZipLimits

__all__ = ["DEFAULT_MAX_SIZE", "UploadError", "ValidatedUpload", "recent_model", "safe_filename", "validate_upload"]

DEFAULT_MAX_SIZE = {DOCUMENT: 20 * MiB, IMAGE: 20 * MiB, MODEL: 50 * MiB}
DEFAULT_IMAGE_LIMITS = ImageLimits()
DEFAULT_MESH_LIMITS = MeshLimits()
# A 3MF's XML is verbose: it may unpack to more than an office document.
MODEL_ZIP_LIMITS = ZipLimits(max_total_size=256 * MiB)
MAX_NAME_LENGTH = 120
# Characters no file name should carry into a header or a file system: controls, separators, reserved.
UNSAFE_NAME_CHARACTERS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u2028\u2029]')
LOOKS_LIKE_EXTENSION = re.compile(r"[A-Za-z0-9]{1,5}")
# Extensions people use for the same format; a name that already carries one keeps it.
EXTENSION_ALIASES = {"jpg": {"jpg", "jpeg", "jpe", "jfif"}}
# Where the models validated during one request (app context) are kept, by the SHA-256 of their stored bytes.
RECENT_MODELS = "validated_models"


@dataclass(frozen=True)
class ValidatedUpload:
    """A file that passed validation: the bytes to store (without personal metadata) and what they are."""

    data: bytes = field(repr=False)
    kind: str
    format: str
    media_type: str
    filename: str
    extension: str
    facts: dict
    # Models only: the ``(n, 3, 3)`` triangles, for the thumbnail and the viewer; never stored.
    triangles: np.ndarray | None = field(default=None, repr=False, compare=False)
    # Models only: each triangle's sRGB colour, ``uint8 (n, 3)``, or None when the file has no colours.
    colours: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.data)


def validate_upload(
    kind: str,
    filename: str,
    data: bytes | BinaryIO,
    max_size: int | None = None,
    *,
    allowed: Collection[str] | None = None,
    image_limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
    mesh_limits: MeshLimits = DEFAULT_MESH_LIMITS,
) -> ValidatedUpload:
    """Check an upload of ``kind`` (``document``, ``image`` or ``model``) by its content.

    ``allowed`` narrows the formats of the kind (e.g. ``{"pdf"}`` for a PDF-only field); ``filename``
    only gives the display name, whose extension is replaced by the detected format's.

    :raise UploadError: too large, empty, an unexpected or unrecognised format, or broken content.
    """
    if kind not in KIND_FORMATS:
        raise ValueError(f"unknown upload kind {kind!r}")
    accepted = tuple(f for f in KIND_FORMATS[kind] if allowed is None or f in allowed)
    max_size = max_size or DEFAULT_MAX_SIZE[kind]
    display_name = safe_filename(filename)
    content = _read_bounded(data, max_size, display_name)
    if not content:
        raise UploadError(f"Файл «{display_name}» пустой.")
    file_format, archive = _detect(content, display_name, kind)
    mesh = None
    try:
        if file_format not in accepted:
            raise _unexpected(file_format, kind, accepted, content, display_name)
        if file_format == "3mf":
            # Cleaned and read in one pass: each model part is unpacked once.
            stored, mesh = clean_and_read_3mf(archive, mesh_limits, Deadline(mesh_limits.seconds))
        elif FORMATS[file_format].category == MODEL:
            stored = _clean_model(file_format, content, display_name)
            # The mesh is read from the cleaned copy, so that what is stored is exactly what was validated;
            # the original is let go first (a large model would otherwise be held twice).
            del content
            mesh = _parse_model(file_format, stored, display_name, mesh_limits)
        else:
            stored, facts = _check(file_format, content, display_name, archive, image_limits)
    finally:
        if archive is not None:
            archive.close()
    if mesh is not None:
        content = archive = None  # the original is no longer needed: the facts of a dense model take memory
        _check_mesh(mesh, display_name, mesh_limits)
        facts = {"format": file_format, **mesh_facts(mesh.triangles), "unit": mesh.unit}
        if file_format in ("stl", "obj") and (warnings := meshes.unit_warnings(facts["size_mm"])):
            facts["warnings"] = warnings
    info = FORMATS[file_format]
    validated = ValidatedUpload(
        data=stored,
        kind=info.category,
        format=file_format,
        media_type=info.media_type,
        filename=_with_extension(display_name, info.extension),
        extension=info.extension,
        facts=facts,
        triangles=None if mesh is None else mesh.triangles,
        colours=None if mesh is None else mesh.colours,
    )
    if mesh is not None and has_app_context():
        # Later steps of the same request (the contest's viewer file) use these rather than parse again.
        g.setdefault(RECENT_MODELS, {})[hashlib.sha256(stored).hexdigest()] = replace(validated, data=b"")
    return validated


def recent_model(sha256: str) -> ValidatedUpload | None:
    """The model validated earlier in this request whose stored bytes have digest ``sha256`` (its ``data``
    left out: it is on disk), or None."""
    return g.get(RECENT_MODELS, {}).get(sha256) if has_app_context() else None


def _read_bounded(data: bytes | BinaryIO, max_size: int, display_name: str) -> bytes:
    """At most ``max_size`` bytes; :raise UploadError: there are more."""
    # A stream is read at once, one byte past the limit: no second copy of the file while joining blocks.
    content = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else data.read(max_size + 1)
    if len(content) > max_size:
        raise UploadError(f"Файл «{display_name}» больше {human_size(max_size)}.")
    return content


def _detect(content: bytes, display_name: str, kind: str) -> tuple[str | None, SafeZip | None]:
    """The format by magic bytes and structure, and the opened archive for zip-based formats."""
    if content.startswith(ZIP_MAGIC):
        archive = SafeZip(content, display_name, MODEL_ZIP_LIMITS if kind == MODEL else ZipLimits())
        try:
            return documents.zip_flavour(archive), archive
        except BaseException:
            archive.close()
            raise
    if documents.is_pdf(content):
        return "pdf", None
    return images.image_format(content) or meshes.sniff_model(content), None


def _unexpected(
    file_format: str | None, kind: str, accepted: tuple[str, ...], content: bytes, display_name: str
) -> UploadError:
    """The refusal of a format that is not one the field takes, naming what the file really is."""
    if file_format is None and kind == MODEL:
        return meshes.not_a_model(display_name)
    expected = f"ожидается {formats.labels(accepted)}"
    if file_format is None:
        return UploadError(f"Формат файла «{display_name}» не поддерживается: {expected}.")
    actual = FORMATS[file_format].described
    if kind == MODEL:
        return UploadError(f"Файл «{display_name}» не похож на 3D-модель: это {actual}; {expected}.")
    return UploadError(f"Формат файла «{display_name}» не подходит: это {actual}, а {expected}.")


def _check(
    file_format: str,
    content: bytes,
    display_name: str,
    archive: SafeZip | None,
    image_limits: ImageLimits,
) -> tuple[bytes, dict]:
    """The bytes to store and the facts of a document or an image in a recognised format.

    Each format is checked, then written again without what identifies its author.
    """
    if FORMATS[file_format].category == IMAGE:
        return images.reencode_image(content, file_format, display_name, image_limits)
    if file_format == "pdf":
        facts = documents.check_pdf(content, display_name)
        stored, facts["pages"] = documents.clean_pdf(content, display_name)
        return stored, facts
    facts = documents.check_office(archive, file_format)
    return documents.clean_office(archive, file_format), facts


def _clean_model(file_format: str, content: bytes, display_name: str) -> bytes:
    """The model without names, comments and authorship; the geometry as it was (3MF: see above)."""
    if file_format == "stl":
        return meshes.clean_stl(content)
    if file_format == "obj":
        return meshes.clean_obj(content)
    return clean_glb(content, display_name)


def _parse_model(file_format: str, content: bytes, display_name: str, limits: MeshLimits) -> Mesh:
    parse = {"stl": meshes.parse_stl, "obj": meshes.parse_obj, "glb": parse_glb}[file_format]
    # A damaged file's numbers may overflow (a scale of 1e38 times a vertex): they become infinities, which
    # _check_mesh refuses by name, so numpy is not to warn of them (a warning is no answer to the person).
    with np.errstate(over="ignore", invalid="ignore"):
        return parse(content, display_name, limits, Deadline(limits.seconds))


def _check_mesh(mesh: Mesh, display_name: str, limits: MeshLimits) -> None:
    """:raise UploadError: no triangles, too many, or coordinates that are not numbers or lie too far."""
    triangles = mesh.triangles
    if not len(triangles):
        raise UploadError(f"В файле «{display_name}» нет ни одного треугольника: модель пустая.")
    if len(triangles) > limits.max_triangles:
        raise meshes.too_many_triangles(display_name, limits)
    if not np.isfinite(triangles).all():
        raise meshes.broken(display_name, "среди координат вершин есть недопустимые значения")
    # min() and max() rather than abs(): no copy of a dense model.
    if max(-float(triangles.min()), float(triangles.max())) > meshes.MAX_COORDINATE:
        raise meshes.too_far(display_name)


def safe_filename(filename: str | None) -> str:
    """A display name safe in headers and pages: no folders, controls or reserved characters, 120 characters.

    Invisible format characters are dropped: bidirectional controls (U+202A–U+202E, U+2066–U+2069,
    U+200E/F) would show «фото‮fdp.exe» as «фотоexe.pdf», and zero-width ones hide what a name says.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = "".join(c for c in name if unicodedata.category(c) != "Cf")
    name = re.split(r"[/\\]", name)[-1]
    name = UNSAFE_NAME_CHARACTERS.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        _, dot, extension = name.rpartition(".")
        keep = extension if dot and len(extension) <= 10 else ""
        name = name[: MAX_NAME_LENGTH - len(keep) - 1].rstrip(" .") + ("." + keep if keep else "")
    return name or "файл"


def _with_extension(display_name: str, extension: str) -> str:
    """``display_name`` ending in the detected format's extension (``отчёт.pdf`` that is a PNG → ``отчёт.png``)."""
    stem, dot, current = display_name.rpartition(".")
    if not (dot and stem and LOOKS_LIKE_EXTENSION.fullmatch(current)):
        return f"{display_name}.{extension}"
    if current.casefold() in EXTENSION_ALIASES.get(extension, {extension}):
        return display_name
    return f"{stem}.{extension}"
