"""Intake: location, numbering, triage on the case, protected party data, audit, bad input."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.utils import timezone

from fengqiao.core.audit import REDACTED
from fengqiao.core.models import AuditEntry, CaseCounter, SearchGram
from fengqiao.core.pii import blind_index
from fengqiao.core.search import search_filter
from fengqiao.disputes.models import Dispute, DisputeType, Party
from fengqiao.disputes.tests.kit import ago, id_number, intake, person

pytestmark = pytest.mark.django_db


def test_intake_locates_numbers_and_triages_the_case(j):
    # given an officer of the station
    officer = j.user("officer")
    # when a resident's neighbour dispute is registered at a point in grid 3
    d = intake(j, officer, lat=28.215, lng=112.915)
    # then grid, community and station follow from the point
    assert (d.area, d.community, d.station) == (j.grids[3], j.communities[1], j.station)
    year = timezone.localtime(d.reported_at).year
    assert d.case_number == f"MD-{year}-000001"
    assert d.status == "received" and d.version == 1 and d.created_by == officer
    # the type carries its statistical type (the crosswalk)
    assert d.type.code == "0201" and d.stat_type.code == "neighbour"
    # a neighbour matter between two people with no money at stake is trivia, blue
    assert (d.grade, d.colour) == ("trivia", "blue")
    assert (d.grade_auto, d.colour_auto) == ("trivia", "blue")
    assert [r["rule"] for r in d.colour_reasons] == ["ordinary"]
    assert d.threat_state == "none" and d.threat_words == []
    assert d.people_count == 2 and d.amount == Decimal(0)


def test_intake_by_address_and_grid_without_a_map_point(j):
    d = intake(
        j, j.user("auxiliary"), lat=None, lng=None, grid_id=j.grids[2].pk, address="桥东路8号"
    )
    assert d.area == j.grids[2] and d.community == j.communities[1]
    assert d.lat is None and d.lng is None and d.address == "桥东路8号"


def test_parties_are_stored_encrypted_with_blind_indexes(j):
    card = id_number(7)
    d = intake(
        j,
        j.user("officer"),
        parties=[
            person("王五", phone="138 1234 5678", id_number=card.lower(), address="枫桥路2号"),
            {"kind": "organisation", "role": "respondent", "name": "某物业公司"},
        ],
    )
    wang, company = d.parties.order_by("id")
    assert wang.phone == "13812345678" and wang.id_number == card  # normalised
    assert wang.phone_bidx == blind_index("party_phone", "13812345678")
    assert wang.id_number_bidx == blind_index("party_id", card)
    assert wang.name_address_bidx and wang.station_id == j.station.pk
    assert company.kind == "organisation" and company.id_number == "" and company.phone_bidx == ""
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, id_number FROM disputes_party WHERE id = %s", [wang.pk])
        raw_phone, raw_id = cursor.fetchone()
    assert "13812345678" not in raw_phone and card not in raw_id


def test_intake_is_audited_without_personal_data(j):
    officer = j.user("officer")
    card = id_number(3)
    d = intake(j, officer, parties=[person("王五", phone="13812345678", id_number=card)])
    created = AuditEntry.objects.get(action="disputes.dispute.created", object_id=str(d.pk))
    assert created.actor == officer and created.station_id == j.station.pk
    assert created.changes["case_number"] == [None, d.case_number]
    assert created.changes["parties"][0]["name"] == "王五"
    assert created.changes["parties"][0]["phone"] == REDACTED
    assert "13812345678" not in str(created.changes) and card not in str(created.changes)
    triaged = AuditEntry.objects.get(action="disputes.dispute.triaged", object_id=str(d.pk))
    assert triaged.changes["cause"] == "intake" and triaged.changes["colour"] == "blue"
    assert triaged.changes["reasons"] == ["未触发红、橙、黄色预警规则，属一般纠纷"]


def test_threat_words_are_flagged_and_the_case_turns_red(j):
    d = intake(j, j.user("officer"), narrative="对方揚言要報復，說要殺了他")
    assert d.threat_words == ["报复", "杀"] and d.threat_state == "pending"
    assert (d.colour, d.grade) == ("red", "major")
    assert d.colour_reasons[0]["rule"] == "threat_pending"
    assert d.reason_texts() == ["叙述中出现威胁或暴力字词（报复、杀），待人工确认"]


def test_search_text_finds_the_case_by_narrative_name_and_number(j):
    d = intake(j, j.user("officer"), parties=[person("欧阳明")], narrative="楼上漏水")
    assert SearchGram.objects.filter(label="disputes.dispute", object_id=d.pk).exists()
    for query in ("漏水", "欧阳明", d.case_number, "樓上"):
        found = search_filter(Dispute.objects.all(), label="disputes.dispute", query=query)
        assert list(found) == [d], query


def test_case_numbers_run_per_station_and_per_year(j, other):
    officer, stranger = j.user("officer"), other.user("officer")
    first, second = intake(j, officer), intake(j, officer)
    elsewhere = intake(other, stranger)
    year = timezone.localtime(first.reported_at).year
    assert [first.case_number, second.case_number] == [f"MD-{year}-000001", f"MD-{year}-000002"]
    assert elsewhere.case_number == f"MD-{year}-000001"
    # registered with last year's date, a case takes last year's counter
    last_year = timezone.now().replace(year=year - 1, month=6, day=1)
    old = intake(j, officer, occurred_at=last_year, reported_at=last_year)
    assert old.case_number == f"MD-{year - 1}-000001"
    assert CaseCounter.objects.get(station_id=j.station.pk, prefix="MD", year=year).last == 2


def _bad(j, officer, **extra):
    with pytest.raises(Exception) as exc:
        intake(j, officer, **extra)
    assert Dispute.objects.count() == 0 and Party.objects.count() == 0
    assert not AuditEntry.objects.filter(action__startswith="disputes.").exists()
    assert not CaseCounter.objects.filter(prefix="MD").exists()
    return exc.value


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"amount": "-1"}, "amount", "涉及金额不能为负数。"),
        ({"amount": "一万"}, "amount", "涉及金额应为数字"),
        ({"amount": "NaN"}, "amount", "涉及金额应为数字"),
        ({"amount": "12.345"}, "amount", "最多保留两位小数"),
        ({"amount": True}, "amount", "涉及金额应为数字"),
        ({"narrative": "  "}, "narrative", "请填写纠纷情况。"),
        ({"occurred_at": "昨天"}, "occurred_at", "格式不正确"),
        ({"source": "rumour"}, "source", "请选择案件来源。"),
        ({"source": "referral"}, "referrer", "请选择移送单位"),
        ({"referrer": "court"}, "referrer", "只有委托移送的案件"),
        ({"type_code": "02"}, "type_code", "具体小类"),
        ({"type_code": "7777"}, "type_code", "没有编码为“7777”的纠纷类型。"),
        ({"scale": "huge"}, "scale", "请选择纠纷规模"),
        ({"scale": "group"}, "people_count", "群体性纠纷涉及人数应不少于3人。"),
        ({"people_count": 1}, "people_count", "不能少于登记的当事人人数（2人）"),
        ({"people_count": "很多"}, "people_count", "涉及人数应为整数。"),
        ({"channels_involved": 0}, "channels_involved", "应在 1 到 6 之间"),
        ({"parties": []}, "parties", "请至少登记一名当事人。"),
        ({"parties": [person(" ")]}, "parties.0.name", "请填写当事人姓名或名称。"),
        ({"parties": [person("张三", role="judge")]}, "parties.0.role", "请选择当事人身份"),
        ({"parties": [person("张三", phone="12345")]}, "parties.0.phone", "电话号码格式不正确"),
        (
            {"parties": [person("张三", id_number="430102198001010010")]},
            "parties.0.id_number",
            "校验位不正确",
        ),
        (
            {
                "parties": [
                    {
                        "kind": "organisation",
                        "role": "applicant",
                        "name": "某公司",
                        "id_number": id_number(1),
                    }
                ]
            },
            "parties.0.id_number",
            "单位当事人不填写居民身份证号码",
        ),
        (
            {
                "parties": [
                    person("甲", id_number=id_number(1)),
                    person("乙", id_number=id_number(1)),
                ]
            },
            "parties",
            "同一身份证号码不能登记为两名当事人。",
        ),
        ({"parties": [person("张三", consent="maybe")]}, "parties.0.consent", "调解意愿"),
        ({"lat": "北纬"}, "lat", "纬度应为数字"),
        ({"lng": None}, "lng", "请同时填写纬度和经度。"),
        ({"lat": 28.205, "lng": 112.955}, "location", "（28.205000, 112.955000）不在本所辖区"),
        ({"lat": None, "lng": None}, "location", "请在地图上选择位置，或填写地址并选择网格。"),
        ({"lat": None, "lng": None, "grid_id": 999999}, "grid_id", "请选择本所辖区内的网格。"),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message_and_nothing_written(
    j, other, extra, field, message
):
    error = _bad(j, j.user("officer"), **extra)
    assert field in error.fields, error.fields
    assert message in error.fields[field][0]
    assert error.status == 422


def test_a_future_occurrence_is_refused(j):
    error = _bad(j, j.user("officer"), occurred_at=timezone.now() + timedelta(hours=2))
    assert error.fields["occurred_at"] == ["发生时间不能晚于现在。"]


def test_an_occurrence_after_the_report_is_refused(j):
    error = _bad(j, j.user("officer"), occurred_at=ago(1), reported_at=ago(2))
    assert error.fields["occurred_at"] == ["发生时间不能晚于登记时间。"]


def test_a_grid_of_another_station_is_refused(j, other):
    error = _bad(j, j.user("officer"), lat=None, lng=None, grid_id=other.grids[0].pk)
    assert "grid_id" in error.fields


def test_a_grid_that_disagrees_with_the_map_point_is_refused(j):
    error = _bad(j, j.user("officer"), grid_id=j.grids[3].pk)  # the point is in grid 0
    assert error.fields["grid_id"] == ["所选网格与地图上的位置不一致。"]


def test_every_error_is_reported_at_once(j):
    error = _bad(j, j.user("officer"), amount="-5", narrative="", parties=[person("")])
    assert {"amount", "narrative", "parties.0.name"} <= set(error.fields)


def test_an_inactive_type_is_refused(j):
    DisputeType.objects.filter(code="0201").update(active=False)
    error = _bad(j, j.user("officer"))
    assert "已停用" in error.fields["type_code"][0]


@pytest.mark.parametrize("role", ["volunteer", "mediator", "analyst", "assistant"])
def test_only_intake_roles_of_the_station_may_register(j, role):
    with pytest.raises(PermissionDenied):
        intake(j, j.user(role))
    assert Dispute.objects.count() == 0


def test_another_stations_officer_is_told_not_found(j, other):
    # A station the user cannot reach at all is "not found", as every other cross-station
    # action is (a case, a party, a place of another station): its existence is not disclosed.
    with pytest.raises(Http404):
        intake(j, other.user("officer"))
    assert Dispute.objects.count() == 0


def test_a_grid_level_auxiliary_registers_only_in_their_grid(j):
    aux = j.user("auxiliary", area=j.grids[0])
    assert intake(j, aux).area == j.grids[0]
    with pytest.raises(PermissionDenied):
        intake(j, aux, lat=28.215, lng=112.915)
    assert Dispute.objects.count() == 1


def test_amounts_and_flags_from_a_form(j):
    d = intake(
        j,
        j.user("officer"),
        amount="120,000",
        type_code="0703",
        scale="group",
        people_count="12",
        special_groups="on",
        difficult="",
        channels_involved="2",
        source="referral",
        referrer="petition",
    )
    assert d.amount == Decimal("120000.00") and d.people_count == 12
    assert d.special_groups and not d.difficult and d.channels_involved == 2
    assert d.stat_type.code == "migrant_wages"
    assert d.colour == "red" and d.grade == "major"
    assert [r["rule"] for r in d.colour_reasons] == [
        "people",
        "amount_red",
        "channels",
        "special_groups",
    ]


def test_intake_costs_the_same_queries_for_two_parties_or_six(j):
    from django.test.utils import CaptureQueriesContext

    officer = j.user("officer")
    intake(j, officer)  # warm the grid index and the code-list lookups
    counts = []
    for n in (2, 6):
        parties = [person(f"当事人{i}", phone=f"1390000{n}{i:03d}") for i in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            intake(j, officer, parties=parties, people_count=n)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
