"""``python -m benchmarks slow-requests``: the slowest legitimate work one request does, to size gunicorn's timeout.

- a 3D model at the upload limit (a 50 MB binary STL, about a million triangles, a sphere): validation by content,
  the cleaned copy, the facts and the server-side thumbnail — what the upload request does before it answers;
- the contest's collection of materials as a PDF (WeasyPrint) for the newest season of the configured database.
"""

import io
import statistics
import struct
import time
from collections.abc import Callable

import numpy as np

MiB = 1024 * 1024


def big_stl(size: int = 50 * MiB) -> bytes:
    """A binary STL of at most ``size`` bytes: a closed UV sphere of as many triangles as fit."""
    wanted = (size - 84) // 50
    rings = int((wanted / 2) ** 0.5)
    theta = np.linspace(0, np.pi, rings + 1)
    phi = np.linspace(0, 2 * np.pi, rings + 1)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    points = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], axis=-1) * 40.0
    a, b = points[:-1, :-1], points[:-1, 1:]
    c, d = points[1:, :-1], points[1:, 1:]
    triangles = np.concatenate([np.stack([a, c, b], -2), np.stack([b, c, d], -2)]).reshape(-1, 3, 3)
    records = np.zeros(len(triangles), dtype=[("n", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])
    records["v"] = triangles
    out = io.BytesIO()
    out.write(b"\0" * 80 + struct.pack("<I", len(triangles)))
    out.write(records.tobytes())
    return out.getvalue()


def _timed(work: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def run(runs: int, echo: Callable[[str], None]) -> None:
    from catalogue import create_app
    from catalogue.media.thumbnails import render_thumbnail
    from catalogue.media.validation import validate_upload

    data = big_stl()
    echo(f"model: {len(data) / MiB:.1f} MB binary STL, {(len(data) - 84) // 50:,} triangles")

    def upload():
        validated = validate_upload("model", "sphere.stl", io.BytesIO(data))
        render_thumbnail(validated.triangles)

    times = _timed(upload, runs)
    echo(f"  validation, cleaned copy, facts, thumbnail: median {statistics.median(times):.1f} s, "
         f"slowest {max(times):.1f} s")  # fmt: skip

    app = create_app()
    with app.app_context(), app.test_request_context():
        from sqlalchemy import select

        from catalogue.contest.documents import collection_pdf
        from catalogue.contest.models import Season
        from catalogue.extensions import db

        season = db.session.scalar(select(Season).order_by(Season.year))
        if season is None:
            echo("no contest season in the database: no PDF measured")
            return
        times = _timed(lambda: collection_pdf(season), runs)
        echo(f"collection PDF of season {season.year}: median {statistics.median(times):.1f} s, "
             f"slowest {max(times):.1f} s")  # fmt: skip
