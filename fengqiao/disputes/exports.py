"""Export the disputes a user may see to XLSX: exactly the filtered list, masked, audited."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from fengqiao.accounts.access import scope_for
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_record
from fengqiao.core.errors import ValidationFailed
from fengqiao.core.pii import mask_phone
from fengqiao.disputes.choices import (
    Channel,
    Colour,
    Grade,
    PartyRole,
    Source,
    Status,
    Supervision,
)
from fengqiao.disputes.models import Party
from fengqiao.disputes.selectors import dispute_search

# A spreadsheet beyond this is no longer read by anyone; narrower filters are the answer.
EXPORT_MAX = 50_000
CHUNK = 2000

COLUMNS = (
    N_("案件编号"),
    N_("登记时间"),
    N_("发生时间"),
    N_("状态"),
    N_("分级"),
    N_("预警颜色"),
    N_("纠纷类型编码"),
    N_("纠纷类型"),
    N_("统计类型"),
    N_("社区/村"),
    N_("网格"),
    N_("地址"),
    N_("案件来源"),
    N_("调解方式"),
    N_("调解员"),
    N_("办理期限"),
    N_("督办"),
    N_("涉及人数"),
    N_("涉及金额（元）"),
    N_("当事人"),
    N_("纠纷情况"),
)


class ExportTooLarge(ValidationFailed):
    """More rows than one export may hold."""


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _parties(d: Any) -> str:
    roles = dict(PartyRole.choices)
    out = []
    for p in d.parties.all():
        text = f"{p.name}（{roles.get(p.role, p.role)}）"
        if p.phone:
            text += f" {mask_phone(p.phone)}"
        out.append(text)
    return "；".join(out)


def _rows(qs: Any) -> Iterator[list[Any]]:
    labels = {
        "status": dict(Status.choices),
        "grade": dict(Grade.choices),
        "colour": dict(Colour.choices),
        "source": dict(Source.choices),
        "channel": dict(Channel.choices),
        "supervision": dict(Supervision.choices),
    }
    for d in qs.iterator(chunk_size=CHUNK):
        yield [
            d.case_number,
            _when(d.reported_at),
            _when(d.occurred_at),
            str(labels["status"].get(d.status, d.status)),
            str(labels["grade"].get(d.grade, d.grade)),
            str(labels["colour"].get(d.colour, d.colour)),
            d.type.code,
            d.type.name,
            d.stat_type.name,
            d.community.name,
            d.area.name,
            d.address,
            str(labels["source"].get(d.source, d.source)),
            str(labels["channel"].get(d.channel, d.channel)) if d.channel else "",
            d.mediator.name if d.mediator else "",
            d.deadline.isoformat() if d.deadline else "",
            str(labels["supervision"].get(d.supervision, d.supervision)),
            d.people_count,
            float(d.amount),
            _parties(d),
            d.narrative,
        ]


def dispute_export(
    *, actor: Any, fh: IO[bytes], filters: dict[str, Any], audit_filters: dict[str, Any]
) -> int:
    """Write the filtered disputes the actor may see to `fh` as XLSX; return the row count.

    `filters` are `selectors.dispute_search` keywords; `audit_filters` is how the audit entry
    records them. Raises ExportTooLarge, writing nothing, beyond EXPORT_MAX rows.
    """
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    qs = dispute_search(user=actor, **filters)
    total = qs.order_by().values("id")[: EXPORT_MAX + 1].count()
    if total > EXPORT_MAX:
        raise ExportTooLarge(
            _("符合条件的案件超过 %(n)d 件，无法一次导出，请缩小筛选范围（如登记日期）后再导出。")
            % {"n": EXPORT_MAX}
        )
    parties = Prefetch(
        "parties", queryset=Party.objects.only("id", "dispute_id", "name", "role", "phone")
    )
    qs = (
        qs.select_related("type", "stat_type", "community", "area", "mediator")
        .prefetch_related(parties)
        .order_by("-id")
    )
    # write_only streams rows to disk, so memory stays flat however many rows there are.
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(_("矛盾纠纷"))
    sheet.append([_(c) for c in COLUMNS])
    count = 0
    for row in _rows(qs):
        cells: list[Any] = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            # openpyxl turns text starting with "=" into a formula: keep people's text as text.
            if isinstance(value, str):
                cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(fh)
    # One entry per station the export reached, so each chief sees it in their audit log;
    # a community officer's scope is areas, whose station is looked up.
    scope = scope_for(actor, "dispute.view")
    stations = set(scope.station_ids) | set(
        Area.objects.filter(pk__in=sorted(scope.area_ids)).values_list("station_id", flat=True)
    )
    targets: list[int | None] = [*sorted(s for s in stations if s is not None)] or [None]
    for station_id in targets:
        audit_record(
            actor=actor,
            action="disputes.dispute.exported",
            object_type="disputes.dispute",
            station_id=station_id,
            changes={"filters": audit_filters, "count": count},
        )
    return count
