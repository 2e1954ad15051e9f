"""Hotspots: incidents binned into H3 cells, Getis-Ord Gi* with FDR, and classes over time.

Pure numpy and h3: no Django here (the database side is `hotspot_selectors`).

The method
----------
Study area: a fixed set of H3 cells (the station's grids filled at the chosen resolution, plus
any cell holding an incident), so cells with no incident count as zeros.

Weights: binary contiguity of H3 neighbours (the six cells of `grid_ring(c, 1)`, five around a
pentagon) that lie inside the study area, plus the cell itself (Gi*, "star"). A cell at the
edge of the area simply has fewer neighbours.

Gi*: for counts y over n cells, with c_i the number of cells in i's neighbourhood (itself
included) and L_i the sum of their counts,

    G_i = L_i / Σy,   E[G_i] = c_i / n,
    V[G_i] = c_i (n - c_i) / (n - 1) / n² · s² / ȳ²     (ȳ, s² the mean and variance of y)
    z_i = (G_i - E[G_i]) / sqrt(V[G_i])

which is exactly what PySAL's `esda.G_Local(y, w, transform="B", star=True)` computes for the
same binary weights (its `Zs`; the tests check 1e-9). When every count is equal (all zero
included) or a neighbourhood covers the whole area, z is undefined; we give 0 (not hot).

p-values are two-sided under normality, p = 2·(1 - Φ(|z|)); esda's `p_norm` is the one-sided
tail, so p = 2·p_norm. q-values are Benjamini–Hochberg adjusted over the cells of the area in
that window. A cell is *hot* in a window when z > 0 and q ≤ alpha.

Classes over time (a simplified emerging hot spot analysis)
-----------------------------------------------------------
The history is split into K consecutive windows of `window_days` days ending on `end`
(default K = 6 windows of 28 days). Gi* is run for each window on the same cells and weights.
The trend of a cell is the Mann-Kendall test on its K window counts (S statistic, variance
with the tie correction, continuity-corrected normal approximation, two-sided, significant
when p < alpha). Each cell then gets exactly one class, the first rule that holds:

1. not hot in the last window and hot in an earlier one: ``former`` (曾经热点);
2. not hot in any window: ``""`` (none);
   — the rest are hot in the last window —
3. hot in no earlier window: ``new`` (新增热点);
4. counts rising significantly: ``intensifying`` (加剧热点);
5. counts falling significantly: ``diminishing`` (减弱热点);
6. hot in more than half of all K windows: ``persistent`` (持续热点);
7. otherwise (hot now and in some, but not most, earlier windows, no trend): ``sporadic``
   (零星热点), ArcGIS's name for the same pattern.

Risk belongs to places and cases: the counts are of incidents, never of people.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import h3
import h3.api.basic_int as h3i
import numpy as np

TRENDS = ("new", "persistent", "intensifying", "diminishing", "sporadic", "former")
MIN_RESOLUTION, MAX_RESOLUTION = 5, 12


# --- data the callers get ---


@dataclass(frozen=True)
class HotspotCell:
    """One H3 cell of the study area: the last window's figures and its class over time."""

    h3: str
    lat: float
    lng: float
    boundary: list[list[float]]  # [[lat, lng], ...], closed ring not repeated
    count: int  # incidents in the last window
    z: float
    p: float
    q: float
    hot: bool  # z > 0 and q <= alpha in the last window
    trend: str  # one of TRENDS, or ""
    counts: list[int] = field(default_factory=list)  # per window, oldest first
    hot_windows: list[bool] = field(default_factory=list)
    trend_p: float = 1.0  # Mann-Kendall p-value of `counts`


