"""The disputes API: intake, the queue, one case, and the moves the pages make on it."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from fengqiao.areas.models import Area
from fengqiao.core.errors import ValidationFailed
from fengqiao.core.pagination import keyset_page
from fengqiao.core.pii import mask_id_number, mask_phone
from fengqiao.core.schemas import CleanStr, Id, Latitude, Longitude, error_responses
from fengqiao.disputes import editing, selectors, services
from fengqiao.disputes.access import access_dispute
from fengqiao.disputes.choices import Channel, Colour, Consent, Grade, Source, Supervision
from fengqiao.disputes.choices import Status as CaseStatus
from fengqiao.disputes.exports import dispute_export as write_export
from fengqiao.disputes.models import Dispute, DisputeLink, DisputeType, Party
from fengqiao.disputes.validation import ADDRESS_MAX, NAME_MAX, NARRATIVE_MAX, NOTE_MAX

router = Router(tags=["disputes"])

READ_ERRORS = error_responses(401, 404, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
MOVE_ERRORS = {**WRITE_ERRORS, **error_responses(409)}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Long enough for any rule of the services, short enough that nobody posts a book.
TEXT_MAX = 1000


# --- output ---


class PartyOut(BaseModel):
    """A party as the API shows it: the phone and the ID number are always masked."""

    id: int
    kind: str
    role: str
    name: str
    phone: str = Field(description="Masked (138****5678)")
    id_number: str = Field(description="Masked (430***********1234)")
    address: str
    consent: str
    consent_at: datetime | None
    consent_note: str


class LinkOut(BaseModel):
    """A repeat: the other case, what matched, and how far apart the two are."""

    dispute_id: int
    case_number: str
    direction: Literal["earlier", "later"]
    matched_on: list[str]
    days_apart: int
    reason: str


class DisputeItem(BaseModel):
    """A case in a list. Plain pydantic, built from loaded rows (see areas.api.PlaceOut)."""

    id: int
    case_number: str
    station_id: int
    community_id: int
    community_name: str
    grid_id: int
    grid_name: str
    type_code: str
    type_name: str
    status: str
    grade: str
    colour: str
    threat_state: str
    occurred_at: datetime
    reported_at: datetime
    address: str
    mediator_id: int | None
    parties: list[PartyOut]
    version: int


class DisputeOut(DisputeItem):
    """One case with its triage, its reasons, the threat words found and its repeats."""

    narrative: str
    lat: float | None
    lng: float | None
    source: str
    referrer: str
    stat_type_code: str
    scale: str
    people_count: int
    amount: Decimal
    violence: bool
    death: bool
    special_groups: bool
    difficult: bool
    channels_involved: int
    grade_auto: str
    colour_auto: str
    colour_reasons: list[str] = Field(description="Why the rules gave this colour, in words")
    overridden: bool
    override_reason: str
    threat_words: list[str]
    status_changed_at: datetime
    closed_at: datetime | None
    next_statuses: list[str]
    channel: str
    deadline: date | None
    supervision: str
    links: list[LinkOut]
    created_at: datetime
    updated_at: datetime


class DisputePage(BaseModel):
    items: list[DisputeItem]
    next_cursor: str | None


def party_out(party: Party) -> PartyOut:
    """Return the API view of a party; its phone and ID number never leave unmasked."""
    return PartyOut(
        id=party.pk,
        kind=party.kind,
        role=party.role,
        name=party.name,
        phone=mask_phone(party.phone),
        id_number=mask_id_number(party.id_number),
        address=party.address,
        consent=party.consent,
        consent_at=party.consent_at,
        consent_note=party.consent_note,
    )


def _item_fields(d: Dispute) -> dict[str, Any]:
    return {
        "id": d.pk,
        "case_number": d.case_number,
        "station_id": d.station_id,
        "community_id": d.community_id,
        "community_name": d.community.name,
        "grid_id": d.area_id,
        "grid_name": d.area.name,
        "type_code": d.type.code,
        "type_name": d.type.name,
        "status": d.status,
        "grade": d.grade,
        "colour": d.colour,
        "threat_state": d.threat_state,
        "occurred_at": d.occurred_at,
        "reported_at": d.reported_at,
        "address": d.address,
        "mediator_id": d.mediator_id,
        "parties": [party_out(p) for p in d.parties.all()],
        "version": d.version,
    }


def _link_out(link: DisputeLink, direction: Literal["earlier", "later"]) -> LinkOut:
    other = link.other if direction == "earlier" else link.dispute
    return LinkOut(
        dispute_id=other.pk,
        case_number=other.case_number,
        direction=direction,
        matched_on=list(link.matched_on),
        days_apart=link.days_apart,
        reason=link.reason,
    )


def dispute_out(d: Dispute) -> DisputeOut:
    """Return the API view of one case, its parties and its repeats, loaded here."""
    links = [
        *(
            _link_out(link, "earlier")
            for link in d.links.select_related("other").only("other__case_number", "matched_on")
        ),
        *(
            _link_out(link, "later")
            for link in d.linked_from.select_related("dispute").only(
                "dispute__case_number", "matched_on"
            )
        ),
    ]
    return DisputeOut(
        **_item_fields(d),
        narrative=d.narrative,
        lat=d.lat,
        lng=d.lng,
        source=d.source,
        referrer=d.referrer,
        stat_type_code=d.stat_type.code,
        scale=d.scale,
        people_count=d.people_count,
        amount=d.amount,
        violence=d.violence,
        death=d.death,
        special_groups=d.special_groups,
        difficult=d.difficult,
        channels_involved=d.channels_involved,
        grade_auto=d.grade_auto,
        colour_auto=d.colour_auto,
        colour_reasons=d.reason_texts(),
        overridden=d.overridden,
        override_reason=d.override_reason,
        threat_words=list(d.threat_words),
        status_changed_at=d.status_changed_at,
        closed_at=d.closed_at,
        next_statuses=d.next_statuses(),
        channel=d.channel,
        deadline=d.deadline,
        supervision=d.supervision,
        links=links,
        created_at=d.created_at,
        updated_at=d.updated_at,
    )


def _detail(request: HttpRequest, dispute_id: int) -> DisputeOut:
    return dispute_out(access_dispute(request.user, dispute_id))


# --- input ---


class PartyIn(Schema):
    """One party; the service checks the phone, the ID number (GB 11643) and the choices."""

    model_config = ConfigDict(extra="forbid")

    kind: Annotated[CleanStr, Field(max_length=20, description="person or organisation")] = ""
    role: Annotated[CleanStr, Field(max_length=20, description="applicant, respondent, other")]
    name: Annotated[CleanStr, Field(max_length=NAME_MAX)] = ""
    phone: Annotated[CleanStr, Field(max_length=40)] = ""
    id_number: Annotated[CleanStr, Field(max_length=40)] = ""
    address: Annotated[CleanStr, Field(max_length=ADDRESS_MAX)] = ""
    consent: Annotated[CleanStr, Field(max_length=20)] = ""
    consent_note: Annotated[CleanStr, Field(max_length=NOTE_MAX)] = ""


class DisputeIn(Schema):
    """An intake: a map point (lat/lng) or an address with a grid_id."""

    model_config = ConfigDict(extra="forbid")

    station_id: Id
    narrative: Annotated[CleanStr, Field(max_length=NARRATIVE_MAX)]
    occurred_at: datetime
    reported_at: datetime | None = None
    source: Annotated[CleanStr, Field(max_length=20)]
    referrer: Annotated[CleanStr, Field(max_length=20)] = ""
    type_code: Annotated[CleanStr, Field(max_length=8, description="A subtype code (0201)")]
    scale: Annotated[CleanStr, Field(max_length=20)]
    parties: Annotated[list[PartyIn], Field(max_length=50)]
    lat: Latitude | None = None
    lng: Longitude | None = None
    address: Annotated[CleanStr, Field(max_length=ADDRESS_MAX)] = ""
    grid_id: Id | None = None
    people_count: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    amount: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None
    violence: bool = False
    death: bool = False
    special_groups: bool = False
    difficult: bool = False
    channels_involved: Annotated[int, Field(ge=1, le=2**15 - 1)] | None = None
    idempotency_key: Annotated[
        CleanStr,
        Field(max_length=64, description="Or the Idempotency-Key header: a retry makes no case"),
    ] = ""


Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The version last read")]
Reason = Annotated[CleanStr, Field(max_length=TEXT_MAX)]


class TransitionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    to: CaseStatus
    reason: Reason = ""
    version: Version


class OverrideIn(Schema):
    model_config = ConfigDict(extra="forbid")

    grade: Grade
    colour: Colour
    reason: Reason
    version: Version


class ThreatReviewIn(Schema):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["confirm", "dismiss"]
    note: Reason = ""
    version: Version


class ConsentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    consent: Consent
    note: Annotated[CleanStr, Field(max_length=TEXT_MAX)] = ""


# --- list ---


def _check_filters(
    user: Any, *, type_code: str | None, community: int | None, grid: int | None
) -> None:
    """Refuse (422) a type that does not exist or a community or grid the user cannot see."""
    errors: dict[str, list[str]] = {}
    if type_code and not DisputeType.objects.filter(code=type_code).exists():
        errors["type"] = [_("没有编码为“%(code)s”的纠纷类型。") % {"code": type_code}]
    seen = Area.objects.visible_to(user, "dispute.view")
    if community is not None and not seen.communities().filter(pk=community).exists():
        errors["community"] = [_("社区/村不存在，或不在您的辖区内。")]
    if grid is not None and not seen.grids().filter(pk=grid).exists():
        errors["grid"] = [_("网格不存在，或不在您的辖区内。")]
    if errors:
        raise ValidationFailed(_("筛选条件有误。"), fields=errors)


# What a list item reads: never the narrative's search text nor the areas' boundaries.
ITEM_COLUMNS = (
    "id",
    "case_number",
    "station_id",
    "community__name",
    "area__name",
    "type__code",
    "type__name",
    "status",
    "grade",
    "colour",
    "threat_state",
    "occurred_at",
    "reported_at",
    "address",
    "mediator_id",
    "version",
)
PARTY_COLUMNS = (
    "id",
    "dispute_id",
    "kind",
    "role",
    "name",
    "phone",
    "id_number",
    "address",
    "consent",
    "consent_at",
    "consent_note",
)


Queue = Literal["all", "mine", "open", "overdue"]


def _list_filters(
    *,
    community: int | None,
    grid: int | None,
    type: str | None,
    q: str | None,
    reported_from: date | None,
    reported_to: date | None,
    **choices: Any,
) -> dict[str, Any]:
    """Return the list's query parameters as `selectors.dispute_search` keywords."""
    if reported_from and reported_to and reported_from > reported_to:
        raise ValidationFailed(
            _("筛选条件有误。"), fields={"reported_to": [_("结束日期不能早于开始日期。")]}
        )
    return {
        **{k: v or None for k, v in choices.items()},
        "community_id": community,
        "grid_id": grid,
        "type_code": type or None,
        "q": q or "",
        "reported_from": reported_from,
        "reported_to": reported_to,
    }


