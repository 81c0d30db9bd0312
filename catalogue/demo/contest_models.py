"""3D models for the demo entries: a few real files (``models/``, see its README) and models built
here from simple solids with numpy (a gear, a rocket, a lighthouse...), written as binary STL.

Every built model is a set of closed solids in millimetres, Z up, as a student would export for printing.
"""

import itertools
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np

FOLDER = Path(__file__).parent / "models"


def _quad(a, b, c, d) -> list:
    return [(a, b, c), (a, c, d)]


def box(centre, size) -> np.ndarray:
    """A box around ``centre`` with edge lengths ``size``: 12 outward-facing triangles."""
    cx, cy, cz = centre
    hx, hy, hz = (s / 2 for s in size)
    v = [(cx + sx * hx, cy + sy * hy, cz + sz * hz) for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]
    faces = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]
    triangles = []
    for a, b, c, d in faces:
        triangles += _quad(v[a], v[b], v[c], v[d])
    return np.array(triangles, dtype=np.float64)


def lathe(profile: list[tuple[float, float]], segments: int = 40, centre=(0.0, 0.0)) -> np.ndarray:
    """A solid of revolution about the vertical axis through ``centre``: ``profile`` is (radius, z) from the
    bottom up; the ends are closed with flat caps where the radius is not zero.
    """
    angles = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    cos, sin = np.cos(angles), np.sin(angles)
    cx, cy = centre

    def ring(r, z):
        return [(cx + r * c, cy + r * s, z) for c, s in zip(cos, sin, strict=True)]

    rings = [ring(r, z) for r, z in profile]
    triangles = []
    for lower, upper in itertools.pairwise(rings):
        for i in range(segments):
            j = (i + 1) % segments
            triangles += _quad(lower[i], lower[j], upper[j], upper[i])
    bottom_r, bottom_z = profile[0]
    top_r, top_z = profile[-1]
    for i in range(segments):
        j = (i + 1) % segments
        if bottom_r > 0:
            triangles.append(((cx, cy, bottom_z), rings[0][j], rings[0][i]))
        if top_r > 0:
            triangles.append(((cx, cy, top_z), rings[-1][i], rings[-1][j]))
    return np.array(triangles, dtype=np.float64)


def prism(points: list[tuple[float, float]], z0: float, z1: float) -> np.ndarray:
    """A polygon extruded from ``z0`` to ``z1`` (star-shaped about its first point's centroid: fan caps)."""
    pts = np.array(points, dtype=np.float64)
    centre = pts.mean(axis=0)
    n = len(pts)
    triangles = []
    for i in range(n):
        j = (i + 1) % n
        a, b = pts[i], pts[j]
        triangles += _quad((a[0], a[1], z0), (b[0], b[1], z0), (b[0], b[1], z1), (a[0], a[1], z1))
        triangles.append(((centre[0], centre[1], z0), (b[0], b[1], z0), (a[0], a[1], z0)))
        triangles.append(((centre[0], centre[1], z1), (a[0], a[1], z1), (b[0], b[1], z1)))
    return np.array(triangles, dtype=np.float64)


def rotated(triangles: np.ndarray, axis: str, degrees: float, about=(0.0, 0.0, 0.0)) -> np.ndarray:
    t = np.radians(degrees)
    c, s = np.cos(t), np.sin(t)
    matrices = {
        "x": [[1, 0, 0], [0, c, -s], [0, s, c]],
        "y": [[c, 0, s], [0, 1, 0], [-s, 0, c]],
        "z": [[c, -s, 0], [s, c, 0], [0, 0, 1]],
    }
    origin = np.array(about)
    return (triangles - origin) @ np.array(matrices[axis]).T + origin


def joined(*parts: np.ndarray) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32)


# -- the models ---------------------------------------------------------------------------------------


