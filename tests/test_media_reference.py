"""What the site says about the real models agrees with trimesh, read independently from the same files.

trimesh keeps vertices apart where texture coordinates or normals differ; its reference mesh is built from
the positions alone (``Trimesh(vertices, faces)`` merges equal positions), which is what makes a mesh closed
for printing. Sizes agree to float32 precision; closedness exactly; the volume wherever both give one.
"""

import pytest
import trimesh

from catalogue.media.validation import validate_upload
from tests.helpers import FIXTURES_3D, fixture_bytes

MODELS = sorted(path.name for path in FIXTURES_3D.iterdir() if path.suffix.lower() in {".stl", ".obj", ".glb", ".3mf"})
# No triangles: refused by the site, nothing for trimesh to compare
EMPTY = {"empty.stl", "stl_empty_bin.stl"}
# glTF lengths are metres, trimesh keeps the file's numbers; the site shows millimetres
SCALE = {".glb": 1000.0}


def reference(name: str):
    loaded = trimesh.load(FIXTURES_3D / name, force="mesh", process=False)
    mesh = trimesh.Trimesh(loaded.vertices, loaded.faces)
    return mesh.apply_scale(SCALE.get(FIXTURES_3D.joinpath(name).suffix.lower(), 1.0))


@pytest.mark.parametrize("name", [m for m in MODELS if m not in EMPTY])
def test_size_closedness_and_volume_agree_with_trimesh(name):
    facts = validate_upload("model", name, fixture_bytes(name)).facts
    mesh = reference(name)
    assert facts["triangles"] == len(mesh.faces)
    assert facts["size_mm"] == pytest.approx(mesh.extents.tolist(), rel=1e-5, abs=1e-6)
    assert facts["watertight"] == mesh.is_watertight
    if mesh.is_watertight and mesh.is_winding_consistent:
        assert facts["volume_mm3"] == pytest.approx(abs(mesh.volume), rel=1e-4)
    else:
        # Open, or faces wound every which way: no volume rather than a wrong one
        assert "volume_mm3" not in facts


def test_every_real_model_is_compared():
    assert len(MODELS) >= 12 and set(MODELS) >= EMPTY
