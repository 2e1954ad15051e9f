"""Benchmark dispute intake: POST /api/v1/disputes through gunicorn, against the service in-process.

Run: .venv/bin/python -m benchmarks.disputes_intake [--requests 400] [--clients 8] [--db postgres]

PostgreSQL (the default, and what the figure is about) runs in a database `fq_bench_intake`
created for the run and dropped after it; SQLite (--db sqlite or both) runs on a file in a
temporary directory. The child migrates, makes a station with an officer and a bearer token,
then:

- baseline: the same intakes done by `services.dispute_intake` in-process, sequentially and
  with the same number of threads as the clients (each thread its own connection);
- API: the server `fengqiao serve` runs (gunicorn, `fengqiao.wsgi`, 2 x CPUs + 1 workers) is
  started in a subprocess on a free port against the same database, and N client threads POST
  valid intakes, each on a keep-alive connection, for a fixed number of requests.

Every intake has two parties with their own phone and ID number (no repeats to link), so each
one takes a case number, triages, encrypts, indexes and audits, as an office's would. It prints
throughput (intakes per second) and p50/p95 latency, and the ratio API / in-process; the aim
is an API at least half as fast as the service alone.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import _isolated
from benchmarks.places_api import _ms

BENCH_DB = "fq_bench_intake"
AIM_RATIO = 0.5
TYPES = ("0201", "0101", "0703", "0601", "0503", "0402", "0102", "0299")


def _argv(args: argparse.Namespace) -> list[str]:
    return ["--requests", str(args.requests), "--clients", str(args.clients)]


def report(results: dict[str, dict[str, Any]]) -> bool:
    """Print the table; return whether the API reached the aimed share of the in-process rate."""
    ok = True
    print()
    print("Dispute intake, throughput in intakes/s, latency in ms (aim: API >= 0.5 x in-process)")
    header = f"{'db':<9}{'run':<34}{'n':>6}{'per s':>9}{'p50':>9}{'p95':>9}"
    print(header)
    print("-" * len(header))
    for db, result in results.items():
        for r in result["runs"]:
            print(
                f"{db:<9}{r['name']:<34}{r['n']:>6}{r['rate']:>9.1f}{r['p50']:>9.1f}{r['p95']:>9.1f}"
            )
        same = result["ratio_same_concurrency"]
        seq = result["ratio_sequential"]
        met = same >= AIM_RATIO
        ok &= met
        print(
            f"{db}: API / in-process at {result['clients']} threads = {same:.2f}, "
            f"API / in-process sequential = {seq:.2f}: {'met' if met else 'NOT met'}; "
            f"{result['workers']} gunicorn workers; {result['db_version']}; load average "
            f"{result['load'][0]:.1f} / {result['load'][1]:.1f} / {result['load'][2]:.1f} "
            f"on {os.cpu_count()} CPUs"
        )
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="intakes per timed run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    parser.add_argument("--db", choices=["both", "sqlite", "postgres"], default="postgres")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = worker(args.requests, args.clients)
        args.out.write_text(json.dumps(result))
        return 0
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs; "
        f"{args.requests} intakes per run, {args.clients} concurrent clients"
    )
    results = _isolated.run_each(args.db, "benchmarks.disputes_intake", _argv(args), BENCH_DB)
    return 0 if report(results) else 1


# --- the child ---


def _id_number(n: int) -> str:
    """Return a valid ID number, distinct for every n below 365,000."""
    from fengqiao.core.pii import id_check_digit

    born = datetime(1960, 1, 1) + timedelta(days=n // 1000)
    first17 = f"430104{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def _payload(station_id: int, grid: Any, n: int) -> dict[str, Any]:
    """Return the n-th intake: valid, at a map point of the grid, two parties of its own."""
    at = datetime.now(UTC) - timedelta(hours=2 + n % 48)
    return {
        "station_id": station_id,
        "narrative": f"第{n}号：两家因楼上漏水、噪音问题多次争吵，要求派出所协调处理",
        "occurred_at": at.isoformat(),
        "source": "application",
        "type_code": TYPES[n % len(TYPES)],
        "scale": "individual",
        "lat": grid.centroid_lat,
        "lng": grid.centroid_lng,
        "address": f"枫桥路{n}号",
        "amount": str((n % 7) * 1500),
        "parties": [
            {
                "kind": "person",
                "role": "applicant",
                "name": f"申请人{n}",
                "phone": f"139{2 * n:08d}",
                "id_number": _id_number(2 * n),
                "address": f"枫桥路{n}号",
                "consent": "agreed",
            },
            {
                "kind": "person",
                "role": "respondent",
                "name": f"被申请人{n}",
                "phone": f"139{2 * n + 1:08d}",
                "id_number": _id_number(2 * n + 1),
                "address": f"枫桥路{n}号",
            },
        ],
    }


def _in_process(actor: Any, payloads: list[dict[str, Any]], threads: int) -> list[float]:
    """Run the intakes through the service; return each one's latency in seconds."""
    from django.db import connection

    from fengqiao.disputes.services import dispute_intake

    def one(p: dict[str, Any]) -> float:
        start = time.perf_counter()
        dispute_intake(actor=actor, **p)
        return time.perf_counter() - start

    if threads == 1:
        return [one(p) for p in payloads]

    def in_thread(p: dict[str, Any]) -> float:
        try:
            return one(p)
        finally:
            connection.close()  # each thread's own connection

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(in_thread, payloads))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(port: int, workers: int, secret: str) -> subprocess.Popen[bytes]:
    """Start gunicorn as `fengqiao serve` does, against this child's database; wait for it."""
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "fengqiao.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(cmd, env=dict(os.environ))  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request(
                "GET", "/api/v1/disputes?limit=1", headers={"Authorization": f"Bearer {secret}"}
            )
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 s")


