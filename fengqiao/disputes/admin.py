"""Admin for the dispute code lists an administrator edits; every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from fengqiao.core.admin import AuditedAdmin
from fengqiao.disputes.models import DisputeType, StatType


@admin.register(StatType)
class StatTypeAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_en", "sort", "active"]
    list_editable = ["name", "name_en", "sort", "active"]
    list_filter = ["active"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        # Codes are stable once made: reports and imports refer to them.
        return ["code"] if obj is not None else []


@admin.register(DisputeType)
class DisputeTypeAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_en", "parent", "stat_type", "sort", "active"]
    list_editable = ["name", "name_en", "stat_type", "sort", "active"]
    list_filter = ["parent", "stat_type", "active"]
    list_select_related = ["parent", "stat_type"]
    search_fields = ["code", "name", "name_en"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        # A code and its place in the tree are stable: old cases and reports refer to them.
        return ["code", "parent"] if obj is not None else []
