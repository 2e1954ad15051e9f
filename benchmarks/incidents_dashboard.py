"""Benchmark the incident dashboard: from the rollups against the same figures by GROUP BY.

Run: .venv/bin/python -m benchmarks.incidents_dashboard [--db postgres|sqlite|both]
     [--pg-rows 10000000] [--sqlite-rows 1000000] [--stations 100]
Quick check: --rows 200000 (or FQ_BENCH_ROWS=200000) sets both sizes.

Each database runs in a child process: SQLite in a temporary directory, PostgreSQL in a
database `fq_bench_dashboard` created for the run and dropped after it (server from
FENGQIAO_BENCH_PG, else a postgres DATABASE_URL, else the local one). The child builds a
district of `--stations` stations (4 communities x 5 grids each), inserts `--rows` incidents
spread evenly over the stations and over the two years to today, with real patterns (more in
the evening and at weekends, more in summer, a few classes dominating, 5% invalid calls), raw
(bulk loads bypass the hooks): on PostgreSQL drawn by the server, one INSERT ... SELECT FROM
generate_series per station; on SQLite drawn in Python and inserted by executemany. Then times:

- rebuild: `rollup_rebuild()` over everything (what the importer and the demo run after a
  bulk load, and `fengqiao rollup_incidents`);
- dashboard: `dashboards.dashboard` for a station's chief, this year to date against the
  same period last year: every figure of the page (class tree, grids, communities, zero
  grids, hour-by-weekday heatmap, monthly trends with 同比/环比, headline YoY, one down one
  up), read from the rollups, for stations taken in turn;
- baseline: `dashboards.dashboard_from_incidents`, the same figures by GROUP BY over the
  incident table, for the same stations in the same run.

Both give equal figures (checked on every baseline run). Targets: PostgreSQL with 10,000,000
rows p95 <= 100 ms and >= 20x faster than the baseline (ratio of p95s); SQLite with 1,000,000
rows p95 <= 200 ms. The load average is printed with the figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import _isolated
from benchmarks._ground import district_tree, loadavg
from benchmarks.disputes_report import Loader, _analyze, _defaults, _p95, _timed

TARGETS = {"postgres": (100.0, 20.0), "sqlite": (200.0, 0.0)}
BENCH_DB = "fq_bench_dashboard"
COMMUNITIES, GRIDS = 4, 5  # per station, per community
DAYS = 730


def _argv(args: argparse.Namespace, rows: int) -> list[str]:
    return [
        "--rows",
        str(rows),
        "--stations",
        str(args.stations),
        "--repeat",
        str(args.repeat),
        "--baseline-repeat",
        str(args.baseline_repeat),
    ]


def report(results: dict[str, dict[str, Any]]) -> bool:
    """Print one line per database; return whether every target was met."""
    ok = True
    print()
    print(
        "Incident dashboard, one station, year to date vs last year: targets PostgreSQL "
        "p95 <= 100 ms and >= 20x faster than GROUP BY; SQLite p95 <= 200 ms (times in ms)"
    )
    header = (
        f"{'db':<9}{'rows':>11}{'stations':>9}{'load s':>8}{'rebuild s':>10}{'rollup rows':>12}"
        f"{'p50':>7}{'p95':>7}{'base p50':>9}{'base p95':>9}{'ratio':>8}{'district p95':>13}"
        f"{'load avg':>16}  target"
    )
    print(header)
    print("-" * len(header))
    for db, r in results.items():
        p95_max, ratio_min = TARGETS[db]
        ratio = r["base_p95"] / r["p95"]
        met = r["p95"] <= p95_max and ratio >= ratio_min
        ok &= met
        print(
            f"{db:<9}{r['rows']:>11,}{r['stations']:>9}{r['load_s']:>8.1f}{r['rebuild_s']:>10.1f}"
            f"{r['rollup_rows']:>12,}{r['p50']:>7.1f}{r['p95']:>7.1f}{r['base_p50']:>9.1f}"
            f"{r['base_p95']:>9.1f}{ratio:>7.1f}x{r['district_p95']:>13.1f}"
            f"{r['loadavg']:>16}  {'met' if met else 'NOT met'}"
        )
    print(
        "dashboard: dashboards.dashboard (every figure of the page) from the rollups, p50/p95 "
        "over stations in turn; base: the same figures by GROUP BY over the incident table; "
        "ratio: base p95 / dashboard p95; district: an analyst's dashboard summing every "
        "station; load: raw insert of the incidents; load avg: 1/5/15 min during the timing"
    )
    for db, r in results.items():
        print(
            f"{db}: {r['db_version']}; period {r['period']}; station YTD incidents "
            f"{r['station_count']:,}; {r['repeat']} dashboard runs, {r['baseline_repeat']} "
            f"baseline runs; figures equal: {r['equal']}"
        )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """Run each database in its own process; print p95s and the ratio to the baseline."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=int(os.environ.get("FQ_BENCH_ROWS", "0")) or None,
        help="incidents for every database (a quick check); default: the targets' sizes",
    )
    parser.add_argument("--pg-rows", type=int, default=10_000_000)
    parser.add_argument("--sqlite-rows", type=int, default=1_000_000)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=100, help="timed dashboards from rollups")
    parser.add_argument("--baseline-repeat", type=int, default=20, help="timed baselines")
    parser.add_argument("--db", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(
            args.rows or args.sqlite_rows, args.stations, args.repeat, args.baseline_repeat
        )
        args.out.write_text(json.dumps(result))
        return 0
    sizes = {
        "sqlite": args.rows or args.sqlite_rows,
        "postgres": args.rows or args.pg_rows,
    }
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"incidents over {args.stations} stations: "
        + ", ".join(f"{db} {n:,}" for db, n in sizes.items() if args.db in (db, "both"))
    )
    results: dict[str, dict[str, Any]] = {}
    for db, rows in sizes.items():
        if args.db in (db, "both"):
            results.update(
                _isolated.run_each(
                    db, "benchmarks.incidents_dashboard", _argv(args, rows), BENCH_DB
                )
            )
    return 0 if report(results) else 1


