"""Routing (清单式分流): the rule for a case, the proposal, and assignment (assign, claim,
release, reassign).

Which line of the routing list applies (`rule_for`): among the station's active lines whose type,
grade and community each match the case or are left empty ("any"), the most specific wins,
compared in this order:

0. a major dispute (重大矛盾) goes by a line that names that grade, if there is one: the
   stations send major disputes to the joint group that the chief leads, whatever their type;
1. type: the case's subtype (0201) beats its class (02), which beats any type;
2. then community: the case's community beats any community;
3. then grade: the case's grade beats any grade;
4. then the oldest line (lowest id), so that the answer never depends on the database.

So a line "0201 × any grade × any community" beats "02 × civil × 社区1": the type says most
about who should mediate. The pool is the line's active mediators, plus the mediators on the
duty rota that day when the line says so; a pool member who is a party, or lives at a party's
address, is left out with the reason; the proposal is the eligible member with the fewest open
cases (ties: the lowest id). An assignment starts the deadline (`deadlines.deadline_for`);
extensions and supervision live in `disputes.deadlines`.

Every write is audited against the dispute, so the case timeline shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.core.audit import audit_record
from fengqiao.core.errors import IllegalTransition, ValidationFailed
from fengqiao.disputes import services
from fengqiao.disputes.choices import Channel, Grade, MediatorKind, Status, Supervision
from fengqiao.disputes.deadlines import deadline_for
from fengqiao.disputes.models import FINISHED, Dispute, Mediator, RoutingRule
from fengqiao.disputes.registry import on_duty
from fengqiao.disputes.routing_checks import (
    _check_mediator,
    _get_mediator,
    _locked,
    _reason,
    _require,
    _user,
    conflicts,
)

# Statuses from which a case may be assigned (the transition table's → assigned).
ASSIGNABLE = frozenset({Status.TRIAGED, Status.REOPENED})
# Statuses in which a case may be put in a pool's queue before it is assigned.
ROUTABLE = frozenset({Status.RECEIVED, Status.TRIAGED, Status.REOPENED})
# Each kind of mediator mediates through one channel, used when a chief assigns by hand.
KIND_CHANNEL: dict[str, str] = {
    MediatorKind.COMMUNITY: Channel.COMMUNITY,
    MediatorKind.LAWYER: Channel.LAWYER,
    MediatorKind.JUDICIAL: Channel.JUDICIAL,
    MediatorKind.JOINT: Channel.JOINT,
    MediatorKind.POLICE: Channel.POLICE,
    MediatorKind.SECTOR: Channel.SECTOR,
}


# --- reads ---


def rule_for(dispute: Dispute) -> RoutingRule | None:
    """Return the most specific active line of the routing list for the case (see above)."""
    t = dispute.type
    rules = (
        RoutingRule.objects.filter(station_id=dispute.station_id, active=True)
        .filter(Q(type__isnull=True) | Q(type_id=t.pk) | Q(type_id=t.parent_id or -1))
        .filter(Q(grade="") | Q(grade=dispute.grade))
        .filter(Q(community__isnull=True) | Q(community_id=dispute.community_id))
        .order_by("id")
    )

    def rank(r: RoutingRule) -> tuple[int, int, int, int, int]:
        type_rank = 0 if r.type_id is None else (2 if r.type_id == t.pk else 1)
        return (
            -(r.grade == Grade.MAJOR),
            -type_rank,
            -(r.community_id is not None),
            -(r.grade != ""),
            r.pk,
        )

    found = sorted(rules, key=rank)
    return found[0] if found else None


def open_counts(mediator_ids: list[int]) -> dict[int, int]:
    """Return how many unfinished cases each mediator holds."""
    rows = (
        Dispute.objects.filter(mediator_id__in=mediator_ids)
        .exclude(status__in=sorted(FINISHED))
        .order_by()
        .values_list("mediator_id")
        .annotate(n=Count("id"))
    )
    return {mid: n for mid, n in rows}


@dataclass
class Candidate:
    mediator: Mediator
    open_cases: int
    on_duty: bool
    in_pool: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons


@dataclass
class Proposal:
    """What the routing list proposes for a case, and why."""

    rule: RoutingRule | None
    channel: str
    candidates: list[Candidate]
    mediator: Mediator | None
    why: list[str]

    @property
    def ineligible(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.eligible]

    @property
    def pool_ids(self) -> set[int]:
        return {c.mediator.pk for c in self.candidates}


def _pool(rule: RoutingRule, day: date) -> tuple[list[Mediator], set[int], set[int]]:
    members = list(rule.pool.filter(active=True, station_id=rule.station_id).order_by("id"))
    in_pool = {m.pk for m in members}
    duty: set[int] = set()
    if rule.use_duty_rota:
        for m in on_duty(station_id=rule.station_id, day=day):
            duty.add(m.pk)
            if m.pk not in in_pool:
                members.append(m)
    return members, in_pool, duty


def proposal(
    dispute: Dispute, *, rule: RoutingRule | None = None, day: date | None = None
) -> Proposal:
    """Return the channel and the mediator the routing list proposes, with the reasons."""
    day = day or timezone.localdate()
    rule = rule or rule_for(dispute)
    if rule is None:
        return Proposal(
            None,
            "",
            [],
            None,
            [_("本所分流清单中没有适用于本案的规则，请所长指定调解员，或补充分流清单。")],
        )
    members, in_pool, duty = _pool(rule, day)
    counts = open_counts([m.pk for m in members])
    barred = conflicts(dispute, members)
    candidates = [
        Candidate(
            mediator=m,
            open_cases=counts.get(m.pk, 0),
            on_duty=m.pk in duty,
            in_pool=m.pk in in_pool,
            reasons=barred.get(m.pk, []),
        )
        for m in members
    ]
    candidates.sort(key=lambda c: (c.open_cases, c.mediator.pk))
    eligible = [c for c in candidates if c.eligible]
    why = [_describe_rule(rule)]
    if rule.use_duty_rota:
        names = "、".join(c.mediator.name for c in candidates if c.on_duty) or _("无")
        why.append(_("当日值班律师加入调解员库：%(names)s。") % {"names": names})
    chosen = eligible[0].mediator if eligible else None
    if chosen is not None:
        why.append(
            _("%(name)s在调解员库中在办案件最少（%(n)d件）。")
            % {"name": chosen.name, "n": eligible[0].open_cases}
        )
    elif candidates:
        why.append(_("调解员库中的调解员均须回避，请所长另行指定。"))
    else:
        why.append(_("调解员库中没有在岗的调解员，请所长另行指定。"))
    return Proposal(rule, rule.channel, candidates, chosen, why)


def _describe_rule(rule: RoutingRule) -> str:
    any_ = _("任意")
    return _(
        "适用分流清单第%(id)d条（类型：%(type)s；分级：%(grade)s；社区：%(community)s）"
        "→ %(channel)s。"
    ) % {
        "id": rule.pk,
        "type": rule.type.name if rule.type is not None else any_,
        "grade": rule.get_grade_display() if rule.grade else any_,
        "community": rule.community.name if rule.community is not None else any_,
        "channel": rule.get_channel_display(),
    }


def mediators_of_user(user: Any, station_id: int) -> list[Mediator]:
    """Return the user's active registry rows at the station (one at most)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return list(Mediator.objects.filter(user=user, station_id=station_id, active=True))


