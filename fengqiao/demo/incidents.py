"""Two years of incidents (警情) for 雷锋派出所: about 6,000 a year, with a real station's shape.

Everything is planned in memory from one seeded generator and the day of the load, then written
in one bulk insert: the case numbers taken in date order from the station's counter (later
intakes continue the sequence), callers encrypted by the model's fields and matched by
`repeats.caller_index`, addresses folded by `repeats.address_key`, one audit entry per step of
each incident, then the rollups rebuilt and the repeat flags recomputed over the two years.

The patterns a tester can check, each measured by a test from the loaded rows:
- the old town centre, 雷锋社区 (like 万苑社区 in seed 001), takes a fifth of the incidents;
- nights (20:00–02:00) and weekends (Friday night, Saturday, Sunday) peak;
- 入室盗窃 halves year on year and 电信网络诈骗 falls by about a third (seed 002: −50%, −32%);
- a mix like a real station's: help requests, disputes and fights, e-bike thefts, traffic,
  gambling, noise, 5–10% invalid calls; mostly 110 dispatches, some walk-ins and patrol finds;
- three persistent hotspots (a KTV, a pedestrian street, an old resettlement compound) and
  one emerging in the last seven weeks (a night-food street);
- repeat addresses and callers (a family quarrel, a noise complaint, a shop, a prank caller);
- the seeds' own incidents; the 110 calls that became the demo's police_call disputes, linked.

A second run finds the demo's incidents by their intake key and adds nothing.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache, partial
from typing import Any

import shapely
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from shapely.geometry import shape

from fengqiao.accounts.models import Membership, User
from fengqiao.areas.geo import grid_index
from fengqiao.areas.models import Area, AreaKind, Place
from fengqiao.core.audit import audit_record, audit_records_bulk
from fengqiao.core.text import search_document, to_simplified
from fengqiao.demo import incident_texts as texts
from fengqiao.demo import names
from fengqiao.demo.disputes import KEY_PREFIX as DISPUTE_KEY_PREFIX
from fengqiao.demo.disputes import _numbers
from fengqiao.demo.plan import ACTOR, LEIFENG, SEED, grid_code
from fengqiao.disputes.models import Dispute, Party
from fengqiao.incidents.choices import Disposition, Linkage, Source, Status
from fengqiao.incidents.models import Incident, IncidentCategory, StationIncidentConfig
from fengqiao.incidents.repeats import address_key, caller_index, reflag
from fengqiao.incidents.rollups import rollup_rebuild, rollups_deferred

CASE_PREFIX = "JQ"  # as the log's services
KEY_PREFIX = "demo-"  # the intake key of every demo incident: a second run finds them
DAYS = 730
PER_YEAR = 6000
OLD_COMMUNITY = "雷锋社区"  # the old town centre: a fifth of the station's incidents
OLD_SHARE = 0.20
CONFIG = {"repeat_min": 3, "repeat_days": 30, "briefing_hour": 7, "briefing_minute": 0}
HOTSPOT_RESOLUTION = 9
STEPS_DAYS = 30  # incidents of the last 30 days have an audit entry per step

# Hour-of-day profiles (local time), by the kind of incident.
NIGHT = (2.2, 1.6, 0.9, 0.5, 0.3, 0.25, 0.3, 0.45, 0.6, 0.7, 0.75, 0.8,
         0.8, 0.75, 0.75, 0.8, 0.9, 1.0, 1.2, 1.5, 2.4, 2.8, 2.9, 2.6)  # fmt: skip
DAY = (0.15, 0.1, 0.08, 0.06, 0.06, 0.1, 0.3, 0.7, 1.4, 1.9, 2.0, 1.9,
       1.5, 1.5, 1.8, 1.9, 1.8, 1.6, 1.2, 0.9, 0.7, 0.5, 0.35, 0.25)  # fmt: skip
RUSH = (0.5, 0.3, 0.2, 0.15, 0.15, 0.3, 0.8, 2.0, 2.2, 1.3, 1.0, 1.1,
        1.2, 1.1, 1.0, 1.1, 1.4, 2.0, 2.1, 1.6, 1.4, 1.2, 1.0, 0.8)  # fmt: skip
EVENING = (0.9, 0.6, 0.35, 0.2, 0.2, 0.3, 0.5, 0.8, 1.0, 1.1, 1.1, 1.1,
           1.0, 1.0, 1.0, 1.1, 1.2, 1.3, 1.5, 1.7, 1.9, 1.9, 1.6, 1.2)  # fmt: skip
MORNING = (0.5, 0.4, 0.3, 0.3, 0.3, 0.5, 1.2, 2.0, 2.2, 1.8, 1.4, 1.1,
           1.0, 0.9, 0.9, 0.9, 1.0, 1.1, 1.2, 1.3, 1.3, 1.2, 1.0, 0.8)  # fmt: skip
HOURS = {"night": NIGHT, "day": DAY, "rush": RUSH, "evening": EVENING, "morning": MORNING}
# Day-of-week factors, Monday first: nights out fill Friday and the weekend.
WEEK = {
    "night": (0.9, 0.88, 0.9, 0.95, 1.2, 1.45, 1.3),
    "day": (1.02, 1.0, 1.0, 1.0, 1.0, 0.95, 0.9),
}
WEEK_OTHER = (0.95, 0.95, 0.95, 0.97, 1.08, 1.25, 1.2)
MONTH = {1: 0.95, 2: 0.9, 3: 0.95, 4: 1.0, 5: 1.02, 6: 1.08,
         7: 1.12, 8: 1.12, 9: 1.02, 10: 1.0, 11: 0.95, 12: 0.98}  # fmt: skip
SOURCES = {
    "call": {
        Source.DISPATCH_110: 80,
        Source.PHONE: 10,
        Source.WALK_IN: 6,
        Source.VOLUNTEER: 2,
        Source.VIDEO: 1,
        Source.PATROL: 1,
    },
    "desk": {Source.DISPATCH_110: 55, Source.WALK_IN: 35, Source.PHONE: 10},
    "found": {Source.DISPATCH_110: 40, Source.PATROL: 25, Source.VIDEO: 20, Source.VOLUNTEER: 15},
}
TEAMS = ("巡防一队", "巡防二队", "巡防三队", "流动服务车")


@dataclass(frozen=True)
class Mix:
    """One category's share of a year, its hours, where it is reported from, its trend."""

    code: str
    share: float  # per cent of the incidents of the year before last
    hours: str
    sources: str = "call"
    place: str = "home"  # "home", "street" or "shop": how its address reads
    ratio: float = 0.96  # last year's count over the year before's (incidents slowly fall)


