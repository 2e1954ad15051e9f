"""Benchmark point-in-grid location: `GridIndex.locate_many` against a naive loop.

Run: .venv/bin/python -m benchmarks.locate [--points 1000000] [--sample 20000] [--station CODE]

Without --station the grids are built here, with no database: a Voronoi tessellation of
random seeds clipped to an irregular station outline, like the demo's. With --station the
station's grids are read from the configured database.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from fengqiao.areas.geo import GridIndex

TARGET = 200_000  # points per second


def station_outline(
    rng: np.random.Generator, centre: tuple[float, float] = (112.93, 28.22)
) -> Polygon:
    """Return an irregular outline of about 6 km across, around `centre` (lng, lat)."""
    angles = np.sort(rng.uniform(0, 2 * math.pi, 40))
    radii = 0.03 * (1 + 0.25 * np.sin(3 * angles) + rng.uniform(-0.08, 0.08, angles.size))
    lng0, lat0 = centre
    ring = np.column_stack(
        [
            lng0 + radii * np.cos(angles) / math.cos(math.radians(lat0)),
            lat0 + radii * np.sin(angles),
        ]
    )
    outline = Polygon(ring)  # star-shaped around the centre, so always simple
    if not outline.is_valid:
        raise RuntimeError(shapely.is_valid_reason(outline))
    return outline


def voronoi_grids(outline: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    """Return `n` grid polygons tiling `outline`: Voronoi cells of random seeds, clipped."""
    minx, miny, maxx, maxy = outline.bounds
    seeds: list[Point] = []
    while len(seeds) < n:
        xs, ys = rng.uniform(minx, maxx, 4 * n), rng.uniform(miny, maxy, 4 * n)
        inside = shapely.contains_xy(outline, xs, ys)
        seeds.extend(shapely.points(xs[inside], ys[inside]).tolist())
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seeds[:n]), extend_to=outline, ordered=True)
    )
    grids = shapely.intersection(cells, outline)
    grids = grids[~shapely.is_empty(grids)]
    if len(grids) != n:
        raise RuntimeError(f"expected {n} grids, got {len(grids)}")
    return grids


def synthetic_index(grids: int, seed: int) -> tuple[GridIndex, np.ndarray]:
    """Return a GridIndex over generated grids, and the plain (unprepared) polygons."""
    rng = np.random.default_rng(seed)
    polygons = voronoi_grids(station_outline(rng), grids, rng)
    plain = shapely.from_wkb(shapely.to_wkb(polygons))  # copies, never prepared
    shapely.prepare(polygons)
    index = GridIndex(
        station_id=0,
        version="",
        grid_ids=np.arange(1, len(polygons) + 1, dtype="int64"),
        polygons=polygons,
        tree=shapely.STRtree(polygons),
    )
    return index, plain


def database_index(code: str) -> tuple[GridIndex, np.ndarray]:
    """Return the GridIndex of a station in the configured database, and plain polygons."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from fengqiao.areas.geo import grid_index
    from fengqiao.areas.models import Area

    station = Area.objects.get(code=code, kind="station")
    index = grid_index(station.pk)
    if not len(index.polygons):
        raise SystemExit(f"station {code} has no grids with boundaries")
    return index, shapely.from_wkb(shapely.to_wkb(index.polygons))


def naive_locate(
    polygons: np.ndarray, grid_ids: np.ndarray, lngs: np.ndarray, lats: np.ndarray
) -> np.ndarray:
    """Return the grid of each point by testing every polygon in turn: the baseline."""
    out = np.full(len(lngs), -1, dtype="int64")
    for k, (x, y) in enumerate(zip(lngs.tolist(), lats.tolist(), strict=True)):
        point = Point(x, y)
        for i, polygon in enumerate(polygons):
            if polygon.contains(point):
                out[k] = grid_ids[i]
                break
    return out


def best_of(repeat: int, fn: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    """Return the fastest of `repeat` runs of `fn` in seconds, and its result."""
    best, result = math.inf, np.empty(0)
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main(argv: Sequence[str] | None = None) -> int:
    """Time both ways on the same points, check they agree, print points per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="points for the naive loop")
    parser.add_argument("--grids", type=int, default=51)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3, help="runs of locate_many; best counts")
    parser.add_argument("--station", default="", help="use this station's grids from the DB")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    if args.station:
        index, plain = database_index(args.station)
        source = f"station {args.station} from the database"
    else:
        index, plain = synthetic_index(args.grids, args.seed)
        source = f"Voronoi tessellation, seed {args.seed}"
    build = time.perf_counter() - start
    polygons, grid_ids = index.polygons, index.grid_ids
    minx, miny, maxx, maxy = shapely.total_bounds(polygons)
    rng = np.random.default_rng(args.seed + 1)
    lngs = rng.uniform(minx, maxx, args.points)
    lats = rng.uniform(miny, maxy, args.points)

    print(
        f"python {platform.python_version()}, shapely {shapely.__version__}, "
        f"GEOS {shapely.geos_version_string}, numpy {np.__version__}, {os.cpu_count()} CPUs"
    )
    print(f"grids: {len(polygons)} ({source}); built and indexed in {build:.2f} s")
    print(f"extent: lng {minx:.4f}..{maxx:.4f}, lat {miny:.4f}..{maxy:.4f}")

    fast_s, fast = best_of(args.repeat, lambda: index.locate_many(lngs, lats))
    fast_rate = args.points / fast_s
    inside = int((fast >= 0).sum())
    print(
        f"GridIndex.locate_many: {args.points:,} points in {fast_s:.3f} s "
        f"(best of {args.repeat}) = {fast_rate:,.0f} points/s; {inside:,} inside a grid"
    )

    n = min(args.sample, args.points)
    sample_lngs, sample_lats = lngs[:n], lats[:n]
    naive_s, naive = best_of(1, lambda: naive_locate(plain, grid_ids, sample_lngs, sample_lats))
    naive_rate = n / naive_s
    print(
        f"naive loop (Polygon.contains per point and polygon, unprepared): {n:,} points in "
        f"{naive_s:.3f} s = {naive_rate:,.0f} points/s "
        f"(extrapolated to {args.points:,}: {args.points / naive_rate:,.1f} s)"
    )
    print(f"speed-up: {fast_rate / naive_rate:,.1f}x")

    mismatches = int((fast[:n] != naive).sum())
    print(f"agreement on the {n:,}-point sample: {n - mismatches:,} identical, {mismatches} differ")
    met = fast_rate >= TARGET
    print(f"target {TARGET:,} points/s: {'met' if met else 'NOT met'}")
    return 0 if mismatches == 0 and met else 1


if __name__ == "__main__":
    sys.exit(main())
