"""What every page of the web UI shares: security headers, HTML and redirect answers, the
``/ui`` root, the same-origin check of forms, and who is looking.

Every UI response carries a strict Content-Security-Policy (scripts only from
``/ui/assets``), ``no-store`` caching and ``frame-ancestors 'none'``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import RedirectResponse, Response

SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Viewer:
    """Who looks at the UI: the API key's id, or None with auth off."""

    key_id: str | None


class StoreDown(Exception):
    """The key store could not say who is looking (the page answers 503)."""


def ui_root(request: Request) -> str:
    """The UI's URL path (``/ui`` under the app's root path)."""
    return str(request.scope.get("root_path", "")).rstrip("/") + "/ui"


def html(body: str, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """An HTML page with the UI's security headers."""
    return Response(
        body,
        status_code=status,
        media_type="text/html; charset=utf-8",
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


def redirect(url: str) -> RedirectResponse:
    """A 303 to ``url`` with the UI's security headers."""
    return RedirectResponse(url, status_code=303, headers=dict(SECURITY_HEADERS))


def now_text() -> str:
    """The time a page was made, as it shows it."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def same_origin(request: Request) -> bool:
    """False when the browser says the form was posted from another site (Fetch metadata,
    else the Origin header); clients that send neither (curl) are let through."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin != "null" and urlsplit(origin).netloc.lower() == host.lower()