def gear() -> np.ndarray:
    teeth, outer, inner = 24, 30.0, 26.0
    points = []
    for k in range(teeth * 4):
        angle = 2 * np.pi * k / (teeth * 4)
        r = outer if k % 4 in (1, 2) else inner
        points.append((r * np.cos(angle), r * np.sin(angle)))
    hub = lathe([(9.0, 0.0), (9.0, 14.0)], 32)
    return joined(prism(points, 0.0, 8.0), hub)


def rocket() -> np.ndarray:
    body = lathe([(9, 0), (10, 4), (10, 70), (9, 80), (6, 92), (2.5, 100), (0, 104)], 36)
    engine = lathe([(6, -8), (8, -4), (8, 0)], 24)
    fins = [rotated(box((14, 0, 10), (12, 2, 20)), "z", angle) for angle in (0, 90, 180, 270)]
    return joined(body, engine, *fins)


def lighthouse() -> np.ndarray:
    base = lathe([(22, 0), (22, 6)], 8)
    tower = lathe([(14, 6), (9, 70), (11, 72), (11, 74)], 32)
    lamp = lathe([(7, 74), (7, 84), (9, 84), (0, 94)], 32)
    keeper_house = box((20, 0, 12), (14, 16, 12))
    roof = prism([(0, -9), (0, 9), (8, 0)], 0, 14)
    roof = rotated(rotated(roof, "y", -90), "x", 0) + np.array([13, 0, 18])
    return joined(base, tower, lamp, keeper_house, roof)


def wind_turbine() -> np.ndarray:
    tower = lathe([(4, 0), (2, 90)], 24)
    nacelle = box((2, 0, 92), (14, 5, 5))
    hub = rotated(lathe([(2.5, 0), (2.5, 3), (0, 6)], 20), "y", -90) + np.array([-5, 0, 92])
    blade = box((-6, 0, 112), (1.2, 5, 38))
    blades = [rotated(blade, "x", angle, about=(-6, 0, 92)) for angle in (0, 120, 240)]
    return joined(tower, nacelle, hub, *blades)


def bridge() -> np.ndarray:
    deck = box((0, 0, 22), (160, 16, 3))
    pillars = [box((x, 0, 10), (6, 14, 20)) for x in (-50, 0, 50)]
    rails = [box((0, y, 25.5), (160, 1, 4)) for y in (-7.5, 7.5)]
    arches = []
    for start in (-50, 0):
        for k in range(10):
            x = start + 5 * k + 2.5
            height = 12 * np.sin(np.pi * (k + 0.5) / 10)
            arches.append(box((x, 0, 21 - height / 2), (5, 10, max(height, 1))))
    return joined(deck, *pillars, *rails, *arches)


def airliner() -> np.ndarray:
    fuselage = rotated(lathe([(0, -60), (5, -54), (7, -40), (7, 40), (5, 52), (1.5, 62)], 32), "y", 90)
    wings = prism([(-8, -55), (8, -55), (14, 0), (8, 55), (-8, 55), (-2, 0)], -1, 1)
    wings = wings + np.array([0, 0, -2])
    stabilizer = prism([(-50, -18), (-44, -18), (-40, 0), (-44, 18), (-50, 18)], -0.8, 0.8) + np.array([0, 0, 3])
    fin = rotated(prism([(-56, 0), (-44, 0), (-52, 20), (-58, 20)], -0.8, 0.8), "x", 90) + np.array([0, 0, 3])
    engines = [rotated(lathe([(3, -6), (3.5, 6)], 20), "y", 90) + np.array([4, y, -6]) for y in (-22, 22)]
    return joined(fuselage, wings, stabilizer, fin, *engines)


def locomotive() -> np.ndarray:
    frame = box((0, 0, 10), (90, 26, 4))
    body = box((-6, 0, 26), (66, 24, 28))
    cab = box((34, 0, 22), (18, 26, 20))
    roof = box((-6, 0, 41), (68, 20, 2))
    wheels = [rotated(lathe([(6, -2), (6, 2)], 24), "x", 90) + np.array([x, y, 6]) for x in (-32, -16, 16, 32)
              for y in (-11, 11)]  # fmt: skip
    return joined(frame, body, cab, roof, *wheels)