def _over_http(port: int, secret: str, payloads: list[dict[str, Any]], clients: int) -> list[float]:
    """POST the intakes from `clients` threads, each on its own keep-alive connection."""
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    lock = threading.Lock()
    todo = list(reversed(payloads))
    samples: list[float] = []
    errors: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                if not todo:
                    break
                body = json.dumps(todo.pop()).encode()
            start = time.perf_counter()
            conn.request("POST", "/api/v1/disputes", body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read()
            took = time.perf_counter() - start
            with lock:
                if resp.status == 201:
                    samples.append(took)
                else:
                    errors.append(f"{resp.status} {text[:200]!r}")
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} intakes failed, first: {errors[0]}")
    return samples


def worker(requests: int, clients: int) -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from fengqiao.accounts.models import ApiToken
    from fengqiao.disputes.models import Dispute
    from fengqiao.factories import jurisdiction

    call_command("migrate", verbosity=0)
    j = jurisdiction("BI", 112.90, 28.20)
    officer = j.user("officer")
    _token, secret = ApiToken.issue(user=officer, name="bench")
    counter = iter(range(1, 10**6))

    def batch(n: int) -> list[dict[str, Any]]:
        return [_payload(j.station.pk, j.grids[k % 4], next(counter)) for k in range(n)]

    # Warm the code paths and caches once; not counted.
    _in_process(officer, batch(10), 1)
    connection.close()
    results = []

    def record(name: str, n: int, wall: float, samples: list[float]) -> dict[str, Any]:
        p50, p95 = _ms(samples)
        row = {"name": name, "n": n, "rate": n / wall, "p50": p50, "p95": p95}
        results.append(row)
        print(
            f"  {name:<34} {n} intakes in {wall:6.2f} s: {row['rate']:6.1f}/s, "
            f"p50 {p50:6.1f} ms, p95 {p95:6.1f} ms",
            flush=True,
        )
        return row

    todo = batch(requests)
    start = time.perf_counter()
    samples = _in_process(officer, todo, 1)
    seq = record("service in-process, 1 thread", requests, time.perf_counter() - start, samples)
    todo = batch(requests)
    start = time.perf_counter()
    samples = _in_process(officer, todo, clients)
    same = record(
        f"service in-process, {clients} threads", requests, time.perf_counter() - start, samples
    )
    connection.close()

    workers = (os.cpu_count() or 1) * 2 + 1
    port = _free_port()
    server = _start_server(port, workers, secret)
    try:
        _over_http(port, secret, batch(2 * clients), clients)  # warm every worker
        todo = batch(requests)
        start = time.perf_counter()
        samples = _over_http(port, secret, todo, clients)
        api = record(
            f"API via gunicorn, {clients} clients", requests, time.perf_counter() - start, samples
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    made = Dispute.objects.filter(station=j.station).count()
    expected = 10 + 3 * requests + 2 * clients
    if made != expected:
        raise RuntimeError(f"{made} disputes in the station, expected {expected}")
    numbers = Dispute.objects.filter(station=j.station).values("case_number").distinct().count()
    if numbers != made:
        raise RuntimeError(f"{made} disputes but {numbers} distinct case numbers")
    version = _isolated.db_version()
    return {
        "runs": results,
        "clients": clients,
        "workers": workers,
        "ratio_same_concurrency": api["rate"] / same["rate"],
        "ratio_sequential": api["rate"] / seq["rate"],
        "db_version": version,
        "load": list(os.getloadavg()),
    }


if __name__ == "__main__":
    sys.exit(main())
