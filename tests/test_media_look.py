"""3D models shown as authored: standing on the format's up axis, in their own colours, at the size their
author meant (the unit chosen on the entry form), and files over the limit named before and after sending.
"""

import io
import json
import struct

import numpy as np
import pytest
from PIL import Image

from catalogue.contest.viewer import shows_as_authored, triangles_to_glb
from catalogue.media.errors import Deadline
from catalogue.media.gltf import parse_glb
from catalogue.media.meshes import MeshLimits
from catalogue.media.thumbnails import BACKGROUND, render_thumbnail, up_axis
from catalogue.media.validation import validate_upload
from tests.helpers import fixture_bytes
from tests.test_media_models3d import CORE, binary_stl, glb, three_mf

# -- models made here: a box 10 wide, 10 deep and 60 tall, in each format's own idea of "up" ---------------


def box(sx: float, sy: float, sz: float) -> np.ndarray:
    """The 12 triangles of an axis-aligned box from the origin, wound outwards."""
    corners = np.array([[x, y, z] for x in (0, sx) for y in (0, sy) for z in (0, sz)], dtype=np.float32)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    return np.array([corners[[a, b, c]] for a, b, c, d in quads] + [corners[[a, c, d]] for a, b, c, d in quads])


def obj_text(triangles: np.ndarray) -> bytes:
    lines = [f"v {x} {y} {z}" for x, y, z in triangles.reshape(-1, 3)]
    lines += [f"f {3 * i + 1} {3 * i + 2} {3 * i + 3}" for i in range(len(triangles))]
    return ("\n".join(lines) + "\n").encode()


def glb_of(triangles: np.ndarray) -> bytes:
    positions = np.ascontiguousarray(triangles.reshape(-1, 3), dtype="<f4")
    document = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": len(positions), "type": "VEC3"}],
        "bufferViews": [{"buffer": 0, "byteLength": positions.nbytes}],
        "buffers": [{"byteLength": positions.nbytes}],
    }
    return glb(document, positions.tobytes())


def threemf_of(triangles: np.ndarray) -> bytes:
    vertices = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in triangles.reshape(-1, 3))
    faces = "".join(f'<triangle v1="{3 * i}" v2="{3 * i + 1}" v3="{3 * i + 2}"/>' for i in range(len(triangles)))
    return three_mf(
        f'<?xml version="1.0" encoding="UTF-8"?><model unit="millimeter" xmlns="{CORE}"><resources>'
        f'<object id="1" type="model"><mesh><vertices>{vertices}</vertices><triangles>{faces}</triangles>'
        '</mesh></object></resources><build><item objectid="1"/></build></model>'
    )


TALL_MODELS = {
    # name: the file of a tall box as its format stands it up
    "tower.obj": lambda: obj_text(box(10, 60, 10)),  # Y-up, as modelling programs export OBJ
    "tower.stl": lambda: binary_stl(box(10, 10, 60)),  # Z-up
    "tower.glb": lambda: glb_of(box(0.01, 0.06, 0.01)),  # Y-up, in metres
    "tower.3mf": lambda: threemf_of(box(10, 10, 60)),  # Z-up
}


