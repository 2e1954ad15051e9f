"""Import incident history, checking: one record into a staging row or row errors."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.areas.geo import grid_index
from fengqiao.areas.models import Area
from fengqiao.core.pii import encrypt, normalize_phone
from fengqiao.incidents.choices import Disposition, Linkage, Source
from fengqiao.incidents.import_read import FIELDS, REQUIRED
from fengqiao.incidents.models import IncidentCategory
from fengqiao.incidents.repeats import address_key

_SOURCES: dict[str, str] = {
    **{s.value: s.value for s in Source},
    **{str(s.label).replace(" ", ""): s.value for s in Source},
    **dict.fromkeys(["110", "110指令", "110报警", "指令"], Source.DISPATCH_110),
    **dict.fromkeys(["来所", "来所报警", "走访报警"], Source.WALK_IN),
    **dict.fromkeys(["电话", "电话报警", "所内电话"], Source.PHONE),
    **dict.fromkeys(["视频", "视频巡查", "视频发现"], Source.VIDEO),
    **dict.fromkeys(["群众线索", "志愿者线索", "群众/志愿者线索", "线索"], Source.VOLUNTEER),
    **dict.fromkeys(["巡逻", "巡逻发现"], Source.PATROL),
}
_DISPOSITIONS: dict[str, str] = {
    **{d.value: d.value for d in Disposition},
    **{str(d.label): d.value for d in Disposition},
    **dict.fromkeys(["当场处置", "现场调解", "已处置"], Disposition.ON_SPOT),
    **dict.fromkeys(["刑事案件", "受理刑事案件"], Disposition.CRIMINAL_CASE),
    **dict.fromkeys(["行政案件", "受理行政案件"], Disposition.ADMIN_CASE),
    **dict.fromkeys(["纠纷", "矛盾纠纷", "转纠纷"], Disposition.DISPUTE),
    **dict.fromkeys(["移交", "联动", "转联动单位"], Disposition.REFERRED),
    **dict.fromkeys(["无效", "无效报警"], Disposition.INVALID),
}
_LINKAGES: dict[str, str] = {
    **{x.value: x.value for x in Linkage},
    **{str(x.label).replace(" ", ""): x.value for x in Linkage},
    **dict.fromkeys(["120", "急救"], Linkage.MEDICAL_120),
    **dict.fromkeys(["119", "消防"], Linkage.FIRE_119),
    **dict.fromkeys(["劳动", "人社"], Linkage.LABOUR),
    **dict.fromkeys(["城管", "市政"], Linkage.MUNICIPAL),
    **dict.fromkeys(["民政"], Linkage.CIVIL_AFFAIRS),
}
_TIME = re.compile(
    r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"
    r"(?:[ T]+(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})(?:\.\d+)?秒?)?)?$"
)
_TIME14 = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$")
_SPACE = re.compile(r"\s+")
# A clock a few minutes fast at the 110 centre is not an error.
_FUTURE_SLACK = timedelta(minutes=5)


@dataclass(frozen=True, order=True)
class RowError:
    """One problem: the row as the user sees it in the file, the column header, the message."""

    row: int
    column: str
    message: str


_T2S: dict[int, str] | None = None
_TRADITIONAL: re.Pattern[str] | None = None


def _t2s_table() -> dict[int, str]:
    """Return traditional -> simplified for single characters, built once from OpenCC.

    core.text.to_simplified costs about 50 µs a narrative (OpenCC per call); a million rows
    would spend a minute there. str.translate with the same character map costs about 1 µs.
    """
    global _T2S
    if _T2S is None:
        from opencc import OpenCC

        chars = [chr(c) for c in (*range(0x3400, 0xA000), *range(0xF900, 0xFB00))]
        converted = OpenCC("t2s").convert("\n".join(chars)).split("\n")
        table: dict[int, str] = {}
        if len(converted) == len(chars):
            for src, dst in zip(chars, converted, strict=True):
                if dst != src and len(dst) == 1:
                    table[ord(src)] = dst
        _T2S = table
    return _T2S


def _traditional() -> re.Pattern[str]:
    """Return a pattern matching any character the t2s table changes."""
    global _TRADITIONAL
    if _TRADITIONAL is None:
        _TRADITIONAL = re.compile("[" + "".join(re.escape(chr(c)) for c in _t2s_table()) + "]")
    return _TRADITIONAL


def fold_text(text: str) -> str:
    """Return text folded as core.text.to_simplified folds it (character by character)."""
    # Most 110 text is simplified already: a regex scan costs a tenth of the translate.
    if _traditional().search(text):
        text = text.translate(_t2s_table())
    return _SPACE.sub(" ", text).strip().lower()


def _phone_digest() -> Callable[[str], str]:
    """Return phone -> the digest repeats.caller_index gives, with the HMAC key set up once."""
    key = hashlib.sha256(
        ("fengqiao-blind:" + settings.FENGQIAO_FIELD_KEY.split(",")[0]).encode()
    ).digest()
    base = hmac.new(key, b"party_phone:", hashlib.sha256)

    def digest(phone: str) -> str:
        value = normalize_phone(phone)
        if not value:
            return ""
        h = base.copy()
        h.update(value.encode())
        return h.hexdigest()[:32]

    return digest


def parse_time(text: str, tz: Any) -> datetime | None:
    """Return a local time from 2025-03-01 08:15[:22], 2025/3/1 8:15, 20250301081522 …"""
    value = parse_local(text, tz)
    return None if value is None else value.replace(tzinfo=tz)


def parse_local(text: str, tz: Any) -> datetime | None:
    """Return the wall-clock time in `tz` (naive) that parse_time reads from the text."""
    # Naive times compare and print several times faster than aware ones: the checker works
    # in the station's wall clock, and the database converts once (Stage.at).
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        m = _TIME.match(text) or _TIME14.match(text)
        if m is None:
            return None
        y, mo, d, h, mi, sec = (int(p) if p else 0 for p in m.groups())
        try:
            value = datetime(y, mo, d, h, mi, sec)
        except ValueError:
            return None
    if value.tzinfo is not None:
        return value.astimezone(tz).replace(tzinfo=None)
    return value


STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("line", "bigint"),
    ("external_id", "text"),
    ("source", "text"),
    ("category_id", "bigint"),
    ("class_code", "text"),
    ("reported_at", "ts"),
    ("occurred_at", "ts"),
    ("address", "text"),
    ("address_key", "text"),
    ("lat", "double precision"),
    ("lng", "double precision"),
    ("area_id", "bigint"),
    ("community_id", "bigint"),
    ("narrative", "text"),
    ("caller_name", "text"),
    ("caller_phone", "text"),
    ("caller_bidx", "text"),
    ("team", "text"),
    ("dispatched_at", "ts"),
    ("arrived_at", "ts"),
    ("closed_at", "ts"),
    ("disposition", "text"),
    ("linkage", "text"),
    ("disposition_note", "text"),
    ("valid", "boolean"),
    ("search_text", "text"),
    ("year", "integer"),
)
_AREA, _COMMUNITY = 11, 12
_TIMES = ("dispatched_at", "arrived_at", "closed_at")


@dataclass
class Checker:
    """Turns one record into a staging row, or into row errors; knows the station."""

    station_id: int
    columns: dict[str, int]
    labels: dict[str, str]
    keep_callers: bool
    pg: bool
    tz: Any = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))
    now: datetime = field(default_factory=timezone.now)
    categories: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    grids: dict[str, tuple[int, int]] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for pk, code, name, class_code in IncidentCategory.objects.values_list(
            "id", "code", "name", "class_code"
        ):
            self.categories.setdefault(code, (pk, class_code, name))
            self.categories.setdefault(name, (pk, class_code, name))
        for pk, code, name, parent in Area.objects.filter(
            station_id=self.station_id, kind="grid"
        ).values_list("id", "code", "name", "parent_id"):
            self.grids.setdefault(code, (pk, parent))
            self.grids.setdefault(name, (pk, parent))
        self.parents = {pk: parent for pk, parent in self.grids.values()}
        self.phone = _phone_digest()
        self.index = grid_index(self.station_id)
        _traditional()
        # The checks compare wall-clock times in the station's zone (see parse_local).
        self.now_local = self.now.astimezone(self.tz).replace(tzinfo=None)
        # Cells by position in one C-level call instead of a dict comprehension per row.
        self.keys = tuple(self.columns)
        self.width = max(self.columns.values(), default=-1) + 1
        positions = tuple(self.columns.values())
        self.pick: Callable[[list[str]], tuple[str, ...]] = (
            itemgetter(*positions) if len(positions) > 1 else lambda c: (c[positions[0]],)
        )

    def label(self, key: str) -> str:
        return self.labels.get(key) or str(FIELDS[key])

    def ts(self, value: datetime | None, text: str = "") -> Any:
        """Return a wall-clock time as the staging table takes it: the same text for
        PostgreSQL (a timestamp the insert converts; COPY takes text three times faster than
        a datetime), UTC text for SQLite (as Django stores it)."""
        if value is None:
            return None
        if self.pg:
            # The cell itself when it is already ISO (2025-03-01 08:15:22, as 110 systems
            # write it): formatting a datetime again cost more than parsing it.
            if (
                len(text) == 19
                and text[10] == " "
                and text[4] == text[7] == "-"
                and text[13] == text[16] == ":"
            ):
                return text
            return str(value)
        return str(value.replace(tzinfo=self.tz).astimezone(UTC).replace(tzinfo=None))

    def _time(self, key: str, text: str, errors: list[RowError], line: int) -> datetime | None:
        if not text:
            return None
        value = parse_local(text, self.tz)
        if value is None:
            errors.append(
                RowError(
                    line,
                    self.label(key),
                    _("无法识别的时间：%(v)s（应如 2025-03-01 08:15:00）") % {"v": text[:40]},
                )
            )
        return value

    def _code(
        self,
        key: str,
        text: str,
        table: dict[str, str],
        default: str,
        errors: list[RowError],
        line: int,
    ) -> str:
        if not text:
            return default
        value = table.get(text.replace(" ", ""))
        if value is None:
            errors.append(
                RowError(
                    line,
                    self.label(key),
                    _("无法识别的%(label)s：%(v)s") % {"label": FIELDS[key], "v": text[:40]},
                )
            )
            return default
        return value

    def row(self, line: int, cells: list[str]) -> tuple[list[Any] | None, list[RowError]]:
        """Return (staging row, []) or (None, the row's errors)."""
        n = len(cells)
        if n >= self.width:
            v = dict(zip(self.keys, map(str.strip, self.pick(cells)), strict=True))
        else:
            v = {k: (cells[i].strip() if i < n else "") for k, i in self.columns.items()}
        get = v.get
        errors: list[RowError] = []
        for key in REQUIRED:
            if not get(key):
                errors.append(
                    RowError(
                        line, self.label(key), _("%(label)s不能为空。") % {"label": FIELDS[key]}
                    )
                )
        reported = self._time("reported_at", get("reported_at", ""), errors, line)
        if reported is not None and reported > self.now_local + _FUTURE_SLACK:
            errors.append(RowError(line, self.label("reported_at"), _("报警时间晚于当前时间。")))
        occurred = self._time("occurred_at", get("occurred_at", ""), errors, line)
        if occurred is not None and reported is not None and occurred > reported:
            errors.append(
                RowError(
                    line,
                    self.label("occurred_at"),
                    _("发生时间（%(o)s）晚于报警时间（%(r)s）。")
                    % {"o": get("occurred_at"), "r": get("reported_at")},
                )
            )
        # Received, dispatched, on scene, closed: each step's time is not before the last one.
        steps: list[tuple[str, datetime]] = [("reported_at", reported)] if reported else []
        times: dict[str, datetime | None] = {}
        for key in _TIMES:
            value = self._time(key, get(key, ""), errors, line)
            times[key] = value
            if value is None:
                continue
            if steps and value < steps[-1][1]:
                errors.append(
                    RowError(
                        line,
                        self.label(key),
                        _("%(this)s早于%(prev)s：状态变化的顺序不对（接警→派警→到场→处结）。")
                        % {"this": FIELDS[key], "prev": FIELDS[steps[-1][0]]},
                    )
                )
            steps.append((key, value))
        text = get("category", "")
        category = self.categories.get(text)
        if text and category is None:
            errors.append(
                RowError(
                    line,
                    self.label("category"),
                    _("未知的警情类别：%(v)s（须为 110 警情类别的编码或名称）。")
                    % {"v": text[:40]},
                )
            )
        source = self._code(
            "source", get("source", ""), _SOURCES, Source.DISPATCH_110, errors, line
        )
        disposition = self._code(
            "disposition", get("disposition", ""), _DISPOSITIONS, "", errors, line
        )
        linkage = self._code("linkage", get("linkage", ""), _LINKAGES, "", errors, line)
        external_id, address, team = get("external_id", ""), get("address", ""), get("team", "")
        for key, given, limit in (
            ("external_id", external_id, 40),
            ("address", address, 200),
            ("team", team, 60),
        ):
            if len(given) > limit:
                errors.append(
                    RowError(
                        line,
                        self.label(key),
                        _("%(label)s超过 %(n)d 个字。") % {"label": FIELDS[key], "n": limit},
                    )
                )
        lat = lng = None
        area: tuple[int, int] | None = None
        lat_text, lng_text = get("lat", ""), get("lng", "")
        if lat_text or lng_text:
            try:
                lat, lng = float(lat_text), float(lng_text)
                if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                    raise ValueError
            except ValueError:
                lat = lng = None
                errors.append(
                    RowError(
                        line,
                        f"{self.label('lat')}/{self.label('lng')}",
                        _("经纬度不正确：%(lat)s, %(lng)s。")
                        % {"lat": lat_text[:20], "lng": lng_text[:20]},
                    )
                )
        elif grid := get("grid", ""):
            area = self.grids.get(grid)
            if area is None:
                errors.append(
                    RowError(
                        line, self.label("grid"), _("本所没有这个网格：%(v)s。") % {"v": grid[:40]}
                    )
                )
        else:
            errors.append(RowError(line, self.label("lat"), _("缺少位置：须填写经纬度或网格。")))
        if errors or reported is None or category is None:
            return None, errors
        occurred = occurred or reported
        closed_key = "closed_at" if times["closed_at"] else steps[-1][0]
        closed = times[closed_key] if closed_key in times else steps[-1][1]
        folded = self.addresses.get(address)
        if folded is None:
            if len(self.addresses) > 200_000:
                self.addresses.clear()
            folded = self.addresses[address] = address_key(address)
        name, phone = get("caller_name", ""), get("caller_phone", "")
        if self.keep_callers:
            caller_name = encrypt(name) if name else ""
            caller_phone = encrypt(normalize_phone(phone)) if phone else ""
        else:
            caller_name = caller_phone = ""
        narrative = get("narrative", "")
        return [
            line,
            external_id,
            source,
            category[0],
            category[1],
            self.ts(reported, get("reported_at", "")),
            self.ts(occurred, get("occurred_at") or get("reported_at", "")),
            address,
            folded,
            lat,
            lng,
            area[0] if area else None,
            area[1] if area else None,
            narrative,
            caller_name,
            caller_phone,
            self.phone(phone) if phone else "",
            team,
            self.ts(times["dispatched_at"], get("dispatched_at", "")),
            self.ts(times["arrived_at"], get("arrived_at", "")),
            self.ts(closed, get(closed_key, "")),
            disposition,
            linkage,
            get("disposition_note", ""),
            disposition != Disposition.INVALID,
            fold_text(" ".join(p for p in (external_id, category[2], address, narrative) if p)),
            reported.year,
        ], []

    def locate(self, rows: list[list[Any]], errors: list[RowError]) -> list[list[Any]]:
        """Fill the grid of the rows with a point (one vectorised pass); drop those outside."""
        pointed = [r for r in rows if r[_AREA] is None]
        if not pointed:
            return rows
        found = self.index.locate_many([r[10] for r in pointed], [r[9] for r in pointed])
        where = f"{self.label('lat')}/{self.label('lng')}"
        outside: set[int] = set()
        for r, grid_id in zip(pointed, found.tolist(), strict=True):
            if grid_id < 0:
                errors.append(
                    RowError(
                        r[0],
                        where,
                        _("位置（%(lat).6f, %(lng).6f）不在本所辖区的任何网格内。")
                        % {"lat": r[9], "lng": r[10]},
                    )
                )
                outside.add(r[0])
            else:
                r[_AREA], r[_COMMUNITY] = grid_id, self.parents[grid_id]
        return [r for r in rows if r[0] not in outside] if outside else rows
