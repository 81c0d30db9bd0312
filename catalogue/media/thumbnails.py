"""A small software renderer for model thumbnails: no GPU, only numpy and Pillow.

Orthographic camera from the front-right and above, fitted to the model and standing on the format's up
axis (:func:`up_axis`); flat shading by face normal (two-sided, so open meshes look right) times each
triangle's own colour where the file has colours, the filament orange where not; a numpy z-buffer.
Triangles that cover more than a pixel are rasterised scanline by scanline in batches; the tiny ones of
dense meshes are splatted as points. Rendered at twice the size and scaled down for smooth edges.

Coordinates are kept as separate contiguous arrays (``x[k]`` is corner ``k`` of every triangle):
numpy is many times faster on those than on reductions over the short last axis of ``(n, 3, 3)``.
"""

import io

import numpy as np
from PIL import Image

BACKGROUND = np.array([243, 246, 249], dtype=np.uint8)
BASE_COLOUR = np.array([205, 112, 58], dtype=np.float32)  # a warm filament colour: the site's amber, lightened
AMBIENT = np.float32(0.30)
# Directions towards the lights, in view space (x right, y up, z towards the viewer).
KEY_LIGHT = (np.array([-0.45, 0.65, 0.62]) / np.linalg.norm([-0.45, 0.65, 0.62])).astype(np.float32)
FILL_LIGHT = (np.array([0.7, -0.2, 0.5]) / np.linalg.norm([0.7, -0.2, 0.5])).astype(np.float32)
AZIMUTH, ELEVATION = np.radians(35.0), np.radians(28.0)
MARGIN = 0.07
SUPERSAMPLE = 2
# Pixels of bounding boxes handled at once, and in all before the large triangles are thinned.
BATCH = 2_000_000
RASTER_BUDGET = 30_000_000
MAX_TRIANGLES = 3_000_000
# Formats authored with Y up (OBJ from modelling programs, glTF by its specification); STL and 3MF are Z-up.
Y_UP_FORMATS = frozenset({"obj", "glb"})


def up_axis(file_format: str) -> str:
    """The vertical axis of a model format as authored: ``y`` for OBJ and glTF, ``z`` for STL and 3MF."""
    return "y" if file_format in Y_UP_FORMATS else "z"


