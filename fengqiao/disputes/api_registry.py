"""The disputes API: the station's registers — mediators, the duty rota and the routing list
(分流清单). The same services as the pages (`disputes.registry`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from fengqiao.core.pagination import keyset_page
from fengqiao.core.pii import mask_id_number, mask_phone
from fengqiao.core.schemas import CleanStr, Id
from fengqiao.disputes import registry
from fengqiao.disputes.api_routing import MOVE_ERRORS, READ_ERRORS, WRITE_ERRORS, Version, VersionIn
from fengqiao.disputes.choices import Channel, Grade, MediatorKind
from fengqiao.disputes.models import LawyerDuty, Mediator, RoutingRule

router = Router(tags=["disputes"])


# --- output ---


class MediatorOut(BaseModel):
    """A registry row: the phone and the ID number are always masked."""

    id: int
    station_id: int
    kind: str
    name: str
    organisation: str
    phone: str = Field(description="Masked (138****5678)")
    id_number: str = Field(description="Masked")
    address: str
    specialties: list[str]
    user_id: int | None
    active: bool
    version: int


class MediatorPage(BaseModel):
    items: list[MediatorOut]
    next_cursor: str | None


class DutyOut(BaseModel):
    id: int
    station_id: int
    mediator_id: int
    mediator_name: str
    day: date
    note: str


class RuleOut(BaseModel):
    id: int
    station_id: int
    type_code: str | None
    grade: str
    community_id: int | None
    channel: str
    pool: list[int]
    use_duty_rota: bool
    note: str
    active: bool
    version: int


def mediator_out(m: Mediator) -> MediatorOut:
    return MediatorOut(
        id=m.pk,
        station_id=m.station_id,
        kind=m.kind,
        name=m.name,
        organisation=m.organisation,
        phone=mask_phone(m.phone),
        id_number=mask_id_number(m.id_number),
        address=m.address,
        specialties=list(m.specialties),
        user_id=m.user_id,
        active=m.active,
        version=m.version,
    )


def rule_out(r: RoutingRule) -> RuleOut:
    return RuleOut(
        id=r.pk,
        station_id=r.station_id,
        type_code=r.type.code if r.type is not None else None,
        grade=r.grade,
        community_id=r.community_id,
        channel=r.channel,
        pool=sorted(m.pk for m in r.pool.all()),
        use_duty_rota=r.use_duty_rota,
        note=r.note,
        active=r.active,
        version=r.version,
    )


# --- input ---


class MediatorIn(Schema):
    model_config = ConfigDict(extra="forbid")

    station_id: Id
    kind: MediatorKind
    name: Annotated[CleanStr, Field(max_length=60)]
    organisation: Annotated[CleanStr, Field(max_length=100)] = ""
    phone: Annotated[CleanStr, Field(max_length=40)] = ""
    id_number: Annotated[CleanStr, Field(max_length=40)] = ""
    address: Annotated[CleanStr, Field(max_length=200)] = ""
    specialties: Annotated[
        list[Annotated[CleanStr, Field(max_length=8)]], Field(max_length=30)
    ] = []
    user_id: Id | None = None
    active: bool = True


class MediatorPatch(Schema):
    """Only the fields given change; `version` is the one last read."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    kind: MediatorKind | None = None
    name: Annotated[CleanStr, Field(max_length=60)] | None = None
    organisation: Annotated[CleanStr, Field(max_length=100)] | None = None
    phone: Annotated[CleanStr, Field(max_length=40)] | None = None
    id_number: Annotated[CleanStr, Field(max_length=40)] | None = None
    address: Annotated[CleanStr, Field(max_length=200)] | None = None
    specialties: (
        Annotated[list[Annotated[CleanStr, Field(max_length=8)]], Field(max_length=30)] | None
    ) = None
    user_id: Id | None = None
    active: bool | None = None


class DutyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    mediator_id: Id
    day: date
    note: Annotated[CleanStr, Field(max_length=100)] = ""


class RuleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    station_id: Id
    type_code: Annotated[CleanStr, Field(max_length=8)] = ""
    grade: Grade | Literal[""] = ""
    community_id: Id | None = None
    channel: Channel
    pool: Annotated[list[Id], Field(max_length=200)] = []
    use_duty_rota: bool = False
    note: Annotated[CleanStr, Field(max_length=200)] = ""
    active: bool = True


class RulePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    version: Version
    type_code: Annotated[CleanStr, Field(max_length=8)] | None = None
    grade: Grade | Literal[""] | None = None
    community_id: Id | None = None
    channel: Channel | None = None
    pool: Annotated[list[Id], Field(max_length=200)] | None = None
    use_duty_rota: bool | None = None
    note: Annotated[CleanStr, Field(max_length=200)] | None = None
    active: bool | None = None


# --- mediators ---


def _station_param(request: HttpRequest, perm: str, station_id: int | None) -> int:
    stations = registry.stations_for(request.user, perm)
    if station_id is None:
        if not stations:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return stations[0].pk
    if station_id not in {s.pk for s in stations}:
        raise Http404
    return station_id


