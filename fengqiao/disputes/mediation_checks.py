"""Checks shared by the mediation services (`sessions`, `agreements`, `outcomes`): the actor
and their permission, the locked case, session or agreement (a stale version is a Conflict), and
the bounded text and id lists read from the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.core.errors import Conflict, ValidationFailed
from fengqiao.disputes import services
from fengqiao.disputes.models import Agreement, Dispute, MediationSession, Party
from fengqiao.disputes.validation import Errors

TEXT_MAX = 5000
NOTE_MAX = 200
REASON_MAX = services.REASON_MAX


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _require(actor: Any, dispute: Dispute) -> None:
    """Raise PermissionDenied unless the actor may handle the case; None is the system."""
    if actor is not None and not user_can(
        actor, "dispute.handle", station_id=dispute.station_id, area_id=dispute.area_id
    ):
        raise PermissionDenied(_("您无权办理该纠纷。"))


def _invalid(errors: Errors) -> ValidationFailed:
    return ValidationFailed(_("请修改标出的错误后再保存。"), fields=errors)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _bounded(
    values: Mapping[str, Any],
    key: str,
    label: str,
    limit: int,
    errors: Errors,
    *,
    required: bool = True,
) -> str:
    text = _text(values.get(key))
    if required and not text:
        errors[key] = [_("请填写%(label)s。") % {"label": label}]
    elif len(text) > limit:
        errors[key] = [_("%(label)s不能超过%(n)d个字。") % {"label": label, "n": limit}]
    return text


def _stale(what: str, yours: int, now: int) -> Conflict:
    return Conflict(
        _(
            "该%(what)s已被他人修改（您看到的是第 %(yours)d 版，现在是第 %(now)d 版），"
            "您的操作没有保存，请刷新后重试。"
        )
        % {"what": what, "yours": yours, "now": now}
    )


def _locked_dispute(dispute: Dispute, version: int | None = None) -> Dispute:
    """Return the dispute locked for update; with a version, refuse a stale one (Conflict)."""
    current = Dispute.objects.select_for_update(of=("self",)).get(pk=dispute.pk)
    if version is not None and current.version != version:
        raise _stale(_("案件"), version, current.version)
    return current


def _locked_session(session: MediationSession, version: int | None) -> MediationSession:
    current = MediationSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if version is not None and current.version != version:
        raise _stale(_("调解会"), version, current.version)
    return current


def _locked_agreement(agreement: Agreement, version: int | None) -> Agreement:
    current = Agreement.objects.select_for_update(of=("self",)).get(pk=agreement.pk)
    if version is not None and current.version != version:
        raise _stale(_("调解协议"), version, current.version)
    return current


def _ids(values: Iterable[Any] | None, key: str, label: str, errors: Errors) -> list[int]:
    out: list[int] = []
    for value in values or ():
        try:
            number = int(str(value).strip())
        except ValueError:
            errors[key] = [_("%(label)s选择有误。") % {"label": label}]
            return []
        if number not in out:
            out.append(number)
    return out


def _party_id(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, Party):
        return value.pk
    try:
        return int(str(value).strip())
    except ValueError:
        return -1
