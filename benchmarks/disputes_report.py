"""Benchmark the monthly dispute report: from the rollups against the same figures from cases.

Run: .venv/bin/python -m benchmarks.disputes_report [--rows 1000000] [--stations 100] [--db both]

Each database runs in a child process: SQLite in a temporary directory, PostgreSQL in a
database `fq_bench_report` created for the run and dropped after it (server from
FENGQIAO_BENCH_PG, else a postgres DATABASE_URL, else the local one). The child builds a
district of `--stations` stations (4 communities x 4 grids each), inserts `--rows` disputes
spread evenly over them and over the two years to yesterday, with follow-ups (about one per
three cases) and screening visits (one per ten), raw (COPY on PostgreSQL, executemany on
SQLite: bulk loads bypass the signals), then times:

- rebuild: `rollup_rebuild()` over everything (what the demo loader and the
  `rollup_disputes` command run after a bulk load);
- report: `monthly_report` for one station's chief, last full month (totals, 同比, 环比,
  six breakdowns, 13-month trend, live overdue count), read from the rollups;
- baseline: `monthly_report_from_cases`, the same figures computed from the case tables
  (disputes, follow-ups, visits of the 13 months), in the same run, on the same data.

Both give equal reports (checked). Target: report p95 <= 200 ms and >= 20x faster than the
baseline (ratio of p95s). A district analyst's report (all stations summed) is timed too.
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
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks import _isolated
from benchmarks._ground import district_tree

TARGET_P95_MS = 200.0
TARGET_RATIO = 20.0
BENCH_DB = "fq_bench_report"
COMMUNITIES, GRIDS = 4, 4  # per station, per community
DAYS = 730


# --- the parent ---


def _argv(args: argparse.Namespace) -> list[str]:
    return [
        "--rows",
        str(args.rows),
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
        f"Monthly dispute report, one station: target p95 <= {TARGET_P95_MS:.0f} ms and "
        f">= {TARGET_RATIO:.0f}x faster than from cases (times in ms)"
    )
    header = (
        f"{'db':<9}{'rows':>10}{'stations':>9}{'load s':>8}{'rebuild s':>10}{'rollup rows':>12}"
        f"{'p50':>7}{'p95':>7}{'base p50':>9}{'base p95':>9}{'ratio':>8}{'district p95':>13}"
        "  target"
    )
    print(header)
    print("-" * len(header))
    for db, r in results.items():
        ratio = r["base_p95"] / r["p95"]
        met = r["p95"] <= TARGET_P95_MS and ratio >= TARGET_RATIO
        ok &= met
        print(
            f"{db:<9}{r['rows']:>10,}{r['stations']:>9}{r['load_s']:>8.1f}{r['rebuild_s']:>10.1f}"
            f"{r['rollup_rows']:>12,}{r['p50']:>7.1f}{r['p95']:>7.1f}{r['base_p50']:>9.1f}"
            f"{r['base_p95']:>9.1f}{ratio:>7.1f}x{r['district_p95']:>13.1f}"
            f"  {'met' if met else 'NOT met'}"
        )
    print(
        "report: monthly_report from the rollups, p50/p95 of the runs; base: the same report "
        "from the case tables; ratio: base p95 / report p95; district: an analyst's report "
        "summing every station, from the rollups; load: raw insert of cases, follow-ups, visits"
    )
    for db, r in results.items():
        print(
            f"{db}: {r['db_version']}; month {r['month']}; {r['followups']:,} follow-ups, "
            f"{r['visits']:,} visits; station month: {r['station_month_received']} received, "
            f"{r['station_month_concluded']} concluded; {r['repeat']} report runs, "
            f"{r['baseline_repeat']} baseline runs; reports equal: {r['equal']}"
        )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """Run each database in its own process; print p95s and the ratio to the baseline."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=50, help="timed reports from rollups")
    parser.add_argument("--baseline-repeat", type=int, default=20, help="timed baselines")
    parser.add_argument("--db", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.rows, args.stations, args.repeat, args.baseline_repeat)
        args.out.write_text(json.dumps(result))
        return 0
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.rows:,} disputes over {args.stations} stations"
    )
    results = _isolated.run_each(args.db, "benchmarks.disputes_report", _argv(args), BENCH_DB)
    return 0 if report(results) else 1