MIX: tuple[Mix, ...] = (
    Mix("100101", 3.0, "morning", ratio=0.50),  # 入室盗窃 halves (seed 002: −50%)
    Mix("100102", 0.2, "morning", place="street"),
    Mix("100103", 3.5, "morning", place="street"),
    Mix("100104", 0.8, "day", place="street"),
    Mix("100199", 1.6, "day", place="shop"),
    Mix("100200", 0.15, "night", place="street"),
    Mix("100300", 0.2, "evening", place="street"),
    Mix("100401", 3.5, "day", "desk", ratio=0.68),  # 电信网络诈骗 −32% (seed 002)
    Mix("100499", 0.5, "day", "desk", place="street"),
    Mix("100500", 0.4, "night", place="street"),
    Mix("100600", 0.1, "day", "desk"),
    Mix("109900", 0.3, "night", place="street"),
    Mix("200100", 4.6, "night", place="street"),
    Mix("200200", 8.0, "night", place="shop"),
    Mix("200300", 0.8, "night", "found", place="shop"),
    Mix("200400", 0.3, "night", "found", place="shop"),
    Mix("200500", 1.0, "night", place="street"),
    Mix("200600", 1.2, "night"),
    Mix("200700", 1.4, "night", place="shop"),
    Mix("209900", 0.8, "night", place="street"),
    Mix("300100", 9.0, "rush", place="street"),
    Mix("300200", 1.3, "rush", "found", place="street"),
    Mix("300300", 1.0, "rush", "found", place="street"),
    Mix("309900", 0.4, "day", "found", place="street"),
    Mix("400100", 0.7, "evening"),
    Mix("400200", 0.8, "evening"),
    Mix("500100", 2.8, "evening", place="street"),
    Mix("500200", 6.0, "day", "desk", place="street"),
    Mix("500300", 4.0, "evening"),
    Mix("500400", 3.0, "morning"),
    Mix("500500", 1.0, "evening"),
    Mix("500600", 0.4, "night"),
    Mix("509900", 5.5, "night", place="street"),
    Mix("600100", 1.4, "day", "found", place="street"),
    Mix("600200", 1.8, "day", "desk", place="shop"),
    Mix("600300", 5.5, "night"),
    Mix("609900", 0.9, "day", place="street"),
    Mix("700100", 0.2, "day", "desk", place="street"),
    Mix("800200", 0.3, "day", place="shop"),
    Mix("900100", 1.4, "day", "found"),
    Mix("950100", 0.1, "day", "desk"),
    Mix("950200", 0.3, "day", "desk"),
    Mix("999900", 6.6, "night", place="street"),  # invalid calls: silent, misdialled, pranks
)
# 110 codes whose incident ends with a criminal case, an administrative case or elsewhere.
CRIMINAL_SHARE = {"100103": 0.55, "100199": 0.5, "100499": 0.6, "109900": 0.3}
ADMIN_SHARE = {
    "200100": 0.45,
    "200300": 0.8,
    "200400": 0.8,
    "200500": 0.4,
    "200600": 0.25,
    "200700": 0.3,
    "209900": 0.3,
    "900100": 0.3,
}
REFERRED: dict[str, tuple[float, str, str]] = {
    "300100": (0.45, Linkage.OTHER, "移交交警大队处理"),
    "400100": (1.0, Linkage.FIRE_119, "联动119扑救，无人员伤亡"),
    "400200": (0.6, Linkage.FIRE_119, "联动119救援，被困人员安全脱困"),
    "500400": (0.85, Linkage.MEDICAL_120, "联动120送医救治"),
    "500500": (1.0, Linkage.MUNICIPAL, "通知燃气、水电部门到场处置"),
    "500600": (0.4, Linkage.MEDICAL_120, "联动120送医，通知家属"),
    "509900": (0.2, Linkage.CIVIL_AFFAIRS, "移交救助站救助"),
    "600100": (1.0, Linkage.MUNICIPAL, "通知城管、市政部门处理"),
    "600200": (1.0, Linkage.LABOUR, "移交劳动保障监察大队处理"),
    "600300": (0.3, Linkage.MUNICIPAL, "告知城管部门依法处理"),
    "609900": (1.0, Linkage.OTHER, "移交相关部门处理"),
    "800200": (1.0, Linkage.OTHER, "移交应急管理部门处理"),
}
ON_SPOT_NOTES: dict[str, tuple[str, ...]] = {
    "100": ("经查未达立案标准，现场处置并开展防范宣传",),
    "200": ("现场调解，双方达成谅解", "现场批评教育，当事人表示不再发生", "现场劝离，恢复秩序"),
    "300": ("现场指导双方快处快赔", "现场疏导交通，恢复通行"),
    "500": ("现场救助完毕，已交亲属", "民警现场协助处置完毕", "帮助找回，已交还当事人"),
    "600": ("现场劝导，当事人停止扰民", "现场协调处理完毕"),
    "": ("现场处置完毕",),
}


@dataclass(frozen=True)
class Spot:
    """A fixed place incidents cluster at: a hotspot, a repeat address, a seed's scene."""

    name: str
    address: str
    lat: float
    lng: float
    spread_m: float = 35.0  # the standard deviation of the incidents around it


@dataclass(frozen=True)
class Hotspot:
    """A cluster of incidents at one spot, at a daily rate, with its own category mix."""

    key: str
    codes: dict[str, float]
    per_day: float
    hours: str
    last_days: int | None = None  # only in the last so many days: an emerging hotspot
    skip_days: int = 0  # ... and not in the most recent so many of them


HOTSPOTS: tuple[Hotspot, ...] = (
    Hotspot(
        "ktv",
        {"200100": 40, "200200": 30, "200700": 10, "600300": 10, "100500": 5, "500200": 5},
        0.75,
        "night",
    ),
    Hotspot(
        "street",
        {"100104": 25, "100103": 25, "500200": 20, "200200": 20, "100199": 10},
        0.7,
        "evening",
    ),
    Hotspot(
        "compound",
        {"200200": 25, "100103": 25, "600300": 20, "200600": 10, "509900": 15, "500100": 5},
        0.7,
        "night",
    ),
    # Opened six weeks ago, busy for the last four: the hotspot map calls it new.
    Hotspot(
        "food_street",
        {"200100": 35, "200200": 30, "600300": 25, "300300": 10},
        1.0,
        "night",
        last_days=28,
    ),
    Hotspot(
        "food_street",
        {"200100": 35, "200200": 30, "600300": 25, "300300": 10},
        0.2,
        "night",
        last_days=42,
        skip_days=28,
    ),
)


@dataclass
class Plan:
    """One incident before it is written."""

    key: str
    code: str
    at: datetime  # reported
    source: str
    hours: str = "night"
    place: str = "home"
    narrative: str = ""
    spot: Spot | None = None
    grid_id: int | None = None  # where a generic incident falls, before its point is drawn
    community_id: int | None = None
    address: str = ""
    lat: float = 0.0
    lng: float = 0.0
    caller_name: str = ""
    caller_phone: str = ""
    occurred: datetime | None = None
    status: str = Status.CLOSED
    disposition: str = ""
    linkage: str = ""
    note: str = ""
    dispute: Dispute | None = None
    officer: User | None = None
    team: str = ""
    dispatched: datetime | None = None
    arrived: datetime | None = None
    closed: datetime | None = None
    fixed: bool = False  # the seeds' and repeats' incidents: their story is written by hand
    row: Incident | None = field(default=None, repr=False)


