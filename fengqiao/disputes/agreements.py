"""The mediation agreement: drafting, changing and signing it, its taking effect, and closing
the case (结案) once it is in effect.

Every entry is written against the dispute, so the case timeline shows each step. The last
signature makes the agreement take effect: the case moves mediating → agreed through
`services.dispute_transition`, and its follow-up visits are scheduled, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from fengqiao.core.audit import audit_record, diff, snapshot
from fengqiao.core.casenumbers import case_number_next
from fengqiao.core.errors import IllegalTransition
from fengqiao.disputes import services
from fengqiao.disputes.choices import AgreementForm, Outcome, Signature, Status
from fengqiao.disputes.followups import followups_schedule
from fengqiao.disputes.mediation_checks import (
    NOTE_MAX,
    TEXT_MAX,
    _bounded,
    _invalid,
    _locked_agreement,
    _locked_dispute,
    _party_id,
    _require,
    _stale,
    _text,
    _user,
)
from fengqiao.disputes.models import Agreement, AgreementItem, AgreementSignature, Dispute, Party
from fengqiao.disputes.validation import Errors

AGREEMENT_PREFIX = "XY"
PERFORMANCE_MAX = 300
DESCRIPTION_MAX = 300
ITEMS_MAX = 50
AMOUNT_MAX = Decimal("999999999999.99")


def clean_item_amount(value: Any, errors: Errors, key: str) -> Decimal:
    """Return an item's amount in yuan (0 when blank); record an error for anything else."""
    message = _("金额应为数字，例如 12000 或 12000.50。")
    if value is None or (isinstance(value, str) and not value.strip()):
        return Decimal(0)
    if isinstance(value, bool):
        errors[key] = [message]
        return Decimal(0)
    try:
        amount = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except (InvalidOperation, ValueError):
        errors[key] = [message]
        return Decimal(0)
    if not amount.is_finite():
        errors[key] = [message]
    elif amount < 0:
        errors[key] = [_("金额不能为负数。")]
    elif amount > AMOUNT_MAX:
        errors[key] = [_("金额过大，请核对。")]
    elif amount != amount.quantize(Decimal("0.01")):
        errors[key] = [_("金额最多保留两位小数（精确到分）。")]
    else:
        return amount.quantize(Decimal("0.01"))
    return Decimal(0)


def _clean_due(value: Any, errors: Errors, key: str, today: date) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        day: date | None = timezone.localtime(value).date()
    elif isinstance(value, date):
        day = value
    else:
        try:
            day = parse_date(_text(value))
        except ValueError:
            day = None
    if day is None:
        errors[key] = [_("履行期限格式不正确，例如 2026-03-01。")]
        return None
    if day < today:
        errors[key] = [_("履行期限不能早于今天。")]
        return None
    if day.year > today.year + 30:
        errors[key] = [_("履行期限有误，请核对。")]
        return None
    return day


def _clean_items(
    dispute: Dispute, items: Sequence[Mapping[str, Any]], errors: Errors
) -> list[dict[str, Any]]:
    """Return the items checked: parties of this case, an amount ≥ 0, a due date not past."""
    if len(items) > ITEMS_MAX:
        errors["items"] = [_("协议条款最多%(n)d条。") % {"n": ITEMS_MAX}]
        return []
    party_ids = set(dispute.parties.values_list("pk", flat=True))
    today = timezone.localdate()
    rows = []
    for i, item in enumerate(items):
        key = f"items.{i}"
        obligor = _party_id(item.get("obligor_id"))
        obligee = _party_id(item.get("obligee_id"))
        if obligor is None:
            errors[f"{key}.obligor_id"] = [_("请选择履行方。")]
        elif obligor not in party_ids:
            errors[f"{key}.obligor_id"] = [_("履行方必须是本案的当事人。")]
        if obligee is not None and obligee not in party_ids:
            errors[f"{key}.obligee_id"] = [_("权利方必须是本案的当事人。")]
        elif obligee is not None and obligee == obligor:
            errors[f"{key}.obligee_id"] = [_("权利方不能与履行方相同。")]
        description = _text(item.get("description"))
        if not description:
            errors[f"{key}.description"] = [_("请填写履行内容。")]
        elif len(description) > DESCRIPTION_MAX:
            errors[f"{key}.description"] = [
                _("履行内容不能超过%(n)d个字。") % {"n": DESCRIPTION_MAX}
            ]
        amount = clean_item_amount(item.get("amount"), errors, f"{key}.amount")
        due = _clean_due(item.get("due_date"), errors, f"{key}.due_date", today)
        rows.append(
            {
                "obligor_id": obligor,
                "obligee_id": obligee,
                "description": description,
                "amount": amount,
                "due_date": due,
            }
        )
    return rows


