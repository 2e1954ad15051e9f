"""The referral package (移送材料): a ZIP of the case for the body that takes it over.

summary.html (the printable referral summary), parties.csv (phones and ID numbers masked),
timeline.csv (the audit trail), the minutes of every session, the agreements, and the case's
attachments as stored. Building it is a read of personal data, so the download is audited.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from typing import Any

from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.core.audit import audit_record
from fengqiao.core.pii import mask_id_number, mask_phone
from fengqiao.disputes import selectors
from fengqiao.disputes.choices import SessionState
from fengqiao.disputes.models import Agreement, Dispute, Referral
from fengqiao.disputes.timeline import action_label, change_lines

# Enough for any real case; a trail longer than this is cut, and the summary says so.
TIMELINE_MAX = 5000
_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def _safe_name(name: str) -> str:
    """Return a file name that cannot leave its folder in the ZIP."""
    cleaned = _UNSAFE.sub("_", name.replace("..", "_")).strip("._")
    return cleaned[:80] or "file"


def _csv(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerows(rows)
    # The BOM makes Excel read the Chinese as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _local(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def parties_csv(dispute: Dispute) -> bytes:
    """Return the parties as CSV; the phone and the ID number masked."""
    rows: list[list[Any]] = [
        [
            _("姓名/名称"),
            _("类型"),
            _("身份"),
            _("联系电话"),
            _("身份证号码"),
            _("住址"),
            _("调解意愿"),
            _("表态说明"),
        ]
    ]
    for p in dispute.parties.order_by("id"):
        rows.append(
            [
                p.name,
                p.get_kind_display(),
                p.get_role_display(),
                mask_phone(p.phone),
                mask_id_number(p.id_number),
                p.address,
                p.get_consent_display(),
                p.consent_note,
            ]
        )
    return _csv(rows)


def _change_text(code: str, changes: Any) -> str:
    """Return an entry's changes as readable lines; personal data is never in the log."""
    lines = []
    for line in change_lines(code, changes):
        text = f"{line.old} → {line.text}" if line.old is not None else line.text
        lines.append(f"{line.label}：{text}")
    return "\n".join(lines)


def timeline_csv(dispute: Dispute) -> bytes:
    """Return the case's audit trail, oldest first: when, who, what, the details."""
    entries = list(reversed(selectors.dispute_timeline(dispute=dispute, limit=TIMELINE_MAX)))
    rows: list[list[Any]] = [[_("时间"), _("操作人"), _("操作"), _("操作代码"), _("内容")]]
    for e in entries:
        rows.append(
            [
                _local(e.at),
                e.actor_label,
                action_label(e.action),
                e.action,
                _change_text(e.action, e.changes),
            ]
        )
    return _csv(rows)


def minutes_text(dispute: Dispute) -> list[tuple[str, bytes]]:
    """Return one text file per session: time, place, mediators, attendance, minutes."""
    files = []
    sessions = dispute.sessions.prefetch_related("mediators", "attendance__party").order_by(
        "scheduled_at", "id"
    )
    for n, s in enumerate(sessions, start=1):
        lines = [
            _("调解会记录（第%(n)d次）") % {"n": n},
            f"{_('状态')}：{s.get_state_display()}",
            f"{_('安排时间')}：{_local(s.scheduled_at)}",
            f"{_('召开时间')}：{_local(s.held_at)}",
            f"{_('地点')}：{s.place}",
            f"{_('主持调解员')}：{'、'.join(m.name for m in s.mediators.all())}",
            _("参会人员："),
        ]
        for a in s.attendance.all():
            who = a.party.name if a.party is not None else a.name
            came = {True: _("到场"), False: _("未到场"), None: _("未记录")}[a.attended]
            extra = f"（{a.capacity}）" if a.capacity else ""
            note = f" {a.note}" if a.note else ""
            lines.append(f"  - {who}{extra}：{came}{note}")
        lines += ["", _("调解记录："), s.minutes or _("（无）"), ""]
        day = timezone.localtime(s.scheduled_at).strftime("%Y%m%d")
        files.append((f"minutes/{n:02d}-{day}.txt", "\n".join(lines).encode("utf-8")))
    return files


NUMERALS = "零一二三四五六七八九十"


def _numeral(n: int) -> str:
    """Return a small count in Chinese numerals (一式三份), digits beyond twenty."""
    if n <= 10:
        return NUMERALS[n]
    if n < 20:
        return "十" + NUMERALS[n - 10]
    return str(n)


def _masked_parties(dispute: Dispute) -> list[dict[str, Any]]:
    return [
        {
            "party": p,
            "phone": mask_phone(p.phone),
            "id_number": mask_id_number(p.id_number),
        }
        for p in dispute.parties.order_by("id")
    ]


