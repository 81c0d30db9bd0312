"""Large and hostile files made on the spot, for the memory tests and ``python -m benchmarks models-bench``.

Nothing large is committed: each function writes its file to the path given and returns that path. The valid
models are a torus, a closed surface of ``2 * rings * segments`` triangles that any program would accept.
"""

import base64
import json
import random
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

MiB = 1024 * 1024
CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
MATERIAL = "http://schemas.microsoft.com/3dmanufacturing/material/2015/02"
CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>'
)
MODEL_PART = "3D/3dmodel.model"
ROWS_AT_ONCE = 100_000


def torus(triangles: int) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``(v, 3)`` (mm, a ring of 100 mm) and faces ``(f, 3)`` of a closed torus of at most ``triangles``."""
    segments = int((triangles / 2) ** 0.5)
    rings = triangles // (2 * segments)
    u = np.linspace(0, 2 * np.pi, rings, endpoint=False)[:, None]
    v = np.linspace(0, 2 * np.pi, segments, endpoint=False)[None, :]
    radius = 40 + 10 * np.cos(v)
    shape = (rings, segments)
    x, y, z = (np.broadcast_to(c, shape) for c in (radius * np.cos(u), radius * np.sin(u), 10 * np.sin(v)))
    vertices = np.stack([x, y, z], axis=-1).reshape(-1, 3)
    i, j = np.meshgrid(np.arange(rings), np.arange(segments), indexing="ij")
    a, b = i * segments + j, ((i + 1) % rings) * segments + j
    c, d = ((i + 1) % rings) * segments + (j + 1) % segments, i * segments + (j + 1) % segments
    faces = np.concatenate([np.stack([a, b, c], -1).reshape(-1, 3), np.stack([a, c, d], -1).reshape(-1, 3)])
    return vertices, faces


def binary_stl(path: Path, triangles: int, soup: bool = False) -> Path:
    """A binary STL of a torus: 50 bytes a triangle (a million is the 50 MB limit).

    A ``soup`` is triangles with corners at random on a sphere: no two share a vertex, the most work for
    welding and the largest viewer file.
    """
    if soup:
        corners = np.random.default_rng(3).normal(size=(triangles, 3, 3))
        corners /= np.linalg.norm(corners, axis=2, keepdims=True) / 50
    else:
        vertices, faces = torus(triangles)
        corners = vertices[faces]
    records = np.zeros(len(corners), dtype=[("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    records["corners"] = corners
    path.write_bytes(b"\0" * 80 + struct.pack("<I", len(corners)) + records.tobytes())
    return path


def obj(path: Path, triangles: int, colours: bool = False) -> Path:
    """An OBJ of a torus (with a colour on each vertex line when ``colours``)."""
    vertices, faces = torus(triangles)
    with path.open("w") as stream:
        if colours:
            shade = (vertices[:, 2:3] + 10) / 20
            rows = np.hstack([vertices, shade, 1 - shade, shade * 0.5])
            np.savetxt(stream, rows, fmt="v %.4f %.4f %.4f %.3f %.3f %.3f")
        else:
            np.savetxt(stream, vertices, fmt="v %.4f %.4f %.4f")
        np.savetxt(stream, faces + 1, fmt="f %d %d %d")
    return path


def three_mf(path: Path, model_chunks, compresslevel: int = 9) -> Path:
    """A 3MF whose model part is written from ``model_chunks``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open(MODEL_PART, "w", force_zip64=False) as part:
            for chunk in model_chunks:
                part.write(chunk)
    return path


def torus_3mf(path: Path, triangles: int, colours: bool = True) -> Path:
    """A valid 3MF of a torus; with ``colours``, every triangle picks one of two colours of a colour group."""
    vertices, faces = torus(triangles)

    def chunks():
        yield f'<?xml version="1.0"?><model unit="millimeter" xmlns="{CORE}" xmlns:m="{MATERIAL}"><resources>'.encode()
        if colours:
            yield b'<m:colorgroup id="2"><m:color color="#1E90FF"/><m:color color="#FFD700"/></m:colorgroup>'
        yield b'<object id="1" type="model"><mesh><vertices>\n'
        for start in range(0, len(vertices), ROWS_AT_ONCE):
            rows = vertices[start : start + ROWS_AT_ONCE]
            yield "".join(f'<vertex x="{x:.4f}" y="{y:.4f}" z="{z:.4f}"/>\n' for x, y, z in rows.tolist()).encode()
        yield b"</vertices><triangles>\n"
        for start in range(0, len(faces), ROWS_AT_ONCE):
            rows = faces[start : start + ROWS_AT_ONCE]
            if colours:
                text = "".join(
                    f'<triangle v1="{a}" v2="{b}" v3="{c}" pid="2" p1="{k % 2}"/>\n'
                    for k, (a, b, c) in enumerate(rows.tolist(), start)
                )
            else:
                text = "".join(f'<triangle v1="{a}" v2="{b}" v3="{c}"/>\n' for a, b, c in rows.tolist())
            yield text.encode()
        yield b'</triangles></mesh></object></resources><build><item objectid="1"/></build></model>'

    return three_mf(path, chunks(), compresslevel=6)