@dataclass(frozen=True)
class HotspotReport:
    """Gi* hotspots of one station over consecutive windows ending on `end`."""

    station_id: int
    end: date
    resolution: int
    window_days: int
    alpha: float
    windows: list[tuple[date, date]]  # (first day, last day), oldest first
    totals: list[int]  # incidents counted per window
    cells: list[HotspotCell]
    class_code: str = ""
    area_cells: int = 0  # cells in the study area, empty ones included

    @property
    def start(self) -> date:
        return self.windows[0][0]

    @property
    def total(self) -> int:
        """Return the incidents counted over all windows."""
        return sum(self.totals)

    @property
    def last_total(self) -> int:
        return self.totals[-1] if self.totals else 0

    @property
    def hot_cells(self) -> list[HotspotCell]:
        """Return the cells hot in the last window or with a class, hottest first."""
        cells = [c for c in self.cells if c.hot or c.trend]
        return sorted(cells, key=lambda c: (not c.hot, -c.z, c.h3))

    def trend_counts(self) -> dict[str, int]:
        out = dict.fromkeys(TRENDS, 0)
        for c in self.cells:
            if c.trend:
                out[c.trend] += 1
        return out


# --- binning and the study area ---


def bin_points(lats: Any, lngs: Any, resolution: int) -> np.ndarray:
    """Return the H3 cell (as uint64) of each point.

    h3 4.x has no vectorised call; the integer API in a comprehension is the fastest route
    (about 0.5 µs a point), and no cheaper numpy binning gives the same cells at the edges.
    """
    f = h3i.latlng_to_cell
    lat_list = np.asarray(lats, dtype="float64").tolist()
    lng_list = np.asarray(lngs, dtype="float64").tolist()
    return np.fromiter(
        (f(a, b, resolution) for a, b in zip(lat_list, lng_list, strict=True)),
        dtype="uint64",
        count=len(lat_list),
    )


def polygon_cells(geometries: Sequence[dict[str, Any]], resolution: int) -> set[int]:
    """Return the cells (ints) whose centres lie in any of the GeoJSON (Multi)Polygons."""
    out: set[int] = set()
    for geom in geometries:
        if not geom:
            continue
        try:
            shape = h3.geo_to_h3shape(geom)
        except (ValueError, TypeError, KeyError):
            continue
        out.update(h3.str_to_int(c) for c in h3.h3shape_to_cells(shape, resolution))
    return out


def study_area(area_cells: set[int], point_cells: np.ndarray) -> np.ndarray:
    """Return the sorted cells of the study area: the filled area plus every occupied cell."""
    occupied = np.unique(point_cells) if len(point_cells) else np.empty(0, dtype="uint64")
    if area_cells:
        return np.union1d(np.fromiter(area_cells, dtype="uint64"), occupied)
    return occupied


def neighbour_index(cells: np.ndarray) -> np.ndarray:
    """Return an (n, 6) array of each cell's neighbours' positions in `cells`, -1 for none.

    `cells` must be sorted (uint64): neighbours are found by binary search.
    """
    n = len(cells)
    ring = np.zeros((n, 6), dtype="uint64")
    disk = h3i.grid_ring
    for i, c in enumerate(cells.tolist()):
        nb = disk(c, 1)
        ring[i, : len(nb)] = nb  # a pentagon has five: the sixth stays 0, never a cell
    pos = np.searchsorted(cells, ring)
    pos_clip = np.minimum(pos, max(n - 1, 0))
    found = (pos < n) & (cells[pos_clip] == ring) if n else np.zeros((0, 6), dtype=bool)
    return np.where(found, pos_clip, -1).astype("int64")


def neighbour_lists(nbr: np.ndarray) -> dict[int, list[int]]:
    """Return the neighbour dict {i: [j, ...]} of an index array (for libpysal in tests)."""
    return {i: [int(j) for j in row if j >= 0] for i, row in enumerate(nbr)}


# --- statistics ---


