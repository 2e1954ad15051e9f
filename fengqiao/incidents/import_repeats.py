"""Repeat flags after a bulk load on PostgreSQL: the rules of `repeats.reflag`, in one UPDATE.

`repeats.reflag` reads every incident of the span into Python: fine for one intake or a day,
but a year of a million rows would hold a million tuples (about 600 MB) and spend minutes in
a Python loop. Here the database counts each incident's window with a window function and
rewrites only the rows whose flags change; the process holds no rows at all. The test
`test_import_repeats` checks that both give the same flags, counts and reasons.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from fengqiao.incidents.models import Incident
from fengqiao.incidents.repeats import RULE_ADDRESS, RULE_CALLER, config_for


def reflag_span(*, station_id: int, first: datetime, last: datetime) -> int:
    """Recompute the repeat flags of the station's incidents reported in [first, last] and of
    the later ones whose window reaches into it, in the database; return the rows changed."""
    if connection.vendor != "postgresql":
        from fengqiao.incidents.repeats import reflag

        return reflag(station_id=station_id, first=first, last=last)
    if first > last:
        first, last = last, first
    cfg = config_for(station_id)
    n, days = int(cfg.repeat_min), int(cfg.repeat_days)
    # reflag counts the incidents in (t - span, t]: times are whole microseconds, so the
    # window starts one microsecond after t - span.
    frame = (
        f"ORDER BY reported_at RANGE BETWEEN interval '{days} days' - interval '1 microsecond'"
        " PRECEDING AND CURRENT ROW"
    )
    table = connection.ops.quote_name(Incident._meta.db_table)

    def reason(flag: str, count: str, rule: str) -> str:
        return (
            f"CASE WHEN {flag} THEN jsonb_build_array(jsonb_build_object('rule', '{rule}',"
            f" 'count', {count}, 'days', {days})) ELSE '[]'::jsonb END"
        )

    sql = (
        f"UPDATE {table} AS t SET repeat_address = v.fa, repeat_caller = v.fc,"  # noqa: S608
        " repeat_reasons = v.r FROM ("
        f" SELECT id, fa, fc, {reason('fa', 'ca', RULE_ADDRESS)}"
        f" || {reason('fc', 'cc', RULE_CALLER)} AS r FROM ("
        f"  SELECT id, reported_at, ca, cc, COALESCE(ca >= {n}, FALSE) AS fa,"
        f"   COALESCE(cc >= {n}, FALSE) AS fc FROM ("
        "   SELECT id, reported_at,"
        "    CASE WHEN address_key <> '' THEN COUNT(*) OVER"
        f"     (PARTITION BY address_key {frame}) END AS ca,"
        "    CASE WHEN caller_bidx <> '' THEN COUNT(*) OVER"
        f"     (PARTITION BY caller_bidx {frame}) END AS cc"
        f"   FROM {table} WHERE station_id = %s"
        f"    AND reported_at > %s::timestamptz - interval '{days} days'"
        f"    AND reported_at <= %s::timestamptz + interval '{days} days'"
        "  ) c"
        f" ) f WHERE reported_at >= %s AND reported_at <= %s::timestamptz + interval '{days} days'"
        ") v WHERE t.id = v.id AND (t.repeat_address IS DISTINCT FROM v.fa"
        " OR t.repeat_caller IS DISTINCT FROM v.fc OR t.repeat_reasons IS DISTINCT FROM v.r)"
    )
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, [station_id, first, last, first, last])
        return int(cur.rowcount)
