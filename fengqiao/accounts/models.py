"""Users, their roles on areas, and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fengqiao.accounts.roles import Role


class User(AbstractUser):
    """A staff account; residents use the portal without one."""

    full_name = models.CharField(_("姓名"), max_length=60, blank=True)
    badge_number = models.CharField(_("警号/工号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def label(self) -> str:
        return f"{self.full_name}（{self.username}）" if self.full_name else self.username


class Membership(models.Model):
    """A role held by a user on an area and everything beneath it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="memberships", verbose_name=_("区域")
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        constraints = [
            models.UniqueConstraint(fields=["user", "area", "role"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} @ {self.area_id}"


TOKEN_PREFIX = "fq_"  # noqa: S105 - a prefix, not a secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def live(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A bearer token for the API; only its digest is stored, the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=60)
    key_id = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"

    @classmethod
    def issue(cls, *, user: User, name: str, days: int = 90) -> tuple[ApiToken, str]:
        """Create a token and return it with its secret, which is never stored."""
        key_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            key_id=key_id,
            digest=_digest(secret),
            expires_at=timezone.now() + timedelta(days=days),
        )
        return token, f"{TOKEN_PREFIX}{key_id}_{secret}"

    @classmethod
    def authenticate(cls, raw: str) -> User | None:
        """Return the live token's active user, or None for a forged, expired or revoked one."""
        if not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
            return None
        key_id, _sep, secret = raw[len(TOKEN_PREFIX) :].partition("_")
        token = cls.objects.live().select_related("user").filter(key_id=key_id).first()
        if token is None or not secrets.compare_digest(token.digest, _digest(secret)):
            return None
        if not token.user.is_active:
            return None
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user


class Notification(models.Model):
    """A message to one user: a case put under supervision, an extension to decide, …"""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("接收人")
    )
    kind = models.CharField(_("类别"), max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at", "id"], name="notification_user")]

    def __str__(self) -> str:
        return self.title
