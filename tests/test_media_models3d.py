"""3D models: real files from other tools, hostile files made here, model facts, and thumbnails."""

import contextlib
import io
import json
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from catalogue.media.meshes import MeshLimits
from catalogue.media.thumbnails import render_thumbnail
from catalogue.media.validation import UploadError, validate_upload
from tests.helpers import fixture_bytes

CORE = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def model(name: str, data: bytes | None = None, **kw):
    return validate_upload("model", name, fixture_bytes(name) if data is None else data, **kw)


def binary_stl(triangles: np.ndarray, header: bytes = b"") -> bytes:
    records = np.zeros(len(triangles), dtype=[("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    records["corners"] = triangles
    return header.ljust(80, b"\0") + struct.pack("<I", len(triangles)) + records.tobytes()


def glb(document: dict, binary: bytes = b"") -> bytes:
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(text), 0x4E4F534A) + text
    if binary:
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


TRIANGLE = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype="<f4")


def triangle_document(positions=TRIANGLE, node=None, mode=None, **accessor) -> tuple[dict, bytes]:
    """A glTF document with one mesh of ``positions`` in one node, and its binary buffer."""
    binary = np.asarray(positions, dtype="<f4").tobytes()
    primitive = {"attributes": {"POSITION": 0}} | ({"mode": mode} if mode is not None else {})
    document = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0} | (node or {})],
        "meshes": [{"primitives": [primitive]}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": len(positions), "type": "VEC3"} | accessor],
        "bufferViews": [{"buffer": 0, "byteLength": len(binary)}],
        "buffers": [{"byteLength": len(binary)}],
    }
    return document, binary


def triangle_glb(**kw) -> bytes:
    return glb(*triangle_document(**kw))


def three_mf(model_xml: str | bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("3D/3dmodel.model", model_xml)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tetrahedron_xml(unit: str = "millimeter", transform: str = "") -> str:
    vertices = "".join(
        f'<vertex x="{x}" y="{y}" z="{z}"/>' for x, y, z in [(0, 0, 0), (10, 0, 0), (0, 10, 0), (0, 0, 10)]
    )
    triangles = "".join(
        f'<triangle v1="{a}" v2="{b}" v3="{c}"/>' for a, b, c in [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]
    )
    item = f'<item objectid="1" transform="{transform}"/>' if transform else '<item objectid="1"/>'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><model unit="{unit}" xmlns="{CORE}"><resources>'
        f'<object id="1" type="model"><mesh><vertices>{vertices}</vertices><triangles>{triangles}</triangles>'
        f"</mesh></object></resources><build>{item}</build></model>"
    )


# -- the real files ---------------------------------------------------------------------------

