"""GLB (binary glTF 2.0): header, JSON chunk, BIN chunk; triangles of every mesh the default scene shows.

Every number taken from the JSON (counts, offsets, strides, indices) is checked against the binary
chunk before it is used, so that a lying file fails with a message instead of reading out of bounds.
"""

import json
import math
import struct

import numpy as np

from catalogue.media.errors import Deadline, UploadError
from catalogue.media.meshes import Mesh, MeshLimits, broken, joined, srgb_from_linear, too_many_triangles

GLB_HEADER = struct.Struct("<4sII")
CHUNK_HEADER = struct.Struct("<II")
JSON_CHUNK = 0x4E4F534A
BIN_CHUNK = 0x004E4942
COMPONENT_TYPES = {5121: np.dtype("u1"), 5123: np.dtype("<u2"), 5125: np.dtype("<u4"), 5126: np.dtype("<f4")}
INDEX_COMPONENTS = (5121, 5123, 5125)
# Vertex colours: floats, or unsigned bytes and shorts normalised to 0..1.
COLOUR_COMPONENTS = {5126: 1.0, 5121: 255.0, 5123: 65535.0}
# glTF's default material (a primitive without one) is white.
WHITE = (255, 255, 255)
TRIANGLES, TRIANGLE_STRIP, TRIANGLE_FAN = 4, 5, 6
# A node tree deeper than this, or instancing more nodes, is a trap rather than a model.
MAX_DEPTH = 64
# glTF lengths are metres; the site measures models in millimetres.
MILLIMETRES_PER_METRE = 1000.0
MAX_INSTANCES = 100_000
UNSUPPORTED_EXTENSIONS = {
    "KHR_draco_mesh_compression": "сжатие Draco",
    "EXT_meshopt_compression": "сжатие meshopt",
    "KHR_mesh_quantization": "квантование координат",
}


# Top-level extensions that carry metadata packets (XMP) rather than anything the model needs.
METADATA_EXTENSIONS = {"KHR_xmp_json_ld"}


def clean_glb(data: bytes, display_name: str) -> bytes:
    """The GLB without authorship: ``asset`` keeps its version only, names, ``extras`` and XMP go.

    The binary chunk is kept byte for byte; the JSON chunk is written again (padded with spaces to
    four bytes, as the format requires) and the header's length follows. Other chunks are left out.

    :raise UploadError: the file's chunks or JSON cannot be read.
    """
    document, binary = _chunks(data, display_name)
    asset = document.get("asset")
    document["asset"] = {"version": asset.get("version", "2.0") if isinstance(asset, dict) else "2.0"}
    _strip_names(document)
    extensions = document.get("extensions")
    if isinstance(extensions, dict):
        for name in METADATA_EXTENSIONS:
            extensions.pop(name, None)
        if not extensions:
            document.pop("extensions")
    for key in ("extensionsUsed", "extensionsRequired"):
        if isinstance(document.get(key), list):
            document[key] = [e for e in document[key] if e not in METADATA_EXTENSIONS]
            if not document[key]:
                document.pop(key)
    try:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    except (ValueError, RecursionError) as e:
        raise broken(display_name, "описание сцены в GLB не читается") from e
    text += b" " * (-len(text) % 4)
    pieces: list[bytes | memoryview] = [CHUNK_HEADER.pack(len(text), JSON_CHUNK), text]
    if len(binary):
        padding = b"\0" * (-len(binary) % 4)
        # The binary chunk goes from the original straight into the one new copy: no copies in between.
        pieces += [CHUNK_HEADER.pack(len(binary) + len(padding), BIN_CHUNK), binary, padding]
    length = GLB_HEADER.size + sum(len(piece) for piece in pieces)
    return b"".join([GLB_HEADER.pack(b"glTF", 2, length), *pieces])


def _strip_names(document: dict) -> None:
    """Remove ``extras`` everywhere, and ``name`` from every item of every collection (nodes, meshes, materials…)."""
    stack: list[object] = [document]
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            obj.pop("extras", None)
            stack.extend(obj.values())
        elif isinstance(obj, list):
            stack.extend(obj)
    for collection in document.values():
        for item in collection if isinstance(collection, list) else []:
            if isinstance(item, dict):
                item.pop("name", None)


