"""The morning briefing's content (晨会研判): every section's figures as plain, storable data.

`briefing_content(station_id=S, day=D)` reads the incident table once (the overnight list, a
few rows by an indexed range), the daily rollup (class counts and grids), the repeat groups
(indexed GROUP BYs on the address key and the caller's blind index), the station's open
disputes at risk and the hotspots. The result is JSON-ready: a stored briefing reads the same
forever, whatever happens to the rows later.

Rules, so that the figures can be checked by hand:

- Overnight: incidents reported from `OVERNIGHT_START` on D-1 to `OVERNIGHT_END` on D, local
  time (the station's time zone, settings.TIME_ZONE), the shift the morning meeting reviews.
- Classes: "yesterday" is D-1 (counted on the day reported, as the rollup does); against it the
  day before (D-2), the mean of the seven days before yesterday (D-8 … D-2) and the same
  calendar day last year (29 February falls back to the 28th). Subcategories count towards
  their category, categories towards their class.
- Grids above normal (Poisson): a grid's baseline is its daily mean μ over the
  `GRID_BASELINE_DAYS` days before yesterday. Yesterday's count y is above normal when
  y ≥ `GRID_MIN_COUNT` and y > μ + k·√μ with k = `GRID_K`; the last seven days' total w is
  above normal when w ≥ `GRID_MIN_COUNT` and w > 7μ + k·√(7μ). For a Poisson count the
  variance equals the mean, so √μ is its standard deviation.
- Repeats: addresses and callers with at least `repeat_min` incidents in the `repeat_days`
  days before the end of the overnight window (StationIncidentConfig; defaults 3 in 30).
  Callers are shown by a masked name only (张**), never by phone.
- Disputes at risk: the station's open disputes coloured red or past their deadline (before D).

There is no patrol coverage section: nothing records patrols yet, and a section that shows
nothing would pretend to. It comes with the patrols app.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from fengqiao.analytics.hotspot_selectors import station_hotspots
from fengqiao.areas.models import Area
from fengqiao.incidents.models import (
    Incident,
    IncidentCategory,
    IncidentDaily,
    StationIncidentConfig,
)

# The overnight window: from 18:00 the evening before to 08:00 on the morning of the meeting.
OVERNIGHT_START = time(18, 0)
OVERNIGHT_END = time(8, 0)
GRID_BASELINE_DAYS = 28
GRID_K = 2.0
GRID_MIN_COUNT = 2
# How many incidents of one repeat group the briefing lists by number.
REPEAT_LIST = 20
SCHEMA = 1
DEFAULT_REPEAT_MIN = 3
DEFAULT_REPEAT_DAYS = 30


def mask_name(name: str) -> str:
    """Return 张** for 张三丰: the surname only, one star per other character."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def overnight_window(day: date) -> tuple[datetime, datetime]:
    """Return the aware start and end of the overnight window reviewed on morning `day`."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(day - timedelta(days=1), OVERNIGHT_START, tzinfo=tz)
    end = datetime.combine(day, OVERNIGHT_END, tzinfo=tz)
    return start, end


def same_day_last_year(d: date) -> date:
    """Return the same calendar day a year before; 29 February becomes the 28th."""
    try:
        return d.replace(year=d.year - 1)
    except ValueError:
        return d.replace(year=d.year - 1, day=28)


def _pct(value: float, base: float) -> float | None:
    return None if not base else round((value - base) / base * 100, 1)


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def repeat_settings(station_id: int) -> tuple[int, int]:
    """Return the station's repeat threshold (incidents, days), defaults when not configured."""
    config = StationIncidentConfig.objects.filter(station_id=station_id).first()
    if config is None:
        return DEFAULT_REPEAT_MIN, DEFAULT_REPEAT_DAYS
    return config.repeat_min, config.repeat_days


