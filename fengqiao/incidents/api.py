"""The incident log's API: the list, one incident, intake, the moves, the code tree, settings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from fengqiao.areas.models import Area
from fengqiao.core.errors import ValidationFailed
from fengqiao.core.pagination import keyset_page
from fengqiao.core.pii import mask_phone
from fengqiao.core.schemas import CleanStr, Id, Latitude, Longitude, error_responses
from fengqiao.incidents import moves, selectors, services
from fengqiao.incidents.access import access_incident
from fengqiao.incidents.choices import Disposition, Linkage, Source
from fengqiao.incidents.choices import Status as IncidentStatus
from fengqiao.incidents.models import Incident
from fengqiao.incidents.repeats import config_for
from fengqiao.incidents.selectors import mask_name

router = Router(tags=["incidents"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
MOVE_ERRORS = {**WRITE_ERRORS, **error_responses(409)}
TEXT_MAX = 2000


# --- output ---


class RepeatReason(BaseModel):
    rule: str = Field(description="address or caller")
    count: int
    days: int


class IncidentItem(BaseModel):
    """An incident in a list; the caller is never in a list."""

    id: int
    case_number: str
    external_id: str
    station_id: int
    community_id: int
    community_name: str
    grid_id: int
    grid_name: str
    source: str
    category_code: str
    category_name: str
    class_code: str
    status: str
    disposition: str
    valid: bool
    reported_at: datetime
    occurred_at: datetime
    address: str
    repeat_address: bool
    repeat_caller: bool
    version: int


class ResponseTimesOut(BaseModel):
    dispatch_minutes: int | None = Field(description="reported → dispatched")
    arrival_minutes: int | None = Field(description="dispatched → on scene")
    response_minutes: int | None = Field(description="reported → on scene")
    total_minutes: int | None = Field(description="reported → closed")


class IncidentOut(IncidentItem):
    """One incident: its facts, the masked caller, the steps, repeats and the linked dispute."""

    narrative: str
    lat: float | None
    lng: float | None
    caller_name: str = Field(description="Masked (王*)")
    caller_phone: str = Field(description="Masked (138****5678)")
    officer_id: int | None
    officer_name: str
    team: str
    dispatched_at: datetime | None
    arrived_at: datetime | None
    closed_at: datetime | None
    linkage: str
    disposition_note: str
    dispute_id: int | None
    dispute_case_number: str
    repeat_reasons: list[RepeatReason]
    response: ResponseTimesOut
    next_statuses: list[str]
    created_at: datetime
    updated_at: datetime


class IncidentPage(BaseModel):
    items: list[IncidentItem]
    next_cursor: str | None


def _item_fields(i: Incident) -> dict[str, Any]:
    return {
        "id": i.pk,
        "case_number": i.case_number,
        "external_id": i.external_id,
        "station_id": i.station_id,
        "community_id": i.community_id,
        "community_name": i.community.name,
        "grid_id": i.area_id,
        "grid_name": i.area.name,
        "source": i.source,
        "category_code": i.category.code,
        "category_name": i.category.name,
        "class_code": i.class_code,
        "status": i.status,
        "disposition": i.disposition,
        "valid": i.valid,
        "reported_at": i.reported_at,
        "occurred_at": i.occurred_at,
        "address": i.address,
        "repeat_address": i.repeat_address,
        "repeat_caller": i.repeat_caller,
        "version": i.version,
    }


def incident_out(i: Incident) -> IncidentOut:
    """Return the API view of one incident; the caller's name and phone leave masked."""
    t = selectors.response_times(i)
    return IncidentOut(
        **_item_fields(i),
        narrative=i.narrative,
        lat=i.lat,
        lng=i.lng,
        caller_name=mask_name(i.caller_name),
        caller_phone=mask_phone(i.caller_phone),
        officer_id=i.officer_id,
        officer_name=i.officer.label if i.officer else "",
        team=i.team,
        dispatched_at=i.dispatched_at,
        arrived_at=i.arrived_at,
        closed_at=i.closed_at,
        linkage=i.linkage,
        disposition_note=i.disposition_note,
        dispute_id=i.dispute_id,
        dispute_case_number=i.dispute.case_number if i.dispute else "",
        repeat_reasons=[RepeatReason(**r) for r in i.repeat_reasons or []],
        response=ResponseTimesOut(
            dispatch_minutes=t.dispatch,
            arrival_minutes=t.arrival,
            response_minutes=t.response,
            total_minutes=t.total,
        ),
        next_statuses=sorted(Incident.TRANSITIONS[i.status]),
        created_at=i.created_at,
        updated_at=i.updated_at,
    )


