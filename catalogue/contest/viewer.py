"""Models for the browser's viewer: every accepted model (STL, OBJ, GLB, 3MF) rewritten as one plain GLB.

The viewer then needs one loader and nothing else: no textures, no extensions, no decoders in workers.
The GLB holds positions and triangle indices (corners at identical positions merged) and one material;
without normals the viewer shades faces flat, as the server's thumbnails do. Z-up formats (STL, 3MF)
are turned to glTF's Y-up, so that models stand in the viewer as authored; OBJ and glTF are Y-up already.
A model with colours carries them per vertex (``COLOR_0``; corners of differently coloured triangles are
not merged); without colours it is the thumbnails' orange. A GLB with its own materials or textures is
shown as uploaded (its cleaned copy), when everything it needs is inside the file: see :func:`shows_as_authored`.
"""

import json
import struct

import numpy as np

from catalogue.media.geometry import merged_faces
from catalogue.media.thumbnails import up_axis

__all__ = ["shows_as_authored", "triangles_to_glb", "up_axis"]

GLB_MAGIC = 0x46546C67  # "glTF"
JSON_CHUNK = 0x4E4F534A  # "JSON"
BIN_CHUNK = 0x004E4942  # "BIN\0"
FLOAT, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
# The thumbnails' filament colour (205, 112, 58) in linear RGB, as glTF wants it.
BASE_COLOUR = [0.610, 0.162, 0.042, 1.0]
# Vertex colours are multiplied by the base colour: white leaves them as they are.
WHITE = [1.0, 1.0, 1.0, 1.0]
# Pictures a browser decodes by itself; anything else (KTX2, external files) keeps the plain copy.
BROWSER_IMAGES = {"image/png", "image/jpeg", "image/webp"}


def triangles_to_glb(
    triangles: np.ndarray, up: str = "z", name: str = "model", colours: np.ndarray | None = None
) -> bytes:
    """A GLB of ``(n, 3, 3)`` triangles: merged vertices, 16- or 32-bit indices, one double-sided material.

    ``colours``: each triangle's sRGB colour, ``uint8 (n, 3)``, written as linear ``COLOR_0`` per vertex (a model
    of one colour gets it as its material's colour instead). Large models are written with few temporary copies:
    the arrays go into the file as they are.
    """
    triangles = np.asarray(triangles, dtype=np.float32)
    base_colour = BASE_COLOUR
    if colours is not None and len(colours) and (colours == colours[0]).all():
        base_colour = [*(float(c) for c in _linear(np.asarray(colours[:1]))[0]), 1.0]
        colours = None
    # Welded vertex numbers run 0..k-1 but for rare gaps (corners split off a clashing hash group).
    faces = merged_faces(triangles).ravel()
    present = np.zeros(int(faces.max()) + 1, dtype=bool)
    present[faces] = True
    if not present.all():
        faces = (np.cumsum(present, dtype=faces.dtype) - 1)[faces]
    vertex_count = int(np.count_nonzero(present))
    del present
    vertex_rgb = None
    if colours is not None:
        faces, vertex_rgb = _split_by_colour(faces, np.asarray(colours), vertex_count)
        vertex_count = len(vertex_rgb)
    compact = faces
    positions = np.empty((vertex_count, 3), dtype=np.float32)
    positions[compact] = triangles.reshape(-1, 3)
    if up == "z":
        # (x, y, z) Z-up → (x, z, -y) Y-up: a right-handed turn about the x axis.
        positions[:, 1], positions[:, 2] = positions[:, 2], -positions[:, 1].copy()
    positions = np.ascontiguousarray(positions, dtype="<f4")
    index_type = UNSIGNED_SHORT if vertex_count <= 0xFFFF else UNSIGNED_INT
    indices = compact.astype("<u2" if index_type == UNSIGNED_SHORT else "<u4")
    attributes = {"POSITION": 0}
    vertex_colours = None
    if vertex_rgb is not None:
        unpacked = np.empty((vertex_count, 3), dtype=np.uint8)
        for k, shift in enumerate((16, 8, 0)):
            unpacked[:, k] = (vertex_rgb >> shift) & 0xFF
        del vertex_rgb
        vertex_colours = np.ascontiguousarray(_linear(unpacked), dtype="<f4")
        del unpacked
        attributes["COLOR_0"] = 2
    del compact
    index_padding = b"\0" * (-indices.nbytes % 4)
    index_length = indices.nbytes + len(index_padding)
    colour_length = 0 if vertex_colours is None else vertex_colours.nbytes
    document = {
        "asset": {"version": "2.0", "generator": "Профориентация Приангарья"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": name[:100]}],
        "meshes": [{"primitives": [{"attributes": attributes, "indices": 1, "material": 0, "mode": 4}]}],
        "materials": [
            {
                "name": "filament",
                "pbrMetallicRoughness": {
                    "baseColorFactor": base_colour if vertex_colours is None else WHITE,
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.6,
                },
                "doubleSided": True,
            }
        ],
        "buffers": [{"byteLength": positions.nbytes + index_length + colour_length}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": positions.nbytes, "target": ARRAY_BUFFER},
            {
                "buffer": 0,
                "byteOffset": positions.nbytes,
                "byteLength": indices.nbytes,
                "target": ELEMENT_ARRAY_BUFFER,
            },
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": FLOAT,
                "count": vertex_count,
                "type": "VEC3",
                "min": [float(v) for v in positions.min(axis=0)],
                "max": [float(v) for v in positions.max(axis=0)],
            },
            {"bufferView": 1, "componentType": index_type, "count": int(indices.size), "type": "SCALAR"},
        ],
    }
    pieces = [memoryview(positions).cast("B"), memoryview(indices).cast("B"), index_padding]
    if vertex_colours is not None:
        offset = positions.nbytes + index_length
        document["bufferViews"].append(
            {"buffer": 0, "byteOffset": offset, "byteLength": colour_length, "target": ARRAY_BUFFER}
        )
        document["accessors"].append(
            {"bufferView": 2, "componentType": FLOAT, "count": vertex_count, "type": "VEC3"}
        )
        pieces.append(memoryview(vertex_colours).cast("B"))
    json_bytes = _padded(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), b" ")
    # 4-byte items and padding: every view is 4-aligned.
    binary_length = positions.nbytes + index_length + colour_length
    total = 12 + 8 + len(json_bytes) + 8 + binary_length
    return b"".join(
        [
            struct.pack("<III", GLB_MAGIC, 2, total),
            struct.pack("<II", len(json_bytes), JSON_CHUNK),
            json_bytes,
            struct.pack("<II", binary_length, BIN_CHUNK),
            *pieces,
        ]
    )


