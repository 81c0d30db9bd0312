"""3MF: a zip container whose XML model parts hold meshes, components and build items.

The XML is read by expat (no tree is built) and any DOCTYPE or entity declaration is refused: that
closes the "billion laughs" and external-entity attacks. Parts referenced by the production extension
(``p:path``, as Bambu Studio writes) are read too.

Meshes are the bulk of a model and expat calls Python once per element, which takes seconds for a
million triangles. So each plain ``<mesh>`` is first turned into rows of numbers by regular expressions
and read by numpy; only a mesh that does not fit that plain shape goes through expat element by element.
"""

import io
import posixpath
import re
from array import array
from dataclasses import dataclass, field
from xml.parsers import expat

import numpy as np

from catalogue.media.documents import blank_package_properties
from catalogue.media.errors import Deadline, UploadError
from catalogue.media.meshes import MeshLimits, broken, too_many_triangles
from catalogue.media.zipsafe import SafeZip

CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
PRODUCTION = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"
MODEL_RELATIONSHIP = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"
DEFAULT_MODEL_PART = "3D/3dmodel.model"
# Millimetres in one unit of each ``unit`` the 3MF core specification names.
UNITS = {"micron": 0.001, "millimeter": 1.0, "centimeter": 10.0, "inch": 25.4, "foot": 304.8, "meter": 1000.0}
READ_SIZE = 1 << 20
MAX_PARTS = 200
MAX_DEPTH = 16
MAX_INSTANCES = 100_000
SKIPPED_OBJECT_TYPES = {"support"}
# One group per element (findall then builds no tuples); the attribute names are cut out afterwards.
FAST_VERTEX = re.compile(rb'<vertex\s+(x="[^"<]*"\s+y="[^"<]*"\s+z="[^"<]*")\s*(?:/>|>\s*</vertex>)')
FAST_TRIANGLE = re.compile(rb'<triangle\s+(v1="\d+"\s+v2="\d+"\s+v3="\d+")[^>]*?(?:/>|>\s*</triangle>)')
# The stand-in left for expat where a mesh was read ahead: <mesh fastmesh="N"/>.
FAST_MESH_ATTRIBUTE = "fastmesh"
# Metadata of a model part (Title, Designer, Copyright, Application…), with or without a namespace prefix:
# single elements (their value is text), then the groups they leave empty. No pattern can run past the
# next "<", so a hostile part costs one pass. Names and part numbers of objects, components and build
# items are usually the file names people imported.
METADATA_ELEMENT = re.compile(rb"<(?P<p>(?:[\w.-]+:)?)metadata\b[^<>]*(?:/>|>[^<]*</(?P=p)metadata\s*>)")
METADATA_GROUP = re.compile(rb"<(?P<p>(?:[\w.-]+:)?)metadatagroup\b[^<>]*(?:/>|>\s*</(?P=p)metadatagroup\s*>)")
METADATA_LEFT = re.compile(rb"<(?:[\w.-]+:)?metadata")
OBJECT_NAME = re.compile(
    rb"(<(?:[\w.-]+:)?(?:object|item|component)\b[^<>]*?)\s+(?:name|partnumber)\s*=\s*(?:\"[^\"<>]*\"|'[^'<>]*')"
)
# Slicers' own settings beside the model (PrusaSlicer, Bambu Studio) keep object names and source paths.
SLICER_CONFIG_SUFFIX = ".config"


@dataclass
class _Object:
    """A resource object: its own mesh, or components referring to other objects."""

    object_type: str = "model"
    # Flat arrays of machine numbers: a fraction of the memory of Python lists of floats.
    vertices: array = field(default_factory=lambda: array("d"))
    triangles: array = field(default_factory=lambda: array("q"))
    # (part path, object id, 4x4 transform)
    components: list[tuple[str, str, np.ndarray]] = field(default_factory=list)
    # A mesh read ahead by the fast path: (vertices (n, 3), triangles (m, 3)).
    mesh: tuple[np.ndarray, np.ndarray] | None = None


