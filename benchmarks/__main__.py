"""Run every benchmark, each in its own process (each picks its own database)."""

from __future__ import annotations

import subprocess
import sys
import time

MODULES = [
    "benchmarks.locate",
    "benchmarks.places_import",
    "benchmarks.places_api",
    "benchmarks.disputes_lists",
    "benchmarks.disputes_intake",
    "benchmarks.disputes_report",
    "benchmarks.incidents_hotspots",
    "benchmarks.incidents_import",
    "benchmarks.incidents_dashboard",
]


def main() -> int:
    wanted = sys.argv[1:] or MODULES
    failed = []
    for module in wanted:
        name = module if module.startswith("benchmarks.") else f"benchmarks.{module}"
        print(f"\n### {name}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call([sys.executable, "-m", name])  # noqa: S603
        print(f"### {name}: exit {rc} in {time.perf_counter() - t0:.1f} s", flush=True)
        if rc:
            failed.append(name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
