"""Refuse an oversized request before reading it: a Chinese page, or JSON under /api/."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

# Room for the form's other fields and the multipart framing around the file.
ENVELOPE_BYTES = 64 * 1024


def limit_mib() -> float:
    return settings.FENGQIAO_MAX_UPLOAD_BYTES / (1024 * 1024)


def request_size_limit(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Answer 413 when Content-Length exceeds the upload limit, without reading the body."""

    def middleware(request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.FENGQIAO_MAX_UPLOAD_BYTES + ENVELOPE_BYTES:
            message = _("文件过大：最大允许 %(mib).0f MB，请拆分后再上传。") % {"mib": limit_mib()}
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"code": "too_large", "message": message, "fields": {}}, status=413
                )
            return render(request, "413.html", {"message": message}, status=413)
        return get_response(request)

    return middleware