EXPECTED = {
    # name: (format, triangles, size in mm, watertight)
    "20mm-xyz-cube.stl": ("stl", 260, (20.0, 20.0, 20.0), True),
    "teapot.stl": ("stl", 894, (63.17, 39.31, 29.48), False),
    "busted.STL": ("stl", 3878, (10.68, 11.38, 9.57), True),
    "multibody.stl": ("stl", 32, (0.64, 1.09, 0.34), True),
    "two_objects_mixed_case_names.stl": ("stl", 24, (6.0, 1.0, 1.0), True),
    "fuze.obj": ("obj", 1000, (0.07, 0.07, 0.22), True),
    "box.obj": ("obj", 12, (2.0, 2.0, 2.0), True),
    "monkey.glb": ("glb", 968, (2734.38, 1968.75, 1703.12), False),
    "cube.glb": ("glb", 12, (2000.0, 2000.0, 2000.0), True),
    "pyramids.3mf": ("3mf", 3276, (346.73, 163.08, 25.0), True),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_model_is_accepted_with_its_facts(name):
    file_format, triangles, size, watertight = EXPECTED[name]
    upload = model(name)
    assert upload.format == file_format and upload.kind == "model"
    assert upload.facts["triangles"] == triangles
    assert upload.facts["size_mm"] == pytest.approx(size, abs=0.01)
    assert upload.facts["watertight"] is watertight
    assert upload.triangles.shape == (triangles, 3, 3)


def test_calibration_cube_has_the_volume_of_a_cube_minus_its_engraved_letters():
    assert model("20mm-xyz-cube.stl").facts["volume_mm3"] == pytest.approx(7938.68, rel=1e-4)


def test_open_mesh_has_no_volume():
    assert "volume_mm3" not in model("teapot.stl").facts


def cube_triangles(side: float = 10.0) -> np.ndarray:
    """The 12 triangles of a cube, wound outwards, each with its own copy of its corners (as in a binary STL)."""
    corners = np.array([[x, y, z] for x in (0, side) for y in (0, side) for z in (0, side)], dtype=np.float32)
    faces = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1)]
    faces += [(2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]
    return corners[np.array(faces)]


def with_cad_noise(triangles: np.ndarray) -> np.ndarray:
    """Every zero written as a CAD export writes it: +1e-16, -1e-16 or 0, differently in each triangle."""
    noisy = triangles.copy()
    noise = np.random.default_rng(7).choice(np.array([-1e-16, 0.0, 1e-16], dtype=np.float32), size=noisy.shape)
    noisy[noisy == 0] = noise[noisy == 0]
    return noisy


def test_cad_export_with_noise_for_zeros_is_a_closed_mesh_with_its_volume():
    noisy = with_cad_noise(cube_triangles())
    assert len(np.unique(noisy.reshape(-1, 3), axis=0)) > 8  # bit for bit, the corners no longer meet
    upload = model("cad.stl", binary_stl(noisy))
    assert upload.facts["watertight"] is True
    assert upload.facts["volume_mm3"] == pytest.approx(1000.0)


def test_a_lathed_model_on_a_regular_grid_welds_each_position_once():
    from benchmarks.crafted_models import torus
    from catalogue.media.geometry import merged_faces

    # A torus of 20,000 triangles: its vertices lie on a regular grid of whole cells (hashing their float bits
    # folded them together by the thousand, at a cost in time and memory measured in test_uploads_memory.py)
    vertices, faces = torus(20_000)
    triangles = vertices.astype(np.float32)[faces]
    assert len(np.unique(merged_faces(triangles))) == len(vertices)
    upload = model("torus.stl", binary_stl(triangles))
    assert upload.facts["watertight"] is True
    # 2π²Rr² for R = 40 mm, r = 10 mm, less what 100 flat segments cut off
    assert upload.facts["volume_mm3"] == pytest.approx(2 * np.pi**2 * 40 * 10**2, rel=2e-3)


def test_cad_export_with_a_face_missing_is_still_open():
    upload = model("open.stl", binary_stl(with_cad_noise(cube_triangles())[:-2]))
    assert upload.facts["watertight"] is False
    assert "volume_mm3" not in upload.facts


def test_stl_a_few_millimetres_across_is_taken_as_millimetres_without_a_warning():
    upload = model("cube.stl", binary_stl(cube_triangles(10.0)))
    assert upload.facts["size_mm"] == [10.0, 10.0, 10.0]
    assert "warnings" not in upload.facts


@pytest.mark.parametrize(("side", "shown"), [(0.05, "0,05 мм"), (2500.0, "2500 мм")])
def test_stl_whose_size_looks_like_metres_or_inches_is_measured_in_mm_with_a_warning(side, shown):
    upload = model("tiny.stl", binary_stl(cube_triangles(side)))
    assert upload.facts["size_mm"] == pytest.approx([side] * 3)
    assert upload.facts["volume_mm3"] == pytest.approx(side**3, rel=1e-5)
    assert upload.facts["warnings"] == [
        f"Похоже, модель сохранена не в миллиметрах: её наибольшая сторона — {shown}. "
        "В STL и OBJ единицы не записываются, и сайт считает их миллиметрами; если модель сделана в метрах "
        "или дюймах, сохраните её в миллиметрах и загрузите снова."
    ]


def test_obj_in_metres_gets_the_warning_too():
    assert "в миллиметрах" in model("fuze.obj").facts["warnings"][0]


@pytest.mark.parametrize("name", ["empty.stl", "stl_empty_bin.stl"])
def test_model_without_geometry_is_refused(name):
    with pytest.raises(UploadError) as refused:
        model(name)
    assert str(refused.value) == f"В файле «{name}» нет ни одного треугольника: модель пустая."


def test_binary_stl_whose_header_says_solid_is_still_binary():
    cube = fixture_bytes("20mm-xyz-cube.stl")
    upload = model("cube.stl", b"solid cube exported by a CAD tool".ljust(80, b" ") + cube[80:])
    assert upload.facts["triangles"] == 260


def test_model_extension_follows_the_content():
    assert model("model.obj", fixture_bytes("teapot.stl")).filename == "model.stl"


# -- hostile STL ------------------------------------------------------------------------------


NOT_RECOGNISED = (
    "Формат не распознан: нужен STL, OBJ, GLB или 3MF. Файл «{}» не похож ни на один из них: сохраните модель "
    "в одном из этих форматов из программы 3D-моделирования и загрузите снова."
)


def zipped_stl() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("model.stl", fixture_bytes("20mm-xyz-cube.stl"))
    return buffer.getvalue()


STEP = (
    b"ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION(('bracket'),'2;1');\nENDSEC;\n"
    b"DATA;\n#1=CARTESIAN_POINT('',(0.,0.,0.));\n"
)
# A .blend file begins so, and its binary blocks follow: bytes 80-83 read as an STL count of 2589780400.
BLEND = b"BLENDER-v300REND" + bytes(range(64)) + struct.pack("<I", 2589780400) + b"\0\1\2" * 1000


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("archive.stl", zipped_stl),
        ("scene.stl", lambda: BLEND),
        ("bracket.stl", lambda: STEP),
        (
            "page.stl",
            lambda: b"<!DOCTYPE html><html><head><title>Model</title></head><body><p>not a model</p></body></html>",
        ),
        ("liar.stl", lambda: b"\0" * 80 + struct.pack("<I", 10**8) + b"\0" * 50),
        ("cut.stl", lambda: fixture_bytes("20mm-xyz-cube.stl")[:1000]),
        ("cut-solid.stl", lambda: b"solid part".ljust(80, b" ") + fixture_bytes("20mm-xyz-cube.stl")[80:5000]),
    ],
)
def test_a_file_in_no_model_format_is_refused_as_not_recognised(name, make):
    # A binary STL must be exactly 84 + 50 × n bytes: any other binary file is not an STL, whatever its
    # bytes 80-83 would claim as a triangle count.
    with pytest.raises(UploadError) as refused:
        model(name, make())
    assert str(refused.value) == NOT_RECOGNISED.format(name)
    assert "заявлено" not in str(refused.value)


