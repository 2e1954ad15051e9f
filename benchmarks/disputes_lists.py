"""Benchmark GET /api/v1/disputes on 1,000,000 disputes in 100 stations, against its raw SQL.

Run: .venv/bin/python -m benchmarks.disputes_lists [--rows 1000000] [--requests 60] [--db both]

Each database runs in a child process with its own environment (see benchmarks/_isolated.py):
SQLite in a temporary directory, PostgreSQL in a database `fq_bench_disputes` created for the
run and dropped after it. The rows go in by COPY (PostgreSQL) or executemany (SQLite) with the
values the ORM would write, parties' phones and ID numbers encrypted as the model does. The API
is called through django.test.Client with a bearer token, so the figures include routing,
auth, the scope, the query, the parties' decryption and JSON; the baseline is the page's own
SELECT, captured from the API's queries and run again straight through connection.cursor().
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import _isolated
from benchmarks.places_api import _ms, _pad, _time

TARGET_P95_MS = 50.0
BENCH_DB = "fq_bench_disputes"
STATIONS = 100
PAGE = 50
DEEP_PAGES = 1_000
BATCH = 20_000
# Statuses of a year's book: most cases finished, a tenth still open.
STATUS_WEIGHTS = {
    "closed": 70,
    "referred": 6,
    "withdrawn": 5,
    "terminated": 2,
    "received": 2,
    "triaged": 2,
    "assigned": 3,
    "mediating": 6,
    "agreed": 2,
    "failed": 1,
    "reopened": 1,
}
FINISHED = {"closed", "referred", "withdrawn", "terminated"}
COLOUR_WEIGHTS = {"blue": 55, "yellow": 10, "orange": 20, "red": 15}
START = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 730


# --- the parent: one child process per database ---


def _argv(args: argparse.Namespace) -> list[str]:
    return ["--rows", str(args.rows), "--requests", str(args.requests)]


def report(results: dict[str, dict[str, Any]]) -> bool:
    """Print the table of every database; return whether every API p95 met the target."""
    ok = True
    print()
    print(f"GET /api/v1/disputes, target p95 <= {TARGET_P95_MS:.0f} ms (times in ms)")
    header = (
        f"{'db':<9}{'scenario':<40}{'rows':>5}{'n':>5}{'API p50':>9}{'API p95':>9}"
        f"{'raw p50':>9}{'raw p95':>9}{'API/raw':>9}  target"
    )
    print(header)
    print("-" * len(header))
    for db, result in results.items():
        for s in result["scenarios"]:
            met = s["api_p95"] <= TARGET_P95_MS
            ok &= met
            print(
                f"{db:<9}{_pad(s['name'], 40)}{s['rows']:>5}{s['n']:>5}{s['api_p50']:>9.2f}"
                f"{s['api_p95']:>9.2f}{s['raw_p50']:>9.3f}{s['raw_p95']:>9.3f}"
                f"{s['api_p50'] / max(s['raw_p50'], 1e-6):>8.1f}x  "
                f"{'met' if met else 'NOT met'}"
            )
    for db, result in results.items():
        print(
            f"{db}: {result['disputes']:,} disputes and {result['parties']:,} parties in "
            f"{STATIONS} stations built in {result['build_s']:.1f} s; the district analyst "
            f"walked {result['walk_pages']:,} pages ({result['walk_rows']:,} rows, each once) "
            f"in {result['walk_s']:.1f} s; {result['db_version']}; load average at the end "
            f"{result['load'][0]:.1f} / {result['load'][1]:.1f} / {result['load'][2]:.1f} "
            f"on {os.cpu_count()} CPUs"
        )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """Run each database in its own process, print p50/p95 and the API/raw ratio."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60, help="timed requests per scenario")
    parser.add_argument("--db", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.rows, args.requests)
        args.out.write_text(json.dumps(result))
        return 0

    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.rows:,} disputes in {STATIONS} stations, {args.requests} timed requests each"
    )
    results = _isolated.run_each(args.db, "benchmarks.disputes_lists", _argv(args), BENCH_DB)
    return 0 if report(results) else 1


# --- the child: build, then time ---


def _weighted(rng: random.Random, weights: dict[str, int], n: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=n)


