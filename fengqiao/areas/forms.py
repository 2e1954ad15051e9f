"""Place forms: validate input and offer choices; the services hold the rules and save."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fengqiao.areas.models import Area, Place, PlaceKind
from fengqiao.core.templatetags.localized import localized_name


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def place_filters(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the list filters from a query string, unchecked; `PlaceFilterForm` checks them."""
    return {
        "kind": str(data.get("kind") or "").strip()[:40] or None,
        "community_id": _int_or_none(data.get("community")),
        "grid_id": _int_or_none(data.get("grid")),
        "q": str(data.get("q") or "").strip()[:100],
    }


def _select(**attrs: str) -> forms.Select:
    return forms.Select(attrs={"class": "form-select", **attrs})


def _text(**attrs: str) -> forms.TextInput:
    return forms.TextInput(attrs={"class": "form-control", **attrs})


class HiddenErrorsShown(forms.Form):
    """A form whose hidden fields' errors show on top: the user cannot see those fields."""

    def non_field_errors(self) -> Any:
        errors = super().non_field_errors()
        hidden: list[Any] = [e for field in self.hidden_fields() for e in field.errors]
        if not hidden:
            return errors
        return self.error_class([*errors, *hidden], error_class="nonfield", renderer=self.renderer)


class PlaceFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类型"),
        required=False,
        widget=_select(),
        error_messages={"invalid_choice": _("没有这种场所类型。")},
    )
    community = forms.ChoiceField(
        label=_("社区/村"),
        required=False,
        widget=_select(),
        error_messages={"invalid_choice": _("社区/村不存在，或不在您的辖区内。")},
    )
    grid = forms.ChoiceField(
        label=_("网格"),
        required=False,
        widget=_select(),
        error_messages={"invalid_choice": _("网格不存在、不在您的辖区内，或不属于所选的社区/村。")},
    )
    q = forms.CharField(
        label=_("关键词"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(
            attrs={"class": "form-control", "placeholder": _("名称、地址、联系人、备注")}
        ),
    )

    def __init__(self, *args: Any, choices: dict[str, list[Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        every = [("", _("全部"))]
        self.fields["kind"].choices = every + [  # type: ignore[attr-defined]
            (k.code, localized_name(k)) for k in choices["kinds"]
        ]
        self.fields["community"].choices = every + [  # type: ignore[attr-defined]
            (str(c.pk), c.name) for c in choices["communities"]
        ]
        self.fields["grid"].choices = every + [  # type: ignore[attr-defined]
            (str(g.pk), f"{g.parent.name if g.parent else ''} {g.name}".strip())
            for g in choices["grids"]
        ]

    def filters(self) -> dict[str, Any]:
        """Return the checked filters as selector keywords; call after a successful clean."""
        data = getattr(self, "cleaned_data", {})
        return {
            "kind": data.get("kind") or None,
            "community_id": int(data["community"]) if data.get("community") else None,
            "grid_id": int(data["grid"]) if data.get("grid") else None,
            "q": (data.get("q") or "").strip(),
        }


class PlaceForm(HiddenErrorsShown):
    station = forms.TypedChoiceField(
        label=_("派出所"),
        coerce=int,
        widget=_select(),
        error_messages={
            "required": _("请选择派出所。"),
            "invalid_choice": _("所选派出所无效，或您无权在该所登记场所。请刷新页面后重试。"),
        },
    )
    kind = forms.ChoiceField(label=_("场所类型"), widget=_select())
    name = forms.CharField(label=_("名称"), max_length=120, widget=_text())
    address = forms.CharField(label=_("地址"), max_length=200, widget=_text())
    lat = forms.FloatField(
        label=_("纬度"),
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
        help_text=_("例如 28.2051；可在地图上查看坐标。"),
    )
    lng = forms.FloatField(
        label=_("经度"),
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "any"}),
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=60, required=False, widget=_text())
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=40,
        required=False,
        widget=_text(inputmode="tel", autocomplete="off"),
    )
    clear_phone = forms.BooleanField(
        label=_("清除联系电话"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
    officer_id = forms.TypedChoiceField(
        label=_("责任民警"), required=False, coerce=int, empty_value=None, widget=_select()
    )
    notes = forms.CharField(
        label=_("备注"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
    )
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        required=False,
        error_messages={
            "required": _("缺少版本号，请刷新页面后重试。"),
            "invalid": _("版本号无效，请刷新页面后重试。"),
        },
    )

    def __init__(
        self,
        *args: Any,
        stations: list[Area],
        kinds: list[PlaceKind],
        officers: list[tuple[int, str, int]],
        place: Place | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.place = place
        self.fields["kind"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (k.code, localized_name(k))
            for k in kinds
            if k.active or (place is not None and k.pk == place.kind_id)
        ]
        many = len(stations) > 1
        names = {s.pk: s.name for s in stations}
        self.fields["officer_id"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (str(uid), f"{label}（{names[sid]}）" if many else label)
            for uid, label, sid in officers
            if sid in names
        ]
        if place is None:
            self.fields["station"].choices = [(str(s.pk), s.name) for s in stations]  # type: ignore[attr-defined]
            if not many:
                self.fields["station"].widget = forms.HiddenInput()
                self.fields["station"].initial = stations[0].pk if stations else None
            del self.fields["version"]
            del self.fields["clear_phone"]
        else:
            del self.fields["station"]
            self.fields["version"].required = True
            if place.contact_phone:
                self.fields["contact_phone"].help_text = _(
                    "当前已登记（%(masked)s）。留空则不修改。"
                ) % {"masked": _masked(place.contact_phone)}
            else:
                del self.fields["clear_phone"]

    def changes(self) -> dict[str, Any]:
        """Return the cleaned values as service keywords (an empty phone on edit: unchanged)."""
        data = dict(self.cleaned_data)
        data.pop("station", None)
        data.pop("version", None)
        clear = data.pop("clear_phone", False)
        if self.place is not None and not data.get("contact_phone"):
            if clear:
                data["contact_phone"] = ""
            else:
                data.pop("contact_phone", None)
        data["kind_code"] = data.pop("kind")
        return data


def _masked(value: str) -> str:
    from fengqiao.core.pii import mask_phone

    return mask_phone(value)


def place_initial(place: Place) -> dict[str, Any]:
    """Return the edit form's initial values; the phone stays out, it is personal data."""
    return {
        "kind": place.kind.code,
        "name": place.name,
        "address": place.address,
        "lat": place.lat,
        "lng": place.lng,
        "contact_name": place.contact_name,
        "officer_id": place.officer_id,
        "notes": place.notes,
        "version": place.version,
    }


class PlaceImportForm(HiddenErrorsShown):
    station = forms.TypedChoiceField(
        label=_("导入到派出所"),
        coerce=int,
        widget=_select(),
        error_messages={
            "required": _("请选择派出所。"),
            "invalid_choice": _("所选派出所无效，或您无权向该所导入场所。请刷新页面后重试。"),
        },
    )
    file = forms.FileField(
        label=_("文件"),
        help_text=_(
            "XLSX 或 CSV（UTF-8 或 GBK 编码）。第一行为表头：名称、类型、地址、纬度、经度，"
            "可选：联系人、联系电话、备注。类型可填编码或中文名称。"
        ),
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".xlsx,.csv,text/csv"}
        ),
    )

    def __init__(self, *args: Any, stations: list[Area], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["station"].choices = [(str(s.pk), s.name) for s in stations]  # type: ignore[attr-defined]
        if len(stations) == 1:
            self.fields["station"].widget = forms.HiddenInput()
            self.fields["station"].initial = stations[0].pk


def area_param(params: Mapping[str, Any], errors: list[str]) -> int | None:
    """Return the area id a report or dashboard page was asked for (?area=), None for the
    default; a value that is not an id adds a message to `errors` and falls back to it."""
    raw = str(params.get("area") or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        errors.append(str(_("辖区选择不正确，已显示默认辖区。")))
        return None
