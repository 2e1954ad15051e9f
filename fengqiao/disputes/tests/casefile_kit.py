"""Helpers for the case-file tests: a case that reached an agreement, real file bytes."""

from __future__ import annotations

import struct
import zlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from fengqiao.disputes.followups import followups_schedule
from fengqiao.disputes.models import Agreement, AgreementItem, Dispute, FollowUp
from fengqiao.disputes.tests.kit import intake, mediator_for


def agreed_case(
    j: Any,
    actor: Any = None,
    *,
    status: str = "agreed",
    mediator_user: Any = None,
    days_ago: int = 1,
) -> tuple[Dispute, Agreement, list[FollowUp]]:
    """Return a case with a concluded agreement (one item due in 14 days) and its visits.

    The way to "agreed" (routing, sessions, signatures) is other parts' work: the status and
    the agreement are set directly, the visits are scheduled by the real service.
    """
    d = intake(j, actor)
    mediator = mediator_for(j, mediator_user) if mediator_user is not None else None
    Dispute.objects.filter(pk=d.pk).update(status=status, mediator=mediator)
    d.refresh_from_db()
    concluded = timezone.now() - timedelta(days=days_ago)
    agreement = Agreement.objects.create(
        dispute=d,
        station=j.station,
        number=f"XY-{d.pk}",
        form="written",
        facts="楼上漏水，双方争执",
        terms="李四赔偿张三维修费",
        concluded_at=concluded,
    )
    parties = list(d.parties.order_by("id"))
    AgreementItem.objects.create(
        agreement=agreement,
        obligor=parties[1],
        obligee=parties[0],
        description="赔偿维修费",
        amount=Decimal("1500.00"),
        due_date=timezone.localtime(concluded).date() + timedelta(days=14),
    )
    visits = followups_schedule(actor=actor, agreement=agreement)
    return d, agreement, visits


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """Return a real, valid PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def pdf_bytes() -> bytes:
    """Return a small, valid one-page PDF."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def exe_bytes() -> bytes:
    """Return the start of a Windows executable (MZ header)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def local_today() -> date:
    return timezone.localdate()