def gi_star(y: Any, nbr: np.ndarray) -> np.ndarray:
    """Return the Gi* z-scores of counts `y` with binary neighbour weights plus self."""
    y = np.asarray(y, dtype="float64")
    n = len(y)
    z = np.zeros(n, dtype="float64")
    if n < 2:
        return z
    total = y.sum()
    if total == 0 or np.all(y == y[0]):
        return z
    y_ext = np.append(y, 0.0)
    lag = y + y_ext[nbr].sum(axis=1)
    card = 1.0 + (nbr >= 0).sum(axis=1)
    big_n = float(n)
    statistic = lag / total
    mean = total / big_n
    variance = (y**2).sum() / big_n - mean**2
    expected = card / big_n
    var_g = card * (big_n - card)
    var_g /= big_n - 1
    var_g *= 1 / big_n**2
    var_g *= variance / (mean**2)
    ok = var_g > 0
    z[ok] = (statistic[ok] - expected[ok]) / np.sqrt(var_g[ok])
    return z


_erfc = np.frompyfunc(math.erfc, 1, 1)


def p_two_sided(z: Any) -> np.ndarray:
    """Return two-sided normal p-values, 2·(1 - Φ(|z|)) = erfc(|z| / √2)."""
    z = np.asarray(z, dtype="float64")
    if z.size == 0:
        return np.empty(0, dtype="float64")
    return np.asarray(_erfc(np.abs(z) / math.sqrt(2.0)), dtype="float64")


