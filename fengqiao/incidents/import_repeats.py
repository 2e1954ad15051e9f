"""Repeat flags of a bulk load on PostgreSQL: the rules of `repeats.reflag`, set-based.

`repeats.reflag` reads every incident of the span into Python: fine for one intake or a day,
but a year of a million rows would hold a million tuples (about 600 MB) and spend minutes in
a Python loop. Here the database counts each incident's window with a window function; the
process holds no rows at all. An import computes the flags of its staged rows before they go
in (`stage_flags`), so each row is written once, flags and all; only the station's existing
incidents whose window reaches into the loaded span are updated after (`neighbours_reflag`).
`reflag_span` recomputes any span of stored incidents. `test_import_repeats` checks that all
give the flags, counts and reasons of `reflag`.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from fengqiao.incidents.models import Incident
from fengqiao.incidents.repeats import RULE_ADDRESS, RULE_CALLER, config_for


def _rules(station_id: int) -> tuple[int, int]:
    cfg = config_for(station_id)
    return int(cfg.repeat_min), int(cfg.repeat_days)


def _frame(days: int) -> str:
    # reflag counts the incidents in (t - span, t]: times are whole microseconds, so the
    # window starts one microsecond after t - span; RANGE counts equal times (ties) too.
    return (
        f"ORDER BY reported_at RANGE BETWEEN interval '{days} days' - interval '1 microsecond'"
        " PRECEDING AND CURRENT ROW"
    )


def _reasons(days: int) -> str:
    """Return the SQL of repeat_reasons from the flags fa, fc and the counts ca, cc."""

    def one(flag: str, count: str, rule: str) -> str:
        return (
            f"CASE WHEN {flag} THEN jsonb_build_array(jsonb_build_object('rule', '{rule}',"
            f" 'count', {count}, 'days', {days})) ELSE '[]'::jsonb END"
        )

    return f"{one('fa', 'ca', RULE_ADDRESS)} || {one('fc', 'cc', RULE_CALLER)}"


def _counted(source: str, days: int, n: int) -> str:
    """Return a SELECT of (id, line, reported_at, ca, cc, fa, fc) over the rows of `source`
    (columns id, line, reported_at, address_key, caller_bidx)."""
    frame = _frame(days)
    return (
        f"SELECT id, line, reported_at, ca, cc, COALESCE(ca >= {n}, FALSE) AS fa,"  # noqa: S608
        f" COALESCE(cc >= {n}, FALSE) AS fc FROM ("
        " SELECT id, line, reported_at,"
        "  CASE WHEN address_key <> '' THEN COUNT(*) OVER"
        f"   (PARTITION BY address_key {frame}) END AS ca,"
        "  CASE WHEN caller_bidx <> '' THEN COUNT(*) OVER"
        f"   (PARTITION BY caller_bidx {frame}) END AS cc"
        f" FROM ({source}) k) c"
    )


def stage_flags(*, stage: str, reported: str, station_id: int, into: str) -> None:
    """Create the temporary table `into` (line, repeat_address, repeat_caller, repeat_reasons)
    with the flags of every staged row, counted over the staged rows and the station's stored
    incidents before them. `reported` is the staged rows' reported_at as a timestamptz."""
    n, days = _rules(station_id)
    table = connection.ops.quote_name(Incident._meta.db_table)
    source = (
        f"SELECT NULL::bigint AS id, line, {reported} AS reported_at, address_key, caller_bidx"  # noqa: S608
        f" FROM {stage}"
        " UNION ALL SELECT id, NULL, reported_at, address_key, caller_bidx"
        f" FROM {table} WHERE station_id = %s"
        f" AND reported_at > (SELECT MIN({reported}) FROM {stage}) - interval '{days} days'"
        f" AND reported_at <= (SELECT MAX({reported}) FROM {stage})"
    )
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {into}")
        cur.execute(
            f"CREATE TEMPORARY TABLE {into} AS SELECT line, fa AS repeat_address,"  # noqa: S608
            f" fc AS repeat_caller, {_reasons(days)} AS repeat_reasons"
            f" FROM ({_counted(source, days, n)}) f WHERE line IS NOT NULL",
            [station_id],
        )
        # The insert joins it: without statistics the planner guessed a merge join.
        cur.execute(f"ANALYZE {into}")


