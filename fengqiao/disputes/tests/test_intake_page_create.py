"""The intake page: one case per submit token, errors keep the input, other stations not found."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from fengqiao.core.models import AuditEntry
from fengqiao.disputes.models import Dispute, Party
from fengqiao.disputes.tests.kit import ensure_codes, id_number, intake

pytestmark = pytest.mark.django_db

URL = "/disputes/new/"
PHONE = "13812345678"


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def form_data(j: Any, **extra: Any) -> dict[str, Any]:
    """Return a filled intake form as the browser posts it: two party rows."""
    grid = j.grids[3]
    data = {
        "station": str(j.station.pk),
        "narrative": "楼上漏水，两家争执",
        "occurred_at": "2026-01-05T09:30",
        "reported_at": "",
        "source": "application",
        "referrer": "",
        "type_class": "02",
        "type_code": "0201",
        "scale": "individual",
        "people_count": "",
        "amount": "1,500",
        "channels_involved": "",
        "lat": f"{grid.centroid_lat:.6f}",
        "lng": f"{grid.centroid_lng:.6f}",
        "address": "枫桥路3号",
        "grid_id": "",
        "intake_token": uuid.uuid4().hex,
        "parties-TOTAL_FORMS": "2",
        "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0",
        "parties-MAX_NUM_FORMS": "1000",
        "parties-0-kind": "person",
        "parties-0-role": "applicant",
        "parties-0-name": "王五",
        "parties-0-phone": PHONE,
        "parties-0-id_number": id_number(5),
        "parties-0-address": "枫桥路3号",
        "parties-0-consent": "agreed",
        "parties-0-consent_note": "",
        "parties-1-kind": "person",
        "parties-1-role": "respondent",
        "parties-1-name": "赵六",
        "parties-1-phone": "",
        "parties-1-id_number": "",
        "parties-1-address": "",
        "parties-1-consent": "undecided",
        "parties-1-consent_note": "",
    }
    data.update(extra)
    return data


def test_the_page_offers_every_field_and_a_one_time_token(j):
    ensure_codes()
    resp = client_for(j.user("officer")).get(URL)
    assert resp.status_code == 200
    html = resp.content.decode()
    for name in (
        "narrative",
        "occurred_at",
        "reported_at",
        "source",
        "referrer",
        "type_class",
        "type_code",
        "scale",
        "people_count",
        "amount",
        "violence",
        "death",
        "special_groups",
        "difficult",
        "channels_involved",
        "lat",
        "lng",
        "address",
        "grid_id",
        "parties-0-name",
        "parties-0-consent",
        "parties-1-id_number",
    ):
        assert f'name="{name}"' in html, name
    token = resp.context["form"].initial["intake_token"]
    assert len(token) == 32 and f'value="{token}"' in html
    assert 'data-stat="' in html  # each subtype shows its statistical type
    assert "js/dispute_intake.js" in html and "<script>" not in html  # no inline script


def test_a_submit_registers_one_case_and_says_its_number_grade_colour_and_reasons(j):
    officer = j.user("officer")
    resp = client_for(officer).post(URL, form_data(j), follow=True)
    d = Dispute.objects.get()
    assert resp.redirect_chain[-1][0] == reverse("disputes:dispute_detail", args=[d.pk])
    text = " ".join(str(m) for m in resp.context["messages"])
    assert d.case_number in text and "分级" in text and "预警颜色" in text
    assert d.reason_texts()[0] in text
    # the map point decided the grid; the values came through the service
    assert (d.area, d.community) == (j.grids[3], j.communities[1])
    assert d.amount == 1500 and d.source == "application" and d.created_by == officer
    wang, zhao = d.parties.order_by("id")
    assert (wang.name, wang.phone, wang.consent) == ("王五", PHONE, "agreed")
    assert zhao.role == "respondent"


def test_a_double_submit_with_the_same_token_makes_one_case(j):
    c = client_for(j.user("officer"))
    data = form_data(j)
    first = c.post(URL, data)
    second = c.post(URL, data)
    assert Dispute.objects.count() == 1 and Party.objects.count() == 2
    d = Dispute.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == f"/disputes/{d.pk}/"
    assert AuditEntry.objects.filter(action="disputes.dispute.created").count() == 1
    # a new token (a new form) is a new case
    c.post(URL, form_data(j, intake_token=uuid.uuid4().hex))
    assert Dispute.objects.count() == 2


def test_errors_come_back_on_the_form_with_every_value(j):
    data = form_data(
        j,
        amount="-5",
        narrative="  楼上漏水  ",
        **{"parties-1-name": "", "parties-1-address": "枫桥路5号", "parties-0-phone": "123"},
    )
    resp = client_for(j.user("officer")).post(URL, data)
    assert resp.status_code == 422
    assert Dispute.objects.count() == 0
    form, formset = resp.context["form"], resp.context["formset"]
    assert "涉及金额不能为负数" in form.errors["amount"][0]
    assert "请填写当事人姓名" in formset.forms[1].errors["name"][0]
    assert formset.forms[0].errors["phone"]
    html = resp.content.decode()
    # nothing typed is lost: the narrative, the address, the other party, the token
    assert "楼上漏水" in html and 'value="枫桥路3号"' in html and 'value="王五"' in html
    assert 'value="枫桥路5号"' in html and 'value="-5"' in html
    assert f'value="{data["intake_token"]}"' in html


def test_a_blank_party_row_is_skipped_and_no_party_is_refused(j):
    empty = {
        f"parties-{i}-{k}": "" for i in (0, 1) for k in ("name", "phone", "id_number", "address")
    }
    resp = client_for(j.user("officer")).post(URL, form_data(j, **empty))
    assert resp.status_code == 422
    assert "请至少登记一名当事人。" in resp.content.decode()
    assert Dispute.objects.count() == 0


def test_address_and_grid_without_a_map_point(j):
    data = form_data(j, lat="", lng="", grid_id=str(j.grids[1].pk), address="桥东路8号")
    resp = client_for(j.user("auxiliary")).post(URL, data)
    assert resp.status_code == 302
    d = Dispute.objects.get()
    assert d.area == j.grids[1] and d.lat is None and d.address == "桥东路8号"


def test_a_grid_level_auxiliary_registers_in_their_grid_only(j):
    aux = j.user("auxiliary", area=j.grids[3])
    c = client_for(aux)
    page = c.get(URL)
    assert page.status_code == 200
    grids = [value for value, _label in page.context["form"].fields["grid_id"].choices if value]
    assert grids == [str(j.grids[3].pk)]
    assert c.post(URL, form_data(j)).status_code == 302
    g = j.grids[0]
    elsewhere = form_data(j, lat=f"{g.centroid_lat:.6f}", lng=f"{g.centroid_lng:.6f}")
    refused = c.post(URL, elsewhere)
    assert refused.status_code == 403
    assert "您无权在该辖区登记矛盾纠纷。" in refused.content.decode()
    assert 'value="王五"' in refused.content.decode()  # nothing typed is lost
    assert Dispute.objects.count() == 1


def test_referral_needs_its_referrer(j):
    resp = client_for(j.user("officer")).post(URL, form_data(j, source="referral"))
    assert resp.status_code == 422 and resp.context["form"].errors["referrer"]
    resp = client_for(j.user("officer")).post(
        URL, form_data(j, source="referral", referrer="court")
    )
    assert resp.status_code == 302 and Dispute.objects.get().referrer == "court"


def test_another_stations_officer_is_told_not_found(j, other):
    ensure_codes()
    resp = client_for(other.user("officer")).post(URL, form_data(j))
    assert resp.status_code == 404
    assert Dispute.objects.count() == 0


@pytest.mark.parametrize("role", ["volunteer", "mediator", "analyst"])
def test_roles_without_intake_are_refused(j, role):
    ensure_codes()
    assert client_for(j.user(role)).get(URL).status_code == 403


def test_the_case_page_shows_the_edit_link_and_the_origin(j):
    officer = j.user("officer")
    d = intake(j, officer)
    html = client_for(officer).get(f"/disputes/{d.pk}/").content.decode()
    assert f"/disputes/{d.pk}/edit/" in html
    mediator = j.user("mediator")
    html = client_for(mediator).get(f"/disputes/{d.pk}/").content.decode()
    assert f"/disputes/{d.pk}/edit/" not in html
