"""Incident forms: the list's filters, intake and correction, the moves, the settings.

Forms read and show input; the services hold the rules and answer with per-field Chinese
messages, which `disputes.intake_forms.show_errors` puts back on the form.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fengqiao.areas.models import Area
from fengqiao.core.templatetags.localized import localized_name
from fengqiao.disputes.choices import Scale
from fengqiao.disputes.intake_forms import (
    CTRL,
    LOCAL_FORMAT,
    SELECT,
    TypeSelect,
    local_input,
    type_choices,
)
from fengqiao.incidents.choices import Disposition, Linkage, Source, Status
from fengqiao.incidents.models import IncidentCategory

NUMBER = {**CTRL, "inputmode": "decimal"}
Q_MAX = 100


def _select(choices: Iterable[tuple[Any, Any]], label: Any, empty: Any = "——") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", empty), *choices],
        widget=forms.Select(attrs=SELECT),
    )


def _moment(label: Any, help_text: Any = "") -> forms.CharField:
    # Text, not DateTimeField: the service reads it and says what is wrong in Chinese.
    return forms.CharField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.DateTimeInput(attrs={**CTRL, "type": "datetime-local"}, format=LOCAL_FORMAT),
    )


def category_choices() -> tuple[list[tuple[str, str]], list[Any], dict[str, tuple[str, str]]]:
    """Return the classes, the categories grouped by class, and code → (class, parent name)."""
    rows = list(IncidentCategory.objects.filter(active=True).order_by("sort", "code"))
    by_id = {c.pk: c for c in rows}
    classes = [(c.code, f"{c.code} {localized_name(c)}") for c in rows if c.parent_id is None]
    groups: dict[str, list[tuple[str, str]]] = {code: [] for code, _label in classes}
    meta: dict[str, tuple[str, str]] = {}
    for c in rows:
        if c.parent_id is None or c.class_code not in groups:
            continue
        parent = by_id.get(c.parent_id)
        sub = parent is not None and parent.parent_id is not None
        # A subcategory is indented under its category: one select, the tree still readable.
        label = f"{'　' if sub else ''}{c.code} {localized_name(c)}"
        groups[c.class_code].append((c.code, label))
        meta[c.code] = (c.class_code, localized_name(parent))
    grouped = [(label, groups[code]) for code, label in classes if groups[code]]
    return classes, grouped, meta


def _grid_choices(grids: Iterable[Area]) -> list[tuple[str, Any]]:
    return [
        ("", _("——（按地图位置自动确定）")),
        *((str(g.pk), f"{g.parent.name if g.parent else ''} {g.name}".strip()) for g in grids),
    ]


class FactsForm(forms.Form):
    """The facts of an incident, shared by intake and correction."""

    source = _select(Source.choices, _("警情来源"))
    # The ids are the dispute intake's, so its script (map pick, two-level select) serves here.
    category_class = forms.ChoiceField(
        label=_("警情大类"),
        required=False,
        widget=forms.Select(attrs={**SELECT, "id": "id_type_class"}),
    )
    category_code = forms.ChoiceField(
        label=_("警情类别"),
        required=False,
        error_messages={"invalid_choice": _("未知的警情类别编码：%(value)s")},
    )
    reported_at = _moment(_("报警时间"))
    occurred_at = _moment(_("发生时间"))
    narrative = forms.CharField(
        label=_("简要警情"), required=False, widget=forms.Textarea(attrs={**CTRL, "rows": 4})
    )
    lat = forms.CharField(label=_("纬度"), required=False, widget=forms.TextInput(attrs=NUMBER))
    lng = forms.CharField(label=_("经度"), required=False, widget=forms.TextInput(attrs=NUMBER))
    address = forms.CharField(
        label=_("地址"), required=False, max_length=200, widget=forms.TextInput(attrs=CTRL)
    )
    grid_id = forms.ChoiceField(label=_("网格"), required=False)
    caller_name = forms.CharField(
        label=_("报警人"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={**CTRL, "autocomplete": "off"}),
    )
    caller_phone = forms.CharField(
        label=_("报警电话"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={**CTRL, "inputmode": "tel", "autocomplete": "off"}),
    )
    external_id = forms.CharField(
        label=_("接警单号"), required=False, max_length=40, widget=forms.TextInput(attrs=CTRL)
    )

    ALIASES: Mapping[str, str | None] = {"location": "lat", "station_id": None}

    def __init__(self, *args: Any, grids: Iterable[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        classes, grouped, meta = category_choices()
        self.fields["category_class"].choices = [("", "——"), *classes]  # type: ignore[attr-defined]
        choices = [("", "——"), *grouped]
        self.fields["category_code"].choices = choices  # type: ignore[attr-defined]
        widget = TypeSelect(attrs={**SELECT, "id": "id_type_code"}, meta=meta)
        widget.choices = choices
        self.fields["category_code"].widget = widget
        self.fields["grid_id"].choices = _grid_choices(grids)  # type: ignore[attr-defined]
        self.fields["grid_id"].widget.attrs.update(SELECT)

    def values(self) -> dict[str, Any]:
        """Return the input as the service's keyword arguments (after is_valid)."""
        data = self.cleaned_data
        out = {name: data.get(name) for name in self.fields if name in self.FACTS}
        out["grid_id"] = data.get("grid_id") or None
        out["lat"] = data.get("lat") or None
        out["lng"] = data.get("lng") or None
        out["reported_at"] = data.get("reported_at") or None
        out["occurred_at"] = data.get("occurred_at") or None
        return out

    FACTS = (
        "source",
        "category_code",
        "reported_at",
        "occurred_at",
        "narrative",
        "lat",
        "lng",
        "address",
        "grid_id",
        "caller_name",
        "caller_phone",
        "external_id",
    )


