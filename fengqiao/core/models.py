"""Base model, audit log and case counters; no domain models live here."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BaseModel(models.Model):
    """Abstract base: who made and last changed the row, and when."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("更新人"),
    )

    # Field names that the audit log records as "changed" without their values (PII).
    audit_redacted: ClassVar[frozenset[str]] = frozenset()

    class Meta:
        abstract = True


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


class AuditEntry(models.Model):
    """Append-only, hash-chained record of one change or one read of personal data."""

    seq = models.BigIntegerField(_("序号"), unique=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("操作人"),
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=100, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象"), max_length=64, blank=True)
    object_label = models.CharField(_("对象名称"), max_length=200, blank=True)
    station_id = models.BigIntegerField(_("派出所"), null=True, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "seq"]),
            models.Index(fields=["station_id", "seq"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")


class AuditHead(models.Model):
    """The chain's last link: the row that appends lock, and the anchor that finds a cut tail."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class CaseCounter(models.Model):
    """The last case number given out per station, prefix and year."""

    station_id = models.BigIntegerField()
    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("案件编号计数")
        constraints = [
            models.UniqueConstraint(
                fields=["station_id", "prefix", "year"], name="core_casecounter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.station_id} {self.prefix}-{self.year}: {self.last}"


class SearchGram(models.Model):
    """One character bigram of a row's normalised text: the index behind Chinese search.

    Trigram indexes miss two-character Chinese words, and LIKE '%…%' reads a whole station;
    bigrams narrow a term to the few rows that hold all of its pairs, on SQLite and PostgreSQL.
    """

    label = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    gram = models.CharField(max_length=2)

    class Meta:
        verbose_name = _("检索索引")
        indexes = [
            models.Index(fields=["label", "gram", "object_id"], name="core_searchgram_lookup"),
            models.Index(fields=["label", "object_id"], name="core_searchgram_object"),
        ]

    def __str__(self) -> str:
        return f"{self.label}:{self.object_id} {self.gram}"