def silhouette(png: bytes) -> tuple[int, int]:
    """Width and height in pixels of what is drawn on the thumbnail's background."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    drawn = np.abs(pixels - BACKGROUND.astype(int)).sum(axis=2) > 12
    rows, columns = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    return int(columns[-1] - columns[0] + 1), int(rows[-1] - rows[0] + 1)


def thumbnail_of(validated) -> bytes:
    return render_thumbnail(validated.triangles, up=up_axis(validated.format), colours=validated.colours)


def viewer_document(data: bytes) -> tuple[dict, bytes]:
    length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + length])
    return document, data[20 + length + 8 :]


def accessor(document: dict, binary: bytes, index: int) -> np.ndarray:
    item = document["accessors"][index]
    view = document["bufferViews"][item["bufferView"]]
    dtype = {5126: "<f4", 5123: "<u2", 5125: "<u4"}[item["componentType"]]
    width = {"SCALAR": 1, "VEC3": 3}[item["type"]]
    values = np.frombuffer(binary, dtype=dtype, count=item["count"] * width, offset=view.get("byteOffset", 0))
    return values.reshape(-1, width) if width > 1 else values


# -- the up axis ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(TALL_MODELS))
def test_a_tall_model_stands_upright_on_its_thumbnail_whatever_its_format(name):
    validated = validate_upload("model", name, TALL_MODELS[name]())
    width, height = silhouette(thumbnail_of(validated))
    assert height > 1.5 * width, (name, width, height)


def test_obj_and_gltf_are_y_up_stl_and_3mf_z_up():
    assert [up_axis(f) for f in ("obj", "glb", "stl", "3mf")] == ["y", "y", "z", "z"]


@pytest.mark.parametrize("name", sorted(TALL_MODELS))
def test_a_tall_model_stands_upright_in_the_viewer(name):
    """The viewer (glTF, Y-up) gets every model with its height along y."""
    validated = validate_upload("model", name, TALL_MODELS[name]())
    document, _ = viewer_document(triangles_to_glb(validated.triangles, up_axis(validated.format)))
    low, high = np.array(document["accessors"][0]["min"]), np.array(document["accessors"][0]["max"])
    width, height, depth = high - low
    assert height > 5 * width and height > 5 * depth, (name, high - low)


# -- colours ----------------------------------------------------------------------------------------------

RED, BLUE = (200, 30, 30), (30, 60, 200)


def two_coloured_square() -> tuple[np.ndarray, np.ndarray]:
    """A 10 mm square of two triangles sharing an edge, the first red, the second blue."""
    triangles = np.array([[[0, 0, 0], [10, 0, 0], [10, 10, 0]], [[0, 0, 0], [10, 10, 0], [0, 10, 0]]], np.float32)
    return triangles, np.array([RED, BLUE], dtype=np.uint8)


def test_the_viewer_model_carries_each_triangles_colour_per_vertex():
    triangles, colours = two_coloured_square()
    data = triangles_to_glb(triangles, "z", colours=colours)
    document, binary = viewer_document(data)
    primitive = document["meshes"][0]["primitives"][0]
    vertex_colours = accessor(document, binary, primitive["attributes"]["COLOR_0"])
    indices = accessor(document, binary, primitive["indices"]).reshape(-1, 3)
    # The shared edge is split: each triangle has its own three vertices, in its own colour
    assert len(vertex_colours) == 6
    first, second = vertex_colours[indices[0]], vertex_colours[indices[1]]
    assert np.allclose(first, first[0]) and np.allclose(second, second[0])
    # Linear RGB, as glTF wants: sRGB 200 is about 0.58, 30 about 0.013
    assert first[0] == pytest.approx([0.578, 0.0130, 0.0130], abs=0.002)
    assert second[0][2] > second[0][0]
    # Colours shown as they are: the material does not tint them
    assert document["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"] == [1.0, 1.0, 1.0, 1.0]
    # Still the same two triangles for any glTF reader
    assert parse_glb(data, "viewer.glb", MeshLimits(), Deadline(10)).shape == (2, 3, 3)


def test_triangles_of_one_colour_still_share_their_vertices():
    triangles, _ = two_coloured_square()
    document, _ = viewer_document(triangles_to_glb(triangles, "z", colours=np.array([RED, RED], dtype=np.uint8)))
    assert document["accessors"][0]["count"] == 4


def test_without_colours_the_viewer_model_is_the_orange_filament():
    triangles, _ = two_coloured_square()
    document, _ = viewer_document(triangles_to_glb(triangles, "z"))
    assert "COLOR_0" not in document["meshes"][0]["primitives"][0]["attributes"]
    assert document["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"][:3] == [0.610, 0.162, 0.042]


def drawn_colour(png: bytes) -> np.ndarray:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).astype(int)
    drawn = pixels[np.abs(pixels - BACKGROUND.astype(int)).sum(axis=1) > 12]
    return drawn.mean(axis=0)


def test_the_thumbnail_is_lit_in_the_models_own_colours():
    triangles, _ = two_coloured_square()
    blue = drawn_colour(render_thumbnail(triangles, colours=np.array([BLUE, BLUE], dtype=np.uint8)))
    assert blue[2] > blue[0] + 40
    orange = drawn_colour(render_thumbnail(triangles))
    assert orange[0] > orange[2] + 40
    # Two colours, both seen
    pixels = np.asarray(Image.open(io.BytesIO(render_thumbnail(triangles, colours=two_coloured_square()[1]))))
    reds = (pixels[..., 0] > pixels[..., 2] + 40).sum()
    blues = (pixels[..., 2] > pixels[..., 0] + 40).sum()
    assert reds > 1000 and blues > 1000


def test_a_glb_with_its_own_materials_is_shown_as_authored_and_a_plain_one_is_not():
    cube = validate_upload("model", "cube.glb", fixture_bytes("cube.glb"))  # one grey material
    assert shows_as_authored(cube.data)
    assert not shows_as_authored(validate_upload("model", "monkey.glb", fixture_bytes("monkey.glb")).data)


def test_a_glb_whose_textures_live_elsewhere_gets_the_plain_copy():
    document, binary = viewer_document(glb_of(box(0.01, 0.01, 0.01)))
    document["materials"] = [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}]
    document["textures"] = [{"source": 0}]
    document["images"] = [{"uri": "https://example.com/skin.png"}]
    assert not shows_as_authored(glb(document, binary))
    document["images"] = [{"bufferView": 0, "mimeType": "image/png"}]
    assert shows_as_authored(glb(document, binary))
    document["extensionsRequired"] = ["KHR_texture_basisu"]
    assert not shows_as_authored(glb(document, binary))
