"""Hotspot maths: Gi* equals PySAL esda, FDR, Mann-Kendall and each class over time."""

from __future__ import annotations

import itertools
import math
import warnings

import h3
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fengqiao.analytics import hotspots as hs

esda = pytest.importorskip("esda", reason="esda is a dev dependency (pip install -e .[dev])")
libpysal = pytest.importorskip("libpysal", reason="libpysal is a dev dependency")

CENTRE = h3.latlng_to_cell(28.21, 112.91, 9)


def _area(radius: int, drop: list[int]) -> np.ndarray:
    """Return a disk of cells with some removed (holes and ragged edges), sorted as ints."""
    cells = sorted(h3.str_to_int(c) for c in h3.grid_disk(CENTRE, radius))
    keep = [c for i, c in enumerate(cells) if i not in set(drop) or i == 0]
    return np.array(keep, dtype="uint64")


def _esda(y: np.ndarray, nbr: np.ndarray):
    w = libpysal.weights.W(hs.neighbour_lists(nbr), silence_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(y.astype("float64"), w, transform="B", star=True, permutations=0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    radius=st.integers(min_value=1, max_value=5),
    drop=st.lists(st.integers(min_value=1, max_value=90), max_size=25),
    data=st.data(),
)
def test_gi_star_equals_esda_g_local_star_binary(radius, drop, data):
    # Given a ragged area (holes, edge cells with few neighbours, maybe islands) and counts
    # with many zeros
    cells = _area(radius, drop)
    n = len(cells)
    y = np.array(
        data.draw(
            st.lists(
                st.one_of(st.just(0), st.integers(min_value=0, max_value=40)),
                min_size=n,
                max_size=n,
            )
        ),
        dtype="int64",
    )
    nbr = hs.neighbour_index(cells)
    # When we compute Gi* and esda does on the same counts and weights
    ours = hs.gi_star(y, nbr)
    g = _esda(y, nbr)
    # Then the z-scores agree to 1e-9 wherever esda's are defined, and are 0 where not
    defined = np.isfinite(g.Zs)
    assert np.all(np.abs(ours[defined] - g.Zs[defined]) <= 1e-9)
    assert np.all(ours[~defined] == 0)
    # and our two-sided p is twice esda's one-sided p_norm
    p = hs.p_two_sided(ours)
    assert np.all(np.abs(p[defined] - 2 * g.p_norm[defined]) <= 1e-12)


def test_neighbours_are_the_h3_ring_inside_the_area_only():
    cells = _area(2, [])
    nbr = hs.neighbour_index(cells)
    centre = int(np.searchsorted(cells, h3.str_to_int(CENTRE)))
    assert sorted(cells[nbr[centre]].tolist()) == sorted(
        h3.str_to_int(c) for c in h3.grid_ring(CENTRE, 1)
    )
    # an outer cell of the disk has only the neighbours that are in the disk
    outer = [h3.str_to_int(c) for c in h3.grid_ring(CENTRE, 2)]
    i = int(np.searchsorted(cells, outer[0]))
    assert 2 <= (nbr[i] >= 0).sum() < 6
    # symmetric: j is i's neighbour exactly when i is j's
    d = hs.neighbour_lists(nbr)
    assert all(i in d[j] for i, js in d.items() for j in js)


def test_gi_star_is_zero_when_undefined():
    nbr = hs.neighbour_index(_area(1, []))
    assert np.all(hs.gi_star(np.zeros(7), nbr) == 0)
    assert np.all(hs.gi_star(np.full(7, 3), nbr) == 0)
    assert hs.gi_star(np.array([5]), np.full((1, 6), -1)).tolist() == [0.0]


@given(st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=1, max_size=60))
def test_fdr_bh_equals_the_definition(ps):
    p = np.array(ps)
    m = len(p)
    q = hs.fdr_bh(p)
    order = np.argsort(p, kind="stable")
    rank = np.empty(m, dtype=int)
    rank[order] = np.arange(1, m + 1)
    for i in range(m):
        expected = min(1.0, min(p[j] * m / rank[j] for j in range(m) if rank[j] >= rank[i]))
        assert q[i] == pytest.approx(expected, abs=1e-12)


def _mk_by_hand(x: list[float]) -> tuple[int, float]:
    n = len(x)
    s = sum((x[j] > x[i]) - (x[j] < x[i]) for i, j in itertools.combinations(range(n), 2))
    ties = [x.count(v) for v in set(x)]
    var = (n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties)) / 18
    if var <= 0:
        return s, 1.0
    z = (s - 1) / math.sqrt(var) if s > 0 else (s + 1) / math.sqrt(var) if s < 0 else 0.0
    return s, math.erfc(abs(z) / math.sqrt(2))


@given(st.lists(st.lists(st.integers(0, 5), min_size=6, max_size=6), min_size=1, max_size=20))
def test_mann_kendall_equals_the_formula_with_ties(rows):
    s, p = hs.mann_kendall(np.array(rows))
    for i, row in enumerate(rows):
        es, ep = _mk_by_hand([float(v) for v in row])
        assert s[i] == es
        assert p[i] == pytest.approx(ep, abs=1e-12)


