"""Account forms: validate, never save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from fengqiao.accounts.roles import Role
from fengqiao.accounts.services import CHIEF_GRANTABLE


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确。连续失败5次后，该账号在本机将被锁定15分钟。"),
        "inactive": _("用户名或密码不正确。连续失败5次后，该账号在本机将被锁定15分钟。"),
    }


class UserCreateForm(forms.Form):
    username = forms.RegexField(
        label=_("用户名"),
        regex=r"^[A-Za-z0-9_.-]{3,40}$",
        error_messages={"invalid": _("用户名为3到40位字母、数字、下划线、点或横线。")},
    )
    full_name = forms.CharField(label=_("姓名"), max_length=60)
    badge_number = forms.CharField(label=_("警号/工号"), max_length=20, required=False)
    role = forms.ChoiceField(label=_("角色"))
    area: forms.ModelChoiceField = forms.ModelChoiceField(label=_("区域"), queryset=None)

    def __init__(self, *args: Any, areas: Any, superuser: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]
        self.fields["role"].choices = [  # type: ignore[attr-defined]
            (value, label) for value, label in Role.choices if superuser or value in CHIEF_GRANTABLE
        ]


class MembershipForm(UserCreateForm):
    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for name in ("username", "full_name", "badge_number"):
            del self.fields[name]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("令牌名称"), max_length=60)
    days = forms.IntegerField(label=_("有效天数"), min_value=1, max_value=365, initial=90)
