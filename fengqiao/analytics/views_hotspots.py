"""The hotspots page: the station's Gi* hot cells on a map, their classes, and a table.

The map is drawn by static/fengqiao/hotspots.js from JSON in the page (no inline script).
A district analyst picks a station; everyone else sees their own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from fengqiao.analytics import hotspot_selectors as sel
from fengqiao.analytics.hotspots import MAX_RESOLUTION, MIN_RESOLUTION, TRENDS
from fengqiao.core.errors import ValidationFailed
from fengqiao.core.templatetags.localized import localized_from, localized_names

# Colours of the classes, hottest first; the legend and the map use the same.
TREND_COLOURS = {
    "intensifying": "#99000d",
    "persistent": "#cb181d",
    "new": "#fb6a4a",
    "sporadic": "#fcae91",
    "diminishing": "#6baed6",
    "former": "#969696",
}


class HotspotFilter(forms.Form):
    """The page's filters; an invalid value is reported and replaced by its default."""

    # Any id: a station out of reach is a 404 from access_hotspot_station, as a missing one.
    station = forms.IntegerField(label=gettext_lazy("派出所"), min_value=1, required=False)
    end = forms.DateField(
        label=pgettext_lazy("hotspots", "截止日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    resolution = forms.IntegerField(
        label=gettext_lazy("分辨率"),
        min_value=MIN_RESOLUTION,
        max_value=MAX_RESOLUTION,
        required=False,
    )
    class_code = forms.ChoiceField(label=gettext_lazy("警情大类"), required=False)

    def __init__(self, *args: Any, classes: list[tuple[str, str]], **kw: Any):
        super().__init__(*args, **kw)
        class_field = self.fields["class_code"]
        assert isinstance(class_field, forms.ChoiceField)
        names = localized_names("incidents.IncidentCategory")
        class_field.choices = [
            ("", _("全部大类")),
            *((code, localized_from(name, names)) for code, name in classes),
        ]


def _filters(request: HttpRequest, form: HotspotFilter) -> dict[str, Any]:
    """Return the valid filter values; report each invalid one and use its default."""
    values: dict[str, Any] = {"station": None, "end": None, "resolution": None, "class_code": ""}
    if not form.is_bound:
        return values
    form.is_valid()
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else name
        messages.error(
            request,
            _("%(field)s：%(error)s 已使用默认值。")
            % {"field": label, "error": " ".join(str(e) for e in errors)},
        )
    for name in values:
        if name not in form.errors and form.cleaned_data.get(name) not in (None, ""):
            values[name] = form.cleaned_data[name]
    return values


@login_required
def hotspots_page(request: HttpRequest) -> HttpResponse:
    stations = sel.hotspot_stations(request.user)
    classes = sel.class_choices()
    form = HotspotFilter(request.GET or None, classes=classes)
    values = _filters(request, form)
    station = sel.access_hotspot_station(request.user, values["station"])
    end: date = values["end"] or sel.default_end()
    report = None
    try:
        report = sel.station_hotspots(
            station_id=station.pk,
            end=end,
            resolution=values["resolution"],
            class_code=values["class_code"],
        )
    except ValidationFailed as e:
        details = "；".join(m for ms in e.fields.values() for m in ms)
        messages.error(request, f"{e.message}{details}" if details else e.message)
    if not form.is_bound:
        form = HotspotFilter(
            initial={
                "station": station.pk,
                "end": end,
                "resolution": report.resolution if report else None,
            },
            classes=classes,
        )
    legend: list[dict[str, Any]] = [
        {"trend": t, "label": sel.trend_label(t), "colour": TREND_COLOURS[t]} for t in TRENDS
    ]
    counts = report.trend_counts() if report else {}
    for item in legend:
        item["count"] = counts.get(item["trend"], 0)
    context = {
        "form": form,
        "station": station,
        "stations": stations,
        "report": report,
        "hot_cells": report.hot_cells if report else [],
        "legend": legend,
        "map_data": {
            "cells": sel.report_geojson(report) if report else None,
            "grids": sel.station_grid_shapes(station.pk),
            "colours": TREND_COLOURS,
            "labels": {
                "count": _("最近时段警情"),
                "counts": _("各时段警情"),
                "z": _("Gi* z 值"),
                "q": _("FDR 校正 p 值"),
                "trend": _("类型"),
                "legend": _("热点类型"),
                "notHot": _("非热点"),
            },
            "legend": [{k: str(v) for k, v in item.items()} for item in legend],
        },
    }
    return render(request, "analytics/hotspots.html", context)
