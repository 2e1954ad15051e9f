"""A Content-Security-Policy on every response: scripts only from our own static files."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def _tile_origin() -> str:
    """Return the tile server's origin; a {s} subdomain template becomes a wildcard."""
    url = settings.FENGQIAO_TILE_URL
    if not url:
        return ""
    parts = urlsplit(url.replace("{s}", "subdomain"))
    host = parts.netloc.replace("subdomain", "*")
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


def policy() -> str:
    """Return the policy: no inline or foreign scripts; images also from the tile server."""
    tiles = _tile_origin()
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            # Leaflet and Bootstrap set inline style attributes; no inline script is allowed.
            "style-src 'self' 'unsafe-inline'",
            f"img-src 'self' data: {tiles}".strip(),
            "connect-src 'self'",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def content_security_policy(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Add the Content-Security-Policy header unless a view set its own."""
    header = policy()

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("Content-Security-Policy", header)
        return response

    return middleware
