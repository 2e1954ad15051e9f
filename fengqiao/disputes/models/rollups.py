"""The daily rollup the monthly report reads: one row per station, grid, day and dimensions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DisputeDaily(models.Model):
    """Counts of one station-grid-day for one (source, statistical type, type class, channel).

    Each measure is counted on the day its event happened: received on the day reported,
    concluded on the day closed, a follow-up on the day visited. `disputes.rollups` keeps the
    rows current on every write and rebuilds them from the case table on demand.
    """

    station = models.ForeignKey(
        "areas.Area", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    community = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+")
    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    source = models.CharField(max_length=20, blank=True)
    stat_type = models.ForeignKey(
        "disputes.StatType", on_delete=models.CASCADE, null=True, related_name="+"
    )
    type_class = models.CharField(max_length=8, blank=True)
    channel = models.CharField(max_length=12, blank=True)

    screened = models.PositiveIntegerField(default=0)
    received = models.PositiveIntegerField(default=0)
    people = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    concluded = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    overdue = models.PositiveIntegerField(default=0)
    days_total = models.PositiveIntegerField(default=0)
    prevented = models.PositiveIntegerField(default=0)
    prevented_people = models.PositiveIntegerField(default=0)
    followed_up = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("矛盾纠纷日汇总")
        verbose_name_plural = _("矛盾纠纷日汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "day", "area", "source", "stat_type", "type_class", "channel"],
                name="disputedaily_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.day}"
