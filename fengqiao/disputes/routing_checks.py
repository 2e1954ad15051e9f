"""Checks shared by the routing and deadline services: the actor, the permission, the locked
case (with its version checked), a reason's length, and whether a mediator may take a case
(`conflicts`: a party, or a party's neighbour, may not mediate it).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.core.errors import Conflict, ValidationFailed
from fengqiao.disputes.models import Dispute, Mediator, Party
from fengqiao.disputes.registry import address_key

REASON_MAX = 500


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _require(actor: Any, perm: str, dispute: Dispute, message: str) -> None:
    if actor is not None and not user_can(
        actor, perm, station_id=dispute.station_id, area_id=dispute.area_id
    ):
        raise PermissionDenied(message)


def _locked(dispute: Dispute, version: int | None) -> Dispute:
    """Return the dispute locked; Conflict if `version` is given and it moved past it."""
    current = Dispute.objects.select_for_update().select_related("type").get(pk=dispute.pk)
    if version is not None and current.version != version:
        raise Conflict(
            _(
                "该案件已被他人修改（您看到的是第 %(yours)d 版，现在是第 %(now)d 版），"
                "您的操作没有保存，请刷新后重试。"
            )
            % {"yours": version, "now": current.version}
        )
    return current


def _reason(reason: str, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise ValidationFailed(_("请说明理由。"), fields={"reason": [_("请说明理由。")]})
    if len(reason) > REASON_MAX:
        raise ValidationFailed(
            _("理由不能超过%(n)d个字。") % {"n": REASON_MAX},
            fields={"reason": [_("理由不能超过%(n)d个字。") % {"n": REASON_MAX}]},
        )
    return reason


def conflicts(dispute: Dispute, mediators: list[Mediator]) -> dict[int, list[str]]:
    """Return, per mediator, why they may not mediate this case: a party, or a party's neighbour.

    Compared on blind indexes: the ID number, the phone, the name with the address, and the
    address alone ("lives at a party's address").
    """
    parties = list(
        Party.objects.filter(dispute_id=dispute.pk).only(
            "id", "name", "address", "id_number_bidx", "phone_bidx", "name_address_bidx"
        )
    )
    out: dict[int, list[str]] = {}
    for m in mediators:
        reasons: list[str] = []
        for p in parties:
            same: list[str] = []
            if m.id_number_bidx and m.id_number_bidx == p.id_number_bidx:
                same.append(_("身份证号码"))
            if m.phone_bidx and m.phone_bidx == p.phone_bidx:
                same.append(_("联系电话"))
            if m.name_address_bidx and m.name_address_bidx == p.name_address_bidx:
                same.append(_("姓名和住址"))
            if same:
                reasons.append(
                    _("是本案当事人%(party)s（%(keys)s相同），应当回避。")
                    % {"party": p.name, "keys": "、".join(same)}
                )
            elif m.address_bidx and m.address_bidx == address_key(p.address):
                reasons.append(_("与本案当事人%(party)s住址相同，应当回避。") % {"party": p.name})
        if reasons:
            out[m.pk] = reasons
    return out


def _check_mediator(dispute: Dispute, mediator: Mediator) -> None:
    if mediator.station_id != dispute.station_id:
        raise ValidationFailed(
            _("%(name)s是其他派出所的调解员，不能指派本所的案件。") % {"name": mediator.name},
            fields={"mediator_id": [_("调解员不属于本所")]},
        )
    if not mediator.active:
        raise ValidationFailed(
            _("%(name)s已不在岗，不能指派。") % {"name": mediator.name},
            fields={"mediator_id": [_("调解员不在岗")]},
        )
    barred = conflicts(dispute, [mediator]).get(mediator.pk)
    if barred:
        raise ValidationFailed(
            _("%(name)s不能调解本案：%(why)s") % {"name": mediator.name, "why": "".join(barred)},
            code="conflict_of_interest",
            fields={"mediator_id": barred},
        )


def _get_mediator(mediator_id: Any) -> Mediator:
    try:
        pk = int(str(mediator_id))
    except (TypeError, ValueError):
        pk = 0
    m = Mediator.objects.filter(pk=pk).first()
    if m is None:
        raise ValidationFailed(_("调解员不存在。"), fields={"mediator_id": [_("请选择调解员。")]})
    return m
