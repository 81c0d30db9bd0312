"""Facts of a triangle mesh: size, watertightness and volume, computed with numpy in bounded time.

Work is done on contiguous columns and with plain sorts: on ``(n, 3)`` rows numpy's reductions and
``argsort`` are several times slower, and a 2-million-triangle model should take about a second.
"""

import numpy as np

# Triangles whose volume is summed at once.
VOLUME_SLICE = 1 << 16
# Corners handled at once while welding (hashing their cells, numbering them, looking for hash clashes).
CLASH_SLICE = 1 << 20
# Corners closer than this share of the bounding box's diagonal are one vertex (a grid of that step).
WELD_TOLERANCE = 1e-6
# The finest grid step relative to the largest coordinate: finer than float32 can tell apart, and the
# grid numbers stay well within 64 bits.
FINEST_STEP = 2.0**-40
# Odd 64-bit multipliers that spread the three coordinates' bits over one hash.
HASH_MULTIPLIERS = (
    np.uint64(0x9E3779B185EBCA87),
    np.uint64(0xC2B2AE3D27D4EB4F),
    np.uint64(0x165667B19E3779F9),
)


def mesh_facts(triangles: np.ndarray) -> dict:
    """Triangle count, bounding-box size (in the file's units, taken as mm), watertight, and volume if closed.

    Watertight: after welding corners closer than :data:`WELD_TOLERANCE` of the model's size (CAD exports
    write zeros as ±1e-16 noise, each triangle its own copy), every edge is shared by exactly two triangles.
    """
    size = []
    for column in _columns(triangles):
        size.append(float(column.max()) - float(column.min()))
        del column
    watertight, wound = _edge_checks(merged_faces(triangles))
    facts: dict = {
        "triangles": len(triangles),
        "size_mm": [_significant(v) for v in size],
        "watertight": watertight,
    }
    if watertight and wound:
        # With faces wound every which way the signed sum means nothing: no volume rather than a wrong one.
        facts["volume_mm3"] = _significant(volume(triangles))
    return facts


def _columns(triangles: np.ndarray):
    """x, y and z of every corner, each a contiguous array, one at a time (a dense model's columns are large)."""
    corners = triangles.reshape(-1, 3)
    for i in range(3):
        yield np.ascontiguousarray(corners[:, i])


def _cells(values: np.ndarray, step: float) -> np.ndarray:
    """The cells of the welding grid of ``step`` that coordinates ``values`` fall in, as 64-bit keys.

    Whole cell numbers, not their float bits: the low bits of a whole number's float are zeros, and a
    multiplicative hash of them clashes for most positions of a regular grid (a lathed or CAD model).
    """
    cells = values.astype(np.float64)
    cells /= step
    np.rint(cells, out=cells)
    return cells.astype(np.int64).view(np.uint64)


def weld_step(triangles: np.ndarray) -> float:
    """The welding grid's step: :data:`WELD_TOLERANCE` of the bounding box's diagonal (1 for a point)."""
    lows, highs = [], []
    for column in _columns(triangles):
        lows.append(float(column.min()) if column.size else 0.0)
        highs.append(float(column.max()) if column.size else 0.0)
    diagonal = float(np.hypot.reduce(np.subtract(highs, lows)))
    largest = max(map(abs, lows + highs), default=0.0)
    return max(diagonal * WELD_TOLERANCE, largest * FINEST_STEP) or 1.0


def _significant(value: float) -> float:
    """Six significant digits: enough for millimetres, without float noise in JSON."""
    return float(f"{value:.6g}")