def overnight_section(station_id: int, day: date) -> dict[str, Any]:
    """Return the incidents reported in the overnight window, oldest first."""
    start, end = overnight_window(day)
    rows = (
        Incident.objects.filter(station_id=station_id, reported_at__gte=start, reported_at__lt=end)
        .select_related("category", "area")
        .only(
            "id",
            "case_number",
            "reported_at",
            "category__code",
            "category__name",
            "class_code",
            "area__name",
            "address",
            "status",
            "repeat_address",
            "repeat_caller",
            "valid",
        )
        .order_by("reported_at", "id")
    )
    items = [
        {
            "id": i.pk,
            "case_number": i.case_number,
            "reported_at": _iso(i.reported_at),
            "category_code": i.category.code,
            "category": i.category.name,
            "class_code": i.class_code,
            "grid": i.area.name,
            "address": i.address,
            "status": i.status,
            "status_label": str(i.get_status_display()),
            "repeat": bool(i.repeat_address or i.repeat_caller),
            "valid": i.valid,
        }
        for i in rows
    ]
    return {"start": _iso(start), "end": _iso(end), "count": len(items), "rows": items}


def _category_levels() -> tuple[dict[int, str], dict[str, IncidentCategory]]:
    """Return {category id: its level-2 code (the category itself for a class)}, {code: node}."""
    nodes = list(IncidentCategory.objects.only("id", "code", "name", "parent_id", "class_code"))
    by_id = {n.pk: n for n in nodes}
    level2: dict[int, str] = {}
    for n in nodes:
        node = n
        # Walk up until the parent is a class (or this is one): that node is the category.
        while node.parent_id is not None and by_id[node.parent_id].parent_id is not None:
            node = by_id[node.parent_id]
        level2[n.pk] = node.code
    return level2, {n.code: n for n in nodes}


def classes_section(station_id: int, day: date) -> dict[str, Any]:
    """Return per-class and per-category counts of yesterday against the three baselines."""
    yesterday = day - timedelta(days=1)
    before = day - timedelta(days=2)
    week_start, week_end = day - timedelta(days=8), day - timedelta(days=2)
    last_year = same_day_last_year(yesterday)
    level2, nodes = _category_levels()
    rows = (
        IncidentDaily.objects.filter(station_id=station_id)
        .filter(Q(day__range=(week_start, yesterday)) | Q(day=last_year))
        .values("day", "category_id", "class_code")
        .annotate(n=Sum("count"))
    )
    keys = ("yesterday", "day_before", "week", "last_year")
    by_class: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(keys, 0))
    by_cat: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(keys, 0))
    total = dict.fromkeys(keys, 0)
    for r in rows:
        d, n = r["day"], int(r["n"] or 0)
        slots = []
        if d == yesterday:
            slots.append("yesterday")
        if d == before:
            slots.append("day_before")
        if week_start <= d <= week_end:
            slots.append("week")
        if d == last_year:
            slots.append("last_year")
        cat = level2.get(r["category_id"], r["class_code"])
        for slot in slots:
            by_class[r["class_code"]][slot] += n
            total[slot] += n
            if cat != r["class_code"]:
                by_cat[cat][slot] += n

    def figures(code: str, name: str, level: str, c: dict[str, int]) -> dict[str, Any]:
        mean = round(c["week"] / 7, 2)
        return {
            "code": code,
            "name": name,
            "level": level,
            "yesterday": c["yesterday"],
            "day_before": c["day_before"],
            "week_mean": mean,
            "last_year": c["last_year"],
            "vs_day_before": c["yesterday"] - c["day_before"],
            "vs_week_mean_pct": _pct(c["yesterday"], mean),
            "vs_last_year_pct": _pct(c["yesterday"], c["last_year"]),
        }

    out = []
    for cls in sorted((n for n in nodes.values() if n.parent_id is None), key=lambda n: n.code):
        out.append(figures(cls.code, cls.name, "class", by_class[cls.code]))
        for code in sorted(c for c in by_cat if nodes.get(c) and nodes[c].class_code == cls.code):
            if any(by_cat[code].values()):
                out.append(figures(code, nodes[code].name, "category", by_cat[code]))
    return {
        "dates": {
            "yesterday": yesterday.isoformat(),
            "day_before": before.isoformat(),
            "week_start": week_start.isoformat(),
            "week_end": week_end.isoformat(),
            "last_year": last_year.isoformat(),
        },
        "rows": out,
        "total": figures("", "", "total", total),
    }


