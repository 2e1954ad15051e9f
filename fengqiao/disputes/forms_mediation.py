"""Forms of the mediation section: sessions, the agreement, signatures, outcomes, referral.

They read the input as text and keep it; the services in `disputes.sessions`,
`disputes.agreements` and `disputes.outcomes` hold the rules (amounts, due dates, parties of the
case, versions), so the page and the API refuse alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from fengqiao.disputes.choices import AgreementForm as AgreementKind
from fengqiao.disputes.choices import Outcome, ReferralOutcome, ReferralTarget

TEXT = {"class": "form-control form-control-sm"}
SELECT = {"class": "form-select form-select-sm"}


def _text(label: Any, *, required: bool = False, max_length: int = 200, **attrs: Any) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.TextInput(attrs={**TEXT, **attrs}),
        error_messages={"required": _("必填"), "max_length": _("最多 %(limit_value)d 个字")},
    )


def _area(label: Any, *, required: bool = False, rows: int = 3, max_length: int = 5000) -> Any:
    return forms.CharField(
        label=label,
        required=required,
        max_length=max_length,
        widget=forms.Textarea(attrs={**TEXT, "rows": rows}),
        error_messages={"required": _("必填"), "max_length": _("最多 %(limit_value)d 个字")},
    )


def _version() -> forms.IntegerField:
    return forms.IntegerField(
        label=_("版本"),
        min_value=1,
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid": _("版本号无效，请刷新页面。")},
    )


def _choice(label: Any, choices: Sequence[tuple[Any, Any]], *, required: bool = True) -> Any:
    return forms.ChoiceField(
        label=label,
        required=required,
        choices=list(choices),
        widget=forms.Select(attrs=SELECT),
        error_messages={"required": _("必选"), "invalid_choice": _("请从列表中选择。")},
    )


def parse_others(text: str) -> list[dict[str, str]]:
    """Return the other participants from lines "姓名，身份" (the capacity is optional)."""
    rows = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        for sep in ("，", ",", "（", "(", " "):
            if sep in line:
                name, _sep, capacity = line.partition(sep)
                rows.append({"name": name.strip(), "capacity": capacity.strip(" ）)")})
                break
        else:
            rows.append({"name": line, "capacity": ""})
    return rows


class SessionForm(forms.Form):
    """Schedule (or change) a session: time, place, mediators, expected participants."""

    scheduled_at = _text(_("调解时间"), required=True, max_length=40, type="datetime-local")
    place = _text(_("调解地点"), required=True)
    mediators = forms.MultipleChoiceField(
        label=_("主持调解员"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("请从本所调解员名册中选择。")},
    )
    parties = forms.MultipleChoiceField(
        label=_("参会当事人"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("请从本案当事人中选择。")},
    )
    others = _area(_("其他参会人员（每行一人：姓名，身份）"), rows=2, max_length=2000)
    version = _version()

    def __init__(
        self,
        *args: Any,
        mediators: Sequence[tuple[int, str]] = (),
        parties: Sequence[tuple[int, str]] = (),
        with_parties: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        mediator_field: Any = self.fields["mediators"]
        mediator_field.choices = [(str(pk), name) for pk, name in mediators]
        party_field: Any = self.fields["parties"]
        party_field.choices = [(str(pk), name) for pk, name in parties]
        if not with_parties:
            del self.fields["parties"]


class RecordForm(forms.Form):
    """Record a session as held: attendance of each expected participant, minutes."""

    held_at = _text(_("召开时间（不填为现在）"), max_length=40, type="datetime-local")
    minutes = _area(_("调解记录"), required=True, rows=4, max_length=20000)
    version = _version()

    ATTENDED = (("", _("未记录")), ("yes", _("到场")), ("no", _("未到场")))

    def __init__(self, *args: Any, attendance: Sequence[tuple[int, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.attendance_ids = [pk for pk, _name in attendance]
        for pk, name in attendance:
            self.fields[f"attended_{pk}"] = _choice(name, self.ATTENDED, required=False)

    def attendance_fields(self) -> list[Any]:
        return [self[f"attended_{pk}"] for pk in self.attendance_ids]

    def marks(self) -> dict[int, bool | None]:
        values = {"yes": True, "no": False, "": None}
        return {
            pk: values[self.cleaned_data.get(f"attended_{pk}") or ""] for pk in self.attendance_ids
        }


class CancelForm(forms.Form):
    reason = _text(_("取消原因"), max_length=500)
    version = _version()


class AgreementHeadForm(forms.Form):
    """The agreement's text; its items come in a formset of `ItemForm`."""

    form = _choice(_("协议形式"), AgreementKind.choices)
    outcome = _choice(
        _("调解结果"),
        [(c, n) for c, n in Outcome.choices if c in {Outcome.SUCCESS, Outcome.PARTIAL}],
    )
    facts = _area(_("纠纷主要事实、争议事项"), required=True)
    terms = _area(_("经调解，自愿达成如下协议"), required=True)
    performance = _text(_("履行方式、时限"), max_length=300)
    version = _version()