def neighbours_mark(*, stage: str, reported: str, station_id: int, into: str) -> int:
    """Create the temporary table `into` (id) of the station's stored incidents whose window
    reaches into the staged span (reported in [first, last + span]); return how many."""
    _n, days = _rules(station_id)
    table = connection.ops.quote_name(Incident._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {into}")
        cur.execute(
            f"CREATE TEMPORARY TABLE {into} AS SELECT id FROM {table}"  # noqa: S608
            f" WHERE station_id = %s AND reported_at >= (SELECT MIN({reported}) FROM {stage})"
            f" AND reported_at <= (SELECT MAX({reported}) FROM {stage}) + interval '{days} days'",
            [station_id],
        )
        return int(cur.rowcount)


def neighbours_reflag(*, station_id: int, marked: str) -> int:
    """Recompute the flags of the stored incidents listed in `marked` (after the new rows
    went in), each counted through the address and caller indexes; return the rows changed."""
    n, days = _rules(station_id)
    table = connection.ops.quote_name(Incident._meta.db_table)

    def count(key: str) -> str:
        return (
            f"CASE WHEN e.{key} <> '' THEN (SELECT COUNT(*) FROM {table} x"  # noqa: S608
            f" WHERE x.station_id = e.station_id AND x.{key} = e.{key}"
            f" AND x.reported_at > e.reported_at - interval '{days} days'"
            " AND x.reported_at <= e.reported_at) END"
        )

    sql = (
        f"UPDATE {table} AS t SET repeat_address = v.fa, repeat_caller = v.fc,"  # noqa: S608
        f" repeat_reasons = v.r FROM (SELECT id, fa, fc, {_reasons(days)} AS r FROM ("
        f"  SELECT id, ca, cc, COALESCE(ca >= {n}, FALSE) AS fa, COALESCE(cc >= {n}, FALSE) AS fc"
        f"  FROM (SELECT e.id, {count('address_key')} AS ca, {count('caller_bidx')} AS cc"
        f"   FROM {table} e JOIN {marked} m ON m.id = e.id WHERE e.station_id = %s) c) f"
        ") v WHERE t.id = v.id AND (t.repeat_address IS DISTINCT FROM v.fa"
        " OR t.repeat_caller IS DISTINCT FROM v.fc OR t.repeat_reasons IS DISTINCT FROM v.r)"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [station_id])
        return int(cur.rowcount)


def reflag_span(*, station_id: int, first: datetime, last: datetime) -> int:
    """Recompute the repeat flags of the station's incidents reported in [first, last] and of
    the later ones whose window reaches into it, in the database; return the rows changed."""
    if connection.vendor != "postgresql":
        from fengqiao.incidents.repeats import reflag

        return reflag(station_id=station_id, first=first, last=last)
    if first > last:
        first, last = last, first
    n, days = _rules(station_id)
    table = connection.ops.quote_name(Incident._meta.db_table)
    source = (
        "SELECT id, NULL::bigint AS line, reported_at, address_key, caller_bidx"  # noqa: S608
        f" FROM {table} WHERE station_id = %s"
        f" AND reported_at > %s::timestamptz - interval '{days} days'"
        f" AND reported_at <= %s::timestamptz + interval '{days} days'"
    )
    sql = (
        f"UPDATE {table} AS t SET repeat_address = v.fa, repeat_caller = v.fc,"  # noqa: S608
        f" repeat_reasons = v.r FROM (SELECT id, fa, fc, {_reasons(days)} AS r"
        f" FROM ({_counted(source, days, n)}) f"
        f" WHERE reported_at >= %s AND reported_at <= %s::timestamptz + interval '{days} days'"
        ") v WHERE t.id = v.id AND (t.repeat_address IS DISTINCT FROM v.fa"
        " OR t.repeat_caller IS DISTINCT FROM v.fc OR t.repeat_reasons IS DISTINCT FROM v.r)"
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, [station_id, first, last, first, last])
        return int(cur.rowcount)