def render_thumbnail(
    triangles: np.ndarray, size: tuple[int, int] = (480, 360), up: str = "z", colours: np.ndarray | None = None
) -> bytes:
    """A PNG picture of ``(n, 3, 3)`` triangles; ``up`` is the model's vertical axis (``z``: STL, 3MF; ``y``: glTF).

    ``colours``: each triangle's sRGB colour, ``uint8 (n, 3)``; None paints the whole model orange.
    """
    width, height = size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE
    triangles = np.asarray(triangles, dtype=np.float32)
    if len(triangles) > MAX_TRIANGLES:
        keep = _sample(len(triangles), MAX_TRIANGLES)
        triangles = triangles[keep]
        colours = colours[keep] if colours is not None else None
    x, y, z = _project(triangles, _view_axes(up), width, height)
    nearest = _rasterise(x, y, z, width, height)
    canvas = np.empty((height * width, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    drawn = np.flatnonzero(nearest >= 0)
    # Only triangles that won a pixel are shaded: a dense mesh hides most of its own.
    visible, pixel_triangle = np.unique(nearest[drawn], return_inverse=True)
    base = BASE_COLOUR[None, :] if colours is None else np.asarray(colours)[visible].astype(np.float32)
    canvas[drawn] = _shade(x, y, z, visible, base)[pixel_triangle]
    image = Image.fromarray(canvas.reshape(height, width, 3), "RGB").reduce(SUPERSAMPLE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _thin(items: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` of ``items``, drawn evenly at random (the same ones every time)."""
    if len(items) <= limit:
        return items
    return items[_sample(len(items), limit)]


def _sample(count: int, limit: int) -> np.ndarray:
    """``limit`` of the numbers 0..count-1, drawn evenly at random (the same ones every time), in order."""
    return np.sort(np.random.default_rng(0).choice(count, size=limit, replace=False))


def _view_axes(up: str) -> np.ndarray:
    """Rows: the screen's right, up, and towards-the-viewer directions in model coordinates."""
    horizontal, vertical = np.cos(ELEVATION), np.sin(ELEVATION)
    if up == "y":
        towards = np.array([np.sin(AZIMUTH) * horizontal, vertical, np.cos(AZIMUTH) * horizontal])
        world_up = np.array([0.0, 1.0, 0.0])
    else:
        towards = np.array([np.sin(AZIMUTH) * horizontal, -np.cos(AZIMUTH) * horizontal, vertical])
        world_up = np.array([0.0, 0.0, 1.0])
    right = np.cross(-towards, world_up)
    right /= np.linalg.norm(right)
    screen_up = np.cross(right, -towards)
    return np.stack([right, screen_up, towards]).astype(np.float32)


def _project(triangles: np.ndarray, axes: np.ndarray, width: int, height: int) -> tuple[np.ndarray, ...]:
    """Pixel x (right), pixel y (down) and depth (smaller is nearer), each ``(3, n)``, the model fitted in.

    One view axis at a time and in place: a dense model's coordinates are copied as few times as possible.
    """
    view = [_along(triangles, axis) for axis in axes]
    low = np.array([v.min() for v in view], dtype=np.float64)
    high = np.array([v.max() for v in view], dtype=np.float64)
    extent = np.maximum(high - low, 1e-12)
    scale = min(width * (1 - 2 * MARGIN) / extent[0], height * (1 - 2 * MARGIN) / extent[1])
    centre = (low + high) / 2
    x, y, z = view
    x -= np.float32(centre[0])
    x *= np.float32(scale)
    x += np.float32(width / 2)
    y -= np.float32(centre[1])
    y *= np.float32(-scale)
    y += np.float32(height / 2)
    z *= np.float32(-scale)
    return x, y, z


def _along(triangles: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """``(3, n)``: each corner of each triangle projected on ``axis`` (corner first, then triangle)."""
    result = np.empty((3, len(triangles)), dtype=np.float32)
    for corner in range(3):
        row = result[corner]
        np.multiply(triangles[:, corner, 0], axis[0], out=row)
        row += triangles[:, corner, 1] * axis[1]
        row += triangles[:, corner, 2] * axis[2]
    return result


def _shade(x: np.ndarray, y: np.ndarray, z: np.ndarray, ids: np.ndarray, base: np.ndarray) -> np.ndarray:
    """An RGB colour for each triangle in ``ids``: its ``base`` colour (one row, or one per id) lit by its normal,
    ambient plus a key and a fill light."""
    x, y, z = x[:, ids], y[:, ids], z[:, ids]
    # Back to view space (y up, z towards the viewer) for the normal.
    ax, ay, az = x[1] - x[0], y[0] - y[1], z[0] - z[1]
    bx, by, bz = x[2] - x[0], y[0] - y[2], z[0] - z[2]
    nx, ny, nz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
    length = np.sqrt(nx * nx + ny * ny + nz * nz)
    # Two-sided: a face seen from behind (an open mesh, flipped winding) is lit as if it faced us.
    scale = np.where(nz < 0, np.float32(-1), np.float32(1)) / np.maximum(length, np.float32(1e-30))
    key = np.clip((nx * KEY_LIGHT[0] + ny * KEY_LIGHT[1] + nz * KEY_LIGHT[2]) * scale, 0, 1)
    fill = np.clip((nx * FILL_LIGHT[0] + ny * FILL_LIGHT[1] + nz * FILL_LIGHT[2]) * scale, 0, 1)
    light = AMBIENT + np.float32(0.62) * key + np.float32(0.18) * fill
    shine = key * key
    shine *= shine
    shine *= shine
    shine = shine * shine * shine  # key ** 24, a small highlight, by squaring (pow is slow)
    colours = base * light[:, None] + np.float32(40) * shine[:, None]
    return np.clip(colours, 0, 255).astype(np.uint8)


def _rasterise(x: np.ndarray, y: np.ndarray, z: np.ndarray, width: int, height: int) -> np.ndarray:
    """The number of the nearest triangle at each pixel, row by row (-1 for background), through a z-buffer."""
    depth = np.full(width * height, np.inf, dtype=np.float32)
    nearest = np.full(width * height, -1, dtype=np.int64)
    left, right = np.floor(_min3(x)), np.floor(_max3(x))
    top, bottom = np.floor(_min3(y)), np.floor(_max3(y))
    boxes = (right - left + 1).astype(np.int64) * (bottom - top + 1).astype(np.int64)
    tiny = (left == right) & (top == bottom)
    del left, right, top, bottom
    _splat(x, y, z, np.flatnonzero(tiny), width, height, depth, nearest)
    large = _within_budget(np.flatnonzero(~tiny), boxes)
    # Batches of triangles whose boxes together hold about BATCH pixels.
    cuts = np.searchsorted(np.cumsum(boxes[large]), np.arange(BATCH, boxes[large].sum(), BATCH))
    for batch in np.split(large, np.unique(cuts)):
        if len(batch):
            _scanlines(x[:, batch], y[:, batch], z[:, batch], batch, width, height, depth, nearest)
    return nearest


def _min3(values: np.ndarray) -> np.ndarray:
    return np.minimum(np.minimum(values[0], values[1]), values[2])


def _max3(values: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(values[0], values[1]), values[2])


def _within_budget(members: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The triangles to rasterise: all of them, or an even sample when their boxes hold too many pixels."""
    work = float(boxes[members].sum())
    if work <= RASTER_BUDGET:
        return members
    return _thin(members, max(1, int(len(members) * RASTER_BUDGET / work)))


def _splat(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    members: np.ndarray,
    width: int,
    height: int,
    depth: np.ndarray,
    nearest: np.ndarray,
) -> None:
    """Draw triangles that lie within one pixel as a point of their nearest corner's depth."""
    if not len(members):
        return
    px = np.clip(x[0, members].astype(np.int64), 0, width - 1)
    py = np.clip(y[0, members].astype(np.int64), 0, height - 1)
    _depth_test(py * width + px, _min3(z[:, members]), members, depth, nearest)


def _scanlines(
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    members: np.ndarray,
    width: int,
    height: int,
    depth: np.ndarray,
    nearest: np.ndarray,
) -> None:
    """Rasterise triangles row by row: each pixel row's span inside a triangle, then its pixels."""
    first = np.maximum(np.ceil(_min3(y) - 0.5), 0).astype(np.int64)
    last = np.minimum(np.floor(_max3(y) - 0.5), height - 1).astype(np.int64)
    row_counts = np.maximum(last - first + 1, 0)
    owner = np.repeat(np.arange(len(members)), row_counts)
    row = first[owner] + _ranks(row_counts)
    centre = row.astype(np.float32) + np.float32(0.5)
    start = np.full(len(row), np.inf, dtype=np.float32)
    stop = np.full(len(row), -np.inf, dtype=np.float32)
    for a, b in ((0, 1), (1, 2), (2, 0)):
        xa, ya, xb, yb = x[a, owner], y[a, owner], x[b, owner], y[b, owner]
        crosses = (ya != yb) & (centre >= np.minimum(ya, yb)) & (centre <= np.maximum(ya, yb))
        at = xa + (centre - ya) * (xb - xa) / np.where(ya != yb, yb - ya, np.float32(1))
        start = np.where(crosses, np.minimum(start, at), start)
        stop = np.where(crosses, np.maximum(stop, at), stop)
    # Rows that only touch a horizontal edge keep infinite bounds and get no pixels.
    start = np.maximum(np.ceil(np.minimum(start, width) - 0.5), 0).astype(np.int64)
    stop = np.minimum(np.floor(np.maximum(stop, -1) - 0.5), width - 1).astype(np.int64)
    pixel_counts = np.maximum(stop - start + 1, 0)
    pixel_owner = np.repeat(owner, pixel_counts)
    px = np.repeat(start, pixel_counts) + _ranks(pixel_counts)
    py = np.repeat(row, pixel_counts)
    pz = _plane_depth(x, y, z, pixel_owner, px + np.float32(0.5), py + np.float32(0.5))
    _depth_test(py * width + px, pz, members[pixel_owner], depth, nearest)


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., n-1 for each run of ``counts`` (``[2, 3]`` → ``[0, 1, 0, 1, 2]``)."""
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(int(counts.sum()), dtype=np.int64) - starts


def _plane_depth(
    x: np.ndarray, y: np.ndarray, z: np.ndarray, owner: np.ndarray, px: np.ndarray, py: np.ndarray
) -> np.ndarray:
    """Depth of each owner triangle's plane at (px, py), kept within the triangle's own depth range."""
    ax, ay, az = x[1] - x[0], y[1] - y[0], z[1] - z[0]
    bx, by, bz = x[2] - x[0], y[2] - y[0], z[2] - z[0]
    det = ax * by - bx * ay
    det = np.where(det == 0, np.float32(1e-12), det)
    gx, gy = (az * by - bz * ay) / det, (bz * ax - az * bx) / det
    pz = z[0, owner] + gx[owner] * (px - x[0, owner]) + gy[owner] * (py - y[0, owner])
    # Nearly edge-on triangles have steep planes: never let them poke out of their own depth range.
    return np.clip(pz, _min3(z)[owner], _max3(z)[owner])


def _depth_test(pixels: np.ndarray, z: np.ndarray, owners: np.ndarray, depth: np.ndarray, nearest: np.ndarray) -> None:
    """Keep, per pixel, the nearest of the candidates and of what was drawn before."""
    z = z.astype(np.float32)
    np.minimum.at(depth, pixels, z)
    won = z <= depth[pixels]
    nearest[pixels[won]] = owners[won]
