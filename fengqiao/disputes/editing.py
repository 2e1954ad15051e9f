"""Dispute writes after intake: correcting a case's facts, and intake on behalf of other modules.

`dispute_update` edits what was registered (never the status, the triage override or the
parties' consent, which have their own services) and re-runs the rules; `dispute_open_from`
is how other apps (incidents, the residents' portal, the screening log) open a case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_record, diff, snapshot
from fengqiao.core.errors import IllegalTransition, ValidationFailed
from fengqiao.core.search import search_index
from fengqiao.disputes import services
from fengqiao.disputes.choices import ThreatState
from fengqiao.disputes.models import Dispute, DisputeLink, Party
from fengqiao.disputes.selectors import dispute_repeat_days, repeat_matches
from fengqiao.disputes.triage import threat_words, triage
from fengqiao.disputes.validation import Errors, PartyInput, clean_grid, clean_intake

# What an edit may change; the location is lat/lng or address with grid_id, as at intake.
EDITABLE = (
    "narrative",
    "occurred_at",
    "address",
    "lat",
    "lng",
    "grid_id",
    "type_code",
    "scale",
    "people_count",
    "amount",
    "violence",
    "death",
    "special_groups",
    "difficult",
    "channels_involved",
    "parties",
)
# The columns an edit writes, besides the triage's; audited as a diff.
CASE_FIELDS = (
    "narrative",
    "occurred_at",
    "address",
    "lat",
    "lng",
    "area_id",
    "community_id",
    "type_id",
    "stat_type_id",
    "scale",
    "people_count",
    "amount",
    "violence",
    "death",
    "special_groups",
    "difficult",
    "channels_involved",
    "threat_words",
    "threat_state",
)
PARTY_FIELDS = ("kind", "role", "name", "phone", "id_number", "address")
ORIGIN_LABEL_MAX = 40


def _current_values(d: Dispute) -> dict[str, Any]:
    return {
        "narrative": d.narrative,
        "occurred_at": d.occurred_at,
        "reported_at": d.reported_at,
        "source": d.source,
        "referrer": d.referrer,
        "type_code": d.type.code,
        "scale": d.scale,
        "people_count": d.people_count,
        "amount": d.amount,
        "violence": d.violence,
        "death": d.death,
        "special_groups": d.special_groups,
        "difficult": d.difficult,
        "channels_involved": d.channels_involved,
        "address": d.address,
        "lat": d.lat,
        "lng": d.lng,
        "grid_id": d.area_id,
    }


def _party_values(party: Party) -> dict[str, Any]:
    return {
        "kind": party.kind,
        "role": party.role,
        "name": party.name,
        "phone": party.phone,
        "id_number": party.id_number,
        "address": party.address,
        "consent": party.consent,
        "consent_note": party.consent_note,
    }


def _merged_parties(
    existing: Sequence[Party], changes: Sequence[Mapping[str, Any]], errors: Errors
) -> list[tuple[Party | None, dict[str, Any]]]:
    """Return (row or None for a new party, full values) for each submitted party, in order.

    A submitted party with an `id` edits that party of the case; one without adds a party. The
    parties not submitted stay as they are and follow the submitted ones.
    """
    by_id = {p.pk: p for p in existing}
    out: list[tuple[Party | None, dict[str, Any]]] = []
    seen: set[int] = set()
    for i, raw in enumerate(changes):
        if not isinstance(raw, Mapping):
            errors[f"parties.{i}"] = [_("当事人信息格式不正确。")]
            continue
        raw_id = raw.get("id")
        if raw_id in (None, ""):
            out.append((None, {k: v for k, v in raw.items() if k != "id"}))
            continue
        try:
            row = by_id.get(int(str(raw_id)))
        except ValueError:
            row = None
        if row is None or row.pk in seen:
            errors[f"parties.{i}"] = [_("该当事人不属于本案。")]
            continue
        seen.add(row.pk)
        values = _party_values(row)
        # Consent has its own service (party_consent_record); an edit leaves it alone.
        values.update({k: raw[k] for k in PARTY_FIELDS if k in raw})
        out.append((row, values))
    out.extend((p, _party_values(p)) for p in existing if p.pk not in seen)
    return out


def _clean_update(
    dispute: Dispute, changes: Mapping[str, Any], parties: Sequence[Party]
) -> tuple[dict[str, Any], Errors, list[tuple[Party | None, PartyInput]], Area | None, tuple]:
    """Validate the case as it would be after the changes, with the intake's own rules."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise services._invalid({k: [_("该项不能修改。")] for k in unknown})
    values = _current_values(dispute)
    values.update({k: v for k, v in changes.items() if k != "parties"})
    # A new map point finds its own grid; a grid chosen alone drops the old point.
    if ("lat" in changes or "lng" in changes) and "grid_id" not in changes:
        values["grid_id"] = None
    elif "grid_id" in changes and "lat" not in changes and "lng" not in changes:
        values["lat"] = values["lng"] = None
    errors: Errors = {}
    merged = _merged_parties(parties, changes.get("parties") or [], errors)
    values["parties"] = [v for _row, v in merged]
    if "people_count" not in changes:
        # Parties added without a new count: the count grows to cover them, never shrinks.
        persons = sum(1 for _row, v in merged if (v.get("kind") or "person") == "person")
        values["people_count"] = max(dispute.people_count, persons)
    cleaned, found = clean_intake(values, now=timezone.now())
    # clean_intake keys party errors by position; the submitted ones come first, as sent.
    errors.update(found)
    inputs: list[tuple[Party | None, PartyInput]] = []
    if not errors:
        inputs = list(zip([row for row, _v in merged], cleaned["parties"], strict=True))
    grid, lat, lng = clean_grid(dispute.station, values, errors, address=cleaned["address"])
    return cleaned, errors, inputs, grid, (lat, lng)