# --- the child: build, load, rebuild, time ---


def _jurisdiction(stations: int) -> tuple[list[int], dict[int, list[tuple[int, int]]], Any]:
    """Create the district and stations with a chief each; return ids, (grid, community), users."""
    from fengqiao.accounts.models import Membership, User

    district, ids, grids = district_tree("I", stations, COMMUNITIES, GRIDS)
    chiefs: dict[int, Any] = {}
    for s, station_id in enumerate(ids):
        chief = User.objects.create_user(username=f"bench-chief-{s}", password="x-bench-9")
        Membership.objects.create(user=chief, area_id=station_id, role="chief")
        chiefs[station_id] = chief
    analyst = User.objects.create_user(username="bench-analyst", password="x-bench-9")
    Membership.objects.create(user=analyst, area=district, role="analyst")
    return ids, grids, (chiefs, analyst)


# The incident columns both loaders write; the rest take their model defaults.
COLUMNS = (
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
    "status",
    "closed_at",
    "disposition",
    "valid",
    "repeat_reasons",
    "created_at",
    "updated_at",
)


# Weights: hour of day (evening peak), weekday (Mon..Sun), month (summer), category.
HOUR_W = [3, 2, 2, 1, 1, 1, 2, 3, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 9, 10, 10, 9, 7, 5]
DOW_W = [10, 10, 10, 10, 12, 14, 13]
MONTH_W = [8, 7, 9, 9, 10, 11, 12, 12, 10, 9, 8, 8]
CATEGORY_W = {
    "500000": 18,
    "200200": 12,
    "600300": 8,
    "300100": 10,
    "200100": 6,
    "100101": 4,
    "100401": 5,
    "100103": 5,
    "500200": 6,
    "500300": 5,
    "500100": 2,
    "400100": 1,
    "600100": 4,
    "600200": 3,
    "200600": 2,
    "100104": 2,
    "900100": 1,
    "950100": 1,
    "999900": 3,
}


