"""3D models shown as authored: standing on the format's up axis, in their own colours, at the size their
author meant (the unit chosen on the entry form), and files over the limit named before and after sending.
"""

import io
import json
import re
import struct

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from catalogue.contest import seasons
from catalogue.contest.models import Entry
from catalogue.contest.viewer import shows_as_authored, triangles_to_glb
from catalogue.extensions import db
from catalogue.media import storage
from catalogue.media.errors import Deadline
from catalogue.media.gltf import parse_glb
from catalogue.media.meshes import MeshLimits
from catalogue.media.thumbnails import BACKGROUND, render_thumbnail, up_axis
from catalogue.media.validation import validate_upload
from tests.contest_support import SCHOOL_A, loaded, make_season, organization
from tests.helpers import csrf_token, fixture_bytes
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
    # Still the same two triangles for any glTF reader, and the site's own reader gets the colours back
    mesh = parse_glb(data, "viewer.glb", MeshLimits(), Deadline(10))
    assert mesh.triangles.shape == (2, 3, 3)
    assert np.abs(mesh.colours.astype(int) - colours.astype(int)).max() <= 1


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


# -- the unit, chosen on the entry form ------------------------------------------------------------------


@pytest.fixture
def entry_form(app, client, auth, make_user):
    """A season taking entries, and a student on the new entry form: its CSRF token and first choices."""
    with app.app_context():
        made = {
            "admin": make_user(roles=("admin",), email="admin@example.ru"),
            "student": make_user(
                roles=("student",), email="student@example.ru", grade=9, organization=organization(SCHOOL_A)
            ),
        }
        loaded(made)
    with app.test_request_context():
        make_season(made["admin"])
    auth.login(made["student"])
    token = csrf_token(client, "/contest/2027/submit")
    with app.app_context():
        season = seasons.season_by_year(2027)
        choice = {"nomination_id": season.nominations[0].id, "age_category_id": season.age_categories[1].id}
    return {"csrf_token": token, **choice}


def send_entry(client, entry_form, model_name: str, data: bytes | None = None, **extra):
    fields = {
        **entry_form,
        "title": "Бутылка для воды",
        "description": "Модель бутылки, сделанная в Blender.",
        "consent_processing": "y",
        "consent_publication": "y",
        "consent_giver": "parent",
        "consent_giver_name": "Иванова Мария Петровна",
        "consent_parent_email": "ivanova.mp@example.ru",
        "model": (io.BytesIO(fixture_bytes(model_name) if data is None else data), model_name),
        **extra,
    }
    return client.post("/contest/2027/submit", data=fields, content_type="multipart/form-data")


def the_entry(app):
    with app.app_context():
        entry = db.session.scalar(select(Entry))
        return entry.id, entry.model_unit, entry.model_facts


