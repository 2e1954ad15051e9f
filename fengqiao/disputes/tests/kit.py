"""Helpers for the disputes tests: valid personal data and an intake with sensible defaults."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from fengqiao.core.pii import id_check_digit
from fengqiao.disputes.models import Dispute, Mediator
from fengqiao.disputes.services import dispute_intake


def id_number(serial: int = 1, born: str = "19800101", region: str = "430102") -> str:
    """Return a valid 18-digit resident ID number (GB 11643 check digit)."""
    first17 = f"{region}{born}{serial:03d}"
    return first17 + id_check_digit(first17)


def person(name: str = "张三", **extra: Any) -> dict[str, Any]:
    """Return one party's input: a person, applicant unless told otherwise."""
    return {"kind": "person", "role": "applicant", "name": name, **extra}


def ago(days: float = 0, hours: float = 1) -> datetime:
    """Return a moment in the past, `days` and `hours` before now."""
    return timezone.now() - timedelta(days=days, hours=hours)


def ensure_codes() -> None:
    """Reload the dispute code lists if a transactional test flushed them."""
    from fengqiao.disputes.codes import load_dispute_types, load_stat_types
    from fengqiao.disputes.models import DisputeType, StatType

    if not DisputeType.objects.exists():
        load_stat_types(StatType)
        load_dispute_types(DisputeType, StatType)


def intake(j: Any, actor: Any = None, **extra: Any) -> Dispute:
    """Register a dispute in grid 0 of the jurisdiction; keyword arguments override defaults."""
    ensure_codes()
    grid = j.grids[extra.pop("grid", 0)]
    values: dict[str, Any] = {
        "station_id": j.station.pk,
        "narrative": "两家因楼上漏水发生争执",
        "occurred_at": ago(1),
        "source": "application",
        "type_code": "0201",
        "scale": "individual",
        "lat": grid.centroid_lat,
        "lng": grid.centroid_lng,
        "address": "枫桥路1号",
        "parties": [person("张三"), person("李四", role="respondent")],
    }
    values.update(extra)
    return dispute_intake(actor=actor, **values)


def mediator_for(j: Any, user: Any = None, **extra: Any) -> Mediator:
    """Return the registry row of a community mediator of `j`, with the user's account if given."""
    if user is not None:
        found = Mediator.objects.filter(station=j.station, user=user).first()
        if found is not None:
            return found
    values: dict[str, Any] = {
        "station": j.station,
        "user": user,
        "kind": "community",
        "name": user.get_full_name() or user.username if user is not None else "王调解",
    }
    values.update(extra)
    return Mediator.objects.create(**values)


def concluded_agreement(d: Dispute) -> Any:
    """Record an agreement every party signed just now, as the signing service leaves it.

    For tests about the status table and what follows it; the signing itself is tested in
    test_mediation_*.
    """
    from fengqiao.disputes.models import Agreement

    n = Agreement.objects.filter(station_id=d.station_id).count() + 1
    return Agreement.objects.create(
        dispute=d,
        station_id=d.station_id,
        number=f"XY-T-{d.pk}-{n}",
        form="written",
        facts="测试事实",
        terms="测试协议内容",
        concluded_at=timezone.now(),
    )


def recorded_referral(d: Dispute, target: str = "litigation") -> Any:
    """Record a referral of a failed case, as the referral service does before its move."""
    from fengqiao.disputes.models import Referral

    return Referral.objects.create(
        dispute=d,
        station_id=d.station_id,
        target=target,
        receiver="区人民法院",
        reason="调解不成",
        referred_at=timezone.now(),
    )
