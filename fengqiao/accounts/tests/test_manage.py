"""A chief manages the accounts of their own station only; every change is audited."""

from __future__ import annotations

import pytest

from fengqiao.accounts.models import ApiToken, Membership, User
from fengqiao.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _create(client, area, role="officer", username="newcop"):
    return client.post(
        "/accounts/users/new/",
        {
            "username": username,
            "full_name": "新民警",
            "badge_number": "",
            "role": role,
            "area": area.pk,
        },
    )


def test_chief_creates_an_account_at_their_station_and_sees_its_password_once(client, j):
    client.force_login(j.user("chief"))
    resp = _create(client, j.communities[0])
    assert resp.status_code == 200
    password = resp.context["password"]
    user = User.objects.get(username="newcop")
    assert user.check_password(password)
    assert Membership.objects.filter(user=user, area=j.communities[0], role="officer").exists()
    assert AuditEntry.objects.filter(
        action="accounts.user.created", station_id=j.station.pk
    ).exists()


@pytest.mark.parametrize("role", ["officer", "volunteer", "mediator", "auxiliary", "assistant"])
def test_other_roles_cannot_manage_accounts(client, j, role):
    client.force_login(j.user(role))
    assert client.get("/accounts/users/").status_code == 403
    assert _create(client, j.station, username="sneaky").status_code == 403
    assert not User.objects.filter(username="sneaky").exists()


def test_chief_cannot_create_an_account_in_another_station(client, j, other):
    client.force_login(j.user("chief"))
    resp = _create(client, other.station, username="intruder")
    assert resp.status_code == 200  # the form refuses the area: not a choice for this chief
    assert "area" in resp.context["form"].errors
    assert not User.objects.filter(username="intruder").exists()


def test_chief_cannot_grant_admin_or_analyst(client, j):
    client.force_login(j.user("chief"))
    resp = _create(client, j.station, role="admin", username="root2")
    assert "role" in resp.context["form"].errors
    assert not User.objects.filter(username="root2").exists()


def test_chief_does_not_see_or_touch_another_stations_accounts(client, j, other):
    theirs = other.user("officer")
    client.force_login(j.user("chief"))
    listing = client.get("/accounts/users/").content.decode()
    assert theirs.username not in listing
    assert client.get(f"/accounts/users/{theirs.pk}/").status_code == 404
    assert client.post(f"/accounts/users/{theirs.pk}/reset").status_code == 404
    assert client.post(f"/accounts/users/{theirs.pk}/deactivate").status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active and theirs.check_password("correct-horse-9")


def test_chief_resets_a_password_and_deactivates_an_account(client, j):
    cop = j.user("officer")
    client.force_login(j.user("chief"))
    resp = client.post(f"/accounts/users/{cop.pk}/reset")
    cop.refresh_from_db()
    assert cop.check_password(resp.context["password"])
    client.post(f"/accounts/users/{cop.pk}/deactivate")
    cop.refresh_from_db()
    assert not cop.is_active
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"accounts.user.password_reset", "accounts.user.deactivated"} <= actions


def test_profile_issues_a_token_shown_once_and_stored_as_a_digest(client, j):
    u = j.user("officer")
    client.force_login(u)
    resp = client.post("/accounts/profile/", {"name": "手机", "days": 30})
    secret = resp.context["secret"]
    token = ApiToken.objects.get(user=u)
    assert secret.startswith("fq_") and secret not in (token.digest, token.key_id)
    assert ApiToken.authenticate(secret) == u
    assert secret not in client.get("/accounts/profile/").content.decode()
    client.post(f"/accounts/tokens/{token.pk}/revoke")
    assert ApiToken.authenticate(secret) is None


def test_a_chief_cannot_remove_their_own_membership_and_sees_why(client, j):
    chief = j.user("chief")
    own = Membership.objects.get(user=chief)
    client.force_login(chief)
    page = client.get(f"/accounts/users/{chief.pk}/").content.decode()
    assert "移除" not in page  # no button on one's own roles
    resp = client.post(f"/accounts/users/{chief.pk}/drop", {"membership": own.pk}, follow=True)
    assert "不能移除自己的岗位，请由上级或其他所长操作" in resp.content.decode()
    assert Membership.objects.filter(pk=own.pk).exists()
    assert not AuditEntry.objects.filter(action="accounts.membership.removed").exists()


def test_the_service_refuses_to_remove_the_actors_own_membership(j):
    from django.core.exceptions import PermissionDenied

    from fengqiao.accounts.services import membership_remove

    chief = j.user("chief")
    second = Membership.objects.create(user=chief, area=j.communities[0], role="officer")
    with pytest.raises(PermissionDenied, match="不能移除自己的岗位"):
        membership_remove(actor=chief, membership=second)
    assert Membership.objects.filter(user=chief).count() == 2


def test_a_chief_still_removes_another_users_membership(client, j):
    cop = j.user("officer")
    theirs = Membership.objects.get(user=cop)
    client.force_login(j.user("chief"))
    assert "移除" in client.get(f"/accounts/users/{cop.pk}/").content.decode()
    client.post(f"/accounts/users/{cop.pk}/drop", {"membership": theirs.pk})
    assert not Membership.objects.filter(pk=theirs.pk).exists()
    assert AuditEntry.objects.filter(action="accounts.membership.removed").exists()


@pytest.mark.parametrize("action", ["bogus", "delete", "reset/", "Reset"])
def test_an_unknown_account_action_is_a_404_and_changes_nothing(client, j, action):
    cop = j.user("officer")
    client.force_login(j.user("chief"))
    assert client.post(f"/accounts/users/{cop.pk}/{action}").status_code == 404
    cop.refresh_from_db()
    assert cop.is_active and cop.check_password("correct-horse-9")
    assert not AuditEntry.objects.filter(action__startswith="accounts.user.").exists()


def _no_store(resp) -> bool:
    return "no-store" in resp.get("Cache-Control", "")


def test_pages_showing_a_password_or_token_are_never_cached(client, j):
    cop = j.user("officer")
    client.force_login(j.user("chief"))
    created = _create(client, j.communities[0])
    assert "password" in created.context and _no_store(created)
    reset = client.post(f"/accounts/users/{cop.pk}/reset")
    assert "password" in reset.context and _no_store(reset)
    issued = client.post("/accounts/profile/", {"name": "手机", "days": 30})
    assert issued.context["secret"] and _no_store(issued)
    assert _no_store(client.get("/accounts/profile/"))
