"""The API at /api/v1/: token or session auth, errors as {code, message, fields}."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
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
            raise CsrfFailed(str(_("CSRF 校验失败：请刷新页面后重试，或改用 API 令牌。")))
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


class NotAnObject(Exception):
    """The body is JSON, but not an object: every request body here is one."""


NOT_AN_OBJECT = _("请求体应为 JSON 对象（{…}），不能为空，也不能是列表、数字、字符串或 null。")


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
        data = json.loads(request.body, parse_constant=_refuse_constant)
        if not isinstance(data, dict):
            raise NotAnObject(type(data).__name__)
        return data


api = NinjaAPI(
    title="Fengqiao API",
    version="1",
    description="枫桥 API: the same services as the pages. Errors are {code, message, fields}.",
    auth=[TokenAuth(), SessionAuth()],
    parser=JsonParser(),
    urls_namespace="api",
)


def _error(
    request: HttpRequest, status: int, code: str, message: object, fields: dict | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": str(message), "fields": fields or {}}, status=status
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
    message = "；".join(str(m) for m in exc.messages) or str(_("输入有误"))
    return _error(request, 422, "validation_error", message, fields)


# Pydantic's error types in Chinese, with their context values ({max_length} ...); a type
# not listed gets a plain "invalid value", never pydantic's English.
SCHEMA_MESSAGES: dict[str, Any] = {
    "missing": _("必填"),
    "json_invalid": _("不是有效的 JSON"),
    "json_type": _("应为 JSON 文本"),
    "int_parsing": _("应为整数"),
    "int_parsing_size": _("整数超出范围"),
    "int_type": _("应为整数"),
    "int_from_float": _("应为整数"),
    "float_parsing": _("应为数字"),
    "float_type": _("应为数字"),
    "finite_number": _("应为有限的数字"),
    "decimal_parsing": _("应为数字"),
    "decimal_type": _("应为数字"),
    "multiple_of": _("应为 {multiple_of} 的倍数"),
    "string_type": _("应为字符串"),
    "string_unicode": _("应为有效的 Unicode 字符串"),
    "string_pattern_mismatch": _("格式不正确"),
    "bool_parsing": _("应为 true 或 false"),
    "bool_type": _("应为 true 或 false"),
    "none_required": _("应为 null"),
    "model_type": _("应为 JSON 对象"),
    "dict_type": _("应为 JSON 对象"),
    "mapping_type": _("应为 JSON 对象"),
    "model_attributes_type": _("应为 JSON 对象"),
    "dataclass_type": _("应为 JSON 对象"),
    "list_type": _("应为列表"),
    "tuple_type": _("应为列表"),
    "set_type": _("应为列表"),
    "frozen_set_type": _("应为列表"),
    "iterable_type": _("应为列表"),
    "greater_than_equal": _("不能小于 {ge}"),
    "greater_than": _("应大于 {gt}"),
    "less_than_equal": _("不能大于 {le}"),
    "less_than": _("应小于 {lt}"),
    "string_too_long": _("最多 {max_length} 个字符"),
    "string_too_short": _("至少 {min_length} 个字符"),
    "too_long": _("最多 {max_length} 项"),
    "too_short": _("至少 {min_length} 项"),
    "bytes_too_long": _("最多 {max_length} 个字节"),
    "bytes_too_short": _("至少 {min_length} 个字节"),
    "extra_forbidden": _("不允许的字段"),
    "literal_error": _("取值应为 {expected} 之一"),
    "enum": _("取值应为 {expected} 之一"),
    "date_parsing": _("应为日期，格式 YYYY-MM-DD"),
    "date_type": _("应为日期，格式 YYYY-MM-DD"),
    "date_from_datetime_parsing": _("应为日期，格式 YYYY-MM-DD"),
    "datetime_parsing": _("应为日期时间（ISO 8601）"),
    "datetime_type": _("应为日期时间（ISO 8601）"),
    "datetime_from_date_parsing": _("应为日期时间（ISO 8601）"),
    "time_parsing": _("应为时间，格式 HH:MM"),
    "time_type": _("应为时间，格式 HH:MM"),
    "uuid_parsing": _("应为 UUID"),
    "uuid_type": _("应为 UUID"),
    "url_parsing": _("应为网址"),
    "url_type": _("应为网址"),
    "union_tag_invalid": _("类型标记无效"),
    "union_tag_not_found": _("缺少类型标记"),
}
INVALID_VALUE = _("取值无效")
# The text of a ValueError raised by our own validators is already for people.
_OWN_TEXT = ("value_error", "assertion_error")
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _choices(expected: Any) -> str:
    """Return pydantic's "'a', 'b' or 'c'" as "a、b、c"."""
    items = _QUOTED.findall(str(expected))
    return pgettext("list separator", "、").join(items) if items else str(expected)


