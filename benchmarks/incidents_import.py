"""Benchmark the incident import: 1,000,000 rows of a 110 export CSV against a bare COPY.

Run: .venv/bin/python -m benchmarks.incidents_import [--rows 1000000] [--encoding utf-8|gbk]
     [--bad-line 500000]

PostgreSQL only (the figure is about COPY): a database `fq_impbench` (or --db NAME) is created
for the run and dropped after it (server from FENGQIAO_BENCH_PG, else a postgres DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/postgres). The child builds a station of 64 grids and
writes a year of 110 history as a CSV with the Chinese headers a 110 export has (UTF-8, or
GBK as Excel on Chinese Windows saves it), then times, in the same process and on the same file:

- bare COPY: the file streamed from the client into a plain table of text columns
  (`COPY … FROM STDIN (FORMAT csv, HEADER)`), no checks, no indexes; timed before and after
  the import, the faster of the two is the baseline;
- import: in a fresh grandchild process, `import_create` (store the upload, check the
  encoding over the whole file, read the header, propose the mapping) and `import_run`, the
  function the Huey task calls (check every row, stage with COPY, insert all or none with
  case numbers, then the rollups and repeat flags of the span). Its peak resident memory is
  read from /proc/self/status (VmHWM) at the end of that process.

Then the floors, on the same rows: the imported rows, as stored, COPYed into a table of the
incident columns with no index, into that with the primary key and the two unique numbers,
and into the incident table itself; and the Fernet encryption of the file's caller names and
phones. They are what any import of this file must pay, however it checks it.

With --bad-line N (default 500,000, or the middle of a smaller file) the same file with row N
broken is imported first: it must be refused whole, naming line N, with nothing imported.
Targets: import <= 2x bare COPY, peak RSS < 300 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import _isolated, places_import

TARGET_RATIO = 2.0
TARGET_RSS_MB = 300.0
BENCH_DB = "fq_impbench"
# The station is places_import's: SIDE x SIDE grids of CELL degrees from ORIGIN.
SIDE, CELL, ORIGIN = places_import.SIDE, places_import.CELL, places_import.ORIGIN
YEAR = 2025
HEADER = [
    "接警单号",
    "报警时间",
    "发案时间",
    "警情类别",
    "警情来源",
    "发案地址",
    "经度",
    "纬度",
    "报警人",
    "联系电话",
    "简要警情",
    "处警队伍",
    "派警时间",
    "到场时间",
    "处结时间",
    "处置结果",
    "联动单位",
    "处置情况",
]
STREETS = ("枫桥路", "金园路", "雷锋大道", "麓谷街", "望城路", "岳麓大道", "银杉路", "桐梓坡路")
PLACES = ("号", "号小区", "号商铺", "号附近", "号对面")
SOURCES = ("110", "110", "110", "110", "电话报警", "来所报警", "巡逻发现", "视频巡查")
DISPOSITIONS = ("当场处置", "当场处置", "受理行政案件", "受理刑事案件", "纠纷", "移交", "无效报警")
LINKAGES = ("", "", "", "", "", "", "120", "消防", "城管")
TEAMS = ("巡逻一队", "巡逻二队", "社区警务队", "治安中队")
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
NARRATIVES = (
    "报警人称其停放在楼下的电动车被盗，车辆为黑色雅迪，价值约三千元。",
    "報警人稱家中被盜，門鎖有撬動痕跡，丟失現金若干。",
    "报警人称在小区门口与他人因停车问题发生口角，请求处理。",
    "报警人称接到自称客服的电话，被骗转账两万元。",
    "报警人称邻居装修噪音过大，影响休息，多次协商未果。",
    "报警人称路口发生两车剐蹭事故，无人受伤，双方对责任有争议。",
    "报警人称其老人外出散步未归，身穿灰色外套，有轻度认知障碍。",
    "报警人称商铺门口有人醉酒闹事，砸坏玻璃门。",
    "报警人称在公交车上手机被扒窃，怀疑为两名男子所为。",
    "报警人称家门钥匙遗失，请求帮助开锁。",
    "报警人称楼道内有烟雾，疑似电动车充电起火。",
    "报警人称夫妻因家务发生争吵，对方有推搡行为。",
)
NOTES = ("", "", "民警到场后双方和解。", "已告知当事人诉讼途径。", "已移交相关单位处理。")


# --- the parent: one child process on a fresh PostgreSQL database ---


def report(r: dict[str, Any]) -> bool:
    """Print the figures; return whether both targets were met."""
    ratio = r["import_s"] / r["copy_s"]
    run_ratio = r["run_s"] / r["copy_s"]
    rss = r["rss_mb"]
    ok = ratio <= TARGET_RATIO and rss < TARGET_RSS_MB
    phases = ", ".join(f"{k} {v:.1f}" for k, v in r["phases"].items())
    print()
    print(
        f"Incident import of a 110 CSV into {r['db_version']}: {r['rows']:,} rows, {r['encoding']}"
    )
    print(
        f"  file {r['file_bytes'] / 1e6:.0f} MB, written in {r['write_file_s']:.1f} s; "
        f"{r['grids']} grids; load average {r['loadavg']}"
    )
    print(
        f"  bare COPY into a plain table: {r['copy_s']:.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in r['copy_runs'])}; the faster counts)"
    )
    print(
        f"  import: {r['import_s']:.2f} s = create {r['create_s']:.2f} s (store, encoding, header) "
        f"+ run {r['run_s']:.2f} s; {r['rows'] / r['import_s']:,.0f} rows/s; "
        f"CPU {r['cpu_s']:.1f} s"
    )
    copy_s, floors = r["copy_s"], r["floors"]
    print("  floors, what storing the checked rows costs whatever the import does before:")
    for shape, label in (
        ("heap", "a table of the incident columns, no index, no constraint"),
        ("keys", "that with the primary key and the two unique numbers"),
        ("table", f"the incident table ({r['table_shape']})"),
    ):
        print(
            f"    COPY of the stored rows into {label}: {floors[shape]:.2f} s"
            f" = {floors[shape] / copy_s:.1f}x the bare COPY"
        )
    print(
        f"    Fernet encryption of the {r['encrypted']:,} caller names and phones, one core:"
        f" {r['encrypt_s']:.2f} s = {r['encrypt_s'] / copy_s:.1f}x the bare COPY"
    )
    print(f"  run phases (s): {phases}")
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in r["phase_peaks"].items())
    print(f"  peak RSS at the end of each phase (MB): {peaks}")
    print(
        f"  ratio import / COPY: {ratio:.2f}x (run alone {run_ratio:.2f}x), target <= "
        f"{TARGET_RATIO:.0f}x: {'met' if ratio <= TARGET_RATIO else 'NOT met'}"
    )
    print(
        f"  peak RSS of the importing process: {rss:.0f} MB (at start {r['rss_start_mb']:.0f} MB),"
        f" target < {TARGET_RSS_MB:.0f} MB: {'met' if rss < TARGET_RSS_MB else 'NOT met'}"
    )
    if r.get("bad"):
        b = r["bad"]
        print(
            f"  bad row at line {b['line']:,}: refused in {b['seconds']:.2f} s, "
            f"first error at line {b['error_row']:,} ({b['message']}), incidents after: "
            f"{b['incidents_after']}, peak RSS {b['rss_mb']:.0f} MB"
        )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    """Run the worker on a fresh PostgreSQL database; print seconds and ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--encoding", choices=["utf-8", "gbk"], default="utf-8")
    parser.add_argument(
        "--bad-line", type=int, default=-1, help="row to break in a refused run; 0: none"
    )
    parser.add_argument("--db", default=BENCH_DB, help="the throwaway database's name")
    parser.add_argument("--worker", choices=["postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--import-only", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--station", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.import_only:
        if os.environ.get("FENGQIAO_BENCH_PROFILE"):
            import cProfile
            import pstats

            with cProfile.Profile() as prof:
                got = import_once(args.import_only, args.station)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        else:
            got = import_once(args.import_only, args.station)
        args.out.write_text(json.dumps(got))
        return 0
    bad = args.bad_line if args.bad_line >= 0 else min(500_000, (args.rows + 1) // 2 + 1)
    if args.worker:
        args.out.write_text(json.dumps(worker(args.rows, args.encoding, bad)))
        return 0
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.rows:,} rows"
    )
    argv_child = ["--rows", str(args.rows), "--encoding", args.encoding, "--bad-line", str(bad)]
    result = _isolated.run_postgres("benchmarks.incidents_import", argv_child, args.db)
    return 0 if report(result) else 1


# --- the child: the station, the file, the baseline and the import ---


def _rows(n: int, categories: list[str], bad_line: int) -> Iterator[list[str]]:
    """Yield n rows of a year of 110 history inside the station; line bad_line is broken."""
    rnd = random.Random(20261203)  # the same file on every run
    lng0, lat0 = ORIGIN
    span = SIDE * CELL
    start = datetime(YEAR, 1, 1)
    seconds = 365 * 86400
    fmt = "%Y-%m-%d %H:%M:%S"
    for i in range(n):
        reported = start + timedelta(seconds=seconds * i // n + rnd.randrange(60))
        occurred = reported - timedelta(minutes=rnd.randrange(1, 240))
        dispatched = reported + timedelta(minutes=rnd.randrange(1, 5))
        arrived = dispatched + timedelta(minutes=rnd.randrange(3, 20))
        closed = arrived + timedelta(minutes=rnd.randrange(10, 120))
        street = STREETS[rnd.randrange(len(STREETS))]
        phone = f"1{rnd.choice('3589')}{rnd.randrange(10**9):09d}" if rnd.random() < 0.8 else ""
        row = [
            f"{YEAR}{i:09d}",
            reported.strftime(fmt),
            occurred.strftime(fmt),
            categories[rnd.randrange(len(categories))],
            SOURCES[rnd.randrange(len(SOURCES))],
            f"{street}{rnd.randrange(1, 400)}{PLACES[rnd.randrange(len(PLACES))]}",
            f"{lng0 + rnd.uniform(0.0001, span - 0.0001):.6f}",
            f"{lat0 + rnd.uniform(0.0001, span - 0.0001):.6f}",
            f"{SURNAMES[rnd.randrange(len(SURNAMES))]}先生" if phone else "",
            phone,
            NARRATIVES[rnd.randrange(len(NARRATIVES))],
            TEAMS[rnd.randrange(len(TEAMS))],
            dispatched.strftime(fmt),
            arrived.strftime(fmt),
            closed.strftime(fmt),
            DISPOSITIONS[rnd.randrange(len(DISPOSITIONS))],
            LINKAGES[rnd.randrange(len(LINKAGES))],
            NOTES[rnd.randrange(len(NOTES))],
        ]
        if i + 2 == bad_line:  # line 1 is the header
            row[3] = "999999"  # no such incident category
        yield row


def write_csv(path: Path, n: int, encoding: str, bad_line: int = 0) -> None:
    """Write the export as Excel would: CRLF line ends, the given encoding."""
    from fengqiao.incidents.models import IncidentCategory

    categories = sorted(IncidentCategory.objects.values_list("code", flat=True))
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(_rows(n, categories, bad_line))


def bare_copy(path: Path, encoding: str) -> tuple[float, int]:
    """Return (seconds, rows) of streaming the file into a fresh plain table with COPY."""
    from django.db import connection

    cols = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    pg_encoding = "GBK" if encoding == "gbk" else "UTF8"
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_plain")
        cur.execute(f"CREATE TABLE bench_plain ({cols})")
    start = time.perf_counter()
    with connection.cursor() as cur, path.open("rb") as fh:
        sql = f"COPY bench_plain FROM STDIN (FORMAT csv, HEADER true, ENCODING '{pg_encoding}')"
        with cur.cursor.copy(sql) as copy:
            while block := fh.read(1 << 20):
                copy.write(block)
    seconds = time.perf_counter() - start
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM bench_plain")
        count = int(cur.fetchone()[0])
        cur.execute("DROP TABLE bench_plain")
    return seconds, count


def _copy_into(table: str, spool: Path) -> float:
    """Return the seconds of COPYing the spooled rows into `table` in one transaction."""
    from django.db import connection, transaction

    start = time.perf_counter()
    with (
        transaction.atomic(),
        connection.cursor() as cur,
        spool.open("rb") as fh,
        cur.cursor.copy(f"COPY {table} FROM STDIN") as copy,
    ):
        while block := fh.read(1 << 20):
            copy.write(block)
    return time.perf_counter() - start


def table_floors(spool: Path) -> dict[str, float]:
    """Return the seconds of COPYing the imported rows, as stored, into three tables: what any
    import must pay to store them, whatever it does before.

    - heap: a table of the incident table's columns, without an index or a constraint;
    - keys: that with the primary key and the two unique numbers (case number, 接警单号),
      the least that keeps two imports from giving one number twice;
    - table: the incident table itself, with its indexes and (deferred) foreign keys.
    The stored rows are then back in the incident table, as the import left them.
    """
    from django.db import connection

    from fengqiao.incidents.models import Incident

    table = Incident._meta.db_table
    with (
        connection.cursor() as cur,
        spool.open("wb") as out,
        cur.cursor.copy(f"COPY {table} TO STDOUT") as copy,
    ):
        for data in copy:
            out.write(data)
    seconds: dict[str, float] = {}
    for shape in ("heap", "keys"):
        with connection.cursor() as cur:
            cur.execute(f"CREATE TABLE bench_floor (LIKE {table} INCLUDING DEFAULTS)")
            if shape == "keys":
                cur.execute("ALTER TABLE bench_floor ADD PRIMARY KEY (id)")
                cur.execute("CREATE UNIQUE INDEX ON bench_floor (station_id, case_number)")
                cur.execute(
                    "CREATE UNIQUE INDEX ON bench_floor (station_id, external_id)"
                    " WHERE external_id <> ''"
                )
        seconds[shape] = _copy_into("bench_floor", spool)
        with connection.cursor() as cur:
            cur.execute("DROP TABLE bench_floor")
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {table} CASCADE")
    seconds["table"] = _copy_into(table, spool)
    spool.unlink()
    return seconds


def encryption_floor(path: Path, encoding: str) -> tuple[float, int]:
    """Return (seconds, values) of encrypting the file's callers (name and phone) as they
    are stored, with the project's field encryption (Fernet), one value after another."""
    from fengqiao.core.pii import encrypt

    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        name_at, phone_at = header.index("报警人"), header.index("联系电话")
        values = [v for row in reader for v in (row[name_at], row[phone_at]) if v]
    start = time.perf_counter()
    for value in values:
        encrypt(value)
    return time.perf_counter() - start, len(values)


def table_shape() -> str:
    """Return the incident table's indexes and foreign keys, which the floor pays for."""
    from django.db import connection

    from fengqiao.incidents.models import Incident

    table = Incident._meta.db_table
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE indisunique) FROM pg_index"
            " WHERE indrelid = %s::regclass",
            [table],
        )
        indexes, unique = cur.fetchone()
        cur.execute(
            "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
            [table],
        )
        (fks,) = cur.fetchone()
    return f"{indexes} indexes, {unique} unique, {fks} foreign keys"