# --- the child: build, load, rebuild, time ---


def _jurisdiction(stations: int) -> tuple[list[int], dict[int, list[tuple[int, int]]], Any]:
    """Create the district and stations; return station ids, their (grid, community), user."""
    from fengqiao.accounts.models import Membership, User

    district, ids, grids = district_tree("R", stations, COMMUNITIES, GRIDS)
    chief = User.objects.create_user(username="bench-chief", password="x-bench-9")
    Membership.objects.create(user=chief, area_id=ids[0], role="chief")
    analyst = User.objects.create_user(username="bench-analyst", password="x-bench-9")
    Membership.objects.create(user=analyst, area=district, role="analyst")
    return ids, grids, (chief, analyst)


SOURCES = (
    ("application", 40),
    ("screening", 20),
    ("police_call", 20),
    ("tip", 15),
    ("referral", 5),
)
CHANNELS = ("community", "lawyer", "judicial", "police", "sector", "joint")
COLOURS = (("blue", 60), ("yellow", 20), ("orange", 12), ("red", 8))
GRADES = {"blue": "trivia", "yellow": "civil", "orange": "civil", "red": "major"}
DEADLINE_DAYS = {"trivia": 7, "civil": 30, "major": 15}
ENDINGS = (
    ("closed", "success", 58),
    ("closed", "partial", 8),
    ("referred", "failed", 14),
    ("withdrawn", "withdrawn", 12),
    ("terminated", "terminated", 8),
)


def _pick(rnd: random.Random, weighted: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    total = sum(w[-1] for w in weighted)
    x = rnd.uniform(0, total)
    for item in weighted:
        x -= item[-1]
        if x <= 0:
            return item
    return weighted[-1]


def _defaults(model: Any, given: Sequence[str]) -> tuple[list[str], list[Any]]:
    """Return the other concrete columns of `model` and their prepared default values."""
    from django.db import connection

    cols, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.attname in given:
            continue
        cols.append(f.column)
        values.append(f.get_db_prep_save(f.get_default(), connection))
    return cols, values


class Loader:
    """Insert rows raw: COPY on PostgreSQL, executemany on SQLite, in chunks."""

    def __init__(self, model: Any, given: Sequence[str]) -> None:
        from django.db import connection

        self.connection = connection
        self.table = model._meta.db_table
        self.given = list(given)
        self.extra_cols, self.extra_values = _defaults(model, given)
        self.cols = [model._meta.get_field(g).column for g in given] + self.extra_cols
        self.rows: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, *values: Any) -> None:
        self.rows.append(values)
        if len(self.rows) >= 20_000:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        conn = self.connection
        extra = tuple(self.extra_values)
        names = ", ".join(conn.ops.quote_name(c) for c in self.cols)
        if conn.vendor == "postgresql":
            raw = conn.connection
            with raw.cursor() as cur, cur.copy(f"COPY {self.table} ({names}) FROM STDIN") as cp:
                for row in self.rows:
                    cp.write_row(row + extra)
        else:
            ops = conn.ops
            prepared = [
                tuple(
                    ops.adapt_datetimefield_value(v)
                    if isinstance(v, datetime)
                    else v.isoformat()
                    if isinstance(v, date)
                    else v
                    for v in row
                )
                + extra
                for row in self.rows
            ]
            marks = ", ".join(["%s"] * len(self.cols))
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {self.table} ({names}) VALUES ({marks})", prepared)
        self.count += len(self.rows)
        self.rows = []


