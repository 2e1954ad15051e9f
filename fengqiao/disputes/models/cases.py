"""Disputes (矛盾纠纷): code lists, the case, its parties, and links between repeat cases."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fengqiao.core.errors import IllegalTransition
from fengqiao.core.models import BaseModel
from fengqiao.core.pii import EncryptedTextField
from fengqiao.disputes.choices import (
    Channel,
    Colour,
    Consent,
    Grade,
    Outcome,
    PartyKind,
    PartyRole,
    Referrer,
    Scale,
    Source,
    Status,
    Supervision,
    ThreatState,
)
from fengqiao.disputes.querysets import DisputeQuerySet, PartyQuerySet
from fengqiao.disputes.triage import reason_text


class StatType(models.Model):
    """A people's-mediation statistical type (司法行政 monthly report, list B)."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    name_en = models.CharField(_("英文名称"), max_length=80)
    sort = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("人民调解统计类型")
        verbose_name_plural = _("人民调解统计类型")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name


class DisputeType(models.Model):
    """A governance-centre dispute type (list A): a class (01) or a subtype (0101) under it."""

    code = models.CharField(_("编码"), max_length=8, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=120)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subtypes",
        verbose_name=_("大类"),
    )
    # The crosswalk: every subtype counts as exactly one statistical type; classes have none.
    stat_type = models.ForeignKey(
        StatType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispute_types",
        verbose_name=_("统计类型"),
    )
    sort = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("纠纷类型")
        verbose_name_plural = _("纠纷类型")
        ordering = ["sort", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(stat_type__isnull=False),
                name="disputetype_subtype_has_stat_type",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_class(self) -> bool:
        return self.parent_id is None

    def clean(self) -> None:
        """Refuse a subtype without a statistical type, or one nested under a subtype."""
        errors: dict[str, str] = {}
        if self.parent_id is not None and self.stat_type_id is None:
            errors["stat_type"] = gettext("小类必须对应一个人民调解统计类型。")
        if self.parent is not None and self.parent.parent_id is not None:
            errors["parent"] = gettext("纠纷类型只有大类和小类两级。")
        if errors:
            raise ValidationError(errors)


# Where a case may go from each status. Agreements, sessions and follow-ups drive some of these
# moves; all of them pass through this table.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.RECEIVED: frozenset({Status.TRIAGED, Status.WITHDRAWN, Status.TERMINATED}),
    Status.TRIAGED: frozenset({Status.ASSIGNED, Status.WITHDRAWN, Status.TERMINATED}),
    Status.ASSIGNED: frozenset({Status.MEDIATING, Status.WITHDRAWN, Status.TERMINATED}),
    Status.MEDIATING: frozenset(
        {Status.AGREED, Status.FAILED, Status.WITHDRAWN, Status.TERMINATED}
    ),
    Status.AGREED: frozenset({Status.CLOSED, Status.WITHDRAWN}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.FAILED: frozenset({Status.REFERRED, Status.TERMINATED}),
    Status.REFERRED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    Status.TERMINATED: frozenset(),
    Status.REOPENED: frozenset(
        {Status.ASSIGNED, Status.MEDIATING, Status.WITHDRAWN, Status.TERMINATED}
    ),
}
# Statuses in which the case is finished (for now); only a closed case can be reopened.
FINISHED = frozenset({Status.CLOSED, Status.REFERRED, Status.WITHDRAWN, Status.TERMINATED})
NOT_YET_MEDIATED = frozenset({Status.RECEIVED, Status.TRIAGED, Status.ASSIGNED})
# Moves that must say why: the reason goes on the timeline.
REASON_REQUIRED = frozenset(
    {Status.FAILED, Status.REFERRED, Status.WITHDRAWN, Status.TERMINATED, Status.REOPENED}
)


def _illegal_reason(current: str, to: str) -> str:
    """Return why the table refuses current → to, in words a case officer understands."""
    labels = dict(Status.choices)
    if current == to:
        return gettext("案件已经是“%(status)s”状态。") % {"status": labels[current]}
    if current == Status.CLOSED:
        return gettext("案件已结案，只有回访发现协议未履行时才能重新办理。")
    if current in FINISHED:
        return gettext("案件已“%(status)s”，不能再变更状态。") % {"status": labels[current]}
    specific: dict[str, str] = {
        Status.AGREED: (
            gettext("本案尚未进行调解，不能签订调解协议。")
            if current in NOT_YET_MEDIATED
            else gettext("只有调解中的案件才能达成协议。")
        ),
        Status.CLOSED: gettext("只有已达成协议的案件才能结案；调解不成的案件请移送或终止。"),
        Status.REOPENED: gettext("只有已结案的案件才能重新办理。"),
        Status.REFERRED: gettext("只有调解不成的案件才能移送。"),
        Status.FAILED: gettext("只有调解中的案件才能记为调解不成。"),
        Status.MEDIATING: gettext("案件尚未分流指派，不能开始调解。"),
        Status.ASSIGNED: gettext("案件尚未完成研判，不能分流指派。"),
        Status.TRIAGED: gettext("只有刚登记受理的案件才需要研判。"),
    }
    return specific.get(to) or gettext("案件当前为“%(from)s”，不能变为“%(to)s”。") % {
        "from": labels[current],
        "to": labels.get(to, to),
    }


class Dispute(BaseModel):
    """A dispute case (矛盾纠纷): from intake through triage, routing and mediation to close."""

    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    community = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("社区/村")
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="disputes", verbose_name=_("网格")
    )
    case_number = models.CharField(_("案件编号"), max_length=24)

    narrative = models.TextField(_("纠纷情况"))
    occurred_at = models.DateTimeField(_("发生时间"))
    reported_at = models.DateTimeField(_("登记时间"))
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    source = models.CharField(_("案件来源"), max_length=20, choices=Source.choices)
    referrer = models.CharField(_("移送单位"), max_length=20, choices=Referrer.choices, blank=True)
    type = models.ForeignKey(
        DisputeType, on_delete=models.PROTECT, related_name="+", verbose_name=_("纠纷类型")
    )
    # Copied from the type's crosswalk at intake: a later edit of the list leaves reports alone.
    stat_type = models.ForeignKey(
        StatType, on_delete=models.PROTECT, related_name="+", verbose_name=_("统计类型")
    )
    scale = models.CharField(_("规模"), max_length=20, choices=Scale.choices)
    people_count = models.PositiveIntegerField(_("涉及人数"), default=1)
    amount = models.DecimalField(_("涉及金额（元）"), max_digits=14, decimal_places=2, default=0)

    # Facts the triage rules read, as reported at intake.
    violence = models.BooleanField(_("有暴力或威胁行为"), default=False)
    death = models.BooleanField(_("涉及人员死亡"), default=False)
    special_groups = models.BooleanField(_("涉及特殊群体"), default=False)
    difficult = models.BooleanField(_("疑难复杂"), default=False)
    channels_involved = models.PositiveSmallIntegerField(_("涉及渠道/部门数"), default=1)

    # Triage: what the rules computed, and the effective values (differ only when overridden).
    grade_auto = models.CharField(_("规则分级"), max_length=10, choices=Grade.choices)
    colour_auto = models.CharField(_("规则预警颜色"), max_length=10, choices=Colour.choices)
    colour_reasons = models.JSONField(_("研判理由"), default=list, blank=True)
    grade = models.CharField(_("分级"), max_length=10, choices=Grade.choices)
    colour = models.CharField(_("预警颜色"), max_length=10, choices=Colour.choices)
    override_reason = models.TextField(_("调整理由"), blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("调整人"),
    )
    overridden_at = models.DateTimeField(_("调整时间"), null=True, blank=True)

    threat_words = models.JSONField(_("威胁/暴力字词"), default=list, blank=True)
    threat_state = models.CharField(
        _("威胁字词确认"), max_length=10, choices=ThreatState.choices, default=ThreatState.NONE
    )
    threat_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认人"),
    )
    threat_reviewed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"))
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    channel = models.CharField(_("调解方式"), max_length=12, choices=Channel.choices, blank=True)
    mediator = models.ForeignKey(
        "disputes.Mediator",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disputes",
        verbose_name=_("调解员"),
    )
    # The routing rule that chose the channel and the pool; null when assigned by hand.
    routing_rule = models.ForeignKey(
        "disputes.RoutingRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("分流规则"),
    )
    assigned_at = models.DateTimeField(_("指派时间"), null=True, blank=True)
    deadline = models.DateField(_("办理期限"), null=True, blank=True)
    extended_days = models.PositiveSmallIntegerField(_("已延期天数"), default=0)
    supervised_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    outcome = models.CharField(_("调解结果"), max_length=12, choices=Outcome.choices, blank=True)
    # Where the case came from when another module opened it ("incidents.incident", id).
    origin_label = models.CharField(_("来源记录类型"), max_length=40, blank=True)
    origin_id = models.BigIntegerField(_("来源记录"), null=True, blank=True)
    # The client's idempotency key: a double-clicked submit or a retried request makes one case.
    intake_key = models.CharField(max_length=64, blank=True, editable=False)
    supervision = models.CharField(
        _("督办"), max_length=8, choices=Supervision.choices, default=Supervision.NONE
    )
    repeats = models.ManyToManyField(
        "self",
        through="DisputeLink",
        through_fields=("dispute", "other"),
        symmetrical=False,
        related_name="repeated_by",
        blank=True,
    )

    search_text = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=1, editable=False)

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = TRANSITIONS

    objects = DisputeQuerySet.as_manager()

    class Meta:
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        indexes = [
            models.Index(fields=["station", "status", "id"], name="dispute_station_status"),
            models.Index(fields=["station", "colour", "id"], name="dispute_station_colour"),
            models.Index(fields=["mediator", "status", "id"], name="dispute_mediator_status"),
            models.Index(fields=["station", "deadline", "id"], name="dispute_station_deadline"),
            models.Index(fields=["station", "reported_at"], name="dispute_station_reported"),
            # The rollups recompute the day a case finished (disputes.rollups).
            models.Index(fields=["station", "closed_at"], name="dispute_station_closed"),
            # Open cases only: the report's live count of those past their deadline.
            models.Index(
                fields=["station", "deadline"],
                condition=~Q(status__in=sorted(FINISHED)),
                name="dispute_open_deadline",
            ),
            models.Index(fields=["station", "id"], name="dispute_station"),
            # A station's open queue, newest first: only open cases are in it, so a page of
            # the queue reads its own rows, not years of finished cases (querysets.open).
            models.Index(
                fields=["station", "id"],
                condition=~Q(status__in=[str(s) for s in sorted(FINISHED)]),
                name="dispute_station_open",
            ),
            models.Index(fields=["community", "id"], name="dispute_community"),
            models.Index(fields=["area", "id"], name="dispute_area"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "case_number"], name="dispute_case_number_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="dispute_amount_not_negative"),
            models.CheckConstraint(condition=Q(people_count__gte=1), name="dispute_people_count"),
            models.CheckConstraint(condition=Q(channels_involved__gte=1), name="dispute_channels"),
            models.UniqueConstraint(
                fields=["station", "intake_key"],
                condition=~Q(intake_key=""),
                name="dispute_intake_key_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.case_number

    @property
    def overridden(self) -> bool:
        return self.overridden_at is not None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def reason_texts(self) -> list[str]:
        """Return the triage reasons as sentences in the active language."""
        return [reason_text(r["rule"], r.get("params") or {}) for r in self.colour_reasons]

    def next_statuses(self) -> list[str]:
        """Return the statuses this case may move to, in the order of the status list."""
        allowed = self.TRANSITIONS[self.status]
        return [s for s in Status.values if s in allowed]

    def check_transition(self, to: str) -> None:
        """Raise IllegalTransition, with the reason in Chinese, unless the table allows the move."""
        if to not in Status.values:
            raise IllegalTransition(
                gettext("没有“%(to)s”这种案件状态。") % {"to": to}, code="unknown_status"
            )
        if to not in self.TRANSITIONS[self.status]:
            raise IllegalTransition(_illegal_reason(self.status, to))


class Party(BaseModel):
    """A party to a dispute: a person or an organisation, with protected contact details."""

    dispute = models.ForeignKey(
        Dispute, on_delete=models.CASCADE, related_name="parties", verbose_name=_("纠纷")
    )
    # Copied from the dispute: scopes, personal-data reveal and sharding need no join.
    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格")
    )
    kind = models.CharField(
        _("类型"), max_length=12, choices=PartyKind.choices, default=PartyKind.PERSON
    )
    role = models.CharField(_("身份"), max_length=12, choices=PartyRole.choices)
    name = models.CharField(_("姓名/名称"), max_length=60)
    phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    id_number = EncryptedTextField(_("身份证号码"), blank=True, default="")
    address = models.CharField(_("住址"), max_length=200, blank=True)
    # Keyed digests for matching repeat disputes without decrypting anything; "" when unknown.
    phone_bidx = models.CharField(max_length=32, blank=True, editable=False)
    id_number_bidx = models.CharField(max_length=32, blank=True, editable=False)
    name_address_bidx = models.CharField(max_length=32, blank=True, editable=False)
    consent = models.CharField(
        _("调解意愿"), max_length=10, choices=Consent.choices, default=Consent.UNDECIDED
    )
    consent_at = models.DateTimeField(_("表态时间"), null=True, blank=True)
    consent_note = models.CharField(_("表态说明"), max_length=200, blank=True)

    audit_redacted: ClassVar[frozenset[str]] = frozenset(
        {"phone", "id_number", "phone_bidx", "id_number_bidx", "name_address_bidx"}
    )
    pii_fields: ClassVar[dict[str, str]] = {"phone": "phone", "id_number": "id_number"}

    objects = PartyQuerySet.as_manager()

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["station", "id_number_bidx"], name="party_station_id_bidx"),
            models.Index(fields=["station", "phone_bidx"], name="party_station_phone_bidx"),
            models.Index(fields=["station", "name_address_bidx"], name="party_station_nameaddr"),
        ]

    def __str__(self) -> str:
        return self.name


class DisputeLink(models.Model):
    """A repeat: this dispute and an earlier one between the same parties, and why."""

    dispute = models.ForeignKey(
        Dispute, on_delete=models.CASCADE, related_name="links", verbose_name=_("纠纷")
    )
    other = models.ForeignKey(
        Dispute, on_delete=models.CASCADE, related_name="linked_from", verbose_name=_("前案")
    )
    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    matched_on = models.JSONField(_("匹配依据"), default=list)
    days_apart = models.PositiveIntegerField(_("相隔天数"))
    reason = models.CharField(_("关联理由"), max_length=300)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("重复纠纷关联")
        verbose_name_plural = _("重复纠纷关联")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["dispute", "other"], name="disputelink_unique"),
            models.CheckConstraint(
                condition=~Q(dispute=models.F("other")), name="disputelink_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dispute_id} ↔ {self.other_id}"
