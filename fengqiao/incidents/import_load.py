"""Import incident history, loading: the staging table, its duplicates and its insert,
the error report."""

from __future__ import annotations

import csv
import heapq
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.incidents.import_check import STAGE_COLUMNS, RowError
from fengqiao.incidents.models import ImportJob, Incident

log = logging.getLogger("fengqiao.incidents.imports")

PREFIX = "JQ"
# The errors kept on the job (the page and the API show them); all go to the error CSV.
STORED_ERRORS = 1000


def import_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "incident_imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def errors_path(job: ImportJob) -> Path:
    """Return where the job's full error report (CSV) is kept."""
    return import_dir() / f"errors-{job.pk}.csv"


class Stage:
    """A temporary table holding the checked rows until they all go in at once."""

    def __init__(self, job_id: int) -> None:
        self.pg = connection.vendor == "postgresql"
        self.table = f"fq_incident_import_{job_id}"
        self.flags = f"{self.table}_flags"
        self.marked = f"{self.table}_near"
        self.zone = str(settings.TIME_ZONE).replace("'", "''")
        self.names = ", ".join(name for name, _t in STAGE_COLUMNS)

    def at(self, column: str) -> str:
        """Return SQL of a staged wall-clock time as a timestamptz (PostgreSQL), or the
        column as it is (SQLite stages UTC text)."""
        return f"({column} AT TIME ZONE '{self.zone}')" if self.pg else column

    def create(self) -> None:
        ts = "timestamp" if self.pg else "text"
        cols = ", ".join(f"{n} {ts if t == 'ts' else t}" for n, t in STAGE_COLUMNS)
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {self.table}")
            cur.execute(f"CREATE TEMPORARY TABLE {self.table} ({cols})")

    def write(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        with connection.cursor() as cur:
            if self.pg:
                # psycopg 3's COPY protocol: no statement per row, no parameter limits.
                with cur.cursor.copy(f"COPY {self.table} ({self.names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
                sql = f"INSERT INTO {self.table} ({self.names}) VALUES ({marks})"  # noqa: S608
                cur.executemany(sql, rows)

    def drop(self) -> None:
        try:
            with connection.cursor() as cur:
                for table in (self.table, self.flags, self.marked):
                    cur.execute(f"DROP TABLE IF EXISTS {table}")
        except Exception:
            log.warning("Could not drop %s", self.table, exc_info=True)

    def duplicates(self, station_id: int, column: str) -> Iterator[RowError]:
        """Yield, in row order, the rows whose 接警单号 an earlier row or the station has."""
        incident = Incident._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                "SELECT line, first FROM (SELECT line, MIN(line) OVER (PARTITION BY external_id)"  # noqa: S608
                f" AS first FROM {self.table} WHERE external_id <> '') d WHERE line > first"
                " ORDER BY line"
            )
            within = [
                RowError(line, column, _("接警单号与第 %(row)d 行重复。") % {"row": first})
                for line, first in cur.fetchall()
            ]
            cur.execute(
                f"SELECT s.line, s.external_id FROM {self.table} s JOIN {incident} i"  # noqa: S608
                " ON i.station_id = %s AND i.external_id = s.external_id"
                " WHERE s.external_id <> '' ORDER BY s.line",
                [station_id],
            )
            stored = [
                RowError(line, column, _("本所已有接警单号为 %(id)s 的警情。") % {"id": ext})
                for line, ext in cur.fetchall()
            ]
        yield from heapq.merge(within, stored)

    def span(self) -> tuple[dict[int, int], Any, Any]:
        """Return (rows per year, first reported_at, last reported_at)."""
        with connection.cursor() as cur:
            cur.execute(f"SELECT year, COUNT(*) FROM {self.table} GROUP BY year")  # noqa: S608
            years = {int(y): int(n) for y, n in cur.fetchall()}
            reported = self.at("reported_at")
            cur.execute(f"SELECT MIN({reported}), MAX({reported}) FROM {self.table}")  # noqa: S608
            first, last = cur.fetchone()
        return years, first, last

    def insert(self, *, job: ImportJob, bases: dict[int, int], user_id: int | None) -> int:
        """Move every staged row into the incident table, numbered; return the count."""
        base = " ".join(f"WHEN {int(y)} THEN {int(b) - 1}" for y, b in bases.items())
        if self.pg:
            num = "lpad(q.n::text, greatest(6, length(q.n::text)), '0')"
            year = "q.year::text"
        else:
            num = "printf('%%06d', q.n)"
            year = "CAST(q.year AS TEXT)"
        number = f"'{PREFIX}-' || {year} || '-' || {num}"
        at = self.at
        if self.pg:
            # The flags were counted in the staging area (flag): each row is written once.
            # No ORDER BY: sorting a million wide rows spilled twice to disk; the hash joins
            # on the narrow tables keep the staging table's order, which is the file's.
            flags = "f.repeat_address, f.repeat_caller, f.repeat_reasons"
            join, order = f"JOIN {self.flags} f ON f.line = s.line", ""
        else:
            flags, join, order = "FALSE, FALSE, '[]'", "", "ORDER BY s.line"
        search = f"'{PREFIX.lower()}-' || {year} || '-' || {num} || ' ' || s.search_text"
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        cols = (
            "created_at, updated_at, created_by_id, updated_by_id, station_id, community_id,"
            " area_id, case_number, external_id, source, category_id, class_code, reported_at,"
            " occurred_at, address, address_key, lat, lng, narrative, caller_name, caller_phone,"
            " caller_bidx, status, team, dispatched_at, arrived_at, closed_at, disposition,"
            " linkage, disposition_note, valid, repeat_address, repeat_caller, repeat_reasons,"
            " intake_key, search_text, version, import_job_id"
        )
        sql = (
            f"INSERT INTO {Incident._meta.db_table} ({cols}) "  # noqa: S608
            f"SELECT %s, %s, %s, %s, %s, s.community_id, s.area_id, {number}, s.external_id,"
            f" s.source, s.category_id, s.class_code, {at('s.reported_at')},"
            f" {at('s.occurred_at')}, s.address,"
            " s.address_key, s.lat, s.lng, s.narrative, s.caller_name, s.caller_phone,"
            f" s.caller_bidx, 'closed', s.team, {at('s.dispatched_at')}, {at('s.arrived_at')},"
            f" {at('s.closed_at')},"
            f" s.disposition, s.linkage, s.disposition_note, s.valid, {flags}, '',"
            f" {search}, 1, %s"
            # The numbers are counted over (line, year) alone: a narrow sort, not the rows'.
            f" FROM {self.table} s JOIN (SELECT line, year, (CASE year {base} END)"
            " + ROW_NUMBER() OVER (PARTITION BY year ORDER BY line) AS n"
            f" FROM {self.table}) q ON q.line = s.line {join} {order}"
        )
        with connection.cursor() as cur:
            cur.execute(sql, [now, now, user_id, user_id, job.station_id, job.pk])
            return int(cur.rowcount)

    def tune(self) -> None:
        """Prepare the load's transaction (PostgreSQL): statistics for the staging table,
        memory for its sorts and hashes, and no JIT (it compiled for seconds, for nothing)."""
        if not self.pg:
            return
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {self.table}")
            cur.execute("SET LOCAL work_mem = '256MB'")
            cur.execute("SET LOCAL jit = off")

    def flag(self, station_id: int) -> int:
        """Compute the repeat flags of the staged rows (PostgreSQL) and mark the stored
        incidents whose window reaches into the span; return how many are marked."""
        from fengqiao.incidents.import_repeats import neighbours_mark, stage_flags

        stage_flags(
            stage=self.table,
            reported=self.at("reported_at"),
            station_id=station_id,
            into=self.flags,
        )
        return neighbours_mark(
            stage=self.table,
            reported=self.at("reported_at"),
            station_id=station_id,
            into=self.marked,
        )


@dataclass
class Outcome:
    """What one run found: counts, the span loaded, the first errors."""

    rows: int = 0
    imported: int = 0
    problems: int = 0
    bad_rows: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    first: Any = None
    last: Any = None


class ErrorReport:
    """Collects row errors: all to a CSV file, the first few on the job, counts of both."""

    def __init__(self, job: ImportJob) -> None:
        self.path = errors_path(job)
        self.tmp = self.path.with_suffix(".part")
        self.fh = self.tmp.open("w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.fh)
        self.count = 0

    def add(self, errors: list[RowError]) -> None:
        for e in errors:
            self.writer.writerow((e.row, e.column, e.message))
        self.count += len(errors)

    def finish(self, extra: Iterator[RowError]) -> tuple[int, int, list[dict[str, Any]]]:
        """Merge the SQL-found errors in row order; return (problems, bad rows, first ones)."""
        self.fh.close()
        kept: list[dict[str, Any]] = []
        rows: set[int] = set()
        problems = 0
        with (
            self.tmp.open(encoding="utf-8", newline="") as src,
            self.path.open("w", encoding="utf-8-sig", newline="") as out,
        ):
            writer = csv.writer(out)
            writer.writerow([_("行号"), _("列"), _("问题")])
            streamed = (RowError(int(r), c, m) for r, c, m in csv.reader(src))
            for e in heapq.merge(streamed, extra, key=lambda x: x.row):
                writer.writerow((e.row, e.column, e.message))
                problems += 1
                rows.add(e.row)
                if len(kept) < STORED_ERRORS:
                    kept.append({"row": e.row, "column": e.column, "message": e.message})
        self.tmp.unlink(missing_ok=True)
        if not problems:
            self.path.unlink(missing_ok=True)
        return problems, len(rows), kept

    def discard(self) -> None:
        self.fh.close()
        self.tmp.unlink(missing_ok=True)
