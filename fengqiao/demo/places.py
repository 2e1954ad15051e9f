"""The demo's places on paper: how many of each kind, in which zone, named and addressed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from shapely.geometry import Polygon

from fengqiao.demo import names
from fengqiao.demo.geography import Ground, sample_point
from fengqiao.demo.plan import CommunityPlan, StationPlan

# How many places of each kind the demo station has (about 300; 36 hotels, 9 bath or KTV).
LEIFENG_COUNTS: dict[str, int] = {
    "hotel": 14,
    "small_hotel": 22,
    "ktv": 3,
    "small_karaoke": 2,
    "beauty_bath": 4,
    "small_shop": 40,
    "small_school": 6,
    "small_clinic": 8,
    "internet_cafe": 5,
    "small_eatery": 38,
    "small_workshop": 10,
    "locksmith": 3,
    "engraving_printing": 3,
    "scrap_metal": 4,
    "used_car": 2,
    "vehicle_dismantling": 1,
    "pawnshop": 1,
    "gold_shop": 2,
    "used_phone": 3,
    "mall": 3,
    "bar": 2,
    "chess_room": 6,
    "school": 5,
    "hospital": 2,
    "enterprise": 30,
    "industrial_park": 1,
    "compound": 33,
    "rental_house": 25,
    "transit_station": 3,
    "construction_site": 6,
}
NEIGHBOUR_COUNTS: dict[str, int] = {
    "small_hotel": 1,
    "small_shop": 2,
    "small_eatery": 1,
    "compound": 1,
}

# Where each kind tends to be: weight in built, transitional and to-be-developed zones.
ZONE_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "hotel": (6, 2, 0.3),
    "small_hotel": (3, 4, 1),
    "ktv": (5, 1, 0),
    "small_karaoke": (2, 3, 1),
    "beauty_bath": (4, 2, 0.5),
    "small_shop": (4, 3, 1.5),
    "small_school": (3, 3, 1),
    "small_clinic": (3, 3, 1.5),
    "internet_cafe": (3, 3, 0.5),
    "small_eatery": (4, 3, 1),
    "small_workshop": (0.5, 3, 4),
    "locksmith": (3, 2, 1),
    "engraving_printing": (3, 2, 0.5),
    "scrap_metal": (0.3, 3, 4),
    "used_car": (1, 3, 2),
    "vehicle_dismantling": (0, 1, 3),
    "pawnshop": (3, 1, 0),
    "gold_shop": (3, 1, 0),
    "used_phone": (3, 2, 0.5),
    "mall": (5, 1, 0),
    "bar": (4, 1, 0),
    "chess_room": (2, 3, 3),
    "school": (3, 3, 2),
    "hospital": (3, 2, 0),
    "enterprise": (1, 4, 3),
    "industrial_park": (0, 1, 1),
    "compound": (5, 3, 0.5),
    "rental_house": (1, 4, 3),
    "transit_station": (3, 2, 1),
    "construction_site": (1, 3, 4),
}
ZONES = ("built", "transitional", "undeveloped")


@dataclass(frozen=True)
class PlacePlan:
    """One place before it is saved: what, where (community and grid index), who to call."""

    kind: str
    name: str
    address: str
    lng: float
    lat: float
    community: int
    grid: int
    contact_name: str
    contact_phone: str
    notes: str


def short_name(community: CommunityPlan) -> str:
    """Return 和润园 for 和润园社区, 白马 for 白马村."""
    return community.name.removesuffix("社区").removesuffix("村")


class _Namer:
    """Draw names and addresses that are new within one station."""

    def __init__(self, station: StationPlan, rng: random.Random) -> None:
        self.station = station
        self.rng = rng
        self.names: set[str] = set()
        self.numbers: set[tuple[str, int]] = set()

    def address(self, community: CommunityPlan) -> tuple[str, str, int]:
        """Return (full address, street or village group, house number), each number once."""
        rng = self.rng
        while True:
            if community.kind == "village" and rng.random() < 0.6:
                street = f"{community.name}{rng.randint(1, 16)}组"
                number = rng.randint(1, 80)
            else:
                street = rng.choice(community.streets)
                number = rng.randint(1, 520)
            if (street, number) not in self.numbers:
                self.numbers.add((street, number))
                return f"{self.station.address_prefix}{street}{number}号", street, number

    def name(self, kind: str, community: CommunityPlan, street: str, number: int) -> str:
        """Return a name of this kind, new in the station."""
        rng = self.rng
        if kind == "rental_house":
            return self.claim(f"{street}{number}号出租屋")
        for _attempt in range(60):
            template = rng.choice(names.TEMPLATES[kind])
            text = template.format(
                w=rng.choice(names.SHOP_WORDS),
                s=rng.choice(names.SURNAMES[:40]),
                c=short_name(community),
                r=street if street in community.streets else rng.choice(community.streets),
                brand=rng.choice(names.BRANDS.get(kind, ("",))),
                city=rng.choice(names.CITIES),
                trade=rng.choice(names.TRADES),
                estate=rng.choice(names.ESTATES),
                suffix=rng.choice(names.ESTATE_SUFFIXES),
                contractor=rng.choice(names.CONTRACTORS),
                project=rng.choice(names.PROJECTS),
                n=number,
            )
            if text not in self.names:
                return self.claim(text)
        return self.claim(f"{text}（{street}{number}号）")

    def claim(self, text: str) -> str:
        """Mark the name as taken and return it."""
        self.names.add(text)
        return text


def _notes(kind: str, rng: random.Random) -> str:
    """Return a line an officer would keep about a place of this kind."""
    if kind == "hotel":
        return f"客房{rng.randint(40, 220)}间，已接入旅馆业治安管理系统"
    if kind == "small_hotel":
        return f"客房{rng.randint(6, 36)}间，已接入旅馆业治安管理系统"
    if kind == "rental_house":
        return f"出租{rng.randint(2, 12)}间，登记租住{rng.randint(2, 30)}人，房东已签治安责任书"
    if kind == "compound":
        return f"{rng.randint(6, 40)}栋，约{rng.randint(5, 60) * 100}户，物业保安参加平安联盟巡逻"
    if kind == "enterprise":
        return f"员工约{rng.randint(20, 800)}人，企业保安为第三级巡防力量"
    if kind in ("school", "small_school"):
        return f"在校学生约{rng.randint(80, 2400)}人，上下学时段护学岗"
    if kind == "construction_site":
        return f"在建，务工人员约{rng.randint(30, 400)}人，关注欠薪纠纷"
    if kind in ("ktv", "small_karaoke", "beauty_bath", "bar", "internet_cafe"):
        return "娱乐服务场所，每次巡逻必查"
    if kind == "police_office":
        return "社区警务室：1名社区民警 + 1名刑侦民警 + 2名辅警 + N名巡防队员（2+2+N）"
    if kind == "service_station":
        return "红警驿站：便民服务、红色代办、矛盾纠纷就地调解"
    return ""


def _central_grid(community: Polygon, grids: Sequence[Polygon], skip: int = -1) -> int:
    """Return the index of the grid nearest the community's middle (other than `skip`)."""
    middle = community.representative_point()
    order = sorted(range(len(grids)), key=lambda i: grids[i].distance(middle))
    return next(i for i in order if i != skip)


