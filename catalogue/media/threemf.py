"""3MF: a zip container whose XML model parts hold meshes, components and build items.

The XML is streamed: each part is unpacked a block at a time and fed to expat (no tree is built, and
memory does not grow with the size of the XML). Any DOCTYPE or entity declaration is refused: that
closes the "billion laughs" and external-entity attacks. Parts referenced by the production extension
(``p:path``, as Bambu Studio writes) are read too.

Meshes are the bulk of a model and expat calls Python once per element, which takes seconds for a
million triangles. So within each block, runs of plain ``<vertex .../>`` and ``<triangle .../>``
elements are read by regular expressions and numpy, and expat sees one stand-in element per run;
anything that does not fit that plain shape goes through expat element by element.

An upload is cleaned and read in one pass: each model part is unpacked once, its metadata removed, and
the cleaned blocks are both written to the stored copy and fed to the parser (:func:`clean_and_read_3mf`).

Colours: ``basematerials`` (``displaycolor``) and the materials extension's ``colorgroup`` are colour
tables; a triangle's ``pid``/``p1`` (or its object's ``pid``/``pindex``) picks its colour from one.
"""

import dataclasses
import io
import posixpath
import re
from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from xml.parsers import expat

import numpy as np

from catalogue.media.documents import OOXML_PROPERTIES
from catalogue.media.errors import Deadline, UploadError
from catalogue.media.meshes import DEFAULT_COLOUR, Mesh, MeshLimits, broken, joined, too_many_triangles
from catalogue.media.zipsafe import SafeZip

CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
PRODUCTION = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
MATERIAL = "http://schemas.microsoft.com/3dmanufacturing/material/2015/02"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
MODEL_RELATIONSHIP = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"
DEFAULT_MODEL_PART = "3D/3dmodel.model"
# Millimetres in one unit of each ``unit`` the 3MF core specification names.
UNITS = {"micron": 0.001, "millimeter": 1.0, "centimeter": 10.0, "inch": 25.4, "foot": 304.8, "meter": 1000.0}
READ_SIZE = 1 << 20
MAX_PARTS = 200
MAX_DEPTH = 16
MAX_INSTANCES = 100_000
MAX_VERTICES_PER_TRIANGLE = 3
MAX_INDEX = 2**31 - 1
SKIPPED_OBJECT_TYPES = {"support"}
# Runs of plain elements (one group per element, so that findall builds no tuples); attribute names are cut out after.
FAST_VERTEX = re.compile(rb'<vertex\s+(x="[^"<]*"\s+y="[^"<]*"\s+z="[^"<]*")\s*(?:/>|>\s*</vertex>)')
FAST_TRIANGLE = re.compile(rb'<triangle\s+(v1="\d+"\s+v2="\d+"\s+v3="\d+")[^>]*?(?:/>|>\s*</triangle>)')
# Metadata of a model part (Title, Designer, Copyright, Application…), with or without a namespace prefix:
# single elements (their value is text), then the groups they leave empty. No pattern can run past the
# next "<", so a hostile part costs one pass. Names and part numbers of objects, components and build
# items are usually the file names people imported.
METADATA_ELEMENT = re.compile(rb"<(?P<p>(?:[\w.-]+:)?)metadata\b[^<>]*(?:/>|>[^<]*</(?P=p)metadata\s*>)")
METADATA_GROUP = re.compile(rb"<(?P<p>(?:[\w.-]+:)?)metadatagroup\b[^<>]*(?:/>|>\s*</(?P=p)metadatagroup\s*>)")
METADATA_LEFT = re.compile(rb"<(?:[\w.-]+:)?metadata")
OBJECT_NAME = re.compile(
    rb"(<(?:[\w.-]+:)?(?:object|item|component)\b[^<>]*?)(?<!\s)\s+(?:name|partnumber)\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*')"
)
# Slicers' own settings beside the model (PrusaSlicer, Bambu Studio) keep object names and source paths.
SLICER_CONFIG_SUFFIX = ".config"
# A run begins with the element's name, so that the regex engine can skip ahead to it quickly.
_VERTEX = rb'<vertex\s+x="[^"<]*"\s+y="[^"<]*"\s+z="[^"<]*"\s*(?:/>|>\s*</vertex>)'
_TRIANGLE = rb'<triangle\s+v1="\d+"\s+v2="\d+"\s+v3="\d+"[^>]*?(?:/>|>\s*</triangle>)'
VERTEX_RUN = re.compile(_VERTEX + rb"(?:\s*" + _VERTEX + rb")*")
# A triangle with property (colour) references after its corners, in whatever order the exporter writes them.
PROPERTY_TRIANGLE = re.compile(
    rb'<triangle\s+(v1="\d+"\s+v2="\d+"\s+v3="\d+"(?:\s+(?:pid|p1|p2|p3)="\d+")*)\s*(?:/>|>\s*</triangle>)'
)
ATTRIBUTE_NAME = re.compile(rb'(\w+)="')
# Compression of the stored copy's model parts: level 1 is several times faster than zlib's default on
# a hundred megabytes of XML, for a file about a sixth larger.
MODEL_COMPRESSION = 1
TRIANGLE_RUN = re.compile(_TRIANGLE + rb"(?:\s*" + _TRIANGLE + rb")*")
# The stand-in left for expat where a run was read ahead: <fastrun n="K"/>.
FAST_RUN = "fastrun"
# The longest stretch without a tag end: expat keeps an unfinished comment or tag whole, re-reading it as it grows.
MAX_CARRY = 1 << 20


