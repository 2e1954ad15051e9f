"""The audit log: every change and every read of personal data, hash-chained."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any, TypeVar

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from fengqiao.core.models import AuditEntry, AuditHead, BaseModel

GENESIS = "0" * 64
M = TypeVar("M", bound=models.Model)
REDACTED = "***"


def _canonical(entry: AuditEntry) -> bytes:
    payload = {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_label": entry.object_label,
        "station_id": entry.station_id,
        "changes": entry.changes,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _key() -> bytes:
    return hashlib.sha256(("fengqiao-audit:" + settings.FENGQIAO_AUDIT_KEY).encode()).digest()


def entry_hash(entry: AuditEntry) -> str:
    """Return the keyed hash that links this entry to the one before it.

    An HMAC, not a bare digest: whoever can write to the database but does not hold the
    key cannot forge a chain that verifies.
    """
    return hmac.new(_key(), _canonical(entry), hashlib.sha256).hexdigest()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict | list):
        return json.loads(json.dumps(value, default=str, sort_keys=True))
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Return the audit-relevant values of a row, foreign keys as ids."""
    names = (
        list(fields)
        if fields is not None
        else [
            f.attname
            for f in obj._meta.concrete_fields
            if f.name not in {"created_at", "updated_at", "search_text"}
        ]
    )
    return {name: getattr(obj, name) for name in names}


def diff(
    before: dict[str, Any], after: dict[str, Any], redacted: Iterable[str] = ()
) -> dict[str, Any]:
    """Return {field: [old, new]} for the fields that changed; personal data is masked."""
    hidden = set(redacted)
    out: dict[str, Any] = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        base = key.removesuffix("_id")
        if key in hidden or base in hidden:
            out[key] = [REDACTED, REDACTED]
        else:
            out[key] = [_jsonable(old), _jsonable(new)]
    return out


def _station_of(obj: models.Model | None) -> int | None:
    if obj is None:
        return None
    station_id = getattr(obj, "station_id", None)
    if station_id is None and getattr(obj, "kind", None) == "station":
        station_id = obj.pk
    return station_id


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    station_id: int | None = None,
    object_type: str = "",
    object_id: str = "",
) -> AuditEntry:
    """Append one entry to the chain, inside the caller's transaction."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:  # a database flushed by a test, or made without migrations
            AuditHead.objects.get_or_create(pk=1)
            head = AuditHead.objects.select_for_update().get(pk=1)
        user = actor if getattr(actor, "is_authenticated", False) else None
        entry = AuditEntry(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=user,
            actor_label=(user.get_username() if user else str(actor or "system"))[:150],
            action=action,
            object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
            object_id=object_id or (str(obj.pk) if obj is not None else ""),
            object_label=str(obj)[:200] if obj is not None else "",
            station_id=station_id if station_id is not None else _station_of(obj),
            changes=_jsonable(changes or {}),
            prev_hash=head.hash,
        )
        entry.hash = entry_hash(entry)
        entry.save()
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
    return entry


def audit_records_bulk(
    *,
    actor: Any,
    action: str,
    objs: Iterable[M],
    changes: Callable[[M], dict[str, Any]] | None = None,
    batch_size: int = 2000,
) -> int:
    """Append one entry per object under a single lock of the head; return how many.

    Imports create thousands of rows at once: each still gets its own entry on its
    timeline, without a lock and two writes per row.
    """
    objs = list(objs)
    if not objs:
        return 0
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            AuditHead.objects.get_or_create(pk=1)
            head = AuditHead.objects.select_for_update().get(pk=1)
        user = actor if getattr(actor, "is_authenticated", False) else None
        label = (user.get_username() if user else str(actor or "system"))[:150]
        now = timezone.now()
        seq, prev = head.seq, head.hash
        entries = []
        for obj in objs:
            seq += 1
            entry = AuditEntry(
                seq=seq,
                at=now,
                actor=user,
                actor_label=label,
                action=action,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                object_label=str(obj)[:200],
                station_id=_station_of(obj),
                changes=_jsonable(changes(obj) if changes else {}),
                prev_hash=prev,
            )
            entry.hash = prev = entry_hash(entry)
            entries.append(entry)
        AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
    return len(entries)


def audit_change(
    *, actor: Any, action: str, obj: BaseModel, before: dict[str, Any] | None
) -> AuditEntry | None:
    """Record a create (before=None) or an update of `obj`; nothing if nothing changed."""
    after = snapshot(obj, before.keys() if before is not None else None)
    changes = diff(before or {}, after, obj.audit_redacted)
    if before is not None and not changes:
        return None
    return audit_record(actor=actor, action=action, obj=obj, changes=changes)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    seq: int | None = None
    problem: str = ""


def audit_verify(chunk: int = 5000) -> VerifyResult:
    """Walk the chain from the start; report the first entry that was altered or removed."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk):
        if entry.seq != expected_seq:
            return VerifyResult(False, checked, expected_seq, f"entry #{expected_seq} was removed")
        if entry.prev_hash != prev:
            return VerifyResult(
                False, checked, entry.seq, f"entry #{entry.seq} does not follow its predecessor"
            )
        if entry_hash(entry) != entry.hash:
            return VerifyResult(False, checked, entry.seq, f"entry #{entry.seq} was altered")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != checked or head.hash != prev):
        return VerifyResult(
            False,
            checked,
            checked + 1,
            f"entries after #{checked} were removed (head is #{head.seq})",
        )
    return VerifyResult(True, checked)
