"""``flask --app catalogue media inspect FILE...``: an admin checks files sent by e-mail as the site would.

Each file gets one line of JSON with the same verdict and facts as an upload of it.
"""

import json

from catalogue.media.validation import validate_upload
from tests.helpers import FIXTURES_3D, fixture_bytes

KEYS = ["file", "accepted", "message", "format", "triangles", "size_mm", "closed", "volume_mm3", "unit", "warnings"]


def inspect(runner, *names):
    result = runner.invoke(args=["media", "inspect", *(str(FIXTURES_3D / name) for name in names)])
    return result, [json.loads(line) for line in result.output.splitlines()]


def test_an_admin_inspects_real_models_and_sees_what_an_upload_would_say(runner):
    names = ["20mm-xyz-cube.stl", "teapot.stl", "fuze.obj", "cube.glb", "pyramids.3mf"]
    result, reports = inspect(runner, *names)
    assert result.exit_code == 0
    assert [list(report) for report in reports] == [KEYS] * len(names)
    cube, teapot, fuze, glb_cube, pyramids = reports
    assert cube == {
        "file": str(FIXTURES_3D / "20mm-xyz-cube.stl"),
        "accepted": True,
        "message": None,
        "format": "stl",
        "triangles": 260,
        "size_mm": [20.0, 20.0, 20.0],
        "closed": True,
        "volume_mm3": 7938.68,
        "unit": "millimeter",
        "warnings": [],
    }
    # An open mesh has no volume
    assert teapot["closed"] is False and teapot["volume_mm3"] is None
    # A bottle of 0.2 mm: probably saved in metres
    assert fuze["accepted"] and "не в миллиметрах" in fuze["warnings"][0]
    # glTF is in metres: the 2-unit cube is 2 m
    assert glb_cube["unit"] == "meter" and glb_cube["size_mm"] == [2000.0, 2000.0, 2000.0]
    assert pyramids["format"] == "3mf" and pyramids["closed"] and pyramids["volume_mm3"] == 195038.0


def test_the_facts_are_those_of_an_upload(runner):
    _, (report,) = inspect(runner, "busted.STL")
    facts = validate_upload("model", "busted.STL", fixture_bytes("busted.STL")).facts
    assert report["triangles"] == facts["triangles"] and report["size_mm"] == facts["size_mm"]
    assert report["closed"] == facts["watertight"] and report["volume_mm3"] == facts["volume_mm3"]


def test_a_refused_file_says_why_in_russian_and_the_command_fails(runner, tmp_path):
    renamed = tmp_path / "чертёж.stl"
    renamed.write_bytes(b"PK\x03\x04" + bytes(200))
    result = runner.invoke(args=["media", "inspect", str(FIXTURES_3D / "cube.glb"), str(renamed)])
    accepted, refused = (json.loads(line) for line in result.output.splitlines())
    assert result.exit_code == 1
    assert accepted["accepted"] is True
    assert refused["accepted"] is False and refused["format"] is None and refused["triangles"] is None
    assert "«чертёж.stl»" in refused["message"]


def test_an_empty_model_and_a_missing_file(runner, tmp_path):
    result = runner.invoke(args=["media", "inspect", str(FIXTURES_3D / "empty.stl"), str(tmp_path / "нет.stl")])
    empty, missing = (json.loads(line) for line in result.output.splitlines())
    assert result.exit_code == 1
    assert "нет ни одного треугольника" in empty["message"]
    assert missing["accepted"] is False and "не читается" in missing["message"]