def _clean_agreement(
    dispute: Dispute, values: Mapping[str, Any], errors: Errors
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    form = _text(values.get("form"))
    if form not in AgreementForm.values:
        errors["form"] = [_("请选择协议形式（口头协议或书面协议）。")]
    outcome = _text(values.get("outcome")) or Outcome.SUCCESS
    if outcome not in {Outcome.SUCCESS, Outcome.PARTIAL}:
        errors["outcome"] = [_("调解结果应为调解成功或部分成功。")]
    cleaned = {
        "form": form,
        "outcome": outcome,
        "facts": _bounded(values, "facts", _("纠纷主要事实、争议事项"), TEXT_MAX, errors),
        "terms": _bounded(values, "terms", _("协议内容"), TEXT_MAX, errors),
        "performance": _bounded(
            values, "performance", _("履行方式、时限"), PERFORMANCE_MAX, errors, required=False
        ),
    }
    items = _clean_items(dispute, list(values.get("items") or ()), errors)
    return cleaned, items


def _check_agreeable(dispute: Dispute) -> None:
    """Refuse an agreement on a case that is not being mediated, with the table's reason."""
    if dispute.status != Status.MEDIATING:
        dispute.check_transition(Status.AGREED)
        # The table allows more than mediating → agreed only if it changes; say it plainly.
        raise IllegalTransition(_("只有调解中的案件才能达成协议。"))


def _item_rows(agreement: Agreement, items: Sequence[Mapping[str, Any]]) -> list[AgreementItem]:
    return AgreementItem.objects.bulk_create(
        [AgreementItem(agreement=agreement, **item) for item in items]
    )


def _items_summary(items: Iterable[AgreementItem]) -> list[dict[str, Any]]:
    return [
        {
            "obligor_id": i.obligor_id,
            "obligee_id": i.obligee_id,
            "description": i.description,
            "amount": str(i.amount),
            "due_date": i.due_date.isoformat() if i.due_date else None,
        }
        for i in items
    ]


AGREEMENT_FIELDS = ("form", "outcome", "facts", "terms", "performance")


def agreement_create(
    *,
    actor: Any,
    dispute: Dispute,
    form: str,
    facts: str,
    terms: str,
    outcome: str = Outcome.SUCCESS,
    performance: str = "",
    items: Sequence[Mapping[str, Any]] = (),
) -> Agreement:
    """Draft the agreement of a case being mediated, with its items; every party is to sign."""
    _require(actor, dispute)
    errors: Errors = {}
    values = {
        "form": form,
        "outcome": outcome,
        "facts": facts,
        "terms": terms,
        "performance": performance,
        "items": items,
    }
    user = _user(actor)
    with transaction.atomic():
        current = _locked_dispute(dispute)
        _check_agreeable(current)
        cleaned, rows = _clean_agreement(current, values, errors)
        if errors:
            raise _invalid(errors)
        if current.agreements.filter(concluded_at__isnull=True).exists():
            raise IllegalTransition(
                _("本案已有一份尚未生效的调解协议，请修改该协议，不要另起一份。"),
                code="agreement_draft_exists",
            )
        agreement = Agreement.objects.create(
            dispute=current,
            station_id=current.station_id,
            number=case_number_next(
                station_id=current.station_id,
                prefix=AGREEMENT_PREFIX,
                year=timezone.localdate().year,
            ),
            created_by=user,
            updated_by=user,
            **cleaned,
        )
        created = _item_rows(agreement, rows)
        parties = list(current.parties.order_by("id"))
        AgreementSignature.objects.bulk_create(
            [AgreementSignature(agreement=agreement, party=p) for p in parties]
        )
        audit_record(
            actor=actor,
            action="disputes.agreement.drafted",
            obj=current,
            changes={
                "agreement_id": agreement.pk,
                "number": agreement.number,
                **{f: getattr(agreement, f) for f in AGREEMENT_FIELDS},
                "items": _items_summary(created),
            },
        )
    return agreement


def agreement_update(
    *,
    actor: Any,
    agreement: Agreement,
    version: int,
    form: str,
    facts: str,
    terms: str,
    outcome: str = Outcome.SUCCESS,
    performance: str = "",
    items: Sequence[Mapping[str, Any]] = (),
) -> Agreement:
    """Change an agreement not yet in effect; a changed text asks every party to sign again."""
    dispute = agreement.dispute
    _require(actor, dispute)
    errors: Errors = {}
    values = {
        "form": form,
        "outcome": outcome,
        "facts": facts,
        "terms": terms,
        "performance": performance,
        "items": items,
    }
    with transaction.atomic():
        current_dispute = _locked_dispute(dispute)
        current = _locked_agreement(agreement, version)
        if current.concluded_at is not None:
            raise IllegalTransition(_("协议已生效，不能再修改。"), code="agreement_concluded")
        _check_agreeable(current_dispute)
        cleaned, rows = _clean_agreement(current_dispute, values, errors)
        if errors:
            raise _invalid(errors)
        before = snapshot(current, AGREEMENT_FIELDS)
        old_items = _items_summary(current.items.all())
        for field, value in cleaned.items():
            setattr(current, field, value)
        changes = diff(before, snapshot(current, AGREEMENT_FIELDS))
        current.items.all().delete()
        new_items = _item_rows(current, rows)
        if _items_summary(new_items) != old_items:
            changes["items"] = [old_items, _items_summary(new_items)]
        if not changes:
            return current
        reset = current.signatures.exclude(state=Signature.PENDING).update(
            state=Signature.PENDING, at=None, note=""
        )
        current.version += 1
        current.updated_by = _user(actor)
        current.save(update_fields=[*AGREEMENT_FIELDS, "version", "updated_by", "updated_at"])
        audit_record(
            actor=actor,
            action="disputes.agreement.updated",
            obj=current_dispute,
            changes={
                "agreement_id": current.pk,
                "number": current.number,
                **changes,
                "signatures_reset": reset,
            },
        )
    return current


def agreement_sign(
    *,
    actor: Any,
    agreement: Agreement,
    party: Party | int,
    state: str,
    version: int,
    note: str = "",
) -> Agreement:
    """Record a party's signature (or refusal); when every party has signed, it takes effect.

    Taking effect moves the case mediating → agreed and schedules the follow-up visits, in this
    transaction. A refusal is recorded and stops the agreement, never the case.
    """
    dispute = agreement.dispute
    _require(actor, dispute)
    errors: Errors = {}
    if state not in {Signature.SIGNED, Signature.DECLINED}:
        errors["state"] = [_("签署应为已签署或拒绝签署。")]
    note_text = _bounded({"note": note}, "note", _("说明"), NOTE_MAX, errors, required=False)
    party_id = _party_id(party)
    if errors:
        raise _invalid(errors)
    now = timezone.now()
    with transaction.atomic():
        current_dispute = _locked_dispute(dispute)
        current = _locked_agreement(agreement, None)
        member = current_dispute.parties.filter(pk=party_id or 0).first()
        if member is None:
            raise _invalid({"party_id": [_("该当事人不属于本案。")]})
        # The same signature submitted twice (a double click): recorded once.
        if current.signatures.filter(party=member, state=state, note=note_text).exists():
            return current
        if current.version != version:
            raise _stale(_("调解协议"), version, current.version)
        if current.concluded_at is not None:
            raise IllegalTransition(_("协议已生效，不能再更改签署。"), code="agreement_concluded")
        _check_agreeable(current_dispute)
        signature, _created = AgreementSignature.objects.get_or_create(
            agreement=current, party=member
        )
        old = signature.state
        signature.state, signature.at, signature.note = state, now, note_text
        signature.save(update_fields=["state", "at", "note"])
        current.version += 1
        current.updated_by = _user(actor)
        audit_record(
            actor=actor,
            action=(
                "disputes.agreement.signed"
                if state == Signature.SIGNED
                else "disputes.agreement.signature_declined"
            ),
            obj=current_dispute,
            changes={
                "agreement_id": current.pk,
                "number": current.number,
                "party_id": member.pk,
                "party": member.name,
                "signature": [old, state],
                "note": note_text,
            },
        )
        parties = set(current_dispute.parties.values_list("pk", flat=True))
        signed = set(
            current.signatures.filter(state=Signature.SIGNED).values_list("party_id", flat=True)
        )
        update_fields = ["version", "updated_by", "updated_at"]
        if parties and parties <= signed:
            current.concluded_at = now
            update_fields.append("concluded_at")
        current.save(update_fields=update_fields)
        if current.concluded_at is not None:
            audit_record(
                actor=actor,
                action="disputes.agreement.concluded",
                obj=current_dispute,
                changes={"agreement_id": current.pk, "number": current.number},
            )
            services.dispute_transition(
                actor=actor,
                dispute=current_dispute,
                to=Status.AGREED,
                version=current_dispute.version,
            )
            followups_schedule(actor=actor, agreement=current)
    return current


# --- closing the case ---


def dispute_close(*, actor: Any, dispute: Dispute, version: int, reason: str = "") -> Dispute:
    """Close a case whose agreement is in effect (结案)."""
    _require(actor, dispute)
    with transaction.atomic():
        current = services.dispute_transition(
            actor=actor, dispute=dispute, to=Status.CLOSED, version=version, reason=reason
        )
    return current
