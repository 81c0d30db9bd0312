"""Time and peak memory of 3D uploads: ``python -m benchmarks models-bench``.

Large valid models are made on the spot (``benchmarks.crafted_models``) and each is taken, in a fresh
process, through what an upload of a contest entry does: the parse alone (the format's reader), then the
whole validation (cleaning, parsing, checks, facts), the thumbnail and the viewer copy built from the
validated triangles. Wall-clock and CPU seconds are reported, and the process's peak resident size
(VmHWM, interpreter and modules included). The 2M-triangle STL is twice the upload limit: it is there for
the speed of the STL reader only.
"""

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from benchmarks import crafted_models as crafted

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import dataclasses, json, sys, time
from catalogue.contest.viewer import triangles_to_glb, up_axis
from catalogue.media.errors import Deadline, UploadError
from catalogue.media.meshes import MeshLimits
from catalogue.media.thumbnails import render_thumbnail
from catalogue.media.validation import MODEL_ZIP_LIMITS, _parse_model, validate_upload
from catalogue.media.threemf import parse_3mf
from catalogue.media.zipsafe import SafeZip


def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field + ":")) * 1024


def clock():
    return time.perf_counter(), time.process_time()


def since(start):
    wall, cpu = clock()
    return [round(wall - start[0], 2), round(cpu - start[1], 2)]


kind, path, seconds, max_size, parse_alone = sys.argv[1:6]
name = path.rsplit("/", 1)[-1]
limits = MeshLimits(seconds=float(seconds)) if float(seconds) else MeshLimits()
report = {"idle": status("VmRSS")}
if parse_alone == "1":
    data = open(path, "rb").read()
    start = clock()
    if name.endswith(".3mf"):
        with SafeZip(data, name, MODEL_ZIP_LIMITS) as archive:
            parse_3mf(archive, limits, Deadline(limits.seconds))
    else:
        _parse_model(name.rsplit(".", 1)[-1], data, name, limits)
    report["parse"] = since(start)
    del data
start = clock()
with open(path, "rb") as stream:
    try:
        upload = validate_upload(kind, name, stream, int(max_size) or None, mesh_limits=limits)
        report["validate"] = since(start)
        report["outcome"] = "accepted"
        report["facts"] = upload.facts
        if upload.triangles is not None:
            report["colours"] = upload.colours is not None
            start = clock()
            render_thumbnail(upload.triangles, (480, 360), up=up_axis(upload.format), colours=upload.colours)
            report["thumbnail"] = since(start)
            upload = dataclasses.replace(upload, data=b"")
            start = clock()
            triangles_to_glb(upload.triangles, up_axis(upload.format), colours=upload.colours)
            report["viewer"] = since(start)
    except UploadError as e:
        report["validate"] = since(start)
        report["outcome"] = str(e)
report["peak"] = status("VmHWM")
print(json.dumps(report, ensure_ascii=False))
"""


def measure(path: Path, kind: str = "model", seconds: float = 0, max_size: int = 0, parse_alone: bool = False) -> dict:
    """One file through an upload in a fresh process: ``idle`` and ``peak`` bytes, ``outcome``, and for each
    stage (``parse`` when ``parse_alone``, ``validate``, ``thumbnail``, ``viewer``) [wall, CPU] seconds.

    ``seconds`` replaces the site's time limit of a model (0 keeps it); ``max_size`` its size limit.
    """
    arguments = [kind, str(path), str(seconds), str(max_size), "1" if parse_alone else "0"]
    # This interpreter and a fixed script: nothing untrusted is run.
    command = [sys.executable, "-c", CHILD, *arguments]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)  # noqa: S603
    return json.loads(result.stdout.strip().splitlines()[-1])


MODELS: dict[str, Callable[[Path], Path]] = {
    "2m-triangles.stl": lambda p: crafted.binary_stl(p, 2_000_000),
    "50mb-triangle-soup.stl": lambda p: crafted.binary_stl(p, 1_000_000, soup=True),
    "1.15m-triangles.obj": lambda p: crafted.obj(p, 1_150_000),
    "1.15m-coloured-triangles.obj": lambda p: crafted.obj(p, 1_150_000, colours=True),
    "2m-triangles.3mf": lambda p: crafted.torus_3mf(p, 2_000_000, colours=False),
    "2m-coloured-triangles.3mf": lambda p: crafted.torus_3mf(p, 2_000_000),
    "2m-triangles.glb": lambda p: crafted.glb(p, 2_000_000),
}


def run(names: list[str] | None = None, directory: str | None = None, echo: Callable[[str], None] = print) -> None:
    """Make each model, measure it, and print one line per model."""
    echo("file | MB | triangles | colours | parse | validate | thumbnail | viewer | peak MB  (seconds: wall/CPU)")
    with tempfile.TemporaryDirectory(dir=directory) as folder:
        for name in names or list(MODELS):
            path = MODELS[name](Path(folder) / name)
            size = path.stat().st_size / MiB
            report = measure(path, seconds=600, max_size=200 * MiB, parse_alone=True)
            path.unlink()
            stages = " | ".join(
                "{}/{}".format(*report[stage]) if stage in report else "—"
                for stage in ("parse", "validate", "thumbnail", "viewer")
            )
            triangles = report.get("facts", {}).get("triangles", report["outcome"])
            colours = "yes" if report.get("colours") else "no"
            echo(f"{name} | {size:.1f} | {triangles} | {colours} | {stages} | {report['peak'] / MiB:.0f}")
