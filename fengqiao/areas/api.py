"""The areas API: the jurisdiction tree, locate, places."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from fengqiao.areas.access import access_area
from fengqiao.areas.models import Area

router = Router(tags=["areas"])


class AreaOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    station_id: int | None
    zone: str
    population: int | None
    centroid_lat: float | None
    centroid_lng: float | None


@router.get("", response=list[AreaOut], summary="Areas the caller may see, in tree order")
def area_list(request: HttpRequest, kind: str | None = None) -> list[Area]:
    qs = Area.objects.visible_to(request.user).order_by("path")
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs[:5000])


@router.get("/{int:area_id}", response=AreaOut, summary="One area")
def area_detail(request: HttpRequest, area_id: int) -> Area:
    return access_area(request.user, area_id)
