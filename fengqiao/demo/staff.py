"""The demo's people on paper: one account per post, every role, about sixty in all."""

from __future__ import annotations

import random
from dataclasses import dataclass

from fengqiao.accounts.roles import Role
from fengqiao.demo import names
from fengqiao.demo.plan import (
    DISTRICT_CODE,
    DONGFANGHONG,
    LEIFENG,
    StationPlan,
    beats,
    community_code,
)

# The eight station-level officers besides the community officers (19 in all, as in seed 000).
STATION_OFFICERS = (
    "教导员",
    "副所长",
    "副所长",
    "刑侦民警",
    "治安民警",
    "户籍民警",
    "综合指挥室民警",
    "案件审核民警",
)


@dataclass(frozen=True)
class StaffPlan:
    """One account: login, name, the role it holds on one area, and its post."""

    username: str
    full_name: str
    role: str
    area_code: str
    title: str
    badge: str = ""
    police_grid: str = ""  # the code of the police grid this officer is responsible for
    shown: bool = False  # its password is printed once, as the role's sample login


class _People:
    """Draw names and badge numbers that are new among the demo's staff."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[str] = set()
        self.badges: set[str] = set()

    def name(self) -> str:
        while True:
            text = names.person(self.rng)
            if text not in self.names:
                self.names.add(text)
                return text

    def badge(self, prefix: str = "") -> str:
        while True:
            text = f"{prefix}{self.rng.randint(10000, 99999)}"
            if text not in self.badges:
                self.badges.add(text)
                return text


def _station_staff(station: StationPlan, prefix: str, people: _People) -> list[StaffPlan]:
    """Return chief, officers, auxiliaries, mediators, volunteers and assistants of a station."""
    out: list[StaffPlan] = [
        StaffPlan(
            f"{prefix}_chief",
            people.name(),
            Role.CHIEF,
            station.code,
            "所长",
            people.badge("0"),
            shown=True,
        )
    ]
    n = 0

    def officer(area_code: str, title: str, police_grid: str = "", shown: bool = False) -> None:
        nonlocal n
        n += 1
        out.append(
            StaffPlan(
                f"{prefix}_officer{n:02d}",
                people.name(),
                Role.OFFICER,
                area_code,
                title,
                people.badge("0"),
                police_grid,
                shown,
            )
        )

    if station is LEIFENG:
        for title in STATION_OFFICERS:
            officer(station.code, title)
    for k, beat in enumerate(beats(station)):
        # Community officers hold their role on the community, and answer for one police grid.
        officer(
            community_code(station, beat.community),
            "社区民警",
            beat.code,
            shown=k == 0 and station is LEIFENG,
        )
    if station is not LEIFENG:
        return out

    offices = [i for i, c in enumerate(station.communities) if c.police_office]
    stations = [i for i, c in enumerate(station.communities) if c.service_station]
    posts: list[tuple[str, str, str, list[int]]] = [
        # 2+2+N: two auxiliaries at every community police office.
        ("aux", Role.AUXILIARY, "辅警", [i for i in offices for _two in range(2)]),
        ("mediator", Role.MEDIATOR, "人民调解员", list(range(len(station.communities)))),
        ("volunteer", Role.VOLUNTEER, "红袖章志愿者", stations),
        ("assistant", Role.ASSISTANT, "警务助理（红警驿站）", stations),
    ]
    for name, role, title, where in posts:
        for k, ci in enumerate(where):
            out.append(
                StaffPlan(
                    f"{prefix}_{name}{k + 1:02d}",
                    people.name(),
                    role,
                    community_code(station, ci),
                    title,
                    people.badge("F") if role == Role.AUXILIARY else "",
                    shown=k == 0,
                )
            )
    for k in range(2):  # the lawyers' mediation team (法调) works for the whole station
        out.append(
            StaffPlan(
                f"{prefix}_mediator{len(station.communities) + k + 1:02d}",
                people.name(),
                Role.MEDIATOR,
                station.code,
                "律师调解员",
            )
        )
    return out


def plan_staff(seed: int) -> list[StaffPlan]:
    """Return every demo account, the same list on every run."""
    people = _People(random.Random(f"{seed}-staff"))
    out = _station_staff(LEIFENG, "lf", people)
    out += [
        StaffPlan(
            "gx_analyst", people.name(), Role.ANALYST, DISTRICT_CODE, "分局分析员", shown=True
        ),
        StaffPlan("gx_admin", people.name(), Role.ADMIN, DISTRICT_CODE, "系统管理员", shown=True),
    ]
    out += _station_staff(DONGFANGHONG, "dfh", people)
    return out