def grids_section(station_id: int, day: date) -> dict[str, Any]:
    """Return the grids whose yesterday or last seven days are above their Poisson normal."""
    yesterday = day - timedelta(days=1)
    base_start = yesterday - timedelta(days=GRID_BASELINE_DAYS)
    base_end = yesterday - timedelta(days=1)
    week_start = yesterday - timedelta(days=6)
    rows = (
        IncidentDaily.objects.filter(station_id=station_id, day__range=(base_start, yesterday))
        .values("area_id", "day")
        .annotate(n=Sum("count"))
    )
    base: dict[int, int] = defaultdict(int)
    last: dict[int, int] = defaultdict(int)
    week: dict[int, int] = defaultdict(int)
    for r in rows:
        n = int(r["n"] or 0)
        if r["day"] <= base_end:
            base[r["area_id"]] += n
        if r["day"] == yesterday:
            last[r["area_id"]] += n
        if r["day"] >= week_start:
            week[r["area_id"]] += n
    flagged: list[dict[str, Any]] = []
    for area_id in sorted(set(last) | set(week)):
        mean = base[area_id] / GRID_BASELINE_DAYS
        threshold = mean + GRID_K * math.sqrt(mean)
        week_threshold = 7 * mean + GRID_K * math.sqrt(7 * mean)
        reasons = []
        if last[area_id] >= GRID_MIN_COUNT and last[area_id] > threshold:
            reasons.append("yesterday")
        if week[area_id] >= GRID_MIN_COUNT and week[area_id] > week_threshold:
            reasons.append("week")
        if reasons:
            flagged.append(
                {
                    "id": area_id,
                    "yesterday": last[area_id],
                    "week": week[area_id],
                    "mean": round(mean, 3),
                    "sd": round(math.sqrt(mean), 3),
                    "threshold": round(threshold, 3),
                    "week_threshold": round(week_threshold, 3),
                    "reasons": reasons,
                }
            )
    names = {
        a.pk: (a.name, a.parent.name if a.parent else "")
        for a in Area.objects.filter(pk__in=[f["id"] for f in flagged]).select_related("parent")
    }
    for f in flagged:
        f["name"], f["community"] = names.get(f["id"], ("", ""))
    flagged.sort(key=lambda f: (-(f["yesterday"] - f["threshold"]), f["id"]))
    return {
        "rule": {
            "baseline_days": GRID_BASELINE_DAYS,
            "k": GRID_K,
            "min_count": GRID_MIN_COUNT,
            "baseline_start": base_start.isoformat(),
            "baseline_end": base_end.isoformat(),
            "week_start": week_start.isoformat(),
            "yesterday": yesterday.isoformat(),
        },
        "rows": flagged,
    }


