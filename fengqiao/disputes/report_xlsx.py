"""The monthly report as the judicial bureau's XLSX (人民调解工作月报表), and how figures read.

One sheet: the title row, the period and the reporting unit, the headline table with 环比 and
同比, then one block per breakdown (source, statistical type — all of list B —, type class,
channel, community, grid). Numbers stay numbers (rates as percentages), "—" where a rate has
no denominator. Every download is audited, one entry per station it covers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import IO, Any

from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.core.audit import audit_record

DASH = "—"


def figure_labels() -> dict[str, str]:
    """Return the headline figures' names, in the report's order."""
    return {
        "received": _("受理纠纷（件）"),
        "screened": _("排查发现纠纷（件）"),
        "concluded": _("调解纠纷（件）"),
        "succeeded": _("调解成功（件）"),
        "success_rate": _("调解成功率"),
        "amount": _("涉及金额（元）"),
        "people": _("涉及人数（人）"),
        "on_time_rate": _("按期办结率"),
        "overdue": _("超期办结（件）"),
        "mean_days": _("平均办理天数"),
        "prevented": _("防止民转刑（件）"),
        "prevented_people": _("防止民转刑（人）"),
        "followup_rate": _("回访率"),
        "satisfaction_rate": _("回访满意率"),
    }


def breakdown_titles() -> dict[str, str]:
    return {
        "source": _("按案件来源"),
        "stat_type": _("按人民调解统计类型"),
        "type_class": _("按纠纷类型（大类）"),
        "channel": _("按调解方式"),
        "community": _("按社区/村"),
        "area": _("按网格"),
    }


def breakdown_columns() -> dict[str, str]:
    return {
        "received": _("受理"),
        "screened": _("排查发现"),
        "concluded": _("调解"),
        "succeeded": _("成功"),
        "success_rate": _("成功率"),
        "amount": _("涉及金额（元）"),
        "people": _("涉及人数"),
        "on_time_rate": _("按期率"),
        "overdue": _("超期办结"),
        "mean_days": _("平均天数"),
        "prevented": _("防止民转刑"),
    }


RATE_KEYS = frozenset({"success_rate", "on_time_rate", "followup_rate", "satisfaction_rate"})


def show(key: str, value: Any) -> str:
    """Return a figure as the page shows it: "—" when undefined, rates in percent."""
    if value is None:
        return DASH
    if key in RATE_KEYS:
        return f"{value * 100:.1f}%"
    if key == "amount":
        return f"{Decimal(value):,.2f}"
    if key == "mean_days":
        return f"{value:.1f}"
    return f"{value:,}"


def show_change(key: str, change: dict[str, Any]) -> str:
    """Return a change as text: relative for counts, in points for rates, "—" when undefined."""
    if key in RATE_KEYS:
        if change["delta"] is None:
            return DASH
        return f"{change['delta'] * 100:+.1f}" + _("个百分点")
    if change["pct"] is None:
        # From zero a relative change means nothing: say how many more (or "—" if unknown).
        if change["delta"] is None:
            return DASH
        if key == "amount":
            return f"{Decimal(change['delta']):+,.2f}"
        if key == "mean_days":
            return f"{change['delta']:+.1f}"
        return f"{change['delta']:+,}" if change["delta"] else "0"
    return f"{change['pct'] * 100:+.1f}%"


def _cell_value(key: str, value: Any) -> Any:
    if value is None:
        return DASH
    if key == "amount":
        return float(value)
    return value


def _format(key: str) -> str:
    if key in RATE_KEYS:
        return "0.0%"
    if key == "amount":
        return "#,##0.00"
    if key == "mean_days":
        return "0.0"
    return "0"


def write_report_xlsx(report: dict[str, Any], fh: IO[bytes]) -> None:
    """Write the report to `fh` as one sheet in the bureau's layout."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("月报表")
    bold = Font(bold=True)
    width = 2 + len(breakdown_columns())
    sheet.append([_("人民调解工作月报表")])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(bold=True, size=16)
    sheet["A1"].alignment = Alignment(horizontal="center")
    period = report["period"]
    sheet.append(
        [
            _("统计期间"),
            f"{report['year']}年{report['month']}月（{period['start']} 至 {period['end']}）",
        ]
    )
    sheet.append([_("填报单位"), report["unit"]])
    sheet.append(
        [_("制表时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")],
    )
    sheet.append([])
    sheet.append([_("主要指标"), _("本月"), _("上月"), _("环比"), _("去年同月"), _("同比")])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for key, label in figure_labels().items():
        row = [
            label,
            _cell_value(key, report["totals"][key]),
            _cell_value(key, report["previous"][key]),
            show_change(key, report["changes"][key]["mom"]),
            _cell_value(key, report["last_year"][key]),
            show_change(key, report["changes"][key]["yoy"]),
        ]
        sheet.append(row)
        for col in (2, 3, 5):
            sheet.cell(row=sheet.max_row, column=col).number_format = _format(key)
    sheet.append([_("当前超期未结（件）"), report["open_overdue"]])
    columns = breakdown_columns()
    for dim, title in breakdown_titles().items():
        sheet.append([])
        sheet.append([title])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        sheet.append([_("项目"), *columns.values()])
        for cell in sheet[sheet.max_row]:
            cell.font = bold
        for item in report["breakdowns"][dim]:
            sheet.append([item["label"], *(_cell_value(k, item[k]) for k in columns)])
            for i, key in enumerate(columns, start=2):
                sheet.cell(row=sheet.max_row, column=i).number_format = _format(key)
    sheet.column_dimensions["A"].width = 26
    for letter in "BCDEFGHIJKL":
        sheet.column_dimensions[letter].width = 13
    book.save(fh)


def audit_report_download(*, actor: Any, report: dict[str, Any], fmt: str) -> None:
    """Record a download of the report, once per station it covers."""
    for station_id in report["scope"]["station_ids"]:
        audit_record(
            actor=actor,
            action="disputes.report.exported",
            object_type="disputes.report",
            station_id=station_id,
            changes={
                "year": report["year"],
                "month": report["month"],
                "unit": report["unit"],
                "format": fmt,
            },
        )