def plan_places(
    station: StationPlan, ground: Ground, counts: dict[str, int], seed: int
) -> list[PlacePlan]:
    """Return the station's places, the same list on every run."""
    rng = random.Random(f"{seed}-{station.code}-places")
    namer = _Namer(station, rng)
    out: list[PlacePlan] = []

    def add(kind: str, ci: int, gi: int, name: str | None = None) -> None:
        community = station.communities[ci]
        address, street, number = namer.address(community)
        lng, lat = sample_point(ground.grids[ci][gi], rng)
        out.append(
            PlacePlan(
                kind=kind,
                name=namer.claim(name) if name else namer.name(kind, community, street, number),
                address=address,
                lng=lng,
                lat=lat,
                community=ci,
                grid=gi,
                contact_name=names.person(rng),
                contact_phone=names.mobile(rng),
                notes=_notes(kind, rng),
            )
        )

    office_grid: dict[int, int] = {}
    for ci, community in enumerate(station.communities):
        polygon, grids = ground.communities[ci], ground.grids[ci]
        if community.police_office:
            office_grid[ci] = _central_grid(polygon, grids)
            add("police_office", ci, office_grid[ci], f"{community.name}警务室")
        if community.service_station:
            gi = _central_grid(polygon, grids, skip=office_grid.get(ci, -1))
            add("service_station", ci, gi, f"{short_name(community)}红警驿站")

    slots = [
        (ci, gi, station.communities[ci].zone)
        for ci in range(len(station.communities))
        for gi in range(len(ground.grids[ci]))
    ]
    for kind, count in counts.items():
        weights = [ZONE_WEIGHTS.get(kind, (1, 1, 1))[ZONES.index(zone)] for _c, _g, zone in slots]
        for _i in range(count):
            ci, gi, _zone = rng.choices(slots, weights=weights)[0]
            add(kind, ci, gi)
    return out