class ItemForm(forms.Form):
    """One item: who owes what to whom, how much, by when; checked by the service."""

    obligor = _choice(_("履行方"), [], required=False)
    obligee = _choice(_("权利方"), [], required=False)
    description = _text(_("履行内容"), max_length=300)
    amount = _text(_("金额（元）"), max_length=40, inputmode="decimal")
    due_date = _text(_("履行期限"), max_length=20, type="date")

    def __init__(self, *args: Any, parties: Sequence[tuple[int, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        named = [(str(pk), name) for pk, name in parties]
        obligor: Any = self.fields["obligor"]
        obligor.choices = [("", _("请选择")), *named]
        obligee: Any = self.fields["obligee"]
        obligee.choices = [("", _("无")), *named]

    def is_blank(self) -> bool:
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        keys = ("obligor", "obligee", "description", "amount", "due_date")
        return not any((data.get(k) or "").strip() for k in keys)

    def item(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "obligor_id": d.get("obligor") or None,
            "obligee_id": d.get("obligee") or None,
            "description": d.get("description", ""),
            "amount": d.get("amount", ""),
            "due_date": d.get("due_date", ""),
        }


ItemFormSet = formset_factory(ItemForm, extra=0, max_num=50, absolute_max=50)


class SignForm(forms.Form):
    """A party's signature on the agreement, or their refusal, with a note."""

    party = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    state = forms.ChoiceField(
        choices=[("signed", _("签署")), ("declined", _("拒绝签署"))],
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("请点击“签署”或“拒绝签署”。")},
    )
    note = _text(_("说明"), max_length=200)
    version = _version()


class ReasonForm(forms.Form):
    """Close, fail or terminate: the reason (required by the service where the table says)."""

    reason = _area(_("理由"), rows=2, max_length=500)
    version = _version()


class WithdrawForm(forms.Form):
    party = _choice(_("撤回的当事人"), [], required=False)
    reason = _area(_("理由"), rows=2, max_length=500)
    version = _version()

    def __init__(self, *args: Any, parties: Sequence[tuple[int, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        field: Any = self.fields["party"]
        field.choices = [("", _("（不指定）")), *[(str(pk), n) for pk, n in parties]]


class ReferralForm(forms.Form):
    target = _choice(_("移送去向"), ReferralTarget.choices)
    receiver = _text(_("接收单位"), required=True, max_length=100)
    reason = _area(_("移送理由"), required=True, rows=2, max_length=500)
    version = _version()


class ReferralOutcomeForm(forms.Form):
    outcome = _choice(
        _("处理结果"),
        [(c, n) for c, n in ReferralOutcome.choices if c != ReferralOutcome.PENDING],
    )
    note = _area(_("结果说明"), rows=2)
