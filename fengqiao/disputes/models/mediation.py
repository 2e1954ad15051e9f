"""Mediating a case: sessions, the agreement and its items, referral, follow-up, attachments."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fengqiao.core.models import BaseModel
from fengqiao.disputes.choices import (
    AgreementForm,
    AttachmentKind,
    FollowUpKind,
    FollowUpState,
    Outcome,
    ReferralOutcome,
    ReferralTarget,
    SessionState,
    Signature,
)


class MediationSession(BaseModel):
    """A mediation meeting (调解会): when, where, who came, and the minutes."""

    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.CASCADE,
        related_name="sessions",
        verbose_name=_("纠纷"),
    )
    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    scheduled_at = models.DateTimeField(_("时间"))
    place = models.CharField(_("地点"), max_length=200)
    mediators = models.ManyToManyField(
        "disputes.Mediator", related_name="sessions", blank=True, verbose_name=_("主持调解员")
    )
    state = models.CharField(
        _("状态"), max_length=10, choices=SessionState.choices, default=SessionState.SCHEDULED
    )
    minutes = models.TextField(_("调解记录"), blank=True)
    held_at = models.DateTimeField(_("召开时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("调解会")
        verbose_name_plural = _("调解会")
        ordering = ["scheduled_at", "id"]
        indexes = [models.Index(fields=["station", "scheduled_at"], name="session_station_at")]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.scheduled_at:%Y-%m-%d %H:%M}"


class Attendance(models.Model):
    """Who was expected at a session and whether they came: a party or another participant."""

    session = models.ForeignKey(
        MediationSession,
        on_delete=models.CASCADE,
        related_name="attendance",
        verbose_name=_("调解会"),
    )
    party = models.ForeignKey(
        "disputes.Party",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("当事人"),
    )
    # For participants who are not parties: a relative, a witness, a village cadre.
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    capacity = models.CharField(_("身份"), max_length=40, blank=True)
    attended = models.BooleanField(_("到场"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("参会情况")
        verbose_name_plural = _("参会情况")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(party__isnull=False) | ~Q(name=""), name="attendance_has_someone"
            ),
        ]

    def __str__(self) -> str:
        return self.name or str(self.party_id)


class Agreement(BaseModel):
    """The agreement reached (调解协议): oral or written, with items and each party's signature.

    A case reopened after a broken agreement may reach a second one; the latest counts.
    """

    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.CASCADE,
        related_name="agreements",
        verbose_name=_("纠纷"),
    )
    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    number = models.CharField(_("协议编号"), max_length=24)
    form = models.CharField(_("协议形式"), max_length=10, choices=AgreementForm.choices)
    outcome = models.CharField(
        _("调解结果"),
        max_length=12,
        choices=[(c, n) for c, n in Outcome.choices if c in {Outcome.SUCCESS, Outcome.PARTIAL}],
        default=Outcome.SUCCESS,
    )
    facts = models.TextField(_("纠纷主要事实、争议事项"))
    terms = models.TextField(_("协议内容"))
    performance = models.CharField(_("履行方式、时限"), max_length=300, blank=True)
    # Null until every party has signed (written) or agreed (oral); then the case is agreed.
    concluded_at = models.DateTimeField(_("生效时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["station", "number"], name="agreement_number_unique"),
        ]

    def __str__(self) -> str:
        return self.number


class AgreementItem(models.Model):
    """One obligation: who owes what to whom, how much, by when."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="items", verbose_name=_("协议")
    )
    obligor = models.ForeignKey(
        "disputes.Party",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("履行方"),
    )
    obligee = models.ForeignKey(
        "disputes.Party",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("权利方"),
    )
    description = models.CharField(_("履行内容"), max_length=300)
    amount = models.DecimalField(_("金额（元）"), max_digits=14, decimal_places=2, default=0)
    due_date = models.DateField(_("履行期限"), null=True, blank=True)

    class Meta:
        verbose_name = _("协议条款")
        verbose_name_plural = _("协议条款")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="agreementitem_amount"),
        ]

    def __str__(self) -> str:
        return self.description


class AgreementSignature(models.Model):
    """A party's consent to the agreement: signed, declined, or not yet."""

    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="signatures", verbose_name=_("协议")
    )
    party = models.ForeignKey(
        "disputes.Party", on_delete=models.CASCADE, related_name="+", verbose_name=_("当事人")
    )
    state = models.CharField(
        _("签署"), max_length=10, choices=Signature.choices, default=Signature.PENDING
    )
    at = models.DateTimeField(_("时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("协议签署")
        verbose_name_plural = _("协议签署")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "party"], name="signature_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id}/{self.party_id}: {self.state}"


class Referral(BaseModel):
    """A failed mediation handed on: to court, arbitration, labour inspection, petitions, …"""

    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.CASCADE,
        related_name="referrals",
        verbose_name=_("纠纷"),
    )
    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    target = models.CharField(_("移送去向"), max_length=12, choices=ReferralTarget.choices)
    receiver = models.CharField(_("接收单位"), max_length=100)
    reason = models.TextField(_("移送理由"))
    referred_at = models.DateTimeField(_("移送时间"))
    outcome = models.CharField(
        _("处理结果"),
        max_length=10,
        choices=ReferralOutcome.choices,
        default=ReferralOutcome.PENDING,
    )
    outcome_note = models.TextField(_("结果说明"), blank=True)
    outcome_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("移送")
        verbose_name_plural = _("移送")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.dispute_id} → {self.target}"


class FollowUp(BaseModel):
    """A follow-up visit (回访): scheduled by itself after an agreement, then recorded."""

    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.CASCADE,
        related_name="followups",
        verbose_name=_("纠纷"),
    )
    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("协议"),
    )
    item = models.ForeignKey(
        AgreementItem,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("协议条款"),
    )
    kind = models.CharField(_("回访类型"), max_length=10, choices=FollowUpKind.choices)
    due_date = models.DateField(_("应回访日期"))
    state = models.CharField(
        _("状态"), max_length=10, choices=FollowUpState.choices, default=FollowUpState.SCHEDULED
    )
    visited_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    visited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("回访人"),
    )
    honoured = models.BooleanField(_("协议已履行"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度（1-5）"), null=True, blank=True)
    comment = models.TextField(_("回访情况"), blank=True)
    reopened = models.BooleanField(_("因此重新办理"), default=False)

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["station", "state", "due_date"], name="followup_station_due"),
            # The rollups recompute the day a visit was recorded (disputes.rollups).
            models.Index(fields=["station", "visited_at"], name="followup_station_visited"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="followup_satisfaction_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dispute_id} {self.due_date}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Store under the station and case, with a random name: the original name is in `name`."""
    # Random, not derived from the content: the stored name says nothing about the file.
    return f"disputes/{instance.station_id}/{instance.dispute_id}/{secrets.token_hex(16)}"


class Attachment(BaseModel):
    """A photo, scan or document on the case file, within type and size limits."""

    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("纠纷"),
    )
    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    kind = models.CharField(_("类别"), max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=200)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