class IntakeForm(FactsForm):
    station = forms.TypedChoiceField(
        label=_("派出所"),
        coerce=int,
        widget=forms.Select(attrs=SELECT),
        error_messages={
            "required": _("请选择派出所。"),
            "invalid_choice": _("所选派出所无效，或您无权在该所登记警情。"),
        },
    )
    intake_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    field_order = ["station"]

    def __init__(self, *args: Any, stations: Iterable[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["station"].choices = [(s.pk, s.name) for s in stations]  # type: ignore[attr-defined]
        if not self.is_bound:
            now = local_input(timezone.now())
            self.initial.setdefault("intake_token", uuid.uuid4().hex)
            self.initial.setdefault("reported_at", now)
            self.initial.setdefault("occurred_at", now)

    def values(self) -> dict[str, Any]:
        out = super().values()
        out["station_id"] = self.cleaned_data["station"]
        out["intake_key"] = self.cleaned_data.get("intake_token") or ""
        return out


class EditForm(FactsForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args: Any, masked: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("caller_name", "caller_phone"):
            if masked.get(name):
                self.fields[name].widget.attrs["placeholder"] = masked[name]
                self.fields[name].help_text = _("留空则不修改")
        self.fields["clear_caller"] = forms.BooleanField(
            label=_("清除报警人信息"),
            required=False,
            widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
        )

    def values(self) -> dict[str, Any]:
        out = super().values()
        if self.cleaned_data.get("clear_caller"):
            out["caller_name"] = out["caller_phone"] = ""
        else:
            # Shown masked: a blank field keeps what is stored.
            for name in ("caller_name", "caller_phone"):
                if not out.get(name):
                    out.pop(name, None)
        return out


class MoveForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)


class DispatchForm(MoveForm):
    officer_id = forms.ChoiceField(label=_("处警民警"), required=False)
    team = forms.CharField(
        label=_("处警队伍"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={**CTRL, "placeholder": _("如：巡逻一组")}),
    )
    at = _moment(_("派警时间"), _("留空为当前时间"))

    def __init__(self, *args: Any, staff: Iterable[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["officer_id"].choices = [  # type: ignore[attr-defined]
            ("", "——"),
            *((str(u.pk), u.label) for u in staff),
        ]
        self.fields["officer_id"].widget.attrs.update(SELECT)


class ArriveForm(MoveForm):
    at = _moment(_("到场时间"), _("留空为当前时间"))


class CloseForm(MoveForm):
    disposition = _select(
        [(v, label) for v, label in Disposition.choices if v != Disposition.DISPUTE],
        _("处置结果"),
    )
    linkage = _select(Linkage.choices, _("联动单位"))
    note = forms.CharField(
        label=_("处置情况"), required=False, widget=forms.Textarea(attrs={**CTRL, "rows": 2})
    )
    at = _moment(_("处结时间"), _("留空为当前时间"))


class ConvertForm(MoveForm):
    """The dispute to open from the incident: its type, scale and the two sides."""

    type_class = _select([], _("纠纷大类"))
    type_code = forms.ChoiceField(label=_("纠纷小类"), required=False)
    scale = _select(Scale.choices, _("规模"))
    applicant = forms.CharField(
        label=_("申请人/一方"), required=False, max_length=60, widget=forms.TextInput(attrs=CTRL)
    )
    applicant_phone = forms.CharField(
        label=_("联系电话"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={**CTRL, "inputmode": "tel", "autocomplete": "off"}),
    )
    respondent = forms.CharField(
        label=_("被申请人/另一方"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs=CTRL),
    )
    note = forms.CharField(
        label=_("处置情况"), required=False, widget=forms.Textarea(attrs={**CTRL, "rows": 2})
    )

    ALIASES: Mapping[str, str | None] = {
        "parties": "applicant",
        "parties.0.name": "applicant",
        "parties.0.phone": "applicant_phone",
        "parties.1.name": "respondent",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        classes, grouped, meta = type_choices()
        self.fields["type_class"].choices = [("", "——"), *classes]  # type: ignore[attr-defined]
        choices = [("", "——"), *grouped]
        self.fields["type_code"].choices = choices  # type: ignore[attr-defined]
        widget = TypeSelect(attrs=SELECT, meta=meta)
        widget.choices = choices
        self.fields["type_code"].widget = widget

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        parties = [{"kind": "person", "role": "applicant", "name": data.get("applicant") or ""}]
        if data.get("applicant_phone"):
            parties[0]["phone"] = data["applicant_phone"]
        if data.get("respondent"):
            parties.append({"kind": "person", "role": "respondent", "name": data["respondent"]})
        return {
            "type_code": data.get("type_code") or "",
            "scale": data.get("scale") or "",
            "parties": parties,
            "note": data.get("note") or "",
        }


class ConfigForm(forms.Form):
    repeat_min = forms.CharField(
        label=_("重复报警次数阈值（N）"), widget=forms.NumberInput(attrs=CTRL)
    )
    repeat_days = forms.CharField(
        label=_("重复报警统计天数（M）"), widget=forms.NumberInput(attrs=CTRL)
    )
    briefing_hour = forms.CharField(
        label=_("晨会研判生成时刻（时）"), widget=forms.NumberInput(attrs=CTRL)
    )
    briefing_minute = forms.CharField(
        label=_("晨会研判生成时刻（分）"), widget=forms.NumberInput(attrs=CTRL)
    )
    hotspot_resolution = forms.CharField(
        label=_("热点网格分辨率（H3，5–12）"), widget=forms.NumberInput(attrs=CTRL)
    )


def _date(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
        error_messages={"invalid": _("请输入有效的日期，如 2026-03-01。")},
    )


def _filter_select(label: Any, choices: Iterable[tuple[Any, Any]]) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", _("全部")), *((str(v), t) for v, t in choices)],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
        error_messages={"invalid_choice": _("所选值无效，请重新选择。")},
    )


class FilterForm(forms.Form):
    """The list's filters; an unreadable value is an error, never a 500."""

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=Q_MAX,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-sm",
                "placeholder": _("警情编号、接警单号、地址、警情内容"),
                "type": "search",
            }
        ),
    )
    community = _filter_select(_("社区/村"), [])
    grid = _filter_select(_("网格"), [])
    category = _filter_select(_("警情类别"), [])
    source = _filter_select(_("警情来源"), Source.choices)
    status = _filter_select(_("状态"), Status.choices)
    disposition = _filter_select(_("处置结果"), Disposition.choices)
    valid = _filter_select(_("有效性"), [("1", _("有效警情")), ("0", _("无效警情"))])
    reported_from = _date(_("报警日期从"))
    reported_to = _date(_("报警日期到"))
    repeat = forms.BooleanField(
        label=_("只看重复报警"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(
        self,
        *args: Any,
        communities: Iterable[Area],
        grids: Iterable[Area],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = [  # type: ignore[attr-defined]
            ("", _("全部")),
            *((str(c.pk), c.name) for c in communities),
        ]
        self.fields["grid"].choices = [  # type: ignore[attr-defined]
            ("", _("全部")),
            *((str(g.pk), f"{g.parent.name if g.parent else ''} {g.name}".strip()) for g in grids),
        ]
        rows = IncidentCategory.objects.order_by("sort", "code").only(
            "code", "name", "name_en", "parent_id"
        )
        self.fields["category"].choices = [  # type: ignore[attr-defined]
            ("", _("全部")),
            *((c.code, f"{c.code} {localized_name(c)}") for c in rows),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("reported_from"), data.get("reported_to")
        if start and end and start > end:
            self.add_error("reported_to", _("结束日期不能早于开始日期。"))
        return data

    def filters(self) -> dict[str, Any]:
        """Return the filters as `selectors.incident_search` keywords (after is_valid)."""
        data = getattr(self, "cleaned_data", {}) if self.is_bound else {}
        valid = data.get("valid")

        def number(name: str) -> int | None:
            raw = data.get(name)
            return int(raw) if raw else None

        return {
            "community_id": number("community"),
            "grid_id": number("grid"),
            "category_code": data.get("category") or None,
            "source": data.get("source") or None,
            "status": data.get("status") or None,
            "disposition": data.get("disposition") or None,
            "valid": None if not valid else valid == "1",
            "repeat": bool(data.get("repeat")),
            "reported_from": data.get("reported_from"),
            "reported_to": data.get("reported_to"),
            "q": data.get("q") or "",
        }
