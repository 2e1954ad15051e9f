"""Error pages the URL handlers do not cover: a Chinese 405 page outside /api/."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def method_not_allowed_page(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Replace an empty 405 (a POST-only page opened by GET) with the site's 405 page.

    Django has no handler405: require_POST and the class-based views answer with an empty
    body, which the browser shows as a blank page. Under /api/ the JSON middleware answers.
    It must sit inside CsrfViewMiddleware, so that the page's token reaches its cookie.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        if (
            response.status_code != 405
            or request.path.startswith("/api/")
            or getattr(response, "streaming", False)
            or response.content
        ):
            return response
        page = render(request, "405.html", status=405)
        if "Allow" in response:  # RFC 9110: a 405 says which methods would do
            page["Allow"] = response["Allow"]
        return page

    return middleware
