"""Admin for the 110 code tree an administrator edits; every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from fengqiao.core.admin import AuditedAdmin
from fengqiao.incidents.models import IncidentCategory


@admin.register(IncidentCategory)
class IncidentCategoryAdmin(AuditedAdmin):
    list_display = ["code", "name", "name_en", "parent", "class_code", "sort", "active"]
    list_editable = ["name", "name_en", "sort", "active"]
    list_filter = ["class_code", "active"]
    list_select_related = ["parent"]
    search_fields = ["code", "name", "name_en"]
    readonly_fields = ["class_code"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        # A code and its place in the tree are stable: incidents, rollups and imports use them.
        return ["code", "parent", "class_code"] if obj is not None else ["class_code"]

    def save_model(self, request: Any, obj: IncidentCategory, form: Any, change: bool) -> None:
        if not change:
            obj.class_code = obj.parent.class_code if obj.parent is not None else obj.code
        super().save_model(request, obj, form, change)