def import_in_child(path: Path, station_id: int) -> dict[str, Any]:
    """Run `import_once` in a fresh process (same database); return its figures."""
    out = path.with_suffix(".json")
    cmd = [sys.executable, "-m", "benchmarks.incidents_import", "--import-only", str(path)]
    cmd += ["--station", str(station_id), "--out", str(out)]
    rc = subprocess.call(cmd)  # noqa: S603
    if rc != 0:
        raise RuntimeError(f"the import process failed with exit code {rc}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def worker(rows: int, encoding: str, bad_line: int) -> dict[str, Any]:
    """Build the station and the file, time the bare COPY and the import around each other."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from django.core.management import call_command

    from fengqiao.incidents.models import Incident

    call_command("migrate", verbosity=0)
    station, _grids = places_import._station()  # the same 8 x 8 grids at the same place
    var = Path(os.environ["FENGQIAO_VAR"])
    path = var / f"110-history.{encoding}.csv"
    start = time.perf_counter()
    write_csv(path, rows, encoding)
    write_file_s = time.perf_counter() - start
    print(f"  wrote {path.stat().st_size / 1e6:.0f} MB in {write_file_s:.1f} s", flush=True)

    bad: dict[str, Any] = {}
    if 1 < bad_line <= rows + 1:
        bad_path = var / f"110-history-bad.{encoding}.csv"
        write_csv(bad_path, rows, encoding, bad_line)
        got = import_in_child(bad_path, station.pk)
        bad_path.unlink()
        bad = {
            "line": bad_line,
            "seconds": got["import_s"],
            "status": got["status"],
            "error_row": got["errors"][0]["row"] if got["errors"] else 0,
            "message": got["message"],
            "incidents_after": Incident.objects.count(),
            "rss_mb": got["rss_mb"],
        }
        print(f"  bad file: {bad}", flush=True)
        if got["status"] != "failed" or bad["error_row"] != bad_line or bad["incidents_after"]:
            raise RuntimeError(f"the bad file was not refused whole at line {bad_line}: {bad}")

    copy_runs = []
    copy_s, copied = bare_copy(path, encoding)
    copy_runs.append(copy_s)
    print(f"  bare COPY {copy_s:.2f} s", flush=True)
    got = import_in_child(path, station.pk)
    print(f"  import {got['import_s']:.2f} s, peak RSS {got['rss_mb']:.0f} MB", flush=True)
    copy_s, copied_again = bare_copy(path, encoding)
    copy_runs.append(copy_s)
    print(f"  bare COPY again {copy_s:.2f} s", flush=True)
    stored = Incident.objects.filter(station=station).count()
    if got["status"] != "done" or stored != rows or copied != rows or copied_again != rows:
        raise RuntimeError(
            f"expected {rows} rows: import {got['status']} ({got['message']}), stored {stored}, "
            f"copied {copied} and {copied_again}"
        )
    floors = table_floors(var / "incidents.copy")
    print(f"  COPY of the stored rows into the three tables (s): {floors}", flush=True)
    recopied = Incident.objects.count()
    if recopied != rows:
        raise RuntimeError(f"the incident table COPY gave {recopied} rows, not {rows}")
    encrypt_s, encrypted = encryption_floor(path, encoding)
    print(f"  encryption of {encrypted:,} caller values {encrypt_s:.2f} s", flush=True)
    return {
        **got,
        "floors": floors,
        "encrypt_s": encrypt_s,
        "encrypted": encrypted,
        "table_shape": table_shape(),
        "rows": rows,
        "encoding": encoding,
        "grids": SIDE * SIDE,
        "file_bytes": path.stat().st_size,
        "write_file_s": write_file_s,
        "copy_s": min(copy_runs),
        "copy_runs": copy_runs,
        "bad": bad,
        "loadavg": " ".join(f"{v:.2f}" for v in os.getloadavg()),
        "db_version": _isolated.db_version(),
    }


# --- the grandchild: one import, as the command and the Huey task run it ---


def _status_mb(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class _Phases(logging.Handler):
    """Collect the phase timings the import logs."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen: dict[str, float] = {}
        self.peak: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        phase = getattr(record, "phase", None)
        if phase:
            self.seen[phase] = float(getattr(record, "seconds", 0.0))
            self.peak[phase] = _status_mb("VmHWM")


def import_once(path: Path, station_id: int) -> dict[str, Any]:
    """Import the file into the station through import_create and import_run; time it."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from fengqiao.incidents.imports import import_create, import_run

    phases = _Phases()
    logger = logging.getLogger("fengqiao.incidents.imports")
    logger.addHandler(phases)
    logger.setLevel(logging.INFO)
    rss_start = _status_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    with path.open("rb") as fh:
        job = import_create(
            actor=None,
            station_id=station_id,
            fh=fh,
            name=path.name,
            size=path.stat().st_size,
            start=True,
            queue=False,
            check_size=False,
        )
    create_s = time.perf_counter() - wall
    job = import_run(job_id=job.pk)
    import_s = time.perf_counter() - wall
    return {
        "status": job.status,
        "message": job.message,
        "errors": job.errors[:3],
        "import_s": import_s,
        "create_s": create_s,
        "run_s": import_s - create_s,
        "cpu_s": time.process_time() - cpu,
        "phases": phases.seen,
        "phase_peaks": phases.peak,
        "rss_start_mb": rss_start,
        "rss_mb": _status_mb("VmHWM"),
    }


if __name__ == "__main__":
    sys.exit(main())