def parse_glb(data: bytes, display_name: str, limits: MeshLimits, deadline: Deadline) -> Mesh:
    """Triangles of a GLB file in millimetres (glTF is in metres), with node transforms applied.

    Colours are the base colours of the primitives' materials (``baseColorFactor``) times their vertex
    colours (``COLOR_0``), per triangle in sRGB; None when no primitive has a material or vertex colours.
    Textures are not read.
    """
    document, binary = _chunks(data, display_name)
    mesh = _Gltf(document, binary, display_name, limits, deadline).triangles()
    triangles, colours = mesh.triangles, mesh.colours
    if not triangles.flags.writeable:
        return Mesh(triangles * np.float32(MILLIMETRES_PER_METRE), colours, "meter")
    triangles *= np.float32(MILLIMETRES_PER_METRE)
    return Mesh(triangles, colours, "meter")


def _chunks(data: bytes, display_name: str) -> tuple[dict, memoryview]:
    """The JSON document and the binary chunk (empty when absent)."""
    if len(data) < GLB_HEADER.size + CHUNK_HEADER.size:
        raise broken(display_name, "файл GLB слишком короткий")
    _magic, version, length = GLB_HEADER.unpack_from(data)
    if version != 2:
        raise UploadError(f"Файл «{display_name}»: поддерживается только glTF версии 2.0, а в файле версия {version}.")
    if length != len(data):
        raise broken(display_name, "размер, записанный в заголовке GLB, не совпадает с размером файла")
    json_length, json_type = CHUNK_HEADER.unpack_from(data, GLB_HEADER.size)
    json_start = GLB_HEADER.size + CHUNK_HEADER.size
    if json_type != JSON_CHUNK or json_start + json_length > len(data):
        raise broken(display_name, "в файле GLB нет описания сцены")
    try:
        document = json.loads(bytes(data[json_start : json_start + json_length]))
    except (ValueError, RecursionError) as e:
        raise broken(display_name, "описание сцены в GLB не читается") from e
    if not isinstance(document, dict):
        raise broken(display_name, "описание сцены в GLB не читается")
    binary = memoryview(b"")
    bin_start = json_start + json_length
    if bin_start + CHUNK_HEADER.size <= len(data):
        bin_length, bin_type = CHUNK_HEADER.unpack_from(data, bin_start)
        body = bin_start + CHUNK_HEADER.size
        if bin_type == BIN_CHUNK and body + bin_length <= len(data):
            binary = memoryview(data)[body : body + bin_length]
    return document, binary


