"""The API at /api/v1/: token or session auth, errors as {code, message, fields}."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from fengqiao.accounts.models import ApiToken
from fengqiao.core.errors import DomainError

logger = logging.getLogger("fengqiao.api")


class TokenAuth(HttpBearer):
    """`Authorization: Bearer fq_…` with a token made on the profile page."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The browser's login session; unsafe methods need the CSRF token, as on the pages."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF guards an ambient login; without one the caller is anonymous (401), not 403.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed("CSRF 校验失败：请刷新页面后重试，或改用 API 令牌。")
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


class CsrfFailed(DomainError):
    """A logged-in browser sent an unsafe request without the CSRF token."""

    status = 403
    code = "csrf_failed"


class UnsupportedMediaType(Exception):
    """The body is declared as something other than JSON."""


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


class JsonParser(Parser):
    """Parse JSON bodies only: another declared type is a 415, NaN and Infinity are a 400."""

    def parse_body(self, request: HttpRequest) -> Any:
        content_type = request.content_type or ""
        if content_type and not (
            content_type == "application/json" or content_type.endswith("+json")
        ):
            raise UnsupportedMediaType(content_type)
        return json.loads(request.body, parse_constant=_refuse_constant)


api = NinjaAPI(
    title="Fengqiao API",
    version="1",
    description="枫桥 API: the same services as the pages. Errors are {code, message, fields}.",
    auth=[TokenAuth(), SessionAuth()],
    parser=JsonParser(),
    urls_namespace="api",
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, fields: dict | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "fields": fields or {}}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _error(request, exc.status, exc.code, exc.message, exc.fields)


@api.exception_handler(ValidationError)
def on_django_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields = (
        {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
        if hasattr(exc, "error_dict")
        else {}
    )
    message = "；".join(str(m) for m in exc.messages) or "输入有误"
    return _error(request, 422, "validation_error", message, fields)


# Pydantic's error types in Chinese; anything not listed keeps pydantic's own words.
SCHEMA_MESSAGES = {
    "missing": "必填",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "string_type": "应为字符串",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "model_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "应小于 {lt}",
    "string_too_long": "最多 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符",
    "extra_forbidden": "不允许的字段",
    "literal_error": "取值应为 {expected} 之一",
    "enum": "取值应为 {expected} 之一",
}


def _schema_message(err: dict[str, Any]) -> str:
    template = SCHEMA_MESSAGES.get(str(err.get("type", "")))
    if template is None:
        return str(err.get("msg", "")).removeprefix("Value error, ")
    ctx = {
        k: int(v) if isinstance(v, float) and v.is_integer() else v
        for k, v in (err.get("ctx") or {}).items()
    }
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return template


@api.exception_handler(NinjaValidationError)
def on_schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")]
        fields.setdefault(".".join(loc) or "_", []).append(_schema_message(err))
    return _error(request, 422, "validation_error", "请求数据格式不正确", fields)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", "未登录或令牌无效、已过期")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "未找到，或无权访问")


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or "无权执行此操作")


# Ninja raises HttpError with English text; each status gets a stable code and Chinese words.
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求体不是有效的 JSON。"),
    401: ("unauthorized", "未登录或令牌无效、已过期"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "未找到，或无权访问"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "与当前状态冲突"),
    413: ("too_large", "请求体过大"),
    415: ("unsupported_media_type", "请求体须为 JSON（Content-Type: application/json）。"),
    422: ("validation_error", "请求数据格式不正确"),
    429: ("throttled", "请求过于频繁，请稍后再试"),
}


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    # The parser's refusal of a content type reaches here wrapped in ninja's 400.
    if status == 400 and isinstance(exc.__cause__, UnsupportedMediaType):
        status = 415
    code, message = HTTP_ERRORS.get(status, ("error", "请求失败"))
    return _error(request, status, code, message)


@api.exception_handler(RequestDataTooBig)
def on_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "too_large", "请求体过大")


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    return _error(request, 400, "bad_request", "请求无效")


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled API error")
    return _error(request, 500, "server_error", "服务器内部错误，请稍后重试")


api.add_router("/areas", "fengqiao.areas.api.router")
api.add_router("/places", "fengqiao.areas.api.places_router")
api.add_router("/me", "fengqiao.accounts.api.router")
