"""Benchmark the import of 10,000 places from XLSX, against a bare read and a raw INSERT.

Run: .venv/bin/python -m benchmarks.places_import [--rows 10000] [--db both]

Each database runs in a child process with its own environment: SQLite in a temporary
directory (FENGQIAO_VAR), PostgreSQL in a database `fq_bench` created for the run and dropped
after it (server from FENGQIAO_BENCH_PG, else a postgres DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/postgres). The child builds a station of 64 grids, writes
an XLSX of valid rows inside it, and times, in the same process and on the same file:

- import: `read_places` + `place_import` (parse, validate, locate, index text, encrypt the
  phone, bulk INSERT, audit, commit): what the upload page and the command do;
- bare read: openpyxl's read-only iteration over the same file, values only (best of 2);
- raw INSERT: the very rows the import stored, inserted again bypassing the ORM, in one
  transaction (the faster of `executemany` and multi-row VALUES).

jieba loads its dictionary once per process (about a second); that is timed apart and left
out of the import figure, as a running server has it loaded already.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import _isolated

TARGET_SECONDS = 10.0
BENCH_DB = "fq_bench"
SIDE = 8  # communities across, grids down: SIDE * SIDE grids
CELL = 0.01  # degrees; a grid is about 1 km across
ORIGIN = (112.90, 28.20)  # lng, lat of the station's south-west corner
STREETS = ("枫桥路", "金园路", "雷锋大道", "麓谷街", "望城路", "岳麓大道")
KINDS = ("hotel", "小商店", "internet_cafe", "小餐饮", "small_clinic", "典当", "棋牌室", "学校")


# --- the parent: one child process per database ---


def _argv(args: argparse.Namespace) -> list[str]:
    return ["--rows", str(args.rows), "--repeat", str(args.repeat)]


def report(results: dict[str, dict[str, Any]]) -> bool:
    """Print one line per database; return whether every median import met the target."""
    ok = True
    print()
    print(f"XLSX place import, target <= {TARGET_SECONDS:.0f} s (times in s; import = median)")
    header = (
        f"{'db':<9}{'rows':>7}{'import':>8}{'best':>7}{'rows/s':>8}{'CPU':>6}{'parse':>7}"
        f"{'write':>7}{'read':>7}{'INSERT':>8}{'/read':>7}{'/INSERT':>9}{'/both':>7}  target"
    )
    print(header)
    print("-" * len(header))
    for db, r in results.items():
        met = r["import_s"] <= TARGET_SECONDS
        ok &= met
        floor = r["read_s"] + r["insert_s"]
        print(
            f"{db:<9}{r['rows']:>7,}{r['import_s']:>8.2f}{r['best_s']:>7.2f}"
            f"{r['rows'] / r['import_s']:>8,.0f}{r['cpu_s']:>6.2f}{r['parse_s']:>7.2f}"
            f"{r['write_s']:>7.2f}{r['read_s']:>7.2f}{r['insert_s']:>8.2f}"
            f"{r['import_s'] / r['read_s']:>6.1f}x{r['import_s'] / r['insert_s']:>8.1f}x"
            f"{r['import_s'] / floor:>6.1f}x  {'met' if met else 'NOT met'}"
        )
    print(
        "import: read_places + place_import, median of the runs (best: fastest run); CPU: this "
        "process's CPU seconds in the median run; parse/write: its two halves; read: bare "
        "openpyxl read of the file; INSERT: raw INSERT of the stored rows; /x: import over it"
    )
    for db, r in results.items():
        print(
            f"{db}: {r['db_version']}; {r['grids']} grids; file {r['file_bytes'] / 1e6:.2f} MB "
            f"written in {r['write_file_s']:.2f} s; jieba dictionary {r['jieba_s']:.2f} s "
            f"(once per process, not in the import figure); {r['repeat']} runs"
        )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """Run each database in its own process; print seconds, rows/s and ratios to baselines."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="timed imports; the median counts")
    parser.add_argument("--db", choices=["both", "sqlite", "postgres"], default="both")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.out.write_text(json.dumps(worker(args.rows, args.repeat)))
        return 0
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.rows:,} rows"
    )
    results = _isolated.run_each(args.db, "benchmarks.places_import", _argv(args), BENCH_DB)
    return 0 if report(results) else 1


# --- the child: build a station, write the file, time the import and the baselines ---


def _station() -> tuple[Any, int]:
    """Make a district and a station of SIDE communities, each a column of SIDE grids."""
    from fengqiao.areas.services import area_create
    from fengqiao.factories import rect, square

    lng0, lat0 = ORIGIN
    district = area_create(actor=None, code="BD", name="基准分局", kind="district")
    station = area_create(
        actor=None,
        code="BS",
        name="基准派出所",
        kind="station",
        parent=district,
        boundary=square(lng0, lat0, SIDE * CELL),
    )
    for i in range(SIDE):
        community = area_create(
            actor=None,
            code=f"BS-C{i}",
            name=f"基准社区{i}",
            kind="community",
            parent=station,
            boundary=rect(lng0 + i * CELL, lat0, CELL, SIDE * CELL),
        )
        for k in range(SIDE):
            area_create(
                actor=None,
                code=f"BS-C{i}-G{k}",
                name=f"基准社区{i}网格{k}",
                kind="grid",
                parent=community,
                boundary=square(lng0 + i * CELL, lat0 + k * CELL, CELL),
            )
    return station, SIDE * SIDE


