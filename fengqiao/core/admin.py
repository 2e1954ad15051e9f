"""Admin for the audit log (read-only) and a mixin that audits every admin change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.http import HttpRequest

from fengqiao.core.audit import audit_record, diff, snapshot
from fengqiao.core.models import AuditEntry


class AuditedAdmin(admin.ModelAdmin):
    """Write an audit entry for every create, change and delete made in the admin."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = snapshot(type(obj).objects.get(pk=obj.pk)) if change and obj.pk else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            after = snapshot(obj)
            changes = diff(before, after, getattr(obj, "audit_redacted", ()))
            if changes or not change:
                verb = "changed" if change else "created"
                audit_record(
                    actor=request.user,
                    action=f"{obj._meta.label_lower}.{verb}_in_admin",
                    obj=obj,
                    changes=changes,
                )

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action=f"{obj._meta.label_lower}.deleted_in_admin",
                obj=obj,
                changes=diff(snapshot(obj), {}, getattr(obj, "audit_redacted", ())),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["seq", "at", "actor_label", "action", "object_type", "object_id"]
    list_filter = ["action"]
    search_fields = ["action", "object_id", "actor_label"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
