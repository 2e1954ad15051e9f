"""Run a benchmark's worker in a child process on a throwaway SQLite file or PostgreSQL database.

Settings are read once per process from the environment, so each database gets its own child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def pg_server() -> str:
    """Return the PostgreSQL server to use: FENGQIAO_BENCH_PG, DATABASE_URL or the local one."""
    explicit = os.environ.get("FENGQIAO_BENCH_PG", "")
    if explicit:
        return explicit
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        return url
    return "postgres://postgres@127.0.0.1:5432/postgres"


def with_db(url: str, name: str) -> str:
    """Return the URL with its database name replaced."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def pg_admin(url: str, *statements: str) -> None:
    """Run statements (CREATE/DROP DATABASE) on the server's maintenance database."""
    import psycopg

    with psycopg.connect(with_db(url, "postgres"), autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql.encode())


def _child(module: str, db: str, env: dict[str, str], argv: list[str], out: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", module, "--worker", db, *argv, "--out", str(out)]
    rc = subprocess.call(cmd, env=env)  # noqa: S603
    if rc != 0:
        raise RuntimeError(f"the {db} run failed with exit code {rc}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def run_sqlite(module: str, argv: list[str]) -> dict[str, Any]:
    """Run the module's worker on a fresh SQLite file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="fq-bench-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env["FENGQIAO_VAR"] = tmp
        return _child(module, "sqlite", env, argv, Path(tmp) / "result.json")


def run_postgres(module: str, argv: list[str], database: str) -> dict[str, Any]:
    """Run the module's worker in a database created for the run, and drop it after."""
    server = pg_server()
    pg_admin(server, f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}")
    try:
        with tempfile.TemporaryDirectory(prefix="fq-bench-") as tmp:
            env = dict(os.environ)
            env["FENGQIAO_VAR"] = tmp
            env["DATABASE_URL"] = with_db(server, database)
            return _child(module, "postgres", env, argv, Path(tmp) / "result.json")
    finally:
        pg_admin(server, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def run_each(choice: str, module: str, argv: list[str], database: str) -> dict[str, dict[str, Any]]:
    """Run the module's worker on SQLite, PostgreSQL or both (`choice`), one process each."""
    results: dict[str, dict[str, Any]] = {}
    for db in ("sqlite", "postgres"):
        if choice in (db, "both"):
            print(f"\n== {db}", flush=True)
            if db == "sqlite":
                results[db] = run_sqlite(module, argv)
            else:
                results[db] = run_postgres(module, argv, database)
    return results


def db_version() -> str:
    """Return the database engine and its version, for a benchmark's report (in a worker)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT sqlite_version()" if connection.vendor == "sqlite" else "SHOW server_version"
        )
        return f"{connection.vendor} {cur.fetchone()[0]}"
