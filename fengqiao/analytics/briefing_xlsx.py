"""The stored briefing as an XLSX workbook: one sheet per section (openpyxl).

It is written from the stored content only, so the file matches what was read at the meeting.
It holds no personal data (callers appear by masked name only, never by phone), so the
download is not audited as a read of personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from fengqiao.analytics.hotspot_selectors import trend_label
from fengqiao.analytics.models import Briefing
from fengqiao.core.templatetags.localized import localized_from, localized_names


def briefing_filename(briefing: Briefing) -> str:
    return f"晨会研判-{briefing.content['station']['name']}-{briefing.day:%Y%m%d}.xlsx"


def _local(value: str | None) -> str:
    if not value:
        return ""
    return timezone.localtime(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    if not rows:
        ws.append([_("（无）")])
    for i, name in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(name) * 2 + 4))
    ws.freeze_panes = "A2"


def write_briefing_xlsx(briefing: Briefing, fh: IO[bytes]) -> None:
    """Write the briefing's workbook to `fh`."""
    c = briefing.content
    # The stored names and labels are Chinese; the workbook words them in the reader's language.
    categories = localized_names("incidents.IncidentCategory")
    dispute_types = localized_names("disputes.DisputeType")
    sep = pgettext("list separator", "、")
    wb = Workbook()
    summary = wb.active
    summary.title = _("概况")
    summary.append([_("晨会研判"), c["station"]["name"]])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([_("研判日期"), c["day"]])
    generated = timezone.localtime(briefing.generated_at).strftime("%Y-%m-%d %H:%M")
    summary.append([_("生成时间"), generated])
    summary.append([_("生成方式"), str(briefing.get_kind_display())])
    summary.append(
        [
            _("夜间警情时段"),
            f"{_local(c['overnight']['start'])} — {_local(c['overnight']['end'])}",
        ]
    )
    summary.append([_("夜间警情（起）"), c["overnight"]["count"]])
    summary.append([_("昨日警情（起）"), c["classes"]["total"]["yesterday"]])
    summary.append([_("高于常态的网格（个）"), len(c["grids"]["rows"])])
    summary.append([_("热点网格（个）"), len(c["hotspots"]["cells"])])
    summary.append([_("重复报警地址（处）"), len(c["repeats"]["addresses"])])
    summary.append([_("重复报警人（人）"), len(c["repeats"]["callers"])])
    summary.append([_("红色或超期纠纷（件）"), len(c["disputes"]["rows"])])
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 40

    _sheet(
        wb,
        _("夜间警情"),
        [_("警情编号"), _("报警时间"), _("警情类别"), _("网格"), _("地址"), _("状态")],
        [
            [
                r["case_number"],
                _local(r["reported_at"]),
                localized_from(r["category"], categories),
                r["grid"],
                r["address"],
                _(r["status_label"]) if r["status_label"] else "",
            ]
            for r in c["overnight"]["rows"]
        ],
    )
    d = c["classes"]["dates"]
    _sheet(
        wb,
        _("分类对比"),
        [
            _("编码"),
            _("类别"),
            _("昨日 %(d)s") % {"d": d["yesterday"]},
            _("前日 %(d)s") % {"d": d["day_before"]},
            _("前7日日均"),
            _("去年同日 %(d)s") % {"d": d["last_year"]},
            _("较前日"),
            _("较7日均值（%）"),
            _("同比（%）"),
        ],
        [
            [
                r["code"] or _("合计"),
                ("  " if r["level"] == "category" else "") + localized_from(r["name"], categories),
                r["yesterday"],
                r["day_before"],
                r["week_mean"],
                r["last_year"],
                r["vs_day_before"],
                r["vs_week_mean_pct"],
                r["vs_last_year_pct"],
            ]
            for r in [*c["classes"]["rows"], c["classes"]["total"]]
        ],
    )
    _sheet(
        wb,
        _("网格异常"),
        [
            _("网格"),
            _("社区/村"),
            _("昨日"),
            _("近7日"),
            _("基线日均"),
            _("昨日阈值"),
            _("7日阈值"),
        ],
        [
            [
                r["name"],
                r["community"],
                r["yesterday"],
                r["week"],
                r["mean"],
                r["threshold"],
                r["week_threshold"],
            ]
            for r in c["grids"]["rows"]
        ],
    )
    _sheet(
        wb,
        _("热点"),
        [_("H3 网格"), _("纬度"), _("经度"), _("警情数"), _("z 值"), _("q 值"), _("类型")],
        [
            [
                h["h3"],
                h["lat"],
                h["lng"],
                h["count"],
                h["z"],
                h["q"],
                trend_label(h["trend"]) or _("本期热点"),
            ]
            for h in c["hotspots"]["cells"]
        ],
    )
    _sheet(
        wb,
        _("重复报警地址"),
        [_("地址"), _("次数"), _("最近一次"), _("警情编号")],
        [
            [
                r["address"],
                r["count"],
                _local(r["last"]),
                sep.join(i["case_number"] for i in r["incidents"]),
            ]
            for r in c["repeats"]["addresses"]
        ],
    )
    _sheet(
        wb,
        _("重复报警人"),
        [_("报警人"), _("次数"), _("最近一次"), _("警情编号")],
        [
            [
                r["name_masked"] or _("（未留姓名）"),
                r["count"],
                _local(r["last"]),
                sep.join(i["case_number"] for i in r["incidents"]),
            ]
            for r in c["repeats"]["callers"]
        ],
    )
    _sheet(
        wb,
        _("风险纠纷"),
        [
            _("案件编号"),
            _("纠纷类型"),
            _("分级"),
            _("预警颜色"),
            _("办理期限"),
            _("超期天数"),
            _("调解员"),
        ],
        [
            [
                r["case_number"],
                localized_from(r["type"], dispute_types),
                _(r["grade_label"]) if r["grade_label"] else "",
                _(r["colour_label"]) if r["colour_label"] else "",
                r["deadline"] or "",
                r["overdue_days"],
                r["mediator"],
            ]
            for r in c["disputes"]["rows"]
        ],
    )
    wb.save(fh)