def _mediator_names(dispute: Dispute) -> list[str]:
    """Return who mediated: the case's mediator, then those who chaired its held sessions."""
    names: list[str] = []
    if dispute.mediator is not None:
        names.append(dispute.mediator.name)
    for s in dispute.sessions.filter(state=SessionState.HELD).prefetch_related("mediators"):
        names += [m.name for m in s.mediators.all() if m.name not in names]
    return names


def agreement_document(agreement: Agreement) -> dict[str, Any]:
    """Return what the printed agreement (人民调解协议书) shows, personal data masked."""
    dispute = agreement.dispute
    parties = _masked_parties(dispute)
    names = {p["party"].pk: p["party"].name for p in parties}
    items = [
        {
            "item": i,
            "obligor": names.get(i.obligor_id, ""),
            "obligee": names.get(i.obligee_id, "") if i.obligee_id else "",
        }
        for i in agreement.items.order_by("id")
    ]
    signatures = {s.party_id: s for s in agreement.signatures.all()}
    return {
        "agreement": agreement,
        "dispute": dispute,
        "parties": parties,
        "items": items,
        "signatures": [(p["party"], signatures.get(p["party"].pk)) for p in parties],
        "mediators": _mediator_names(dispute),
        "committee": _("%(community)s人民调解委员会") % {"community": dispute.community.name},
        # One copy for each party and one kept by the committee.
        "copies": len(parties) + 1,
        "copies_text": _numeral(len(parties) + 1),
        "day": timezone.localtime(agreement.concluded_at).date()
        if agreement.concluded_at
        else None,
    }


def referral_document(referral: Referral) -> dict[str, Any]:
    """Return what the printed referral summary and the package's summary.html show."""
    dispute = referral.dispute
    sessions = list(
        dispute.sessions.prefetch_related("mediators", "attendance__party").order_by(
            "scheduled_at", "id"
        )
    )
    agreements = list(dispute.agreements.order_by("id"))
    return {
        "referral": referral,
        "dispute": dispute,
        "parties": _masked_parties(dispute),
        "sessions": sessions,
        "agreement_docs": [agreement_document(a) for a in agreements],
        "mediators": _mediator_names(dispute),
        "attachments": list(dispute.attachments.order_by("id")),
        "committee": _("%(community)s人民调解委员会") % {"community": dispute.community.name},
        "today": timezone.localdate(),
    }


def package_build(*, referral: Referral) -> bytes:
    """Return the ZIP of a referral: summary, parties, timeline, minutes, agreements, files."""
    dispute = referral.dispute
    summary_context = referral_document(referral)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        summary = render_to_string(
            "disputes/referral_print.html", {**summary_context, "in_package": True}
        )
        zf.writestr("summary.html", summary.encode("utf-8"))
        zf.writestr("parties.csv", parties_csv(dispute))
        zf.writestr("timeline.csv", timeline_csv(dispute))
        for name, data in minutes_text(dispute):
            zf.writestr(name, data)
        for agreement_context in summary_context.get("agreement_docs", []):
            agreement = agreement_context["agreement"]
            html = render_to_string(
                "disputes/agreement_print.html", {**agreement_context, "in_package": True}
            )
            zf.writestr(f"agreements/{_safe_name(agreement.number)}.html", html.encode("utf-8"))
        missing = []
        for att in dispute.attachments.order_by("id"):
            name = f"attachments/{att.pk}-{_safe_name(att.name)}"
            try:
                with att.file.open("rb") as fh:
                    zf.writestr(name, fh.read())
            except (FileNotFoundError, OSError, ValueError):
                missing.append(att.name)
        if missing:
            zf.writestr(
                "attachments/MISSING.txt",
                (_("以下附件在存储中找不到：") + "\n" + "\n".join(missing)).encode("utf-8"),
            )
    return buffer.getvalue()


def package_download(*, actor: Any, referral: Referral) -> tuple[str, bytes]:
    """Build the referral package for the actor and audit the read; return (filename, bytes)."""
    dispute = referral.dispute
    if actor is not None and not user_can(
        actor, "dispute.handle", station_id=dispute.station_id, area_id=dispute.area_id
    ):
        raise PermissionDenied(_("您无权办理该纠纷。"))
    data = package_build(referral=referral)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = zf.namelist()
    audit_record(
        actor=actor,
        action="disputes.referral.package_downloaded",
        obj=dispute,
        changes={"referral_id": referral.pk, "files": members, "bytes": len(data)},
    )
    filename = f"{_safe_name(dispute.case_number)}-referral-{referral.pk}.zip"
    return filename, data