def _schema_message(err: dict[str, Any]) -> str:
    kind = str(err.get("type", ""))
    if kind in _OWN_TEXT:
        text = (
            str(err.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        )
        return text if _has_chinese(text) else str(INVALID_VALUE)
    template = SCHEMA_MESSAGES.get(kind)
    if template is None:
        return str(INVALID_VALUE)
    ctx = {
        k: int(v) if isinstance(v, float) and v.is_integer() else v
        for k, v in (err.get("ctx") or {}).items()
    }
    if "expected" in ctx:
        ctx["expected"] = _choices(ctx["expected"])
    try:
        return str(template).format(**ctx)
    except (KeyError, IndexError, ValueError):
        return str(template)


def _whole_body_missing(errors: list[dict[str, Any]]) -> bool:
    """Return whether the only complaint is that there was no body at all."""
    return bool(errors) and all(
        e.get("type") == "missing" and len(e.get("loc", ())) == 2 and e["loc"][0] == "body"
        for e in errors
    )


@api.exception_handler(NinjaValidationError)
def on_schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    if _whole_body_missing(exc.errors):
        return _error(request, 400, "bad_request", str(NOT_AN_OBJECT))
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")]
        fields.setdefault(".".join(loc) or "_", []).append(_schema_message(err))
    return _error(request, 422, "validation_error", _("请求数据格式不正确"), fields)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", _("未登录或令牌无效、已过期"))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("未找到，或无权访问"))


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or _("无权执行此操作"))


# Ninja raises HttpError with English text; each status gets a stable code and Chinese words.
HTTP_ERRORS: dict[int, tuple[str, Any]] = {
    400: ("bad_request", _("请求体不是有效的 JSON。")),
    401: ("unauthorized", _("未登录或令牌无效、已过期")),
    403: ("forbidden", _("无权执行此操作")),
    404: ("not_found", _("未找到，或无权访问")),
    405: ("method_not_allowed", _("不支持该请求方法")),
    409: ("conflict", _("与当前状态冲突")),
    413: ("too_large", _("请求体过大")),
    415: ("unsupported_media_type", _("请求体须为 JSON（Content-Type: application/json）。")),
    422: ("validation_error", _("请求数据格式不正确")),
    429: ("throttled", _("请求过于频繁，请稍后再试")),
}


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    # The parser's refusal of a content type reaches here wrapped in ninja's 400.
    if status == 400 and isinstance(exc.__cause__, UnsupportedMediaType):
        status = 415
    if status == 400 and isinstance(exc.__cause__, NotAnObject):
        return _error(request, 400, "bad_request", NOT_AN_OBJECT)
    code, message = HTTP_ERRORS.get(status, ("error", _("请求失败")))
    return _error(request, status, code, message)


@api.exception_handler(RequestDataTooBig)
def on_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return _error(request, 413, "too_large", _("请求体过大"))


@api.exception_handler(SuspiciousOperation)
def on_suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    return _error(request, 400, "bad_request", _("请求无效"))


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("Unhandled API error")
    return _error(request, 500, "server_error", _("服务器内部错误，请稍后重试"))


api.add_router("/areas", "fengqiao.areas.api.router")
api.add_router("/places", "fengqiao.areas.api.places_router")
api.add_router("/me", "fengqiao.accounts.api.router")
api.add_router("/disputes", "fengqiao.disputes.api.router")
for _part in ("routing", "registry", "mediation", "outcomes", "casefile", "screening", "report"):
    api.add_router("/disputes", f"fengqiao.disputes.api_{_part}.router")
api.add_router("/incidents", "fengqiao.incidents.api.router")
api.add_router("/incidents", "fengqiao.incidents.api_imports.router")
for _part in ("briefing", "dashboard", "hotspots"):
    api.add_router("/analytics", f"fengqiao.analytics.api_{_part}.router")
