"""Screening visits (矛盾纠纷排查): who visited whom, where, and what they found."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fengqiao.core.models import BaseModel
from fengqiao.disputes.choices import VisitResult


class ScreeningVisit(BaseModel):
    """One visit of the screening log; a visit that finds a dispute opens one and links it."""

    station = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("派出所")
    )
    community = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("社区/村")
    )
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("网格")
    )
    visited_at = models.DateTimeField(_("走访时间"))
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("走访人"),
    )
    # Whom: a household, a shop, a work site; names only, no ID numbers are needed here.
    visited = models.CharField(_("走访对象"), max_length=100)
    address = models.CharField(_("地址"), max_length=200)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    findings = models.TextField(_("排查情况"))
    result = models.CharField(_("排查结果"), max_length=10, choices=VisitResult.choices)
    dispute = models.ForeignKey(
        "disputes.Dispute",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="screening_visits",
        verbose_name=_("登记的纠纷"),
    )

    class Meta:
        verbose_name = _("排查走访")
        verbose_name_plural = _("排查走访")
        ordering = ["-visited_at", "-id"]
        indexes = [
            models.Index(fields=["station", "visited_at", "id"], name="visit_station_at"),
            models.Index(fields=["area", "id"], name="visit_area"),
        ]

    def __str__(self) -> str:
        return f"{self.visited} {self.visited_at:%Y-%m-%d}"
