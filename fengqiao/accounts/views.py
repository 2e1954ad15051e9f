"""Login, password, profile and tokens, and a chief's management of their station's accounts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from fengqiao.accounts import services
from fengqiao.accounts.access import scope_for
from fengqiao.accounts.forms import LoginForm, MembershipForm, TokenForm, UserCreateForm
from fengqiao.accounts.http import AuthedRequest
from fengqiao.accounts.models import ApiToken, Membership
from fengqiao.accounts.selectors import areas_for_accounts, users_visible
from fengqiao.core.errors import DomainError

# What a manager may do to an account by POST; the URL accepts nothing else.
USER_ACTIONS = ("reset", "activate", "deactivate", "drop")


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        services.password_changed(user=self.request.user)  # type: ignore[arg-type]
        messages.success(self.request, _("密码已修改。"))
        return response


# never_cache: a new token's secret must not stay in the browser's or a proxy's cache.
@login_required
@never_cache
def profile(request: AuthedRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        _token, secret = services.token_issue(
            actor=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
        form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")
    memberships = request.user.memberships.select_related("area")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "secret": secret, "tokens": tokens, "memberships": memberships},
    )


@login_required
@require_POST
def token_revoke(request: AuthedRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.token_revoke(actor=request.user, token=token)
    messages.success(request, _("令牌已吊销。"))
    return redirect("accounts:profile")


def _require_manager(request: AuthedRequest) -> None:
    if scope_for(request.user, "account.manage").empty:
        raise PermissionDenied


@login_required
def user_list(request: AuthedRequest) -> HttpResponse:
    _require_manager(request)
    q = request.GET.get("q", "").strip()
    users = users_visible(actor=request.user, q=q)[:500]
    return render(request, "accounts/user_list.html", {"users": users, "q": q})


@login_required
@never_cache
def user_create(request: AuthedRequest) -> HttpResponse:
    _require_manager(request)
    areas = areas_for_accounts(actor=request.user)
    form = UserCreateForm(request.POST or None, areas=areas, superuser=request.user.is_superuser)
    if request.method == "POST" and form.is_valid():
        try:
            user, password = services.user_create(actor=request.user, **form.cleaned_data)
        except DomainError as exc:
            for field, errs in exc.fields.items():
                for err in errs:
                    form.add_error(field if field in form.fields else None, err)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            return render(
                request, "accounts/password_shown.html", {"account": user, "password": password}
            )
    return render(request, "accounts/user_form.html", {"form": form})


@login_required
def user_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    user = get_object_or_404(users_visible(actor=request.user), pk=pk)
    manageable = services.user_manageable(actor=request.user, user=user)
    form = MembershipForm(
        request.POST or None,
        areas=areas_for_accounts(actor=request.user),
        superuser=request.user.is_superuser,
    )
    if request.method == "POST" and manageable and form.is_valid():
        services.membership_add(actor=request.user, user=user, **form.cleaned_data)
        messages.success(request, _("已添加岗位。"))
        return redirect("accounts:user_detail", pk=user.pk)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "account": user,
            "form": form,
            "manageable": manageable,
            "memberships": user.memberships.select_related("area"),
        },
    )


@login_required
@require_POST
@never_cache
def user_action(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    if action not in USER_ACTIONS:
        raise Http404
    _require_manager(request)
    user = get_object_or_404(users_visible(actor=request.user), pk=pk)
    if action == "reset":
        password = services.user_reset_password(actor=request.user, user=user)
        return render(
            request, "accounts/password_shown.html", {"account": user, "password": password}
        )
    if action in ("activate", "deactivate"):
        services.user_set_active(actor=request.user, user=user, active=action == "activate")
        messages.success(request, _("账号状态已更新。"))
    elif action == "drop":
        membership = get_object_or_404(
            Membership, pk=request.POST.get("membership") or 0, user=user
        )
        try:
            services.membership_remove(actor=request.user, membership=membership)
        except PermissionDenied as exc:
            messages.error(request, str(exc) or _("无权移除此岗位。"))
        else:
            messages.success(request, _("已移除岗位。"))
    return redirect("accounts:user_detail", pk=user.pk)


@login_required
def notification_list(request: AuthedRequest) -> HttpResponse:
    """The user's notifications, newest first: cases under supervision, extensions to decide."""
    from fengqiao.accounts.models import Notification
    from fengqiao.core.pagination import keyset_page

    qs = Notification.objects.filter(user=request.user)
    page = keyset_page(qs, order=("-id",), cursor=request.GET.get("cursor"), size=50)
    unread = qs.filter(read_at__isnull=True).count()
    return render(request, "accounts/notifications.html", {"page": page, "unread": unread})


@login_required
@require_POST
def notification_read(request: AuthedRequest) -> HttpResponse:
    """Mark one notification read (and follow its link), or all of them."""
    from fengqiao.accounts.models import Notification

    raw = request.POST.get("pk", "")
    if raw.isdigit():
        note = get_object_or_404(Notification, pk=int(raw), user=request.user)
        services.notifications_mark_read(user=request.user, pk=note.pk)
        if note.url.startswith("/") and not note.url.startswith("//"):
            return redirect(note.url)
    else:
        services.notifications_mark_read(user=request.user)
    return redirect("accounts:notifications")
