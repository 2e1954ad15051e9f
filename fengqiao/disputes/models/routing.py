"""Who mediates: the registry of mediators, the lawyers' duty rota, the routing list, extensions."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fengqiao.core.models import BaseModel
from fengqiao.core.pii import EncryptedTextField
from fengqiao.disputes.choices import Channel, ExtensionState, Grade, MediatorKind


class Mediator(BaseModel):
    """A person who mediates for the station: community mediator, lawyer, judicial staff, …

    A mediator may have an account (then they see their own cases and their pools' queue) or
    not (a lawyer on the rota who is called in); either way cases are assigned to this row.
    The blind indexes let the conflict-of-interest check compare with the parties without
    decrypting anything.
    """

    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="mediator_profiles",
        verbose_name=_("系统账号"),
    )
    kind = models.CharField(_("类别"), max_length=12, choices=MediatorKind.choices)
    name = models.CharField(_("姓名"), max_length=60)
    organisation = models.CharField(_("所在单位"), max_length=100, blank=True)
    phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    id_number = EncryptedTextField(_("身份证号码"), blank=True, default="")
    address = models.CharField(_("住址"), max_length=200, blank=True)
    phone_bidx = models.CharField(max_length=32, blank=True, editable=False)
    id_number_bidx = models.CharField(max_length=32, blank=True, editable=False)
    name_address_bidx = models.CharField(max_length=32, blank=True, editable=False)
    # The address alone, normalised: a mediator living at a party's address is not neutral.
    address_bidx = models.CharField(max_length=32, blank=True, editable=False)
    # Dispute-type codes (classes or subtypes) this mediator is good at, such as ["01", "0903"].
    specialties = models.JSONField(_("擅长类型"), default=list, blank=True)
    active = models.BooleanField(_("在岗"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    audit_redacted: ClassVar[frozenset[str]] = frozenset(
        {"phone", "id_number", "phone_bidx", "id_number_bidx", "name_address_bidx", "address_bidx"}
    )
    pii_fields: ClassVar[dict[str, str]] = {"phone": "phone", "id_number": "id_number"}

    class Meta:
        verbose_name = _("调解员")
        verbose_name_plural = _("调解员")
        ordering = ["kind", "name", "id"]
        indexes = [models.Index(fields=["station", "active", "kind"], name="mediator_station")]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "user"],
                condition=Q(user__isnull=False),
                name="mediator_one_per_user_station",
            )
        ]

    def __str__(self) -> str:
        return self.name


class LawyerDuty(models.Model):
    """One day of a mediator (usually a lawyer) on duty at the station (律师值班表)."""

    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    mediator = models.ForeignKey(
        Mediator, on_delete=models.CASCADE, related_name="duties", verbose_name=_("值班人员")
    )
    day = models.DateField(_("值班日期"))
    note = models.CharField(_("备注"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("律师值班")
        verbose_name_plural = _("律师值班")
        ordering = ["day", "id"]
        constraints = [
            models.UniqueConstraint(fields=["mediator", "day"], name="lawyerduty_unique"),
        ]
        indexes = [models.Index(fields=["station", "day"], name="lawyerduty_station_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.mediator_id}"


class RoutingRule(BaseModel):
    """A line of the routing list (清单式分流): type × grade × community → channel and pool.

    An empty type, grade or community matches any; the most specific active line wins
    (`routing.rule_for`), so a station may write one general line per grade and a few exceptions.
    """

    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    type = models.ForeignKey(
        "disputes.DisputeType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("纠纷类型"),
    )
    grade = models.CharField(_("分级"), max_length=10, choices=Grade.choices, blank=True)
    community = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("社区/村"),
    )
    channel = models.CharField(_("调解方式"), max_length=12, choices=Channel.choices)
    pool = models.ManyToManyField(
        Mediator, related_name="routing_rules", blank=True, verbose_name=_("调解员库")
    )
    # The lawyer on duty that day joins the pool when true (律师调解 by rota).
    use_duty_rota = models.BooleanField(_("加入当日值班律师"), default=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("分流规则")
        verbose_name_plural = _("分流规则")
        ordering = ["id"]
        indexes = [models.Index(fields=["station", "active"], name="routingrule_station")]

    def __str__(self) -> str:
        return f"{self.pk}: {self.channel}"


class Extension(models.Model):
    """A request to extend a case's deadline, decided by the chief."""

    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.CASCADE,
        related_name="extensions",
        verbose_name=_("纠纷"),
    )
    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    days = models.PositiveSmallIntegerField(_("延期天数"))
    reason = models.TextField(_("延期理由"))
    state = models.CharField(
        _("状态"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("申请人"),
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-id"]
        indexes = [models.Index(fields=["station", "state"], name="extension_station_state")]
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1), name="extension_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.dispute_id} +{self.days}"
