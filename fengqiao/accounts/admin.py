from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from fengqiao.accounts.models import ApiToken, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["area"]


@admin.register(User)
class FengqiaoUserAdmin(UserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "full_name", "is_active", "last_login"]
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("Fengqiao", {"fields": ("full_name", "badge_number")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "key_id", "created_at", "expires_at", "revoked_at"]
    readonly_fields = ["digest", "key_id"]
