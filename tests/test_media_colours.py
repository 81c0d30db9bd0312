"""Colours authored in a model are read in the same parse as its triangles: one sRGB colour per triangle.

OBJ vertex colours, 3MF colour groups and base materials (per object or per triangle), and glTF base colours
and vertex colours come out as ``ValidatedUpload.colours``, an ``(n, 3)`` uint8 array; a file without colours
gives None, so that the site keeps its own filament colour for it.
"""

import numpy as np
import pytest

from tests.test_media_models3d import CORE, glb, model, three_mf, triangle_document

MATERIAL = "http://schemas.microsoft.com/3dmanufacturing/material/2015/02"
SQUARE_VERTICES = "v 0 0 0 1 0 0\nv 10 0 0 1 0 0\nv 10 10 0 0 0 1\nv 0 10 0 0 0 1\n"


def colours_of(name: str, data: bytes | None = None) -> list | None:
    colours = model(name, data).colours
    return None if colours is None else colours.tolist()


@pytest.mark.parametrize("name", ["20mm-xyz-cube.stl", "teapot.stl", "box.obj", "fuze.obj", "monkey.glb"])
def test_real_models_without_colours_have_none(name):
    assert colours_of(name) is None


def test_the_real_3mf_gives_its_colour_group_to_every_triangle():
    # pyramids.3mf: each object refers to a colour group of one grey, #9e9e9e
    colours = model("pyramids.3mf").colours
    assert colours.shape == (3276, 3) and colours.dtype == np.uint8
    assert np.unique(colours, axis=0).tolist() == [[158, 158, 158]]


# -- OBJ ----------------------------------------------------------------------------------------


def test_obj_vertex_colours_become_the_mean_colour_of_each_triangle():
    # Two red corners and a blue one, then one red and two blue
    data = (SQUARE_VERTICES + "f 1 2 3\nf 1 3 4\n").encode()
    assert colours_of("square.obj", data) == [[170, 0, 85], [85, 0, 170]]


def test_obj_colours_read_line_by_line_match_the_fast_reading():
    # Negative indices send the file to the line-by-line reader
    data = (SQUARE_VERTICES + "f -4 -3 -2\nf -4 -2 -1\n").encode()
    assert colours_of("square.obj", data) == [[170, 0, 85], [85, 0, 170]]


def test_obj_colours_in_0_to_255_and_uncoloured_vertices():
    data = b"v 0 0 0 255 255 255\nv 10 0 0 255 255 255\nv 0 10 0 255 255 255\nv 0 0 10\nf 1 2 3\nf 1 2 4\n"
    # The vertex without a colour takes the site's filament colour (205, 112, 58)
    assert colours_of("mixed.obj", data) == [[255, 255, 255], [238, 207, 189]]


def test_obj_with_a_weight_after_the_position_has_no_colours():
    assert colours_of("weighted.obj", b"v 0 0 0 1\nv 1 0 0 1\nv 0 1 0 1\nf 1 2 3\n") is None


# -- 3MF ----------------------------------------------------------------------------------------

VERTICES = "".join(f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in [(0, 0, 0), (10, 0, 0), (0, 10, 0), (0, 0, 10)])


def coloured_3mf(triangles: str, object_attributes: str = "") -> bytes:
    return three_mf(
        f'<?xml version="1.0"?><model unit="millimeter" xmlns="{CORE}" xmlns:m="{MATERIAL}"><resources>'
        '<basematerials id="2"><base name="red" displaycolor="#FF0000"/><base name="green" displaycolor="#00FF0080"/>'
        '</basematerials><m:colorgroup id="3"><m:color color="#0000FF"/><m:color color="#FFFF00"/></m:colorgroup>'
        f'<object id="1" type="model"{object_attributes}><mesh><vertices>{VERTICES}</vertices>'
        f'<triangles>{triangles}</triangles></mesh></object></resources><build><item objectid="1"/></build></model>'
    )


def test_3mf_triangles_take_their_objects_material():
    triangles = '<triangle v1="0" v2="2" v3="1"/><triangle v1="0" v2="1" v3="3"/>'
    assert colours_of("red.3mf", coloured_3mf(triangles, ' pid="2" pindex="0"')) == [[255, 0, 0], [255, 0, 0]]