def test_pdf_renamed_to_stl_is_named_for_what_it_is():
    with pytest.raises(UploadError, match="это документ PDF"):
        model("drawing.stl", b"%PDF-1.7\n%%EOF\n")


def test_too_many_triangles_are_refused_before_reading_them():
    data = binary_stl(np.zeros((11, 3, 3), dtype=np.float32))
    with pytest.raises(UploadError, match="слишком детальная: допускается не больше 10 треугольников"):
        model("dense.stl", data, mesh_limits=MeshLimits(max_triangles=10))


def test_stl_with_nan_coordinates_is_refused():
    triangles = np.zeros((1, 3, 3), dtype=np.float32)
    triangles[0, 1, 0] = np.nan
    with pytest.raises(UploadError, match="недопустимые значения"):
        model("nan.stl", binary_stl(triangles))


@pytest.mark.parametrize("far", [2e6, -1.5e6])
def test_stl_with_coordinates_beyond_a_kilometre_is_refused(far):
    triangles = cube_triangles(10.0)
    triangles[0, 0, 2] = far
    with pytest.raises(UploadError) as refused:
        model("far.stl", binary_stl(triangles))
    assert str(refused.value) == (
        "Модель «far.stl» не принята: координаты её вершин выходят за ±1\u00a0000\u00a0000 мм (километр от начала "
        "координат). Проверьте единицы измерения и положение модели и загрузите снова."
    )


def test_glb_a_few_kilometres_across_is_refused_after_conversion_to_millimetres():
    with pytest.raises(UploadError, match="выходят за ±1\u00a0000\u00a0000 мм"):
        model("city.glb", triangle_glb(node={"scale": [2000, 1, 1]}))


def test_stl_up_to_a_kilometre_from_the_origin_is_accepted():
    triangles = cube_triangles(10.0) + np.float32(999_000.0)
    assert model("far.stl", binary_stl(triangles)).facts["size_mm"] == pytest.approx([10.0] * 3, abs=0.1)


