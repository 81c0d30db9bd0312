"""Models for the browser's viewer: every accepted model (STL, OBJ, GLB, 3MF) rewritten as one plain GLB.

The viewer then needs one loader and nothing else: no textures, no extensions, no decoders in workers.
The GLB holds positions and triangle indices (corners at identical positions merged) and one material;
without normals the viewer shades faces flat, as the server's thumbnails do. Z-up formats (STL, 3MF,
OBJ exported for printing) are turned to glTF's Y-up, so that models stand up in the viewer.
"""

import json
import struct

import numpy as np

from catalogue.media.geometry import merged_faces

GLB_MAGIC = 0x46546C67  # "glTF"
JSON_CHUNK = 0x4E4F534A  # "JSON"
BIN_CHUNK = 0x004E4942  # "BIN\0"
FLOAT, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5123, 5125
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
# The thumbnails' filament colour (205, 112, 58) in linear RGB, as glTF wants it.
BASE_COLOUR = [0.610, 0.162, 0.042, 1.0]


def up_axis(file_format: str) -> str:
    """The vertical axis of a format as people export it: glTF is Y-up, files made for printing Z-up."""
    return "y" if file_format == "glb" else "z"


def triangles_to_glb(triangles: np.ndarray, up: str = "z", name: str = "model") -> bytes:
    """A GLB of ``(n, 3, 3)`` triangles: merged vertices, 16- or 32-bit indices, one double-sided material."""
    triangles = np.asarray(triangles, dtype=np.float32)
    faces = merged_faces(triangles)
    # Merging may leave gaps in the vertex numbers: renumber them 0..k-1.
    used, compact = np.unique(faces.ravel(), return_inverse=True)
    positions = np.empty((len(used), 3), dtype=np.float32)
    positions[compact] = triangles.reshape(-1, 3)
    if up == "z":
        # (x, y, z) Z-up → (x, z, -y) Y-up: a right-handed turn about the x axis.
        positions = np.stack([positions[:, 0], positions[:, 2], -positions[:, 1]], axis=1)
    positions = np.ascontiguousarray(positions, dtype="<f4")
    index_type = UNSIGNED_SHORT if len(used) <= 0xFFFF else UNSIGNED_INT
    indices = compact.astype("<u2" if index_type == UNSIGNED_SHORT else "<u4")
    position_bytes = positions.tobytes()
    index_bytes = _padded(indices.tobytes(), b"\0")
    document = {
        "asset": {"version": "2.0", "generator": "Профориентация Приангарья"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": name[:100]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "material": 0, "mode": 4}]}],
        "materials": [
            {
                "name": "filament",
                "pbrMetallicRoughness": {"baseColorFactor": BASE_COLOUR, "metallicFactor": 0.0, "roughnessFactor": 0.6},
                "doubleSided": True,
            }
        ],
        "buffers": [{"byteLength": len(position_bytes) + len(index_bytes)}],
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
    json_bytes = _padded(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), b" ")
    binary = position_bytes + index_bytes  # positions are 12-byte items: already 4-aligned
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


def _padded(data: bytes, filler: bytes) -> bytes:
    return data + filler * (-len(data) % 4)