def test_an_obj_made_in_metres_is_shown_at_its_real_size_once_the_author_says_metres(app, client, entry_form):
    # fuze.obj is a bottle 0.073 × 0.074 × 0.215 units: metres, not millimetres
    response = send_entry(client, entry_form, "fuze.obj", model_unit="m")
    assert response.status_code == 303, response.get_data(as_text=True)
    entry_id, unit, facts = the_entry(app)
    assert unit == "m"
    assert facts["size_mm"] == [72.612, 73.514, 215.128]
    assert facts["volume_mm3"] == pytest.approx(the_file_facts(app)["volume_mm3"] * 1000**3)
    page = client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    assert "72,6 × 73,5 × 215,1 мм (единицы модели: м)" in page
    assert "не в миллиметрах" not in page and "model-warning" not in page
    # The form keeps the choice for the next edit
    form = client.get(f"/contest/entries/{entry_id}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="m">м</option>', form)


def the_file_facts(app) -> dict:
    with app.app_context():
        return db.session.scalar(select(Entry)).model_file.facts


def test_without_a_choice_a_model_is_in_millimetres_and_the_form_names_the_units_that_fit(app, client, entry_form):
    # The title is missing: the form comes back with the model kept, and says which units make it plausible
    response = send_entry(client, entry_form, "fuze.obj", title="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    suggestion = re.search(r'id="model-unit-suggestion"[^>]*>([^<]*)<', page).group(1)
    assert "Если числа в файле — миллиметры, наибольшая сторона модели — 0,215 мм" in suggestion
    assert "«см» (наибольшая сторона 2,2 мм), «дюймы» (5,5 мм), «м» (215,1 мм)" in suggestion
    assert re.search(r'<option selected value="mm">мм</option>', page)
    # Sent as it is, it stays in millimetres, with the warning
    entry_form["csrf_token"] = csrf_token(client, "/contest/2027/submit")
    assert send_entry(client, entry_form, "fuze.obj").status_code == 303
    _, unit, facts = the_entry(app)
    assert unit == "mm" and max(facts["size_mm"]) < 1 and facts["warnings"]


def test_a_model_of_a_plausible_size_gets_no_suggestion(app, client, entry_form):
    page = send_entry(client, entry_form, "20mm-xyz-cube.stl", title="").get_data(as_text=True)
    assert "model-unit-suggestion" not in page


def test_a_wrong_unit_is_pointed_out_on_the_entry_page(app, client, entry_form):
    # A 20 mm calibration cube said to be in metres would be 20 m across
    assert send_entry(client, entry_form, "20mm-xyz-cube.stl", model_unit="m").status_code == 303
    entry_id, _, facts = the_entry(app)
    assert facts["size_mm"] == [20000, 20000, 20000]
    page = client.get(f"/contest/entries/{entry_id}").get_data(as_text=True)
    assert "Похоже, единицы выбраны неверно: в метрах наибольшая сторона модели — 20000 мм." in page


def test_inches_and_centimetres_scale_size_and_volume(app, client, entry_form):
    # box.obj is a closed 2 × 2 × 2 box of volume 8 units³
    assert send_entry(client, entry_form, "box.obj", model_unit="in").status_code == 303
    _, _, facts = the_entry(app)
    assert facts["size_mm"] == [50.8, 50.8, 50.8]
    assert facts["volume_mm3"] == pytest.approx(8 * 25.4**3, rel=1e-5)


@pytest.mark.parametrize(
    ("name", "size", "unit"),
    [("cube.glb", [2000, 2000, 2000], "meter"), ("pyramids.3mf", [346.73, 163.08, 25], "millimeter")],
)
def test_formats_that_declare_their_unit_ignore_the_choice(app, client, entry_form, name, size, unit):
    assert send_entry(client, entry_form, name, model_unit="in").status_code == 303
    _, _, facts = the_entry(app)
    assert facts["size_mm"] == pytest.approx(size, rel=1e-3)
    # The unit stays the one the file declares, whatever the form said
    assert facts["unit"] == unit
    assert "unit_label" not in facts


def test_an_unknown_unit_is_refused_by_the_form(app, client, entry_form):
    response = send_entry(client, entry_form, "box.obj", model_unit="parsec")
    assert response.status_code == 422
    assert entry_count(app) == 0


def entry_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Entry)).all())


def test_a_coloured_glb_goes_to_the_viewer_as_uploaded(app, client, entry_form):
    assert send_entry(client, entry_form, "cube.glb").status_code == 303
    with app.app_context():
        entry = db.session.scalar(select(Entry))
        # The cleaned upload itself, with its grey material, not the plain orange copy
        assert storage.read(entry.viewer_file.key) == storage.read(entry.model_file.key)


# -- the size limit, named before sending and after ------------------------------------------------------


def test_every_file_input_carries_the_servers_limit_for_the_browser(client, entry_form):
    page = client.get("/contest/2027/submit").get_data(as_text=True)
    inputs = {
        name: re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0) for name in ("model", "images", "note")
    }
    assert 'data-max-bytes="52428800"' in inputs["model"] and 'data-max-size="50 МБ"' in inputs["model"]
    assert 'data-max-bytes="20971520"' in inputs["images"] and 'data-max-size="20 МБ"' in inputs["images"]
    assert 'data-max-bytes="20971520"' in inputs["note"]


def test_a_submission_over_the_sites_limit_gets_a_413_that_names_it(app, client, entry_form):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    response = send_entry(client, entry_form, "box.obj", data=bytes(100 * 1024))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Отправленная форма вместе с файлами больше 64 КБ" in page
    assert "кнопкой «Назад» браузера: заполненные поля останутся на месте" in page
    assert re.search(r'<a href="/contest/2027/submit" data-history-back>Вернуться к форме</a>', page)


def test_an_htmx_submission_over_the_limit_leaves_the_form_in_place(app, client, entry_form):
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    fields = {**entry_form, "model": (io.BytesIO(bytes(100 * 1024)), "big.stl")}
    response = client.post(
        "/contest/2027/submit", data=fields, content_type="multipart/form-data", headers={"HX-Request": "true"}
    )
    assert response.status_code == 413
    # The message goes to the page's message area; the form, with what was typed, is not replaced
    assert response.headers["HX-Retarget"] == "#messages"
    assert "больше 64 КБ" in response.get_data(as_text=True)


def test_an_uploaded_y_up_obj_gets_a_standing_thumbnail(app, client, entry_form):
    assert send_entry(client, entry_form, "tower.obj", data=TALL_MODELS["tower.obj"]()).status_code == 303
    with app.app_context():
        thumbnail = storage.read(db.session.scalar(select(Entry)).model_file.thumbnail_key)
    width, height = silhouette(thumbnail)
    assert height > 1.5 * width
