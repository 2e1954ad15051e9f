"""Writes of the morning briefing: generate (on demand or by the periodic task)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import user_can
from fengqiao.analytics.briefing import briefing_content
from fengqiao.analytics.models import Briefing, BriefingKind
from fengqiao.areas.models import Area
from fengqiao.core.audit import audit_record
from fengqiao.core.errors import ValidationFailed
from fengqiao.incidents.models import StationIncidentConfig

log = logging.getLogger("fengqiao.analytics")

# Defaults of StationIncidentConfig when a station has no settings row yet.
DEFAULT_HOUR, DEFAULT_MINUTE = 7, 0


def briefing_generate(*, actor: Any, station_id: int, day: date | None = None) -> Briefing:
    """Build and store station `station_id`'s briefing for morning `day` (default today).

    With a person as actor it is an on-demand briefing, always stored as a new row; with
    actor=None (the periodic task, the command) it is the day's scheduled briefing, made
    once: a second call returns the stored one.
    """
    station = Area.objects.filter(pk=station_id, kind="station").only("id", "name").first()
    if station is None:
        raise ValidationFailed(_("派出所不存在。"), fields={"station_id": [_("派出所不存在")]})
    if actor is not None and not user_can(actor, "briefing.generate", station_id=station.pk):
        raise PermissionDenied(_("无权生成本所的晨会研判。"))
    today = timezone.localdate()
    day = day or today
    if day > today:
        raise ValidationFailed(
            _("不能生成明天以后的晨会研判。"), fields={"day": [_("不能晚于今天")]}
        )
    kind = BriefingKind.ON_DEMAND if actor is not None else BriefingKind.SCHEDULED
    if kind == BriefingKind.SCHEDULED:
        found = Briefing.objects.filter(station_id=station.pk, day=day, kind=kind).first()
        if found is not None:
            return found
    content = briefing_content(station_id=station.pk, day=day)
    try:
        with transaction.atomic():
            briefing = Briefing.objects.create(
                station_id=station.pk,
                day=day,
                kind=kind,
                generated_at=timezone.now(),
                generated_by=actor if getattr(actor, "is_authenticated", False) else None,
                content=content,
            )
            audit_record(
                actor=actor,
                action="analytics.briefing.generated",
                obj=briefing,
                changes={
                    "day": day.isoformat(),
                    "kind": kind.value,
                    "overnight": content["overnight"]["count"],
                },
            )
    except IntegrityError:
        # Another worker stored the day's scheduled briefing first: theirs is the one.
        return Briefing.objects.get(station_id=station.pk, day=day, kind=kind)
    return briefing


def briefings_due(now: datetime | None = None) -> list[int]:
    """Return the stations whose briefing time has passed today and have no scheduled one."""
    now = timezone.localtime(now or timezone.now())
    today = now.date()
    configs = {
        c.station_id: (c.briefing_hour, c.briefing_minute)
        for c in StationIncidentConfig.objects.only(
            "station_id", "briefing_hour", "briefing_minute"
        )
    }
    done = set(
        Briefing.objects.filter(day=today, kind=BriefingKind.SCHEDULED).values_list(
            "station_id", flat=True
        )
    )
    due = []
    for station_id in Area.objects.filter(kind="station").values_list("pk", flat=True):
        hour, minute = configs.get(station_id, (DEFAULT_HOUR, DEFAULT_MINUTE))
        if (now.hour, now.minute) >= (hour, minute) and station_id not in done:
            due.append(station_id)
    return due


def briefings_generate_due(now: datetime | None = None) -> list[Briefing]:
    """Generate each due station's scheduled briefing for today; idempotent."""
    made = []
    today = timezone.localtime(now or timezone.now()).date()
    for station_id in briefings_due(now):
        try:
            made.append(briefing_generate(actor=None, station_id=station_id, day=today))
        except Exception:
            # One station's failure must not keep the others' meeting without its briefing.
            log.exception("Briefing of station %s failed", station_id)
    return made