def test_ascii_stl_with_words_for_numbers_is_refused():
    text = b"solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex one 0 0\nvertex 0 1 0\nendloop\nendfacet\n"
    with pytest.raises(UploadError, match="не читаются как числа"):
        model("words.stl", text + b"endsolid x\n")


def test_oversize_model_is_refused():
    with pytest.raises(UploadError, match=r"Файл «big\.stl» больше 1 КБ"):
        model("big.stl", fixture_bytes("20mm-xyz-cube.stl"), max_size=1024)


# -- OBJ --------------------------------------------------------------------------------------


def test_obj_polygons_are_fanned_and_negative_indices_count_back():
    text = b"mtllib missing.mtl\nv 0 0 0\nv 4 0 0\nv 4 3 0\nv 0 3 0\nusemtl skin\nf -4 -3 -2 -1\nf 1/1 2/2 3/3\n"
    upload = model("quad.obj", text)
    assert upload.facts["triangles"] == 3
    assert upload.facts["size_mm"] == [4.0, 3.0, 0.0]


def test_obj_fast_reading_matches_the_line_by_line_reader():
    from catalogue.media import meshes
    from catalogue.media.errors import Deadline

    data = fixture_bytes("fuze.obj")
    line_by_line = meshes._ObjReader("fuze.obj", MeshLimits(), Deadline(10)).read(data).triangles
    fast = meshes._parse_obj_fast(data, "fuze.obj", MeshLimits(), Deadline(10)).triangles
    assert np.array_equal(fast, line_by_line)


def test_obj_with_indented_lines_is_read_whole():
    upload = model("indented.obj", b"  v 0 0 0\n  v 1 0 0\n  v 0 1 0\n  v 0 0 1\n  f 1 2 3\n\tf 1 2 4\n")
    assert upload.facts["triangles"] == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", "несуществующие вершины"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 0 1 2\n", "задана неверно"),
        (b"v 0 0 0\nv 1 0 x\n", "не читается как вершина"),
        (b"v 0 0 0\nv 1 0 0\nv 0 1 0\n", "нет ни одного треугольника"),
    ],
)
def test_broken_obj_is_refused_with_the_reason(text, reason):
    with pytest.raises(UploadError, match=reason):
        model("broken.obj", text)


# -- GLB --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["monkey.glb", "cube.glb"])
def test_glb_is_measured_in_millimetres_from_its_metres(name):
    data = fixture_bytes(name)
    (length,) = struct.unpack_from("<I", data, 12)
    document = json.loads(data[20 : 20 + length])
    positions = document["accessors"][document["meshes"][0]["primitives"][0]["attributes"]["POSITION"]]
    metres = np.subtract(positions["max"], positions["min"])
    upload = model(name)
    assert upload.facts["size_mm"] == pytest.approx(metres * 1000, rel=1e-5)
    assert "warnings" not in upload.facts


def test_glb_node_transforms_are_applied():
    upload = model("moved.glb", triangle_glb(node={"scale": [10, 20, 1], "translation": [100, 0, 0]}))
    assert upload.facts["size_mm"] == [10000.0, 20000.0, 0.0]
    assert upload.triangles[0, 1, 0] == pytest.approx(110000.0)


def test_glb_matrix_is_read_column_by_column():
    matrix = [2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1, 0, 5, 0, 0, 1]
    upload = model("matrix.glb", triangle_glb(node={"matrix": matrix}))
    assert upload.facts["size_mm"] == [2000.0, 3000.0, 0.0]
    assert upload.triangles[:, :, 0].min() == pytest.approx(5000.0)


def test_glb_accessor_that_claims_more_than_the_buffer_holds_is_refused():
    with pytest.raises(UploadError, match="выходят за пределы файла"):
        model("liar.glb", triangle_glb(count=10**9))


def test_glb_accessor_offset_past_the_buffer_is_refused():
    with pytest.raises(UploadError, match="выходят за пределы файла"):
        model("liar.glb", triangle_glb(byteOffset=4))


def test_glb_with_an_external_buffer_is_refused():
    document, binary = triangle_document()
    document["buffers"][0]["uri"] = "https://example.com/model.bin"
    with pytest.raises(UploadError, match="ссылается на внешние файлы"):
        model("external.glb", glb(document, binary))


