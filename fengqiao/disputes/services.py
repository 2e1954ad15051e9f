"""Dispute writes: intake, triage override, threat review, status changes, consent; audited.

Every entry about a case, its parties included, is written against the dispute, so the case
timeline is the dispute's audit trail (`selectors.dispute_timeline`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import scope_for, user_can
from fengqiao.areas.models import Area
from fengqiao.core.audit import REDACTED, audit_change, audit_record, diff, snapshot
from fengqiao.core.casenumbers import case_number_next
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.search import search_index
from fengqiao.core.text import search_document
from fengqiao.disputes.choices import (
    SEVERITY,
    Colour,
    Consent,
    Grade,
    Outcome,
    Status,
    Supervision,
    ThreatState,
)
from fengqiao.disputes.models import (
    FINISHED,
    REASON_REQUIRED,
    Agreement,
    Dispute,
    DisputeLink,
    Party,
)
from fengqiao.disputes.selectors import RepeatMatch, dispute_repeat_days, repeat_matches
from fengqiao.disputes.triage import Facts, Triage, threat_words, triage
from fengqiao.disputes.validation import (
    NOTE_MAX,
    Errors,
    PartyInput,
    clean_grid,
    clean_intake,
)

DISPUTE_LABEL = "disputes.dispute"
CASE_PREFIX = "MD"
REASON_MAX = 500
INTAKE_KEY_MAX = 64
# The fields that a re-run of the rules may change.
TRIAGE_FIELDS = (
    "grade_auto",
    "colour_auto",
    "colour_reasons",
    "grade",
    "colour",
    "override_reason",
    "overridden_by_id",
    "overridden_at",
)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _require(actor: Any, perm: str, *, station_id: int, area_id: int | None, message: str) -> None:
    """Raise PermissionDenied unless the actor holds `perm` there; None is the system itself."""
    # actor=None is how commands and demo data call services: no person to check.
    if actor is not None and not user_can(actor, perm, station_id=station_id, area_id=area_id):
        raise PermissionDenied(message)


def _reaches_station(actor: Any, perm: str, station: Area) -> bool:
    """Return whether the actor holds `perm` on the station or on one of its grids."""
    scope = scope_for(actor, perm)
    if scope.allows_station(station.pk):
        return True
    # A grid-level role may work in its own grids; the exact grid is checked once located.
    return bool(scope.area_ids) and (
        Area.objects.filter(pk__in=sorted(scope.area_ids), station_id=station.pk).exists()
    )


def _sees_station(actor: Any, station: Area) -> bool:
    """Return whether the actor sees the station or any area in it (a grid-level role)."""
    return Area.objects.visible_to(actor).filter(station_id=station.pk).exists()


def _invalid(errors: Errors) -> ValidationFailed:
    return ValidationFailed(_("请修改标出的错误后再保存。"), fields=errors)


def _locked(dispute: Dispute, version: int) -> Dispute:
    """Return the dispute locked for update, or raise Conflict if it moved past `version`."""
    current = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if current.version != version:
        raise Conflict(
            _(
                "该案件已被他人修改（您看到的是第 %(yours)d 版，现在是第 %(now)d 版），"
                "您的操作没有保存，请刷新后重试。"
            )
            % {"yours": version, "now": current.version}
        )
    return current


def _search_text(dispute: Dispute, names: Sequence[str]) -> str:
    return search_document(
        dispute.case_number, dispute.narrative, dispute.address, dispute.type.name, *names
    )


def _facts(dispute: Dispute, repeat_days: int | None) -> Facts:
    return Facts(
        type_code=dispute.type.code,
        scale=dispute.scale,
        people_count=dispute.people_count,
        amount=Decimal(dispute.amount),
        violence=dispute.violence,
        death=dispute.death,
        special_groups=dispute.special_groups,
        difficult=dispute.difficult,
        channels_involved=dispute.channels_involved,
        threat_words=tuple(dispute.threat_words),
        threat_state=dispute.threat_state,
        repeat_days=repeat_days,
    )


def _apply_triage(dispute: Dispute, result: Triage) -> bool:
    """Set the computed triage; the effective one too unless overridden; True if lifted.

    A chief's override stands until the rules raise the colour above it: a new repeat or a
    confirmed threat is never hidden behind an earlier, milder judgement.
    """
    dispute.grade_auto, dispute.colour_auto = result.grade, result.colour
    dispute.colour_reasons = result.reasons_json()
    if dispute.overridden_at is None:
        dispute.grade, dispute.colour = result.grade, result.colour
        return False
    if SEVERITY[result.colour] > SEVERITY[dispute.colour]:
        dispute.grade, dispute.colour = result.grade, result.colour
        dispute.override_reason, dispute.overridden_by, dispute.overridden_at = "", None, None
        return True
    return False


def _audit_triaged(
    *, actor: Any, dispute: Dispute, result: Triage, cause: str, **extra: Any
) -> None:
    audit_record(
        actor=actor,
        action="disputes.dispute.triaged",
        obj=dispute,
        changes={
            "cause": cause,
            "grade": dispute.grade,
            "colour": dispute.colour,
            "grade_auto": result.grade,
            "colour_auto": result.colour,
            "reasons": result.texts,
            **extra,
        },
    )


def _retriage(*, actor: Any, dispute: Dispute, cause: str) -> bool:
    """Run the rules again on a locked dispute; save, bump the version and audit if it changed."""
    before = snapshot(dispute, TRIAGE_FIELDS)
    result = triage(_facts(dispute, dispute_repeat_days(dispute=dispute)))
    lifted = _apply_triage(dispute, result)
    if snapshot(dispute, TRIAGE_FIELDS) == before:
        return False
    dispute.version += 1
    dispute.save(
        update_fields=[
            *(f.removesuffix("_id") for f in TRIAGE_FIELDS),
            "version",
            "updated_at",
        ]
    )
    _audit_triaged(actor=actor, dispute=dispute, result=result, cause=cause, override_lifted=lifted)
    return True


def _link_reason(match: RepeatMatch) -> str:
    labels = {"id_number": _("身份证号码"), "phone": _("联系电话"), "name_address": _("姓名和住址")}
    return _("与%(case)s的当事人相同（%(keys)s一致），两案相隔%(days)d天。") % {
        "case": match.case_number,
        "keys": "、".join(str(labels[k]) for k in match.matched_on),
        "days": match.days_apart,
    }


def _party_row(dispute: Dispute, p: PartyInput, user: Any, now: datetime) -> Party:
    return Party(
        dispute=dispute,
        station_id=dispute.station_id,
        area_id=dispute.area_id,
        kind=p.kind,
        role=p.role,
        name=p.name,
        phone=p.phone,
        id_number=p.id_number,
        address=p.address,
        phone_bidx=p.phone_bidx,
        id_number_bidx=p.id_number_bidx,
        name_address_bidx=p.name_address_bidx,
        consent=p.consent,
        consent_at=None if p.consent == Consent.UNDECIDED else now,
        consent_note=p.consent_note,
        created_by=user,
        updated_by=user,
    )


def _party_summary(party: Party) -> dict[str, Any]:
    """Return what the audit log keeps of a party: never the phone or the ID number."""
    return {
        "id": party.pk,
        "name": party.name,
        "kind": party.kind,
        "role": party.role,
        "consent": party.consent,
        "phone": REDACTED if party.phone else "",
        "id_number": REDACTED if party.id_number else "",
    }


def dispute_intake(
    *,
    actor: Any,
    station_id: int,
    narrative: str,
    occurred_at: datetime | str,
    source: str,
    type_code: str,
    scale: str,
    parties: Sequence[dict[str, Any]],
    lat: float | str | None = None,
    lng: float | str | None = None,
    address: str = "",
    grid_id: int | str | None = None,
    reported_at: datetime | str | None = None,
    referrer: str = "",
    people_count: int | str | None = None,
    amount: Decimal | int | float | str | None = None,
    violence: bool = False,
    death: bool = False,
    special_groups: bool = False,
    difficult: bool = False,
    channels_involved: int | str | None = None,
    intake_key: str = "",
    origin_label: str = "",
    origin_id: int | None = None,
) -> Dispute:
    """Register a dispute: validate, locate its grid, number it, triage it, link repeats.

    `intake_key` (a client's one-time token, at most 64 characters) makes the intake
    idempotent: a second call with a key already used at the station returns the first case,
    creates nothing, and sets `replayed = True` on the returned instance. A station the actor
    cannot see at all is Http404, as for any other case of another station; a station they
    see but where they may not register cases is PermissionDenied.
    """
    station = Area.objects.filter(pk=station_id, kind="station").first()
    if station is None:
        raise Http404
    if actor is not None and not _sees_station(actor, station):
        raise Http404
    denied = _("您无权在该辖区登记矛盾纠纷。")
    if actor is not None and not _reaches_station(actor, "dispute.intake", station):
        raise PermissionDenied(denied)
    intake_key = (intake_key or "").strip()
    if len(intake_key) > INTAKE_KEY_MAX:
        raise _invalid({"intake_key": [_("重复提交校验码过长。")]})
    if intake_key:
        first = _intake_replay(station.pk, intake_key)
        if first is not None:
            return first
    values: dict[str, Any] = {
        "narrative": narrative,
        "occurred_at": occurred_at,
        "reported_at": reported_at,
        "source": source,
        "referrer": referrer,
        "type_code": type_code,
        "scale": scale,
        "people_count": people_count,
        "amount": amount,
        "parties": parties,
        "violence": violence,
        "death": death,
        "special_groups": special_groups,
        "difficult": difficult,
        "channels_involved": channels_involved,
        "address": address,
        "lat": lat,
        "lng": lng,
        "grid_id": grid_id,
    }
    now = timezone.now()
    cleaned, errors = clean_intake(values, now=now)
    grid, lat_value, lng_value = clean_grid(station, values, errors, address=cleaned["address"])
    if errors or grid is None:
        raise _invalid(errors)
    _require(actor, "dispute.intake", station_id=station.pk, area_id=grid.pk, message=denied)
    # A grid always sits under a community or village (areas.models.PARENT_KINDS).
    assert grid.parent_id is not None
    inputs: list[PartyInput] = cleaned.pop("parties")
    words = threat_words(cleaned["narrative"])
    user = _user(actor)
    try:
        return _intake_save(
            actor=actor,
            station=station,
            grid=grid,
            cleaned=cleaned,
            inputs=inputs,
            words=words,
            position=(lat_value, lng_value),
            origin=(intake_key, (origin_label or "").strip()[:40], origin_id),
            user=user,
            now=now,
        )
    except IntegrityError:
        # Two submits with one key raced past the look-up above: the loser returns the winner.
        first = _intake_replay(station.pk, intake_key) if intake_key else None
        if first is None:
            raise
        return first


def _intake_replay(station_id: int, intake_key: str) -> Dispute | None:
    """Return the case already registered with this key, marked as replayed, or None."""
    first = Dispute.objects.filter(station_id=station_id, intake_key=intake_key).first()
    if first is not None:
        first.replayed = True  # type: ignore[attr-defined]
    return first


def _intake_save(
    *,
    actor: Any,
    station: Area,
    grid: Area,
    cleaned: dict[str, Any],
    inputs: list[PartyInput],
    words: list[str],
    position: tuple[float | None, float | None],
    origin: tuple[str, str, int | None],
    user: Any,
    now: datetime,
) -> Dispute:
    lat_value, lng_value = position
    assert grid.parent_id is not None
    with transaction.atomic():
        matches = repeat_matches(
            station_id=station.pk, occurred_at=cleaned["occurred_at"], parties=inputs
        )
        dispute = Dispute(
            station=station,
            community_id=grid.parent_id,
            area=grid,
            lat=lat_value,
            lng=lng_value,
            stat_type=cleaned["type"].stat_type,
            threat_words=words,
            threat_state=ThreatState.PENDING if words else ThreatState.NONE,
            status=Status.RECEIVED,
            status_changed_at=now,
            created_by=user,
            updated_by=user,
            intake_key=origin[0],
            origin_label=origin[1],
            origin_id=origin[2],
            **cleaned,
        )
        result = triage(_facts(dispute, min((m.days_apart for m in matches), default=None)))
        _apply_triage(dispute, result)
        dispute.case_number = case_number_next(
            station_id=station.pk,
            prefix=CASE_PREFIX,
            year=timezone.localtime(dispute.reported_at).year,
        )
        dispute.search_text = _search_text(dispute, [p.name for p in inputs])
        dispute.save()
        rows = Party.objects.bulk_create([_party_row(dispute, p, user, now) for p in inputs])
        search_index(label=DISPUTE_LABEL, rows=[(dispute.pk, dispute.search_text)], fresh=True)
        created = diff({}, snapshot(dispute), Dispute.audit_redacted)
        created["parties"] = [_party_summary(p) for p in rows]
        audit_record(actor=actor, action="disputes.dispute.created", obj=dispute, changes=created)
        _audit_triaged(
            actor=actor, dispute=dispute, result=result, cause="intake", threat_words=words
        )
        _link_repeats(actor=actor, dispute=dispute, matches=matches)
    return dispute


def _link_repeats(*, actor: Any, dispute: Dispute, matches: Sequence[RepeatMatch]) -> None:
    """Link the new dispute to its repeats, audit both ends, and re-triage the open ones."""
    for match in matches:
        link = DisputeLink.objects.create(
            dispute=dispute,
            other_id=match.dispute_id,
            station_id=dispute.station_id,
            matched_on=list(match.matched_on),
            days_apart=match.days_apart,
            reason=_link_reason(match),
        )
        other = (
            Dispute.objects.select_for_update(of=("self",))
            .select_related("type")
            .get(pk=match.dispute_id)
        )
        for here, there in ((dispute, other), (other, dispute)):
            audit_record(
                actor=actor,
                action="disputes.dispute.linked",
                obj=here,
                changes={
                    "other": there.case_number,
                    "other_id": there.pk,
                    "matched_on": list(match.matched_on),
                    "days_apart": match.days_apart,
                    "reason": link.reason,
                },
            )
        if other.status not in FINISHED:
            _retriage(actor=actor, dispute=other, cause="repeat")


def dispute_triage_override(
    *, actor: Any, dispute: Dispute, grade: str, colour: str, reason: str, version: int
) -> Dispute:
    """Set the grade and colour by a chief's judgement, with the reason; audited."""
    _require(
        actor,
        "dispute.override",
        station_id=dispute.station_id,
        area_id=dispute.area_id,
        message=_("只有所长或指挥室可以调整分级和预警颜色。"),
    )
    errors: Errors = {}
    if grade not in Grade.values:
        errors["grade"] = [_("请选择分级（日常琐事、民间纠纷或重大矛盾）。")]
    if colour not in Colour.values:
        errors["colour"] = [_("请选择预警颜色（红、橙、黄、蓝）。")]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("请说明调整理由。")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("理由不能超过%(n)d个字。") % {"n": REASON_MAX}]
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        current = _locked(dispute, version)
        if current.finished:
            raise IllegalTransition(_("案件已办结，不能再调整分级和预警颜色。"), code="finished")
        if current.grade == grade and current.colour == colour:
            raise ValidationFailed(
                _("分级和预警颜色都没有改变。"), fields={"colour": [_("与当前相同")]}
            )
        before = snapshot(current, ["grade", "colour", "override_reason", "overridden_by_id"])
        current.grade, current.colour, current.override_reason = grade, colour, reason
        current.overridden_by, current.overridden_at = _user(actor), timezone.now()
        current.version += 1
        current.updated_by = _user(actor)
        current.save(
            update_fields=[
                "grade",
                "colour",
                "override_reason",
                "overridden_by",
                "overridden_at",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit_change(actor=actor, action="disputes.dispute.overridden", obj=current, before=before)
    return current


def dispute_threat_review(
    *, actor: Any, dispute: Dispute, confirmed: bool, version: int, note: str = ""
) -> Dispute:
    """Confirm or dismiss the threat words found in the narrative, and re-run the rules.

    Confirming needs `dispute.handle`; dismissing lowers the risk, so it needs a chief.
    """
    perm = "dispute.handle" if confirmed else "dispute.override"
    message = (
        _("您无权办理该纠纷。") if confirmed else _("只有所长或指挥室可以排除威胁或暴力字词。")
    )
    _require(actor, perm, station_id=dispute.station_id, area_id=dispute.area_id, message=message)
    note = (note or "").strip()
    if len(note) > REASON_MAX:
        raise _invalid({"note": [_("说明不能超过%(n)d个字。") % {"n": REASON_MAX}]})
    with transaction.atomic():
        current = _locked(dispute, version)
        if current.threat_state != ThreatState.PENDING:
            raise IllegalTransition(_("本案没有待确认的威胁或暴力字词。"), code="no_pending_threat")
        current.threat_state = ThreatState.CONFIRMED if confirmed else ThreatState.DISMISSED
        current.threat_reviewed_by, current.threat_reviewed_at = _user(actor), timezone.now()
        audit_record(
            actor=actor,
            action=f"disputes.dispute.threat_{current.threat_state}",
            obj=current,
            changes={
                "threat_state": [ThreatState.PENDING, current.threat_state],
                "threat_words": current.threat_words,
                "note": note,
            },
        )
        current.updated_by = _user(actor)
        current.save(
            update_fields=["threat_state", "threat_reviewed_by", "threat_reviewed_at", "updated_by"]
        )
        if not _retriage(actor=actor, dispute=current, cause="threat_review"):
            current.version += 1
            current.save(update_fields=["version", "updated_at"])
    return current


# The outcome a move settles; closing takes the agreement's own (success or partial).
OUTCOME_OF_STATUS: dict[str, str] = {
    Status.FAILED: Outcome.FAILED,
    Status.REFERRED: Outcome.FAILED,
    Status.WITHDRAWN: Outcome.WITHDRAWN,
    Status.TERMINATED: Outcome.TERMINATED,
}


def _outcome_after(dispute: Dispute, to: str) -> str:
    """Return the case's outcome once it moves to `to`: set when it ends, cleared on reopening."""
    if to == Status.CLOSED:
        # The agreement in effect; a case agreed without a recorded one counts as a success.
        latest = (
            Agreement.objects.filter(dispute_id=dispute.pk, concluded_at__isnull=False)
            .order_by("-concluded_at", "-id")
            .values_list("outcome", flat=True)
            .first()
        )
        return latest or Outcome.SUCCESS
    if to == Status.REOPENED:
        return ""
    return OUTCOME_OF_STATUS.get(to, dispute.outcome)


def dispute_transition(
    *, actor: Any, dispute: Dispute, to: str, version: int, reason: str = ""
) -> Dispute:
    """Move the case to status `to` if the transition table and its guards allow; audited."""
    _require(
        actor,
        "dispute.handle",
        station_id=dispute.station_id,
        area_id=dispute.area_id,
        message=_("您无权办理该纠纷。"),
    )
    reason = (reason or "").strip()
    with transaction.atomic():
        current = _locked(dispute, version)
        current.check_transition(to)
        if to == Status.TRIAGED and current.threat_state == ThreatState.PENDING:
            raise IllegalTransition(
                _("叙述中的威胁或暴力字词尚待确认，请先确认或排除，再完成研判。"),
                code="threat_pending",
            )
        if to == Status.ASSIGNED and current.mediator_id is None:
            raise IllegalTransition(_("尚未指定调解员，不能分流指派。"), code="no_mediator")
        # Agreed and referred are the result of their own step, never a bare status change.
        if to == Status.AGREED and not (
            Agreement.objects.filter(
                dispute_id=current.pk, concluded_at__gte=current.status_changed_at
            ).exists()
        ):
            raise IllegalTransition(
                _("调解协议尚未经各方当事人签署生效，案件不能记为已达成协议。"),
                code="no_agreement",
            )
        if to == Status.REFERRED and not (
            current.referrals.filter(referred_at__gte=current.status_changed_at).exists()
        ):
            raise IllegalTransition(
                _("请通过“移送”登记接收单位和移送理由，案件才能记为已移送。"),
                code="no_referral",
            )
        if to in REASON_REQUIRED and not reason:
            raise _invalid({"reason": [_("请说明理由。")]})
        if len(reason) > REASON_MAX:
            raise _invalid({"reason": [_("理由不能超过%(n)d个字。") % {"n": REASON_MAX}]})
        old = current.status
        now = timezone.now()
        current.status, current.status_changed_at = to, now
        if to in FINISHED:
            current.closed_at = now
        changes: dict[str, Any] = {"status": [old, to], "reason": reason}
        if to == Status.REOPENED:
            current.closed_at = None
            if current.deadline is not None:
                # Handled again from today: a fresh period for its grade, the old card lifted.
                from fengqiao.disputes.deadlines import deadline_for

                deadline = deadline_for(current.grade, timezone.localdate())
                changes["deadline"] = [current.deadline.isoformat(), deadline.isoformat()]
                current.deadline, current.extended_days = deadline, 0
                current.supervision, current.supervised_at = Supervision.NONE, None
        current.outcome = _outcome_after(current, to)
        current.version += 1
        current.updated_by = _user(actor)
        current.save(
            update_fields=[
                "status",
                "status_changed_at",
                "closed_at",
                "outcome",
                "deadline",
                "extended_days",
                "supervision",
                "supervised_at",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="disputes.dispute.status_changed",
            obj=current,
            changes=changes,
        )
        if to == Status.TRIAGED:
            # Triage done: the routing list's line puts the case in its pool's queue.
            from fengqiao.disputes.routing import route_on_triage

            route_on_triage(actor=actor, dispute=current)
    return current


def party_consent_record(*, actor: Any, party: Party, consent: str, note: str = "") -> Party:
    """Record a party's willingness to mediate; declining is recorded and never blocks the case."""
    _require(
        actor,
        "dispute.handle",
        station_id=party.station_id,
        area_id=party.area_id,
        message=_("您无权办理该纠纷。"),
    )
    note = (note or "").strip()
    errors: Errors = {}
    if consent not in Consent.values:
        errors["consent"] = [_("调解意愿应为同意、拒绝或未表态。")]
    if len(note) > NOTE_MAX:
        errors["note"] = [_("表态说明不能超过%(n)d个字。") % {"n": NOTE_MAX}]
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        current = (
            Party.objects.select_for_update(of=("self",)).select_related("dispute").get(pk=party.pk)
        )
        if current.consent == consent and current.consent_note == note:
            return current
        before = snapshot(current, ["consent", "consent_at", "consent_note"])
        current.consent, current.consent_note = consent, note
        current.consent_at = timezone.now()
        current.updated_by = _user(actor)
        current.save(
            update_fields=["consent", "consent_at", "consent_note", "updated_by", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="disputes.party.consent_recorded",
            obj=current.dispute,
            changes={
                "party_id": current.pk,
                "party": current.name,
                **diff(before, snapshot(current, before.keys())),
            },
        )
    return current