def _local(day: date, hour: float) -> datetime:
    """Return the aware moment `hour` hours into the local day."""
    return timezone.make_aware(datetime.combine(day, time.min)) + timedelta(hours=hour)


def year_bounds(today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """Return the year before last and the last year as (first, last) local days."""
    last = (today - timedelta(days=365), today - timedelta(days=1))
    before = (today - timedelta(days=DAYS), today - timedelta(days=366))
    return before, last


def recent(today: date, month: int, day: int) -> date:
    """Return the latest date with this month and day at least two days before today."""
    d = date(today.year, month, day)
    return d if d <= today - timedelta(days=2) else date(today.year - 1, month, day)


_RUN = re.compile(r"\d+")
# Where a digit run could join its neighbours into one word: jieba's few dictionary words with
# digits (1号店, 4S店) and its runs of letters, digits, "." and "%".
_JOINED = re.compile(r"[A-Za-z.%]\d|\d[A-Za-z.%]|号店")


@lru_cache(maxsize=16384)
def _document_part(part: str) -> tuple[str, frozenset[str]]:
    text, _sep, words = search_document(part).partition(" | ")
    return text, frozenset(w for w in words.split(" ") if w)


def _document(part: str) -> tuple[str, frozenset[str]]:
    """Return the simplified text and the words of one part, as `search_document` finds them.

    jieba never joins a digit to a Chinese character (no dictionary word holds both, bar the
    few `_JOINED` guards against), so a part's words are those of its shape with every digit
    run as "0", with the runs themselves in place of "0": one segmentation per address shape.
    """
    if not _RUN.search(part) or _JOINED.search(part):
        return _document_part(part)
    _text, words = _document_part(_RUN.sub("0", part))
    return to_simplified(part), (words - {"0"}) | frozenset(_RUN.findall(part))


def search_text(*parts: str) -> str:
    """Return `core.text.search_document(*parts)`, each distinct part shape segmented once.

    jieba cuts each run of characters between spaces on its own, so the words of the whole
    are the union of the words of its space-separated parts; a test checks the equality on
    the loaded rows. Narratives and category names repeat, and addresses share a few shapes.
    """
    texts_: list[str] = []
    words: set[str] = set()
    for part in parts:
        if not part:
            continue
        text, got = _document(part)
        if text:
            texts_.append(text)
        words |= got
    return " ".join(texts_) + " | " + " ".join(sorted(words))


class IncidentGround:
    """The station as the plan needs it: communities, grids, shapes, staff, places, codes."""

    def __init__(self, station: Area) -> None:
        self.station = station
        areas = list(Area.objects.filter(station=station).order_by("code"))
        self.by_code = {a.code: a for a in areas}
        self.communities = [a for a in areas if a.kind in (AreaKind.COMMUNITY, AreaKind.VILLAGE)]
        self.grids = [a for a in areas if a.kind == AreaKind.GRID]
        self.grids_of: dict[int, list[Area]] = defaultdict(list)
        for g in self.grids:
            self.grids_of[g.parent_id or 0].append(g)
        self.shapes = {g.pk: shape(g.boundary) for g in self.grids if g.boundary}
        self.inner: dict[int, Any] = {}
        self.community_of = {g.pk: g.parent_id for g in self.grids}
        self.villages = {c.pk for c in self.communities if c.kind == AreaKind.VILLAGE}
        self.categories = {c.code: c for c in IncidentCategory.objects.all()}
        self.places = {p.name: p for p in Place.objects.filter(station=station)}
        self.officers: dict[int, list[User]] = defaultdict(list)  # community id -> officers
        self.desk: list[User] = []  # the station's own officers: the command room and duty
        for m in (
            Membership.objects.filter(area__in=[station, *self.communities], role="officer")
            .select_related("user")
            .order_by("user__username")
        ):
            if m.area_id == station.pk:
                self.desk.append(m.user)
            else:
                self.officers[m.area_id].append(m.user)

    def community(self, name: str) -> Area | None:
        return next((c for c in self.communities if c.name == name), None)

    def grid(self, community_name: str, index: int) -> Area | None:
        ci = next((i for i, c in enumerate(LEIFENG.communities) if c.name == community_name), -1)
        if ci < 0:
            return None
        return self.by_code.get(grid_code(LEIFENG, ci, index))

    def point_in(self, grid: Area, rng: random.Random) -> tuple[float, float]:
        """Return (lat, lng) drawn uniformly inside the grid, a few metres from its edge."""
        poly = self.inner.get(grid.pk)
        if poly is None:
            whole = self.shapes[grid.pk]
            poly = whole.buffer(-5e-5)
            if poly.is_empty:
                poly = whole
            shapely.prepare(poly)
            self.inner[grid.pk] = poly
        minx, miny, maxx, maxy = poly.bounds
        for _i in range(200):
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(poly, x, y):
                return round(y, 6), round(x, 6)
        point = poly.representative_point()
        return round(point.y, 6), round(point.x, 6)

    def spot(self, name: str, place: str, community: str, grid: int, address: str) -> Spot:
        """Return a spot at a demo place when there is one, else inside the named grid."""
        p = self.places.get(place)
        if p is not None and p.lat is not None and p.lng is not None:
            return Spot(name, address or p.address, p.lat, p.lng)
        area = self.grid(community, grid) or self.grids[0]
        point = self.shapes[area.pk].representative_point()
        return Spot(name, address, round(point.y, 6), round(point.x, 6))


def spots(ground: IncidentGround) -> dict[str, Spot]:
    """Return the fixed places of the demo's incidents: hotspots, repeat addresses, seeds."""
    prefix = LEIFENG.address_prefix
    return {
        "ktv": ground.spot("麦乐迪KTV", "麦乐迪KTV（学士路店）", OLD_COMMUNITY, 0, ""),
        "street": ground.spot("学士路步行街", "", OLD_COMMUNITY, 2, f"{prefix}学士路步行街"),
        "compound": ground.spot("尖山安置小区", "", "尖山社区", 4, f"{prefix}尖山路尖山安置小区"),
        "food_street": ground.spot(
            "岳华路夜宵街", "雅居酒吧", "和润园社区", 7, f"{prefix}岳华路夜宵一条街"
        ),
        "family": ground.spot("黄桥村7组", "", "黄桥村", 2, f"{prefix}黄桥村7组21号"),
        "noise": ground.spot(
            "鸿星小区", "", "鸿星社区", 3, f"{prefix}鸿星路56号鸿星小区3栋1单元402"
        ),
        "shop": ground.spot("步步高超市", "步步高超市（谷苑路店）", "鸿星社区", 0, ""),
        "xinhua": ground.spot("新华巷", "", OLD_COMMUNITY, 4, f"{prefix}新华巷"),
        "bus": ground.spot("学士路公交首末站", "学士路公交首末站", OLD_COMMUNITY, 5, ""),
        "den": ground.spot("碧桂园公馆", "碧桂园公馆", "尖山社区", 1, ""),
        "gambling": ground.spot("黄桥村12组", "", "黄桥村", 4, f"{prefix}黄桥村12组8号"),
        "rental": ground.spot("学士佳园", "学士佳园", "鸿星社区", 1, ""),
        "science_park": ground.spot("科技园", "", "鸿星社区", 0, f"{prefix}望雷大道科技园3号厂房"),
    }


MIX_OF = {m.code: m for m in MIX}
VARY: dict[str, Callable[[str, random.Random], str]] = {
    "street": lambda a, r: f"{a}{r.randint(1, 88)}号",
    "compound": lambda a, r: (
        f"{a}{r.randint(1, 24)}栋{r.randint(1, 3)}单元{r.randint(1, 6)}0{r.randint(1, 4)}"
    ),
    "food_street": lambda a, r: f"{a}{r.randint(1, 99)}号",
}
SHOP_KINDS = ("便利店", "餐馆", "棋牌室", "烧烤店", "超市", "足浴店", "网吧", "五金店")


class Planner:
    """Plans every incident of the two years: when, what, where, who called, how it ended."""

    def __init__(self, ground: IncidentGround, seed: int, per_year: int, now: datetime) -> None:
        self.rng = random.Random(f"{seed}-incidents")
        self.ground = ground
        self.now = now
        self.today = timezone.localdate(now)
        self.start = self.today - timedelta(days=DAYS)
        self.scale = per_year / PER_YEAR
        self.per_year = per_year
        self.spots = spots(ground)
        self.plans: list[Plan] = []
        # Some grids are busier than others; two far villages' last grids are nearly quiet.
        rng = random.Random(f"{seed}-incident-grids")
        self.grid_weight = {g.pk: rng.uniform(0.5, 1.5) for g in ground.grids}
        for name in ("北塘村", "真人桥村"):
            c = ground.community(name)
            if c is not None and ground.grids_of[c.pk]:
                self.grid_weight[ground.grids_of[c.pk][-1].pk] = 0.08

    # -- time --

    def _days(self, first: date, last: date) -> list[date]:
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def _day_weights(self, days: list[date], hours: str, ratio: float = 1.0) -> list[float]:
        week = WEEK.get(hours, WEEK_OTHER)
        return [
            MONTH[d.month] * week[d.weekday()] * ratio ** ((d - self.start).days / 365)
            for d in days
        ]

    def _moment(self, day: date, hours: str) -> datetime:
        weights = list(HOURS[hours])
        if hours in ("night", "evening"):
            wd = day.weekday()
            for h in range(24):
                if wd == 4 and h >= 20:  # Friday night
                    weights[h] *= 1.35
                elif wd == 5 and (h < 2 or h >= 20):
                    weights[h] *= 1.3
                elif wd == 6 and h < 2:
                    weights[h] *= 1.2
        hour = self.rng.choices(range(24), weights=weights)[0]
        return _local(day, hour + self.rng.random())

    # -- people and words --

    def _caller(self, p: Plan) -> None:
        if p.source in (Source.VIDEO, Source.PATROL) or p.caller_phone:
            return
        p.caller_name = names.person(self.rng)
        p.caller_phone = names.mobile(self.rng)

    def _narrative(self, code: str) -> str:
        rng = self.rng
        item = rng.choice(texts.VEHICLES if code == "100103" else texts.ITEMS)
        words = {"item": item, "n": str(rng.randint(3, 9)), "age": str(rng.randint(6, 86))}
        return rng.choice(texts.NARRATIVES[code]).format(**words)

    def _address(self, community: Area, place: str) -> str:
        rng = self.rng
        plan = next((c for c in LEIFENG.communities if c.name == community.name), None)
        street = rng.choice(plan.streets if plan else ("雷锋大道",))
        prefix = LEIFENG.address_prefix
        if place == "home" and community.kind == AreaKind.VILLAGE:
            return f"{prefix}{community.name}{rng.randint(1, 16)}组{rng.randint(1, 60)}号"
        if place == "home":
            return (
                f"{prefix}{street}{rng.randint(1, 520)}号{rng.randint(1, 18)}栋"
                f"{rng.randint(1, 4)}单元{rng.randint(1, 28)}0{rng.randint(1, 4)}"
            )
        if place == "shop":
            word, kind = rng.choice(names.SHOP_WORDS), rng.choice(SHOP_KINDS)
            return f"{prefix}{street}{rng.randint(1, 520)}号{word}{kind}"
        return f"{prefix}{street}{rng.randint(1, 520)}号附近"

    # -- the plan --

    def plan(self) -> list[Plan]:
        self._plan_generic()
        self._plan_hotspots()
        self._plan_repeats()
        self._plan_seeds()
        self._plan_linked()
        self.plans.sort(key=lambda p: (p.at, p.key))
        self._place()
        for p in self.plans:
            self._process(p)
        self._leave_open()
        return self.plans

    def _plan_generic(self) -> None:
        """The bulk: each category's exact count in each year, spread over days and hours."""
        rng = self.rng
        before, last = year_bounds(self.today)
        base = 0.82 * self.per_year  # the hotspots and the disputes' calls make up the rest
        total = sum(m.share for m in MIX)
        n = 0
        for m in MIX:
            first_year = round(base * m.share / total)
            counts = ((before, first_year), (last, round(first_year * m.ratio)))
            for (first, end), count in counts:
                days = self._days(first, end)
                weights = self._day_weights(days, m.hours, m.ratio)
                for day in rng.choices(days, weights=weights, k=count):
                    n += 1
                    source = self._source(m.code)
                    self.plans.append(
                        Plan(
                            key=f"g{n:06d}",
                            code=m.code,
                            at=self._moment(day, m.hours),
                            source=source,
                            hours=m.hours,
                            place=m.place,
                            narrative=self._narrative(m.code),
                        )
                    )

    def _source(self, code: str) -> str:
        weights = SOURCES[MIX_OF[code].sources if code in MIX_OF else "call"]
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _plan_hotspots(self) -> None:
        """Each hotspot's incidents, week by week at its steady rate.

        A steady weekly count (the days within the week drawn at random) keeps a hotspot hot
        in every four-week window the map looks at, whatever the day the demo is loaded.
        """
        rng = self.rng
        yesterday = self.today - timedelta(days=1)
        for n, h in enumerate(HOTSPOTS):
            first = yesterday - timedelta(days=h.last_days - 1) if h.last_days else self.start
            days = self._days(first, yesterday - timedelta(days=h.skip_days))
            rate = h.per_day * (self.scale if not h.last_days else 1.0)
            picked: list[date] = []
            for end in range(len(days), 0, -7):  # whole weeks back from the last day
                week = days[max(0, end - 7) : end]
                weights = self._day_weights(week, h.hours)
                picked.extend(rng.choices(week, weights=weights, k=round(rate * len(week))))
            codes = list(h.codes)
            spot = self.spots[h.key]
            vary = VARY.get(h.key)
            for k, day in enumerate(sorted(picked)):
                code = rng.choices(codes, weights=list(h.codes.values()))[0]
                self.plans.append(
                    Plan(
                        key=f"h{n + 1}-{h.key}-{k + 1:04d}",
                        code=code,
                        at=self._moment(day, h.hours),
                        source=self._source(code),
                        hours=h.hours,
                        narrative=self._narrative(code),
                        spot=spot,
                        address=vary(spot.address, rng) if vary else spot.address,
                    )
                )

    def _fixed(self, key: str, code: str, at: datetime, source: str, **kw: Any) -> Plan:
        p = Plan(key=key, code=code, at=at, source=source, fixed=True, **kw)
        if not p.address and p.spot is not None:
            p.address = p.spot.address
        self.plans.append(p)
        return p

    def _ago(self, days: int, low: float, high: float) -> datetime:
        return _local(self.today - timedelta(days=days), self.rng.uniform(low, high))

    def _plan_repeats(self) -> None:
        """A family that quarrels, a neighbour's noise, a shop's thieves, a prank caller."""
        rng, s = self.rng, self.spots
        wife, wife_phone = names.person(rng), names.mobile(rng)
        for k, days in enumerate((171, 150, 128, 96, 61, 40, 24, 13, 5)):
            code = "200600" if k % 3 == 1 else "200200"
            self._fixed(
                f"r-family-{k + 1:02d}",
                code,
                self._ago(days, 20.5, 23.8),
                Source.DISPATCH_110,
                narrative=texts.FAMILY[k % len(texts.FAMILY)],
                spot=s["family"],
                caller_name=wife,
                caller_phone=wife_phone,
                disposition=Disposition.ADMIN_CASE if k == 7 else Disposition.ON_SPOT,
                note="对其丈夫出具家庭暴力告诫书" if k == 7 else "现场调解，双方情绪平复",
            )
        neighbour, neighbour_phone = names.person(rng), names.mobile(rng)
        for k, days in enumerate((118, 104, 90, 77, 63, 50, 44, 36, 29, 21, 15, 9, 4, 2)):
            self._fixed(
                f"r-noise-{k + 1:02d}",
                "600300",
                self._ago(days, 22.0, 23.9),
                Source.DISPATCH_110,
                narrative=texts.NOISE[k % len(texts.NOISE)],
                spot=s["noise"],
                caller_name=neighbour,
                caller_phone=neighbour_phone,
                disposition=Disposition.ON_SPOT,
                note="上门劝导楼上住户，已停止扰民；建议社区调解",
            )
        guard = names.person(rng)
        landline = f"0731-8{rng.randint(0, 9_999_999):07d}"
        for k, days in enumerate((300, 262, 221, 183, 150, 122, 95, 70, 52, 33, 26, 17, 8)):
            self._fixed(
                f"r-shop-{k + 1:02d}",
                "100199",
                self._ago(days, 10.0, 21.0),
                Source.DISPATCH_110,
                narrative=texts.SHOP[k % len(texts.SHOP)],
                spot=s["shop"],
                caller_name=guard,
                caller_phone=landline,
                disposition=Disposition.ADMIN_CASE,
                note="盗窃数额较小，依法给予行政处罚",
            )
        baima = self.ground.community("白马村")
        prank = names.mobile(rng)
        for k, days in enumerate((58, 41, 27, 19, 11, 6, 3)):
            grid = rng.choice(self.ground.grids_of[baima.pk]) if baima else None
            p = self._fixed(
                f"r-prank-{k + 1:02d}",
                "999900",
                self._ago(days, 0.2, 2.9),
                Source.DISPATCH_110,
                narrative=texts.PRANK[k % len(texts.PRANK)],
                caller_name="",
                caller_phone=prank,
                disposition=Disposition.INVALID,
                note="回拨核实，无警情；对报警人进行教育",
            )
            if grid is not None:
                p.grid_id, p.place = grid.pk, "street"

    def _plan_seeds(self) -> None:
        """The seeds' own incidents (000, 001, 002), at their days of the last year."""
        rng, s, t = self.rng, self.spots, self.today
        found = recent(t, 8, 22)
        for k, back in enumerate((47, 21)):
            self._fixed(
                f"seed-granny-{k + 1}",
                "500100",
                _local(found - timedelta(days=back), 19.5 + k * 0.6),
                Source.PATROL,
                narrative=texts.SEED_GRANNY_AWAY.format(addr="尖山路"),
                spot=s["compound"],
                disposition=Disposition.ON_SPOT,
                note="将老人送回家中，交其儿媳",
            )
        self._fixed(
            "seed-granny",
            "500100",
            _local(found, 6.0),
            Source.PATROL,
            narrative=texts.SEED_GRANNY,
            spot=s["compound"],
            occurred=_local(found - timedelta(days=1), 7.0),
            disposition=Disposition.ON_SPOT,
            note="民警帮老人洗漱、吃早餐后轮流背送回家，交其儿媳",
            closed=_local(found, 8.6),
        )
        self._fixed(
            "seed-collapse",
            "500400",
            _local(recent(t, 2, 20), 9.7),
            Source.DISPATCH_110,
            narrative=texts.SEED_COLLAPSE,
            spot=s["xinhua"],
            disposition=Disposition.REFERRED,
            linkage=Linkage.MEDICAL_120,
            note="联动120开通绿色通道送医抢救，联系家属赶赴医院，老人脱离危险",
        )
        self._fixed(
            "seed-ebike",
            "100103",
            _local(recent(t, 4, 6), 19.0),
            Source.PATROL,
            narrative=texts.SEED_EBIKE,
            spot=s["street"],
            caller_name=names.person(rng),
            caller_phone=names.mobile(rng),
            disposition=Disposition.ON_SPOT,
            note="查看监控找到电动车，交还车主",
        )
        student = "陈" + rng.choice(names.GIVEN_ONE)
        self._fixed(
            "seed-books",
            "500200",
            _local(recent(t, 10, 10), 15.3),
            Source.DISPATCH_110,
            narrative=texts.SEED_BOOKS.format(a=student),
            spot=s["bus"],
            caller_name=student,
            caller_phone=names.mobile(rng),
            disposition=Disposition.ON_SPOT,
            note="在废品收购站找回教材、书本，交还报警人",
        )
        self._fixed(
            "seed-fraud-den",
            "100401",
            _local(recent(t, 9, 5), 23.4),
            Source.WALK_IN,
            narrative=texts.SEED_FRAUD.format(addr=s["den"].name),
            spot=s["den"],
            caller_name=names.person(rng),
            caller_phone=names.mobile(rng),
            occurred=_local(recent(t, 9, 5) - timedelta(days=3), 12.0),
            disposition=Disposition.CRIMINAL_CASE,
            note="捣毁诈骗窝点，查获手机近百部，相关嫌疑人依法拘留，报警人女儿安全",
        )
        self._fixed(
            "seed-gambling",
            "200300",
            _local(recent(t, 3, 7), 21.0),
            Source.VOLUNTEER,
            narrative=texts.SEED_GAMBLING,
            spot=s["gambling"],
            caller_name=names.person(rng),
            caller_phone=names.mobile(rng),
            disposition=Disposition.CRIMINAL_CASE,
            note="6名主要经营人员刑事拘留，15名参赌人员治安拘留",
        )
        self._fixed(
            "seed-pyramid",
            "900100",
            _local(recent(t, 8, 27), 20.5),
            Source.VOLUNTEER,
            narrative=texts.SEED_PYRAMID.format(addr=s["rental"].name),
            spot=s["rental"],
            caller_name=names.person(rng),
            caller_phone=names.mobile(rng),
            disposition=Disposition.ADMIN_CASE,
            note="联合市场监管部门依法处置传销组织",
        )

    def _plan_linked(self) -> None:
        """The 110 calls behind the demo's police_call disputes, each converted and linked."""
        rng = self.rng
        station = self.ground.station
        disputes = list(
            Dispute.objects.filter(
                station=station,
                source="police_call",
                intake_key__startswith=DISPUTE_KEY_PREFIX,
                reported_at__gte=_local(self.start, 2),
                reported_at__lt=_local(self.today, 0),
            )
            .select_related("type", "area")
            .order_by("reported_at", "pk")
        )
        parties: dict[int, list[Party]] = defaultdict(list)
        for party in Party.objects.filter(dispute__in=disputes, kind="person").order_by("pk"):
            parties[party.dispute_id].append(party)
        for d in disputes:
            ps = parties.get(d.pk, [])
            caller = next((p for p in ps if p.role == "applicant"), ps[0] if ps else None)
            code = _code_for_dispute(d.type.code, d.violence)
            narrative = d.narrative
            if d.intake_key == f"{DISPUTE_KEY_PREFIX}seed-fight":
                other = next((p for p in ps if p is not caller), caller)
                code = "200100"
                narrative = texts.SEED_FIGHT.format(
                    a=caller.name if caller else "张某", b=other.name if other else "胡某某"
                )
            at = d.reported_at - timedelta(minutes=rng.uniform(20, 80))
            if d.lat is not None and d.lng is not None:
                spot = Spot(d.address, d.address, d.lat, d.lng, spread_m=0.0)
            else:
                lat, lng = self.ground.point_in(d.area, rng)
                spot = Spot(d.address, d.address, lat, lng, spread_m=0.0)
            self._fixed(
                f"d-{d.intake_key.removeprefix(DISPUTE_KEY_PREFIX)}",
                code,
                at,
                Source.DISPATCH_110,
                narrative=narrative,
                spot=spot,
                address=d.address,
                caller_name=caller.name if caller else "",
                caller_phone=caller.phone if caller else "",
                occurred=min(d.occurred_at, at - timedelta(minutes=5)),
                disposition=Disposition.DISPUTE,
                note=f"现场初步调解，当事人同意由调解组织调解，转为矛盾纠纷（{d.case_number}）",
                dispute=d,
                closed=d.reported_at,
            )

    # -- where --

    def _jitter(self, spot: Spot) -> tuple[float, float]:
        if spot.spread_m <= 0:
            return spot.lat, spot.lng
        rng = self.rng
        dy = max(-2.5, min(2.5, rng.gauss(0, 1))) * spot.spread_m
        dx = max(-2.5, min(2.5, rng.gauss(0, 1))) * spot.spread_m
        lat = spot.lat + dy / 111_000
        lng = spot.lng + dx / (111_320 * math.cos(math.radians(spot.lat)))
        return round(lat, 6), round(lng, 6)

    def _place(self) -> None:
        """Put every incident on the map: spots first, then the rest by community quotas.

        The quotas give the old town centre exactly its share of the whole, whatever the
        spots already put there; the other communities share the rest by population.
        """
        g, rng = self.ground, self.rng
        grids = {a.pk: a for a in g.grids}
        index = grid_index(g.station.pk)
        placed = [p for p in self.plans if p.spot is not None or p.grid_id is not None]
        for p in placed:
            if p.spot is not None:
                p.lat, p.lng = self._jitter(p.spot)
            else:
                p.lat, p.lng = g.point_in(grids[p.grid_id or 0], rng)
        located = index.locate_many([p.lng for p in placed], [p.lat for p in placed]).tolist()
        for p, grid_id in zip(placed, located, strict=True):
            if grid_id < 0 and p.spot is not None:  # jittered over the station's edge
                p.lat, p.lng = p.spot.lat, p.spot.lng
                grid_id = int(index.locate_many([p.lng], [p.lat])[0])
            if grid_id < 0:
                grid = rng.choice(g.grids)
                p.lat, p.lng = g.point_in(grid, rng)
                grid_id = grid.pk
            p.grid_id, p.community_id = grid_id, g.community_of[grid_id]
            if not p.address:
                community = next(c for c in g.communities if c.pk == p.community_id)
                p.address = self._address(community, p.place)
        old = g.community(OLD_COMMUNITY)
        generic = [p for p in self.plans if p.grid_id is None]
        others = [c for c in g.communities if old is None or c.pk != old.pk]
        want_old = 0
        if old is not None:
            fixed_old = sum(1 for p in placed if p.community_id == old.pk)
            want_old = max(0, min(len(generic), round(OLD_SHARE * len(self.plans)) - fixed_old))
        zone = {"built": 1.2, "transitional": 1.0, "undeveloped": 0.75}
        weights = [(c.population or 1) * zone.get(c.zone, 1.0) for c in others]
        labels = [old.pk] * want_old if old is not None else []
        for c, share in zip(others, _shares(len(generic) - want_old, weights), strict=True):
            labels.extend([c.pk] * share)
        rng.shuffle(labels)
        by_pk = {c.pk: c for c in g.communities}
        for p, cid in zip(generic, labels, strict=True):
            options = g.grids_of[cid]
            grid = rng.choices(options, weights=[self.grid_weight[x.pk] for x in options])[0]
            p.lat, p.lng = g.point_in(grid, rng)
            p.grid_id, p.community_id = grid.pk, cid
            p.address = self._address(by_pk[cid], p.place)

    # -- what happened --

    def _outcome(self, code: str) -> tuple[str, str, str]:
        rng = self.rng
        if code == "999900":
            return Disposition.INVALID, "", "回拨核实，无警情"
        if code in REFERRED:
            share, linkage, note = REFERRED[code]
            if rng.random() < share:
                return Disposition.REFERRED, linkage, note
        criminal = CRIMINAL_SHARE.get(code, 0.65 if code.startswith("1") else 0.0)
        if rng.random() < criminal:
            return Disposition.CRIMINAL_CASE, "", "已受案，移交办案队侦查"
        if rng.random() < ADMIN_SHARE.get(code, 0.0):
            return Disposition.ADMIN_CASE, "", "依法受理为行政案件"
        notes = ON_SPOT_NOTES.get(code[0] + "00", ON_SPOT_NOTES[""])
        return Disposition.ON_SPOT, "", rng.choice(notes)

    def _process(self, p: Plan) -> None:
        """Caller, time occurred, dispatch, arrival and closing, as a command room logs them."""
        rng, g = self.rng, self.ground
        minute = timedelta(minutes=1)
        self._caller(p)
        if not p.disposition:
            p.disposition, p.linkage, p.note = self._outcome(p.code)
        if p.occurred is None:
            if p.code in ("100101", "100102", "100103", "100199"):
                lag = timedelta(hours=rng.uniform(0.5, 10))
            elif p.code in ("100401", "100499", "100600", "600200"):
                lag = timedelta(hours=rng.uniform(1, 96))
            else:
                lag = timedelta(minutes=rng.uniform(2, 25))
            p.occurred = p.at - lag
        officers = g.officers.get(p.community_id or 0) or g.desk
        desk = g.desk or officers
        if p.source == Source.WALK_IN:
            p.officer = rng.choice(desk) if desk else None
            p.closed = p.closed or p.at + timedelta(minutes=rng.uniform(20, 90))
            return
        invalid = p.disposition == Disposition.INVALID and p.source != Source.PATROL
        if invalid and rng.random() < 0.6:  # a call back settles it: nobody is sent
            p.closed = p.at + timedelta(minutes=rng.uniform(2, 8))
            return
        if p.source == Source.PATROL:
            p.dispatched, p.arrived = p.at, p.at + minute
        elif p.source == Source.VIDEO:
            p.dispatched = p.at + timedelta(minutes=rng.uniform(1, 4))
            p.arrived = p.dispatched + timedelta(minutes=rng.uniform(4, 12))
        else:
            wait = min(12.0, rng.lognormvariate(math.log(2.0), 0.6))
            p.dispatched = p.at + timedelta(minutes=wait)
            far = 4.0 if g.community_of.get(p.grid_id or 0) in g.villages else 0.0
            p.arrived = p.dispatched + timedelta(minutes=rng.uniform(5, 20) + far)
        if rng.random() < 0.3 or not officers:
            p.team = rng.choice(TEAMS)
        else:
            p.officer = rng.choice(officers if rng.random() < 0.6 else desk)
        if p.closed is None:
            if p.disposition in (Disposition.CRIMINAL_CASE, Disposition.ADMIN_CASE):
                span = rng.uniform(60, 240)
            elif p.disposition == Disposition.REFERRED:
                span = rng.uniform(20, 90)
            else:
                span = rng.uniform(10, 75)
            p.closed = p.arrived + timedelta(minutes=span)
        elif p.arrived is not None and p.dispatched is not None and p.arrived >= p.closed:
            # A call closed early (a dispute taken over within the hour): squeeze the steps.
            gap = p.closed - p.at
            p.dispatched, p.arrived = p.at + gap * 0.15, p.at + gap * 0.6

    def _leave_open(self) -> None:
        """Yesterday's last calls are still being worked; nothing happens after now."""
        yesterday = self.today - timedelta(days=1)
        late = [
            p
            for p in self.plans
            if not p.fixed
            and p.source in (Source.DISPATCH_110, Source.PHONE)
            and p.disposition != Disposition.INVALID
            and timezone.localdate(p.at) == yesterday
        ]
        late.sort(key=lambda p: p.at, reverse=True)
        states: tuple[Status, ...] = (Status.RECEIVED, Status.RECEIVED, Status.DISPATCHED)
        states += (Status.DISPATCHED, Status.ON_SCENE, Status.ON_SCENE)
        for p, state in zip(late, states, strict=False):
            _open(p, state)
        for p in self.plans:
            if p.closed is not None and p.closed > self.now:
                if p.arrived is not None and p.arrived <= self.now:
                    _open(p, Status.ON_SCENE)
                elif p.dispatched is not None and p.dispatched <= self.now:
                    _open(p, Status.DISPATCHED)
                else:
                    _open(p, Status.RECEIVED)


def _open(p: Plan, state: str) -> None:
    """Take the incident back to an open state: later steps and the outcome are undone."""
    p.status = state
    p.closed = None
    p.disposition = p.linkage = p.note = ""
    if state in (Status.RECEIVED, Status.DISPATCHED):
        p.arrived = None
    if state == Status.RECEIVED:
        p.dispatched, p.officer, p.team = None, None, ""


def _shares(total: int, weights: list[float]) -> list[int]:
    """Split `total` into whole parts in proportion to the weights, summing exactly."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _code_for_dispute(type_code: str, violence: bool) -> str:
    """The 110 code a call about such a dispute is logged under."""
    if type_code.startswith("0503"):
        return "300100"
    if type_code.startswith("03"):
        return "200100"
    if type_code.startswith("07"):
        return "600200"
    if type_code.startswith("01") and violence:
        return "200600"
    return "200200"


# --- writing ---


def _row(
    p: Plan, ground: IncidentGround, number: str, external_id: str, clerk: User | None
) -> Incident:
    category = ground.categories[p.code]
    assert p.community_id is not None and p.grid_id is not None  # every plan is placed by now
    return Incident(
        station=ground.station,
        community_id=p.community_id,
        area_id=p.grid_id,
        case_number=number,
        external_id=external_id,
        source=p.source,
        category=category,
        class_code=category.class_code,
        reported_at=p.at,
        occurred_at=p.occurred or p.at,
        address=p.address,
        address_key=address_key(p.address),
        lat=p.lat,
        lng=p.lng,
        narrative=p.narrative,
        caller_name=p.caller_name,
        caller_phone=p.caller_phone,
        caller_bidx=caller_index(p.caller_phone),
        status=p.status,
        officer=p.officer,
        team=p.team,
        dispatched_at=p.dispatched,
        arrived_at=p.arrived,
        closed_at=p.closed,
        disposition=p.disposition,
        linkage=p.linkage,
        disposition_note=p.note,
        valid=p.disposition != Disposition.INVALID,
        dispute=p.dispute,
        intake_key=f"{KEY_PREFIX}{p.key}",
        search_text=search_text(number, external_id, category.name, p.address, p.narrative),
        created_by=clerk,
        updated_by=clerk,
    )


def _write(plans: list[Plan], ground: IncidentGround) -> list[Incident]:
    """Insert the planned incidents in one bulk, numbered in the order they came in."""
    station = ground.station
    years = [timezone.localtime(p.at).year for p in plans]
    numbers = _numbers(station.pk, CASE_PREFIX, years)
    per_day: Counter[date] = Counter()
    rows: list[Incident] = []
    for k, (p, number) in enumerate(zip(plans, numbers, strict=True)):
        external_id = ""
        if p.source == Source.DISPATCH_110:  # the 110 system's own number (接警单号)
            local = timezone.localtime(p.at)
            per_day[local.date()] += 1
            external_id = f"110{local:%Y%m%d}{per_day[local.date()]:04d}"
        clerk = ground.desk[k % len(ground.desk)] if ground.desk else None
        p.row = _row(p, ground, number, external_id, clerk)
        rows.append(p.row)
    Incident.objects.bulk_create(rows, batch_size=1000)
    # Created and changed when it happened, not when the demo was loaded.
    Incident.objects.filter(station=station, intake_key__startswith=KEY_PREFIX).update(
        created_at=F("reported_at"),
        updated_at=Coalesce("closed_at", "arrived_at", "dispatched_at", "reported_at"),
    )
    return rows


def _steps(p: Plan, recent: bool) -> list[tuple[str, dict[str, Any]]]:
    """The audit entries of one incident's way from the call to its close, in order.

    An incident of the last weeks has one entry per step, as the log's services write them;
    an older one was entered after the fact, closed, in one entry (as the log's back-entry
    and the history import do): 40,000 entries for two years would treble the demo's load.
    """
    if not recent:
        return [("incidents.incident.created", _whole(p))]
    out: list[tuple[str, dict[str, Any]]] = [
        (
            "incidents.incident.created",
            {
                "status": [None, Status.RECEIVED],
                "source": [None, p.source],
                "category": [None, p.code],
                "area": [None, p.grid_id],
                "reported_at": [None, p.at.isoformat()],
            },
        )
    ]
    state = Status.RECEIVED
    if p.dispatched is not None:
        out.append(
            (
                "incidents.incident.dispatched",
                {
                    "status": [state, Status.DISPATCHED],
                    "officer": [None, p.officer.pk if p.officer else None],
                    "team": ["", p.team],
                    "dispatched_at": [None, p.dispatched.isoformat()],
                },
            )
        )
        state = Status.DISPATCHED
    if p.arrived is not None:
        out.append(
            (
                "incidents.incident.arrived",
                {"status": [state, Status.ON_SCENE], "arrived_at": [None, p.arrived.isoformat()]},
            )
        )
        state = Status.ON_SCENE
    if p.closed is not None:
        action = (
            "incidents.incident.converted"
            if p.disposition == Disposition.DISPUTE
            else "incidents.incident.closed"
        )
        changes: dict[str, Any] = {
            "status": [state, Status.CLOSED],
            "disposition": ["", p.disposition],
            "closed_at": [None, p.closed.isoformat()],
        }
        if p.linkage:
            changes["linkage"] = ["", p.linkage]
        if p.dispute is not None:
            changes["dispute"] = [None, p.dispute.pk]
        if p.disposition == Disposition.INVALID:
            changes["valid"] = [True, False]
        out.append((action, changes))
    return out


def _whole(p: Plan) -> dict[str, Any]:
    """The create entry of an incident entered with its whole story (no personal data)."""
    changes: dict[str, Any] = {
        "status": [None, p.status],
        "source": [None, p.source],
        "category": [None, p.code],
        "area": [None, p.grid_id],
        "reported_at": [None, p.at.isoformat()],
    }
    for name, value in (
        ("officer", p.officer.pk if p.officer else None),
        ("team", p.team),
        ("dispatched_at", p.dispatched.isoformat() if p.dispatched else None),
        ("arrived_at", p.arrived.isoformat() if p.arrived else None),
        ("closed_at", p.closed.isoformat() if p.closed else None),
        ("disposition", p.disposition),
        ("linkage", p.linkage),
        ("dispute", p.dispute.pk if p.dispute else None),
    ):
        if value:
            changes[name] = [None, value]
    if p.disposition == Disposition.INVALID:
        changes["valid"] = [None, False]
    return changes


def _payload_of(payload: dict[int, dict[str, Any]], row: Incident) -> dict[str, Any]:
    return payload[row.pk]


def _audit(plans: list[Plan], now: datetime) -> int:
    """One entry per step, the k-th steps of all incidents together, so timelines are in order."""
    steps: dict[tuple[int, str], list[tuple[Incident, dict[str, Any]]]] = defaultdict(list)
    since = now - timedelta(days=STEPS_DAYS)
    for p in plans:
        assert p.row is not None
        for k, (action, changes) in enumerate(_steps(p, p.at >= since)):
            steps[(k, action)].append((p.row, changes))
    written = 0
    for (_k, action), rows in sorted(steps.items(), key=lambda kv: kv[0]):
        payload = {row.pk: changes for row, changes in rows}
        written += audit_records_bulk(
            actor=ACTOR,
            action=action,
            objs=[row for row, _c in rows],
            changes=partial(_payload_of, payload),
            batch_size=5000,
        )
    return written


def _configure(station: Area) -> int:
    """Give the station its incident settings (repeats 3 in 30 days, 07:00, H3 resolution 9)."""
    if StationIncidentConfig.objects.filter(station=station).exists():
        return 0
    config = StationIncidentConfig.objects.create(
        station=station, hotspot_resolution=HOTSPOT_RESOLUTION, **CONFIG
    )
    audit_record(
        actor=ACTOR,
        action="incidents.config.created",
        obj=config,
        station_id=station.pk,
        changes={**CONFIG, "hotspot_resolution": HOTSPOT_RESOLUTION},
    )
    return 1


def load_incidents(
    *,
    station: Area | None = None,
    seed: int = SEED,
    per_year: int = PER_YEAR,
    now: datetime | None = None,
) -> dict[str, int]:
    """Load the station's settings and two years of incidents where missing; return counts."""
    station = station or Area.objects.filter(code=LEIFENG.code).first()
    if station is None:
        return {}
    counts: Counter[str] = Counter()
    counts["incident_configs"] = _configure(station)
    if Incident.objects.filter(station=station, intake_key__startswith=KEY_PREFIX).exists():
        return dict(counts)
    now = now or timezone.now()
    ground = IncidentGround(station)
    plans = Planner(ground, seed, per_year, now).plan()
    with rollups_deferred():
        rows = _write(plans, ground)
    counts["incidents"] = len(rows)
    counts["incidents_open"] = sum(1 for p in plans if p.status != Status.CLOSED)
    counts["incidents_linked"] = sum(1 for p in plans if p.dispute is not None)
    counts["incident_audit"] = _audit(plans, now)
    first = _local(timezone.localdate(now) - timedelta(days=DAYS), 0)
    counts["incidents_repeat"] = reflag(station_id=station.pk, first=first, last=now)
    rollup_rebuild(station_ids=[station.pk])
    audit_record(
        actor=ACTOR,
        action="demo.incidents.loaded",
        obj=station,
        changes={
            "count": len(rows),
            "classes": dict(Counter(p.code[:2] + "0000" for p in plans)),
            "open": counts["incidents_open"],
            "linked_disputes": counts["incidents_linked"],
        },
    )
    return dict(counts)
