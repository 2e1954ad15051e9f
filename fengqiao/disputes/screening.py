"""Screening visits (矛盾纠纷排查): the visit log, its list, and opening a dispute from a visit."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import scope_for
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_record, diff, snapshot
from fengqiao.core.errors import IllegalTransition
from fengqiao.core.pagination import Page, keyset_page
from fengqiao.disputes import services
from fengqiao.disputes.choices import Source, VisitResult
from fengqiao.disputes.editing import dispute_open_from
from fengqiao.disputes.models import Dispute, ScreeningVisit
from fengqiao.disputes.validation import (
    ADDRESS_MAX,
    NARRATIVE_MAX,
    Errors,
    clean_grid,
    clean_moment,
)

VISIT_LABEL = "disputes.screeningvisit"
VISITED_MAX = 100


def visits_visible_to(user: Any, perm: str = "dispute.view") -> Any:
    """Return the visits in the stations and areas where the user holds `perm`."""
    return ScreeningVisit.objects.filter(scope_for(user, perm).q())


def access_visit(user: Any, pk: int, *, action: str = "view") -> ScreeningVisit:
    """Return the visit if the user may `action` it; 404 alike for missing and forbidden."""
    visit = (
        visits_visible_to(user, f"dispute.{action}")
        .select_related("community", "area", "visitor", "dispute")
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise Http404
    return visit


def visit_page(
    *,
    user: Any,
    cursor: str | None = None,
    size: int = 50,
    community_id: int | None = None,
    grid_id: int | None = None,
    result: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Page[ScreeningVisit]:
    """Return the visits the user may see, newest first, one key-based page at a time."""
    qs = visits_visible_to(user)
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if grid_id is not None:
        qs = qs.filter(area_id=grid_id)
    if result:
        qs = qs.filter(result=result)
    if date_from is not None:
        qs = qs.filter(visited_at__gte=timezone.make_aware(datetime.combine(date_from, time.min)))
    if date_to is not None:
        end = datetime.combine(date_to + timedelta(days=1), time.min)
        qs = qs.filter(visited_at__lt=timezone.make_aware(end))
    return keyset_page(
        qs.select_related("community", "area", "visitor", "dispute").defer(
            "community__boundary", "area__boundary"
        ),
        order=("-visited_at", "-id"),
        cursor=cursor,
        size=size,
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _clean_visit(values: dict[str, Any], errors: Errors) -> dict[str, Any]:
    visited_at = clean_moment(values.get("visited_at"), "visited_at", _("走访时间"), errors)
    if visited_at is not None and visited_at > timezone.now():
        errors["visited_at"] = [_("走访时间不能晚于现在。")]
    visited = _text(values.get("visited"))
    if not visited:
        errors["visited"] = [_("请填写走访对象。")]
    elif len(visited) > VISITED_MAX:
        errors["visited"] = [_("走访对象不能超过%(n)d个字。") % {"n": VISITED_MAX}]
    address = _text(values.get("address"))
    if not address:
        errors["address"] = [_("请填写走访地址。")]
    elif len(address) > ADDRESS_MAX:
        errors["address"] = [_("地址不能超过%(n)d个字。") % {"n": ADDRESS_MAX}]
    findings = _text(values.get("findings"))
    if not findings:
        errors["findings"] = [_("请填写排查情况。")]
    elif len(findings) > NARRATIVE_MAX:
        errors["findings"] = [_("排查情况不能超过%(n)d个字。") % {"n": NARRATIVE_MAX}]
    result = _text(values.get("result"))
    if result not in VisitResult.values:
        errors["result"] = [_("请选择排查结果。")]
    return {
        "visited_at": visited_at,
        "visited": visited,
        "address": address,
        "findings": findings,
        "result": result,
    }


def screening_visit_create(
    *,
    actor: Any,
    station_id: int,
    visited_at: datetime | str,
    visited: str,
    address: str,
    findings: str,
    result: str,
    lat: float | str | None = None,
    lng: float | str | None = None,
    grid_id: int | str | None = None,
) -> ScreeningVisit:
    """Record a screening visit: who visited whom, where, what they found; audited.

    The place is a map point (its grid found automatically) or a grid chosen with the address.
    Those who may register disputes (`dispute.intake`) record visits; the visitor is the actor.
    """
    station = Area.objects.filter(pk=station_id, kind="station").first()
    if station is None or (actor is not None and not services._sees_station(actor, station)):
        raise Http404
    denied = _("您无权在该辖区登记排查走访。")
    if not services._reaches_station(actor, "dispute.intake", station):
        raise PermissionDenied(denied)
    values = {
        "visited_at": visited_at,
        "visited": visited,
        "address": address,
        "findings": findings,
        "result": result,
        "lat": lat,
        "lng": lng,
        "grid_id": grid_id,
    }
    errors: Errors = {}
    cleaned = _clean_visit(values, errors)
    grid, lat_value, lng_value = clean_grid(station, values, errors, address=cleaned["address"])
    if errors or grid is None:
        raise services._invalid(errors)
    services._require(
        actor, "dispute.intake", station_id=station.pk, area_id=grid.pk, message=denied
    )
    assert grid.parent_id is not None
    user = services._user(actor)
    with transaction.atomic():
        visit = ScreeningVisit.objects.create(
            station=station,
            community_id=grid.parent_id,
            area=grid,
            lat=lat_value,
            lng=lng_value,
            visitor=user,
            created_by=user,
            updated_by=user,
            **cleaned,
        )
        audit_record(
            actor=actor,
            action="disputes.screeningvisit.created",
            obj=visit,
            changes=diff({}, snapshot(visit)),
        )
    return visit


def visit_intake_initial(visit: ScreeningVisit) -> dict[str, Any]:
    """Return what a dispute opened from this visit starts with: source, narrative, place."""
    initial: dict[str, Any] = {
        "source": Source.SCREENING,
        "narrative": visit.findings,
        "occurred_at": visit.visited_at,
        "address": visit.address,
    }
    if visit.lat is not None and visit.lng is not None:
        initial.update(lat=visit.lat, lng=visit.lng)
    else:
        initial["grid_id"] = visit.area_id
    return initial


def screening_visit_open_dispute(
    *, actor: Any, visit: ScreeningVisit, **intake_fields: Any
) -> Dispute:
    """Open the dispute a visit found and link it to the visit; once per visit.

    `intake_fields` are those of `services.dispute_intake` (station, source and origin are
    set here). A visit that found no dispute is refused (IllegalTransition); a second call
    returns the case already opened.
    """
    if visit.result != VisitResult.DISPUTE:
        raise IllegalTransition(
            _("只有结果为“发现矛盾纠纷”的走访才能登记纠纷。"), code="visit_found_no_dispute"
        )
    if visit.dispute_id is not None:
        first = Dispute.objects.visible_to(actor).filter(pk=visit.dispute_id).first()
        if actor is not None and first is None:
            raise Http404
        first = first or Dispute.objects.get(pk=visit.dispute_id)
        first.replayed = True  # type: ignore[attr-defined]
        return first
    intake_fields.pop("station_id", None)
    intake_fields["source"] = Source.SCREENING
    with transaction.atomic():
        dispute = dispute_open_from(
            actor=actor,
            origin_label=VISIT_LABEL,
            origin_id=visit.pk,
            station_id=visit.station_id,
            **intake_fields,
        )
        locked = ScreeningVisit.objects.select_for_update().get(pk=visit.pk)
        if locked.dispute_id is None:
            locked.dispute = dispute
            locked.updated_by = services._user(actor)
            locked.save(update_fields=["dispute", "updated_by", "updated_at"])
            audit_record(
                actor=actor,
                action="disputes.dispute.opened_from_visit",
                obj=dispute,
                changes={"visit_id": visit.pk, "visited": visit.visited},
            )
            visit.dispute = dispute
    return dispute