def _apply_parties(
    *, actor: Any, dispute: Dispute, inputs: Sequence[tuple[Party | None, PartyInput]]
) -> tuple[list[dict[str, Any]], list[Party]]:
    """Write edited and new parties with fresh blind indexes; return the audit lines and rows."""
    user = services._user(actor)
    now = timezone.now()
    lines: list[dict[str, Any]] = []
    touched: list[Party] = []
    for row, p in inputs:
        if row is None:
            new = services._party_row(dispute, p, user, now)
            new.save()
            lines.append({"added": services._party_summary(new)})
            touched.append(new)
            continue
        before = snapshot(row, [*PARTY_FIELDS, "area_id"])
        row.kind, row.role, row.name = p.kind, p.role, p.name
        row.phone, row.id_number, row.address = p.phone, p.id_number, p.address
        row.phone_bidx, row.id_number_bidx = p.phone_bidx, p.id_number_bidx
        row.name_address_bidx = p.name_address_bidx
        row.area_id = dispute.area_id
        changed = diff(before, snapshot(row, before.keys()), Party.audit_redacted)
        if not changed:
            continue
        row.updated_by = user
        row.save()
        lines.append({"party_id": row.pk, "party": row.name, **changed})
        touched.append(row)
    return lines, touched


def dispute_update(*, actor: Any, dispute: Dispute, version: int, **changes: Any) -> Dispute:
    """Correct what was registered on a case; re-run the rules, re-index, audit the changes.

    Accepts the keys of EDITABLE (`parties`: a list where an item with `id` edits that party
    and one without adds a party). Refused on a finished case (IllegalTransition), on a stale
    `version` (Conflict) and, field by field, on bad input (ValidationFailed, as at intake).
    """
    denied = _("您无权修改该纠纷的登记信息。")
    where = {"station_id": dispute.station_id, "area_id": dispute.area_id}
    services._require(actor, "dispute.intake", **where, message=denied)
    with transaction.atomic():
        current = services._locked(dispute, version)
        if current.finished:
            raise IllegalTransition(_("案件已办结，不能再修改登记信息。"), code="finished")
        parties = list(current.parties.order_by("id"))
        cleaned, errors, inputs, grid, (lat, lng) = _clean_update(current, changes, parties)
        if errors or grid is None:
            raise services._invalid(errors)
        services._require(
            actor, "dispute.intake", station_id=current.station_id, area_id=grid.pk, message=denied
        )
        before = snapshot(current, CASE_FIELDS)
        triage_before = snapshot(current, services.TRIAGE_FIELDS)
        old_words = list(current.threat_words)
        cleaned.pop("parties")
        for name in ("reported_at", "source", "referrer"):
            cleaned.pop(name)
        new_type = cleaned.pop("type")
        for name, value in cleaned.items():
            setattr(current, name, value)
        current.type, current.stat_type = new_type, new_type.stat_type
        current.lat, current.lng = lat, lng
        assert grid.parent_id is not None  # a grid sits under a community or village
        current.area, current.community_id = grid, grid.parent_id
        if current.narrative != before["narrative"]:
            _rescan_threats(current, old_words)
        party_lines, touched = _apply_parties(actor=actor, dispute=current, inputs=inputs)
        if current.area_id != before["area_id"]:
            Party.objects.filter(dispute=current).update(area_id=current.area_id)
        case_changes = diff(before, snapshot(current, CASE_FIELDS), Dispute.audit_redacted)
        if not case_changes and not party_lines:
            return current
        _link_new_repeats(actor=actor, dispute=current, parties=touched)
        result = triage(services._facts(current, dispute_repeat_days(dispute=current)))
        lifted = services._apply_triage(current, result)
        names = list(current.parties.values_list("name", flat=True))
        current.search_text = services._search_text(current, names)
        current.version += 1
        current.updated_by = services._user(actor)
        current.save()
        search_index(label=services.DISPUTE_LABEL, rows=[(current.pk, current.search_text)])
        if party_lines:
            case_changes["parties"] = party_lines
        audit_record(
            actor=actor, action="disputes.dispute.updated", obj=current, changes=case_changes
        )
        if snapshot(current, services.TRIAGE_FIELDS) != triage_before:
            services._audit_triaged(
                actor=actor, dispute=current, result=result, cause="edit", override_lifted=lifted
            )
    return current


