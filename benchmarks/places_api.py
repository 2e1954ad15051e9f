"""Benchmark GET /api/v1/places on 100,000 places, against the raw SQL of the same page.

Run: .venv/bin/python -m benchmarks.places_api [--rows 100000] [--requests 60] [--db both]

Each database runs in a child process with its own environment: SQLite in a temporary
directory (FENGQIAO_VAR), PostgreSQL in a database `fq_bench_api` created for the run and
dropped after it (server from FENGQIAO_BENCH_PG, else a postgres DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/postgres). The API is called through django.test.Client
with a bearer token, so the figures include routing, auth, the scope, the query, decryption
and JSON; the baseline is the page's own SELECT run through connection.cursor().
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks import _isolated

TARGET_P95_MS = 50.0
BENCH_DB = "fq_bench_api"
PAGE = 50
DEEP_PAGES = 1_000
WORDS = ("便民超市", "旅馆", "网吧", "诊所", "饭店", "五金店", "理发店", "药店")
RARE = "钟楼"  # in one row of 10,000: a search that must read the whole station


# --- the parent: one child process per database ---


def _argv(args: argparse.Namespace) -> list[str]:
    return ["--rows", str(args.rows), "--requests", str(args.requests)]


def _pad(text: str, width: int) -> str:
    """Pad to `width` terminal columns; a CJK character takes two."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - columns, 0)


