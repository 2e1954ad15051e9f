"""Reading GeoJSON imports: the per-feature report, properties, geometry checks, scope."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from shapely.geometry import mapping, shape

from fengqiao.accounts.access import Scope, scope_for
from fengqiao.areas.models import Area
from fengqiao.core.errors import DomainError

# Overlaps and overhangs smaller than this are float noise along shared edges, not mistakes:
# 1e-9 square degrees is about 11 m² at 28°N.
AREA_TOLERANCE = 1e-9
METRES_PER_DEGREE = 111_320.0

# GEOS explains invalid geometry in English; these are the reasons it gives.
GEOS_REASONS = {
    "Self-intersection": gettext_lazy("自相交"),
    "Ring Self-intersection": gettext_lazy("环自相交"),
    "Hole lies outside shell": gettext_lazy("内环位于外环之外"),
    "Holes are nested": gettext_lazy("内环相互嵌套"),
    "Interior is disconnected": gettext_lazy("内部不连通"),
    "Nested shells": gettext_lazy("多边形相互嵌套"),
    "Duplicate Rings": gettext_lazy("存在重复的环"),
    "Too few points": gettext_lazy("点数过少"),
    "Invalid Coordinate": gettext_lazy("坐标无效"),
    "Ring is not closed": gettext_lazy("环未闭合"),
}
# Python's json module explains a syntax error in English; the reasons it gives, in words.
JSON_REASONS = {
    "Expecting property name enclosed in double quotes": gettext_lazy(
        "属性名应使用英文双引号括起来，或多了一个逗号"
    ),
    "Expecting value": gettext_lazy("缺少值，或值的写法不对"),
    "Expecting ',' delimiter": gettext_lazy("缺少逗号"),
    "Expecting ':' delimiter": gettext_lazy("缺少冒号"),
    "Unterminated string starting at": gettext_lazy("字符串缺少结尾的双引号"),
    "Invalid control character at": gettext_lazy("字符串中有未转义的控制字符（如换行）"),
    "Extra data": gettext_lazy("JSON 结束后还有多余的内容"),
    "Invalid \\escape": gettext_lazy("无效的转义字符"),
    "Invalid \\uXXXX escape": gettext_lazy("无效的 \\u 转义"),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one feature; `index` is its 0-based position, None for the file."""

    index: int | None
    code: str
    message: str

    @property
    def number(self) -> int | None:
        """Return the 1-based feature number that people count by."""
        return None if self.index is None else self.index + 1


@dataclass
class ImportReport:
    """What an import found and, if the file was clean, what it wrote."""

    what: str
    features: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    links_opened: int = 0
    links_closed: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, index: int | None, code: str, message: str) -> None:
        self.problems.append(Problem(index, code, message))

    def summary(self) -> str:
        """Return one line for people: how many were created, updated and left alone."""
        text = _("共 %(n)d 个要素：新建 %(c)d 个，更新 %(u)d 个，未变 %(s)d 个。") % {
            "n": self.features,
            "c": len(self.created),
            "u": len(self.updated),
            "s": len(self.unchanged),
        }
        if self.what == "police_grids":
            text += _("网格划入 %(o)d 次，移出 %(c)d 次（历史记录保留）。") % {
                "o": self.links_opened,
                "c": self.links_closed,
            }
        if self.dry_run:
            text += _("（仅检查，未写入）")
        return text


def load_features(data: bytes | str | dict[str, Any], report: ImportReport) -> list[Any]:
    """Return the features of a FeatureCollection, or none with a file-level problem."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            report.add(None, "", _("文件不是 UTF-8 编码的文本。"))
            return []
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            reason = JSON_REASONS.get(exc.msg, gettext_lazy("格式错误"))
            report.add(
                None,
                "",
                _("文件不是有效的 JSON（第 %(line)d 行第 %(column)d 列）：%(reason)s。")
                % {"line": exc.lineno, "column": exc.colno, "reason": reason},
            )
            return []
        except RecursionError:
            report.add(None, "", _("文件不是有效的 JSON：嵌套层次过深。"))
            return []
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        report.add(None, "", _("文件应为 GeoJSON 要素集合（FeatureCollection）。"))
        return []
    if not isinstance(features, list) or not features:
        report.add(None, "", _("文件中没有要素（features）。"))
        return []
    report.features = len(features)
    return features


def text_of(value: Any) -> str:
    """Return a property as stripped text; GIS tools often write numeric codes as numbers."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def feature_properties(index: int, raw: Any, report: ImportReport) -> dict[str, Any] | None:
    """Return a feature's properties, or None (reported) if it is no GeoJSON feature."""
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        report.add(index, "", _("不是 GeoJSON 要素（Feature）。"))
        return None
    props = raw.get("properties")
    if not isinstance(props, dict):
        report.add(index, "", _("缺少属性（properties）。"))
        return None
    return props


def code_and_name(index: int, props: dict[str, Any], report: ImportReport) -> tuple[str, str]:
    """Return a feature's code and name, reporting either if missing or too long."""
    code, name = text_of(props.get("code")), text_of(props.get("name"))
    if not code:
        report.add(index, "", _("缺少编码（code）。"))
    elif len(code) > 40:
        report.add(index, code, _("编码过长（最多 40 个字符）。"))
    if not name:
        report.add(index, code, _("缺少名称（name）。"))
    elif len(name) > 100:
        report.add(index, code, _("名称过长（最多 100 个字符）。"))
    elif "<" in name or ">" in name:
        report.add(index, code, _("名称不能包含“<”或“>”。"))
    return code, name


def square_metres(deg2: float, lat: float) -> int:
    """Return square degrees near latitude `lat` as approximate square metres."""
    return round(deg2 * METRES_PER_DEGREE**2 * math.cos(math.radians(lat)))


