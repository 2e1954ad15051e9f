"""Account writes: users, memberships, passwords and tokens; each one audited."""

from __future__ import annotations

import secrets
import string
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fengqiao.accounts.access import Area, scope_for
from fengqiao.accounts.models import ApiToken, Membership, User
from fengqiao.accounts.roles import Role
from fengqiao.core.audit import audit_record
from fengqiao.core.errors import ValidationFailed

# Roles a station chief may hand out; district analysts and administrators are made above.
CHIEF_GRANTABLE = frozenset(
    {Role.CHIEF, Role.OFFICER, Role.AUXILIARY, Role.MEDIATOR, Role.VOLUNTEER, Role.ASSISTANT}
)
_ALPHABET = string.ascii_letters + string.digits


def password_generate(length: int = 14) -> str:
    """Return a random password with letters and digits (shown once, never stored in clear)."""
    while True:
        pw = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if any(c.isdigit() for c in pw) and any(c.isalpha() for c in pw):
            return pw


def _require_manage(actor: Any, area: Any) -> None:
    scope = scope_for(actor, "account.manage")
    if not scope.allows(area.station_id or area.pk, area.pk):
        raise PermissionDenied(_("只能管理本所的账号。"))


def user_manageable(*, actor: Any, user: User) -> bool:
    """Return whether every role the user holds lies where the actor manages accounts."""
    if user.is_superuser:
        return actor.is_superuser
    scope = scope_for(actor, "account.manage")
    if scope.everything:
        return True
    areas = [m.area for m in user.memberships.select_related("area")]
    return bool(areas) and all(scope.allows(a.station_id or a.pk, a.pk) for a in areas)


def user_create(
    *, actor: Any, username: str, full_name: str, role: str, area: Any, badge_number: str = ""
) -> tuple[User, str]:
    """Create an account with one role on one area; return it with its generated password."""
    _require_manage(actor, area)
    if not actor.is_superuser and role not in CHIEF_GRANTABLE:
        raise PermissionDenied(_("该角色只能由分局或系统管理员授予。"))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationFailed(_("用户名已存在。"), fields={"username": [_("用户名已存在。")]})
    password = password_generate()
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, password=password, full_name=full_name, badge_number=badge_number
        )
        Membership.objects.create(user=user, area=area, role=role)
        audit_record(
            actor=actor,
            action="accounts.user.created",
            obj=user,
            station_id=area.station_id or area.pk,
            changes={"username": username, "role": role, "area": area.pk},
        )
    return user, password


def membership_add(*, actor: Any, user: User, role: str, area: Any) -> Membership:
    """Give the user a role on an area."""
    _require_manage(actor, area)
    if not actor.is_superuser and role not in CHIEF_GRANTABLE:
        raise PermissionDenied(_("该角色只能由分局或系统管理员授予。"))
    with transaction.atomic():
        m, _created = Membership.objects.get_or_create(user=user, area=area, role=role)
        audit_record(
            actor=actor,
            action="accounts.membership.added",
            obj=user,
            station_id=area.station_id or area.pk,
            changes={"role": role, "area": area.pk},
        )
    return m


def membership_remove(*, actor: Any, membership: Membership) -> None:
    """Take a role away; never one of the actor's own, so that no one can lock themselves out."""
    if membership.user_id == actor.pk:
        raise PermissionDenied(_("不能移除自己的岗位，请由上级或其他所长操作"))
    _require_manage(actor, membership.area)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="accounts.membership.removed",
            obj=membership.user,
            station_id=membership.area.station_id or membership.area_id,
            changes={"role": membership.role, "area": membership.area_id},
        )
        membership.delete()


def user_set_active(*, actor: Any, user: User, active: bool) -> None:
    """Enable or disable an account; a disabled account cannot log in or use its tokens."""
    if not user_manageable(actor=actor, user=user) or user.pk == actor.pk:
        raise PermissionDenied(_("无权停用或启用此账号。"))
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="accounts.user.activated" if active else "accounts.user.deactivated",
            obj=user,
            station_id=_station_of_user(user),
        )


def user_reset_password(*, actor: Any, user: User) -> str:
    """Give the user a new generated password and return it (shown once)."""
    if not user_manageable(actor=actor, user=user):
        raise PermissionDenied(_("无权重置此账号的密码。"))
    password = password_generate()
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(
            actor=actor,
            action="accounts.user.password_reset",
            obj=user,
            station_id=_station_of_user(user),
        )
    return password


def password_changed(*, user: User) -> None:
    """Record that the user changed their own password."""
    audit_record(
        actor=user,
        action="accounts.user.password_changed",
        obj=user,
        station_id=_station_of_user(user),
    )


def token_issue(*, actor: User, name: str, days: int = 90) -> tuple[ApiToken, str]:
    """Make an API token for the actor; the secret is returned once."""
    with transaction.atomic():
        token, secret = ApiToken.issue(user=actor, name=name, days=days)
        audit_record(
            actor=actor,
            action="accounts.token.issued",
            obj=token,
            station_id=_station_of_user(actor),
            changes={"name": name, "days": days},
        )
    return token, secret


def token_revoke(*, actor: User, token: ApiToken) -> None:
    """Revoke one of the actor's tokens."""
    if token.user_id != actor.pk:
        raise PermissionDenied
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="accounts.token.revoked",
            obj=token,
            station_id=_station_of_user(actor),
        )


def _station_of_user(user: User) -> int | None:
    m = user.memberships.select_related("area").first()
    if m is None:
        return None
    return m.area.station_id or (m.area.pk if m.area.kind == "station" else None)


__all__ = ["Area"]


def notifications_mark_read(*, user: Any, pk: int | None = None) -> int:
    """Mark one of the user's notifications read, or all of them; return how many changed."""
    from fengqiao.accounts.models import Notification

    qs = Notification.objects.filter(user_id=user.pk, read_at__isnull=True)
    if pk is not None:
        qs = qs.filter(pk=pk)
    return qs.update(read_at=timezone.now())
