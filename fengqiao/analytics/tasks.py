"""Periodic jobs of the command room: the morning briefing at each station's hour."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fengqiao.analytics.services import briefings_generate_due

log = logging.getLogger("fengqiao.analytics")


@db_periodic_task(crontab(minute="*/5"))
def briefing_scheduled() -> list[int]:
    """Every five minutes, make today's briefing of each station whose hour has passed.

    The hour is the station's (StationIncidentConfig.briefing_hour:minute, default 07:00),
    compared in local time, so a worker whose clock runs in UTC still fires at the right
    moment. A station that already has today's scheduled briefing is skipped, and the table
    allows only one per station and day: a missed or repeated run does no harm.
    """
    made = briefings_generate_due()
    if made:
        log.info("Briefings generated: %s", [b.pk for b in made])
    return [b.pk for b in made]
