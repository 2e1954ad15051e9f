"""The case timeline in words: the dispute's audit entries as who, when, what, and what changed.

Each action code gets a Chinese label (an exact one, else verb + entity from the code's parts,
else the code itself); each change a label and a readable value. Phones, ID numbers and their
blind indexes never show, whatever an entry holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from fengqiao.core.audit import REDACTED
from fengqiao.core.models import AuditEntry
from fengqiao.core.pagination import Page, keyset_page
from fengqiao.disputes import choices as c
from fengqiao.disputes.models import Dispute

# Exact labels, for the codes whose meaning a verb + entity would not say well.
ACTION_LABELS: dict[str, Any] = {
    "disputes.dispute.created": _("登记受理"),
    "disputes.dispute.triaged": _("研判分级"),
    "disputes.dispute.linked": _("关联重复纠纷"),
    "disputes.dispute.status_changed": _("状态变更"),
    "disputes.dispute.overridden": _("调整分级和预警颜色"),
    "disputes.dispute.threat_confirmed": _("确认威胁或暴力字词"),
    "disputes.dispute.threat_dismissed": _("排除威胁或暴力字词"),
    "disputes.dispute.pii_revealed": _("查看完整个人信息"),
    "disputes.party.pii_revealed": _("查看当事人完整个人信息"),
    "disputes.party.consent_recorded": _("记录调解意愿"),
    "disputes.followup.scheduled": _("自动安排回访"),
    "disputes.followup.recorded": _("记录回访"),
    "disputes.followup.cancelled": _("取消回访"),
    "disputes.followup.added": _("增加回访"),
    "disputes.attachment.uploaded": _("上传附件"),
    "disputes.attachment.downloaded": _("下载附件"),
    "disputes.attachment.deleted": _("删除附件"),
    "disputes.dispute.assigned": _("指派调解员"),
    "disputes.dispute.reassigned": _("改派调解员"),
    "disputes.dispute.released": _("退回待认领"),
    "disputes.dispute.routed": _("清单分流"),
    "disputes.dispute.updated": _("修改案件信息"),
    "disputes.dispute.opened_from_visit": _("由排查走访登记"),
    "disputes.dispute.supervised": _("督办"),
    "disputes.dispute.exported": _("导出案件"),
    "disputes.agreement.drafted": _("起草调解协议"),
    "disputes.agreement.updated": _("修改调解协议"),
    "disputes.agreement.signed": _("当事人签署协议"),
    "disputes.agreement.signature_declined": _("当事人拒绝签署协议"),
    "disputes.agreement.concluded": _("调解协议生效"),
    "disputes.session.rerecorded": _("修改调解记录"),
    "disputes.referral.created": _("移送案件"),
    "disputes.referral.outcome_recorded": _("记录移送处理结果"),
    "disputes.referral.package_downloaded": _("下载移送材料"),
    "disputes.extension.requested": _("申请延期"),
    "disputes.extension.approved": _("批准延期"),
    "disputes.extension.rejected": _("驳回延期申请"),
    "disputes.supervision.yellow": _("黄牌督办"),
    "disputes.supervision.red": _("红牌督办"),
    "disputes.supervision.none": _("解除督办"),
}
ENTITY_LABELS: dict[str, Any] = {
    "dispute": _("案件"),
    "party": _("当事人"),
    "followup": _("回访"),
    "attachment": _("附件"),
    "session": _("调解会"),
    "agreement": _("调解协议"),
    "item": _("协议条款"),
    "signature": _("协议签署"),
    "referral": _("移送"),
    "assignment": _("指派"),
    "extension": _("延期申请"),
    "supervision": _("督办"),
    "mediator": _("调解员"),
    "routing": _("分流"),
    "visit": _("排查走访"),
    "screening": _("排查走访"),
    "package": _("移送材料"),
    "attendance": _("到场情况"),
    "minutes": _("调解记录"),
}
VERB_LABELS: dict[str, Any] = {
    "created": _("新建"),
    "updated": _("修改"),
    "edited": _("修改"),
    "scheduled": _("安排"),
    "rescheduled": _("改期"),
    "recorded": _("记录"),
    "held": _("召开"),
    "cancelled": _("取消"),
    "added": _("增加"),
    "removed": _("移除"),
    "deleted": _("删除"),
    "signed": _("签署"),
    "declined": _("拒绝"),
    "concluded": _("生效"),
    "printed": _("打印"),
    "assigned": _("指派"),
    "claimed": _("认领"),
    "released": _("释放"),
    "reassigned": _("改派"),
    "requested": _("申请"),
    "approved": _("批准"),
    "rejected": _("驳回"),
    "decided": _("审批"),
    "referred": _("移送"),
    "routed": _("分流"),
    "uploaded": _("上传"),
    "downloaded": _("下载"),
    "exported": _("导出"),
    "generated": _("生成"),
    "withdrawn": _("撤回"),
    "terminated": _("终止"),
    "failed": _("调解不成"),
    "escalated": _("升级"),
    "yellow": _("黄牌督办"),
    "red": _("红牌督办"),
    "notified": _("通知"),
}

# Field labels; a key not listed shows as itself.
KEY_LABELS: dict[str, Any] = {
    "status": _("状态"),
    "reason": _("理由"),
    "note": _("说明"),
    "grade": _("分级"),
    "colour": _("预警颜色"),
    "grade_auto": _("规则分级"),
    "colour_auto": _("规则预警颜色"),
    "reasons": _("研判理由"),
    "cause": _("原因"),
    "override_reason": _("调整理由"),
    "override_lifted": _("撤销人工调整"),
    "threat_words": _("威胁/暴力字词"),
    "threat_state": _("威胁字词确认"),
    "other": _("关联案件"),
    "matched_on": _("匹配依据"),
    "days_apart": _("相隔天数"),
    "party": _("当事人"),
    "consent": _("调解意愿"),
    "consent_at": _("表态时间"),
    "consent_note": _("表态说明"),
    "case_number": _("案件编号"),
    "source": _("案件来源"),
    "scale": _("规模"),
    "people_count": _("涉及人数"),
    "amount": _("涉及金额（元）"),
    "parties": _("当事人"),
    "kind": _("类型"),
    "due_date": _("应回访日期"),
    "visited_at": _("回访时间"),
    "honoured": _("协议已履行"),
    "satisfaction": _("满意度（1-5）"),
    "comment": _("回访情况"),
    "reopened": _("因此重新办理"),
    "not_reopened": _("未重新办理（案件状态）"),
    "cancelled": _("同时取消的回访"),
    "visits": _("回访安排"),
    "agreement": _("协议"),
    "name": _("文件名"),
    "content_type": _("文件类型"),
    "size": _("大小"),
    "description": _("说明"),
    "channel": _("调解方式"),
    "mediator": _("调解员"),
    "deadline": _("办理期限"),
    "supervision": _("督办"),
    "outcome": _("调解结果"),
    "target": _("移送去向"),
    "receiver": _("接收单位"),
    "scheduled_at": _("时间"),
    "place": _("地点"),
    "held_at": _("召开时间"),
    "minutes": _("调解记录"),
    "facts": _("纠纷主要事实、争议事项"),
    "terms": _("协议内容"),
    "performance": _("履行方式、时限"),
    "concluded_at": _("生效时间"),
    "state": _("状态"),
    "form": _("协议形式"),
    "number": _("编号"),
    "days": _("天数"),
    "days_overdue": _("超期天数"),
    "field": _("字段"),
    "mediators": _("主持调解员"),
    "participants": _("参会人员"),
    "attendance": _("到场情况"),
    "attended": _("到场"),
    "signature": _("签署"),
    "signatures_reset": _("签署已重置"),
    "items": _("协议条款"),
    "verdict": _("结论"),
    "why": _("原因"),
    "mode": _("方式"),
    "level": _("督办等级"),
    "visited": _("走访对象"),
    "case": _("案件"),
}
# Values shown through a code list, by key.
CHOICES: dict[str, type[models.TextChoices]] = {
    "status": c.Status,
    "grade": c.Grade,
    "grade_auto": c.Grade,
    "colour": c.Colour,
    "colour_auto": c.Colour,
    "consent": c.Consent,
    "channel": c.Channel,
    "supervision": c.Supervision,
    "outcome": c.Outcome,
    "target": c.ReferralTarget,
    "form": c.AgreementForm,
    "source": c.Source,
    "scale": c.Scale,
    "threat_state": c.ThreatState,
    "role": c.PartyRole,
    "signature": c.Signature,
    "level": c.Supervision,
}
CAUSES: dict[str, Any] = {
    "intake": _("登记时规则研判"),
    "repeat": _("发现重复纠纷后重新研判"),
    "threat_review": _("确认威胁字词后重新研判"),
    "edit": _("修改案件后重新研判"),
}
MATCHES: dict[str, Any] = {
    "id_number": _("身份证号码"),
    "phone": _("联系电话"),
    "name_address": _("姓名和住址"),
}
# Never shown: personal data, its digests, and keys that only link rows.
HIDDEN = frozenset(
    {
        "phone",
        "id_number",
        "phone_bidx",
        "id_number_bidx",
        "name_address_bidx",
        "address_bidx",
        "search_text",
        "sha256",
        "version",
        "intake_key",
        "other_id",
    }
)
# What a new case's entry shows of the whole row it holds.
CREATED_KEYS = (
    "case_number",
    "source",
    "scale",
    "people_count",
    "amount",
    "grade",
    "colour",
    "parties",
)
VALUE_MAX = 400


def action_label(code: str) -> str:
    """Return the Chinese label of an audit action code; the code itself if unknown."""
    exact = ACTION_LABELS.get(code)
    if exact is not None:
        return str(exact)
    parts = code.split(".")
    if len(parts) == 3 and parts[0] == "disputes":
        entity, verb = ENTITY_LABELS.get(parts[1]), VERB_LABELS.get(parts[2])
        if entity is not None and verb is not None:
            return f"{verb}{entity}"
    return code


def _state_choices(code: str) -> type[models.TextChoices] | None:
    if ".session." in code:
        return c.SessionState
    if ".followup." in code:
        return c.FollowUpState
    if ".extension." in code:
        return c.ExtensionState
    if ".referral." in code:
        return c.ReferralOutcome
    return None


def _kind_choices(code: str) -> type[models.TextChoices] | None:
    if ".followup." in code:
        return c.FollowUpKind
    if ".attachment." in code:
        return c.AttachmentKind
    if ".party." in code:
        return c.PartyKind
    if ".mediator." in code:
        return c.MediatorKind
    return None


def _moment(text: str) -> str | None:
    if len(text) < 16 or "T" not in text:
        return None
    moment = parse_datetime(text)
    if moment is None:
        return None
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return moment.strftime("%Y-%m-%d %H:%M")


def _size(value: Any) -> str:
    try:
        n = int(value)
    except (TypeError, ValueError):
        return str(value)
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"


def _party(value: dict[str, Any]) -> str:
    role = value.get("role")
    label = dict(c.PartyRole.choices).get(role, role) if role else ""
    name = str(value.get("name") or "")
    return f"{name}（{label}）" if label else name


def format_value(key: str, value: Any, code: str = "") -> str:
    """Return one value as words: a code list's label, 是/否, a local time, a list joined."""
    if value is None or value == "":
        return "—"
    if value == REDACTED:
        return str(_("（已隐去）"))
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, list):
        if key in {"reasons", "threat_words"}:
            return "；".join(format_value("", v) for v in value) or "—"
        return "、".join(format_value(key, v, code) for v in value) or "—"
    if isinstance(value, dict):
        if key == "parties" or "role" in value:
            return _party(value)
        if "kind" in value and "due_date" in value:
            return f"{format_value('kind', value['kind'], code)} {value['due_date']}"
        if "attended" in value:
            came = {True: _("到场"), False: _("未到场")}.get(value["attended"], _("未记录"))
            return f"{value.get('name') or '—'}（{came}）"
        if "description" in value:
            text = str(value["description"])
            if value.get("amount") not in (None, "", "0", "0.00"):
                text += f" {format_value('amount', value['amount'], code)}"
            if value.get("due_date"):
                text += str(_("，%(day)s前履行") % {"day": value["due_date"]})
            return text
        shown = {k: v for k, v in value.items() if k not in HIDDEN and v != REDACTED}
        return json.dumps(shown, ensure_ascii=False, default=str)
    text = str(value)
    choices = (
        CHOICES.get(key)
        or (_kind_choices(code) if key == "kind" else None)
        or (_state_choices(code) if key == "state" else None)
    )
    if choices is not None:
        return str(dict(choices.choices).get(text, text))
    if key == "cause":
        return str(CAUSES.get(text, text))
    if key in {"matched_on", "field"}:
        return str(MATCHES.get(text, text))
    if key == "size":
        return _size(value)
    if key == "amount":
        try:
            return f"{Decimal(text):,.2f}"
        except InvalidOperation:
            return text
    moment = _moment(text)
    if moment is not None:
        return moment
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def _hidden(key: str) -> bool:
    base = key.removesuffix("_id")
    return key in HIDDEN or base in HIDDEN or key.endswith("_bidx")


