"""A request whose user is logged in, for the type checker."""

from __future__ import annotations

from django.http import HttpRequest

from fengqiao.accounts.models import User


class AuthedRequest(HttpRequest):
    """What `login_required` views receive."""

    user: User
