"""The incident's timeline in words: its audit entries as who, when, what, and what changed.

Callers' names and phones, and the keys derived from them, never show: the audit log holds
them redacted, and the keys are left out here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from fengqiao.core.models import AuditEntry
from fengqiao.incidents import choices as c

ACTION_LABELS: dict[str, Any] = {
    "incidents.incident.created": _("接警登记"),
    "incidents.incident.updated": _("更正登记信息"),
    "incidents.incident.dispatched": _("派警"),
    "incidents.incident.arrived": _("到达现场"),
    "incidents.incident.closed": _("处结"),
    "incidents.incident.converted": _("转为矛盾纠纷"),
    "incidents.incident.pii_revealed": _("查看报警人完整信息"),
}
FIELD_LABELS: dict[str, Any] = {
    "status": _("状态"),
    "source": _("警情来源"),
    "category_id": _("警情类别"),
    "reported_at": _("报警时间"),
    "occurred_at": _("发生时间"),
    "narrative": _("简要警情"),
    "address": _("地址"),
    "area_id": _("网格"),
    "lat": _("纬度"),
    "lng": _("经度"),
    "caller_name": _("报警人"),
    "caller_phone": _("报警电话"),
    "external_id": _("接警单号"),
    "officer_id": _("处警民警"),
    "team": _("处警队伍"),
    "dispatched_at": _("派警时间"),
    "arrived_at": _("到场时间"),
    "closed_at": _("处结时间"),
    "disposition": _("处置结果"),
    "linkage": _("联动单位"),
    "disposition_note": _("处置情况"),
    "valid": _("有效警情"),
    "dispute_id": _("转入纠纷"),
    "field": _("查看的信息"),
}
# Derived or internal columns: shown nowhere.
HIDDEN = {"address_key", "caller_bidx", "intake_key", "search_text", "version", "repeat_reasons"}
CHOICES: dict[str, dict[str, Any]] = {
    "status": dict(c.Status.choices),
    "source": dict(c.Source.choices),
    "disposition": dict(c.Disposition.choices),
    "linkage": dict(c.Linkage.choices),
    "field": {"caller_name": _("报警人"), "caller_phone": _("报警电话")},
}


def action_label(action: str) -> Any:
    """Return the words for an audit action code, or the code itself."""
    return ACTION_LABELS.get(action, action)


@dataclass(frozen=True)
class Step:
    at: datetime
    actor: str
    label: str
    lines: list[tuple[str, str]]


def _value(key: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return str(_("是")) if value else str(_("否"))
    if key in CHOICES:
        return str(CHOICES[key].get(value, value))
    return str(value)


def steps(entries: list[AuditEntry]) -> list[Step]:
    """Return the entries as steps with their changed fields in words."""
    out: list[Step] = []
    for e in entries:
        lines: list[tuple[str, str]] = []
        for key, change in (e.changes or {}).items():
            if (
                key in HIDDEN
                or key.startswith("repeat_")
                or key
                in {
                    "created_by_id",
                    "updated_by_id",
                    "id",
                    "station_id",
                    "community_id",
                    "import_job_id",
                    "class_code",
                }
            ):
                continue
            label = str(FIELD_LABELS.get(key, key))
            if isinstance(change, list) and len(change) == 2:
                old, new = change
                text = (
                    _value(key, new)
                    if old in (None, "")
                    else f"{_value(key, old)} → {_value(key, new)}"
                )
            else:
                text = _value(key, change)
            lines.append((label, text))
        out.append(
            Step(at=e.at, actor=e.actor_label, label=str(action_label(e.action)), lines=lines)
        )
    return out