@dataclass
class _Object:
    """A resource object: its own mesh, or components referring to other objects."""

    object_type: str = "model"
    # Flat arrays of machine numbers: a fraction of the memory of Python lists of floats.
    vertices: array = field(default_factory=lambda: array("f"))
    # 32-bit vertex numbers: a model has at most a few million vertices, and these are a dense model's bulk.
    triangles: array = field(default_factory=lambda: array("i"))
    # (part path, object id, 4x4 transform)
    components: list[tuple[str, str, np.ndarray]] = field(default_factory=list)
    # The object's own property (colour) reference for triangles without one: (pid, pindex), -1 for none.
    default_property: tuple[int, int] = (-1, -1)
    # (pid, p1) of each triangle, -1 for none; None while no triangle has one.
    properties: array | None = None

    def add_properties(self, rows: np.ndarray | None, count: int) -> None:
        """Record the properties of ``count`` new triangles (``rows`` of (pid, p1), or None for none)."""
        if rows is None and self.properties is None:
            return
        if self.properties is None:
            self.properties = array("i", [-1]) * (2 * (len(self.triangles) // 3 - count))
        if rows is None:
            self.properties.extend(array("i", [-1]) * (2 * count))
        else:
            self.properties.frombytes(np.ascontiguousarray(rows, dtype=np.int32).tobytes())


class _XmlRefused(Exception):
    """A DOCTYPE or entity in the XML."""


class _ModelPart:
    """The objects and build items of one ``.model`` part, collected by expat callbacks."""

    def __init__(self, path: str) -> None:
        self.path = path
        # Runs of vertices or triangles read ahead in the current block: ("vertex" or "triangle", rows).
        self.runs: list[tuple[str, np.ndarray]] = []
        self.unit = "millimeter"
        self.objects: dict[str, _Object] = {}
        # Colour tables by resource id: (k, 3) uint8 sRGB.
        self.colours: dict[int, np.ndarray] = {}
        self._table: tuple[int, list] | None = None
        self.items: list[tuple[str, str, np.ndarray]] = []
        self.triangle_count = 0
        self.vertex_count = 0
        self._current_id: str | None = None
        self._current: _Object | None = None

    def start(self, name: str, attributes: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        if namespace == MATERIAL and local in ("colorgroup", "color"):
            local = "base" if local == "color" else "basematerials"
            attributes = {**attributes, "displaycolor": attributes.get("color", "")}
        elif namespace != CORE:
            return
        handler = getattr(self, f"_start_{local}", None)
        if handler is not None:
            handler(attributes)

    def end(self, name: str) -> None:
        if name == f"{CORE} object" and self._current_id is not None and self._current is not None:
            self.objects[self._current_id] = self._current
            self._current_id, self._current = None, None
        elif name in (f"{CORE} basematerials", f"{MATERIAL} colorgroup") and self._table is not None:
            table_id, colours = self._table
            self.colours[table_id] = np.array(colours, dtype=np.uint8).reshape(-1, 3)
            self._table = None

    def _start_basematerials(self, attributes: dict[str, str]) -> None:
        self._table = (int(attributes["id"]), [])

    def _start_base(self, attributes: dict[str, str]) -> None:
        if self._table is not None:
            self._table[1].append(_colour(attributes.get("displaycolor", "")))

    def _start_model(self, attributes: dict[str, str]) -> None:
        self.unit = attributes.get("unit", "millimeter")

    def _start_object(self, attributes: dict[str, str]) -> None:
        self._current_id = attributes.get("id")
        self._current = _Object(object_type=attributes.get("type", "model"))
        if "pid" in attributes:
            self._current.default_property = (int(attributes["pid"]), int(attributes.get("pindex", 0)))

    def _start_fastrun(self, attributes: dict[str, str]) -> None:
        tag, rows = self.runs[int(attributes["n"])]
        if self._current is None:
            return
        if tag == "vertex":
            self._current.vertices.frombytes(rows.astype(np.float32).tobytes())
            self.vertex_count += len(rows)
        else:
            if rows[:, :3].min() < 0 or rows[:, :3].max() > MAX_INDEX:
                raise ValueError("a vertex number out of range")
            self._current.triangles.frombytes(rows[:, :3].astype(np.int32).tobytes())
            self._current.add_properties(rows[:, 3:] if rows.shape[1] == 5 else None, len(rows))
            self.triangle_count += len(rows)

    def _start_vertex(self, attributes: dict[str, str]) -> None:
        if self._current is not None:
            self._current.vertices.extend((float(attributes["x"]), float(attributes["y"]), float(attributes["z"])))
            self.vertex_count += 1

    def _start_triangle(self, attributes: dict[str, str]) -> None:
        if self._current is not None:
            self._current.triangles.extend((int(attributes["v1"]), int(attributes["v2"]), int(attributes["v3"])))
            pid, p1 = attributes.get("pid"), attributes.get("p1")
            if pid is None and p1 is None:
                self._current.add_properties(None, 1)
            else:
                self._current.add_properties(np.array([[int(pid or -1), int(p1 or -1)]]), 1)
            self.triangle_count += 1

    def _start_component(self, attributes: dict[str, str]) -> None:
        if self._current is not None:
            path = _part_path(attributes.get(f"{PRODUCTION} path"), self.path)
            self._current.components.append((path, attributes["objectid"], _transform(attributes.get("transform"))))

    def _start_item(self, attributes: dict[str, str]) -> None:
        path = _part_path(attributes.get(f"{PRODUCTION} path"), self.path)
        self.items.append((path, attributes["objectid"], _transform(attributes.get("transform"))))


def _part_path(path: str | None, default: str) -> str:
    return posixpath.normpath(path.lstrip("/")) if path else default


def _colour(text: str) -> tuple[int, int, int]:
    """``#RRGGBB`` or ``#RRGGBBAA`` as sRGB bytes; anything else as the default colour."""
    if len(text) in (7, 9) and text.startswith("#"):
        try:
            return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))
        except ValueError:
            pass
    return DEFAULT_COLOUR


def _transform(text: str | None) -> np.ndarray:
    """A 3MF transform (a 4x3 matrix for row vectors, row by row) as a 4x4 matrix for column vectors."""
    matrix = np.eye(4)
    if text:
        values = [float(v) for v in text.split()]
        if len(values) != 12:
            raise ValueError("a 3MF transform has 12 numbers")
        matrix[:3, :] = np.array(values).reshape(4, 3).T
    return matrix


class _Feed:
    """One XML document pushed through expat a block at a time, whole elements only.

    What follows the last tag end of a block waits for the next one; with a ``part``, runs of plain
    vertices and triangles are read ahead into it first.
    """

    def __init__(self, reader: "_Reader", start, end, part: _ModelPart | None) -> None:
        self.reader, self.part, self.carry = reader, part, b""
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self.parser.StartDoctypeDeclHandler = _refuse
        self.parser.EntityDeclHandler = _refuse
        self.parser.ExternalEntityRefHandler = _refuse
        self.parser.StartElementHandler = start
        if end is not None:
            self.parser.EndElementHandler = end

    def feed(self, block: bytes) -> None:
        data = self.carry + block
        cut = data.rfind(b">") + 1
        data, self.carry = data[:cut], data[cut:]
        if len(self.carry) > MAX_CARRY:
            raise broken(self.reader.display_name, "в XML-описании модели 3MF есть слишком длинный фрагмент")
        if self.part is not None:
            self.part.runs = []
            data = self.reader._read_ahead(data, self.part)
        self.parser.Parse(data, False)
        self.reader._check_progress()

    def close(self) -> None:
        if self.carry:
            self.parser.Parse(self.carry, False)
        self.parser.Parse(b"", True)


class _Reader:
    """Reads model parts on demand and expands the build into triangles in millimetres."""

    def __init__(self, archive: SafeZip, limits: MeshLimits, deadline: Deadline) -> None:
        self.archive = archive
        self.display_name = archive.display_name
        self.limits = limits
        self.deadline = deadline
        self.parts: dict[str, _ModelPart] = {}
        self.parsing: _ModelPart | None = None
        self.xml_read = 0
        self.triangle_total = 0
        self.instances = 0

    def mesh(self) -> Mesh:
        root = self._part(self._root_path())
        scale = UNITS.get(root.unit)
        if scale is None:
            raise broken(self.display_name, f"неизвестная единица измерения «{root.unit}»")
        pieces: list[tuple[np.ndarray, np.ndarray | None]] = []
        for path, object_id, transform in root.items:
            self._expand(path, object_id, transform, 0, pieces, scale)
        return dataclasses.replace(joined(pieces, DEFAULT_COLOUR), unit=root.unit)

    def cleaned_and_read(self, name: str, blocks: Iterator[bytes]) -> Iterator[bytes]:
        """The cleaned blocks of model part ``name``, each fed to the parser as it is written (one pass)."""
        part = self.parsing = _ModelPart(name)
        feed = _Feed(self, part.start, part.end, part)
        with self._xml_errors():
            for block in _without_metadata(blocks, self.display_name, self.deadline):
                feed.feed(block)
                yield block
            feed.close()
        self.parts[name], self.parsing = part, None

    def _root_path(self) -> str:
        """The model part the package's relationships point to (``3D/3dmodel.model`` by convention)."""
        rels = self.archive.find("_rels/.rels")
        if rels is not None:
            targets: list[str] = []

            def start(name: str, attributes: dict[str, str]) -> None:
                if name == f"{RELATIONSHIPS} Relationship" and attributes.get("Type") == MODEL_RELATIONSHIP:
                    targets.append(attributes.get("Target", ""))

            self._parse(self._blocks(rels), start, None)
            if targets:
                return _part_path(targets[0], DEFAULT_MODEL_PART)
        return DEFAULT_MODEL_PART

    def _part(self, path: str) -> _ModelPart:
        member = self.archive.find(path)
        if member is None:
            raise broken(self.display_name, f"в архиве нет части «{path}»")
        if member not in self.parts:
            if len(self.parts) >= MAX_PARTS:
                raise broken(self.display_name, "в нём слишком много частей модели")
            self.parsing = _ModelPart(member)
            self._parse(self._blocks(member), self.parsing.start, self.parsing.end, self.parsing)
            self.parts[member], self.parsing = self.parsing, None
        return self.parts[member]

    def _blocks(self, member: str):
        """The unpacked part a block at a time, within what is left of the XML budget of the whole package."""
        with self.archive.open(member, self.limits.max_xml_size - self.xml_read) as stream:
            while block := stream.read(READ_SIZE):
                self.xml_read += len(block)
                yield block

    def _parse(self, blocks: Iterable[bytes], start, end, part: _ModelPart | None = None) -> None:
        """Stream ``blocks`` of XML through expat with DOCTYPE and entities refused and the time budget kept.

        With a ``part``, runs of plain vertices and triangles are read ahead into it (see the module's notes).
        """
        feed = _Feed(self, start, end, part)
        with self._xml_errors():
            for block in blocks:
                feed.feed(block)
            feed.close()

    @contextmanager
    def _xml_errors(self):
        """Refusals of XML that expat (or the numbers in it) could not read."""
        try:
            yield
        except _XmlRefused as e:
            raise UploadError(
                f"Файл «{self.display_name}» отклонён: XML внутри него содержит DOCTYPE или сущности."
            ) from e
        except (expat.ExpatError, ValueError, LookupError, IndexError, OverflowError) as e:
            raise broken(self.display_name, "XML-описание модели 3MF не читается") from e

    def _read_ahead(self, data: bytes, part: _ModelPart) -> bytes:
        """``data`` with each run of plain vertices or triangles replaced by a stand-in; the runs go to ``part``."""
        if b"<vertex" not in data and b"<triangle" not in data:
            return data
        pieces, position = [], 0
        runs = sorted(
            [(m.start(), m.end(), "vertex") for m in VERTEX_RUN.finditer(data)]
            + [(m.start(), m.end(), "triangle") for m in TRIANGLE_RUN.finditer(data)]
        )
        ahead = 0
        for run_start, run_end, tag in runs:
            rows = _run_rows(data[run_start:run_end], tag)
            if rows is None:
                continue
            pieces.append(data[position:run_start])
            pieces.append(b'<%s n="%d"/>' % (FAST_RUN.encode(), len(part.runs)))
            part.runs.append((tag, rows))
            position = run_end
            if tag == "triangle":
                ahead += len(rows)
        self._check_progress(ahead)
        pieces.append(data[position:])
        return b"".join(pieces)

    def _check_progress(self, ahead: int = 0) -> None:
        """:raise UploadError: out of time, or more triangles (with ``ahead`` read ahead) or vertices than allowed."""
        self.deadline.check()
        parts = [*self.parts.values(), *([self.parsing] if self.parsing else [])]
        if sum(p.triangle_count for p in parts) + ahead > self.limits.max_triangles:
            raise too_many_triangles(self.display_name, self.limits)
        # Vertices are kept too: a model has fewer than three per triangle (each corner its own at most).
        if sum(p.vertex_count for p in parts) > MAX_VERTICES_PER_TRIANGLE * self.limits.max_triangles:
            raise too_many_triangles(self.display_name, self.limits)

    def _expand(self, path: str, object_id: str, transform: np.ndarray, depth: int, pieces: list, scale: float) -> None:
        """Add the triangles of one object instance (with its components) to ``pieces``."""
        self.instances += 1
        if depth > MAX_DEPTH or self.instances > MAX_INSTANCES:
            raise broken(self.display_name, "компоненты модели 3MF вложены слишком глубоко или зациклены")
        part = self._part(path)
        obj = part.objects.get(object_id)
        if obj is None:
            raise broken(self.display_name, f"нет объекта с номером «{object_id}»")
        if obj.object_type in SKIPPED_OBJECT_TYPES:
            return
        if len(obj.triangles):
            pieces.append((self._mesh(obj, transform, scale), _object_colours(obj, part.colours)))
        for component_path, component_id, component_transform in obj.components:
            # 3MF composes as row vectors: the component's transform applies first.
            self._expand(component_path, component_id, transform @ component_transform, depth + 1, pieces, scale)
        self.deadline.check()

    def _mesh(self, obj: _Object, transform: np.ndarray, scale: float) -> np.ndarray:
        """The object's triangles, transformed and in millimetres, as float32 (the size of what is kept)."""
        self.triangle_total += len(obj.triangles) // 3
        if self.triangle_total > self.limits.max_triangles:
            raise too_many_triangles(self.display_name, self.limits)
        vertices = np.frombuffer(obj.vertices, dtype=np.float32).reshape(-1, 3)
        faces = np.frombuffer(obj.triangles, dtype=np.int32).reshape(-1, 3)
        if faces.min() < 0 or faces.max() >= len(vertices):
            raise broken(self.display_name, "треугольники ссылаются на несуществующие вершины")
        if not np.array_equal(transform, np.eye(4)):
            vertices = vertices @ transform[:3, :3].T.astype(np.float32) + transform[:3, 3].astype(np.float32)
        if scale != 1.0:
            vertices = vertices * np.float32(scale)
        return vertices[faces]


def _object_colours(obj: _Object, tables: dict[int, np.ndarray]) -> np.ndarray | None:
    """Per-triangle colours of an object from its part's colour tables; None when it refers to none."""
    count = len(obj.triangles) // 3
    if obj.properties is None and obj.default_property[0] < 0:
        return None
    if obj.properties is None:
        pids = np.full(count, obj.default_property[0], dtype=np.int32)
        indices = np.full(count, obj.default_property[1], dtype=np.int32)
    else:
        rows = np.frombuffer(obj.properties, dtype=np.int32).reshape(-1, 2)
        pids = np.where(rows[:, 0] >= 0, rows[:, 0], obj.default_property[0])
        indices = np.where(rows[:, 1] >= 0, rows[:, 1], max(obj.default_property[1], 0))
    colours, found = np.empty((count, 3), dtype=np.uint8), False
    colours[:] = DEFAULT_COLOUR
    for table_id in np.unique(pids):
        table = tables.get(int(table_id))
        if table is None or not len(table):
            continue
        chosen = (pids == table_id) & (indices >= 0) & (indices < len(table))
        colours[chosen] = table[indices[chosen]]
        found = found or bool(chosen.any())
    return colours if found else None


def _run_rows(run: bytes, tag: str) -> np.ndarray | None:
    """The elements of a run as rows of three numbers (five for triangles with properties: v1 v2 v3 pid p1);
    None when they do not read as such (expat explains)."""
    if tag == "triangle" and (b'pid="' in run or b'p1="' in run):
        return _property_rows(run)
    if tag == "vertex":
        pattern, names, dtype = FAST_VERTEX, (b'x="', b'y="', b'z="'), np.float64
    else:
        pattern, names, dtype = FAST_TRIANGLE, (b'v1="', b'v2="', b'v3="'), np.int64
    # Most runs are the plain elements alone: with their tags and attribute names cut out, one row each.
    element = tag.encode()
    text = run.replace(b"></" + element + b">", b"/>").replace(b"/>", b"\n").replace(b"<" + element, b"")
    rows = _rows(text, names, dtype)
    if rows is None:
        # Other attributes beside (a slicer's own, say): each element's three values are taken first.
        rows = _rows(b"\n".join(pattern.findall(run)), names, dtype)
    return rows


def _rows(text: bytes, names: tuple[bytes, ...], dtype) -> np.ndarray | None:
    """Lines of ``name="value"`` triples as rows of three numbers; None when they are not."""
    for name in names:
        text = text.replace(name, b"")
    try:
        rows = np.loadtxt(io.BytesIO(text.replace(b'"', b" ")), dtype=dtype, ndmin=2, comments=None)
    except (ValueError, OverflowError):
        return None
    return rows if rows.shape[1] == 3 else None


def _property_rows(run: bytes) -> np.ndarray | None:
    """Triangles with property references as ``v1 v2 v3 pid p1`` rows, -1 where the elements have none.

    The run is read at once when all its triangles have the same attributes in the same order (as one
    exporter writes them); otherwise None, and expat reads the elements one by one.
    """
    found = PROPERTY_TRIANGLE.findall(run)
    if not found or len(found) != run.count(b"<triangle"):
        return None
    text = b"\n".join(found)
    # The same names in the same order on every line: the lines without their numbers are all alike.
    skeleton = text.translate(None, b"0123456789")
    first = found[0].translate(None, b"0123456789")
    if skeleton != b"\n".join([first] * len(found)):
        return None
    names = ATTRIBUTE_NAME.findall(found[0])
    for name in set(names):
        text = text.replace(name + b'="', b"")
    try:
        numbers = np.loadtxt(io.BytesIO(text.replace(b'"', b" ")), dtype=np.int64, ndmin=2, comments=None)
    except (ValueError, OverflowError):
        return None
    if numbers.shape[1] != len(names):
        return None
    rows = np.full((len(numbers), 5), -1, dtype=np.int64)
    rows[:, :3] = numbers[:, :3]
    for column, name in ((3, b"pid"), (4, b"p1")):
        if name in names:
            rows[:, column] = numbers[:, names.index(name)]
    return rows


def _refuse(*_args) -> None:
    raise _XmlRefused


def clean_3mf(archive: SafeZip, deadline: Deadline) -> bytes:
    """The package with its metadata removed: ``<metadata>`` of the model parts, object names, blank core
    properties, and the slicers' ``Metadata/*.config`` files. Meshes and build items are untouched.

    Model parts are cleaned as they are unpacked, a block at a time, and written straight into the new
    package: memory does not grow with the size of the XML.

    :raise UploadError: metadata of an unusual shape (in CDATA, say) stays in a model part; a fragment
        without tags longer than ``MAX_CARRY``; out of time.
    """

    def change(name: str, blocks: Iterator[bytes]) -> Iterable[bytes] | None:
        if name.casefold().endswith(".model"):
            return _without_metadata(blocks, archive.display_name, deadline)
        return _cleaned_member(name, blocks)

    return archive.streamed(change, compresslevel=MODEL_COMPRESSION)


def _without_metadata(blocks: Iterable[bytes], display_name: str, deadline: Deadline) -> Iterator[bytes]:
    """The blocks of a model part without metadata and object names, cleaned block by block.

    Every pattern begins with "<", so each block is cut before its last "<" and the rest waits for the
    next one. A metadata element or group still open at the cut waits whole too: the carry starts at it.
    """
    carry = b""
    for block in blocks:
        data = carry + block
        cut = data.rfind(b"<")
        # No tag begins here (and none is carried): nothing in it can be metadata.
        head, carry = (data, b"") if cut < 0 else (_cleaned(data[:cut]), data[cut:])
        left = METADATA_LEFT.search(head)
        if left is not None:
            head, carry = head[: left.start()], head[left.start() :] + carry
        if len(carry) > MAX_CARRY:
            if left is not None:
                raise _metadata_left(display_name)
            raise broken(display_name, "в XML-описании модели 3MF есть слишком длинный фрагмент")
        deadline.check()
        if head:
            yield head
    tail = _cleaned(carry)
    if METADATA_LEFT.search(tail):
        raise _metadata_left(display_name)
    yield tail


def _cleaned(xml: bytes) -> bytes:
    """``xml`` without the metadata elements and groups that are whole in it, and without object names."""
    # Most blocks of a large model are vertices and triangles only: two substring searches skip them.
    if b"metadata" not in xml and b"name" not in xml and b"partnumber" not in xml:
        return xml
    xml = METADATA_GROUP.sub(b"", METADATA_ELEMENT.sub(b"", xml))
    # A tag may carry both a name and a part number: one pass removes one of them.
    return OBJECT_NAME.sub(rb"\1", OBJECT_NAME.sub(rb"\1", xml))


def _metadata_left(display_name: str) -> UploadError:
    return UploadError(
        f"Из файла «{display_name}» не удалось убрать сведения об авторе: метаданные 3MF записаны необычно. "
        "Экспортируйте модель заново (например, в STL) и загрузите снова."
    )


def parse_3mf(archive: SafeZip, limits: MeshLimits, deadline: Deadline) -> Mesh:
    """Triangles (and colours) of every build item of a 3MF package, in millimetres."""
    return _Reader(archive, limits, deadline).mesh()


def clean_and_read_3mf(archive: SafeZip, limits: MeshLimits, deadline: Deadline) -> tuple[bytes, Mesh]:
    """The package without metadata (as :func:`clean_3mf`) and its mesh, read from the cleaned model parts
    as they are written: every part is unpacked once, and what is stored is exactly what was read."""
    reader = _Reader(archive, limits, deadline)

    def change(name: str, blocks: Iterator[bytes]) -> Iterable[bytes] | None:
        if name.casefold().endswith(".model"):
            return reader.cleaned_and_read(name, blocks)
        return _cleaned_member(name, blocks)

    stored = archive.streamed(change, compresslevel=MODEL_COMPRESSION)
    return stored, reader.mesh()


def _cleaned_member(name: str, blocks: Iterator[bytes]) -> Iterable[bytes] | None:
    """A member other than a model part as stored: slicers' configs left out, core properties blank."""
    folded = name.casefold()
    if folded.startswith("metadata/") and folded.endswith(SLICER_CONFIG_SUFFIX):
        return None
    blank = OOXML_PROPERTIES.get(folded)
    return blocks if blank is None else (blank,)
