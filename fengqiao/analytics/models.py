"""The command room: the stored morning briefing (晨会研判) and the orders (警令) issued from it."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fengqiao.analytics.querysets import BriefingQuerySet, OrderQuerySet
from fengqiao.core.models import BaseModel


class BriefingKind(models.TextChoices):
    SCHEDULED = "scheduled", _("定时生成")
    ON_DEMAND = "on_demand", _("立即生成")


class Briefing(models.Model):
    """One station's morning briefing for one day, its figures frozen as plain data.

    The periodic task makes at most one `scheduled` briefing per station and day (a partial
    unique constraint); every on-demand generation is kept as a new row, so what was read
    at the meeting stays readable after a later regeneration.
    """

    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    day = models.DateField(_("研判日期"))
    kind = models.CharField(_("生成方式"), max_length=12, choices=BriefingKind.choices)
    generated_at = models.DateTimeField(_("生成时间"))
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("生成人"),
    )
    content = models.JSONField(_("内容"), default=dict)

    objects = BriefingQuerySet.as_manager()

    class Meta:
        verbose_name = _("晨会研判")
        verbose_name_plural = _("晨会研判")
        indexes = [
            models.Index(fields=["station", "-day", "-id"], name="briefing_station_day"),
            models.Index(fields=["-day", "-id"], name="briefing_day"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["station", "day"],
                condition=Q(kind="scheduled"),
                name="briefing_one_scheduled_per_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.get_kind_display()}"


class OrderStatus(models.TextChoices):
    ISSUED = "issued", _("已下达")
    ACKNOWLEDGED = "acknowledged", _("已签收")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已撤销")


# Where an order may go from each state; cancelling is the chief's (order.issue).
ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    OrderStatus.ISSUED: frozenset({OrderStatus.ACKNOWLEDGED, OrderStatus.CANCELLED}),
    OrderStatus.ACKNOWLEDGED: frozenset({OrderStatus.DONE, OrderStatus.CANCELLED}),
    OrderStatus.DONE: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}


class Order(BaseModel):
    """An order (警令) to an officer or a team, with a due time, acknowledged then done."""

    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    briefing = models.ForeignKey(
        Briefing,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("来源研判"),
    )
    number = models.CharField(_("警令编号"), max_length=24)
    title = models.CharField(_("标题"), max_length=100)
    instructions = models.TextField(_("指令内容"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("承办民警"),
    )
    # The team by name, until the patrol alliance keeps teams of its own.
    team = models.CharField(_("承办队伍"), max_length=60, blank=True)
    due_at = models.DateTimeField(_("完成时限"))
    status = models.CharField(
        _("状态"), max_length=14, choices=OrderStatus.choices, default=OrderStatus.ISSUED
    )
    issued_at = models.DateTimeField(_("下达时间"))
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("签收人"),
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("完成人"),
    )
    result = models.TextField(_("完成情况"), blank=True)
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    cancel_reason = models.TextField(_("撤销理由"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = ORDER_TRANSITIONS

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("警令")
        verbose_name_plural = _("警令")
        indexes = [
            models.Index(fields=["station", "-id"], name="order_station"),
            models.Index(fields=["station", "status", "due_at"], name="order_station_status_due"),
            models.Index(fields=["assignee", "status", "-id"], name="order_assignee_status"),
            models.Index(fields=["briefing", "id"], name="order_briefing"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["station", "number"], name="order_number_unique"),
            models.CheckConstraint(
                condition=Q(assignee__isnull=False) | ~Q(team=""), name="order_has_assignee"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def open(self) -> bool:
        return self.status in (OrderStatus.ISSUED, OrderStatus.ACKNOWLEDGED)