def quadcopter() -> np.ndarray:
    core = box((0, 0, 6), (22, 22, 8))
    arms = [rotated(box((20, 0, 6), (30, 4, 3)), "z", angle) for angle in (45, 135, 225, 315)]
    rotors = []
    for angle in (45, 135, 225, 315):
        x, y = 33 * np.cos(np.radians(angle)), 33 * np.sin(np.radians(angle))
        rotors.append(lathe([(3, 4), (3, 10)], 16, centre=(x, y)))
        rotors.append(lathe([(14, 10), (14, 11)], 32, centre=(x, y)))
    camera = lathe([(4, -2), (5, 2)], 20)
    return joined(core, *arms, *rotors, camera)


def fir_tree() -> np.ndarray:
    trunk = lathe([(4, 0), (4, 14)], 16)
    tiers = [lathe([(r, z), (0, z + h)], 28) for r, z, h in ((24, 12, 26), (19, 28, 24), (14, 42, 22), (9, 56, 18))]
    return joined(trunk, *tiers)


def izba() -> np.ndarray:
    logs = [rotated(lathe([(2.2, -24), (2.2, 24)], 14), "y", 90) + np.array([0, y, z])
            for z in range(2, 34, 4) for y in (-16, 16)]  # fmt: skip
    logs += [rotated(lathe([(2.2, -18), (2.2, 18)], 14), "x", 90) + np.array([x, 0, z + 2])
             for z in range(2, 34, 4) for x in (-22, 22)]  # fmt: skip
    roof = rotated(prism([(-21, 0), (21, 0), (0, 18)], -27, 27), "x", 90) + np.array([0, 0, 34])
    roof = rotated(roof, "z", 90)
    chimney = box((10, 8, 50), (6, 6, 16))
    return joined(*logs, roof, chimney)


def excavator() -> np.ndarray:
    tracks = [box((0, y, 6), (60, 12, 12)) for y in (-16, 16)]
    turret = box((4, 0, 20), (40, 34, 14))
    cab = box((-8, -8, 34), (14, 14, 16))
    boom = rotated(box((26, 0, 40), (44, 6, 6)), "y", -30, about=(10, 0, 26))
    stick = rotated(box((54, 0, 40), (6, 6, 34)), "y", 20, about=(54, 0, 52))
    bucket = box((62, 0, 16), (12, 14, 10))
    return joined(*tracks, turret, cab, boom, stick, bucket)


BUILT: dict[str, Callable[[], np.ndarray]] = {
    "gear": gear,
    "rocket": rocket,
    "lighthouse": lighthouse,
    "wind_turbine": wind_turbine,
    "bridge": bridge,
    "airliner": airliner,
    "locomotive": locomotive,
    "quadcopter": quadcopter,
    "fir_tree": fir_tree,
    "izba": izba,
    "excavator": excavator,
}


def binary_stl(triangles: np.ndarray, name: str) -> bytes:
    """A binary STL of ``(n, 3, 3)`` triangles with their face normals."""
    triangles = np.asarray(triangles, dtype=np.float32)
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    lengths = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.where(lengths > 0, normals / np.maximum(lengths, 1e-12), 0).astype(np.float32)
    records = np.zeros(len(triangles), dtype=[("normal", "<f4", (3,)), ("corners", "<f4", (3, 3)), ("attr", "<u2")])
    records["normal"], records["corners"] = normals, triangles
    header = f"{name} - Proforientatsiya Priangarya demo".encode("ascii")[:80].ljust(80, b" ")
    return header + struct.pack("<I", len(triangles)) + records.tobytes()


def model_bytes(spec: str) -> tuple[str, bytes]:
    """``(file name, bytes)`` of a demo model: ``file:NAME`` from ``models/`` or ``built:NAME``."""
    kind, _, name = spec.partition(":")
    if kind == "file":
        return name, (FOLDER / name).read_bytes()
    return f"{name}.stl", binary_stl(BUILT[name](), name)
