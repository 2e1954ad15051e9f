"""The demo jurisdiction on paper: codes, names, populations and where things sit.

Inspired by seed 000 (雷锋派出所, Changsha high-tech zone: 12万 residents, 19 officers,
14 auxiliaries, built / transitional / to-be-developed zones) and seed 002 (11 police grids
over 51 grids). Nothing here touches the database; the builder turns it into rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

SEED = 20240301  # one fixed seed: the demo is the same on every machine, every run
ACTOR = "demo_load"  # the audit log's actor label for everything the demo creates
POLICE_GRID_FROM = date(2024, 3, 1)

DISTRICT_CODE = "430100-GX"
DISTRICT_NAME = "长沙市公安局高新分局"


@dataclass(frozen=True)
class CommunityPlan:
    """One community or village: its name, zone, population and how many grids it has."""

    name: str
    kind: str  # "community" or "village"
    zone: str  # "built", "transitional" or "undeveloped"
    population: int
    grids: int
    seed_km: tuple[float, float]  # where its Voronoi seed sits, km east and north of centre
    streets: tuple[str, ...]
    police_office: bool = True
    service_station: bool = False
    police_grids: int = 1  # beats (警格) laid over this community's grids


@dataclass(frozen=True)
class StationPlan:
    """A station: code, name, centre, size and its communities."""

    code: str
    name: str
    lng: float
    lat: float
    radius_km: float
    population: int
    communities: tuple[CommunityPlan, ...]
    address_prefix: str


LEIFENG = StationPlan(
    code=f"{DISTRICT_CODE}-LF",
    name="雷锋派出所",
    lng=112.800,
    lat=28.240,
    radius_km=4.0,
    population=120_000,
    address_prefix="长沙市岳麓区雷锋街道",
    communities=(
        CommunityPlan(
            "和润园社区",
            "community",
            "built",
            21_500,
            8,
            (2.4, 1.4),
            ("雷锋大道", "和润路", "岳华路"),
            service_station=True,
            police_grids=2,
        ),
        CommunityPlan(
            "雷锋社区",
            "community",
            "built",
            19_800,
            8,
            (1.0, -0.2),
            ("雷锋大道", "桐林坳路", "学士路"),
            service_station=True,
            police_grids=2,
        ),
        CommunityPlan(
            "鸿星社区",
            "community",
            "built",
            17_200,
            7,
            (2.6, -1.7),
            ("望雷大道", "鸿星路", "谷苑路"),
            service_station=True,
            police_grids=2,
        ),
        CommunityPlan(
            "尖山社区",
            "community",
            "transitional",
            16_400,
            7,
            (0.0, 1.9),
            ("尖山路", "文轩路", "麓松路"),
            service_station=True,
        ),
        CommunityPlan(
            "黄桥村",
            "village",
            "transitional",
            13_900,
            6,
            (-0.4, -1.9),
            ("黄桥大道", "桐林路"),
            service_station=True,
        ),
        CommunityPlan(
            "白马村",
            "village",
            "transitional",
            11_800,
            6,
            (-1.4, 0.3),
            ("白马路", "青山路"),
            service_station=True,
        ),
        CommunityPlan(
            "真人桥村",
            "village",
            "undeveloped",
            10_600,
            5,
            (-2.9, 1.6),
            ("真人桥路", "林语路"),
        ),
        CommunityPlan(
            "北塘村",
            "village",
            "undeveloped",
            8_800,
            4,
            (-2.6, -1.9),
            ("北塘路", "金塘路"),
            police_office=False,  # 北塘村 is served by 真人桥村警务室
        ),
    ),
)

# A smaller neighbour to the east, so a tester can check that its data stays hidden.
DONGFANGHONG = StationPlan(
    code=f"{DISTRICT_CODE}-DFH",
    name="东方红派出所",
    lng=112.864,
    lat=28.244,
    radius_km=2.6,
    population=46_000,
    address_prefix="长沙市岳麓区东方红街道",
    communities=(
        CommunityPlan(
            "东方红社区",
            "community",
            "built",
            25_000,
            2,
            (6.8, 1.3),
            ("东方红路", "麓谷大道"),
        ),
        CommunityPlan(
            "金南社区",
            "community",
            "built",
            21_000,
            2,
            (6.9, -1.0),
            ("金南路", "枫林三路"),
            police_office=False,
        ),
    ),
)


def community_code(station: StationPlan, index: int) -> str:
    """Return the stable code of a station's community: 430100-GX-LF-01."""
    return f"{station.code}-{index + 1:02d}"


def grid_code(station: StationPlan, community_index: int, grid_index: int) -> str:
    """Return the stable code of a grid: 430100-GX-LF-01-03."""
    return f"{community_code(station, community_index)}-{grid_index + 1:02d}"


def police_grid_code(station: StationPlan, index: int) -> str:
    """Return the stable code of a police grid: 430100-GX-LF-JG01."""
    return f"{station.code}-JG{index + 1:02d}"


@dataclass(frozen=True)
class BeatPlan:
    """A police grid (警格): its code, name, community and which of that community's beats."""

    code: str
    name: str
    community: int
    beat: int


def beats(station: StationPlan) -> list[BeatPlan]:
    """Return the station's police grids, community by community."""
    out: list[BeatPlan] = []
    for ci, community in enumerate(station.communities):
        for b in range(community.police_grids):
            ordinal = "一二三四"[b]
            name = (
                f"{community.name}警格"
                if community.police_grids == 1
                else f"{community.name}第{ordinal}警格"
            )
            out.append(BeatPlan(police_grid_code(station, len(out)), name, ci, b))
    return out