# --- writes: routing and assignment ---


def dispute_route(*, actor: Any, dispute: Dispute, version: int) -> Dispute:
    """Put the case in the queue of the routing list's pool (the proposal), not yet assigned."""
    _require(actor, "dispute.assign", dispute, _("您无权分流该案件。"))
    with transaction.atomic():
        current = _locked(dispute, version)
        if current.status not in ROUTABLE or current.mediator_id is not None:
            raise IllegalTransition(
                _("只有尚未指派调解员的案件才能按清单分流。"), code="not_routable"
            )
        rule = rule_for(current)
        if rule is None:
            raise IllegalTransition(
                _("本所分流清单中没有适用于本案的规则，请所长指定调解员，或补充分流清单。"),
                code="no_rule",
            )
        old = (current.routing_rule_id, current.channel)
        current.routing_rule, current.channel = rule, rule.channel
        current.version += 1
        current.updated_by = _user(actor)
        current.save(
            update_fields=["routing_rule", "channel", "version", "updated_by", "updated_at"]
        )
        audit_record(
            actor=actor,
            action="disputes.dispute.routed",
            obj=current,
            changes={
                "routing_rule_id": [old[0], rule.pk],
                "channel": [old[1], rule.channel],
                "why": _describe_rule(rule),
            },
        )
    return current


def route_on_triage(*, actor: Any, dispute: Dispute) -> RoutingRule | None:
    """Store the routing list's line on a case just triaged (inside the caller's transaction).

    The pool's mediators then find the case in their queue; nothing is assigned yet. Part of
    the triage step: the version is not bumped again. A case with no matching line is left
    for the chief.
    """
    if dispute.mediator_id is not None:
        return None
    rule = rule_for(dispute)
    if rule is None or rule.pk == dispute.routing_rule_id:
        return None
    old = (dispute.routing_rule_id, dispute.channel)
    dispute.routing_rule, dispute.channel = rule, rule.channel
    dispute.save(update_fields=["routing_rule", "channel", "updated_at"])
    audit_record(
        actor=actor,
        action="disputes.dispute.routed",
        obj=dispute,
        changes={
            "routing_rule_id": [old[0], rule.pk],
            "channel": [old[1], rule.channel],
            "why": _describe_rule(rule),
            "cause": "triage",
        },
    )
    return rule