def _load(rows: int, ids: list[int], grids: dict[int, list[tuple[int, int]]], user: Any) -> dict:
    """Insert the disputes, follow-ups and visits; return counts."""
    from django.db import transaction
    from django.utils import timezone

    from fengqiao.disputes.codes import load_dispute_types, load_stat_types
    from fengqiao.disputes.models import Dispute, DisputeType, FollowUp, ScreeningVisit, StatType

    if not DisputeType.objects.exists():
        load_stat_types(StatType)
        load_dispute_types(DisputeType, StatType)
    types = list(
        DisputeType.objects.filter(parent__isnull=False).values_list("pk", "stat_type_id", "code")
    )
    rnd = random.Random(20260301)  # the same data on every run
    now = timezone.now().replace(microsecond=0)
    tz = timezone.get_default_timezone()
    today = timezone.localdate(timezone=tz)
    span = DAYS * 86400
    dispute_cols = [
        "station_id",
        "community_id",
        "area_id",
        "case_number",
        "narrative",
        "occurred_at",
        "reported_at",
        "source",
        "type_id",
        "stat_type_id",
        "scale",
        "people_count",
        "amount",
        "violence",
        "grade_auto",
        "colour_auto",
        "colour_reasons",
        "grade",
        "colour",
        "threat_words",
        "threat_state",
        "status",
        "status_changed_at",
        "closed_at",
        "channel",
        "deadline",
        "outcome",
        "search_text",
        "created_at",
        "updated_at",
    ]
    disputes = Loader(Dispute, dispute_cols)
    json_empty = "[]"
    # Ids are assigned by the database in insertion order, from 1 on an empty table.
    next_id = 1
    plans: list[tuple[int, int, datetime]] = []  # (dispute id, station, closed_at) for follow-ups
    per_station = rows // len(ids)
    with transaction.atomic():
        for n, station in enumerate(ids):
            station_rows = per_station + (1 if n < rows - per_station * len(ids) else 0)
            for i in range(station_rows):
                grid, community = rnd.choice(grids[station])
                reported = now - timedelta(seconds=rnd.randrange(86400, span))
                type_id, stat_id, _code = rnd.choice(types)
                colour = _pick(rnd, COLOURS)[0]
                grade = GRADES[colour]
                deadline = timezone.localtime(reported, tz).date() + timedelta(
                    days=DEADLINE_DAYS[grade]
                )
                age = (now - reported).days
                status, outcome, closed = "mediating", "", None
                channel = rnd.choice(CHANNELS)
                if age > 60 or rnd.random() < 0.6:
                    status, outcome, _w = _pick(rnd, ENDINGS)
                    closed = reported + timedelta(seconds=rnd.randrange(3600, 45 * 86400))
                    if closed >= now:
                        status, outcome, closed = "mediating", "", None
                elif rnd.random() < 0.3:
                    status, channel = "received", ""
                people = 1 + int(rnd.expovariate(0.5))
                amount = Decimal(rnd.choice((0, 0, 500, 2000, 8000, 30000, 150000)))
                disputes.add(
                    station,
                    community,
                    grid,
                    f"MD-{i + 1:07d}",
                    "邻里纠纷",
                    reported - timedelta(hours=3),
                    reported,
                    _pick(rnd, SOURCES)[0],
                    type_id,
                    stat_id,
                    "individual",
                    people,
                    amount,
                    rnd.random() < 0.04,
                    grade,
                    colour,
                    json_empty,
                    grade,
                    colour,
                    json_empty,
                    "confirmed" if rnd.random() < 0.02 else "none",
                    status,
                    closed or reported,
                    closed,
                    channel,
                    deadline,
                    outcome,
                    "",
                    reported,
                    closed or reported,
                )
                if status == "closed" and closed is not None and rnd.random() < 0.5:
                    plans.append((next_id, station, closed))
                next_id += 1
        disputes.flush()
    first_id = Dispute.objects.order_by("id").values_list("id", flat=True).first() or 1
    followups = Loader(
        FollowUp,
        [
            "dispute_id",
            "station_id",
            "kind",
            "due_date",
            "state",
            "visited_at",
            "satisfaction",
            "created_at",
            "updated_at",
        ],
    )
    with transaction.atomic():
        for dispute_id, station, closed in plans:
            due_at = closed + timedelta(days=7)
            due = timezone.localtime(due_at, tz).date()
            visited = due_at + timedelta(hours=rnd.randrange(0, 72))
            done = visited < now and rnd.random() < 0.85
            followups.add(
                dispute_id + first_id - 1,
                station,
                "days_7",
                due,
                "done" if done else ("scheduled" if due >= today else "cancelled"),
                visited if done else None,
                rnd.choice((2, 3, 4, 4, 5, 5)) if done else None,
                closed,
                closed,
            )
        followups.flush()
    visits = Loader(
        ScreeningVisit,
        [
            "station_id",
            "community_id",
            "area_id",
            "visited_at",
            "visitor_id",
            "visited",
            "address",
            "findings",
            "result",
            "created_at",
            "updated_at",
        ],
    )
    with transaction.atomic():
        for station in ids:
            for _i in range(per_station // 10):
                grid, community = rnd.choice(grids[station])
                at = now - timedelta(seconds=rnd.randrange(3600, span))
                result = _pick(rnd, (("nothing", 60), ("resolved", 30), ("dispute", 10)))[0]
                visits.add(
                    station,
                    community,
                    grid,
                    at,
                    user.pk,
                    "住户",
                    "枫桥路",
                    "走访排查",
                    result,
                    at,
                    at,
                )
        visits.flush()
    return {"disputes": disputes.count, "followups": followups.count, "visits": visits.count}


def _analyze() -> None:
    """Refresh the planner's statistics, as autovacuum would after a bulk load on PostgreSQL
    (VACUUM also sets the visibility map that index-only scans need)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _timed(fn: Callable[[], Any], n: int) -> tuple[list[float], Any]:
    times, out = [], None
    for _i in range(n):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, out


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def worker(rows: int, stations: int, repeat: int, baseline_repeat: int) -> dict[str, Any]:
    """Build, load, rebuild and time in the configured database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from django.core.management import call_command

    from fengqiao.disputes.models import DisputeDaily, DisputeMonthly
    from fengqiao.disputes.report import (
        default_month,
        monthly_report,
        monthly_report_from_cases,
    )
    from fengqiao.disputes.rollups import rollup_rebuild

    call_command("migrate", verbosity=0)
    ids, grids, (chief, analyst) = _jurisdiction(stations)
    start = time.perf_counter()
    counts = _load(rows, ids, grids, chief)
    load_s = time.perf_counter() - start
    print(f"  loaded {counts} in {load_s:.1f} s", flush=True)
    _analyze()

    start = time.perf_counter()
    rebuilt = rollup_rebuild()
    rebuild_s = time.perf_counter() - start
    _analyze()
    rollup_rows = DisputeDaily.objects.count() + DisputeMonthly.objects.count()
    print(
        f"  rollup_rebuild: {rebuild_s:.1f} s ({rebuilt.daily_rows:,} daily rows, "
        f"{rebuilt.monthly_rows:,} monthly rows)",
        flush=True,
    )

    year, month = default_month()

    def fast() -> dict[str, Any]:
        chief.__dict__.pop("_fq_scopes", None)  # a new request computes its scope afresh
        return monthly_report(user=chief, year=year, month=month)

    def slow() -> dict[str, Any]:
        chief.__dict__.pop("_fq_scopes", None)
        return monthly_report_from_cases(user=chief, year=year, month=month)

    def district() -> dict[str, Any]:
        analyst.__dict__.pop("_fq_scopes", None)
        return monthly_report(user=analyst, year=year, month=month)

    _timed(fast, 3)  # warm the caches and the connection
    _timed(slow, 1)
    fast_times, fast_out = _timed(fast, repeat)
    slow_times, slow_out = _timed(slow, baseline_repeat)
    district_times, _out = _timed(district, max(5, repeat // 5))
    equal = fast_out == slow_out
    if not equal:
        raise RuntimeError("the report from rollups differs from the report from cases")
    print(
        f"  report p95 {_p95(fast_times):.1f} ms, baseline p95 {_p95(slow_times):.1f} ms, "
        f"ratio {_p95(slow_times) / _p95(fast_times):.1f}x",
        flush=True,
    )
    version = _isolated.db_version()
    return {
        "rows": counts["disputes"],
        "followups": counts["followups"],
        "visits": counts["visits"],
        "stations": stations,
        "load_s": load_s,
        "rebuild_s": rebuild_s,
        "rollup_rows": rollup_rows,
        "month": f"{year}-{month:02d}",
        "p50": statistics.median(fast_times),
        "p95": _p95(fast_times),
        "base_p50": statistics.median(slow_times),
        "base_p95": _p95(slow_times),
        "district_p95": _p95(district_times),
        "station_month_received": fast_out["totals"]["received"],
        "station_month_concluded": fast_out["totals"]["concluded"],
        "repeat": repeat,
        "baseline_repeat": baseline_repeat,
        "equal": equal,
        "db_version": version,
    }


if __name__ == "__main__":
    sys.exit(main())