def _load(rows: int, ids: list[int], grids: dict[int, list[tuple[int, int]]]) -> int:
    """Insert the incidents raw; return how many."""
    from django.db import transaction
    from django.utils import timezone

    from fengqiao.incidents.models import Incident, IncidentCategory

    cats = {c.code: (c.pk, c.class_code) for c in IncidentCategory.objects.all()}
    cat_keys = [cats[code] for code in CATEGORY_W]
    cat_w = list(CATEGORY_W.values())
    rnd = random.Random(20261202)  # the same data on every run
    tz = timezone.get_default_timezone()
    now = timezone.now().replace(microsecond=0)
    first_day = timezone.localtime(now, tz).date() - timedelta(days=DAYS - 1)
    days = [first_day + timedelta(days=i) for i in range(DAYS)]
    day_w = [DOW_W[d.weekday()] * MONTH_W[d.month - 1] for d in days]
    # Midnights of each local day, as aware datetimes.
    midnights = [timezone.make_aware(datetime.combine(d, datetime.min.time()), tz) for d in days]
    cols = list(COLUMNS)
    loader = Loader(Incident, cols)
    per_station = rows // len(ids)
    sources = ["dispatch_110"] * 7 + ["walk_in", "phone", "video", "patrol", "volunteer"]
    with transaction.atomic():
        for n, station in enumerate(ids):
            count = per_station + (1 if n < rows - per_station * len(ids) else 0)
            # Each station's grids differ in how busy they are; one grid is always quiet.
            g_w = [rnd.uniform(0.5, 3.0) for _g in grids[station]]
            g_w[-1] = 0.0
            picked_days = rnd.choices(range(DAYS), weights=day_w, k=count)
            picked_hours = rnd.choices(range(24), weights=HOUR_W, k=count)
            picked_grids = rnd.choices(grids[station], weights=g_w, k=count)
            picked_cats = rnd.choices(cat_keys, weights=cat_w, k=count)
            for i in range(count):
                reported = midnights[picked_days[i]] + timedelta(
                    hours=picked_hours[i], seconds=rnd.randrange(3600)
                )
                if reported > now:
                    reported = now - timedelta(seconds=rnd.randrange(1, 36000))
                grid, community = picked_grids[i]
                cat_id, class_code = picked_cats[i]
                valid = rnd.random() > 0.05
                closed = reported + timedelta(minutes=30 + rnd.randrange(180))
                loader.add(
                    station,
                    community,
                    grid,
                    f"JQ-{i + 1:08d}",
                    sources[i % 12],
                    cat_id,
                    class_code,
                    reported,
                    reported - timedelta(minutes=10),
                    "警情",
                    "closed",
                    closed,
                    "on_spot" if valid else "invalid",
                    valid,
                    "[]",
                    reported,
                    closed,
                )
            loader.flush()
    return loader.count


# On PostgreSQL the rows are drawn by the server: one INSERT ... SELECT FROM generate_series
# per station, each value picked from an array where every choice appears as often as its
# weight (so `arr[1 + floor(random() * len)]` is a weighted draw).
_PG_INSERT = """
INSERT INTO {table} ({cols})
SELECT %(station)s, r.community, r.grid, 'JQ-' || lpad(r.i::text, 8, '0'),
       (%(sources)s::text[])[1 + r.i %% 12], r.cat, r.cls, r.rep, r.rep - interval '10 minutes',
       '警情', 'closed', r.rep + r.close_min * interval '1 minute',
       CASE WHEN r.valid THEN 'on_spot' ELSE 'invalid' END, r.valid, '[]'::jsonb,
       r.rep, r.rep + r.close_min * interval '1 minute'{extra}
FROM (
    SELECT d.i, (%(grid_ids)s::int[])[d.gi] AS grid, (%(comm_ids)s::int[])[d.gi] AS community,
           (%(cat_ids)s::int[])[d.ci] AS cat, (%(cat_cls)s::text[])[d.ci] AS cls,
           LEAST(((%(first)s::date + d.day) + make_interval(hours => d.hour, secs => d.sec))
                 AT TIME ZONE %(tz)s, %(now)s::timestamptz - d.back * interval '1 second') AS rep,
           d.valid, d.close_min
    FROM (
        SELECT i,
               (%(days)s::int[])[1 + floor(random() * %(n_days)s)::int] AS day,
               (%(hours)s::int[])[1 + floor(random() * %(n_hours)s)::int] AS hour,
               floor(random() * 3600)::int AS sec,
               1 + floor(random() * 36000)::int AS back,
               (%(grid_pick)s::int[])[1 + floor(random() * %(n_grid)s)::int] AS gi,
               (%(cat_pick)s::int[])[1 + floor(random() * %(n_cat)s)::int] AS ci,
               random() > 0.05 AS valid,
               30 + floor(random() * 180)::int AS close_min
        FROM generate_series(1, %(count)s) AS i
    ) d
) r
ORDER BY r.rep
"""


