"""The `fengqiao` command: demo, serve, worker, audit verify, and any manage.py command."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence

USAGE = """usage: fengqiao COMMAND

  demo [--no-serve] [--port N]   migrate, load the demo station, run web server + worker
  serve [gunicorn args]          production server (FENGQIAO_ENV=production, gunicorn)
  worker                         the Huey background worker
  audit verify                   check the audit log's hash chain
  <manage.py command> ...        any Django management command (migrate, shell, ...)
"""


def _django(argv: Sequence[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["fengqiao", *argv])


def _demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="fengqiao demo",
        description="Migrate the database, load the demo station (printing its passwords) "
        "and serve it with the background worker.",
    )
    parser.add_argument("--no-serve", action="store_true", help="load the demo, do not serve")
    parser.add_argument("--port", type=int, default=8000, help="the web server's port")
    opts = parser.parse_args(argv)  # --help and a mistyped option stop here, before any load
    _django(["migrate", "--no-input", "-v", "0"])
    _django(["demo_load"])
    if opts.no_serve:
        return 0
    port = opts.port
    worker = subprocess.Popen([sys.executable, "-m", "fengqiao", "worker"])
    try:
        print(f"\n枫桥 demo: http://127.0.0.1:{port}/  (Ctrl+C to stop)\n", flush=True)
        _django(["runserver", f"127.0.0.1:{port}", "--noreload"])
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=15)
    return 0


def _serve(argv: list[str]) -> int:
    os.environ["FENGQIAO_ENV"] = "production"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fengqiao.settings")
    import django

    django.setup()  # refuses to start without SECRET_KEY, FENGQIAO_FIELD_KEY, ALLOWED_HOSTS
    _django(["collectstatic", "--no-input", "-v", "0"])
    bind = os.environ.get("FENGQIAO_BIND", "127.0.0.1:8000")
    workers = os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) * 2 + 1))
    args = [
        "gunicorn",
        "fengqiao.wsgi:application",
        "--bind",
        bind,
        "--workers",
        workers,
        "--access-logfile",
        "-",
        *argv,
    ]
    os.execvp(args[0], args)  # noqa: S606
    return 0  # pragma: no cover


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    cmd, rest = args[0], args[1:]
    if cmd == "demo":
        return _demo(rest)
    if cmd == "serve":
        return _serve(rest)
    if cmd == "worker":
        _django(["run_huey", "--workers", os.environ.get("FENGQIAO_WORKERS", "2"), *rest])
        return 0
    if cmd == "audit" and rest[:1] == ["verify"]:
        _django(["audit_verify", *rest[1:]])
        return 0
    _django(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
