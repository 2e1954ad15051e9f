"""Health and the Chinese error pages."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
    return JsonResponse({"ok": True})


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "fields": {}}, status=status)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(403, "forbidden", "无权执行此操作")
    return render(request, "403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _api_error(404, "not_found", "未找到，或无权访问")
    return render(request, "404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Refuse a form without a valid CSRF token with a page saying what to do next."""
    message = _("页面已过期或来源不明，请刷新页面后重试")
    if _is_api(request):
        return _api_error(403, "csrf_failed", message)
    # Back to the page the form came from, but only if it is one of ours.
    referer = request.META.get("HTTP_REFERER", "")
    back = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else "/"
    return render(request, "403_csrf.html", {"message": message, "back": back}, status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _api_error(500, "server_error", "服务器内部错误，请稍后重试")
    return render(request, "500.html", status=500)
