"""Benchmark hotspots: Gi* on H3 cells for 1,000,000 incidents, against PySAL esda.

Run: .venv/bin/python -m benchmarks.incidents_hotspots [--points 1000000] [--resolution 9]
     [--repeat 3] [--db none|sqlite|postgres|both] [--db-rows 1000000]

In memory (no database): `--points` synthetic incidents over a 0.3 x 0.3 degree district
(about 33 x 29 km; 70% spread evenly, 30% in 24 clusters of 150-400 m that stay, appear,
grow, fade or vanish over the windows), in 6 windows of 28 days. Timed, best of `--repeat`:

- end to end, ours: binning the points into H3 cells, filling the district with cells,
  the study area, H3 neighbour weights, Gi* + p + Benjamini-Hochberg FDR for each window,
  the Mann-Kendall classes, and the report's cells (centres and boundaries);
- statistics, ours: the weights from H3 and Gi* + p + FDR for the 6 windows;
- statistics, esda: a libpysal W built from the same neighbour dict (the H3 lookups that made
  the dict are not charged to esda) and `esda.G_Local(y, w, transform="B", star=True,
  permutations=0)` for each window: the analytical part only, no permutation inference.

esda's z-scores are checked equal to ours (1e-9) in the same run. Targets: end to end <= 2 s,
and ours >= 5x faster than esda on the same cells and weights (statistics against statistics).

With --db, a child process (see benchmarks._isolated) loads `--db-rows` located incidents into
one station of a fresh SQLite file or PostgreSQL database and times, separately, reading them
(`hotspot_selectors.station_points`: one query) and `station_hotspots` from the database.
The load average is printed with the figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._ground import loadavg
from fengqiao.analytics import hotspots as hs

BOX = (28.10, 112.80, 0.30)  # south, west, size in degrees
WINDOWS = 6
TARGET_SECONDS = 2.0
TARGET_RATIO = 5.0
BENCH_DB = "fq_bench_hotspots"
# How a cluster's share changes over the 6 windows (oldest first).
PROFILES = {
    "steady": [1, 1, 1, 1, 1, 1],
    "emerging": [0, 0, 0, 0, 0, 1],
    "growing": [0.2, 0.4, 0.6, 0.8, 1.0, 1.2],
    "fading": [1.2, 1.0, 0.8, 0.6, 0.5, 0.4],
    "gone": [1, 1, 1, 0, 0, 0],
    "flicker": [0, 1, 0, 0, 0, 1],
}


def synthetic(n: int, seed: int = 20261202) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (lats, lngs, windows) of n incidents with clusters that change over time."""
    rng = np.random.default_rng(seed)
    south, west, size = BOX
    n_bg = int(n * 0.7)
    lats = [south + rng.random(n_bg) * size]
    lngs = [west + rng.random(n_bg) * size]
    wins = [rng.integers(0, WINDOWS, n_bg)]
    n_cl = n - n_bg
    names = list(PROFILES)
    per = np.full(24, n_cl // 24)
    per[: n_cl - per.sum()] += 1
    for k in range(24):
        lat0 = south + 0.03 + rng.random() * (size - 0.06)
        lng0 = west + 0.03 + rng.random() * (size - 0.06)
        sigma = rng.uniform(150, 400) / 111_000
        weights = np.array(PROFILES[names[k % len(names)]], dtype=float)
        m = int(per[k])
        lats.append(lat0 + rng.normal(0, sigma, m))
        lngs.append(lng0 + rng.normal(0, sigma / math.cos(math.radians(lat0)), m))
        wins.append(rng.choice(WINDOWS, size=m, p=weights / weights.sum()))
    return np.concatenate(lats), np.concatenate(lngs), np.concatenate(wins)


def box_geometry() -> dict[str, Any]:
    south, west, size = BOX
    ring = [
        [west, south],
        [west + size, south],
        [west + size, south + size],
        [west, south + size],
        [west, south],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def end_to_end(lats: np.ndarray, lngs: np.ndarray, wins: np.ndarray, resolution: int) -> Any:
    """Points to classes and the report's cells, as `station_hotspots` does after its query."""
    point_cells = hs.bin_points(lats, lngs, resolution)
    area = hs.polygon_cells([box_geometry()], resolution)
    result = hs.compute(point_cells, wins, windows=WINDOWS, area_cells=area)
    listed = (result.counts.sum(axis=1) > 0) | result.hot.any(axis=1)
    return result, hs.to_cells(result, only=listed)


def ours_statistics(cells: np.ndarray, counts: np.ndarray) -> np.ndarray:
    nbr = hs.neighbour_index(cells)
    z = np.zeros(counts.shape)
    for w in range(counts.shape[1]):
        z[:, w] = hs.gi_star(counts[:, w], nbr)
        hs.fdr_bh(hs.p_two_sided(z[:, w]))
    return z


def esda_statistics(nbr_dict: dict[int, list[int]], counts: np.ndarray) -> np.ndarray:
    import esda
    import libpysal

    w = libpysal.weights.W(nbr_dict, silence_warnings=True)
    z = np.zeros(counts.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(counts.shape[1]):
            g = esda.G_Local(
                counts[:, k].astype("float64"), w, transform="B", star=True, permutations=0
            )
            z[:, k] = g.Zs
    return z


def in_memory(points: int, resolution: int, repeat: int) -> bool:
    print(f"python {platform.python_version()}, numpy {np.__version__}, load {loadavg()}")
    t0 = time.perf_counter()
    lats, lngs, wins = synthetic(points)
    print(f"generated {len(lats):,} points in {time.perf_counter() - t0:.1f} s")
    t_bin, _cells = best_of(repeat, lambda: hs.bin_points(lats, lngs, resolution))
    t_e2e, (result, listed) = best_of(repeat, lambda: end_to_end(lats, lngs, wins, resolution))
    cells, counts = result.cells, result.counts
    t_ours, z_ours = best_of(repeat, lambda: ours_statistics(cells, counts))
    nbr_dict = hs.neighbour_lists(result.nbr)
    t_esda, z_esda = best_of(repeat, lambda: esda_statistics(nbr_dict, counts))
    defined = np.isfinite(z_esda)
    diff = float(np.max(np.abs(z_ours[defined] - z_esda[defined]))) if defined.any() else 0.0
    trends = {t: result.trend.count(t) for t in hs.TRENDS}
    print(
        f"study area {len(cells):,} cells at resolution {resolution}; listed {len(listed):,}; "
        f"hot in the last window {int(result.hot[:, -1].sum())}; classes {trends}"
    )
    print(f"binning {points:,} points (h3.latlng_to_cell):       {t_bin * 1000:8.1f} ms")
    print(f"end to end, ours (points to classes and cells): {t_e2e * 1000:8.1f} ms")
    print(f"statistics, ours (H3 weights, Gi*+p+FDR x{WINDOWS}):  {t_ours * 1000:8.1f} ms")
    print(f"statistics, esda (W from dict, G_Local x{WINDOWS}):   {t_esda * 1000:8.1f} ms")
    ratio = t_esda / t_ours if t_ours else math.inf
    print(f"ratio esda / ours (statistics): {ratio:.1f}x; max |z_ours - z_esda| = {diff:.2e}")
    e2e_esda = t_e2e - t_ours + t_esda
    print(
        f"end to end with esda in place of ours: {e2e_esda * 1000:.1f} ms "
        f"(ratio {e2e_esda / t_e2e:.2f}x)"
    )
    print(f"load average after: {loadavg()}")
    ok = diff <= 1e-9 and t_e2e <= TARGET_SECONDS and ratio >= TARGET_RATIO
    fast = "met" if t_e2e <= TARGET_SECONDS else "MISSED"
    print(
        f"targets: end to end <= {TARGET_SECONDS} s: {fast}; "
        f">= {TARGET_RATIO}x esda: {'met' if ratio >= TARGET_RATIO else 'MISSED'}; "
        f"z equal to 1e-9: {'yes' if diff <= 1e-9 else 'NO'}"
    )
    return ok


# --- reading from the database (a child process per database) ---


def worker(rows: int, resolution: int, repeat: int) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from datetime import datetime, timedelta
    from datetime import time as dtime

    from django.db import connection, transaction
    from django.utils import timezone

    from benchmarks.disputes_report import Loader
    from fengqiao.analytics.hotspot_selectors import (
        station_hotspots,
        station_points,
        window_bounds,
    )
    from fengqiao.areas.services import area_create
    from fengqiao.incidents.codes import load_categories
    from fengqiao.incidents.models import Incident, IncidentCategory

    if not IncidentCategory.objects.exists():
        load_categories(IncidentCategory)
    district = area_create(actor=None, code="BD", name="基准分局", kind="district")
    station = area_create(
        actor=None,
        code="BS",
        name="基准派出所",
        kind="station",
        parent=district,
        boundary=box_geometry(),
    )
    community = area_create(
        actor=None,
        code="BS-C",
        name="基准社区",
        kind="community",
        parent=station,
        zone="built",
        boundary=box_geometry(),
    )
    grid = area_create(
        actor=None,
        code="BS-G",
        name="基准网格",
        kind="grid",
        parent=community,
        boundary=box_geometry(),
    )
    cat = IncidentCategory.objects.get(code="200100")
    end = timezone.localdate() - timedelta(days=1)
    bounds = window_bounds(end, 28, WINDOWS)
    tz = timezone.get_default_timezone()
    lats, lngs, wins = synthetic(rows)
    rng = np.random.default_rng(5)
    offsets = rng.integers(0, 28 * 86400, rows)
    starts = [timezone.make_aware(datetime.combine(first, dtime.min), tz) for first, _l in bounds]
    cols = [
        "station_id",
        "community_id",
        "area_id",
        "case_number",
        "source",
        "category_id",
        "class_code",
        "reported_at",
        "occurred_at",
        "narrative",
        "lat",
        "lng",
        "status",
        "valid",
        "repeat_reasons",
        "created_at",
        "updated_at",
    ]
    t0 = time.perf_counter()
    loader = Loader(Incident, cols)
    with transaction.atomic():
        for i in range(rows):
            t = starts[int(wins[i])] + timedelta(seconds=int(offsets[i]))
            loader.add(
                station.pk,
                community.pk,
                grid.pk,
                f"HS-{i:08d}",
                "dispatch_110",
                cat.pk,
                cat.class_code,
                t,
                t,
                "警情",
                float(lats[i]),
                float(lngs[i]),
                "closed",
                True,
                "[]",
                t,
                t,
            )
        loader.flush()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE incidents_incident")
    load_s = time.perf_counter() - t0
    t_read, (la, _lo, _w) = best_of(
        repeat, lambda: station_points(station_id=station.pk, windows=bounds)
    )
    t_all, report = best_of(
        repeat,
        lambda: station_hotspots(station_id=station.pk, end=end, resolution=resolution),
    )
    return {
        "vendor": connection.vendor,
        "rows": rows,
        "read_rows": len(la),
        "load_s": load_s,
        "read_ms": t_read * 1000,
        "station_hotspots_ms": t_all * 1000,
        "cells": report.area_cells,
        "load": loadavg(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--resolution", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", choices=["none", "sqlite", "postgres", "both"], default="none")
    parser.add_argument("--db-rows", type=int, default=1_000_000)
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.db_rows, args.resolution, args.repeat)
        Path(args.out).write_text(json.dumps(result))
        return 0
    ok = in_memory(args.points, args.resolution, args.repeat)
    if args.db != "none":
        from benchmarks import _isolated

        child = [
            "--db-rows",
            str(args.db_rows),
            "--resolution",
            str(args.resolution),
            "--repeat",
            str(args.repeat),
        ]
        results = _isolated.run_each(args.db, "benchmarks.incidents_hotspots", child, BENCH_DB)
        for db, r in results.items():
            print(
                f"{db}: loaded {r['rows']:,} incidents in {r['load_s']:.1f} s; reading them "
                f"(one query) {r['read_ms']:.0f} ms for {r['read_rows']:,} rows; "
                f"station_hotspots from the database {r['station_hotspots_ms']:.0f} ms "
                f"({r['cells']:,} cells); load {r['load']}"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