@router.get(
    "",
    response={200: DisputePage, **READ_ERRORS},
    summary="Disputes the caller may see, newest first, one key-based page at a time",
)
def dispute_list(
    request: HttpRequest,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    status: CaseStatus | None = None,
    colour: Colour | None = None,
    grade: Grade | None = None,
    community: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    grid: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    type: Annotated[CleanStr | None, Query(max_length=8)] = None,
    q: Annotated[CleanStr | None, Query(max_length=100)] = None,
    channel: Channel | None = None,
    source: Source | None = None,
    supervision: Supervision | None = None,
    reported_from: date | None = None,
    reported_to: date | None = None,
    queue: Queue | None = None,
) -> DisputePage:
    qs = selectors.dispute_search(
        user=request.user,
        **_list_filters(
            status=status,
            colour=colour,
            grade=grade,
            community=community,
            grid=grid,
            type=type,
            q=q,
            channel=channel,
            source=source,
            supervision=supervision,
            reported_from=reported_from,
            reported_to=reported_to,
            queue=queue,
        ),
    )
    parties = Prefetch("parties", queryset=Party.objects.only(*PARTY_COLUMNS).order_by("id"))
    page = keyset_page(
        qs.select_related("type", "community", "area")
        .only(*ITEM_COLUMNS)
        .prefetch_related(parties),
        order=("-id",),
        cursor=cursor,
        size=limit,
    )
    if not page.items and (type or community is not None or grid is not None):
        # Only an empty page pays for telling a bad filter from one that found nothing.
        _check_filters(request.user, type_code=type, community=community, grid=grid)
    return DisputePage(
        items=[DisputeItem(**_item_fields(d)) for d in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/export.xlsx",
    response=READ_ERRORS,
    summary="The filtered list as XLSX (phones masked, audited); 422 beyond 50,000 rows",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The workbook",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def dispute_export(
    request: HttpRequest,
    status: CaseStatus | None = None,
    colour: Colour | None = None,
    grade: Grade | None = None,
    community: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    grid: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    type: Annotated[CleanStr | None, Query(max_length=8)] = None,
    q: Annotated[CleanStr | None, Query(max_length=100)] = None,
    channel: Channel | None = None,
    source: Source | None = None,
    supervision: Supervision | None = None,
    reported_from: date | None = None,
    reported_to: date | None = None,
    queue: Queue | None = None,
) -> FileResponse:
    filters = _list_filters(
        status=status,
        colour=colour,
        grade=grade,
        community=community,
        grid=grid,
        type=type,
        q=q,
        channel=channel,
        source=source,
        supervision=supervision,
        reported_from=reported_from,
        reported_to=reported_to,
        queue=queue,
    )
    if type or community is not None or grid is not None:
        _check_filters(request.user, type_code=type, community=community, grid=grid)
    fh = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        audit = {k: str(v) if isinstance(v, date) else v for k, v in filters.items() if v}
        write_export(actor=request.user, fh=fh, filters=filters, audit_filters=audit)
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(
        fh, as_attachment=True, filename=f"disputes-{stamp}.xlsx", content_type=XLSX
    )


# --- one case ---


@router.get("/{int:dispute_id}", response={200: DisputeOut, **READ_ERRORS}, summary="One case")
def dispute_detail(request: HttpRequest, dispute_id: int) -> DisputeOut:
    return _detail(request, dispute_id)


@router.post(
    "",
    response={200: DisputeOut, 201: DisputeOut, **WRITE_ERRORS},
    summary="Register a dispute; the answer carries its case number, grade, colour and reasons",
    description=(
        "An `Idempotency-Key` header (or `idempotency_key`, at most 64 characters) makes a "
        "retry safe: a repeat with the same key at the station creates nothing and answers "
        "200 with the case created first. A station the caller cannot reach is 404."
    ),
)
def dispute_create(request: HttpRequest, payload: DisputeIn) -> Status[DisputeOut]:
    values = payload.model_dump()
    values["parties"] = [p.model_dump() for p in payload.parties]
    key = values.pop("idempotency_key") or request.headers.get("Idempotency-Key", "").strip()
    dispute = services.dispute_intake(actor=request.user, intake_key=key, **values)
    return Status(200 if getattr(dispute, "replayed", False) else 201, _detail(request, dispute.pk))


class PartyPatchIn(PartyIn):
    """A party to edit (with its `id`) or to add (without); blank phone or ID: unchanged."""

    id: Id | None = None
    role: Annotated[CleanStr, Field(max_length=20)] = ""


class DisputePatchIn(Schema):
    """Corrections to what was registered; only the fields sent change."""

    model_config = ConfigDict(extra="forbid")

    version: Version
    narrative: Annotated[CleanStr, Field(max_length=NARRATIVE_MAX)] | None = None
    occurred_at: datetime | None = None
    type_code: Annotated[CleanStr, Field(max_length=8)] | None = None
    scale: Annotated[CleanStr, Field(max_length=20)] | None = None
    lat: Latitude | None = None
    lng: Longitude | None = None
    address: Annotated[CleanStr, Field(max_length=ADDRESS_MAX)] | None = None
    grid_id: Id | None = None
    people_count: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    amount: Annotated[Decimal, Field(allow_inf_nan=False)] | None = None
    violence: bool | None = None
    death: bool | None = None
    special_groups: bool | None = None
    difficult: bool | None = None
    channels_involved: Annotated[int, Field(ge=1, le=2**15 - 1)] | None = None
    parties: Annotated[list[PartyPatchIn], Field(max_length=50)] | None = None


@router.patch(
    "/{int:dispute_id}",
    response={200: DisputeOut, **MOVE_ERRORS},
    summary="Correct a case's registered facts and parties; the rules run again",
)
def dispute_update(request: HttpRequest, dispute_id: int, payload: DisputePatchIn) -> DisputeOut:
    dispute = access_dispute(request.user, dispute_id)
    changes = payload.model_dump(exclude_unset=True)
    version = changes.pop("version")
    if payload.parties is not None:
        changes["parties"] = [
            {k: v for k, v in p.model_dump(exclude_unset=True).items() if v not in ("", None)}
            for p in payload.parties
        ]
    editing.dispute_update(actor=request.user, dispute=dispute, version=version, **changes)
    return _detail(request, dispute_id)


@router.post(
    "/{int:dispute_id}/transition",
    response={200: DisputeOut, **MOVE_ERRORS},
    summary="Change the status; 409 illegal_transition with the reason, or conflict",
)
def dispute_transition(request: HttpRequest, dispute_id: int, payload: TransitionIn) -> DisputeOut:
    dispute = access_dispute(request.user, dispute_id)
    services.dispute_transition(
        actor=request.user,
        dispute=dispute,
        to=payload.to,
        version=payload.version,
        reason=payload.reason,
    )
    return _detail(request, dispute_id)


@router.post(
    "/{int:dispute_id}/override",
    response={200: DisputeOut, **MOVE_ERRORS},
    summary="Set grade and colour by a chief's judgement, with the reason",
)
def dispute_override(request: HttpRequest, dispute_id: int, payload: OverrideIn) -> DisputeOut:
    dispute = access_dispute(request.user, dispute_id)
    services.dispute_triage_override(
        actor=request.user,
        dispute=dispute,
        grade=payload.grade,
        colour=payload.colour,
        reason=payload.reason,
        version=payload.version,
    )
    return _detail(request, dispute_id)


@router.post(
    "/{int:dispute_id}/threat-review",
    response={200: DisputeOut, **MOVE_ERRORS},
    summary="Confirm or dismiss the threat words found in the narrative (dismiss: chiefs)",
)
def dispute_threat_review(
    request: HttpRequest, dispute_id: int, payload: ThreatReviewIn
) -> DisputeOut:
    dispute = access_dispute(request.user, dispute_id)
    services.dispute_threat_review(
        actor=request.user,
        dispute=dispute,
        confirmed=payload.decision == "confirm",
        version=payload.version,
        note=payload.note,
    )
    return _detail(request, dispute_id)


@router.post(
    "/{int:dispute_id}/parties/{int:party_id}/consent",
    response={200: PartyOut, **WRITE_ERRORS},
    summary="Record a party's willingness to mediate",
)
def party_consent(
    request: HttpRequest, dispute_id: int, party_id: int, payload: ConsentIn
) -> PartyOut:
    dispute = access_dispute(request.user, dispute_id)
    party = Party.objects.filter(dispute=dispute, pk=party_id).first()
    if party is None:
        raise Http404
    party = services.party_consent_record(
        actor=request.user, party=party, consent=payload.consent, note=payload.note
    )
    return party_out(party)
