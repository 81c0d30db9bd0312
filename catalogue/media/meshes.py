"""3D models: which format the bytes are, and their triangles (STL and OBJ here; GLB and 3MF beside).

Every parser returns a :class:`Mesh`: an ``(n, 3, 3)`` float32 array of triangle corners in the file's
units and, when the file has colours, one sRGB colour per triangle. Each checks sizes and counts before
it allocates, so that a file's claims cannot make it allocate much.
"""

import io
import itertools
import math
import re
import struct
import warnings
from array import array
from dataclasses import dataclass

import numpy as np

from catalogue.formatting import millimetres, plural
from catalogue.media.errors import Deadline, MiB, UploadError, human_size
from catalogue.media.formats import KIND_FORMATS, MODEL, labels

STL_HEADER = 80
STL_PREFIX = STL_HEADER + 4
STL_RECORD = np.dtype([("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attributes", "<u2")])
ASCII_STL_VERTEX = re.compile(rb"vertex\s+(\S+\s+\S+\s+\S+)")
# OBJ statements at line starts. The patterns begin with a literal newline, which lets the regex engine
# skip ahead quickly (a ``(?m)^`` pattern is tried at every byte); texts are searched with one prepended.
OBJ_STATEMENT = re.compile(rb"\n[ \t]*[vf][ \t]")
OBJ_INDENTED_STATEMENT = re.compile(rb"\n[ \t]+[vf][ \t]")
OBJ_VERTEX = re.compile(rb"\nv[ \t]+(\S+[ \t]+\S+[ \t]+\S+)")
# A vertex line with a colour after its position: ``v x y z r g b``.
OBJ_COLOURED_VERTEX = re.compile(rb"\nv[ \t]+\S+[ \t]+\S+[ \t]+\S+[ \t]+\S+[ \t]+\S+[ \t]+\S+")
OBJ_VERTEX_LINE = re.compile(rb"\nv[ \t]+([^\r\n]*)")
OBJ_FACE = re.compile(rb"\nf[ \t]+([^\r\n]*)")
OBJ_NEGATIVE_INDEX = re.compile(rb"\nf[ \t][^\r\n]*[ \t]-")
# "/texture/normal" after a position index.
OBJ_INDEX_SUFFIX = re.compile(rb"/[^ \t\n]*")
# What an exporter writes about the model rather than its shape: comments (tool, user, paths), object and
# group names, and the names of material files and materials (which are often the author's file names).
OBJ_COMMENT = re.compile(rb"#[^\r\n]*")
OBJ_NAMING = re.compile(rb"\n[ \t]*(?:o|g|mtllib|usemtl)(?=[ \t\r\n])[^\r\n]*")
# "solid <name>" and "endsolid <name>" lines of an ASCII STL (a BOM may precede the first).
STL_SOLID_NAME = re.compile(rb"(\n[ \t]*(?:\xef\xbb\xbf[ \t\r\n]*)?(?:end)?solid)[^\r\n]*")
STL_NEUTRAL_HEADER = bytes(STL_HEADER)
TEXT_PROBE = 8192
CHUNK = 4 * MiB
# The longest line of a text model: an OBJ face of thousands of corners fits; one line of a whole file does not
# (splitting it would take many times its size in memory).
MAX_LINE = 64 * 1024
# How many lines an OBJ parse reads between looks at the clock.
LINES_PER_CHECK = 50_000
# STL and OBJ carry no unit and are taken as millimetres; a largest side outside these bounds (in mm) is
# probably metres or inches, and the author is told so.
PLAUSIBLE_LARGEST_SIDE = (1.0, 2000.0)
# The farthest a vertex may lie from the origin, in millimetres: beyond it a model is mis-scaled or broken.
MAX_COORDINATE = 1e6


# The colour of triangles a coloured model leaves uncoloured (sRGB): the site's filament orange.
DEFAULT_COLOUR = (205, 112, 58)


@dataclass(frozen=True, eq=False)
class Mesh:
    """What a parser read: ``(n, 3, 3)`` float32 corners in millimetres, ``(n, 3)`` uint8 sRGB colours or None,
    and the unit of the file (as read: 3MF names it, glTF is in metres; STL and OBJ are taken as millimetres)."""

    triangles: np.ndarray
    colours: np.ndarray | None = None
    unit: str = "millimeter"


def srgb_from_linear(linear: np.ndarray) -> np.ndarray:
    """Linear RGB in 0..1 (as glTF stores colours) as sRGB bytes."""
    linear = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    srgb = np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.power(linear, 1 / 2.4) - 0.055)
    return np.rint(srgb * 255).astype(np.uint8)


