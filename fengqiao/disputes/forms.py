"""Dispute forms: the list's filters and the small forms of the case page's actions.

Forms only read and check input; the services hold the rules and save.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fengqiao.areas.models import Area
from fengqiao.disputes.choices import (
    Channel,
    Colour,
    Consent,
    Grade,
    Source,
    Status,
    Supervision,
)
from fengqiao.disputes.models import DisputeType

# The list's tabs: (value, label). "colour" lists the open cases of one colour.
TABS: tuple[tuple[str, Any], ...] = (
    ("mine", _("我的待办")),
    ("open", _("本所案件")),
    ("overdue", _("超期")),
    ("colour", _("按颜色")),
    ("all", _("全部案件")),
)
DEFAULT_TAB = "open"
Q_MAX = 100


def _int_or_none(value: Any) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def community_of(data: Mapping[str, Any]) -> int | None:
    """Return the community picked in a query string, unchecked: it narrows the grids offered."""
    return _int_or_none(data.get("community"))


def _select() -> forms.Select:
    return forms.Select(attrs={"class": "form-select form-select-sm"})


def _every(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("全部")), *[(str(v), label) for v, label in choices]]


def _choice(label: Any, choices: Any, invalid: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=_every(choices),
        widget=_select(),
        error_messages={"invalid_choice": invalid},
    )


def _date(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
        error_messages={"invalid": _("请输入有效的日期，如 2026-03-01。")},
    )


class DisputeFilterForm(forms.Form):
    """The list's and the export's filters; an unreadable value is an error, never a 500."""

    tab = forms.ChoiceField(
        label=_("列表"),
        required=False,
        choices=TABS,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("没有这个列表。")},
    )
    q = forms.CharField(
        label=_("关键词"),
        required=False,
        max_length=Q_MAX,
        widget=forms.SearchInput(
            attrs={
                "class": "form-control form-control-sm",
                "placeholder": _("案件编号、当事人、地址、情况"),
            }
        ),
        error_messages={"max_length": _("关键词不能超过%(limit_value)d个字。")},
    )
    type = forms.ChoiceField(
        label=_("纠纷类型"),
        required=False,
        widget=_select(),
        error_messages={"invalid_choice": _("没有这种纠纷类型。")},
    )
    grade = _choice(_("分级"), Grade.choices, _("没有这种分级。"))
    colour = _choice(_("预警颜色"), Colour.choices, _("没有这种预警颜色。"))
    status = _choice(_("状态"), Status.choices, _("没有这种案件状态。"))
    channel = _choice(_("调解方式"), Channel.choices, _("没有这种调解方式。"))
    source = _choice(_("案件来源"), Source.choices, _("没有这种案件来源。"))
    supervision = _choice(_("督办"), Supervision.choices, _("没有这种督办状态。"))
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
    reported_from = _date(_("登记日期自"))
    reported_to = _date(_("登记日期至"))

    def __init__(
        self,
        *args: Any,
        types: list[DisputeType],
        communities: list[Area],
        grids: list[Area],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        type_choices: list[tuple[str, str]] = []
        for t in types:
            indent = "" if t.parent_id is None else "\u3000"
            type_choices.append((t.code, f"{indent}{t.code} {t.name}"))
        self.fields["type"].choices = _every(type_choices)  # type: ignore[attr-defined]
        self.fields["community"].choices = _every(  # type: ignore[attr-defined]
            (c.pk, c.name) for c in communities
        )
        self.fields["grid"].choices = _every(  # type: ignore[attr-defined]
            (g.pk, f"{g.parent.name if g.parent else ''} {g.name}".strip()) for g in grids
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("reported_from"), data.get("reported_to")
        if start and end and start > end:
            self.add_error("reported_to", _("结束日期不能早于开始日期。"))
        return data

    @property
    def current_tab(self) -> str:
        data = getattr(self, "cleaned_data", {})
        return data.get("tab") or DEFAULT_TAB

    def filters(self) -> dict[str, Any]:
        """Return the checked filters as `selectors.dispute_search` keywords."""
        data = getattr(self, "cleaned_data", {})
        tab = self.current_tab
        colour = data.get("colour") or None
        if tab == "colour" and colour is None:
            colour = Colour.RED
        return {
            "queue": "open" if tab == "colour" else tab,
            "q": (data.get("q") or "").strip(),
            "type_code": data.get("type") or None,
            "grade": data.get("grade") or None,
            "colour": colour,
            "status": data.get("status") or None,
            "channel": data.get("channel") or None,
            "source": data.get("source") or None,
            "supervision": data.get("supervision") or None,
            "community_id": _int_or_none(data.get("community")),
            "grid_id": _int_or_none(data.get("grid")),
            "reported_from": data.get("reported_from"),
            "reported_to": data.get("reported_to"),
        }

    def narrowed(self) -> bool:
        """Return whether any filter beyond the tab is set."""
        return any(v for k, v in self.filters().items() if k != "queue")


def filter_audit(filters: Mapping[str, Any]) -> dict[str, Any]:
    """Return the filters as an audit log keeps them: set ones only, dates as text."""
    return {k: str(v) if hasattr(v, "isoformat") else v for k, v in filters.items() if v}


# --- the case page's actions ---


class VersionedForm(forms.Form):
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        max_value=2**31 - 1,
        error_messages={
            "required": _("缺少版本号，请刷新页面后重试。"),
            "invalid": _("版本号无效，请刷新页面后重试。"),
        },
    )


class TransitionForm(VersionedForm):
    to = forms.ChoiceField(
        label=_("变更为"),
        choices=Status.choices,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("没有这种案件状态。")},
    )
    reason = forms.CharField(
        label=_("理由"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"class": "form-control form-control-sm", "rows": 2}),
    )


class OverrideForm(VersionedForm):
    grade = forms.ChoiceField(
        label=_("分级"),
        choices=[("", "—"), *Grade.choices],
        widget=_select(),
        error_messages={"required": _("请选择分级。")},
    )
    colour = forms.ChoiceField(
        label=_("预警颜色"),
        choices=[("", "—"), *Colour.choices],
        widget=_select(),
        error_messages={"required": _("请选择预警颜色。")},
    )
    reason = forms.CharField(
        label=_("调整理由"),
        max_length=1000,
        widget=forms.Textarea(attrs={"class": "form-control form-control-sm", "rows": 2}),
        error_messages={"required": _("请说明调整理由。")},
    )


class ThreatReviewForm(VersionedForm):
    decision = forms.ChoiceField(
        choices=[("confirm", _("确认")), ("dismiss", _("排除"))], widget=forms.HiddenInput
    )
    note = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )


class ConsentForm(forms.Form):
    consent = forms.ChoiceField(
        label=_("调解意愿"),
        choices=Consent.choices,
        widget=_select(),
        error_messages={"invalid_choice": _("调解意愿应为同意、拒绝或未表态。")},
    )
    note = forms.CharField(
        label=_("表态说明"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