@dataclass(frozen=True)
class Line:
    label: str
    text: str
    old: str | None = None  # set when the entry holds a change [old, new]


@dataclass(frozen=True)
class Step:
    """One step of the timeline: who, when, what, and what changed."""

    entry: AuditEntry
    label: str
    lines: list[Line] = field(default_factory=list)

    @property
    def at(self) -> datetime:
        return self.entry.at

    @property
    def who(self) -> str:
        actor = self.entry.actor
        if actor is not None:
            return str(getattr(actor, "full_name", "") or actor.get_username())
        return self.entry.actor_label or str(_("系统"))

    @property
    def code(self) -> str:
        return self.entry.action


def change_lines(code: str, changes: Any) -> list[Line]:
    """Return the readable lines of an entry's changes, personal data left out."""
    if not isinstance(changes, dict):
        return [Line(str(_("变更")), format_value("", changes, code))] if changes else []
    items = list(changes.items())
    if code == "disputes.dispute.created":
        items = [(k, changes[k]) for k in CREATED_KEYS if k in changes]
    # The stored changes are sorted by key; show them in the order of KEY_LABELS instead.
    order = {key: i for i, key in enumerate(KEY_LABELS)}
    items.sort(key=lambda kv: order.get(kv[0], len(order)))
    lines = []
    for key, value in items:
        if _hidden(key) or key.endswith("_id") or value is None or value in ("", []):
            continue
        label = str(KEY_LABELS.get(key, key))
        # A diff's [old, new] pair, unless the key holds a list by nature.
        is_pair = (
            isinstance(value, list)
            and len(value) == 2
            and key
            not in {"reasons", "threat_words", "matched_on", "visits", "parties", "participants"}
            and key not in {"attendance", "items", "mediators", "why"}
            and key not in {"cancelled"}
        )
        if code == "disputes.dispute.created" and is_pair:
            value, is_pair = value[1], False
        if is_pair:
            if value[0] == REDACTED or value[1] == REDACTED:
                continue
            lines.append(
                Line(label, format_value(key, value[1], code), format_value(key, value[0], code))
            )
        else:
            lines.append(Line(label, format_value(key, value, code)))
    return lines


def step_of(entry: AuditEntry) -> Step:
    return Step(
        entry=entry,
        label=action_label(entry.action),
        lines=change_lines(entry.action, entry.changes),
    )


def _entries(dispute: Dispute) -> Any:
    return AuditEntry.objects.filter(
        object_type=dispute._meta.label_lower, object_id=str(dispute.pk)
    ).select_related("actor")


def timeline_recent(*, dispute: Dispute, limit: int = 20) -> tuple[list[Step], bool]:
    """Return the case's latest steps, newest first, and whether there are more."""
    rows = list(_entries(dispute).order_by("-seq")[: limit + 1])
    return [step_of(e) for e in rows[:limit]], len(rows) > limit


def timeline_page(
    *, dispute: Dispute, cursor: str | None = None, size: int = 50, oldest_first: bool = False
) -> tuple[list[Step], Page[AuditEntry]]:
    """Return a key-based page of the case's whole timeline, as steps."""
    page = keyset_page(
        _entries(dispute),
        order=("seq",) if oldest_first else ("-seq",),
        cursor=cursor,
        size=size,
    )
    return [step_of(e) for e in page.items], page