def _rows(n: int) -> list[list[Any]]:
    """Return n valid rows at random points strictly inside the station."""
    rnd = random.Random(20260101)  # the same file on every run
    lng0, lat0 = ORIGIN
    span = SIDE * CELL
    rows = []
    for i in range(n):
        street = STREETS[i % len(STREETS)]
        rows.append(
            [
                f"{street}{i}号商户",
                KINDS[i % len(KINDS)],
                f"{street}{i % 997}号",
                round(lat0 + rnd.uniform(0.0001, span - 0.0001), 6),
                round(lng0 + rnd.uniform(0.0001, span - 0.0001), 6),
                f"联系人{i % 50}",
                f"139{rnd.randrange(10**8):08d}" if i % 3 else "",
                "夜间营业" if i % 10 == 0 else "",
            ]
        )
    return rows


def _write_xlsx(path: Path, rows: list[list[Any]]) -> None:
    import openpyxl

    from fengqiao.areas.imports import LABELS

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("场所")
    sheet.append(list(LABELS.values()))
    for row in rows:
        sheet.append(row)
    book.save(path)


def _bare_read(path: Path) -> tuple[float, int]:
    """Return (best of two seconds, data rows) for openpyxl's read-only pass over the file."""
    import openpyxl

    times = []
    for _ in range(2):  # the first pass also pays for lazy imports and a cold page cache
        start = time.perf_counter()
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
        book.close()
        times.append(time.perf_counter() - start)
    return min(times), count - 1


COLUMNS = (
    "created_at",
    "updated_at",
    "created_by_id",
    "updated_by_id",
    "station_id",
    "community_id",
    "area_id",
    "kind_id",
    "name",
    "address",
    "lat",
    "lng",
    "contact_name",
    "contact_phone",
    "officer_id",
    "notes",
    "search_text",
    "version",
)


def _raw_insert(first_id: int, last_id: int) -> tuple[float, int]:
    """Insert the stored rows again, bypassing the ORM; return (best seconds, rows).

    Two ways, each in one transaction: executemany of a one-row INSERT, and multi-row
    VALUES in batches as large as the backend allows. The faster one is the floor.
    """
    from django.db import connection, transaction

    cols = ", ".join(COLUMNS)
    with connection.cursor() as cur:
        # The stored values: ciphertext phones and finished search text, nothing to compute.
        cur.execute(
            f"SELECT {cols} FROM areas_place WHERE id BETWEEN %s AND %s ORDER BY id",
            [first_id, last_id],
        )
        values = cur.fetchall()
    one = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    insert = f"INSERT INTO areas_place ({cols}) VALUES "

    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(insert + one, values)
    many_s = time.perf_counter() - start

    # SQLite as Django configures it takes at most 999 parameters a statement.
    batch = 999 // len(COLUMNS) if connection.vendor == "sqlite" else 1000
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        for i in range(0, len(values), batch):
            chunk = values[i : i + batch]
            cur.execute(insert + ", ".join([one] * len(chunk)), [v for row in chunk for v in row])
    values_s = time.perf_counter() - start
    print(f"  raw INSERT: executemany {many_s:.2f} s, multi-row VALUES {values_s:.2f} s")
    return min(many_s, values_s), len(values)


def worker(rows: int, repeat: int) -> dict[str, Any]:
    """Build the station and the file in the configured database, then time everything."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from django.core.management import call_command

    from fengqiao.areas.imports import read_places
    from fengqiao.areas.models import Place
    from fengqiao.areas.services import place_import
    from fengqiao.core.text import search_document

    call_command("migrate", verbosity=0)
    station, grids = _station()
    path = Path(os.environ["FENGQIAO_VAR"]) / "places.xlsx"
    start = time.perf_counter()
    _write_xlsx(path, _rows(rows))
    write_file_s = time.perf_counter() - start
    size = path.stat().st_size

    start = time.perf_counter()
    search_document("预热")  # jieba's dictionary, once per process
    jieba_s = time.perf_counter() - start

    read_s, read_rows = _bare_read(path)

    runs: list[dict[str, float]] = []
    for attempt in range(repeat):
        if attempt:  # start every run from the same empty table
            Place.objects.filter(station=station).delete()
        wall, cpu = time.perf_counter(), time.process_time()
        with path.open("rb") as fh:
            parsed = read_places(fh, name=path.name, size=size)
        parse_s = time.perf_counter() - wall
        result = place_import(actor=None, station_id=station.pk, parsed=parsed, source=path.name)
        run = {
            "import_s": time.perf_counter() - wall,
            "cpu_s": time.process_time() - cpu,
            "parse_s": parse_s,
        }
        if not result.ok or result.created != rows or Place.objects.count() != rows:
            raise RuntimeError(f"the import did not create {rows} places: {result.errors[:5]}")
        print(
            f"  import run {attempt + 1}: {run['import_s']:.2f} s "
            f"({rows / run['import_s']:,.0f} rows/s; this process's CPU {run['cpu_s']:.2f} s)",
            flush=True,
        )
        runs.append(run)
    median = sorted(runs, key=lambda r: r["import_s"])[len(runs) // 2]

    assert result.first_id is not None and result.last_id is not None
    insert_s, inserted = _raw_insert(result.first_id, result.last_id)
    if inserted != rows or read_rows != rows:
        raise RuntimeError(f"baselines saw {read_rows} and {inserted} rows, not {rows}")
    print(f"  bare read {read_s:.2f} s, raw INSERT {insert_s:.2f} s", flush=True)

    version = _isolated.db_version()
    return {
        "rows": rows,
        "grids": grids,
        "file_bytes": size,
        "write_file_s": write_file_s,
        "jieba_s": jieba_s,
        "read_s": read_s,
        "parse_s": median["parse_s"],
        "write_s": median["import_s"] - median["parse_s"],
        "import_s": median["import_s"],
        "best_s": min(r["import_s"] for r in runs),
        "cpu_s": median["cpu_s"],
        "repeat": repeat,
        "insert_s": insert_s,
        "db_version": version,
    }


if __name__ == "__main__":
    sys.exit(main())