def fdr_bh(p: Any) -> np.ndarray:
    """Return Benjamini–Hochberg adjusted p-values (q-values), capped at 1."""
    p = np.asarray(p, dtype="float64")
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m, dtype="float64")
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def mann_kendall(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return (S, two-sided p) of the Mann-Kendall trend test for each row of `x`.

    Rows are series in time order. The variance has the tie correction; z is continuity
    corrected, (S - 1)/σ for S > 0 and (S + 1)/σ for S < 0. A constant row has S = 0, p = 1.
    """
    x = np.atleast_2d(np.asarray(x, dtype="float64"))
    rows, k = x.shape
    s = np.zeros(rows, dtype="int64")
    for i in range(k - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1).astype("int64")
    base = k * (k - 1) * (2 * k + 5)
    srt = np.sort(x, axis=1)
    # Run lengths of equal values in each sorted row, without a Python loop over rows.
    start = np.ones((rows, k), dtype=bool)
    start[:, 1:] = srt[:, 1:] != srt[:, :-1]
    # Run length ending at each position; a tie group of t adds t(t-1)(2t+5).
    length = np.ones((rows, k), dtype="int64")
    for j in range(1, k):
        length[:, j] = np.where(start[:, j], 1, length[:, j - 1] + 1)
    end = np.ones((rows, k), dtype=bool)
    end[:, :-1] = start[:, 1:]
    run = np.where(end, length, 0)
    ties = (run * (run - 1) * (2 * run + 5)).sum(axis=1).astype("float64")
    var = (base - ties) / 18.0
    z = np.zeros(rows, dtype="float64")
    ok = var > 0
    adj = np.where(s > 0, s - 1, np.where(s < 0, s + 1, 0)).astype("float64")
    z[ok] = adj[ok] / np.sqrt(var[ok])
    return s, p_two_sided(z)


def classify(hot: np.ndarray, counts: np.ndarray, alpha: float) -> list[str]:
    """Return each cell's class over time from its hot flags and counts, (n, K) oldest first.

    The rules are the module docstring's, in its order.
    """
    hot = np.asarray(hot, dtype=bool)
    n, k = hot.shape
    out = [""] * n
    if n == 0 or k == 0:
        return out
    last = np.asarray(hot[:, -1], dtype=bool)
    earlier = np.asarray(hot[:, :-1].any(axis=1), dtype=bool)
    hot_count = np.asarray(hot.sum(axis=1))
    s, p = mann_kendall(counts) if k >= 3 else (np.zeros(n), np.ones(n))
    for i in range(n):
        if not last[i]:
            out[i] = "former" if earlier[i] else ""
        elif not earlier[i]:
            out[i] = "new"
        elif p[i] < alpha and s[i] > 0:
            out[i] = "intensifying"
        elif p[i] < alpha and s[i] < 0:
            out[i] = "diminishing"
        elif hot_count[i] * 2 > k:
            out[i] = "persistent"
        else:
            out[i] = "sporadic"
    return out


# --- the whole computation ---


@dataclass(frozen=True)
class HotspotArrays:
    """The computation's result as arrays over the study area's cells (oldest window first)."""

    cells: np.ndarray  # uint64, sorted
    counts: np.ndarray  # (n, K) int
    z: np.ndarray  # (n, K)
    p: np.ndarray
    q: np.ndarray
    hot: np.ndarray  # (n, K) bool
    trend: list[str]
    trend_p: np.ndarray  # (n,)
    nbr: np.ndarray


def compute(
    point_cells: np.ndarray,
    point_windows: np.ndarray,
    *,
    windows: int,
    area_cells: set[int] | None = None,
    alpha: float = 0.05,
) -> HotspotArrays:
    """Return Gi*, FDR and classes for points already binned (cells) and windowed (0..K-1).

    Points with a window outside 0..K-1 are ignored.
    """
    point_cells = np.asarray(point_cells, dtype="uint64")
    point_windows = np.asarray(point_windows, dtype="int64")
    keep = (point_windows >= 0) & (point_windows < windows)
    point_cells, point_windows = point_cells[keep], point_windows[keep]
    cells = study_area(area_cells or set(), point_cells)
    n = len(cells)
    counts = np.zeros((n, windows), dtype="int64")
    if len(point_cells):
        idx = np.searchsorted(cells, point_cells)
        np.add.at(counts, (idx, point_windows), 1)
    nbr = neighbour_index(cells)
    z = np.zeros((n, windows))
    p = np.ones((n, windows))
    q = np.ones((n, windows))
    for w in range(windows):
        z[:, w] = gi_star(counts[:, w], nbr)
        p[:, w] = p_two_sided(z[:, w])
        q[:, w] = fdr_bh(p[:, w])
    hot = (z > 0) & (q <= alpha)
    trend = classify(hot, counts, alpha)
    _s, trend_p = mann_kendall(counts) if windows >= 3 else (None, np.ones(n))
    return HotspotArrays(cells, counts, z, p, q, hot, trend, trend_p, nbr)


def window_of(timestamps: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Return the window (0..K-1) of each POSIX timestamp, given K+1 ascending edges; -1 outside."""
    edges_arr = np.asarray(edges, dtype="float64")
    w = np.searchsorted(edges_arr, np.asarray(timestamps, dtype="float64"), side="right") - 1
    w[(w < 0) | (w >= len(edges_arr) - 1)] = -1
    return w


def to_cells(result: HotspotArrays, only: np.ndarray | None = None) -> list[HotspotCell]:
    """Return the report's cells (last window's figures, class, centre and boundary).

    `only` (a boolean mask over the cells) keeps some of them; all by default.
    """
    out: list[HotspotCell] = []
    keep = np.ones(len(result.cells), dtype=bool) if only is None else np.asarray(only, bool)
    for i, c in enumerate(result.cells.tolist()):
        if not keep[i]:
            continue
        name = h3.int_to_str(c)
        lat, lng = h3.cell_to_latlng(name)
        boundary = [[round(a, 7), round(b, 7)] for a, b in h3.cell_to_boundary(name)]
        out.append(
            HotspotCell(
                h3=name,
                lat=round(lat, 7),
                lng=round(lng, 7),
                boundary=boundary,
                count=int(result.counts[i, -1]),
                z=float(result.z[i, -1]),
                p=float(result.p[i, -1]),
                q=float(result.q[i, -1]),
                hot=bool(result.hot[i, -1]),
                trend=result.trend[i],
                counts=[int(v) for v in result.counts[i]],
                hot_windows=[bool(v) for v in result.hot[i]],
                trend_p=float(result.trend_p[i]),
            )
        )
    return out
