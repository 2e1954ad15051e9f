"""Login, lockout without user enumeration, logout, password change, session expiry."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from fengqiao.core.models import AuditEntry

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def _login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_good_password_logs_in_and_lands_on_home(client, j):
    chief = j.user("chief")
    resp = _login(client, chief.username, "correct-horse-9")
    assert resp.status_code == 302 and resp.url == reverse("home")
    assert client.get("/").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_message(client, j):
    chief = j.user("chief")
    wrong = _login(client, chief.username, "nope")
    unknown = _login(client, "nobody-at-all", "nope")
    assert wrong.status_code == unknown.status_code == 200
    msg = "用户名或密码不正确"
    assert msg in wrong.content.decode() and msg in unknown.content.decode()


def test_five_failures_lock_the_account_even_for_the_right_password(client, j):
    chief = j.user("chief")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, chief.username, "wrong")
    resp = _login(client, chief.username, "correct-horse-9")
    assert resp.status_code == 429
    assert "锁定" in resp.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_of_an_unknown_name_looks_the_same(client, db):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "ghost", "wrong")
    resp = _login(client, "ghost", "wrong")
    assert resp.status_code == 429 and "锁定" in resp.content.decode()


def test_inactive_user_cannot_log_in(client, j):
    u = j.user("officer")
    u.is_active = False
    u.save()
    resp = _login(client, u.username, "correct-horse-9")
    assert resp.status_code == 200 and "_auth_user_id" not in client.session


def test_pages_need_login(client, db):
    resp = client.get("/")
    assert resp.status_code == 302 and resp.url.startswith(LOGIN)


def test_logout_is_a_post(client, j):
    client.force_login(j.user("officer"))
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_is_audited(client, j):
    u = j.user("officer")
    client.force_login(u)
    resp = client.post(
        "/accounts/password/",
        {
            "old_password": "correct-horse-9",
            "new_password1": "Qz8!fengqiao-x",
            "new_password2": "Qz8!fengqiao-x",
        },
    )
    assert resp.status_code == 302
    u.refresh_from_db()
    assert u.check_password("Qz8!fengqiao-x")
    assert u.password.startswith("argon2")
    assert AuditEntry.objects.filter(
        action="accounts.user.password_changed", object_id=str(u.pk)
    ).exists()


def test_weak_new_password_is_refused_with_a_message(client, j):
    u = j.user("officer")
    client.force_login(u)
    resp = client.post(
        "/accounts/password/",
        {
            "old_password": "correct-horse-9",
            "new_password1": "12345678",
            "new_password2": "12345678",
        },
    )
    assert resp.status_code == 200
    u.refresh_from_db()
    assert u.check_password("correct-horse-9")


def test_sessions_expire():
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