def test_3mf_triangles_choose_their_own_colour_from_a_material_or_a_colour_group():
    triangles = (
        '<triangle v1="0" v2="2" v3="1" pid="3" p1="1"/>'  # yellow from the colour group
        '<triangle v1="0" v2="1" v3="3" p1="1"/>'  # green from the object's materials
        '<triangle v1="0" v2="3" v3="2"/>'  # the object's own: red
        '<triangle v1="1" v2="2" v3="3" pid="3" p1="0" p2="0" p3="0"/>'  # blue
    )
    expected = [[255, 255, 0], [0, 255, 0], [255, 0, 0], [0, 0, 255]]
    assert colours_of("painted.3mf", coloured_3mf(triangles, ' pid="2" pindex="0"')) == expected


def test_3mf_colours_of_triangles_read_by_expat_match():
    # Attributes in an unusual order do not fit the fast reading: expat reads these triangles one by one
    triangles = '<triangle p1="1" pid="3" v1="0" v2="2" v3="1"/><triangle pid="2" v3="3" v2="1" v1="0"/>'
    assert colours_of("painted.3mf", coloured_3mf(triangles)) == [[255, 255, 0], [255, 0, 0]]


def test_3mf_without_colour_references_has_none():
    triangles = '<triangle v1="0" v2="2" v3="1"/><triangle v1="0" v2="1" v3="3"/>'
    assert colours_of("plain.3mf", coloured_3mf(triangles)) is None


def test_3mf_triangles_without_a_colour_in_a_coloured_model_take_the_filament_colour():
    triangles = '<triangle v1="0" v2="2" v3="1" pid="2" p1="0"/><triangle v1="0" v2="1" v3="3"/>'
    assert colours_of("half.3mf", coloured_3mf(triangles)) == [[255, 0, 0], [205, 112, 58]]


# -- GLB ----------------------------------------------------------------------------------------


def coloured_glb(material: dict | None = None, vertex_colours: np.ndarray | None = None, component: int = 5126):
    document, binary = triangle_document()
    primitive = document["meshes"][0]["primitives"][0]
    if material is not None:
        document["materials"] = [material]
        primitive["material"] = 0
    if vertex_colours is not None:
        offset = len(binary)
        colour_bytes = vertex_colours.tobytes()
        binary += colour_bytes
        document["bufferViews"].append({"buffer": 0, "byteOffset": offset, "byteLength": len(colour_bytes)})
        kind = "VEC4" if vertex_colours.shape[1] == 4 else "VEC3"
        document["accessors"].append(
            {"bufferView": 1, "componentType": component, "count": 3, "type": kind, "normalized": component != 5126}
        )
        primitive["attributes"]["COLOR_0"] = 1
        document["buffers"][0]["byteLength"] = len(binary)
    return glb(document, binary)


def test_glb_base_colour_factor_is_linear_and_comes_out_as_srgb():
    material = {"pbrMetallicRoughness": {"baseColorFactor": [0.2159, 0.0, 1.0, 1.0]}}
    # Linear 0.2159 is sRGB 128
    assert colours_of("red.glb", coloured_glb(material)) == [[128, 0, 255]]


def test_glb_material_without_a_factor_is_white():
    assert colours_of("white.glb", coloured_glb({"pbrMetallicRoughness": {}})) == [[255, 255, 255]]


def test_glb_vertex_colours_times_the_base_colour():
    linear = np.array([[1, 0, 0, 1], [1, 0, 0, 1], [0, 0, 1, 1]], dtype="<f4")
    material = {"pbrMetallicRoughness": {"baseColorFactor": [1.0, 1.0, 0.5, 1.0]}}
    # The mean corner is linear (2/3, 0, 1/6): sRGB (213, 0, 113)
    assert colours_of("painted.glb", coloured_glb(material, linear)) == [[213, 0, 113]]


def test_glb_vertex_colours_as_normalised_bytes():
    vertex_colours = np.array([[255, 255, 255], [255, 255, 255], [255, 255, 255]], dtype="u1")
    assert colours_of("white.glb", coloured_glb(None, vertex_colours, component=5121)) == [[255, 255, 255]]


def test_glb_without_materials_or_vertex_colours_has_none():
    assert colours_of("plain.glb", coloured_glb()) is None