def test_glb_cut_short_is_refused():
    with pytest.raises(UploadError, match="не совпадает с размером файла"):
        model("cut.glb", fixture_bytes("monkey.glb")[:20000])


def test_glb_with_a_cycle_in_its_nodes_is_refused():
    document = {
        "asset": {"version": "2.0"},
        "scenes": [{"nodes": [0]}],
        "nodes": [{"children": [1]}, {"children": [0]}],
    }
    with pytest.raises(UploadError, match="зациклена"):
        model("loop.glb", glb(document))


def test_glb_of_version_one_is_refused():
    data = bytearray(fixture_bytes("cube.glb"))
    data[4:8] = struct.pack("<I", 1)
    with pytest.raises(UploadError, match=r"только glTF версии 2\.0"):
        model("old.glb", bytes(data))


def test_glb_triangle_strip_is_read():
    square = [[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]]
    assert model("strip.glb", triangle_glb(positions=square, mode=5)).facts["triangles"] == 2


def test_glb_points_are_not_triangles():
    with pytest.raises(UploadError, match="нет ни одного треугольника"):
        model("points.glb", triangle_glb(mode=0))


# -- 3MF --------------------------------------------------------------------------------------


def test_3mf_units_are_converted_to_millimetres():
    upload = model("part.3mf", three_mf(tetrahedron_xml(unit="centimeter")))
    assert upload.facts["size_mm"] == [100.0, 100.0, 100.0]
    assert upload.facts["watertight"] is True
    assert upload.facts["volume_mm3"] == pytest.approx(100**3 / 6, rel=1e-5)


def test_3mf_build_transform_is_applied():
    upload = model("moved.3mf", three_mf(tetrahedron_xml(transform="2 0 0 0 1 0 0 0 1 50 0 0")))
    assert upload.facts["size_mm"] == [20.0, 10.0, 10.0]
    assert upload.triangles[:, :, 0].min() == pytest.approx(50.0)


def test_3mf_with_a_doctype_is_refused():
    # The "billion laughs": entities that expand to gigabytes
    lol = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>'
    xml = tetrahedron_xml().replace('<?xml version="1.0" encoding="UTF-8"?>', f'<?xml version="1.0"?>{lol}')
    with pytest.raises(UploadError, match="DOCTYPE или сущности"):
        model("lol.3mf", three_mf(xml))


def test_3mf_external_entity_is_refused():
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY e SYSTEM "file:///etc/passwd">]><model xmlns="{CORE}">&e;</model>'
    )
    with pytest.raises(UploadError, match="DOCTYPE или сущности"):
        model("xxe.3mf", three_mf(xml))


def test_3mf_zip_bomb_is_refused():
    # 80 MB of spaces inside the model part compress to almost nothing
    xml = tetrahedron_xml().encode().replace(b"<resources>", b"<resources>" + b" " * (80 * 1024 * 1024))
    data = three_mf(xml)
    assert len(data) < 500_000
    with pytest.raises(UploadError, match="zip-бомб"):
        model("bomb.3mf", data)


def test_3mf_triangle_pointing_past_its_vertices_is_refused():
    xml = tetrahedron_xml().replace('v3="3"/>', 'v3="99"/>', 1)
    with pytest.raises(UploadError, match="несуществующие вершины"):
        model("bad.3mf", three_mf(xml))


def test_3mf_component_in_another_part_is_read():
    # Bambu Studio writes each object into its own part and refers to it with p:path
    production = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
    main = (
        f'<?xml version="1.0"?><model unit="millimeter" xmlns="{CORE}" xmlns:p="{production}"><resources>'
        '<object id="2" type="model"><components><component p:path="/3D/Objects/object_1.model" objectid="1"/>'
        '</components></object></resources><build><item objectid="2"/></build></model>'
    )
    data = three_mf(main, {"3D/Objects/object_1.model": tetrahedron_xml().encode()})
    assert model("bambu.3mf", data).facts["triangles"] == 4


def test_3mf_plain_runs_read_ahead_match_the_element_by_element_reading(monkeypatch):
    from catalogue.media import threemf

    fast = model("pyramids.3mf").triangles
    monkeypatch.setattr(threemf, "_run_rows", lambda run, tag: None)
    assert np.array_equal(model("pyramids.3mf").triangles, fast)


