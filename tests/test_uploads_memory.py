"""Small crafted files cannot make validation take much memory: the peak of each is measured in a fresh process.

Each file is validated (and a model's thumbnail rendered) in a child Python process that reports its resident
size once the modules are imported (idle) and its peak afterwards; the difference must stay under ``BOUND``.
Hostile files may be refused for any of their faults (which comes first depends on the machine's speed).
Run this file with ``-s`` to see the figures: ``.venv/bin/python -m pytest -s -q tests/test_uploads_memory.py``.
"""

import base64
import json
import random
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

MiB = 1024 * 1024
BOUND = 300 * MiB
CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/></Types>'
)
MODEL_PART = "3D/3dmodel.model"

CHILD = """
import json, sys
from catalogue.media.errors import UploadError
from catalogue.media.thumbnails import render_thumbnail
from catalogue.media.validation import validate_upload


def status(field):
    # Kilobytes. VmHWM is this program's own peak (getrusage's maxrss would keep the parent's across exec).
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field + ":"))


kind, path = sys.argv[1], sys.argv[2]
# Idle: the resident size now, with everything imported (the peak so far may be higher: that only adds).
idle = status("VmRSS")
with open(path, "rb") as stream:
    try:
        upload = validate_upload(kind, path.rsplit("/", 1)[-1], stream)
        if upload.triangles is not None:
            render_thumbnail(upload.triangles, (480, 360))
        outcome = "accepted"
    except UploadError as e:
        outcome = str(e)
peak = status("VmHWM")
print(json.dumps({"idle": idle * 1024, "peak": peak * 1024, "outcome": outcome}))
"""


def peak_above_idle(kind: str, path: Path) -> tuple[int, str]:
    """Bytes the validation of ``path`` added to a fresh process's peak (modules already imported), and its outcome."""
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path)], capture_output=True, text=True, cwd=root, check=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["peak"] - report["idle"], report["outcome"]


def three_mf(path: Path, model_chunks) -> Path:
    """A 3MF whose model part is written from ``model_chunks``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        with archive.open(MODEL_PART, "w", force_zip64=False) as part:
            for chunk in model_chunks:
                part.write(chunk)
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
    """About 1 MB: a 3MF whose directory declares 200 times the packed size, while the part unpacks to far more."""
    rng = random.Random(7)
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


def obj_with_one_giant_face(path: Path) -> Path:
    """A 45 MB OBJ: three vertices, then a single face line naming them six million times."""
    with path.open("wb") as stream:
        stream.write(b"v 0 0 0\nv 10 0 0\nv 0 10 0\nf")
        stream.write(b" 1 2 3" * 2_500_000)
        stream.write(b" 1 2 3" * 2_500_000 + b"\n")
    return path


def dense_binary_stl(path: Path, triangles: int = 1_000_000) -> Path:
    """A real 50 MB binary STL (a million triangles of a noisy sphere): the largest ordinary model."""
    rng = np.random.default_rng(3)
    corners = rng.normal(size=(triangles, 3, 3)).astype("<f4")
    corners /= np.linalg.norm(corners, axis=2, keepdims=True) / 50
    records = np.zeros(triangles, dtype=[("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    records["corners"] = corners
    path.write_bytes(b"\0" * 80 + struct.pack("<I", triangles) + records.tobytes())
    return path


TOO_SLOW = "не удалось проверить за 15 секунд"


def dense_glb(path: Path, vertices: int = 1_000_000, triangles: int = 1_999_000) -> Path:
    """A 34 MB GLB of almost two million indexed triangles: the most a model may have."""
    rng = np.random.default_rng(5)
    positions = rng.normal(size=(vertices, 3)).astype("<f4")
    positions /= np.linalg.norm(positions, axis=1, keepdims=True) / 50
    indices = rng.integers(0, vertices, size=(triangles, 3)).astype("<u4")
    binary = positions.tobytes() + indices.tobytes()
    document = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1, "mode": 4}]}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": positions.nbytes},
            {"buffer": 0, "byteOffset": positions.nbytes, "byteLength": indices.nbytes},
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": vertices,
                "type": "VEC3",
                "min": positions.min(axis=0).tolist(),
                "max": positions.max(axis=0).tolist(),
            },
            {"bufferView": 1, "componentType": 5125, "count": indices.size, "type": "SCALAR"},
        ],
    }
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    chunks = struct.pack("<I", len(text)) + b"JSON" + text + struct.pack("<I", len(binary)) + b"BIN\0" + binary
    path.write_bytes(b"glTF" + struct.pack("<II", 2, 12 + len(chunks)) + chunks)
    return path


CASES = {
    "lying-directory.3mf": ("model", lying_zip, ("слишком длинный фрагмент", TOO_SLOW)),
    "250mb-of-xml.3mf": ("model", big_xml_3mf, ("слишком детальная", TOO_SLOW)),
    "16-bit.png": ("image", png_16_bit, ("accepted",)),
    "giant-face.obj": ("model", obj_with_one_giant_face, ("строка длиннее 64 КБ",)),
    "million-triangles.stl": ("model", dense_binary_stl, ("accepted",)),
    "two-million-triangles.glb": ("model", dense_glb, ("accepted",)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_validating_a_crafted_file_stays_within_300_mb_above_idle(name, tmp_path):
    kind, make, expected = CASES[name]
    path = make(tmp_path / name)
    above, outcome = peak_above_idle(kind, path)
    print(f"\n{name}: {path.stat().st_size / MiB:.1f} MB file, peak {above / MiB:.0f} MB above idle; {outcome}")
    assert any(reason in outcome for reason in expected)
    assert above < BOUND
