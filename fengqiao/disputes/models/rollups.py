"""The rollups the monthly report reads: per station-day (exact) and per station-month (marginals).

`disputes.rollups` keeps both current on every write (signals → `transaction.on_commit`) and
rebuilds them from the case tables on demand (`rollup_rebuild`, the `rollup_disputes` command).
Every measure is counted on the local (TIME_ZONE) day its event happened:

- screened: disputes found by screening (排查发现) — disputes received that day whose source
  is 主动排查, plus screening visits that day that found a dispute (result 发现矛盾纠纷 or
  当场化解) and have no case linked (a linked visit is already counted through its case);
- received, people, amount: disputes registered (reported_at) that day, their people_count and
  amount involved;
- concluded (调解案件数): cases finished (closed_at) that day whose mediation reached an end:
  outcome success, partial or failed (when `outcome` is blank it is read from the status:
  closed → success, referred → failed). Withdrawn and terminated cases are not mediated
  cases: they count in none of concluded, succeeded, failed, on_time, overdue, days_total;
- succeeded / failed: of the concluded, outcome success or partial / outcome failed;
- on_time / overdue: of the concluded, finished on or before the deadline (or with no
  deadline) / after it; days_total: the sum of days from the reported day to the finished day;
- prevented, prevented_people (防止民转刑): of the succeeded, cases with a confirmed threat,
  violence reported at intake, or a red warning colour, and their people_count;
- followed_up, satisfied: follow-up visits recorded (visited_at) that day, and those of them
  with satisfaction 4 or 5;
- followups_due, followups_due_done: follow-up visits falling due (due_date) that day and not
  cancelled, and those of them recorded (the follow-up rate's cohort).

A case's dimensions (source, statistical type, type class, channel, grid, community) are its
current ones: a later assignment that sets the channel moves its earlier counts along.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The additive measures, in the order the rollup code reads and writes them.
MEASURES = (
    "screened",
    "received",
    "people",
    "amount",
    "concluded",
    "succeeded",
    "failed",
    "on_time",
    "overdue",
    "days_total",
    "prevented",
    "prevented_people",
    "followed_up",
    "satisfied",
    "followups_due",
    "followups_due_done",
)


class RollupMeasures(models.Model):
    """The counts shared by the daily and the monthly rollup (see the module docstring)."""

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
    followups_due = models.PositiveIntegerField(default=0)
    followups_due_done = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class DisputeDaily(RollupMeasures):
    """Counts of one station-grid-day for one (source, statistical type, type class, channel).

    The exact unit of recomputation: a write recomputes its (station, day) rows from the case
    tables. A screening visit's row has source 主动排查 and no type or channel.
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


class DisputeMonthly(RollupMeasures):
    """One station-month's totals (dim "") and its marginals by one dimension each.

    dim is "", "source", "stat_type", "type_class", "channel", "area" or "community"; value is
    the code or the id as text ("" for no channel yet). Derived from DisputeDaily, it holds a
    hundred-odd rows per station and month, so the monthly report reads little.
    """

    station = models.ForeignKey(
        "areas.Area", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField()
    dim = models.CharField(max_length=12, blank=True)
    value = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("矛盾纠纷月汇总")
        verbose_name_plural = _("矛盾纠纷月汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["station", "month", "dim", "value"], name="disputemonthly_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.month:%Y-%m} {self.dim}={self.value}"
