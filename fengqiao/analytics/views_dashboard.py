"""The dashboard page (数据看板): a station's or district's incident figures, charts and tables.

The charts are drawn by static/fengqiao/dashboard.js from JSON in the page (no inline script);
every figure is also in a plain table, so the page reads without script and prints.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from fengqiao.analytics.dashboards import (
    access_dashboard,
    dashboard_choices,
    dashboard_for,
    default_period,
)
from fengqiao.areas.forms import area_param
from fengqiao.core.errors import ValidationFailed

WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")
# Marked for translation here, translated where used.
WEEKDAY_NAMES = (
    gettext_noop("周一"),
    gettext_noop("周二"),
    gettext_noop("周三"),
    gettext_noop("周四"),
    gettext_noop("周五"),
    gettext_noop("周六"),
    gettext_noop("周日"),
)
FIRST_YEAR, LAST_YEAR = 2000, 2100


def parse_day(raw: str | None) -> date | None:
    """Return the ISO date in raw, None when empty; raise ValueError when it is no date."""
    raw = (raw or "").strip()
    if not raw:
        return None
    day = date.fromisoformat(raw)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(raw)
    return day


def parse_query(params: QueryDict) -> tuple[date, date, int | None, list[str]]:
    """Return (first, last, area id, errors) from ?first=&last=&area=; bad values → defaults."""
    errors: list[str] = []
    d_first, d_last = default_period()
    got: dict[str, date | None] = {}
    for name, label in (("first", _("开始日期")), ("last", _("结束日期"))):
        try:
            got[name] = parse_day(params.get(name))
        except ValueError:
            errors.append(
                _("%(field)s格式不正确（应为 YYYY-MM-DD，2000 至 2100 年），已使用默认值。")
                % {"field": label}
            )
            got[name] = None
    first, last = got["first"] or d_first, got["last"] or d_last
    area_id = area_param(params, errors)
    return first, last, area_id, errors


def pct(value: float | None) -> str:
    """Return a change as a signed percentage (+25.0%), or — when there is nothing to compare."""
    return "—" if value is None else f"{value * 100:+.1f}%"


def rate_text(value: float | None) -> str:
    """Return a rate as a percentage (82.4%), or — without a denominator."""
    return "—" if value is None else f"{value * 100:.1f}%"


def direction(value: float | None) -> str:
    return "flat" if not value else ("up" if value > 0 else "down")


def _class_rows(classes: list[dict[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    """Flatten the class tree into table rows, each with its depth."""
    rows = []
    for node in classes:
        if not node["count"] and not node["last_year"]:
            continue
        rows.append({**node, "depth": depth, "yoy_text": pct(node["yoy"])})
        rows += _class_rows(node["children"], depth + 1)
    return rows


def _trend_rows(trend: dict[str, Any]) -> list[dict[str, Any]]:
    total = trend["total"]
    return [
        {
            "month": month,
            "count": total["counts"][i],
            "mom": pct(total["mom"][i]),
            "yoy": pct(total["yoy"][i]),
            "classes": [s["counts"][i] for s in trend["classes"]],
        }
        for i, month in enumerate(trend["months"])
    ]


def _heat_rows(heatmap: list[list[int]]) -> list[dict[str, Any]]:
    by = {(h, w): n for h, w, n in heatmap}
    return [{"hour": h, "cells": [by.get((h, w), 0) for w in range(7)]} for h in range(24)]


def chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """Return what the charts draw, with their labels."""
    top = [c for c in data["classes"] if c["count"] or c["last_year"]]
    return {
        "classes": [
            {"name": c["name"], "now": c["count"], "then": c["last_year"], "yoy": c["yoy"]}
            for c in top
        ],
        "grids": [{"name": g["name"], "count": g["count"]} for g in data["grids"][:20]],
        "heatmap": data["heatmap"],
        "trend": data["trend"],
        "weekdays": [_(day) for day in WEEKDAY_NAMES],
        "labels": {
            "now": _("本期"),
            "then": _("去年同期"),
            "total": _("警情总数"),
            "mom": _("环比"),
            "yoy": _("同比"),
            "count": _("警情"),
        },
    }


@login_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    first, last, area_id, errors = parse_query(request.GET)
    for error in errors:
        messages.error(request, error)
    scope, stations = access_dashboard(request.user, area_id)
    try:
        data = dashboard_for(scope, first=first, last=last)
    except ValidationFailed as e:
        messages.error(request, _("%(error)s已显示今年以来的数据。") % {"error": e.message})
        first, last = default_period()
        data = dashboard_for(scope, first=first, last=last)
    totals = data["totals"]
    cards = [
        {"key": "count", "label": _("警情总数"), "value": totals["count"],
         "then": totals["count_last_year"], "yoy": totals["count_yoy"]},
        {"key": "valid", "label": pgettext("count of", "有效警情"), "value": totals["valid"],
         "then": totals["valid_last_year"], "yoy": totals["valid_yoy"]},
    ] + [
        {"key": h["code"], "label": h["name"], "value": h["count"], "then": h["last_year"],
         "yoy": h["yoy"]}
        for h in data["headline"]
    ]  # fmt: skip
    for card in cards:
        card["yoy_text"], card["dir"] = pct(card["yoy"]), direction(card["yoy"])
    context = {
        "data": data,
        "first": first,
        "last": last,
        "choices": dashboard_choices(stations),
        "area_id": scope.area_id,
        "cards": cards,
        "class_rows": _class_rows(data["classes"]),
        "trend_rows": _trend_rows(data["trend"]),
        "heat_rows": _heat_rows(data["heatmap"]),
        "weekdays": WEEKDAYS,
        "charts": chart_data(data),
        "odou": data["one_down_one_up"],
        "sat_now": rate_text(data["one_down_one_up"]["satisfaction_now"]),
        "sat_then": rate_text(data["one_down_one_up"]["satisfaction_then"]),
    }
    return render(request, "analytics/dashboard.html", context)
