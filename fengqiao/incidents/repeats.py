"""Repeats (重复报警): addresses and callers with N or more incidents within M days.

Risk belongs to incidents, never to people: the flag and its reasons sit on each incident,
and the reasons name the rule and the count, never the phone or the caller.
"""

from __future__ import annotations

import json
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from fengqiao.core.pii import blind_index, normalize_phone
from fengqiao.core.text import to_simplified
from fengqiao.incidents.models import Incident, StationIncidentConfig

RULE_ADDRESS = "address"
RULE_CALLER = "caller"
RULES = (RULE_ADDRESS, RULE_CALLER)
_KEY_FIELD = {RULE_ADDRESS: "address_key", RULE_CALLER: "caller_bidx"}
_FLAG_FIELD = {RULE_ADDRESS: "repeat_address", RULE_CALLER: "repeat_caller"}


def address_key(address: str) -> str:
    """Return the address folded for matching: simplified, half-width, lower-case, no spaces
    or punctuation; "" for a blank address."""
    if not address or not address.strip():
        return ""
    # NFKC turns full-width digits and letters (１２号, ＡＢ座) into half-width ones.
    folded = to_simplified(unicodedata.normalize("NFKC", address))
    kept = "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")
    return kept[:200]


def caller_index(phone: str) -> str:
    """Return the keyed digest of a caller's phone (as disputes' parties), "" when blank."""
    value = normalize_phone(phone or "")
    # The same kind as disputes' phone_bidx, so equal numbers give equal digests everywhere.
    return blind_index("party_phone", value) if value else ""


def config_for(station_id: int) -> StationIncidentConfig:
    """Return the station's incident settings, or an unsaved row with the defaults."""
    found = StationIncidentConfig.objects.filter(station_id=station_id).first()
    return found if found is not None else StationIncidentConfig(station_id=station_id)


def _windowed_counts(rows: list[tuple[int, datetime]], span: timedelta) -> dict[int, int]:
    """Return, for each (id, reported_at), the rows in (reported_at - span, reported_at]."""
    times = sorted(t for _pk, t in rows)
    return {pk: bisect_right(times, t) - bisect_right(times, t - span) for pk, t in rows}


def reflag(
    *,
    station_id: int,
    first: datetime,
    last: datetime,
    address: str | None = None,
    caller: str | None = None,
) -> int:
    """Recompute the repeat flags of the station's incidents reported in [first, last], and of
    the later ones whose window reaches into it; return how many rows changed.

    `address` / `caller` (an address_key / a caller_bidx) narrow the work to one address and
    one caller, as after a single intake: only the rules whose key matches are recomputed.
    """
    if first > last:
        first, last = last, first
    cfg = config_for(station_id)
    n, span = int(cfg.repeat_min), timedelta(days=int(cfg.repeat_days))
    narrowed = address is not None or caller is not None
    qs = Incident.objects.filter(
        station_id=station_id, reported_at__gte=first - span, reported_at__lte=last + span
    )
    if narrowed:
        from django.db.models import Q

        cond = Q(pk__in=[])
        if address:
            cond |= Q(address_key=address)
        if caller:
            cond |= Q(caller_bidx=caller)
        qs = qs.filter(cond)
    rows = list(
        qs.values_list(
            "id",
            "address_key",
            "caller_bidx",
            "reported_at",
            "repeat_address",
            "repeat_caller",
            "repeat_reasons",
        ).order_by()
    )

    # Per rule: which rows the rule is recomputed for, and their windowed counts.
    counts: dict[str, dict[int, int]] = {}
    recompute: dict[str, set[int]] = {}
    for rule, col in ((RULE_ADDRESS, 1), (RULE_CALLER, 2)):
        wanted = address if rule == RULE_ADDRESS else caller
        groups: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
        blank: set[int] = set()
        for r in rows:
            key = str(r[col]) if r[col] else ""
            if narrowed and key != wanted:
                continue
            if key:
                groups[key].append((r[0], r[3]))
            else:
                blank.add(r[0])
        got: dict[int, int] = {}
        for members in groups.values():
            if len(members) >= n:
                got.update(_windowed_counts(members, span))
            else:
                got.update((pk, len(members)) for pk, _t in members)
        counts[rule] = got
        recompute[rule] = set(got) | blank

    days = int(cfg.repeat_days)
    changed: list[tuple[int, bool, bool, list[dict[str, Any]]]] = []
    for pk, _a, _c, reported, old_a, old_c, old_reasons in rows:
        # Only the incidents in [first, last] and those whose window reaches into it change.
        if reported < first or reported > last + span:
            continue
        flags = {RULE_ADDRESS: bool(old_a), RULE_CALLER: bool(old_c)}
        old_list = [r for r in (old_reasons or []) if isinstance(r, dict)]
        reasons = {r.get("rule"): r for r in old_list}
        for rule in RULES:
            if pk not in recompute[rule]:
                continue
            count = counts[rule].get(pk, 0)
            flags[rule] = count >= n
            if flags[rule]:
                reasons[rule] = {"rule": rule, "count": count, "days": days}
            else:
                reasons.pop(rule, None)
        new_reasons = [reasons[rule] for rule in RULES if rule in reasons]
        if (
            flags[RULE_ADDRESS] != bool(old_a)
            or flags[RULE_CALLER] != bool(old_c)
            or new_reasons != old_list
        ):
            changed.append((pk, flags[RULE_ADDRESS], flags[RULE_CALLER], new_reasons))
    _write(changed)
    return len(changed)


def _write(changed: list[tuple[int, bool, bool, list[dict[str, Any]]]]) -> None:
    """Write the new flags in a few statements, whatever the number of rows."""
    if not changed:
        return
    table = connection.ops.quote_name(Incident._meta.db_table)
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # One UPDATE … FROM unnest(arrays) per chunk instead of a statement per row.
            step = 20000
            for i in range(0, len(changed), step):
                part = changed[i : i + step]
                cur.execute(
                    "UPDATE " + table + " AS t SET repeat_address = v.a, repeat_caller = v.c, "  # noqa: S608
                    "repeat_reasons = v.r::jsonb FROM (SELECT unnest(%s::bigint[]) AS id, "
                    "unnest(%s::boolean[]) AS a, unnest(%s::boolean[]) AS c, "
                    "unnest(%s::text[]) AS r) AS v WHERE t.id = v.id",
                    [
                        [p[0] for p in part],
                        [p[1] for p in part],
                        [p[2] for p in part],
                        [json.dumps(p[3], ensure_ascii=False) for p in part],
                    ],
                )
        else:
            cur.executemany(
                "UPDATE " + table + " SET repeat_address = %s, repeat_caller = %s, "  # noqa: S608
                "repeat_reasons = %s WHERE id = %s",
                [(a, c, json.dumps(r, ensure_ascii=False), pk) for pk, a, c, r in changed],
            )
