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

    ``colours``: each triangle's sRGB colour, ``uint8 (n, 3)``, written as linear ``COLOR_0`` per vertex.
    """
    triangles = np.asarray(triangles, dtype=np.float32)
    faces = merged_faces(triangles).ravel().astype(np.int64)
    if colours is not None:
        # A corner is one vertex with another only where both position and colour agree.
        rgb = np.asarray(colours, dtype=np.int64)
        packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        faces = (faces << 24) | np.repeat(packed, 3)
    # Merging may leave gaps in the vertex numbers: renumber them 0..k-1.
    used, compact = np.unique(faces, return_inverse=True)
    compact = compact.ravel()
    positions = np.empty((len(used), 3), dtype=np.float32)
    positions[compact] = triangles.reshape(-1, 3)
    if up == "z":
        # (x, y, z) Z-up → (x, z, -y) Y-up: a right-handed turn about the x axis.
        positions = np.stack([positions[:, 0], positions[:, 2], -positions[:, 1]], axis=1)
    positions = np.ascontiguousarray(positions, dtype="<f4")
    index_type = UNSIGNED_SHORT if len(used) <= 0xFFFF else UNSIGNED_INT
    indices = compact.astype("<u2" if index_type == UNSIGNED_SHORT else "<u4")
    position_bytes = positions.tobytes()
    attributes = {"POSITION": 0}
    colour_bytes = b""
    if colours is not None:
        vertex_colours = np.empty((len(used), 3), dtype="<f4")
        vertex_colours[compact] = np.repeat(_linear(np.asarray(colours)), 3, axis=0)
        colour_bytes = vertex_colours.tobytes()
        attributes["COLOR_0"] = 2
    index_bytes = _padded(indices.tobytes(), b"\0")
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
                    "baseColorFactor": BASE_COLOUR if colours is None else WHITE,
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.6,
                },
                "doubleSided": True,
            }
        ],
        "buffers": [{"byteLength": len(position_bytes) + len(index_bytes) + len(colour_bytes)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(position_bytes), "target": ARRAY_BUFFER},
            {
                "buffer": 0,
                "byteOffset": len(position_bytes),
                "byteLength": indices.nbytes,
                "target": ELEMENT_ARRAY_BUFFER,
            },
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": FLOAT,
                "count": len(positions),
                "type": "VEC3",
                "min": [float(v) for v in positions.min(axis=0)],
                "max": [float(v) for v in positions.max(axis=0)],
            },
            {"bufferView": 1, "componentType": index_type, "count": int(indices.size), "type": "SCALAR"},
        ],
    }
    if colours is not None:
        offset = len(position_bytes) + len(index_bytes)
        document["bufferViews"].append(
            {"buffer": 0, "byteOffset": offset, "byteLength": len(colour_bytes), "target": ARRAY_BUFFER}
        )
        document["accessors"].append({"bufferView": 2, "componentType": FLOAT, "count": len(used), "type": "VEC3"})
    json_bytes = _padded(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), b" ")
    binary = position_bytes + index_bytes + colour_bytes  # 4-byte items and padding: every view is 4-aligned
    total = 12 + 8 + len(json_bytes) + 8 + len(binary)
    return b"".join(
        [
            struct.pack("<III", GLB_MAGIC, 2, total),
            struct.pack("<II", len(json_bytes), JSON_CHUNK),
            json_bytes,
            struct.pack("<II", len(binary), BIN_CHUNK),
            binary,
        ]
    )


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