def _detail(request: HttpRequest, incident_id: int) -> IncidentOut:
    return incident_out(access_incident(request.user, incident_id))


# --- input ---

Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The version last read")]
Moment = Annotated[datetime | None, Field(description="When it happened; now if not given")]


class IncidentIn(Schema):
    """An intake: a map point (lat/lng) or a grid_id of the station."""

    model_config = ConfigDict(extra="forbid")

    station_id: Id
    source: Source
    category_code: Annotated[CleanStr, Field(max_length=6, description="A 110 code (200100)")]
    reported_at: datetime
    occurred_at: datetime
    narrative: Annotated[CleanStr, Field(max_length=services.NARRATIVE_MAX)]
    lat: Latitude | None = None
    lng: Longitude | None = None
    address: Annotated[CleanStr, Field(max_length=200)] = ""
    grid_id: Id | None = None
    caller_name: Annotated[CleanStr, Field(max_length=services.NAME_MAX)] = ""
    caller_phone: Annotated[CleanStr, Field(max_length=40)] = ""
    external_id: Annotated[CleanStr, Field(max_length=services.EXTERNAL_MAX)] = ""
    idempotency_key: Annotated[
        CleanStr, Field(max_length=64, description="Or the Idempotency-Key header")
    ] = ""


class IncidentPatchIn(Schema):
    """Corrections: only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    source: Source | None = None
    category_code: Annotated[CleanStr, Field(max_length=6)] | None = None
    reported_at: datetime | None = None
    occurred_at: datetime | None = None
    narrative: Annotated[CleanStr, Field(max_length=services.NARRATIVE_MAX)] | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None
    address: Annotated[CleanStr, Field(max_length=200)] | None = None
    grid_id: Id | None = None
    caller_name: Annotated[CleanStr, Field(max_length=services.NAME_MAX)] | None = None
    caller_phone: Annotated[CleanStr, Field(max_length=40)] | None = None
    external_id: Annotated[CleanStr, Field(max_length=services.EXTERNAL_MAX)] | None = None


class DispatchIn(Schema):
    model_config = ConfigDict(extra="forbid")

    officer_id: Id | None = None
    team: Annotated[CleanStr, Field(max_length=services.TEAM_MAX)] = ""
    at: Moment = None
    version: Version | None = None


class ArriveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    at: Moment = None
    version: Version | None = None


class CloseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    disposition: Disposition
    linkage: Linkage | None = None
    note: Annotated[CleanStr, Field(max_length=services.NOTE_MAX)] = ""
    at: Moment = None
    version: Version | None = None


class PartyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: Annotated[CleanStr, Field(max_length=20)] = ""
    role: Annotated[CleanStr, Field(max_length=20)]
    name: Annotated[CleanStr, Field(max_length=60)] = ""
    phone: Annotated[CleanStr, Field(max_length=40)] = ""
    id_number: Annotated[CleanStr, Field(max_length=40)] = ""
    address: Annotated[CleanStr, Field(max_length=200)] = ""
    consent: Annotated[CleanStr, Field(max_length=20)] = ""


class ConvertIn(Schema):
    """The dispute to open: its type, scale and parties (as in POST /api/v1/disputes)."""

    model_config = ConfigDict(extra="forbid")

    type_code: Annotated[CleanStr, Field(max_length=8)]
    scale: Annotated[CleanStr, Field(max_length=20)]
    parties: Annotated[list[PartyIn], Field(max_length=50)]
    narrative: Annotated[CleanStr, Field(max_length=services.NARRATIVE_MAX)] = ""
    people_count: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    amount: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None
    violence: bool = False
    note: Annotated[CleanStr, Field(max_length=services.NOTE_MAX)] = ""
    at: Moment = None
    version: Version | None = None


class ConfigOut(BaseModel):
    station_id: int
    repeat_min: int
    repeat_days: int
    briefing_hour: int
    briefing_minute: int
    hotspot_resolution: int


class ConfigIn(Schema):
    model_config = ConfigDict(extra="forbid")

    repeat_min: Annotated[int, Field(ge=0, le=10000)] | None = None
    repeat_days: Annotated[int, Field(ge=0, le=10000)] | None = None
    briefing_hour: Annotated[int, Field(ge=0, le=10000)] | None = None
    briefing_minute: Annotated[int, Field(ge=0, le=10000)] | None = None
    hotspot_resolution: Annotated[int, Field(ge=0, le=10000)] | None = None


class CategoryNode(BaseModel):
    code: str
    name: str
    name_en: str
    children: list[CategoryNode]


class StaffOut(BaseModel):
    id: int
    name: str


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    label: str
    changes: dict[str, Any]


# --- list ---


ITEM_COLUMNS = (
    "id",
    "case_number",
    "external_id",
    "station_id",
    "community__name",
    "area__name",
    "source",
    "category__code",
    "category__name",
    "class_code",
    "status",
    "disposition",
    "valid",
    "reported_at",
    "occurred_at",
    "address",
    "repeat_address",
    "repeat_caller",
    "version",
)
Big = Annotated[int | None, Query(ge=1, le=2**63 - 1)]


@router.get(
    "",
    response={200: IncidentPage, **READ_ERRORS},
    summary="Incidents the caller may see, newest first, one key-based page at a time",
)
def incident_list(
    request: HttpRequest,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    station: Big = None,
    community: Big = None,
    grid: Big = None,
    category: Annotated[CleanStr | None, Query(max_length=6, description="Any tree level")] = None,
    source: Source | None = None,
    status: IncidentStatus | None = None,
    disposition: Disposition | None = None,
    valid: bool | None = None,
    repeat: bool = False,
    reported_from: date | None = None,
    reported_to: date | None = None,
    q: Annotated[CleanStr | None, Query(max_length=100)] = None,
) -> IncidentPage:
    if reported_from and reported_to and reported_from > reported_to:
        raise ValidationFailed(
            _("筛选条件有误。"), fields={"reported_to": [_("结束日期不能早于开始日期。")]}
        )
    qs = selectors.incident_search(
        user=request.user,
        station_id=station,
        community_id=community,
        grid_id=grid,
        category_code=category or None,
        source=source,
        status=status,
        disposition=disposition,
        valid=valid,
        repeat=repeat,
        reported_from=reported_from,
        reported_to=reported_to,
        q=q or "",
    )
    page = keyset_page(
        qs.select_related("community", "area", "category").only(*ITEM_COLUMNS),
        order=("-id",),
        cursor=cursor,
        size=limit,
    )
    return IncidentPage(
        items=[IncidentItem(**_item_fields(i)) for i in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/categories",
    response={200: list[CategoryNode], **error_responses(401)},
    summary="The 110 code tree: classes, their categories and subcategories",
)
def category_list(request: HttpRequest, include_inactive: bool = False) -> list[CategoryNode]:
    return [CategoryNode(**n) for n in selectors.category_tree(active_only=not include_inactive)]


def _station_seen(request: HttpRequest, station_id: int) -> Area:
    station = Area.objects.filter(pk=station_id, kind="station").only("id").first()
    if station is None or not services._reaches_station(request.user, "incident.view", station):
        raise Http404
    return station


def _config_out(station_id: int) -> ConfigOut:
    cfg = config_for(station_id)
    return ConfigOut(
        station_id=station_id,
        repeat_min=cfg.repeat_min,
        repeat_days=cfg.repeat_days,
        briefing_hour=cfg.briefing_hour,
        briefing_minute=cfg.briefing_minute,
        hotspot_resolution=cfg.hotspot_resolution,
    )


@router.get(
    "/settings/{int:station_id}",
    response={200: ConfigOut, **READ_ERRORS},
    summary="A station's incident settings (repeats, the briefing's time, hotspot resolution)",
)
def config_get(request: HttpRequest, station_id: int) -> ConfigOut:
    _station_seen(request, station_id)
    return _config_out(station_id)


@router.put(
    "/settings/{int:station_id}",
    response={200: ConfigOut, **WRITE_ERRORS},
    summary="Change a station's incident settings (chief); audited; re-flags repeats",
)
def config_put(request: HttpRequest, station_id: int, payload: ConfigIn) -> ConfigOut:
    values = {k: v for k, v in payload.model_dump().items() if v is not None}
    services.incident_config_update(actor=request.user, station_id=station_id, **values)
    return _config_out(station_id)


@router.get(
    "/staff/{int:station_id}",
    response={200: list[StaffOut], **READ_ERRORS},
    summary="The officers who may be dispatched at a station",
)
def staff_list(request: HttpRequest, station_id: int) -> list[StaffOut]:
    _station_seen(request, station_id)
    return [StaffOut(id=u.pk, name=u.label) for u in moves.station_staff(station_id)]


# --- one incident ---


@router.get(
    "/{int:incident_id}", response={200: IncidentOut, **READ_ERRORS}, summary="One incident"
)
def incident_detail(request: HttpRequest, incident_id: int) -> IncidentOut:
    return _detail(request, incident_id)


@router.get(
    "/{int:incident_id}/timeline",
    response={200: list[TimelineEntry], **READ_ERRORS},
    summary="The incident's audit trail, newest first (personal data redacted)",
)
def incident_timeline(request: HttpRequest, incident_id: int) -> list[TimelineEntry]:
    from fengqiao.incidents.timeline import action_label

    incident = access_incident(request.user, incident_id)
    return [
        TimelineEntry(
            at=e.at,
            actor=e.actor_label,
            action=e.action,
            label=str(action_label(e.action)),
            changes=e.changes,
        )
        for e in selectors.incident_timeline(incident=incident)
    ]


@router.post(
    "",
    response={200: IncidentOut, 201: IncidentOut, **WRITE_ERRORS},
    summary="Log an incident; 200 with the first one when the Idempotency-Key was used",
)
def incident_create(request: HttpRequest, payload: IncidentIn) -> Status[IncidentOut]:
    values = payload.model_dump()
    key = values.pop("idempotency_key") or request.headers.get("Idempotency-Key", "").strip()
    incident = services.incident_intake(actor=request.user, intake_key=key, **values)
    replayed = getattr(incident, "replayed", False)
    return Status(200 if replayed else 201, _detail(request, incident.pk))


@router.patch(
    "/{int:incident_id}",
    response={200: IncidentOut, **MOVE_ERRORS},
    summary="Correct an incident's facts; 409 conflict on a stale version",
)
def incident_update(
    request: HttpRequest, incident_id: int, payload: IncidentPatchIn
) -> IncidentOut:
    incident = access_incident(request.user, incident_id)
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    services.incident_update(actor=request.user, incident=incident, version=version, **changes)
    return _detail(request, incident_id)


@router.post(
    "/{int:incident_id}/dispatch",
    response={200: IncidentOut, **MOVE_ERRORS},
    summary="Send an officer of the station or a team; 409 illegal_transition with the reason",
)
def incident_dispatch(request: HttpRequest, incident_id: int, payload: DispatchIn) -> IncidentOut:
    incident = access_incident(request.user, incident_id)
    moves.incident_dispatch(actor=request.user, incident=incident, **payload.model_dump())
    return _detail(request, incident_id)


@router.post(
    "/{int:incident_id}/arrive",
    response={200: IncidentOut, **MOVE_ERRORS},
    summary="Record the arrival on scene",
)
def incident_arrive(request: HttpRequest, incident_id: int, payload: ArriveIn) -> IncidentOut:
    incident = access_incident(request.user, incident_id)
    moves.incident_arrive(actor=request.user, incident=incident, **payload.model_dump())
    return _detail(request, incident_id)


@router.post(
    "/{int:incident_id}/close",
    response={200: IncidentOut, **MOVE_ERRORS},
    summary="Close with a disposition (a dispute only through /convert)",
)
def incident_close(request: HttpRequest, incident_id: int, payload: CloseIn) -> IncidentOut:
    incident = access_incident(request.user, incident_id)
    values = payload.model_dump()
    values["linkage"] = values["linkage"] or ""
    moves.incident_close(actor=request.user, incident=incident, **values)
    return _detail(request, incident_id)


@router.post(
    "/{int:incident_id}/convert",
    response={200: IncidentOut, **MOVE_ERRORS},
    summary="Open a linked dispute and close the incident with it; a repeat changes nothing",
)
def incident_convert(request: HttpRequest, incident_id: int, payload: ConvertIn) -> IncidentOut:
    incident = access_incident(request.user, incident_id)
    values = payload.model_dump(exclude_none=True)
    values["parties"] = [
        {k: v for k, v in p.model_dump().items() if v != ""} for p in payload.parties
    ]
    moves.incident_convert(actor=request.user, incident=incident, **values)
    return _detail(request, incident_id)
