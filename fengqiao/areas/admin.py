"""Admin for the code lists an administrator edits; every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from fengqiao.areas.models import PlaceKind
from fengqiao.core.admin import AuditedAdmin


@admin.register(PlaceKind)
class PlaceKindAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_en", "group", "sort", "active"]
    list_editable = ["name", "name_en", "sort", "active"]
    list_filter = ["group", "active"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        # Codes are stable once made: reports and imports refer to them.
        return ["code"] if obj is not None else []