class _Writer:
    """Append rows to a table the fastest way the database offers, with ORM-prepared values."""

    def __init__(self, model: Any, columns: list[str]) -> None:
        from django.db import connection

        self.connection = connection
        self.table = connection.ops.quote_name(model._meta.db_table)
        self.columns = columns
        self.names = ", ".join(connection.ops.quote_name(c) for c in columns)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self.connection.cursor() as cur:
            if self.connection.vendor == "postgresql":
                with cur.cursor.copy(f"COPY {self.table} ({self.names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                sql = f"INSERT INTO {self.table} ({self.names}) VALUES ({marks})"
                cur.executemany(sql, rows)


def _prepared(model: Any, obj: Any) -> tuple[list[str], dict[str, Any]]:
    """Return the columns of `model` (not the id) and the prepared values of the prototype."""
    from django.db import connection

    columns: list[str] = []
    values: dict[str, Any] = {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(f.column)
        value = f.get_db_prep_save(getattr(obj, f.attname), connection)
        if connection.vendor == "postgresql" and hasattr(value, "obj"):
            value = json.dumps(value.obj, ensure_ascii=False)  # Jsonb: COPY takes the text
        values[f.column] = value
    return columns, values


def _stations() -> list[Any]:
    """Make 100 stations of the test shape (two communities, four grids each)."""
    from fengqiao.areas.services import area_create
    from fengqiao.factories import jurisdiction

    district = area_create(actor=None, code="BD", name="基准分局", kind="district")
    return [
        jurisdiction(f"B{i:03d}", 110.0 + 0.03 * (i % 30), 26.0 + 0.03 * (i // 30), district)
        for i in range(STATIONS)
    ]


def _build(rows: int) -> tuple[list[Any], float]:
    """Migrate, make the stations and `rows` disputes with two parties each."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from fengqiao.core.pii import blind_index, encrypt
    from fengqiao.disputes.models import Dispute, DisputeType, Party

    call_command("migrate", verbosity=0)
    js = _stations()
    types = list(DisputeType.objects.filter(parent__isnull=False).order_by("code"))
    start = time.perf_counter()
    rng = random.Random(20240301)
    now = timezone.now()
    proto = Dispute(
        station=js[0].station,
        community=js[0].communities[0],
        area=js[0].grids[0],
        case_number="MD-2024-000001",
        narrative="两家因楼上漏水发生争执，多次协商未果",
        occurred_at=now,
        reported_at=now,
        address="枫桥路1号",
        source="application",
        type=types[0],
        stat_type_id=types[0].stat_type_id,
        scale="individual",
        grade_auto="civil",
        colour_auto="blue",
        colour_reasons=[{"rule": "ordinary", "colour": "blue", "params": {}}],
        grade="civil",
        colour="blue",
        status="received",
        status_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    d_columns, d_proto = _prepared(Dispute, proto)
    party = Party(
        dispute_id=1,
        station=js[0].station,
        area=js[0].grids[0],
        kind="person",
        role="applicant",
        name="张三",
        address="枫桥路1号",
        consent="agreed",
        created_at=now,
        updated_at=now,
    )
    p_columns, p_proto = _prepared(Party, party)
    # A pool of encrypted contacts: encryption is what the model does, once per distinct value.
    contacts = [
        (
            encrypt(f"138{i:08d}"),
            encrypt(f"43010219800101{i:03d}X"),
            blind_index("party_phone", f"138{i:08d}"),
            blind_index("party_id", f"43010219800101{i:03d}X"),
        )
        for i in range(200)
    ]
    dt = Dispute._meta.get_field("reported_at")
    dispute_writer = _Writer(Dispute, d_columns)
    party_writer = _Writer(Party, p_columns)
    counters: dict[tuple[int, int], int] = {}
    statuses = _weighted(rng, STATUS_WEIGHTS, rows)
    colours = _weighted(rng, COLOUR_WEIGHTS, rows)
    grades = {"red": "major", "orange": "civil", "yellow": "civil", "blue": "trivia"}
    # Ids follow the reporting time, as they do in a live system.
    step = SPAN_DAYS * 86_400 / max(rows, 1)
    with transaction.atomic():
        batch: list[tuple[Any, ...]] = []
        parties: list[tuple[Any, ...]] = []
        first_id = 1
        for i in range(rows):
            j = js[rng.randrange(STATIONS)]
            grid = j.grids[rng.randrange(4)]
            kind = types[rng.randrange(len(types))]
            at = START + timedelta(seconds=i * step)
            key = (j.station.pk, at.year)
            counters[key] = counters.get(key, 0) + 1
            status, colour = statuses[i], colours[i]
            at_db = dt.get_db_prep_save(at, connection)
            values = dict(d_proto)
            values.update(
                station_id=j.station.pk,
                community_id=grid.parent_id,
                area_id=grid.pk,
                case_number=f"MD-{at.year}-{counters[key]:06d}",
                occurred_at=at_db,
                reported_at=at_db,
                status_changed_at=at_db,
                created_at=at_db,
                updated_at=at_db,
                closed_at=at_db if status in FINISHED else None,
                type_id=kind.pk,
                stat_type_id=kind.stat_type_id,
                colour=colour,
                colour_auto=colour,
                grade=grades[colour],
                grade_auto=grades[colour],
                status=status,
            )
            batch.append(tuple(values[c] for c in d_columns))
            for role in ("applicant", "respondent"):
                phone, idn, phone_bidx, id_bidx = contacts[rng.randrange(len(contacts))]
                p = dict(p_proto)
                p.update(
                    dispute_id=first_id + i,
                    station_id=j.station.pk,
                    area_id=grid.pk,
                    role=role,
                    phone=phone,
                    id_number=idn,
                    phone_bidx=phone_bidx,
                    id_number_bidx=id_bidx,
                    created_at=at_db,
                    updated_at=at_db,
                )
                parties.append(tuple(p[c] for c in p_columns))
            if len(batch) == BATCH:
                dispute_writer.write(batch)
                party_writer.write(parties)
                batch, parties = [], []
                if (i + 1) % 200_000 == 0:
                    print(
                        f"  {i + 1:,} disputes in {time.perf_counter() - start:.0f} s", flush=True
                    )
        dispute_writer.write(batch)
        party_writer.write(parties)
    low = Dispute.objects.order_by("id").values_list("id", flat=True).first()
    if low != first_id:
        raise RuntimeError(f"the disputes' ids start at {low}, the parties expected {first_id}")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return js, time.perf_counter() - start


def _page_sql(api_queries: list[dict[str, Any]]) -> str:
    """Return the API's page query: the SELECT on the dispute table with its LIMIT."""
    for q in api_queries:
        sql = q["sql"]
        if sql.startswith("SELECT") and 'FROM "disputes_dispute"' in sql and "LIMIT" in sql:
            return str(sql)
    raise RuntimeError("the API ran no page query on the dispute table")


def _check_filters(
    get: Callable[[str, dict[str, Any]], dict[str, Any]],
    queue: dict[str, Any],
    dated: dict[str, Any],
) -> None:
    """Refuse to time a list whose filters the API ignores (a renamed query parameter)."""
    items = get("officer", {**queue, "limit": 200})["items"]
    if not items or any(d["status"] in FINISHED for d in items):
        raise RuntimeError(f"the API ignored the queue filter {queue}")
    items = get("officer", {**dated, "limit": 200})["items"]
    low, high = dated["reported_from"], dated["reported_to"]
    if not items or any(
        not (low <= d["reported_at"][:10] <= high and d["type_code"].startswith("07"))
        for d in items
    ):
        raise RuntimeError(f"the API ignored the filters {dated}")


def worker(rows: int, requests: int) -> dict[str, Any]:
    """Build the data in the configured database and time every scenario."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fengqiao.accounts.models import ApiToken, Membership, User
    from fengqiao.disputes.models import Dispute, Party

    js, build_s = _build(rows)
    j = js[STATIONS // 2]
    officer = j.user("officer")
    analyst = User.objects.create_user(username="bench_analyst", password=None)
    Membership.objects.create(user=analyst, area=j.district, role="analyst")
    clients = {}
    for name, user in (("officer", officer), ("analyst", analyst)):
        _token, secret = ApiToken.issue(user=user, name="bench")
        clients[name] = Client(headers={"Authorization": f"Bearer {secret}"})

    def get(who: str, params: dict[str, Any]) -> dict[str, Any]:
        resp = clients[who].get("/api/v1/disputes", {k: v for k, v in params.items() if v})
        if resp.status_code != 200:
            raise RuntimeError(f"{params}: {resp.status_code} {resp.content[:300]!r}")
        body: dict[str, Any] = resp.json()
        return body

    # The district analyst sees all 100 stations: walk DEEP_PAGES pages by their cursors.
    deep_pages = min(DEEP_PAGES, rows // PAGE // 2)
    start = time.perf_counter()
    seen: set[int] = set()
    cursor = None
    for _ in range(deep_pages):
        body = get("analyst", {"limit": PAGE, "cursor": cursor})
        seen.update(p["id"] for p in body["items"])
        cursor = body["next_cursor"]
    walk_s = time.perf_counter() - start
    if len(seen) != deep_pages * PAGE:
        raise RuntimeError(f"the walk saw {len(seen)} distinct rows, not {deep_pages * PAGE}")
    district_deep = cursor

    def deep_cursor(who: str, params: dict[str, Any], depth: float = 0.9) -> str | None:
        """Return the cursor `depth` of the way down this list: a deep page of it."""
        from fengqiao.core.pagination import encode_cursor

        ids: list[int] = []
        cursor = None
        while True:  # walk the whole list by cursors of 200, newest first
            body = get(who, {**params, "limit": 200, "cursor": cursor})
            ids += [d["id"] for d in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        if len(ids) < 3 * PAGE:
            raise RuntimeError(f"{params}: only {len(ids)} rows, no deep page to time")
        return encode_cursor([ids[int(len(ids) * depth) - PAGE]])

    community = j.communities[1].pk
    queue = {"queue": "open"}
    colour_filter = {"colour": "red", "community": community, "status": "closed"}
    type_filter = {"type": "07", "reported_from": "2024-07-01", "reported_to": "2025-06-30"}
    _check_filters(get, queue, type_filter)
    scenarios: list[tuple[str, str, dict[str, Any]]] = [
        ("analyst", "district: first page", {}),
        ("analyst", f"district: page {deep_pages + 1} (walked)", {"cursor": district_deep}),
        ("officer", "station queue (open), first", queue),
        (
            "officer",
            "station queue (open), deep",
            {**queue, "cursor": deep_cursor("officer", queue)},
        ),
        ("officer", "red+community+closed, first", colour_filter),
        (
            "officer",
            "red+community+closed, deep",
            {**colour_filter, "cursor": deep_cursor("officer", colour_filter)},
        ),
        ("officer", "type 07 + dates, first", type_filter),
        (
            "officer",
            "type 07 + dates, deep",
            {**type_filter, "cursor": deep_cursor("officer", type_filter)},
        ),
    ]
    results = []
    for who, name, extra in scenarios:
        params = {"limit": PAGE, **extra}
        page_rows = len(get(who, params)["items"])
        api = _time(partial(get, who, params), requests)
        # The baseline: the very SELECT the API ran for this page, straight to the driver.
        with CaptureQueriesContext(connection) as api_queries:
            get(who, params)
        sql = _page_sql(api_queries.captured_queries)

        def raw(sql: str = sql) -> int:
            with connection.cursor() as cur:
                cur.execute(sql)
                return len(cur.fetchall())

        got = raw()
        if got not in (page_rows, page_rows + 1):
            raise RuntimeError(f"{name}: the baseline found {got} rows, the API {page_rows}")
        raw_samples = _time(raw, requests)
        api_p50, api_p95 = _ms(api)
        raw_p50, raw_p95 = _ms(raw_samples)
        results.append(
            {
                "name": name,
                "rows": page_rows,
                "n": requests,
                "api_p50": api_p50,
                "api_p95": api_p95,
                "raw_p50": raw_p50,
                "raw_p95": raw_p95,
                "sql": sql,
            }
        )
        print(
            f"  {_pad(name, 40)} {page_rows:>3} rows; API p50 {api_p50:7.2f} ms, "
            f"p95 {api_p95:7.2f} ms; raw SQL p50 {raw_p50:7.3f} ms, p95 {raw_p95:7.3f} ms",
            flush=True,
        )
    version = _isolated.db_version()
    return {
        "disputes": Dispute.objects.count(),
        "parties": Party.objects.count(),
        "build_s": build_s,
        "walk_pages": deep_pages,
        "walk_rows": len(seen),
        "walk_s": walk_s,
        "db_version": version,
        "load": list(os.getloadavg()),
        "scenarios": results,
        "today": date.today().isoformat(),
    }


if __name__ == "__main__":
    sys.exit(main())
