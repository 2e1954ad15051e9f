"""The incident log in Chromium: an officer takes a call, picks the place, dispatches, closes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from conftest import browser_login
from fengqiao.core.models import AuditEntry
from fengqiao.incidents.models import Incident

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _local(minutes_ago: int) -> str:
    moment = timezone.localtime(timezone.now() - timezone.timedelta(minutes=minutes_ago))
    return moment.strftime("%Y-%m-%dT%H:%M")


def test_an_officer_logs_a_call_and_takes_it_to_closed(page, j):
    grid = j.grids[1]
    browser_login(page, j.user("officer").username)
    page.wait_for_url("**/")
    page.click("nav >> text=警情")
    page.wait_for_url("**/incidents/")
    page.goto("/incidents/new/")
    page.select_option("#id_source", "phone")
    page.select_option("#id_type_class", "100000")
    page.select_option("#id_type_code", "100103")
    page.fill("#id_reported_at", _local(30))
    # First a time occurred after the call: the page says so and keeps what was typed.
    page.fill("#id_occurred_at", _local(5))
    page.fill("#id_narrative", "电动车在楼下被盗")
    page.fill("#id_address", "枫桥路3号")
    page.fill("#id_caller_name", "赵六")
    page.fill("#id_caller_phone", "13900139000")
    page.wait_for_selector("#pick-map[data-loaded]")
    # Pick the place on the map: the grid under the click is found in the page.
    page.evaluate(
        """([lat, lng]) => { const m = document.getElementById("pick-map").leafletMap;
        m.fire("click", {latlng: L.latLng(lat, lng)}); }""",
        [grid.centroid_lat, grid.centroid_lng],
    )
    assert grid.name in page.inner_text("#found-grid")
    page.click("#incident-form button[type=submit]")
    assert "发生时间不能晚于报警时间" in page.inner_text("#incident-form")
    assert page.input_value("#id_narrative") == "电动车在楼下被盗"
    assert not Incident.objects.exists()

    page.fill("#id_occurred_at", _local(45))
    page.click("#incident-form button[type=submit]")
    page.wait_for_selector("#move-dispatch")
    incident = Incident.objects.get()
    assert (incident.area_id, incident.status) == (grid.pk, "received")
    body = page.inner_text("body")
    assert "139****9000" in body and "13900139000" not in body

    page.fill("#move-dispatch [name=team]", "巡逻一组")
    page.click("#move-dispatch button[type=submit]")
    page.wait_for_selector("#move-arrive")
    page.click("#move-arrive button[type=submit]")
    page.wait_for_selector("#move-close")
    page.select_option("#move-close [name=disposition]", "on_spot")
    page.click("#move-close button[type=submit]")
    page.wait_for_selector("#incident-moves", state="detached")
    incident.refresh_from_db()
    got = (incident.status, incident.disposition, incident.team)
    assert got == ("closed", "on_spot", "巡逻一组")
    assert incident.dispatched_at and incident.arrived_at and incident.closed_at
    actions = AuditEntry.objects.filter(object_id=str(incident.pk)).values_list("action", flat=True)
    verbs = {a.rsplit(".", 1)[-1] for a in actions if a.startswith("incidents.incident.")}
    assert verbs >= {"created", "dispatched", "arrived", "closed"}
