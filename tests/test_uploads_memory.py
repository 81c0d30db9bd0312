"""Any file within the size limit costs at most 400 MB at its peak on the upload path, measured in a fresh process.

Each file is taken through what an upload of a contest entry does (``benchmarks.models_bench.measure``): it
is validated, a model's thumbnail is rendered, and its viewer copy is built from the validated triangles (the
stored bytes let go first, as they are once written). The child process reports its resident size once the
modules are imported (idle) and its peak afterwards (VmHWM): the peak, everything included, must stay within
``BOUND``. Hostile files
may be refused for any of their faults (which comes first depends on the machine's speed); valid ones are
given all the time they need, so that their verdict does not depend on how busy the machine is.
Run this file with ``-s`` to see the figures: ``.venv/bin/python -m pytest -s -q tests/test_uploads_memory.py``.
"""

import pytest

from benchmarks import crafted_models as crafted
from benchmarks.models_bench import measure

MiB = 1024 * 1024
BOUND = 400 * MiB

TOO_SLOW = "не удалось проверить за 15 секунд"
# Valid files get this many seconds: their memory is measured whatever the machine's speed.
PATIENT = 600

CASES = {
    # name: (kind, how it is made, the outcomes expected, seconds allowed: 0 for the site's own limit)
    "lying-directory.3mf": ("model", crafted.lying_zip, ("слишком длинный фрагмент", TOO_SLOW), 0),
    "250mb-of-xml.3mf": ("model", crafted.big_xml_3mf, ("слишком детальная", TOO_SLOW), 0),
    "16-bit.png": ("image", crafted.png_16_bit, ("accepted",), 0),
    "48mb-giant-face.obj": ("model", crafted.obj_with_one_giant_face, ("строка длиннее 64 КБ",), 0),
    "50mb-triangle-soup.stl": ("model", lambda p: crafted.binary_stl(p, 1_000_000, soup=True), ("accepted",), PATIENT),
    "1.15m-triangles.obj": ("model", lambda p: crafted.obj(p, 1_150_000), ("accepted",), PATIENT),
    "2m-coloured-triangles.3mf": ("model", lambda p: crafted.torus_3mf(p, 2_000_000), ("accepted",), PATIENT),
    "2m-triangles.glb": ("model", lambda p: crafted.glb(p, 2_000_000), ("accepted",), PATIENT),
}


@pytest.mark.parametrize("name", list(CASES))
def test_an_upload_of_a_crafted_file_peaks_within_400_mb(name, tmp_path):
    kind, make, expected, seconds = CASES[name]
    path = make(tmp_path / name)
    report = measure(path, kind, seconds)
    peak, outcome = report["peak"], report["outcome"]
    size = path.stat().st_size / MiB
    print(f"\n{name}: {size:.1f} MB file, peak {peak / MiB:.0f} MB ({report['idle'] / MiB:.0f} MB idle); {outcome}")
    assert any(reason in outcome for reason in expected)
    assert peak <= BOUND
