"""Admin for the code lists an administrator edits; every change is audited."""

from __future__ import annotations

from django.contrib import admin

from fengqiao.areas.models import PlaceKind
from fengqiao.core.admin import AuditedAdmin


@admin.register(PlaceKind)
class PlaceKindAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_en", "group", "sort", "active"]
    list_editable = ["name", "name_en", "sort", "active"]
    list_filter = ["group", "active"]
    readonly_fields: list[str] = []

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Codes are stable once made: reports and imports refer to them.
        return ["code"] if obj is not None else []
