"""Middleware: errors under /api/ are JSON {code, message, fields}, never an HTML page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"

# Errors raised before or outside an API operation: the URL resolver's 404, ninja's 405,
# Django's 400 for a bad Host, its 500 for a crash in a middleware.
FALLBACK: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求无效"),
    401: ("unauthorized", "未登录或令牌无效、已过期"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "未找到，或无权访问"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("too_large", "请求体过大"),
}
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def api_json_errors(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Turn any non-JSON error response under /api/ into the API's error body."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (
            response.status_code < 400
            or not request.path_info.startswith(API_PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        code, message = FALLBACK.get(
            response.status_code,
            ("server_error", "服务器内部错误，请稍后重试")
            if response.status_code >= 500
            else ("error", "请求失败"),
        )
        out = JsonResponse(
            {"code": code, "message": message, "fields": {}},
            status=response.status_code,
            json_dumps_params={"ensure_ascii": False},
        )
        for name in KEPT_HEADERS:
            if name in response:
                out[name] = response[name]
        return out

    return middleware