def glb(path: Path, triangles: int) -> Path:
    """An indexed GLB of a torus (metres: a ring of 0.1 m), with a base colour."""
    vertices, faces = torus(triangles)
    positions = (vertices / 1000).astype("<f4")
    indices = faces.astype("<u4")
    binary = positions.tobytes() + indices.tobytes()
    document = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": [0.8, 0.2, 0.1, 1.0]}}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "mode": 4, "material": 0}]}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": positions.nbytes},
            {"buffer": 0, "byteOffset": positions.nbytes, "byteLength": indices.nbytes},
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": len(positions), "type": "VEC3"},
            {"bufferView": 1, "componentType": 5125, "count": indices.size, "type": "SCALAR"},
        ],
    }
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    chunks = struct.pack("<I", len(text)) + b"JSON" + text + struct.pack("<I", len(binary)) + b"BIN\0" + binary
    path.write_bytes(b"glTF" + struct.pack("<II", 2, 12 + len(chunks)) + chunks)
    return path


# -- hostile files --------------------------------------------------------------------------------


def obj_with_one_giant_face(path: Path, size: int = 48 * MiB) -> Path:
    """An OBJ of ``size`` bytes: three vertices, then a single face line naming them millions of times."""
    with path.open("wb") as stream:
        stream.write(b"v 0 0 0\nv 10 0 0\nv 0 10 0\nf")
        corners = b" 1 2 3" * (MiB // 6)
        for _ in range(size // len(corners)):
            stream.write(corners)
        stream.write(b"\n")
    return path


def declare_unpacked_size(path: Path, size: int) -> None:
    """Make the central directory say the model part unpacks to ``size`` bytes."""
    data = bytearray(path.read_bytes())
    # The last mention of the name is in the central directory, 46 bytes into its entry.
    entry = data.rfind(MODEL_PART.encode()) - 46
    assert data[entry : entry + 4] == b"PK\x01\x02"
    struct.pack_into("<I", data, entry + 24, size)
    path.write_bytes(bytes(data))


def lying_zip(path: Path) -> Path:
    """About 1.1 MB: a 3MF whose directory declares 200 times the packed size, while the part unpacks to far more."""
    rng = random.Random(7)  # noqa: S311 (noise, not secrets)
    noise = base64.b64encode(rng.randbytes(750_000))  # about 1 MB packed: it does not compress

    def chunks():
        yield f'<?xml version="1.0"?><model unit="millimeter" xmlns="{CORE}"><resources><!-- '.encode()
        yield noise
        for _ in range(400):
            yield b" " * MiB
        yield b" --></resources><build/></model>"

    three_mf(path, chunks())
    with zipfile.ZipFile(path) as archive:
        packed = archive.getinfo(MODEL_PART).compress_size
    declare_unpacked_size(path, packed * 199)
    return path


def big_xml_3mf(path: Path) -> Path:
    """Under 2 MB holding 250 MB of XML: one mesh of plain vertices, a 10 KB pattern over and over."""
    rows = "".join(f'<vertex x="{i % 97}.{i % 13}" y="{i % 89}.5" z="{i % 7}"/>' for i in range(300)).encode()

    def chunks():
        yield f'<?xml version="1.0"?><model unit="millimeter" xmlns="{CORE}"><resources>'.encode()
        yield b'<object id="1" type="model"><mesh><vertices>'
        for _ in range(250 * MiB // len(rows)):
            yield rows
        yield b"</vertices><triangles/></mesh></object></resources><build/></model>"

    return three_mf(path, chunks())


def png_16_bit(path: Path, width: int = 6000, height: int = 6000) -> Path:
    """A 16-bit greyscale PNG of 36 million pixels, a gentle gradient: a few hundred KB."""
    row = b"\0" + np.linspace(0, 65535, width).astype(">u2").tobytes()
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))
    return path
