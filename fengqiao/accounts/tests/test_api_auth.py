"""API authentication: bearer tokens (valid, forged, unknown, expired, revoked) and sessions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string

from fengqiao.accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {secret}"})


def assert_unauthorized(resp) -> None:
    assert resp.status_code == 401
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert body["code"] == "unauthorized"
    assert body["fields"] == {}
    assert "令牌" in body["message"]


def test_a_valid_token_identifies_its_user(j):
    # Given an officer with a live token
    officer = j.user("officer")
    _token, secret = ApiToken.issue(user=officer, name="cli")
    # When they call /me
    resp = bearer(secret).get("/api/v1/me")
    # Then they are recognised, with their role on the station
    assert resp.status_code == 200
    body = resp.json()
    assert body["username"] == officer.username
    assert body["memberships"] == [
        {"role": "officer", "area_id": j.station.pk, "area_name": j.station.name}
    ]
    assert ApiToken.objects.get(user=officer).last_used_at is not None


def test_no_credentials_is_401(j):
    assert_unauthorized(Client().get("/api/v1/me"))
    assert_unauthorized(Client().post("/api/v1/areas/locate", {}, content_type="application/json"))


def test_a_forged_secret_is_401(j):
    officer = j.user("officer")
    token, secret = ApiToken.issue(user=officer, name="cli")
    forged = f"fq_{token.key_id}_{'A' * 43}"
    assert forged != secret
    assert_unauthorized(bearer(forged).get("/api/v1/me"))


def test_an_unknown_key_id_is_401(j):
    officer = j.user("officer")
    _token, secret = ApiToken.issue(user=officer, name="cli")
    unknown = "fq_00000000_" + secret.split("_", 2)[2]
    assert_unauthorized(bearer(unknown).get("/api/v1/me"))


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Bearer fq_", "Bearer fq__", "Bearer nonsense", "Basic dXNlcjpwYXNz"],
)
def test_malformed_authorization_headers_are_401(j, header):
    j.user("officer")
    resp = Client(headers={"Authorization": header}).get("/api/v1/me")
    assert_unauthorized(resp)


def test_an_expired_token_is_401(j):
    officer = j.user("officer")
    token, secret = ApiToken.issue(user=officer, name="cli")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_unauthorized(bearer(secret).get("/api/v1/me"))


def test_a_revoked_token_is_401(j):
    officer = j.user("officer")
    token, secret = ApiToken.issue(user=officer, name="cli")
    assert bearer(secret).get("/api/v1/me").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert_unauthorized(bearer(secret).get("/api/v1/me"))


def test_a_deactivated_users_token_is_401(j):
    officer = j.user("officer")
    _token, secret = ApiToken.issue(user=officer, name="cli")
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    assert_unauthorized(bearer(secret).get("/api/v1/me"))


def test_a_session_reads_without_csrf_but_writes_only_with_it(j):
    # Given a logged-in browser that enforces CSRF like a real one
    officer = j.user("officer")
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    body = {"station_id": j.station.pk, "lat": 28.205, "lng": 112.905}
    # Reads need no CSRF token
    assert client.get("/api/v1/me").status_code == 200
    # An unsafe method without the token is refused, as JSON
    resp = client.post("/api/v1/areas/locate", body, content_type="application/json")
    assert resp.status_code == 403
    assert resp.json()["code"] == "csrf_failed"
    # With the cookie and the matching header it goes through
    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret
    resp = client.post(
        "/api/v1/areas/locate", body, content_type="application/json", HTTP_X_CSRFTOKEN=secret
    )
    assert resp.status_code == 200
    assert resp.json()["id"] == j.grids[0].pk


def test_a_token_needs_no_csrf_token(j):
    officer = j.user("officer")
    _token, secret = ApiToken.issue(user=officer, name="cli")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {secret}"})
    body = {"station_id": j.station.pk, "lat": 28.205, "lng": 112.905}
    resp = client.post("/api/v1/areas/locate", body, content_type="application/json")
    assert resp.status_code == 200


def test_a_logged_out_session_is_401(j):
    officer = j.user("officer")
    client = Client()
    client.force_login(officer)
    client.logout()
    assert_unauthorized(client.get("/api/v1/me"))