def repeats_section(station_id: int, day: date) -> dict[str, Any]:
    """Return the addresses and callers with at least N incidents in the last M days."""
    repeat_min, repeat_days = repeat_settings(station_id)
    _start, end = overnight_window(day)
    start = end - timedelta(days=repeat_days)
    window = Incident.objects.filter(
        station_id=station_id, reported_at__gte=start, reported_at__lt=end
    )
    addr_groups = list(
        window.exclude(address_key="")
        .values("address_key")
        .annotate(n=Count("id"), first=Min("reported_at"), last=Max("reported_at"))
        .filter(n__gte=repeat_min)
        .order_by("-n", "address_key")
    )
    caller_groups = list(
        window.exclude(caller_bidx="")
        .values("caller_bidx")
        .annotate(n=Count("id"), first=Min("reported_at"), last=Max("reported_at"))
        .filter(n__gte=repeat_min)
        .order_by("-n", "caller_bidx")
    )
    by_addr: dict[str, list[Incident]] = defaultdict(list)
    if addr_groups:
        keys = [g["address_key"] for g in addr_groups]
        for i in (
            window.filter(address_key__in=keys)
            .only("id", "case_number", "address", "address_key", "reported_at")
            .order_by("-reported_at", "-id")
        ):
            by_addr[i.address_key].append(i)
    by_caller: dict[str, list[Incident]] = defaultdict(list)
    if caller_groups:
        keys = [g["caller_bidx"] for g in caller_groups]
        for i in (
            window.filter(caller_bidx__in=keys)
            .only("id", "case_number", "caller_name", "caller_bidx", "reported_at")
            .order_by("-reported_at", "-id")
        ):
            by_caller[i.caller_bidx].append(i)

    def listed(items: list[Incident]) -> list[dict[str, Any]]:
        return [{"id": i.pk, "case_number": i.case_number} for i in items[:REPEAT_LIST]]

    addresses = [
        {
            "address": by_addr[g["address_key"]][0].address if by_addr[g["address_key"]] else "",
            "count": g["n"],
            "first": _iso(g["first"]),
            "last": _iso(g["last"]),
            "incidents": listed(by_addr[g["address_key"]]),
        }
        for g in addr_groups
    ]
    callers = []
    for g in caller_groups:
        items = by_caller[g["caller_bidx"]]
        name = next((i.caller_name for i in items if i.caller_name), "")
        callers.append(
            {
                "name_masked": mask_name(name),
                "count": g["n"],
                "first": _iso(g["first"]),
                "last": _iso(g["last"]),
                "incidents": listed(items),
            }
        )
    return {
        "min": repeat_min,
        "days": repeat_days,
        "start": _iso(start),
        "end": _iso(end),
        "addresses": addresses,
        "callers": callers,
    }


def disputes_section(station_id: int, day: date) -> dict[str, Any]:
    """Return the station's open disputes that are red or past their deadline."""
    from fengqiao.disputes.models import Dispute

    rows = (
        Dispute.objects.filter(station_id=station_id)
        .open()
        .filter(Q(colour="red") | Q(deadline__lt=day))
        .select_related("type", "mediator")
        .order_by("deadline", "id")
    )
    return {
        "rows": [
            {
                "id": d.pk,
                "case_number": d.case_number,
                "type": d.type.name,
                "grade": d.grade,
                "grade_label": str(d.get_grade_display()),
                "colour": d.colour,
                "colour_label": str(d.get_colour_display()),
                "deadline": d.deadline.isoformat() if d.deadline else None,
                "overdue_days": (day - d.deadline).days if d.deadline and d.deadline < day else 0,
                "mediator": d.mediator.name if d.mediator else "",
                "status_label": str(d.get_status_display()),
            }
            for d in rows
        ]
    }


def hotspots_section(station_id: int, day: date) -> dict[str, Any]:
    """Return the hot cells of the station's hotspots up to yesterday, with their trend."""
    report = station_hotspots(station_id=station_id, end=day - timedelta(days=1))
    # The cells hot in the last window, and those with a class over time (a former hotspot
    # is news to the meeting too), hottest first.
    cells = [
        {
            "h3": c.h3,
            "lat": c.lat,
            "lng": c.lng,
            "boundary": [[float(a), float(b)] for a, b in c.boundary],
            "count": int(c.count),
            "z": round(float(c.z), 4),
            "q": round(float(c.q), 6),
            "hot": bool(c.hot),
            "trend": c.trend,
        }
        for c in report.hot_cells
    ]
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "resolution": report.resolution,
        "window_days": report.window_days,
        "alpha": report.alpha,
        "cells": cells,
    }


def briefing_content(*, station_id: int, day: date) -> dict[str, Any]:
    """Return every section of station `station_id`'s briefing for morning `day`."""
    station = Area.objects.only("id", "name").get(pk=station_id)
    return {
        "schema": SCHEMA,
        "station": {"id": station.pk, "name": station.name},
        "day": day.isoformat(),
        "overnight": overnight_section(station_id, day),
        "classes": classes_section(station_id, day),
        "grids": grids_section(station_id, day),
        "hotspots": hotspots_section(station_id, day),
        "repeats": repeats_section(station_id, day),
        "disputes": disputes_section(station_id, day),
    }