@router.get(
    "/mediators",
    response={200: MediatorPage, **READ_ERRORS},
    summary="The station's mediator registry (chiefs)",
)
def mediator_list(
    request: HttpRequest,
    station_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    kind: MediatorKind | None = None,
    active: bool | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MediatorPage:
    sid = _station_param(request, "mediator.manage", station_id)
    qs = registry.mediators_of(station_id=sid)
    if kind:
        qs = qs.filter(kind=kind)
    if active is not None:
        qs = qs.filter(active=active)
    page = keyset_page(qs, order=("id",), cursor=cursor, size=limit)
    return MediatorPage(items=[mediator_out(m) for m in page.items], next_cursor=page.next_cursor)


@router.post("/mediators", response={201: MediatorOut, **WRITE_ERRORS}, summary="Add a mediator")
def mediator_create(request: HttpRequest, payload: MediatorIn) -> Status[MediatorOut]:
    values = payload.model_dump()
    station_id = values.pop("station_id")
    values["kind"] = str(values["kind"])
    m = registry.mediator_create(actor=request.user, station_id=station_id, **values)
    return Status(201, mediator_out(m))


@router.get("/mediators/{int:mediator_id}", response={200: MediatorOut, **READ_ERRORS})
def mediator_detail(request: HttpRequest, mediator_id: int) -> MediatorOut:
    return mediator_out(registry.access_mediator(request.user, mediator_id))


@router.patch(
    "/mediators/{int:mediator_id}",
    response={200: MediatorOut, **MOVE_ERRORS},
    summary="Change a mediator (409 conflict on a stale version); active=false deactivates",
)
def mediator_update(request: HttpRequest, mediator_id: int, payload: MediatorPatch) -> MediatorOut:
    m = registry.access_mediator(request.user, mediator_id)
    values = payload.model_dump(exclude_unset=True)
    version = values.pop("version")
    if "kind" in values and values["kind"] is not None:
        values["kind"] = str(values["kind"])
    m = registry.mediator_update(actor=request.user, mediator=m, version=version, **values)
    return mediator_out(m)


@router.post(
    "/mediators/{int:mediator_id}/deactivate",
    response={200: MediatorOut, **MOVE_ERRORS},
    summary="Take a mediator off duty",
)
def mediator_deactivate(request: HttpRequest, mediator_id: int, payload: VersionIn) -> MediatorOut:
    m = registry.access_mediator(request.user, mediator_id)
    m = registry.mediator_set_active(
        actor=request.user, mediator=m, version=payload.version, active=False
    )
    return mediator_out(m)


# --- rota ---


@router.get("/rota", response={200: list[DutyOut], **READ_ERRORS}, summary="One month's duty rota")
def rota_month(
    request: HttpRequest,
    station_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> list[DutyOut]:
    sid = _station_param(request, "mediator.manage", station_id)
    first, last = registry.month_bounds(month, timezone.localdate())
    return [
        DutyOut(
            id=d.pk,
            station_id=d.station_id,
            mediator_id=d.mediator_id,
            mediator_name=d.mediator.name,
            day=d.day,
            note=d.note,
        )
        for day in registry.rota_month(station_id=sid, first=first, last=last)
        for d in day.duties
    ]


@router.post("/rota", response={201: DutyOut, **WRITE_ERRORS}, summary="Put a mediator on duty")
def rota_add(request: HttpRequest, payload: DutyIn) -> Status[DutyOut]:
    m = Mediator.objects.filter(pk=payload.mediator_id).first()
    if m is None or not registry.can_manage(request.user, m.station_id):
        raise Http404
    d = registry.duty_add(actor=request.user, mediator_id=m.pk, day=payload.day, note=payload.note)
    return Status(
        201,
        DutyOut(
            id=d.pk,
            station_id=d.station_id,
            mediator_id=m.pk,
            mediator_name=m.name,
            day=d.day,
            note=d.note,
        ),
    )


@router.delete("/rota/{int:duty_id}", response={204: None, **WRITE_ERRORS})
def rota_remove(request: HttpRequest, duty_id: int) -> Status[None]:
    d = LawyerDuty.objects.select_related("mediator").filter(pk=duty_id).first()
    if d is None or not registry.can_manage(request.user, d.station_id):
        raise Http404
    registry.duty_remove(actor=request.user, duty=d)
    return Status(204, None)


# --- routing list ---


@router.get("/routing-rules", response={200: list[RuleOut], **READ_ERRORS})
def rule_list(
    request: HttpRequest, station_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None
) -> list[RuleOut]:
    sid = _station_param(request, "dispute.route", station_id)
    return [rule_out(r) for r in registry.rules_of(station_id=sid)]


@router.post("/routing-rules", response={201: RuleOut, **WRITE_ERRORS})
def rule_create(request: HttpRequest, payload: RuleIn) -> Status[RuleOut]:
    values = payload.model_dump()
    station_id = values.pop("station_id")
    values["channel"] = str(values["channel"])
    values["grade"] = str(values["grade"])
    r = registry.rule_create(actor=request.user, station_id=station_id, **values)
    return Status(201, rule_out(r))


@router.get("/routing-rules/{int:rule_id}", response={200: RuleOut, **READ_ERRORS})
def rule_detail(request: HttpRequest, rule_id: int) -> RuleOut:
    return rule_out(registry.access_rule(request.user, rule_id))


@router.patch("/routing-rules/{int:rule_id}", response={200: RuleOut, **MOVE_ERRORS})
def rule_update(request: HttpRequest, rule_id: int, payload: RulePatch) -> RuleOut:
    r = registry.access_rule(request.user, rule_id)
    values = payload.model_dump(exclude_unset=True)
    version = values.pop("version")
    for key in ("channel", "grade"):
        if values.get(key) is not None:
            values[key] = str(values[key])
    r = registry.rule_update(actor=request.user, rule=r, version=version, **values)
    return rule_out(r)