def _spread(weights: Sequence[float], scale: float = 1.0) -> list[int]:
    """Return 1-based indexes, each repeated in proportion to its weight."""
    return [i + 1 for i, w in enumerate(weights) for _k in range(round(w * scale))]


def _load_pg(rows: int, ids: list[int], grids: dict[int, list[tuple[int, int]]]) -> int:
    """Insert the incidents raw on PostgreSQL, drawn by the server; return how many."""
    from django.db import connection, transaction
    from django.utils import timezone

    from fengqiao.incidents.models import Incident, IncidentCategory

    cats = {c.code: (c.pk, c.class_code) for c in IncidentCategory.objects.all()}
    given = list(COLUMNS)
    extra_cols, extra_values = _defaults(Incident, given)
    cols = [Incident._meta.get_field(g).column for g in given] + extra_cols
    sql = _PG_INSERT.format(
        table=Incident._meta.db_table,
        cols=", ".join(connection.ops.quote_name(c) for c in cols),
        extra="".join(f", %(x{k})s" for k in range(len(extra_values))),
    )
    tz = timezone.get_default_timezone()
    now = timezone.now().replace(microsecond=0)
    first_day = timezone.localtime(now, tz).date() - timedelta(days=DAYS - 1)
    day_w = [
        DOW_W[(first_day + timedelta(days=i)).weekday()]
        * MONTH_W[(first_day + timedelta(days=i)).month - 1]
        for i in range(DAYS)
    ]
    days = [i - 1 for i in _spread(day_w, 0.1)]
    hours = [i - 1 for i in _spread(HOUR_W)]
    cat_pick = _spread(list(CATEGORY_W.values()))
    rnd = random.Random(20261202)
    per_station = rows // len(ids)
    common: dict[str, Any] = {
        "sources": ["dispatch_110"] * 7 + ["walk_in", "phone", "video", "patrol", "volunteer"],
        "cat_ids": [cats[code][0] for code in CATEGORY_W],
        "cat_cls": [cats[code][1] for code in CATEGORY_W],
        "first": first_day,
        "tz": timezone.get_default_timezone_name(),
        "now": now,
        "days": days,
        "n_days": len(days),
        "hours": hours,
        "n_hours": len(hours),
        "cat_pick": cat_pick,
        "n_cat": len(cat_pick),
        **{f"x{k}": v for k, v in enumerate(extra_values)},
    }
    loaded = 0
    table = Incident._meta.db_table
    with transaction.atomic(), connection.cursor() as cur:
        # As a bulk load does: drop the secondary indexes (not those of constraints), load,
        # build them again once; the time to build them is part of the load's time.
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [table],
        )
        indexes = cur.fetchall()
        for name, _sql in indexes:
            cur.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        cur.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cur.execute("SELECT setseed(0.2026)")
        # A bulk load of rows consistent by construction: skip the per-row foreign key
        # triggers, as pg_restore --disable-triggers does.
        cur.execute("SET LOCAL session_replication_role = replica")
        for n, station in enumerate(ids):
            count = per_station + (1 if n < rows - per_station * len(ids) else 0)
            # Each station's grids differ in how busy they are; one grid is always quiet.
            g_w = [rnd.uniform(0.5, 3.0) for _g in grids[station]]
            g_w[-1] = 0.0
            grid_pick = _spread(g_w, 10)
            cur.execute(
                sql,
                {
                    **common,
                    "station": station,
                    "count": count,
                    "grid_ids": [g for g, _c in grids[station]],
                    "comm_ids": [c for _g, c in grids[station]],
                    "grid_pick": grid_pick,
                    "n_grid": len(grid_pick),
                },
            )
            loaded += count
            if (n + 1) % 10 == 0:
                print(f"  {loaded:,} incidents", flush=True)
        for _name, index_sql in indexes:
            cur.execute(index_sql)
        print(f"  {len(indexes)} indexes built again", flush=True)
    return loaded


