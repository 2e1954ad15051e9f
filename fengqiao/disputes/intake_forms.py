"""Intake, edit and screening-visit forms: they read and show input; the services check and save.

Fields are lenient on purpose (mostly optional text): the services hold the rules and answer
with per-field Chinese messages, which `show_errors` puts back on the form and its party rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fengqiao.areas.models import Area
from fengqiao.core.errors import DomainError
from fengqiao.core.templatetags.localized import localized_name
from fengqiao.disputes.choices import (
    Consent,
    PartyKind,
    PartyRole,
    Referrer,
    Scale,
    Source,
    VisitResult,
)
from fengqiao.disputes.models import DisputeType

CTRL = {"class": "form-control"}
SELECT = {"class": "form-select"}
NUMBER = {**CTRL, "inputmode": "decimal"}
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _select(choices: Iterable[tuple[Any, Any]], label: Any, **extra: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", "——"), *choices],
        widget=forms.Select(attrs=SELECT),
        **extra,
    )


def _moment(label: Any) -> forms.CharField:
    # Text, not DateTimeField: the service reads the ISO text and says what is wrong in Chinese.
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.DateTimeInput(attrs={**CTRL, "type": "datetime-local"}, format=LOCAL_FORMAT),
    )


def local_input(value: datetime | None) -> str:
    """Return a moment as a datetime-local input's value, in local time."""
    return timezone.localtime(value).strftime(LOCAL_FORMAT) if value else ""