def _invalid_reason(geom: Any) -> str:
    reason = shapely.is_valid_reason(geom) or ""
    head, _sep, where = reason.partition("[")
    label = GEOS_REASONS.get(head.strip())
    text = str(label) if label else _("形状不合法")
    if where:
        text += _("（位置 %(where)s）") % {"where": where.rstrip("]").replace(" ", ", ")}
    return text


def _is_position(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) in (2, 3)
        and all(isinstance(c, int | float) and not isinstance(c, bool) for c in value)
    )


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


def _coordinates_problem(kind: str, coordinates: Any) -> str | None:
    """Return what is wrong with a polygon's coordinates, naming the ring and point, or None."""
    if not isinstance(coordinates, list) or not coordinates:
        return _("缺少坐标（coordinates），或坐标不是列表。")
    polygons = coordinates if kind == "MultiPolygon" else [coordinates]
    for p, rings in enumerate(polygons, start=1):
        where = _("第 %(n)d 个多边形的") % {"n": p} if kind == "MultiPolygon" else ""
        if not isinstance(rings, list) or not rings:
            return _("%(where)s坐标应为环的列表。") % {"where": where}
        for r, ring in enumerate(rings, start=1):
            if not isinstance(ring, list):
                return _("%(where)s第 %(ring)d 个环应为坐标点的列表。") % {
                    "where": where,
                    "ring": r,
                }
            for i, position in enumerate(ring, start=1):
                if not _is_position(position):
                    return _(
                        "%(where)s第 %(ring)d 个环的第 %(point)d 个点应为 [经度, 纬度] 两个数字，"
                        "实际是 %(value)s。"
                    ) % {"where": where, "ring": r, "point": i, "value": _shown(position)}
            if len(ring) < 4:
                return _(
                    "%(where)s第 %(ring)d 个环只有 %(n)d 个点，至少需要 4 个（首尾两点相同）。"
                ) % {"where": where, "ring": r, "n": len(ring)}
    return None


def read_geometry(value: Any) -> tuple[dict[str, Any] | None, Any, list[str]]:
    """Return (GeoJSON to store, shapely geometry, problems) for a feature's geometry."""
    if not value:
        return None, None, [_("缺少几何图形（geometry）。")]
    if not isinstance(value, dict):
        return None, None, [_("几何图形（geometry）应为 GeoJSON 对象。")]
    kind = value.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        return (
            None,
            None,
            [
                _("不支持的几何类型“%(type)s”：只接受 Polygon 或 MultiPolygon。")
                % {"type": _shown(kind) if not isinstance(kind, str) else kind[:40]}
            ],
        )
    problem = _coordinates_problem(kind, value.get("coordinates"))
    if problem:
        return None, None, [_("几何图形的坐标格式有误：%(error)s") % {"error": problem}]
    try:
        geom = shapely.force_2d(shape(value))
    except (ValueError, TypeError, KeyError, IndexError, shapely.errors.GEOSException):
        return None, None, [_("几何图形无法解析，请检查坐标。")]
    coords = shapely.get_coordinates(geom)
    if not np.isfinite(coords).all():
        return None, None, [_("坐标中有非数字的值。")]
    if geom.is_empty:
        return None, None, [_("几何图形为空。")]
    minx, miny, maxx, maxy = geom.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        text = _("坐标超出范围：经度应在 -180 到 180 之间，纬度应在 -90 到 90 之间。")
        if minx >= -90 and maxx <= 90 and (miny < -90 or maxy > 90):
            text += _("经纬度可能写反了（GeoJSON 的顺序是 [经度, 纬度]）。")
        return None, None, [text]
    if not geom.is_valid:
        return None, None, [_("几何图形无效：%(reason)s。") % {"reason": _invalid_reason(geom)}]
    if geom.area <= 0:
        return None, None, [_("几何图形的面积为零。")]
    # Stored as clean GeoJSON: closed rings, two dimensions, lists not tuples.
    return json.loads(json.dumps(mapping(geom))), geom, []


def within(scope: Scope, area: Area) -> bool:
    """Return whether the scope reaches `area`: a role on an area reaches all beneath it."""
    return scope.everything or any(area.path.startswith(p) for p in scope.paths)


def write_failed(exc: Exception) -> str:
    """Return the report line for a write that failed after every check had passed."""
    if isinstance(exc, DomainError):
        return _("写入时出错，未导入任何数据：%(error)s") % {"error": exc.message}
    # A database refusal (someone saved the same code meanwhile) is no text for people.
    return _("写入时出错，未导入任何数据：可能有他人同时修改了这些区域，请稍后重新导入。")


def view_scope(actor: Any, enforce_scope: bool) -> Scope:
    """Return the areas whose names a report may show: the actor's, or all for the system."""
    # Another station's area is named by the code the file gave, never by its stored name.
    return scope_for(actor, "area.view") if enforce_scope else Scope(everything=True)


def shown_name(scope: Scope, area: Area) -> str:
    """Return the area's name if the scope sees it, else its code."""
    return area.name if within(scope, area) else area.code


def index_codes(rows: list[Any], report: ImportReport) -> dict[str, Any]:
    """Return the rows by code; a code seen again is reported and its row set aside."""
    by_code: dict[str, Any] = {}
    for row in rows:
        if not row.code:
            row.usable = False
        elif row.code in by_code:
            row.usable = False
            report.add(
                row.index,
                row.code,
                _("编码“%(code)s”在文件中重复（第 %(n)d 个要素已使用）。")
                % {"code": row.code, "n": by_code[row.code].index + 1},
            )
        else:
            by_code[row.code] = row
    return by_code
