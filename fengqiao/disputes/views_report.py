"""The monthly report page (人民调解工作月报表) and its XLSX download.

The month shown by default is the last full month: the judicial bureau asks for the report of
the month just ended. A chief sees their station; an analyst picks a station or the district
(the sum of its stations). Charts are drawn by static/js/dispute_report.js from JSON.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _

from fengqiao.areas.forms import area_param
from fengqiao.disputes.report import (
    DIM_ORDER,
    HEADLINE,
    default_month,
    monthly_report,
    report_choices,
)
from fengqiao.disputes.report_xlsx import (
    audit_report_download,
    breakdown_columns,
    breakdown_titles,
    figure_labels,
    show,
    show_change,
    write_report_xlsx,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def parse_period(params: Any) -> tuple[int, int, int | None, list[str]]:
    """Return (year, month, area_id, errors) from ?month=YYYY-MM (or year & month) and ?area."""
    errors: list[str] = []
    year, month = default_month()
    raw = (params.get("month") or "").strip()
    try:
        if "-" in raw:
            y, m = raw.split("-", 1)
            year, month = int(y), int(m)
        elif raw or params.get("year"):
            year, month = int(params.get("year") or year), int(raw or month)
        if not (1 <= month <= 12 and 2000 <= year <= 2100):
            raise ValueError
    except ValueError:
        errors.append(_("月份格式不正确，已显示上一个整月。"))
        year, month = default_month()
    area_id = area_param(params, errors)
    return year, month, area_id, errors


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def chart_data(report: dict[str, Any]) -> dict[str, Any]:
    """Return what the charts draw, with the labels they show."""
    b = report["breakdowns"]
    return {
        "labels": {
            "received": _("受理"),
            "concluded": _("调解"),
            "succeeded": _("成功"),
            "screened": _("排查发现"),
        },
        "trend": _jsonable(report["trend"]),
        "source": [{"name": r["label"], "value": r["received"]} for r in b["source"]],
        "stat_type": [
            {"name": r["label"], "value": r["received"]} for r in b["stat_type"] if r["received"]
        ],
        "channel": [
            {"name": r["label"], "concluded": r["concluded"], "succeeded": r["succeeded"]}
            for r in b["channel"]
        ],
        "area": [{"name": r["label"], "value": r["received"]} for r in b["area"]],
    }


def _cards(report: dict[str, Any]) -> list[dict[str, Any]]:
    cards = []
    for key, label in figure_labels().items():
        change = report["changes"][key]
        cards.append(
            {
                "key": key,
                "label": label,
                "value": show(key, report["totals"][key]),
                "mom": {"dir": change["mom"]["dir"], "text": show_change(key, change["mom"])},
                "yoy": {"dir": change["yoy"]["dir"], "text": show_change(key, change["yoy"])},
            }
        )
    return cards


def _tables(report: dict[str, Any]) -> list[dict[str, Any]]:
    columns = breakdown_columns()
    titles = breakdown_titles()
    return [
        {
            "dim": dim,
            "title": titles[dim],
            "rows": [
                {"label": r["label"], "cells": [show(k, r[k]) for k in columns]}
                for r in report["breakdowns"][dim]
            ],
        }
        for dim in DIM_ORDER
    ]


@login_required
def report_page(request: HttpRequest) -> HttpResponse:
    year, month, area_id, errors = parse_period(request.GET)
    for error in errors:
        messages.error(request, error)
    report = monthly_report(user=request.user, year=year, month=month, area_id=area_id)
    context = {
        "report": report,
        "month_value": f"{year:04d}-{month:02d}",
        "choices": report_choices(request.user),
        "area_id": report["scope"]["id"],
        "cards": _cards(report),
        "tables": _tables(report),
        "columns": list(breakdown_columns().values()),
        "charts": chart_data(report),
        "headline": HEADLINE,
    }
    return render(request, "disputes/report.html", context)


@login_required
def report_xlsx(request: HttpRequest) -> FileResponse:
    year, month, area_id, _errors = parse_period(request.GET)
    report = monthly_report(user=request.user, year=year, month=month, area_id=area_id)
    fh = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        write_report_xlsx(report, fh)
        fh.seek(0)
        audit_report_download(actor=request.user, report=report, fmt="xlsx")
    except BaseException:
        fh.close()
        raise
    return FileResponse(
        fh,
        as_attachment=True,
        filename=f"人民调解工作月报表-{report['unit']}-{year:04d}{month:02d}.xlsx",
        content_type=XLSX,
    )


urlpatterns: list[URLPattern] = [
    path("report/", report_page, name="report"),
    path("report.xlsx", report_xlsx, name="report_xlsx"),
]