def worker(rows: int, stations: int, repeat: int, baseline_repeat: int) -> dict[str, Any]:
    """Build, load, rebuild and time in the configured database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from django.core.management import call_command

    from fengqiao.analytics import dashboards
    from fengqiao.incidents.models import IncidentDaily, IncidentHourly, IncidentMonthly
    from fengqiao.incidents.rollups import rollup_rebuild

    call_command("migrate", verbosity=0)
    ids, grids, (chiefs, analyst) = _jurisdiction(stations)
    start = time.perf_counter()
    from django.db import connection

    loaded = (_load_pg if connection.vendor == "postgresql" else _load)(rows, ids, grids)
    load_s = time.perf_counter() - start
    print(f"  loaded {loaded:,} incidents in {load_s:.1f} s", flush=True)
    _analyze()

    start = time.perf_counter()
    daily_rows = rollup_rebuild()
    rebuild_s = time.perf_counter() - start
    _analyze()
    rollup_rows = (
        IncidentDaily.objects.count()
        + IncidentHourly.objects.count()
        + IncidentMonthly.objects.count()
    )
    print(f"  rollup_rebuild: {rebuild_s:.1f} s ({daily_rows:,} daily rows)", flush=True)

    first, last = dashboards.default_period()
    turn = {"i": 0}

    def next_chief() -> Any:
        chief = chiefs[ids[turn["i"] % len(ids)]]
        turn["i"] += 1
        chief.__dict__.pop("_fq_scopes", None)  # a new request computes its scope afresh
        chief.__dict__.pop("_fq_memberships", None)
        return chief

    def fast() -> dict[str, Any]:
        return dashboards.dashboard(user=next_chief(), first=first, last=last)

    base_turn = {"i": 0}
    equal = True

    def district() -> dict[str, Any]:
        analyst.__dict__.pop("_fq_scopes", None)
        analyst.__dict__.pop("_fq_memberships", None)
        return dashboards.dashboard(user=analyst, first=first, last=last)

    _timed(fast, 3)  # warm the caches and the connection
    fast_times, fast_out = _timed(fast, repeat)
    load = loadavg()
    slow_times: list[float] = []
    for _i in range(baseline_repeat):
        # Time only the GROUP BY figures; the equality check after each is not timed.
        station = ids[base_turn["i"] % len(ids)]
        chief = chiefs[station]
        chief.__dict__.pop("_fq_scopes", None)
        chief.__dict__.pop("_fq_memberships", None)
        t0 = time.perf_counter()
        scope = dashboards.dashboard_scope(chief)
        out = dashboards.dashboard_from_incidents(scope, first=first, last=last)
        slow_times.append((time.perf_counter() - t0) * 1000)
        base_turn["i"] += 1
        equal &= out == dashboards.dashboard_for(scope, first=first, last=last)
    district_times, _out = _timed(district, max(5, repeat // 10))
    if not equal:
        raise RuntimeError("the dashboard from rollups differs from the one by GROUP BY")
    print(
        f"  dashboard p95 {_p95(fast_times):.1f} ms, baseline p95 {_p95(slow_times):.1f} ms, "
        f"ratio {_p95(slow_times) / _p95(fast_times):.1f}x, load avg {load}",
        flush=True,
    )
    return {
        "rows": loaded,
        "stations": stations,
        "load_s": load_s,
        "rebuild_s": rebuild_s,
        "rollup_rows": rollup_rows,
        "period": f"{first}..{last}",
        "p50": statistics.median(fast_times),
        "p95": _p95(fast_times),
        "base_p50": statistics.median(slow_times),
        "base_p95": _p95(slow_times),
        "district_p95": _p95(district_times),
        "station_count": fast_out["totals"]["count"],
        "repeat": repeat,
        "baseline_repeat": baseline_repeat,
        "equal": equal,
        "loadavg": load,
        "db_version": _isolated.db_version(),
    }


if __name__ == "__main__":
    sys.exit(main())
