"""The areas API: the jurisdiction tree, locating a point, and places."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict, field_validator

from fengqiao.areas import selectors, services
from fengqiao.areas.access import access_area, access_place, user_can
from fengqiao.areas.geo import locate_point
from fengqiao.areas.models import Area, AreaKind, Place, PlaceKind
from fengqiao.areas.validation import ADDRESS_MAX, CONTACT_NAME_MAX, NAME_MAX, NOTES_MAX
from fengqiao.core.errors import ValidationFailed
from fengqiao.core.pagination import keyset_page
from fengqiao.core.pii import mask_phone
from fengqiao.core.schemas import CleanStr, Id, Latitude, Longitude, error_responses

router = Router(tags=["areas"])
places_router = Router(tags=["places"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)


# --- areas ---


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


class AreaRef(Schema):
    id: int
    code: str
    name: str


class BoundaryProperties(AreaRef):
    kind: str


class BoundaryOut(Schema):
    """A GeoJSON Feature; `geometry` is null for an area drawn without a boundary."""

    type: Literal["Feature"] = "Feature"
    geometry: dict[str, Any] | None
    properties: BoundaryProperties


class LocateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    station_id: Id
    lat: Latitude
    lng: Longitude


class LocateOut(AreaRef):
    community: AreaRef


@router.get(
    "",
    response={200: list[AreaOut], **READ_ERRORS},
    summary="Areas the caller may see, in tree order",
)
def area_list(
    request: HttpRequest,
    kind: AreaKind | None = None,
    parent: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> list[Area]:
    qs = Area.objects.visible_to(request.user).order_by("path")
    if kind:
        qs = qs.filter(kind=kind)
    if parent is not None:
        qs = qs.filter(parent_id=parent)
    return list(qs[:5000])


@router.get("/{int:area_id}", response={200: AreaOut, **READ_ERRORS}, summary="One area")
def area_detail(request: HttpRequest, area_id: int) -> Area:
    return access_area(request.user, area_id)


@router.get(
    "/{int:area_id}/boundary",
    response={200: BoundaryOut, **READ_ERRORS},
    summary="One area's boundary as a GeoJSON Feature",
)
def area_boundary(request: HttpRequest, area_id: int) -> BoundaryOut:
    area = access_area(request.user, area_id)
    return BoundaryOut(
        geometry=area.boundary,
        properties=BoundaryProperties(id=area.pk, code=area.code, name=area.name, kind=area.kind),
    )


def _station_in_reach(user: Any, station_id: int) -> Area:
    """Return the station if the user sees it or any area in it; 404 alike for missing."""
    # A community officer or volunteer sees their community, not the station row itself,
    # yet works in that station: locating a point or registering a place there is theirs.
    area = Area.objects.filter(pk=station_id).only("id", "kind", "path", "station_id").first()
    if area is None:
        raise Http404
    seen = Area.objects.visible_to(user)
    if area.kind == AreaKind.STATION:
        reached = seen.filter(station_id=area.pk).exists()
    else:
        reached = seen.filter(pk=area.pk).exists()
    if not reached:
        raise Http404
    if area.kind != AreaKind.STATION:
        raise ValidationFailed(
            _("station_id 应为派出所。"), fields={"station_id": [_("不是派出所")]}
        )
    return area


@router.post(
    "/locate",
    response={200: LocateOut, **WRITE_ERRORS},
    summary="The grid of a station that contains a point (422 outside_station when none)",
)
def area_locate(request: HttpRequest, payload: LocateIn) -> LocateOut:
    station = _station_in_reach(request.user, payload.station_id)
    grid = locate_point(station_id=station.pk, lat=payload.lat, lng=payload.lng)
    community = grid.parent
    return LocateOut(
        id=grid.pk,
        code=grid.code,
        name=grid.name,
        community=AreaRef(id=community.pk, code=community.code, name=community.name),
    )


# --- places ---


class PlaceOut(BaseModel):
    """A place as the API shows it: the contact phone is always masked.

    Plain pydantic, built by `place_out` from loaded rows: ninja's Schema would wrap every
    item in its ORM getter, which costs more than the page's query on a 200-row page.
    """

    id: int
    station_id: int
    community_id: int
    community_name: str
    grid_id: int
    grid_name: str
    kind: str
    kind_name: str
    name: str
    address: str
    lat: float
    lng: float
    contact_name: str
    contact_phone: str = Field(description="Masked (138****5678); see POST /places/{id}/reveal")
    officer_id: int | None
    notes: str
    version: int
    created_at: datetime
    updated_at: datetime


class PlacePage(BaseModel):
    items: list[PlaceOut]
    next_cursor: str | None


class PlaceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    station_id: Id
    kind: Annotated[CleanStr, Field(max_length=40, description="A place-kind code")]
    name: Annotated[CleanStr, Field(max_length=NAME_MAX)]
    address: Annotated[CleanStr, Field(max_length=ADDRESS_MAX)]
    lat: Latitude
    lng: Longitude
    contact_name: Annotated[CleanStr, Field(max_length=CONTACT_NAME_MAX)] = ""
    contact_phone: Annotated[CleanStr, Field(max_length=40)] = ""
    officer_id: Id | None = None
    notes: Annotated[CleanStr, Field(max_length=NOTES_MAX)] = ""


class PlacePatch(Schema):
    """Only the fields sent are changed; `version` is the one the client last read."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1, le=2**31 - 1)]
    kind: Annotated[CleanStr, Field(max_length=40)] | None = None
    name: Annotated[CleanStr, Field(max_length=NAME_MAX)] | None = None
    address: Annotated[CleanStr, Field(max_length=ADDRESS_MAX)] | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None
    contact_name: Annotated[CleanStr, Field(max_length=CONTACT_NAME_MAX)] | None = None
    contact_phone: Annotated[CleanStr, Field(max_length=40)] | None = None
    officer_id: Id | None = None
    notes: Annotated[CleanStr, Field(max_length=NOTES_MAX)] | None = None

    @field_validator(
        "kind", "name", "address", "lat", "lng", "contact_name", "contact_phone", "notes"
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Absent means "unchanged"; a null sent on purpose cannot be stored (officer_id can).
        if value is None:
            raise ValueError(_("不能为空"))
        return value


class RevealOut(Schema):
    field: str
    value: str


# What place_out reads: never the search text, nor the community's and grid's boundaries.
PLACE_OUT_COLUMNS = (
    "id",
    "station_id",
    "community__name",
    "area__name",
    "kind__code",
    "kind__name",
    "name",
    "address",
    "lat",
    "lng",
    "contact_name",
    "contact_phone",
    "officer_id",
    "notes",
    "version",
    "created_at",
    "updated_at",
)


def place_out(place: Place) -> PlaceOut:
    """Return the API view of a place; its kind, community and grid are already loaded."""
    return PlaceOut(
        id=place.pk,
        station_id=place.station_id,
        community_id=place.community_id,
        community_name=place.community.name,
        grid_id=place.area_id,
        grid_name=place.area.name,
        kind=place.kind.code,
        kind_name=place.kind.name,
        name=place.name,
        address=place.address,
        lat=place.lat,
        lng=place.lng,
        contact_name=place.contact_name,
        contact_phone=mask_phone(place.contact_phone),
        officer_id=place.officer_id,
        notes=place.notes,
        version=place.version,
        created_at=place.created_at,
        updated_at=place.updated_at,
    )


def _check_filters(user: Any, *, kind: str | None, community: int | None, grid: int | None) -> None:
    """Refuse (422) a kind that does not exist or a community or grid the user cannot see."""
    errors: dict[str, list[str]] = {}
    if kind and not PlaceKind.objects.filter(code=kind).exists():
        errors["kind"] = [_("没有这种场所类型。")]
    seen = Area.objects.visible_to(user, "place.view")
    if community is not None and not seen.communities().filter(pk=community).exists():
        errors["community"] = [_("社区/村不存在，或不在您的辖区内。")]
    if grid is not None and not seen.grids().filter(pk=grid).exists():
        errors["grid"] = [_("网格不存在，或不在您的辖区内。")]
    if errors:
        raise ValidationFailed(_("筛选条件有误。"), fields=errors)


@places_router.get(
    "",
    response={200: PlacePage, **READ_ERRORS},
    summary="Places the caller may see, newest first, one key-based page at a time",
)
def place_list(
    request: HttpRequest,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    kind: Annotated[CleanStr | None, Query(max_length=40)] = None,
    community: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    grid: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    q: Annotated[CleanStr | None, Query(max_length=100)] = None,
) -> PlacePage:
    qs = selectors.place_search(
        user=request.user, kind=kind or None, community_id=community, grid_id=grid, q=q or ""
    )
    page = keyset_page(
        qs.select_related("kind", "community", "area").only(*PLACE_OUT_COLUMNS),
        order=("-id",),
        cursor=cursor,
        size=limit,
    )
    if not page.items and (kind or community is not None or grid is not None):
        # A filter that names nothing the user can see always gives an empty page, so the
        # check costs queries only then, never on a page that found places.
        _check_filters(request.user, kind=kind, community=community, grid=grid)
    return PlacePage(items=[place_out(p) for p in page.items], next_cursor=page.next_cursor)


@places_router.get("/{int:place_id}", response={200: PlaceOut, **READ_ERRORS}, summary="One place")
def place_detail(request: HttpRequest, place_id: int) -> PlaceOut:
    return place_out(access_place(request.user, place_id))


def _require_editor(user: Any) -> None:
    """Refuse (403) a user who may edit places nowhere, before looking anything up."""
    if not user_can(user, "place.edit"):
        raise PermissionDenied(_("您的角色无权新增或修改场所。"))


@places_router.post(
    "",
    response={201: PlaceOut, **WRITE_ERRORS},
    summary="Create a place; its grid is found from lat/lng",
)
def place_create(request: HttpRequest, payload: PlaceIn) -> Status[PlaceOut]:
    _require_editor(request.user)
    _station_in_reach(request.user, payload.station_id)  # another station's id is a 404
    place = services.place_create(
        actor=request.user,
        station_id=payload.station_id,
        kind_code=payload.kind,
        name=payload.name,
        address=payload.address,
        lat=payload.lat,
        lng=payload.lng,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        officer_id=payload.officer_id,
        notes=payload.notes,
    )
    return Status(201, place_out(access_place(request.user, place.pk)))


@places_router.patch(
    "/{int:place_id}",
    response={200: PlaceOut, **WRITE_ERRORS, **error_responses(409)},
    summary="Change a place; 409 conflict when `version` is not the current one",
)
def place_update(request: HttpRequest, place_id: int, payload: PlacePatch) -> PlaceOut:
    _require_editor(request.user)
    place = access_place(request.user, place_id)
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    if "kind" in changes:
        changes["kind_code"] = changes.pop("kind")
    services.place_update(actor=request.user, place=place, version=version, **changes)
    return place_out(access_place(request.user, place_id))


@places_router.post(
    "/{int:place_id}/reveal",
    response={200: RevealOut, **WRITE_ERRORS},
    summary="The plain value of a personal-data field; audited, for roles with pii.reveal",
)
def place_reveal(request: HttpRequest, place_id: int, field: Literal["contact_phone"]) -> RevealOut:
    place = access_place(request.user, place_id)
    value = services.pii_reveal(actor=request.user, obj=place, field=field)
    return RevealOut(field=field, value=value)