def report(results: dict[str, dict[str, Any]]) -> bool:
    """Print the table of every database; return whether every API p95 met the target."""
    ok = True
    print()
    print(f"GET /api/v1/places, target p95 <= {TARGET_P95_MS:.0f} ms (times in ms)")
    header = (
        f"{'db':<9}{'scenario':<24}{'rows':>5}{'n':>5}{'API p50':>9}{'API p95':>9}"
        f"{'raw p50':>9}{'raw p95':>9}{'API/raw':>9}  target"
    )
    print(header)
    print("-" * len(header))
    for db, result in results.items():
        for s in result["scenarios"]:
            met = s["api_p95"] <= TARGET_P95_MS
            ok &= met
            print(
                f"{db:<9}{_pad(s['name'], 24)}{s['rows']:>5}{s['n']:>5}{s['api_p50']:>9.2f}"
                f"{s['api_p95']:>9.2f}{s['raw_p50']:>9.3f}{s['raw_p95']:>9.3f}"
                f"{s['api_p50'] / s['raw_p50']:>8.1f}x  {'met' if met else 'NOT met'}"
            )
    for db, result in results.items():
        print(
            f"{db}: {result['places']:,} places built in {result['build_s']:.1f} s; "
            f"walked {result['walk_pages']:,} pages ({result['walk_rows']:,} rows, each once) "
            f"in {result['walk_s']:.1f} s; {result['db_version']}"
        )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """Run each database in its own process, print p50/p95 and the API/raw ratio."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
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
        f"{args.rows:,} places, {args.requests} timed requests per scenario"
    )
    results = _isolated.run_each(args.db, "benchmarks.places_api", _argv(args), BENCH_DB)
    return 0 if report(results) else 1


# --- the child: build, then time ---


def _build(rows: int) -> tuple[Any, Any, float]:
    """Migrate, make a station with an officer and `rows` places; return (user, jurisdiction, s)."""
    from django.core.management import call_command
    from django.db import connection

    from fengqiao.areas.models import Place, PlaceKind
    from fengqiao.core.text import search_document
    from fengqiao.factories import jurisdiction

    call_command("migrate", verbosity=0)
    j = jurisdiction("B1", 112.90, 28.20)
    officer = j.user("officer")
    kinds = list(PlaceKind.objects.order_by("sort"))
    start = time.perf_counter()
    batch: list[Place] = []
    for i in range(rows):
        grid = j.grids[i % 4]
        assert grid.parent_id and grid.centroid_lat and grid.centroid_lng
        word = RARE if i % 10_000 == 4_321 else WORDS[i % len(WORDS)]
        name = f"{word}{i}"
        address = f"枫桥路{i % 997}号"
        batch.append(
            Place(
                station=j.station,
                community_id=grid.parent_id,
                area=grid,
                kind=kinds[i % len(kinds)],
                name=name,
                address=address,
                lat=grid.centroid_lat,
                lng=grid.centroid_lng,
                contact_name="联系人",
                contact_phone=f"138{i:08d}",
                search_text=search_document(name, address),
            )
        )
        if len(batch) == 5_000:
            _store(batch)
            batch = []
    _store(batch)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return officer, j, time.perf_counter() - start


def _store(batch: list) -> None:
    """Insert places and their search index, as the import service does."""
    from fengqiao.areas.models import Place
    from fengqiao.core.search import search_index

    made = Place.objects.bulk_create(batch)
    search_index(label="areas.place", rows=[(p.pk, p.search_text) for p in made], fresh=True)


def _ms(samples: list[float]) -> tuple[float, float]:
    """Return (p50, p95) in milliseconds."""
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[18]
    return statistics.median(samples) * 1000, p95 * 1000


def _time(fn: Callable[[], Any], n: int) -> list[float]:
    for _ in range(5):  # warm caches and connections; not counted
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def worker(rows: int, requests: int) -> dict[str, Any]:
    """Build the data in the configured database and time every scenario."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from fengqiao.accounts.models import ApiToken
    from fengqiao.areas.api import PLACE_OUT_COLUMNS
    from fengqiao.areas.models import Place
    from fengqiao.areas.selectors import place_search
    from fengqiao.core.pagination import decode_cursor

    officer, j, build_s = _build(rows)
    deep_pages = min(DEEP_PAGES, rows // PAGE // 2)
    _token, secret = ApiToken.issue(user=officer, name="bench")
    client = Client(headers={"Authorization": f"Bearer {secret}"})

    def get(params: dict[str, Any]) -> dict[str, Any]:
        # A small --rows can run a filtered walk off its end: no cursor means the first page.
        resp = client.get("/api/v1/places", {k: v for k, v in params.items() if v is not None})
        if resp.status_code != 200:
            raise RuntimeError(f"{params}: {resp.status_code} {resp.content[:300]!r}")
        body: dict[str, Any] = resp.json()
        return body

    # Walk DEEP_PAGES pages by their cursors: the deep page is where a real client gets to.
    start = time.perf_counter()
    seen: set[int] = set()
    cursor = None
    for _ in range(deep_pages):
        body = get({"limit": PAGE, **({"cursor": cursor} if cursor else {})})
        seen.update(p["id"] for p in body["items"])
        cursor = body["next_cursor"]
    walk_s = time.perf_counter() - start
    if len(seen) != deep_pages * PAGE:
        raise RuntimeError(f"the walk saw {len(seen)} distinct rows, not {deep_pages * PAGE}")
    deep = cursor
    kind_deep = get({"kind": "hotel", "limit": PAGE, "cursor": deep})["next_cursor"]

    scenarios: list[tuple[str, dict[str, Any]]] = [
        ("first page", {}),
        (f"page {deep_pages + 1} (cursor)", {"cursor": deep}),
        ("kind=hotel", {"kind": "hotel"}),
        ("kind=hotel, deep", {"kind": "hotel", "cursor": kind_deep}),
        ("community + grid", {"community": j.communities[1].pk, "grid": j.grids[2].pk}),
        ("q=旅馆", {"q": "旅馆"}),
        ("q=旅馆, deep", {"q": "旅馆", "cursor": deep}),
        (f"q={RARE} (whole table)", {"q": RARE}),
    ]
    results = []
    for name, extra in scenarios:
        params = {"limit": PAGE, **extra}
        page_rows = len(get(params)["items"])
        api = _time(partial(get, params), requests)
        # The baseline: the very SELECT the API runs for this page, straight to the driver.
        qs = (
            place_search(
                user=officer,
                kind=extra.get("kind"),
                community_id=extra.get("community"),
                grid_id=extra.get("grid"),
                q=extra.get("q", ""),
            )
            .select_related("kind", "community", "area")
            .only(*PLACE_OUT_COLUMNS)
        )
        values = decode_cursor(extra["cursor"]) if extra.get("cursor") else None
        if values:
            qs = qs.filter(id__lt=values[0])
        sql, sql_params = qs.order_by("-id")[: PAGE + 1].query.sql_with_params()

        def raw(sql: str = sql, sql_params: Any = sql_params) -> None:
            with connection.cursor() as cur:
                cur.execute(sql, sql_params)
                cur.fetchall()

        # Prove it: the baseline's SQL must be one of the statements the API ran.
        with CaptureQueriesContext(connection) as api_queries:
            get(params)
        with CaptureQueriesContext(connection) as raw_queries:
            raw()
        if raw_queries[0]["sql"] not in {q["sql"] for q in api_queries}:
            raise RuntimeError(f"{name}: the baseline is not the API's page query")
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
            }
        )
        print(
            f"  {_pad(name, 24)} API p50 {api_p50:7.2f} ms, p95 {api_p95:7.2f} ms; "
            f"raw SQL p50 {raw_p50:7.3f} ms, p95 {raw_p95:7.3f} ms",
            flush=True,
        )
    version = _isolated.db_version()
    return {
        "places": Place.objects.count(),
        "build_s": build_s,
        "walk_pages": deep_pages,
        "walk_rows": len(seen),
        "walk_s": walk_s,
        "db_version": version,
        "scenarios": results,
    }


if __name__ == "__main__":
    sys.exit(main())