def joined(parts: list[tuple[np.ndarray, np.ndarray | None]], fill: tuple[int, int, int]) -> Mesh:
    """One mesh of ``(triangles, colours)`` parts: colours ``fill`` where a part has none, None if no part has."""
    if not parts:
        return Mesh(np.empty((0, 3, 3), dtype=np.float32))
    if len(parts) == 1:
        return Mesh(*parts[0])
    triangles = np.concatenate([t for t, _ in parts])
    if all(c is None for _, c in parts):
        return Mesh(triangles)
    filled = [np.tile(np.array(fill, dtype=np.uint8), (len(t), 1)) if c is None else c for t, c in parts]
    return Mesh(triangles, np.concatenate(filled))


def triangle_colours(vertex_colours: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Per-triangle ``uint8`` colours: the mean of the corners' colours (``vertex_colours`` in 0..255)."""
    total = np.zeros((len(faces), 3), dtype=np.float32)
    for corner in range(3):
        total += vertex_colours[faces[:, corner]]
    total /= 3
    return np.rint(total).astype(np.uint8)


@dataclass(frozen=True)
class MeshLimits:
    """Caps of one model: triangles, parse time, and (3MF) the unpacked size of its XML."""

    max_triangles: int = 2_000_000
    seconds: float = 15.0
    max_xml_size: int = 256 * MiB


def looks_like_text(data: bytes) -> bool:
    """No NUL bytes near the start: binary formats have them, text formats never do."""
    return b"\0" not in data[:TEXT_PROBE]


def binary_stl_count(data: bytes) -> int | None:
    """The triangle count a binary STL declares, when the file's size agrees with it; else None."""
    if len(data) < STL_PREFIX:
        return None
    (count,) = struct.unpack_from("<I", data, STL_HEADER)
    return count if len(data) == STL_PREFIX + 50 * count else None


def sniff_model(data: bytes) -> str | None:
    """``glb``, ``stl`` or ``obj`` by content (3MF is a zip and is recognised with the other containers)."""
    if data[:4] == b"glTF":
        return "glb"
    # The size rule comes first: some binary STL headers begin with "solid" too.
    if binary_stl_count(data) is not None:
        return "stl"
    if not looks_like_text(data):
        return None
    if data[:TEXT_PROBE].lstrip(b"\xef\xbb\xbf \t\r\n")[:5].lower() == b"solid":
        return "stl"
    if data[:1] in (b"v", b"f") or OBJ_STATEMENT.search(data):
        return "obj"
    return None


def not_a_model(display_name: str) -> UploadError:
    """The refusal of bytes that are no model format at all (a zip, a .blend, a STEP or a page renamed)."""
    return UploadError(
        f"Формат не распознан: нужен {labels(KIND_FORMATS[MODEL])}. Файл «{display_name}» не похож ни на один "
        "из них: сохраните модель в одном из этих форматов из программы 3D-моделирования и загрузите снова."
    )


def too_far(display_name: str) -> UploadError:
    """The refusal of coordinates beyond :data:`MAX_COORDINATE` millimetres from the origin."""
    limit = f"{MAX_COORDINATE:,.0f}".replace(",", "\u00a0")
    return UploadError(
        f"Модель «{display_name}» не принята: координаты её вершин выходят за ±{limit} мм "
        "(километр от начала координат). Проверьте единицы измерения и положение модели и загрузите снова."
    )


def unit_warnings(size_mm: list[float]) -> list[str]:
    """Warnings about a unitless model (STL, OBJ) whose size in millimetres is unlikely for a real object."""
    largest = max(size_mm)
    low, high = PLAUSIBLE_LARGEST_SIDE
    if low <= largest <= high:
        return []
    return [
        f"Похоже, модель сохранена не в миллиметрах: её наибольшая сторона — {millimetres([largest])}. "
        "В STL и OBJ единицы не записываются, и сайт считает их миллиметрами; если модель сделана в метрах "
        "или дюймах, сохраните её в миллиметрах и загрузите снова."
    ]


def too_many_triangles(display_name: str, limits: MeshLimits) -> UploadError:
    count = plural(limits.max_triangles, "треугольник", "треугольника", "треугольников")
    return UploadError(
        f"Модель «{display_name}» слишком детальная: допускается не больше {count}. "
        "Упростите сетку (например, модификатором Decimate) и загрузите снова."
    )


def broken(display_name: str, detail: str) -> UploadError:
    return UploadError(f"Файл «{display_name}» повреждён: {detail}.")


# -- STL ----------------------------------------------------------------------------------------


def parse_stl(data: bytes, display_name: str, limits: MeshLimits, deadline: Deadline) -> Mesh:
    """Triangles of a binary or ASCII STL (several solids in one file are all read); STL has no colours here."""
    count = binary_stl_count(data)
    if count is not None:
        if count > limits.max_triangles:
            raise too_many_triangles(display_name, limits)
        records = np.frombuffer(data, dtype=STL_RECORD, count=count, offset=STL_PREFIX)
        return Mesh(records["corners"].astype(np.float32))
    return Mesh(_parse_ascii_stl(data, display_name, limits, deadline))


def clean_stl(data: bytes) -> bytes:
    """The STL without the names exporters put in it: a binary header zeroed, ASCII solids unnamed.

    Only the header or the ``solid`` lines change: the triangles stay byte for byte what they were.
    """
    if binary_stl_count(data) is not None:
        return STL_NEUTRAL_HEADER + data[STL_HEADER:]
    return STL_SOLID_NAME.sub(rb"\1", b"\n" + data)[1:]


def _parse_ascii_stl(data: bytes, display_name: str, limits: MeshLimits, deadline: Deadline) -> np.ndarray:
    # Counting the keyword is cheap and bounds the work before any parsing.
    if data.count(b"vertex") > 3 * limits.max_triangles:
        raise too_many_triangles(display_name, limits)
    parts = []
    for chunk in _line_chunks(data, display_name):
        found = ASCII_STL_VERTEX.findall(chunk)
        if found:
            parts.append(_numbers(found, display_name))
        deadline.check()
    if not parts:
        return np.empty((0, 3, 3), dtype=np.float32)
    corners = np.concatenate(parts)
    if len(corners) % 3:
        raise broken(display_name, "число вершин в нём не делится на три")
    return corners.reshape(-1, 3, 3)


def _line_chunks(data: bytes, display_name: str):
    """Pieces of about ``CHUNK`` bytes that end at line ends, so no number is cut in two.

    :raise UploadError: a line is longer than ``MAX_LINE`` (checked before anything splits it).
    """
    start = 0
    while start < len(data):
        end = data.rfind(b"\n", start, start + CHUNK) + 1 if start + CHUNK < len(data) else len(data)
        if end <= start:
            raise line_too_long(display_name)
        chunk = data[start:end]
        if _longest_line(chunk) > MAX_LINE:
            raise line_too_long(display_name)
        yield chunk
        start = end


def _longest_line(chunk: bytes) -> int:
    """The length of the longest line in ``chunk`` (with its line end), found with numpy."""
    ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
    bounds = np.concatenate(([-1], ends, [len(chunk) - 1]))
    return int(np.diff(bounds).max())


def line_too_long(display_name: str) -> UploadError:
    return broken(display_name, f"в нём есть строка длиннее {human_size(MAX_LINE)}")


def _numbers(rows: list[bytes], display_name: str) -> np.ndarray:
    """``rows`` of three numbers each as an ``(n, 3)`` float32 array; :raise UploadError: not numbers."""
    try:
        return np.loadtxt(io.BytesIO(b"\n".join(rows)), dtype=np.float64, ndmin=2).astype(np.float32)
    except ValueError as e:
        raise broken(display_name, "координаты вершин не читаются как числа") from e


# -- OBJ ----------------------------------------------------------------------------------------


class _ObjReader:
    """Vertices (with their colours) and fan-triangulated faces of an OBJ; materials, textures, normals ignored."""

    def __init__(self, display_name: str, limits: MeshLimits, deadline: Deadline) -> None:
        self.display_name = display_name
        self.limits = limits
        self.deadline = deadline
        self.vertices = array("d")
        # r, g, b of each vertex, NaN when the line has none.
        self.colours = array("f")
        self.faces = array("q")
        self.vertex_count = 0
        self.line_number = 0

    def read(self, data: bytes) -> Mesh:
        for self.line_number, line in enumerate(io.BytesIO(data), 1):
            if self.line_number % LINES_PER_CHECK == 0:
                self.deadline.check()
            if len(line) > MAX_LINE:
                raise line_too_long(self.display_name)
            tokens = line.split()
            if not tokens:
                continue
            if tokens[0] == b"v":
                self._vertex(tokens)
            elif tokens[0] == b"f":
                self._face(tokens)
        return self._mesh()

    def _vertex(self, tokens: list[bytes]) -> None:
        try:
            x, y, z = (float(t) for t in tokens[1:4])
            colour = [float(t) for t in tokens[4:7]] if len(tokens) >= 7 else [math.nan] * 3
        except ValueError as e:
            raise broken(self.display_name, f"строка {self.line_number} не читается как вершина") from e
        self.vertices.extend((x, y, z))
        self.colours.extend(colour)
        self.vertex_count += 1

    def _face(self, tokens: list[bytes]) -> None:
        try:
            # "7", "7/1", "7//3", "7/1/3": the position index comes first.
            indices = [int(t.split(b"/", 1)[0]) for t in tokens[1:]]
        except ValueError as e:
            raise broken(self.display_name, f"строка {self.line_number} не читается как грань") from e
        if len(indices) < 3 or 0 in indices:
            raise broken(self.display_name, f"грань в строке {self.line_number} задана неверно")
        # Negative indices count back from the last vertex read so far.
        resolved = [i - 1 if i > 0 else self.vertex_count + i for i in indices]
        if len(self.faces) // 3 + len(resolved) - 2 > self.limits.max_triangles:
            raise too_many_triangles(self.display_name, self.limits)
        first = resolved[0]
        for second, third in itertools.pairwise(resolved[1:]):
            self.faces.extend((first, second, third))

    def _mesh(self) -> Mesh:
        vertices = np.frombuffer(self.vertices, dtype=np.float64).reshape(-1, 3)
        faces = np.frombuffer(self.faces, dtype=np.int64).reshape(-1, 3)
        if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
            raise broken(self.display_name, "грани ссылаются на несуществующие вершины")
        colours = np.frombuffer(self.colours, dtype=np.float32).reshape(-1, 3)
        return Mesh(vertices.astype(np.float32)[faces], _obj_colours(colours, faces))


def _obj_colours(vertex_colours: np.ndarray, faces: np.ndarray) -> np.ndarray | None:
    """Per-triangle colours from OBJ vertex colours (NaN where a vertex has none); None when no vertex has one.

    Colours are written in 0..1 by most tools and in 0..255 by some: a value above 1 means the latter.
    """
    coloured = ~np.isnan(vertex_colours[:, 0])
    if not coloured.any():
        return None
    scale = 1.0 if float(np.nanmax(vertex_colours)) > 1.0 else 255.0
    values = np.clip(np.nan_to_num(vertex_colours * np.float32(scale)), 0, 255)
    values[~coloured] = DEFAULT_COLOUR
    return triangle_colours(values, faces)


def clean_obj(data: bytes) -> bytes:
    """The OBJ without comments, object and group names, and material references.

    Lines are emptied rather than removed, so that a refusal of the cleaned file names the line people see.
    """
    return OBJ_NAMING.sub(b"\n", OBJ_COMMENT.sub(b"", b"\n" + data))[1:]


def parse_obj(data: bytes, display_name: str, limits: MeshLimits, deadline: Deadline) -> Mesh:
    """Triangles of a Wavefront OBJ (polygons split into fans; ``mtllib`` and textures are not fetched)."""
    if not _found(OBJ_NEGATIVE_INDEX, data) and not _found(OBJ_INDENTED_STATEMENT, data):
        try:
            return _parse_obj_fast(data, display_name, limits, deadline)
        except _NotSimple:
            pass
    # Negative indices depend on the order of lines; unusual or broken files get exact line numbers.
    return _ObjReader(display_name, limits, deadline).read(data)


def _found(pattern: re.Pattern, data: bytes) -> bool:
    """Whether ``pattern`` (which begins with a line end) matches at the start of a line of ``data``.

    The first line is tried on its own: prepending a line end to the whole file would copy it.
    """
    return pattern.match(b"\n" + data[: MAX_LINE + 1]) is not None or pattern.search(data) is not None


class _NotSimple(Exception):
    """The fast OBJ path met something only the line-by-line reader handles (or explains)."""


def _parse_obj_fast(data: bytes, display_name: str, limits: MeshLimits, deadline: Deadline) -> Mesh:
    """OBJ with positive indices, parsed chunk by chunk with regular expressions and numpy (many times faster)."""
    vertex_parts, colour_parts, face_parts, triangle_count = [], [], [], 0
    with_colours = _found(OBJ_COLOURED_VERTEX, data)
    for chunk in _line_chunks(data, display_name):
        chunk = b"\n" + chunk
        if with_colours:
            vertices, colours = _coloured_vertex_rows(OBJ_VERTEX_LINE.findall(chunk))
            colour_parts.append(colours)
        else:
            vertices = _vertex_rows(OBJ_VERTEX.findall(chunk))
        if len(vertices) != chunk.count(b"\nv ") + chunk.count(b"\nv\t"):
            raise _NotSimple
        vertex_parts.append(vertices)
        faces = _fan_faces(OBJ_FACE.findall(chunk))
        triangle_count += len(faces)
        if triangle_count > limits.max_triangles:
            raise too_many_triangles(display_name, limits)
        face_parts.append(faces)
        deadline.check()
    vertices = np.concatenate(vertex_parts) if vertex_parts else np.empty((0, 3))
    faces = np.concatenate(face_parts) - 1 if face_parts else np.empty((0, 3), dtype=np.int64)
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise _NotSimple
    colours = _obj_colours(np.concatenate(colour_parts), faces) if with_colours else None
    # float32 before gathering the corners: the float64 corners of a dense model would take twice the memory.
    return Mesh(vertices.astype(np.float32)[faces], colours)


def _vertex_rows(rows: list[bytes]) -> np.ndarray:
    """``x y z`` rows as an ``(n, 3)`` float64 array; :raise _NotSimple: they are not numbers."""
    if not rows:
        return np.empty((0, 3))
    try:
        return np.loadtxt(io.BytesIO(b"\n".join(rows)), dtype=np.float64, ndmin=2)
    except ValueError as e:
        raise _NotSimple from e


def _coloured_vertex_rows(rows: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Positions ``(n, 3)`` and colours ``(n, 3)`` (NaN for a vertex without one) of whole ``v`` lines.

    Lines may have 3 numbers, 4 (a weight, ignored) or 6 and more (a colour after the position).
    """
    if not rows:
        return np.empty((0, 3)), np.empty((0, 3), dtype=np.float32)
    text = b"\n".join(rows)
    counts = _tokens_per_line(text)
    if (counts < 3).any():
        raise _NotSimple
    numbers = _flat_numbers(text, int(counts.sum()))
    starts = np.cumsum(counts) - counts
    positions = numbers[starts[:, None] + np.arange(3)]
    colours = np.full((len(rows), 3), np.nan, dtype=np.float32)
    coloured = counts >= 6
    colours[coloured] = numbers[starts[coloured][:, None] + np.arange(3, 6)]
    return positions, colours


def _flat_numbers(text: bytes, expected: int) -> np.ndarray:
    """Every whitespace-separated number of ``text`` in one float64 array; :raise _NotSimple: any is not one."""
    with warnings.catch_warnings():
        # numpy warns (rather than fails) when it stops at something that is not a number.
        warnings.simplefilter("error")
        try:
            numbers = np.fromstring(text, dtype=np.float64, sep=" ")
        except (ValueError, DeprecationWarning) as e:
            raise _NotSimple from e
    if len(numbers) != expected:
        raise _NotSimple
    return numbers


def _tokens_per_line(text: bytes) -> np.ndarray:
    """How many whitespace-separated tokens each line of ``text`` has, counted with numpy."""
    buffer = np.frombuffer(text, dtype=np.uint8)
    blank = (buffer == 32) | (buffer == 9) | (buffer == 10) | (buffer == 13)
    starts = ~blank
    starts[1:] &= blank[:-1]
    running = np.concatenate([[0], np.cumsum(starts)])
    newlines = np.flatnonzero(buffer == 10)
    line_starts = np.concatenate([[0], newlines + 1])
    line_ends = np.concatenate([newlines, [len(buffer)]])
    return running[line_ends] - running[line_starts]


def _fan_faces(lines: list[bytes]) -> np.ndarray:
    """``(n, 3)`` 1-based corner indices of polygon lines (``7/1/3`` keeps the 7), each split into a fan."""
    if not lines:
        return np.empty((0, 3), dtype=np.int64)
    text = OBJ_INDEX_SUFFIX.sub(b"", b"\n".join(lines))
    counts = _tokens_per_line(text)
    try:
        indices = np.array(text.split()).astype(np.int64)
    except (ValueError, OverflowError) as e:
        raise _NotSimple from e
    if (counts < 3).any():
        raise _NotSimple
    fans = counts - 2
    first = np.repeat(np.cumsum(counts) - counts, fans)
    step = np.arange(int(fans.sum()), dtype=np.int64) - np.repeat(np.cumsum(fans) - fans, fans)
    return np.stack([indices[first], indices[first + step + 1], indices[first + step + 2]], axis=1)