def test_3mf_mesh_with_a_comment_is_read_element_by_element():
    xml = tetrahedron_xml().replace("<vertices>", "<vertices><!-- exported by hand -->")
    assert model("commented.3mf", three_mf(xml)).facts["triangles"] == 4


def test_3mf_with_too_many_triangles_is_refused():
    with pytest.raises(UploadError, match="слишком детальная"):
        model("dense.3mf", three_mf(tetrahedron_xml()), mesh_limits=MeshLimits(max_triangles=3))


def test_zip_that_is_not_3mf_is_not_a_model():
    with pytest.raises(UploadError) as refused:
        model("zipped.3mf", zipped_stl())
    assert str(refused.value) == NOT_RECOGNISED.format("zipped.3mf")


# -- nothing but UploadError ------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.one_of(
        st.binary(max_size=2048),
        st.binary(max_size=300).map(lambda b: b"solid " + b),
        st.binary(max_size=300).map(lambda b: b"glTF" + b),
        st.binary(max_size=300).map(lambda b: b"v 1 2 3\nf " + b),
        st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),
    )
)
def test_random_bytes_as_a_model_raise_only_upload_errors(data):
    with contextlib.suppress(UploadError):
        validate_upload("model", "random.stl", data)


def test_a_glb_whose_coordinates_overflow_is_refused_by_name():
    """A damaged byte made a vertex 1e37 metres away: in millimetres it overflows to infinity. The person is told the
    file is damaged (numpy's overflow warning is an error in the tests, so it would fail here)."""
    data = bytearray(fixture_bytes("cube.glb"))
    data[178293 % len(data)] = 123  # found by the property test below
    with pytest.raises(UploadError, match="повреждён: среди координат вершин есть недопустимые значения"):
        validate_upload("model", "cube.glb", bytes(data))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_a_corrupted_byte_in_a_real_glb_raises_only_upload_errors(position, value):
    data = bytearray(fixture_bytes("cube.glb"))
    data[position % len(data)] = value
    with contextlib.suppress(UploadError):
        validate_upload("model", "cube.glb", bytes(data))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(list(b'<>/"= -0123456789.xyzv&;!'))), min_size=1, max_size=6
    )
)
def test_a_mangled_3mf_model_part_raises_only_upload_errors(edits):
    xml = bytearray(tetrahedron_xml().encode())
    for position, value in edits:
        xml[position % len(xml)] = value
    with contextlib.suppress(UploadError):
        validate_upload("model", "mangled.3mf", three_mf(bytes(xml)))


# -- thumbnails -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "up"), [("20mm-xyz-cube.stl", "z"), ("teapot.stl", "z"), ("monkey.glb", "y")])
def test_thumbnail_is_a_png_of_the_right_size_showing_the_model(name, up):
    png = render_thumbnail(model(name).triangles, (480, 360), up=up)
    with Image.open(io.BytesIO(png)) as picture:
        assert (picture.format, picture.size) == ("PNG", (480, 360))
        pixels = np.asarray(picture.convert("RGB"), dtype=np.float64)
    background = np.all(pixels == pixels[0, 0], axis=2)
    # The model fills a good part of the picture, and its faces are shaded differently
    assert 0.1 < 1 - background.mean() < 0.9
    assert pixels[~background].std() > 10


def test_thumbnail_of_a_flat_or_tiny_model_does_not_fail():
    flat = np.array([[[0, 0, 0], [1e-9, 0, 0], [0, 1e-9, 0]]], dtype=np.float32)
    png = render_thumbnail(flat, (120, 90))
    with Image.open(io.BytesIO(png)) as picture:
        assert picture.size == (120, 90)


def test_thumbnail_is_the_same_every_time():
    triangles = model("teapot.stl").triangles
    assert render_thumbnail(triangles) == render_thumbnail(triangles)


def test_thumbnail_of_the_largest_accepted_mesh_is_still_a_picture():
    # 2,000,000 triangles is the upload cap: the renderer samples, and still draws the shape.
    corners = np.random.default_rng(0).normal(size=(2_000_000, 3, 3)).astype(np.float32)
    image = Image.open(io.BytesIO(render_thumbnail(corners)))
    assert image.size == (480, 360)
    assert np.asarray(image.convert("L")).std() > 5
