"""Iso-lines of a sampled field as line segments: vectorised marching squares.

``pg.isocurve`` walks the grid in Python (~5 ms a level at 128², ~20 ms at
200²), too slow to follow a drag or a training frame; this is ~0.15 ms a
level at 128² and ~0.2 ms at 200². Shared by the data panel (the decision
boundary) and the loss-surface panel (its contours). No Qt here.
"""

from __future__ import annotations

import numpy as np


# Cell corners a = (r, c), b = (r, c+1), c = (r+1, c+1), d = (r+1, c); case bit
# 1/2/4/8 set when a/b/c/d is above the level. Edges: 0 bottom (a-b), 1 right
# (b-c), 2 top (d-c), 3 left (a-d).
_EDGE_PAIRS = np.full((16, 2), -1, dtype=np.intp)
for _case in range(1, 15):
    _bits = [(_case >> _k) & 1 for _k in range(4)]
    _crossed = [e for e, (p, q) in enumerate(((0, 1), (1, 2), (3, 2), (0, 3)))
                if _bits[p] != _bits[q]]
    if len(_crossed) == 2:
        _EDGE_PAIRS[_case] = _crossed


def contour_segments(values, levels, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Line segments of the iso-lines of ``values`` at ``levels`` (marching squares).

    values: (len(y), len(x)), rows along y. Returns (xs, ys) of segment end
    points, consecutive pairs forming one segment (``connect="pairs"``), in
    the coordinates given by ``x`` and ``y``.

    A level costs a few byte-wide passes over the grid to find the cells it
    crosses; everything after that works on the crossed cells of all levels
    at once.
    """
    v = np.asarray(values, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    levels = np.atleast_1d(np.asarray(levels, dtype=np.float64))
    if v.ndim != 2 or v.shape[0] < 2 or v.shape[1] < 2 or levels.size == 0:
        return np.empty(0), np.empty(0)
    found, cases = [], []
    for level in levels:
        above = (v > level).view(np.uint8)  # NaN: never above
        case = above[:-1, :-1] | (above[:-1, 1:] << 1)
        case |= above[1:, 1:] << 2
        case |= above[1:, :-1] << 3
        case = case.ravel()
        crossed = np.flatnonzero((case != 0) & (case != 15))
        found.append(crossed)
        cases.append(case[crossed])
    cells = np.concatenate(found)
    if cells.size == 0:
        return np.empty(0), np.empty(0)
    cs = np.concatenate(cases)
    level = np.repeat(levels, [f.size for f in found])
    rows, cols = np.divmod(cells, v.shape[1] - 1)
    va, vb = v[rows, cols], v[rows, cols + 1]
    vc, vd = v[rows + 1, cols + 1], v[rows + 1, cols]
    x0, x1 = x[cols], x[cols + 1]
    y0, y1 = y[rows], y[rows + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        px = np.stack([x0 + (level - va) / (vb - va) * (x1 - x0), x1,
                       x0 + (level - vd) / (vc - vd) * (x1 - x0), x0])
        py = np.stack([y0, y0 + (level - vb) / (vc - vb) * (y1 - y0),
                       y1, y0 + (level - va) / (vd - va) * (y1 - y0)])
    saddle = (cs == 5) | (cs == 10)
    plain = np.flatnonzero(~saddle)
    pairs = [(plain, _EDGE_PAIRS[cs[plain], 0], _EDGE_PAIRS[cs[plain], 1])]
    k = np.flatnonzero(saddle)
    if k.size:
        # Ambiguous cell: the centre value decides which corners are cut off.
        centre_above = (va[k] + vb[k] + vc[k] + vd[k]) * 0.25 > level[k]
        cut_bd = centre_above == (cs[k] == 5)
        pairs.append((k, np.zeros(k.size, np.intp), np.where(cut_bd, 1, 3)))
        pairs.append((k, np.where(cut_bd, 2, 1), np.where(cut_bd, 3, 2)))
    out_x, out_y = [], []
    for kk, e1, e2 in pairs:
        sx = np.empty(2 * kk.size)
        sy = np.empty(2 * kk.size)
        sx[0::2], sx[1::2] = px[e1, kk], px[e2, kk]
        sy[0::2], sy[1::2] = py[e1, kk], py[e2, kk]
        out_x.append(sx)
        out_y.append(sy)
    return np.concatenate(out_x), np.concatenate(out_y)


__all__ = ["contour_segments"]
