"""Periodic jobs of the disputes app."""

from __future__ import annotations

import logging

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fengqiao.disputes.deadlines import supervision_sweep

log = logging.getLogger("fengqiao.disputes")

# The local hour at which the day's overdue cases get their cards, before the morning briefing.
SWEEP_HOUR = 8


@db_periodic_task(crontab(minute="0"))
def supervision_daily() -> dict[str, int] | None:
    """Raise the supervision card of overdue cases once a day, at 08:00 local time.

    Huey's clock may run in UTC: the task wakes every hour and sweeps in the local 08:00 hour,
    so the station's time zone decides. The sweep is idempotent, so a missed or repeated hour
    does no harm.
    """
    if timezone.localtime().hour != SWEEP_HOUR:
        return None
    counts = supervision_sweep()
    log.info("Supervision sweep: %s", counts)
    return counts