def test_mann_kendall_known_values():
    s, p = hs.mann_kendall(np.array([[1, 2, 3, 4, 5, 6], [6, 5, 4, 3, 2, 1], [2, 2, 2, 2, 2, 2]]))
    assert s.tolist() == [15, -15, 0]
    assert p[0] == pytest.approx(0.0085, abs=1e-4)  # z = 14 / sqrt(28.33) = 2.63
    assert p[2] == 1.0


def test_classify_rules_in_order():
    f, t = False, True
    hot = np.array(
        [
            [f, f, f, f, f, f],  # none
            [t, t, f, f, f, f],  # former
            [f, f, f, f, f, t],  # new (even with a rising count)
            [f, f, t, t, t, t],  # intensifying
            [t, t, t, t, t, t],  # diminishing
            [t, t, t, f, t, t],  # persistent: 5 of 6, no trend
            [f, t, f, f, f, t],  # sporadic: 2 of 6, no trend
            [t, f, t, f, f, t],  # 3 of 6 is not more than half: sporadic
        ]
    )
    counts = np.array(
        [
            [0, 0, 0, 0, 0, 0],
            [9, 9, 1, 1, 1, 1],
            [1, 2, 3, 4, 5, 9],
            [1, 2, 6, 8, 12, 20],
            [30, 25, 20, 15, 12, 10],
            [20, 22, 19, 8, 21, 20],
            [1, 9, 1, 1, 1, 9],
            [9, 1, 9, 1, 1, 9],
        ]
    )
    assert hs.classify(hot, counts, 0.05) == [
        "",
        "former",
        "new",
        "intensifying",
        "diminishing",
        "persistent",
        "sporadic",
        "sporadic",
    ]


def _cluster_points(cell: int, counts: list[int]) -> tuple[list[int], list[int]]:
    """Put counts[k] incidents in window k into `cell` and each of its six neighbours."""
    cells, wins = [], []
    ring = [cell, *h3.grid_ring(h3.int_to_str(cell), 1)]
    for k, c in enumerate(counts):
        for member in ring:
            m = member if isinstance(member, int) else h3.str_to_int(member)
            cells += [m] * c
            wins += [k] * c
    return cells, wins


def test_compute_classes_each_kind_from_constructed_incidents():
    # Given a disk of 331 cells with one incident per cell and window everywhere, and five
    # clusters far apart with the window counts of each class
    area = {h3.str_to_int(c) for c in h3.grid_disk(CENTRE, 10)}
    cells = sorted(area)
    point_cells, point_windows = [], []
    for k in range(6):
        point_cells += cells
        point_windows += [k] * len(cells)
    centre = h3.str_to_int(CENTRE)
    spots = {
        "persistent": [8, 8, 8, 8, 8, 8],
        "new": [0, 0, 0, 0, 0, 9],
        "intensifying": [0, 2, 4, 6, 8, 10],
        "diminishing": [10, 9, 8, 7, 6, 5],
        "former": [8, 8, 8, 0, 0, 0],
        "sporadic": [0, 8, 0, 0, 0, 8],
    }
    at = {}
    corners = [h3.str_to_int(c) for c in h3.grid_ring(CENTRE, 6)][::6]
    for (name, counts), cell in zip(spots.items(), corners, strict=True):
        at[name] = cell
        pc, pw = _cluster_points(cell, counts)
        point_cells += pc
        point_windows += pw
    # When we compute
    result = hs.compute(
        np.array(point_cells, dtype="uint64"),
        np.array(point_windows),
        windows=6,
        area_cells=area,
    )
    # Then each cluster's centre carries its class, and the quiet centre none
    cls = dict(zip(result.cells.tolist(), result.trend, strict=True))
    for name, cell in at.items():
        assert cls[cell] == name, (name, result.counts[np.searchsorted(result.cells, cell)])
    assert cls[centre] == ""
    # and z, p and q are those of the last window
    i = int(np.searchsorted(result.cells, at["new"]))
    assert result.hot[i].tolist() == [False] * 5 + [True]
    assert result.q[i, -1] <= 0.05 < result.q[i, 0]


def test_window_of_puts_edges_in_the_later_window_and_drops_outside():
    w = hs.window_of(np.array([-1.0, 0.0, 9.99, 10.0, 29.9, 30.0]), [0, 10, 20, 30])
    assert w.tolist() == [-1, 0, 0, 1, 2, -1]


def test_bin_points_matches_h3_one_by_one():
    rng = np.random.default_rng(7)
    lat = 28.2 + rng.random(500) * 0.05
    lng = 112.9 + rng.random(500) * 0.05
    got = hs.bin_points(lat, lng, 10)
    assert [h3.int_to_str(int(c)) for c in got] == [
        h3.latlng_to_cell(a, b, 10) for a, b in zip(lat, lng, strict=True)
    ]


def test_points_outside_the_filled_area_join_the_study_area():
    area = {h3.str_to_int(c) for c in h3.grid_disk(CENTRE, 1)}
    far = h3.str_to_int(h3.latlng_to_cell(28.5, 113.2, 9))
    result = hs.compute(np.array([far], dtype="uint64"), np.array([0]), windows=1, area_cells=area)
    assert far in result.cells.tolist()
    assert len(result.cells) == 8
