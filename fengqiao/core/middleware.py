"""Every error under /api/ leaves as JSON {code, message, fields}, never as an HTML page."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

log = logging.getLogger("fengqiao.api")

_CODES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "未登录或令牌无效、已过期"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "未找到，或无权访问"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "数据已被他人修改，请刷新后重试"),
    413: ("too_large", "请求体过大"),
    415: ("unsupported_media_type", "请求体须为 JSON"),
    422: ("validation_error", "请求数据格式不正确"),
    500: ("server_error", "服务器内部错误，请稍后重试"),
}


_KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def api_json_errors(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Wrap the stack: under /api/, turn non-JSON error responses and crashes into JSON."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return get_response(request)
        try:
            response = get_response(request)
        except Exception:
            log.exception("Unhandled error under /api/")
            code, message = _CODES[500]
            return JsonResponse({"code": code, "message": message, "fields": {}}, status=500)
        if response.status_code >= 400 and not _is_json(response):
            code, message = _CODES.get(response.status_code, ("error", "请求失败"))
            out = JsonResponse(
                {"code": code, "message": message, "fields": {}}, status=response.status_code
            )
            # A 405 must say what is allowed (RFC 9110); a 401 or 429 may say how to retry.
            for name in _KEPT_HEADERS:
                if name in response:
                    out[name] = response[name]
            return out
        return response

    return middleware