class _Gltf:
    """One parsed document and its binary buffer."""

    def __init__(
        self, document: dict, binary: memoryview, display_name: str, limits: MeshLimits, deadline: Deadline
    ) -> None:
        self.document = document
        self.binary = binary
        self.display_name = display_name
        self.limits = limits
        self.deadline = deadline
        self.mesh_cache: dict[int, Mesh] = {}
        self.triangle_total = 0
        self._refuse_unsupported_extensions()

    def _broken(self, detail: str = "описание сцены в GLB противоречиво") -> UploadError:
        return broken(self.display_name, detail)

    def _refuse_unsupported_extensions(self) -> None:
        required = self.document.get("extensionsRequired") or []
        for name in required if isinstance(required, list) else []:
            if name in UNSUPPORTED_EXTENSIONS:
                raise UploadError(
                    f"Файл «{self.display_name}» использует {UNSUPPORTED_EXTENSIONS[name]}, которое сайт не читает. "
                    "Экспортируйте GLB без сжатия."
                )

    # -- typed access to the JSON -----------------------------------------------------------------

    def _item(self, collection: str, index: object) -> dict:
        items = self.document.get(collection)
        if not isinstance(items, list) or not _is_int(index) or not 0 <= index < len(items):
            raise self._broken()
        item = items[index]
        if not isinstance(item, dict):
            raise self._broken()
        return item

    def _int(self, obj: dict, key: str, default: int | None = None) -> int:
        value = obj.get(key, default)
        if not _is_int(value) or value < 0:
            raise self._broken()
        return value

    # -- scene graph ------------------------------------------------------------------------------

    def triangles(self) -> Mesh:
        parts = [self._instance(mesh, matrix) for mesh, matrix in self._mesh_instances()]
        return joined([p for p in parts if len(p[0])], WHITE)

    def _roots(self) -> list:
        scenes = self.document.get("scenes")
        if isinstance(scenes, list) and scenes:
            scene = self._item("scenes", self.document.get("scene", 0))
            roots = scene.get("nodes", [])
            return roots if isinstance(roots, list) else []
        nodes = self.document.get("nodes")
        if isinstance(nodes, list):
            children = {c for n in nodes if isinstance(n, dict) for c in n.get("children", []) if _is_int(c)}
            return [i for i in range(len(nodes)) if i not in children]
        return []

    def _mesh_instances(self):
        """``(mesh index, world matrix)`` of every node with a mesh, walked from the scene's roots."""
        roots = self._roots()
        if not roots and not isinstance(self.document.get("nodes"), list):
            # A document without nodes: its meshes as they are.
            meshes = self.document.get("meshes")
            yield from ((i, None) for i in range(len(meshes) if isinstance(meshes, list) else 0))
            return
        stack = [(root, np.eye(4), 0) for root in roots]
        visited = 0
        while stack:
            index, parent, depth = stack.pop()
            visited += 1
            if depth > MAX_DEPTH or visited > MAX_INSTANCES:
                raise self._broken("иерархия узлов в GLB слишком глубокая или зациклена")
            node = self._item("nodes", index)
            matrix = parent @ self._local_matrix(node)
            if "mesh" in node:
                yield node["mesh"], matrix
            children = node.get("children", [])
            stack.extend((child, matrix, depth + 1) for child in (children if isinstance(children, list) else []))

    def _local_matrix(self, node: dict) -> np.ndarray:
        if "matrix" in node:
            # glTF stores matrices column by column.
            return self._numbers(node["matrix"], 16).reshape(4, 4).T
        translation = self._numbers(node.get("translation", [0, 0, 0]), 3)
        x, y, z, w = self._numbers(node.get("rotation", [0, 0, 0, 1]), 4)
        scale = self._numbers(node.get("scale", [1, 1, 1]), 3)
        rotation = np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
            ]
        )
        matrix = np.eye(4)
        matrix[:3, :3] = rotation * scale
        matrix[:3, 3] = translation
        return matrix

    def _numbers(self, value: object, length: int) -> np.ndarray:
        ok = isinstance(value, list) and len(value) == length
        if not ok or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value
        ):
            raise self._broken()
        return np.array(value, dtype=np.float64)

    def _instance(self, mesh_index: object, matrix: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        self.deadline.check()
        mesh = self._mesh(mesh_index)
        triangles, colours = mesh.triangles, mesh.colours
        self.triangle_total += len(triangles)
        if self.triangle_total > self.limits.max_triangles:
            raise too_many_triangles(self.display_name, self.limits)
        if matrix is None or np.array_equal(matrix, np.eye(4)):
            return triangles, colours
        return triangles @ matrix[:3, :3].T.astype(np.float32) + matrix[:3, 3].astype(np.float32), colours

    # -- meshes and accessors ---------------------------------------------------------------------

    def _mesh(self, index: object) -> Mesh:
        if not _is_int(index):
            raise self._broken()
        if index not in self.mesh_cache:
            mesh = self._item("meshes", index)
            primitives = mesh.get("primitives")
            if not isinstance(primitives, list):
                raise self._broken()
            parts = [self._primitive(p) for p in primitives]
            self.mesh_cache[index] = joined([p for p in parts if p is not None], WHITE)
        return self.mesh_cache[index]

    def _primitive(self, primitive: object) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The triangles of one primitive and their colours (None: none given); None for points and lines."""
        if not isinstance(primitive, dict) or not isinstance(primitive.get("attributes"), dict):
            raise self._broken()
        mode = self._int(primitive, "mode", TRIANGLES)
        if mode not in (TRIANGLES, TRIANGLE_STRIP, TRIANGLE_FAN) or "POSITION" not in primitive["attributes"]:
            return None
        positions = self._accessor(primitive["attributes"]["POSITION"], "VEC3", (5126,))
        if "indices" in primitive:
            indices = self._accessor(primitive["indices"], "SCALAR", INDEX_COMPONENTS).ravel().astype(np.int64)
        else:
            indices = np.arange(len(positions), dtype=np.int64)
        faces = _faces(indices, mode)
        if len(faces) > self.limits.max_triangles:
            raise too_many_triangles(self.display_name, self.limits)
        if faces.size and faces.max() >= len(positions):
            raise self._broken("грани в GLB ссылаются на несуществующие вершины")
        return positions[faces], self._colours(primitive, faces, len(positions))

    def _colours(self, primitive: dict, faces: np.ndarray, vertex_count: int) -> np.ndarray | None:
        """sRGB colours of a primitive's triangles: its material's base colour times its vertex colours."""
        base = None
        if "material" in primitive:
            material = self._item("materials", primitive["material"])
            pbr = material.get("pbrMetallicRoughness", {})
            if not isinstance(pbr, dict):
                raise self._broken()
            base = self._numbers(pbr.get("baseColorFactor", [1.0, 1.0, 1.0, 1.0]), 4)[:3]
        vertex = None
        if "COLOR_0" in primitive["attributes"]:
            vertex = self._accessor(primitive["attributes"]["COLOR_0"], ("VEC3", "VEC4"), tuple(COLOUR_COMPONENTS))
            if len(vertex) != vertex_count:
                raise self._broken("цвета вершин в GLB не совпадают с вершинами")
        if vertex is None:
            return None if base is None else np.tile(srgb_from_linear(base), (len(faces), 1))
        linear = vertex[:, :3].astype(np.float32) / np.float32(COLOUR_COMPONENTS[self._component(primitive)])
        if base is not None:
            linear *= base.astype(np.float32)
        total = np.zeros((len(faces), 3), dtype=np.float32)
        for corner in range(3):
            total += linear[faces[:, corner]]
        return srgb_from_linear(total / 3)

    def _component(self, primitive: dict) -> int:
        return self._item("accessors", primitive["attributes"]["COLOR_0"])["componentType"]

    def _accessor(self, index: object, expected_type: str | tuple[str, ...], components: tuple[int, ...]) -> np.ndarray:
        """The accessor's elements, every offset checked against the binary chunk first."""
        accessor = self._item("accessors", index)
        types = (expected_type,) if isinstance(expected_type, str) else expected_type
        component = accessor.get("componentType")
        if accessor.get("type") not in types or component not in components or "sparse" in accessor:
            raise self._broken("формат вершин или граней в GLB не поддерживается")
        width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4}[accessor["type"]]
        count = self._int(accessor, "count")
        view = self._item("bufferViews", accessor.get("bufferView"))
        self._check_buffer(self._int(view, "buffer"))
        dtype = COMPONENT_TYPES[component]
        element = dtype.itemsize * width
        stride = self._int(view, "byteStride", 0) or element
        view_offset, view_length = self._int(view, "byteOffset", 0), self._int(view, "byteLength")
        offset = self._int(accessor, "byteOffset", 0)
        if stride < element or view_offset + view_length > len(self.binary):
            raise self._broken("данные сетки выходят за пределы файла")
        if count == 0:
            return np.empty((0, width), dtype=dtype)
        if offset + stride * (count - 1) + element > view_length:
            raise self._broken("данные сетки выходят за пределы файла")
        array = np.ndarray(
            (count, width),
            dtype=dtype,
            buffer=self.binary,
            offset=view_offset + offset,
            strides=(stride, dtype.itemsize),
        )
        return array.copy()

    def _check_buffer(self, index: int) -> None:
        buffer = self._item("buffers", index)
        if index != 0 or "uri" in buffer:
            raise UploadError(
                f"Файл «{self.display_name}» ссылается на внешние файлы с данными. "
                "Экспортируйте модель одним файлом GLB (glTF Binary)."
            )


def _faces(indices: np.ndarray, mode: int) -> np.ndarray:
    """``(n, 3)`` corner indices for a list, strip or fan of triangles."""
    if mode == TRIANGLES:
        usable = len(indices) - len(indices) % 3
        return indices[:usable].reshape(-1, 3)
    if len(indices) < 3:
        return np.empty((0, 3), dtype=np.int64)
    steps = np.arange(len(indices) - 2)
    if mode == TRIANGLE_FAN:
        return np.stack([np.full_like(steps, indices[0]), indices[steps + 1], indices[steps + 2]], axis=1)
    # Strips alternate their winding: every second triangle swaps its first two corners.
    odd = steps % 2 == 1
    first = np.where(odd, steps + 1, steps)
    second = np.where(odd, steps, steps + 1)
    return np.stack([indices[first], indices[second], indices[steps + 2]], axis=1)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