def _split_by_colour(faces: np.ndarray, colours: np.ndarray, vertex_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Corners that share a vertex but not a colour get vertices of their own: ``faces`` (flat, renumbered in
    place) and each vertex's packed ``0xRRGGBB`` colour.

    A round keeps, for every vertex, one of the colours its corners want and moves the corners that want another
    to new vertices; the next round does the same among those. A vertex where k colours meet takes k rounds,
    and each round's arrays are the length of the vertices or of the corners left: no sort of every corner.
    """
    packed = (colours[:, 0].astype(np.int32) << 16) | (colours[:, 1].astype(np.int32) << 8) | colours[:, 2]
    wanted = np.repeat(packed, 3)
    del packed
    vertex_rgb = np.empty(vertex_count, dtype=np.int32)
    vertex_rgb[faces] = wanted
    pending = np.flatnonzero(vertex_rgb[faces] != wanted)
    rounds = [vertex_rgb]
    total = vertex_count
    while len(pending):
        vertices, rgb = faces[pending], wanted[pending]
        present = np.zeros(vertex_count, dtype=bool)
        present[vertices] = True
        numbers = (np.cumsum(present, dtype=np.int32) - 1)[vertices]
        added = int(np.count_nonzero(present))
        del present
        round_rgb = np.empty(added, dtype=np.int32)
        round_rgb[numbers] = rgb
        kept = round_rgb[numbers] == rgb
        faces[pending[kept]] = total + numbers[kept]
        rounds.append(round_rgb)
        total += added
        pending = pending[~kept]
    return faces, np.concatenate(rounds) if len(rounds) > 1 else vertex_rgb


def shows_as_authored(glb: bytes) -> bool:
    """True for a GLB with its own materials or textures that the browser can show from the file alone.

    Every picture must be inside the file (a buffer view, not an address) in a format browsers decode, every
    buffer the file's own binary chunk, and no extension required: otherwise the plain copy is shown.
    """
    try:
        length, kind = struct.unpack_from("<II", glb, 12)
        document = json.loads(glb[20 : 20 + length]) if kind == JSON_CHUNK else {}
    except (struct.error, ValueError):
        return False
    if not isinstance(document, dict) or not (document.get("materials") or document.get("textures")):
        return False
    if document.get("extensionsRequired"):
        return False
    images, buffers = document.get("images") or [], document.get("buffers") or []
    if not (isinstance(images, list) and isinstance(buffers, list)):
        return False
    pictures_inside = all(
        isinstance(image, dict) and "uri" not in image and image.get("mimeType") in BROWSER_IMAGES for image in images
    )
    return pictures_inside and all(isinstance(buffer, dict) and "uri" not in buffer for buffer in buffers)


def _linear(srgb: np.ndarray) -> np.ndarray:
    """sRGB ``uint8`` colours as linear floats 0..1, as glTF's vertex colours are."""
    c = srgb.astype(np.float32) / np.float32(255)
    return np.where(c <= 0.04045, c / np.float32(12.92), ((c + np.float32(0.055)) / np.float32(1.055)) ** 2.4)


def _padded(data: bytes, filler: bytes) -> bytes:
    return data + filler * (-len(data) % 4)
