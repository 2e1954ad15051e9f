"""The audit chain detects an altered, a removed and a cut-off entry."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from fengqiao.core.audit import audit_record, audit_verify
from fengqiao.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _chain(n: int = 5) -> None:
    for i in range(n):
        audit_record(actor=None, action="test.thing.changed", changes={"n": [i, i + 1]})


def test_intact_chain_verifies():
    _chain()
    result = audit_verify()
    assert result.ok and result.checked == 5


def test_entries_refuse_update_and_delete_through_the_orm():
    _chain(1)
    entry = AuditEntry.objects.get()
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().update(action="x")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


def test_a_row_edited_by_hand_in_sql_is_reported_by_seq():
    _chain()
    with connection.cursor() as cur:
        cur.execute("UPDATE core_auditentry SET action = 'forged' WHERE seq = 3")
    result = audit_verify()
    assert not result.ok and result.seq == 3 and "altered" in result.problem
    with pytest.raises(CommandError, match="#3"):
        call_command("audit_verify")


def test_a_row_removed_in_sql_is_reported():
    _chain()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditentry WHERE seq = 2")
    result = audit_verify()
    assert not result.ok and result.seq == 2 and "removed" in result.problem


def test_a_cut_off_tail_is_reported_against_the_head():
    _chain()
    with connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditentry WHERE seq = 5")
    result = audit_verify()
    assert not result.ok and "removed" in result.problem


def test_a_rehashed_forgery_breaks_the_link_to_the_next_entry():
    _chain()
    entry = AuditEntry.objects.get(seq=2)
    entry.changes = {"n": ["forged", "forged"]}
    from fengqiao.core.audit import entry_hash

    new_hash = entry_hash(entry)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE core_auditentry SET changes = %s, hash = %s WHERE seq = 2",
            ['{"n": ["forged", "forged"]}', new_hash],
        )
    result = audit_verify()
    assert not result.ok and result.seq == 3


def test_command_reports_success(capsys):
    _chain(2)
    call_command("audit_verify")
    assert "2 entries" in capsys.readouterr().out


def test_bulk_entries_join_the_chain_one_per_object():
    from fengqiao.core.audit import audit_records_bulk
    from fengqiao.core.models import CaseCounter

    _chain(2)
    rows = [CaseCounter.objects.create(station_id=i, prefix="T", year=2026) for i in range(5)]
    assert audit_records_bulk(actor=None, action="test.counter.created", objs=rows) == 5
    _chain(1)
    result = audit_verify()
    assert result.ok and result.checked == 8
    assert list(
        AuditEntry.objects.filter(action="test.counter.created")
        .values_list("object_id", flat=True)
        .order_by("seq")
    ) == [str(r.pk) for r in rows]


def test_the_chain_is_keyed_so_a_rehash_without_the_key_is_caught(settings):
    import hashlib

    from fengqiao.core.audit import _canonical

    _chain(3)
    entry = AuditEntry.objects.get(seq=3)
    assert entry.hash != hashlib.sha256(_canonical(entry)).hexdigest()
    settings.FENGQIAO_AUDIT_KEY = "another key"
    assert not audit_verify().ok