def _rescan_threats(dispute: Dispute, old_words: list[str]) -> None:
    """Find threat words in an edited narrative; new ones wait for a human again."""
    words = threat_words(dispute.narrative)
    dispute.threat_words = words
    if set(words) - set(old_words):
        dispute.threat_state = ThreatState.PENDING
        dispute.threat_reviewed_by, dispute.threat_reviewed_at = None, None
    elif not words:
        dispute.threat_state = ThreatState.NONE


def _link_new_repeats(*, actor: Any, dispute: Dispute, parties: Sequence[Party]) -> None:
    """Link repeats that edited or added parties reveal; known links are left alone."""
    if not parties:
        return
    linked = {
        *DisputeLink.objects.filter(dispute=dispute).values_list("other_id", flat=True),
        *DisputeLink.objects.filter(other=dispute).values_list("dispute_id", flat=True),
    }
    matches = [
        m
        for m in repeat_matches(
            station_id=dispute.station_id,
            occurred_at=dispute.occurred_at,
            parties=parties,
            exclude_id=dispute.pk,
        )
        if m.dispute_id not in linked and m.dispute_id != dispute.pk
    ]
    if matches:
        services._link_repeats(actor=actor, dispute=dispute, matches=matches)


def dispute_open_from(
    *, actor: Any, origin_label: str, origin_id: int, **intake_fields: Any
) -> Dispute:
    """Open a dispute from a record of another module; once per record.

    How other apps turn their records into disputes (an incident that is a dispute, a
    resident's request from the portal, a screening visit that found one)::

        dispute = dispute_open_from(
            actor=request.user,
            origin_label="incidents.incident",   # app_label.model, at most 40 characters
            origin_id=incident.pk,
            station_id=incident.station_id,
            narrative=..., occurred_at=..., source="police_call", type_code="0201",
            scale="individual", parties=[...], lat=..., lng=...,
        )

    `intake_fields` are the keyword arguments of `services.dispute_intake`, validated, located,
    triaged and audited the same way. The case keeps `origin_label` and `origin_id`, which the
    case page shows. A second call for the same record creates nothing and returns the case
    opened the first time (with `replayed = True` on it), even when two calls race: the
    origin is the intake's idempotency key, which a unique constraint guards. Raises what
    `dispute_intake` raises (ValidationFailed, PermissionDenied, Http404).
    """
    label = (origin_label or "").strip()
    if not label or len(label) > ORIGIN_LABEL_MAX or not origin_id or origin_id < 1:
        raise ValidationFailed(_("来源记录无效。"), fields={"origin_label": [_("来源记录无效。")]})
    if "intake_key" in intake_fields:
        raise TypeError("dispute_open_from sets the intake key itself")
    first = Dispute.objects.filter(origin_label=label, origin_id=origin_id).first()
    if first is not None:
        if actor is not None and not Dispute.objects.visible_to(actor).filter(pk=first.pk).exists():
            raise Http404
        first.replayed = True  # type: ignore[attr-defined]
        return first
    return services.dispute_intake(
        actor=actor,
        origin_label=label,
        origin_id=origin_id,
        intake_key=f"origin:{label}:{origin_id}",
        **intake_fields,
    )