class TypeSelect(forms.Select):
    """The subtype select: grouped by class, each option carrying its class and stat type."""

    def __init__(self, *args: Any, meta: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.meta = meta

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.meta:
            parent, stat = self.meta[str(value)]
            option["attrs"]["data-class"] = parent
            option["attrs"]["data-stat"] = stat
        return option


def type_choices() -> tuple[list[tuple[str, str]], list[Any], dict[str, tuple[str, str]]]:
    """Return the classes, the subtypes grouped by class, and code → (class, stat type name)."""
    rows = list(
        DisputeType.objects.filter(active=True)
        .select_related("stat_type", "parent")
        .order_by("sort", "code")
    )
    classes = [(t.code, f"{t.code} {localized_name(t)}") for t in rows if t.parent_id is None]
    groups: dict[str, list[tuple[str, str]]] = {code: [] for code, _label in classes}
    meta: dict[str, tuple[str, str]] = {}
    for t in rows:
        if t.parent is not None and t.parent.code in groups:
            groups[t.parent.code].append((t.code, f"{t.code} {localized_name(t)}"))
            meta[t.code] = (t.parent.code, localized_name(t.stat_type) if t.stat_type else "")
    grouped = [(label, groups[code]) for code, label in classes if groups[code]]
    return classes, grouped, meta


class CaseForm(forms.Form):
    """The case's facts, shared by the intake page and the edit page."""

    narrative = forms.CharField(
        label=_("纠纷情况"), required=False, widget=forms.Textarea(attrs={**CTRL, "rows": 5})
    )
    occurred_at = _moment(_("发生时间"))
    type_class = _select([], _("纠纷大类"))
    type_code = forms.ChoiceField(label=_("纠纷小类"), required=False)
    scale = _select(Scale.choices, _("规模"))
    people_count = forms.CharField(
        label=_("涉及人数"),
        required=False,
        widget=forms.NumberInput(attrs={**CTRL, "min": 1, "inputmode": "numeric"}),
    )
    amount = forms.CharField(
        label=_("涉及金额（元）"),
        required=False,
        widget=forms.TextInput(attrs={**CTRL, "inputmode": "decimal"}),
    )
    violence = forms.BooleanField(label=_("有暴力或威胁行为"), required=False)
    death = forms.BooleanField(label=_("涉及人员死亡"), required=False)
    special_groups = forms.BooleanField(label=_("涉及特殊群体"), required=False)
    difficult = forms.BooleanField(label=_("疑难复杂"), required=False)
    channels_involved = forms.CharField(
        label=_("涉及渠道/部门数"),
        required=False,
        widget=forms.NumberInput(attrs={**CTRL, "min": 1, "max": 6, "inputmode": "numeric"}),
    )
    lat = forms.CharField(label=_("纬度"), required=False, widget=forms.TextInput(attrs=NUMBER))
    lng = forms.CharField(label=_("经度"), required=False, widget=forms.TextInput(attrs=NUMBER))
    address = forms.CharField(
        label=_("地址"), required=False, max_length=200, widget=forms.TextInput(attrs=CTRL)
    )
    grid_id = forms.ChoiceField(label=_("网格"), required=False)

    FACTS = ("violence", "death", "special_groups", "difficult")
    # Keys of the service's errors that have no field of their own here.
    ALIASES: Mapping[str, str | None] = {"location": "lat", "station_id": None}

    def __init__(self, *args: Any, grids: Iterable[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        classes, grouped, meta = type_choices()
        self.fields["type_class"].choices = [("", "——"), *classes]  # type: ignore[attr-defined]
        self.fields["type_code"].choices = [("", "——"), *grouped]  # type: ignore[attr-defined]
        self.fields["type_code"].widget = TypeSelect(attrs=SELECT, meta=meta)
        self.fields["type_code"].widget.choices = self.fields["type_code"].choices  # type: ignore[attr-defined]
        self.fields["grid_id"].choices = [  # type: ignore[attr-defined]
            ("", _("——（按地图位置自动确定）")),
            *((str(g.pk), f"{g.parent.name if g.parent else ''} {g.name}".strip()) for g in grids),
        ]
        self.fields["grid_id"].widget.attrs.update(SELECT)
        for name in self.FACTS:
            self.fields[name].widget.attrs.update({"class": "form-check-input"})

    def values(self) -> dict[str, Any]:
        """Return the input as the service's keyword arguments (after is_valid)."""
        data = self.cleaned_data
        out = {
            name: data.get(name)
            for name in self.fields
            if name not in ("type_class", "intake_token", "visit", "version", "station")
        }
        out["grid_id"] = data.get("grid_id") or None
        return out


class IntakeForm(CaseForm):
    station = forms.TypedChoiceField(
        label=_("派出所"),
        coerce=int,
        widget=forms.Select(attrs=SELECT),
        error_messages={
            "required": _("请选择派出所。"),
            "invalid_choice": _("所选派出所无效，或您无权在该所登记矛盾纠纷。"),
        },
    )
    reported_at = _moment(_("登记时间"))
    source = _select(Source.choices, _("案件来源"))
    referrer = _select(Referrer.choices, _("移送单位"))
    intake_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    visit = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, stations: Iterable[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["station"].choices = [(s.pk, s.name) for s in stations]  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("intake_token", uuid.uuid4().hex)
            self.initial.setdefault("reported_at", local_input(timezone.now()))

    def values(self) -> dict[str, Any]:
        out = super().values()
        out["station_id"] = self.cleaned_data["station"]
        out["intake_key"] = self.cleaned_data.get("intake_token") or ""
        out["reported_at"] = self.cleaned_data.get("reported_at") or None
        return out


class EditForm(CaseForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class PartyForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    kind = forms.ChoiceField(
        label=_("类型"), choices=PartyKind.choices, initial=PartyKind.PERSON, required=False
    )
    role = _select(PartyRole.choices, _("身份"))
    name = forms.CharField(label=_("姓名/名称"), required=False, max_length=60)
    phone = forms.CharField(label=_("联系电话"), required=False, max_length=40)
    id_number = forms.CharField(label=_("身份证号码"), required=False, max_length=40)
    address = forms.CharField(label=_("住址"), required=False, max_length=200)
    consent = forms.ChoiceField(
        label=_("调解意愿"), choices=Consent.choices, initial=Consent.UNDECIDED, required=False
    )
    consent_note = forms.CharField(label=_("表态说明"), required=False, max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.update({"class": "form-select form-select-sm"})
            elif not isinstance(field.widget, forms.HiddenInput):
                field.widget.attrs.update({"class": "form-control form-control-sm"})
        self.fields["phone"].widget.attrs["inputmode"] = "tel"
        self.fields["phone"].widget.attrs["autocomplete"] = "off"
        self.fields["id_number"].widget.attrs["autocomplete"] = "off"
        masked = self.initial.get("masked") or {}
        for name in ("phone", "id_number"):
            if masked.get(name):
                self.fields[name].widget.attrs["placeholder"] = masked[name]
                self.fields[name].help_text = _("留空则不修改")

    @property
    def existing(self) -> bool:
        return bool(self.initial.get("id"))

    def is_blank(self) -> bool:
        """Return whether a new row was left empty: such a row is not a party."""
        data = getattr(self, "cleaned_data", {})
        return not data.get("id") and not any(
            data.get(k) for k in ("name", "phone", "id_number", "address", "consent_note")
        )


PartyFormSet = formset_factory(PartyForm, extra=0, can_delete=True)


def party_formset(data: Any = None, initial: list[dict[str, Any]] | None = None) -> Any:
    """Return the party rows: two empty rows for a new case, the case's parties for an edit."""
    if initial is None:
        initial = [
            {"role": PartyRole.APPLICANT, "kind": PartyKind.PERSON},
            {"role": PartyRole.RESPONDENT, "kind": PartyKind.PERSON},
        ]
    return PartyFormSet(data, initial=initial, prefix="parties")


def parties_input(formset: Any, *, edit: bool) -> tuple[list[dict[str, Any]], list[int]]:
    """Return the parties as the service reads them, and the form row of each one."""
    out: list[dict[str, Any]] = []
    rows: list[int] = []
    for i, form in enumerate(formset.forms):
        data = getattr(form, "cleaned_data", None)
        if not data or form.is_blank() or (data.get("DELETE") and not data.get("id")):
            continue
        values = {
            k: v for k, v in data.items() if k not in ("DELETE", "id") and v not in (None, "")
        }
        if edit and data.get("id"):
            values["id"] = data["id"]
            # Kept masked on the page: a blank phone or ID number leaves the stored one.
            values.pop("consent", None)
            values.pop("consent_note", None)
        values.setdefault("name", "")
        out.append(values)
        rows.append(i)
    return out, rows


def show_errors(form: forms.Form, formset: Any, rows: list[int], exc: DomainError) -> None:
    """Put a service's refusal on the form: per field, party errors on their row, else on top."""
    shown: set[tuple[str, str]] = set()
    aliases = getattr(form, "ALIASES", {})
    for key, errors in exc.fields.items():
        for error in errors:
            if key.startswith("parties."):
                parts = key.split(".")
                try:
                    row = formset.forms[rows[int(parts[1])]]
                except (IndexError, ValueError):
                    form.add_error(None, error)
                    continue
                field = parts[2] if len(parts) > 2 and parts[2] in row.fields else None
                row.add_error(field, error)
                continue
            name = aliases.get(key, key) if key in aliases else key
            if (str(name), error) in shown:
                continue
            shown.add((str(name), error))
            try:
                form.add_error(name if name in form.fields else None, error)
            except ValidationError:
                form.add_error(None, error)
    if not exc.fields:
        form.add_error(None, exc.message)


class VisitForm(forms.Form):
    station = forms.TypedChoiceField(
        label=_("派出所"),
        coerce=int,
        widget=forms.Select(attrs=SELECT),
        error_messages={"invalid_choice": _("所选派出所无效，或您无权在该所登记排查走访。")},
    )
    visited_at = _moment(_("走访时间"))
    visited = forms.CharField(
        label=_("走访对象"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={**CTRL, "placeholder": _("住户、商户、工地等")}),
    )
    address = forms.CharField(
        label=_("地址"), required=False, max_length=200, widget=forms.TextInput(attrs=CTRL)
    )
    lat = forms.CharField(label=_("纬度"), required=False, widget=forms.TextInput(attrs=CTRL))
    lng = forms.CharField(label=_("经度"), required=False, widget=forms.TextInput(attrs=CTRL))
    grid_id = forms.ChoiceField(label=_("网格"), required=False)
    findings = forms.CharField(
        label=_("排查情况"), required=False, widget=forms.Textarea(attrs={**CTRL, "rows": 4})
    )
    result = _select(VisitResult.choices, _("排查结果"))
    ALIASES: Mapping[str, str | None] = {"location": "lat", "station_id": None}

    def __init__(
        self, *args: Any, stations: Iterable[Area], grids: Iterable[Area], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["station"].choices = [(s.pk, s.name) for s in stations]  # type: ignore[attr-defined]
        self.fields["grid_id"].choices = [  # type: ignore[attr-defined]
            ("", _("——（按地图位置自动确定）")),
            *((str(g.pk), f"{g.parent.name if g.parent else ''} {g.name}".strip()) for g in grids),
        ]
        self.fields["grid_id"].widget.attrs.update(SELECT)
        if not self.is_bound:
            self.initial.setdefault("visited_at", local_input(timezone.now()))

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        out = {k: data.get(k) for k in self.fields if k != "station"}
        out["station_id"] = data["station"]
        out["grid_id"] = data.get("grid_id") or None
        return out


class VisitFilterForm(forms.Form):
    community = forms.ChoiceField(label=_("社区/村"), required=False)
    grid = forms.ChoiceField(label=_("网格"), required=False)
    result = _select(VisitResult.choices, _("排查结果"))
    date_from = forms.DateField(
        label=_("走访日期从"),
        required=False,
        widget=forms.DateInput(attrs={**CTRL, "type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("至"),
        required=False,
        widget=forms.DateInput(attrs={**CTRL, "type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(
        self, *args: Any, communities: Iterable[Area], grids: Iterable[Area], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        every = [("", _("全部"))]
        self.fields["community"].choices = [  # type: ignore[attr-defined]
            *every,
            *((str(c.pk), c.name) for c in communities),
        ]
        self.fields["grid"].choices = [  # type: ignore[attr-defined]
            *every,
            *((str(g.pk), f"{g.parent.name if g.parent else ''} {g.name}".strip()) for g in grids),
        ]
        self.fields["result"].choices = [*every, *VisitResult.choices]  # type: ignore[attr-defined]
        for field in self.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.attrs.update({"class": "form-select form-select-sm"})
            else:
                field.widget.attrs.update({"class": "form-control form-control-sm"})

    def filters(self) -> dict[str, Any]:
        data = getattr(self, "cleaned_data", {})
        return {
            "community_id": int(data["community"]) if data.get("community") else None,
            "grid_id": int(data["grid"]) if data.get("grid") else None,
            "result": data.get("result") or None,
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