def merged_faces(triangles: np.ndarray) -> np.ndarray:
    """``(n, 3)`` vertex numbers of each triangle, corners in one cell of the welding grid sharing one number."""
    count = len(triangles) * 3
    index_bits = max(1, (count - 1).bit_length())
    # Arrays are changed in place and indices kept in 32 bits where they fit: a dense model's facts must not
    # take several times the memory of the model itself.
    index_type = np.int32 if count < 2**31 else np.int64
    # The top bits of a multiplicative hash, with the corner's number in the low bits: one plain sort
    # (much faster than argsort) orders the corners by position hash and still says which is which.
    step = weld_step(triangles)
    corners = triangles.reshape(-1, 3)
    # Everything of the length of the model is made a slice at a time: whole-length temporaries (a column
    # of cells, the corner numbers) are what would make the peak.
    packed = np.zeros(count, dtype=np.uint64)
    for start in range(0, count, CLASH_SLICE):
        part = corners[start : start + CLASH_SLICE]
        for axis, multiplier in enumerate(HASH_MULTIPLIERS):
            packed[start : start + CLASH_SLICE] += _cells(part[:, axis], step) * multiplier
    packed >>= np.uint64(index_bits)
    packed <<= np.uint64(index_bits)
    for start in range(0, count, CLASH_SLICE):
        packed[start : start + CLASH_SLICE] |= np.arange(start, min(start + CLASH_SLICE, count), dtype=np.uint64)
    packed.sort()
    order = np.empty(count, dtype=index_type)
    mask = np.uint64((1 << index_bits) - 1)
    for start in range(0, count, CLASH_SLICE):
        order[start : start + CLASH_SLICE] = packed[start : start + CLASH_SLICE] & mask
    packed >>= np.uint64(index_bits)  # now the keys alone
    starts = np.empty(count, dtype=bool)
    starts[0] = True
    np.not_equal(packed[1:], packed[:-1], out=starts[1:])
    del packed
    inverse = np.empty(count, dtype=index_type)
    numbers = np.cumsum(starts, dtype=index_type)
    numbers -= 1
    inverse[order] = numbers
    del numbers
    representative = order[starts][inverse]
    del order
    clashes = np.zeros(count, dtype=bool)
    for start in range(0, count, CLASH_SLICE):
        own, theirs = corners[start : start + CLASH_SLICE], corners[representative[start : start + CLASH_SLICE]]
        for axis in range(3):
            clashes[start : start + CLASH_SLICE] |= _cells(own[:, axis], step) != _cells(theirs[:, axis], step)
    del representative
    if clashes.any():
        _split_clashes(corners, step, inverse, clashes)
    return inverse.reshape(-1, 3)


def _split_clashes(corners: np.ndarray, step: float, inverse: np.ndarray, clashes: np.ndarray) -> None:
    """Renumber exactly the corners of hash groups that hold different positions (rare)."""
    groups = np.isin(inverse, np.unique(inverse[clashes]))
    concerned = corners[groups]
    rows = np.stack([_cells(concerned[:, axis], step) for axis in range(3)], axis=1)
    _, exact = np.unique(rows, axis=0, return_inverse=True)
    inverse[groups] = int(inverse.max()) + 1 + exact.ravel()


def is_watertight(faces: np.ndarray) -> bool:
    """True when every edge of the non-degenerate triangles is shared by exactly two of them."""
    return _edge_checks(faces)[0]


def _edge_checks(faces: np.ndarray) -> tuple[bool, bool]:
    """(watertight, consistently wound): each undirected edge used twice, each directed edge once."""
    a, b, c = (faces[:, i].astype(np.int64) for i in range(3))
    keep = (a != b) & (b != c) & (c != a)
    if not keep.all():
        a, b, c = a[keep], b[keep], c[keep]
    del keep
    if not len(a):
        return False, False
    base = int(max(a.max(), b.max(), c.max())) + 1
    # One buffer of keys, filled in place for the undirected and then the directed edges, sorted in place:
    # memory stays a few times the number of triangles.
    count = len(a)
    keys = np.empty(3 * count, dtype=np.int64)
    edges = ((a, b), (b, c), (c, a))
    for i, (first, second) in enumerate(edges):
        out = keys[i * count : (i + 1) * count]
        np.minimum(first, second, out=out)
        out *= base
        out += np.maximum(first, second)
    watertight = _each_twice(keys)
    for i, (first, second) in enumerate(edges):
        out = keys[i * count : (i + 1) * count]
        np.multiply(first, base, out=out)
        out += second
    return watertight, _each_once(keys)


def _each_twice(keys: np.ndarray) -> bool:
    """True when every distinct key occurs exactly twice (``keys`` is sorted in place)."""
    keys.sort()
    if len(keys) % 2:
        return False
    return bool((keys[0::2] == keys[1::2]).all() and (keys[2::2] != keys[1:-1:2]).all())


def _each_once(keys: np.ndarray) -> bool:
    """True when no key occurs twice (``keys`` is sorted in place)."""
    keys.sort()
    return bool((keys[1:] != keys[:-1]).all())


def volume(triangles: np.ndarray) -> float:
    """Enclosed volume by the divergence theorem (meaningful for a closed mesh), in slices of bounded memory."""
    signed = 0.0
    for start in range(0, len(triangles), VOLUME_SLICE):
        part = triangles[start : start + VOLUME_SLICE]
        p = [[np.ascontiguousarray(part[:, k, i], dtype=np.float64) for i in range(3)] for k in range(3)]
        cross = (
            p[1][1] * p[2][2] - p[1][2] * p[2][1],
            p[1][2] * p[2][0] - p[1][0] * p[2][2],
            p[1][0] * p[2][1] - p[1][1] * p[2][0],
        )
        signed += float((p[0][0] * cross[0] + p[0][1] * cross[1] + p[0][2] * cross[2]).sum())
    return abs(signed / 6.0)