class _XmlRefused(Exception):
    """A DOCTYPE or entity in the XML."""


class _ModelPart:
    """The objects and build items of one ``.model`` part, collected by expat callbacks."""

    def __init__(self, path: str, meshes: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.path = path
        self.meshes = meshes
        self.unit = "millimeter"
        self.objects: dict[str, _Object] = {}
        self.items: list[tuple[str, str, np.ndarray]] = []
        self.triangle_count = 0
        self._current_id: str | None = None
        self._current: _Object | None = None

    def start(self, name: str, attributes: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        if namespace != CORE:
            return
        handler = getattr(self, f"_start_{local}", None)
        if handler is not None:
            handler(attributes)

    def end(self, name: str) -> None:
        if name == f"{CORE} object" and self._current_id is not None and self._current is not None:
            self.objects[self._current_id] = self._current
            self._current_id, self._current = None, None

    def _start_model(self, attributes: dict[str, str]) -> None:
        self.unit = attributes.get("unit", "millimeter")

    def _start_object(self, attributes: dict[str, str]) -> None:
        self._current_id = attributes.get("id")
        self._current = _Object(object_type=attributes.get("type", "model"))

    def _start_mesh(self, attributes: dict[str, str]) -> None:
        if self._current is not None and FAST_MESH_ATTRIBUTE in attributes:
            self._current.mesh = self.meshes[int(attributes[FAST_MESH_ATTRIBUTE])]
            self.triangle_count += len(self._current.mesh[1])

    def _start_vertex(self, attributes: dict[str, str]) -> None:
        if self._current is not None:
            self._current.vertices.extend((float(attributes["x"]), float(attributes["y"]), float(attributes["z"])))

    def _start_triangle(self, attributes: dict[str, str]) -> None:
        if self._current is not None:
            self._current.triangles.extend((int(attributes["v1"]), int(attributes["v2"]), int(attributes["v3"])))
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


def _transform(text: str | None) -> np.ndarray:
    """A 3MF transform (a 4x3 matrix for row vectors, row by row) as a 4x4 matrix for column vectors."""
    matrix = np.eye(4)
    if text:
        values = [float(v) for v in text.split()]
        if len(values) != 12:
            raise ValueError("a 3MF transform has 12 numbers")
        matrix[:3, :] = np.array(values).reshape(4, 3).T
    return matrix


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

    def triangles(self) -> np.ndarray:
        root = self._part(self._root_path())
        scale = UNITS.get(root.unit)
        if scale is None:
            raise broken(self.display_name, f"неизвестная единица измерения «{root.unit}»")
        pieces: list[np.ndarray] = []
        for path, object_id, transform in root.items:
            self._expand(path, object_id, transform, 0, pieces)
        if not pieces:
            return np.empty((0, 3, 3), dtype=np.float32)
        return (np.concatenate(pieces) * scale).astype(np.float32)

    def _root_path(self) -> str:
        """The model part the package's relationships point to (``3D/3dmodel.model`` by convention)."""
        rels = self.archive.find("_rels/.rels")
        if rels is not None:
            targets: list[str] = []

            def start(name: str, attributes: dict[str, str]) -> None:
                if name == f"{RELATIONSHIPS} Relationship" and attributes.get("Type") == MODEL_RELATIONSHIP:
                    targets.append(attributes.get("Target", ""))

            self._parse(self._read(rels), start, None)
            if targets:
                return _part_path(targets[0], DEFAULT_MODEL_PART)
        return DEFAULT_MODEL_PART

    def _part(self, path: str) -> _ModelPart:
        if path not in self.parts:
            if len(self.parts) >= MAX_PARTS:
                raise broken(self.display_name, "в нём слишком много частей модели")
            member = self.archive.find(path)
            if member is None:
                raise broken(self.display_name, f"в архиве нет части «{path}»")
            xml = self._read(member)
            stitched, meshes = self._read_meshes_ahead(xml)
            self.parsing = _ModelPart(path, meshes)
            self._parse(stitched, self.parsing.start, self.parsing.end)
            self.parts[path], self.parsing = self.parsing, None
        return self.parts[path]

    def _read(self, member: str) -> bytes:
        """The unpacked part, within what is left of the XML budget of the whole package."""
        data = self.archive.read(member, self.limits.max_xml_size - self.xml_read)
        self.xml_read += len(data)
        return data

    def _read_meshes_ahead(self, xml: bytes) -> tuple[bytes, list[tuple[np.ndarray, np.ndarray]]]:
        """The XML with each plain mesh replaced by a stand-in, and those meshes as numpy arrays."""
        pieces, meshes, position = [], [], 0
        while (start := xml.find(b"<mesh>", position)) >= 0 and (end := xml.find(b"</mesh>", start)) >= 0:
            mesh = _plain_mesh(xml[start + len(b"<mesh>") : end])
            pieces.append(xml[position:start])
            if mesh is None:
                pieces.append(xml[start : end + len(b"</mesh>")])
            else:
                pieces.append(b'<mesh %s="%d"/>' % (FAST_MESH_ATTRIBUTE.encode(), len(meshes)))
                meshes.append(mesh)
            position = end + len(b"</mesh>")
            self._check_progress(sum(len(m[1]) for m in meshes))
        pieces.append(xml[position:])
        return b"".join(pieces), meshes

    def _parse(self, xml: bytes, start, end) -> None:
        """Run ``xml`` through expat with DOCTYPE and entities refused and the time budget kept."""
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = _refuse
        parser.EntityDeclHandler = _refuse
        parser.ExternalEntityRefHandler = _refuse
        parser.StartElementHandler = start
        if end is not None:
            parser.EndElementHandler = end
        try:
            for offset in range(0, len(xml), READ_SIZE):
                parser.Parse(xml[offset : offset + READ_SIZE], False)
                self._check_progress()
            parser.Parse(b"", True)
        except _XmlRefused as e:
            raise UploadError(
                f"Файл «{self.display_name}» отклонён: XML внутри него содержит DOCTYPE или сущности."
            ) from e
        except (expat.ExpatError, ValueError, LookupError) as e:
            raise broken(self.display_name, "XML-описание модели 3MF не читается") from e

    def _check_progress(self, ahead: int = 0) -> None:
        """:raise UploadError: out of time, or more triangles read (with ``ahead`` read ahead) than allowed."""
        self.deadline.check()
        parts = [*self.parts.values(), *([self.parsing] if self.parsing else [])]
        if sum(p.triangle_count for p in parts) + ahead > self.limits.max_triangles:
            raise too_many_triangles(self.display_name, self.limits)

    def _expand(self, path: str, object_id: str, transform: np.ndarray, depth: int, pieces: list) -> None:
        """Add the triangles of one object instance (with its components) to ``pieces``."""
        self.instances += 1
        if depth > MAX_DEPTH or self.instances > MAX_INSTANCES:
            raise broken(self.display_name, "компоненты модели 3MF вложены слишком глубоко или зациклены")
        obj = self._part(path).objects.get(object_id)
        if obj is None:
            raise broken(self.display_name, f"нет объекта с номером «{object_id}»")
        if obj.object_type in SKIPPED_OBJECT_TYPES:
            return
        if len(obj.triangles) or (obj.mesh is not None and len(obj.mesh[1])):
            pieces.append(self._mesh(obj, transform))
        for component_path, component_id, component_transform in obj.components:
            # 3MF composes as row vectors: the component's transform applies first.
            self._expand(component_path, component_id, transform @ component_transform, depth + 1, pieces)
        self.deadline.check()

    def _mesh(self, obj: _Object, transform: np.ndarray) -> np.ndarray:
        self.triangle_total += len(obj.mesh[1]) if obj.mesh is not None else len(obj.triangles) // 3
        if self.triangle_total > self.limits.max_triangles:
            raise too_many_triangles(self.display_name, self.limits)
        if obj.mesh is not None:
            vertices, faces = obj.mesh
        else:
            vertices = np.frombuffer(obj.vertices, dtype=np.float64).reshape(-1, 3)
            faces = np.frombuffer(obj.triangles, dtype=np.int64).reshape(-1, 3)
        if faces.min() < 0 or faces.max() >= len(vertices):
            raise broken(self.display_name, "треугольники ссылаются на несуществующие вершины")
        if not np.array_equal(transform, np.eye(4)):
            vertices = vertices @ transform[:3, :3].T + transform[:3, 3]
        return vertices[faces]


def _plain_mesh(body: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """Vertices and triangles of a mesh body of the plain shape; None for anything else (expat reads it)."""
    vertices_at, vertices_end = body.find(b"<vertices>"), body.find(b"</vertices>")
    triangles_at, triangles_end = body.find(b"<triangles>"), body.find(b"</triangles>")
    if not 0 <= vertices_at < vertices_end < triangles_at < triangles_end:
        return None
    around = (body[:vertices_at], body[vertices_end + 11 : triangles_at], body[triangles_end + 12 :])
    if any(text.strip() for text in around):
        return None
    vertices = _rows(
        body[vertices_at + 10 : vertices_end], b"vertex", FAST_VERTEX, (b'x="', b'y="', b'z="'), np.float64
    )
    triangles = _rows(
        body[triangles_at + 11 : triangles_end], b"triangle", FAST_TRIANGLE, (b'v1="', b'v2="', b'v3="'), np.int64
    )
    return None if vertices is None or triangles is None else (vertices, triangles)


def _rows(section: bytes, tag: bytes, pattern: re.Pattern, names: tuple[bytes, ...], dtype) -> np.ndarray | None:
    """The elements of a section as rows of three numbers; None when anything else is in it."""
    found = pattern.findall(section)
    # Every tag in the section must be one of the elements taken (or its closing tag): no comments, no others.
    if section.count(b"<") != len(found) + section.count(b"</" + tag + b">"):
        return None
    if not found:
        return np.empty((0, 3), dtype=dtype)
    text = b"\n".join(found)
    for name in names:
        text = text.replace(name, b"")
    try:
        rows = np.loadtxt(io.BytesIO(text.replace(b'"', b" ")), dtype=dtype, ndmin=2, comments=None)
    except (ValueError, OverflowError):
        return None
    return rows if rows.shape[1] == 3 else None


def _refuse(*_args) -> None:
    raise _XmlRefused


def clean_3mf(archive: SafeZip) -> bytes:
    """The package with its metadata removed: ``<metadata>`` of the model parts, object names, blank core
    properties, and the slicers' ``Metadata/*.config`` files. Meshes and build items are untouched.

    :raise UploadError: metadata of an unusual shape (in CDATA, say) stays in a model part.
    """

    def change(name: str, data: bytes) -> bytes | None:
        folded = name.casefold()
        if folded.endswith(".model"):
            return _without_metadata(data, archive.display_name)
        if folded.startswith("metadata/") and folded.endswith(SLICER_CONFIG_SUFFIX):
            return None
        return blank_package_properties(name, data)

    return archive.rewritten(change)


def _without_metadata(xml: bytes, display_name: str) -> bytes:
    xml = METADATA_GROUP.sub(b"", METADATA_ELEMENT.sub(b"", xml))
    if METADATA_LEFT.search(xml):
        raise UploadError(
            f"Из файла «{display_name}» не удалось убрать сведения об авторе: метаданные 3MF записаны необычно. "
            "Экспортируйте модель заново (например, в STL) и загрузите снова."
        )
    # A tag may carry both a name and a part number: one pass removes one of them.
    return OBJECT_NAME.sub(rb"\1", OBJECT_NAME.sub(rb"\1", xml))


def parse_3mf(archive: SafeZip, limits: MeshLimits, deadline: Deadline) -> np.ndarray:
    """Triangles of every build item of a 3MF package, in millimetres."""
    return _Reader(archive, limits, deadline).triangles()
