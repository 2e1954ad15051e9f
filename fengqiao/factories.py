"""Test factories: real rows in the real database, built through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import factory

from fengqiao.accounts.models import Membership, User
from fengqiao.areas.models import Area, Place, PlaceKind, PoliceGrid, PoliceGridLink
from fengqiao.areas.services import area_create


def square(lng: float, lat: float, size: float) -> dict[str, Any]:
    """Return a GeoJSON polygon: the square with south-west corner (lng, lat)."""
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [lng, lat],
                [lng + size, lat],
                [lng + size, lat + size],
                [lng, lat + size],
                [lng, lat],
            ]
        ],
    }


def rect(lng: float, lat: float, width: float, height: float) -> dict[str, Any]:
    """Return a GeoJSON polygon: the rectangle with south-west corner (lng, lat)."""
    w, h = width, height
    ring = [[lng, lat], [lng + w, lat], [lng + w, lat + h], [lng, lat + h], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-9")

    @factory.post_generation
    def saved(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


@dataclass
class Jurisdiction:
    """A district with one station: 2 communities, 4 grids in a 2x2 square, 1 police grid."""

    district: Area
    station: Area
    communities: list[Area]
    grids: list[Area]
    police_grid: PoliceGrid
    users: dict[str, User] = field(default_factory=dict)

    def user(self, role: str, area: Area | None = None) -> User:
        """Return a user holding `role` on `area` (default: the station)."""
        u = UserFactory(username=f"{role}-{self.station.code}-{len(self.users)}".lower())
        Membership.objects.create(user=u, area=area or self.station, role=role)
        self.users[u.username] = u
        return u


def jurisdiction(
    code: str = "S1", lng: float = 112.90, lat: float = 28.20, district: Area | None = None
) -> Jurisdiction:
    """Build a station whose four grids tile a 0.02-degree square at (lng, lat)."""
    if not PlaceKind.objects.exists():  # flushed by a transactional test
        from fengqiao.areas.kinds import load_place_kinds

        load_place_kinds(PlaceKind)
    if district is None:
        district = Area.objects.filter(code="D1").first() or area_create(
            actor=None, code="D1", name="测试分局", kind="district"
        )
    station = area_create(
        actor=None,
        code=code,
        name=f"{code}派出所",
        kind="station",
        parent=district,
        boundary=square(lng, lat, 0.02),
    )
    communities = [
        area_create(
            actor=None,
            code=f"{code}-C{i}",
            name=f"{code}社区{i}",
            kind="community",
            parent=station,
            zone="built",
            boundary=rect(lng + 0.01 * i, lat, 0.01, 0.02),
        )
        for i in range(2)
    ]
    grids = []
    for i, community in enumerate(communities):
        for j in range(2):
            grids.append(
                area_create(
                    actor=None,
                    code=f"{community.code}-G{j}",
                    name=f"{community.name}网格{j}",
                    kind="grid",
                    parent=community,
                    boundary=square(lng + 0.01 * i, lat + 0.01 * j, 0.01),
                )
            )
    pg = PoliceGrid.objects.create(station=station, code=f"{code}-PG1", name=f"{code}警格1")
    for g in grids:
        PoliceGridLink.objects.create(police_grid=pg, grid=g, valid_from="2026-01-01")
    return Jurisdiction(district, station, communities, grids, pg)


def place(
    j: Jurisdiction, *, name: str = "测试旅馆", kind: str = "hotel", grid: int = 0, **extra: Any
) -> Place:
    """Create a place in grid `grid` of the jurisdiction, directly (no service, no audit)."""
    from fengqiao.core.text import search_document

    g = j.grids[grid]
    lat, lng = g.centroid_lat, g.centroid_lng
    p = Place.objects.create(
        station=j.station,
        community=g.parent,
        area=g,
        kind=PlaceKind.objects.get(code=kind),
        name=name,
        address=extra.pop("address", "测试路1号"),
        lat=lat,
        lng=lng,
        **extra,
    )
    p.search_text = search_document(p.name, p.address, p.notes)
    p.save(update_fields=["search_text"])
    from fengqiao.core.search import search_index

    search_index(label="areas.place", rows=[(p.pk, p.search_text)], fresh=True)
    return p


def api_client(user: User | None = None) -> Any:
    """Return a test client that calls the API with a fresh bearer token of `user`."""
    from django.test import Client

    from fengqiao.accounts.models import ApiToken

    if user is None:
        return Client()
    _token, secret = ApiToken.issue(user=user, name="test")
    return Client(headers={"Authorization": f"Bearer {secret}"})


def assert_api_error(resp: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an API error: the status, JSON {code, message, fields}, and the code."""
    assert resp.status_code == status, resp.content
    assert resp["Content-Type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert isinstance(body["fields"], dict)
    return body
