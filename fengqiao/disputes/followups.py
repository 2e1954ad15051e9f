"""Follow-up visits (回访): scheduled by themselves when an agreement takes effect."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from fengqiao.core.audit import audit_record
from fengqiao.disputes.choices import FollowUpKind
from fengqiao.disputes.models import Agreement, FollowUp

# Days after the agreement takes effect at which the mediator visits the parties again.
FOLLOWUP_DAYS = ((7, FollowUpKind.DAYS_7), (30, FollowUpKind.DAYS_30))


def followups_schedule(*, actor: Any, agreement: Agreement) -> list[FollowUp]:
    """Schedule the visits of a concluded agreement: 7 and 30 days on, and each item's due date.

    Called inside the transaction that concludes the agreement; an item due on the day of a
    fixed visit shares it rather than making a second visit the same day.
    """
    assert agreement.concluded_at is not None
    user = actor if getattr(actor, "is_authenticated", False) else None
    start: date = timezone.localtime(agreement.concluded_at).date()
    planned: dict[date, FollowUp] = {}
    for days, kind in FOLLOWUP_DAYS:
        day = start + timedelta(days=days)
        planned[day] = FollowUp(kind=kind, due_date=day)
    for item in agreement.items.filter(due_date__isnull=False).order_by("due_date", "id"):
        assert item.due_date is not None
        if item.due_date not in planned:
            planned[item.due_date] = FollowUp(kind=FollowUpKind.ITEM_DUE, due_date=item.due_date)
        if planned[item.due_date].item_id is None:
            planned[item.due_date].item = item
    rows = []
    for day in sorted(planned):
        row = planned[day]
        row.dispute_id = agreement.dispute_id
        row.station_id = agreement.station_id
        row.agreement = agreement
        row.created_by = row.updated_by = user
        rows.append(row)
    created = FollowUp.objects.bulk_create(rows)
    audit_record(
        actor=actor,
        action="disputes.followup.scheduled",
        obj=agreement.dispute,
        changes={
            "agreement": agreement.number,
            "visits": [{"kind": r.kind, "due_date": r.due_date.isoformat()} for r in created],
        },
    )
    return created
