"""The incident log's services: intake, the state moves, conversion, corrections, settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from fengqiao.core.audit import REDACTED
from fengqiao.core.errors import Conflict, IllegalTransition, ValidationFailed
from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute
from fengqiao.incidents import moves, services
from fengqiao.incidents.models import Incident, StationIncidentConfig
from fengqiao.incidents.repeats import address_key, caller_index

pytestmark = pytest.mark.django_db


def ago(hours: float = 1) -> datetime:
    return timezone.now() - timedelta(hours=hours)


def log(j: Any, actor: Any = None, **extra: Any) -> Incident:
    """Log an incident in grid 0 (a map point); keyword arguments override the defaults."""
    grid = j.grids[extra.pop("grid", 0)]
    values: dict[str, Any] = {
        "station_id": j.station.pk,
        "source": "dispatch_110",
        "category_code": "200100",
        "reported_at": ago(1),
        "occurred_at": ago(1.2),
        "narrative": "小区门口两人打架",
        "lat": grid.centroid_lat,
        "lng": grid.centroid_lng,
        "address": "枫桥路1号",
    }
    values.update(extra)
    return services.incident_intake(actor=actor, **values)


def fields_of(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return exc.value.fields


def test_intake_locates_numbers_and_audits_without_the_caller(j):
    officer = j.user("officer")
    i = log(j, officer, grid=3, caller_name="王五", caller_phone="138 0013 8000")
    assert (i.area, i.community, i.station) == (j.grids[3], j.communities[1], j.station)
    assert i.case_number.startswith(f"JQ-{timezone.localtime(i.reported_at).year}-")
    assert i.class_code == "200000" and i.status == "received" and i.version == 1
    assert i.address_key == address_key("枫桥路1号")
    assert i.caller_bidx == caller_index("13800138000")
    assert "打架" in i.search_text and "枫桥路" in i.search_text
    entry = AuditEntry.objects.get(action="incidents.incident.created", object_id=str(i.pk))
    assert entry.changes["caller_phone"] == [REDACTED, REDACTED]
    assert entry.changes["caller_name"] == [REDACTED, REDACTED]
    assert "13800138000" not in str(entry.changes) and "王五" not in str(entry.changes)
    # Stored encrypted: the raw column is not the phone.
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT caller_phone FROM incidents_incident WHERE id = %s", [i.pk])
        assert "13800138000" not in cur.fetchone()[0]


def test_intake_takes_a_grid_without_a_point(j):
    i = log(j, lat=None, lng=None, grid_id=j.grids[2].pk)
    assert i.area == j.grids[2] and i.lat is None


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"category_code": "999999"}, "category_code", "未知的警情类别编码：999999"),
        ({"category_code": "100000"}, "category_code", "具体类别"),
        ({"source": "fax"}, "source", "警情来源"),
        ({"narrative": "  "}, "narrative", "简要警情"),
        (
            {"occurred_at": timezone.now() - timedelta(minutes=10), "reported_at": ago(1)},
            "occurred_at",
            "不能晚于报警时间",
        ),
        ({"reported_at": timezone.now() + timedelta(hours=1)}, "reported_at", "不能晚于当前时间"),
        ({"reported_at": "yesterday"}, "reported_at", "格式不正确"),
        ({"lat": 30.5, "lng": 114.3}, "location", "不在本所辖区"),
        ({"lat": None, "lng": None}, "location", "请在地图上选择位置"),
        ({"lat": None, "lng": None, "grid_id": 999999}, "grid_id", "本所辖区内的网格"),
        ({"caller_phone": "12345"}, "caller_phone", "电话号码格式不正确"),
    ],
)
def test_intake_refuses_bad_input_with_a_field_message(j, extra, field, words):
    officer = j.user("officer")
    with pytest.raises(ValidationFailed) as exc:
        log(j, officer, **extra)
    assert any(words in m for m in fields_of(exc)[field]), fields_of(exc)
    assert not Incident.objects.exists()


def test_a_grid_of_another_station_is_refused(j, other):
    with pytest.raises(ValidationFailed) as exc:
        log(j, None, lat=None, lng=None, grid_id=other.grids[0].pk)
    assert "grid_id" in fields_of(exc)


def test_intake_is_idempotent_on_its_key(j):
    officer = j.user("officer")
    first = log(j, officer, intake_key="k-1")
    again = log(j, officer, intake_key="k-1", narrative="另一段文字")
    assert again.pk == first.pk and getattr(again, "replayed", False)
    assert Incident.objects.count() == 1


def test_an_external_id_is_registered_once(j):
    log(j, None, external_id="110-0001")
    with pytest.raises(ValidationFailed) as exc:
        log(j, None, external_id="110-0001")
    assert "external_id" in fields_of(exc)


def test_intake_permissions(j, other):
    with pytest.raises(Http404):
        log(j, other.user("officer"))
    with pytest.raises(PermissionDenied):
        log(j, j.user("analyst"))
    with pytest.raises(PermissionDenied):
        log(j, j.user("officer", area=j.grids[1]), grid=0)
    assert not Incident.objects.exists()
    assert log(j, j.user("officer", area=j.grids[0]), grid=0).area == j.grids[0]


def test_the_full_cycle_records_times_and_audits_each_step(j):
    officer = j.user("officer")
    i = log(j, officer, reported_at=ago(2), occurred_at=ago(2.5))
    i = moves.incident_dispatch(actor=officer, incident=i, officer_id=officer.pk, at=ago(1.9))
    assert i.status == "dispatched" and i.officer == officer
    i = moves.incident_arrive(actor=officer, incident=i, at=ago(1.7))
    assert i.status == "on_scene"
    i = moves.incident_close(actor=officer, incident=i, disposition="on_spot", note="已调解")
    assert i.status == "closed" and i.valid and i.version == 4
    from fengqiao.incidents.selectors import response_times

    assert response_times(i).response == 18
    actions = list(
        AuditEntry.objects.filter(object_id=str(i.pk), object_type="incidents.incident")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == [
        "incidents.incident.created",
        "incidents.incident.dispatched",
        "incidents.incident.arrived",
        "incidents.incident.closed",
    ]


def test_dispatch_needs_an_officer_of_the_station_or_a_team(j, other):
    officer = j.user("officer")
    i = log(j, officer)
    with pytest.raises(ValidationFailed) as exc:
        moves.incident_dispatch(actor=officer, incident=i)
    assert "officer_id" in fields_of(exc)
    with pytest.raises(ValidationFailed) as exc:
        moves.incident_dispatch(actor=officer, incident=i, officer_id=other.user("officer").pk)
    assert "本所" in fields_of(exc)["officer_id"][0]
    with pytest.raises(ValidationFailed):
        moves.incident_dispatch(actor=officer, incident=i, officer_id=j.user("analyst").pk)
    i = moves.incident_dispatch(actor=officer, incident=i, team="巡逻一组")
    assert i.team == "巡逻一组" and i.officer is None
    assert Incident.objects.get(pk=i.pk).status == "dispatched"


@pytest.mark.parametrize(
    ("steps", "move", "reason"),
    [
        (["close"], "dispatch", "警情已处结，不能再派警。"),
        ([], "arrive", "尚未派警"),
        (["dispatch"], "dispatch", "不能重复派警"),
        (["dispatch", "arrive"], "arrive", "不能重复登记"),
        (["dispatch", "arrive"], "dispatch", "不能再派警"),
        (["close"], "arrive", "已处结"),
        (["close"], "close", "不能重复处结"),
        (["close"], "convert", "已处结"),
    ],
)
def test_a_move_out_of_order_is_refused_with_a_reason(j, steps, move, reason):
    officer = j.user("officer")
    i = log(j, officer)
    calls = {
        "dispatch": lambda x: moves.incident_dispatch(actor=officer, incident=x, team="一组"),
        "arrive": lambda x: moves.incident_arrive(actor=officer, incident=x),
        "close": lambda x: moves.incident_close(actor=officer, incident=x, disposition="on_spot"),
        "convert": lambda x: moves.incident_convert(
            actor=officer,
            incident=x,
            type_code="0201",
            scale="individual",
            parties=[{"kind": "person", "role": "applicant", "name": "张三"}],
        ),
    }
    for step in steps:
        i = calls[step](i)
    before = Incident.objects.get(pk=i.pk)
    with pytest.raises(IllegalTransition) as exc:
        calls[move](i)
    assert reason in exc.value.message
    after = Incident.objects.get(pk=i.pk)
    assert (after.status, after.version) == (before.status, before.version)
    assert not Dispute.objects.exists()


def test_step_times_are_never_before_the_report_nor_in_the_future(j):
    officer = j.user("officer")
    i = log(j, officer, reported_at=ago(2), occurred_at=ago(3))
    with pytest.raises(ValidationFailed) as exc:
        moves.incident_dispatch(actor=officer, incident=i, team="一组", at=ago(3))
    assert "dispatched_at" in fields_of(exc)
    with pytest.raises(ValidationFailed) as exc:
        moves.incident_dispatch(
            actor=officer, incident=i, team="一组", at=timezone.now() + timedelta(hours=1)
        )
    assert "dispatched_at" in fields_of(exc)
    i = moves.incident_dispatch(actor=officer, incident=i, team="一组", at=ago(1))
    with pytest.raises(ValidationFailed) as exc:
        moves.incident_arrive(actor=officer, incident=i, at=ago(1.5))
    assert "arrived_at" in fields_of(exc)


def test_close_rules_for_linkage_invalid_and_dispute(j):
    officer = j.user("officer")
    i = log(j, officer)
    with pytest.raises(ValidationFailed) as exc:
        moves.incident_close(actor=officer, incident=i, disposition="referred")
    assert "linkage" in fields_of(exc)
    with pytest.raises(ValidationFailed) as exc:
        moves.incident_close(actor=officer, incident=i, disposition="on_spot", linkage="120")
    assert "linkage" in fields_of(exc)
    with pytest.raises(ValidationFailed) as exc:
        moves.incident_close(actor=officer, incident=i, disposition="dispute")
    assert "转为纠纷" in fields_of(exc)["disposition"][0]
    with pytest.raises(ValidationFailed):
        moves.incident_close(actor=officer, incident=i, disposition="nonsense")
    assert Incident.objects.get(pk=i.pk).status == "received"
    i = moves.incident_close(actor=officer, incident=i, disposition="invalid")
    assert not i.valid
    other_one = log(j, officer)
    other_one = moves.incident_close(
        actor=officer, incident=other_one, disposition="referred", linkage="120"
    )
    assert other_one.linkage == "120" and other_one.valid


def test_convert_opens_exactly_one_linked_dispute_and_closes_the_incident(j):
    officer = j.user("officer")
    i = log(j, officer, category_code="200200")
    parties = [
        {"kind": "person", "role": "applicant", "name": "张三"},
        {"kind": "person", "role": "respondent", "name": "李四"},
    ]
    i = moves.incident_convert(
        actor=officer, incident=i, type_code="0201", scale="individual", parties=parties
    )
    assert i.status == "closed" and i.disposition == "dispute" and i.dispute_id
    d = Dispute.objects.get()
    assert (d.origin_label, d.origin_id) == ("incidents.incident", i.pk)
    assert d.source == "police_call" and d.area_id == i.area_id
    assert d.narrative == i.narrative
    again = moves.incident_convert(
        actor=officer, incident=i, type_code="0201", scale="individual", parties=parties
    )
    assert again.dispute_id == d.pk and Dispute.objects.count() == 1
    assert AuditEntry.objects.filter(action="incidents.incident.converted").count() == 1


def test_a_refused_conversion_leaves_neither_a_dispute_nor_a_closed_incident(j):
    officer = j.user("officer")
    i = log(j, officer, lat=None, lng=None, grid_id=j.grids[1].pk, address="")
    with pytest.raises(ValidationFailed):
        moves.incident_convert(
            actor=officer, incident=i, type_code="nope", scale="individual", parties=[]
        )
    assert not Dispute.objects.exists()
    assert Incident.objects.get(pk=i.pk).status == "received"
    i = moves.incident_convert(
        actor=officer,
        incident=i,
        type_code="0201",
        scale="individual",
        parties=[{"kind": "person", "role": "applicant", "name": "张三"}],
    )
    assert Dispute.objects.get().area_id == j.grids[1].pk


def test_an_analyst_may_not_move_an_incident(j):
    i = log(j, None)
    analyst = j.user("analyst")
    with pytest.raises(PermissionDenied):
        moves.incident_dispatch(actor=analyst, incident=i, team="一组")
    with pytest.raises(PermissionDenied):
        moves.incident_close(actor=analyst, incident=i, disposition="on_spot")
    assert Incident.objects.get(pk=i.pk).status == "received"


def test_update_checks_the_version_revalidates_and_audits(j):
    officer = j.user("officer")
    i = log(j, officer, caller_phone="13800138000")
    i = services.incident_update(
        actor=officer, incident=i, version=1, narrative="更正：三人打架", address="岳麓路2号"
    )
    assert i.version == 2 and i.address_key == address_key("岳麓路2号")
    assert "岳麓路" in i.search_text
    entry = AuditEntry.objects.get(action="incidents.incident.updated")
    assert set(entry.changes) >= {"narrative", "address"}
    with pytest.raises(Conflict):
        services.incident_update(actor=officer, incident=i, version=1, narrative="旧版本")
    with pytest.raises(ValidationFailed) as exc:
        services.incident_update(actor=officer, incident=i, version=2, category_code="123")
    assert "未知的警情类别编码" in fields_of(exc)["category_code"][0]
    with pytest.raises(ValidationFailed):
        services.incident_update(
            actor=officer, incident=i, version=2, occurred_at=timezone.now() - timedelta(minutes=1)
        )
    i = services.incident_update(actor=officer, incident=i, version=2, caller_phone="")
    assert i.caller_bidx == "" and Incident.objects.get(pk=i.pk).version == 3


def test_intake_flags_repeats_and_reflags_later_incidents(j):
    StationIncidentConfig.objects.create(station=j.station, repeat_min=3, repeat_days=30)
    base = timezone.now() - timedelta(days=10)
    a = log(j, None, reported_at=base, occurred_at=base, address="枫桥路 8 号")
    b = log(j, None, reported_at=base + timedelta(days=2), occurred_at=base, address="枫桥路8号")
    assert not b.repeat_address
    # A back-entered incident between them makes the later one the third in 30 days.
    c = log(j, None, reported_at=base + timedelta(days=1), occurred_at=base, address="楓橋路8號")
    assert not c.repeat_address
    assert Incident.objects.get(pk=b.pk).repeat_address
    assert Incident.objects.get(pk=b.pk).repeat_reasons == [
        {"rule": "address", "count": 3, "days": 30}
    ]
    assert not Incident.objects.get(pk=a.pk).repeat_address


def test_settings_are_for_the_chief_validated_audited_and_reflag(j):
    base = timezone.now() - timedelta(days=3)
    for d in range(2):
        log(j, None, reported_at=base + timedelta(days=d), occurred_at=base, address="枫桥路8号")
    with pytest.raises(PermissionDenied):
        services.incident_config_update(
            actor=j.user("officer"), station_id=j.station.pk, repeat_min=2
        )
    with pytest.raises(ValidationFailed) as exc:
        services.incident_config_update(
            actor=None, station_id=j.station.pk, repeat_min=1, briefing_hour=24
        )
    assert set(fields_of(exc)) == {"repeat_min", "briefing_hour"}
    cfg = services.incident_config_update(
        actor=j.user("chief"), station_id=j.station.pk, repeat_min=2, hotspot_resolution=8
    )
    assert (cfg.repeat_min, cfg.hotspot_resolution) == (2, 8)
    assert Incident.objects.filter(repeat_address=True).count() == 1
    assert AuditEntry.objects.filter(action="incidents.config.updated").exists()