def _assign(
    *,
    actor: Any,
    current: Dispute,
    mediator: Mediator,
    rule: RoutingRule | None,
    channel: str,
    mode: str,
    why: list[str],
) -> Dispute:
    """Set mediator, channel, rule, assignment time and deadline on a locked case; move it."""
    now = timezone.now()
    start = timezone.localdate(now)
    old_status = current.status
    current.mediator = mediator
    current.channel = channel
    current.routing_rule = rule
    current.assigned_at = now
    current.deadline = deadline_for(current.grade, start)
    current.extended_days = 0
    current.supervision = Supervision.NONE
    current.supervised_at = None
    current.version += 1
    current.updated_by = _user(actor)
    current.save(
        update_fields=[
            "mediator",
            "channel",
            "routing_rule",
            "assigned_at",
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
        action="disputes.dispute.assigned",
        obj=current,
        changes={
            "mode": mode,
            "mediator_id": mediator.pk,
            "mediator": mediator.name,
            "channel": channel,
            "routing_rule_id": rule.pk if rule else None,
            "deadline": current.deadline.isoformat(),
            "status": [old_status, Status.ASSIGNED],
            "why": why,
        },
    )
    # The status move through the one place every status change goes (and is audited).
    return services.dispute_transition(
        actor=actor, dispute=current, to=Status.ASSIGNED, version=current.version
    )


def _assignable(current: Dispute) -> None:
    """Refuse, with the reason, a case that cannot be assigned now (see ASSIGNABLE)."""
    if current.status in (Status.ASSIGNED, Status.MEDIATING):
        raise IllegalTransition(_("本案已指派调解员，请使用改派。"), code="already_assigned")
    if current.status not in ASSIGNABLE:
        current.check_transition(Status.ASSIGNED)


def dispute_assign(
    *,
    actor: Any,
    dispute: Dispute,
    version: int,
    mediator_id: int | None = None,
    channel: str = "",
) -> Dispute:
    """Assign the case: to the proposal (no mediator given) or to the chosen mediator.

    A mediator outside the routing list's pool may be chosen by a chief only; the case then
    carries no routing rule, and the channel is the one given or the mediator's own.
    """
    _require(actor, "dispute.assign", dispute, _("您无权指派该案件。"))
    with transaction.atomic():
        current = _locked(dispute, version)
        _assignable(current)
        prop = proposal(current)
        if mediator_id is None:
            if prop.mediator is None:
                raise IllegalTransition(" ".join(prop.why), code="no_candidate")
            mediator, mode = prop.mediator, "auto"
        else:
            mediator, mode = _get_mediator(mediator_id), "manual"
        _check_mediator(current, mediator)
        in_pool = mediator.pk in prop.pool_ids
        if not in_pool:
            _require(
                actor,
                "dispute.route",
                current,
                _("%(name)s不在本案分流规则的调解员库中，只有所长可以指派库外的调解员。")
                % {"name": mediator.name},
            )
        if channel and channel not in Channel.values:
            raise ValidationFailed(_("请选择调解方式。"), fields={"channel": [_("无效的调解方式")]})
        rule = prop.rule if in_pool else None
        chosen_channel = channel or (prop.channel if in_pool else KIND_CHANNEL[mediator.kind])
        why = prop.why if mode == "auto" else [_("由%(who)s指定。") % {"who": actor or "system"}]
        return _assign(
            actor=actor,
            current=current,
            mediator=mediator,
            rule=rule,
            channel=chosen_channel,
            mode=mode,
            why=why,
        )


def dispute_claim(*, actor: Any, dispute: Dispute, version: int) -> Dispute:
    """A pool member takes a routed case that nobody holds yet."""
    _require(actor, "dispute.handle", dispute, _("您无权办理该案件。"))
    mine = mediators_of_user(actor, dispute.station_id)
    if not mine:
        raise PermissionDenied(_("您不是本所调解员名册中的在岗调解员，不能认领案件。"))
    mediator = mine[0]
    with transaction.atomic():
        current = _locked(dispute, version)
        if current.mediator_id is not None and current.status != Status.REOPENED:
            raise IllegalTransition(_("本案已由其他调解员办理，不能认领。"), code="taken")
        if current.routing_rule_id is None:
            raise IllegalTransition(
                _("本案尚未按清单分流到调解员库，不能认领。"), code="not_routed"
            )
        _assignable(current)
        rule = RoutingRule.objects.get(pk=current.routing_rule_id)
        prop = proposal(current, rule=rule)
        if mediator.pk not in prop.pool_ids:
            raise PermissionDenied(_("您不在本案的调解员库中，不能认领。"))
        _check_mediator(current, mediator)
        return _assign(
            actor=actor,
            current=current,
            mediator=mediator,
            rule=rule,
            channel=rule.channel,
            mode="claim",
            why=[_("%(name)s认领。") % {"name": mediator.name}],
        )


def _status_before_assignment(dispute: Dispute) -> str:
    """Return the status the case had when it was last assigned (triaged or reopened)."""
    from fengqiao.core.models import AuditEntry

    entry = (
        AuditEntry.objects.filter(
            object_type=dispute._meta.label_lower,
            object_id=str(dispute.pk),
            action="disputes.dispute.assigned",
        )
        .order_by("-seq")
        .only("changes")
        .first()
    )
    if entry is not None:
        before = (entry.changes or {}).get("status") or [Status.TRIAGED]
        if before[0] in ASSIGNABLE:
            return str(before[0])
    return Status.TRIAGED


def dispute_release(*, actor: Any, dispute: Dispute, version: int, reason: str = "") -> Dispute:
    """The assigned mediator gives the case back to the pool before mediation starts.

    The one move back in the workflow (assigned → triaged, or reopened), made here rather than
    through the transition table; audited as a status change with the reason.
    """
    _require(actor, "dispute.handle", dispute, _("您无权办理该案件。"))
    reason = _reason(reason, required=True)
    with transaction.atomic():
        current = _locked(dispute, version)
        if current.mediator_id is None:
            raise IllegalTransition(_("本案尚未指派调解员，无需退回。"), code="not_assigned")
        holder = Mediator.objects.get(pk=current.mediator_id)
        is_holder = actor is None or (holder.user_id is not None and holder.user_id == actor.pk)
        if not is_holder and not user_can(
            actor, "dispute.route", station_id=current.station_id, area_id=current.area_id
        ):
            raise PermissionDenied(_("只有承办调解员本人或所长可以退回案件。"))
        if current.status != Status.ASSIGNED:
            raise IllegalTransition(
                _("调解已经开始，不能退回调解员库；如需更换调解员，请所长改派。"),
                code="mediation_started",
            )
        back = _status_before_assignment(current)
        now = timezone.now()
        current.status, current.status_changed_at = back, now
        current.mediator = None
        current.assigned_at = None
        current.deadline = None
        current.supervision, current.supervised_at = Supervision.NONE, None
        current.version += 1
        current.updated_by = _user(actor)
        current.save(
            update_fields=[
                "status",
                "status_changed_at",
                "mediator",
                "assigned_at",
                "deadline",
                "supervision",
                "supervised_at",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="disputes.dispute.released",
            obj=current,
            changes={"mediator_id": holder.pk, "mediator": holder.name, "reason": reason},
        )
        audit_record(
            actor=actor,
            action="disputes.dispute.status_changed",
            obj=current,
            changes={"status": [Status.ASSIGNED, back], "reason": reason},
        )
    return current


def dispute_reassign(
    *, actor: Any, dispute: Dispute, version: int, mediator_id: Any, reason: str = ""
) -> Dispute:
    """The chief gives an assigned case to another mediator; the deadline stands."""
    _require(actor, "dispute.route", dispute, _("只有所长可以改派案件。"))
    reason = _reason(reason, required=True)
    mediator = _get_mediator(mediator_id)
    with transaction.atomic():
        current = _locked(dispute, version)
        if current.finished:
            raise IllegalTransition(_("案件已办结，不能改派。"), code="finished")
        if current.mediator_id is None:
            raise IllegalTransition(_("本案尚未指派调解员，请直接指派。"), code="not_assigned")
        if current.mediator_id == mediator.pk:
            raise ValidationFailed(
                _("%(name)s已是本案的调解员。") % {"name": mediator.name},
                fields={"mediator_id": [_("与当前调解员相同")]},
            )
        _check_mediator(current, mediator)
        old = Mediator.objects.get(pk=current.mediator_id)
        rule = current.routing_rule
        in_pool = rule is not None and mediator.pk in proposal(current, rule=rule).pool_ids
        current.mediator = mediator
        if not in_pool:
            current.routing_rule = None
            current.channel = KIND_CHANNEL[mediator.kind]
        current.version += 1
        current.updated_by = _user(actor)
        current.save(
            update_fields=[
                "mediator",
                "routing_rule",
                "channel",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="disputes.dispute.reassigned",
            obj=current,
            changes={
                "mediator_id": [old.pk, mediator.pk],
                "mediator": [old.name, mediator.name],
                "channel": current.channel,
                "reason": reason,
            },
        )
    return current
