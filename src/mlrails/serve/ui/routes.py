"""The web UI's routes under ``/ui`` (server-rendered HTML, not part of the OpenAPI doc).

=====================  ====================================================================
``GET /ui``            the dashboard (``?window=300|900|3600|86400`` seconds, default 900)
``GET /ui/live``       the live panels alone (status mix, recent non-200), polled by the page
``GET /ui/login``      sign-in form (auth on only)
``POST /ui/login``     exchanges an API key for a session cookie, then redirects to ``/ui``
``POST /ui/logout``    clears the cookie (same-origin forms only: 403 otherwise)
``GET /ui/assets/*``   ``ui.css`` and ``ui.js``
``/ui/descriptors``    the mismatch descriptors and ``/ui/mismatch`` their check (see
                       :mod:`mlrails.serve.ui.descriptor_routes`)
=====================  ====================================================================

Authentication follows the API's: with ``--auth off`` the UI is open (and says so); with
auth on a browser signs in once with an API key and gets a session cookie (see
:mod:`mlrails.serve.ui.session`). The API itself never accepts the cookie, so a page on
another site cannot make a signed-in browser call ``/v1/predict``. The security headers and
the same-origin check of forms are :mod:`mlrails.serve.ui.common`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from mlrails.guard.rails import Rails
from mlrails.protocol import problem as problems
from mlrails.serve.drift_job import DriftMonitor
from mlrails.serve.keys import KeyRing
from mlrails.serve.problems import problem_response
from mlrails.serve.ratelimit import RateLimiter
from mlrails.serve.settings import ServeSettings
from mlrails.serve.ui.assets import CSS, JS
from mlrails.serve.ui.common import (
    SECURITY_HEADERS,
    StoreDown,
    Viewer,
    html,
    now_text,
    redirect,
    same_origin,
    ui_root,
)
from mlrails.serve.ui.descriptor_routes import install_descriptor_routes
from mlrails.serve.ui.drift_routes import install_drift_routes
from mlrails.serve.ui.session import COOKIE_NAME, SESSION_TTL_S, issue_session, verify_session
from mlrails.serve.ui.templates import render
from mlrails.serve.ui.view import (
    RECENT_LIMIT,
    WINDOWS,
    artifact_view,
    decision_view,
    status_mix,
    window_seconds,
)
from mlrails.store import Store, StoreUnavailable
from mlrails.store.queries import recent_decisions, status_counts

log = logging.getLogger("mlrails.serve.ui")

#: seconds between two polls of /ui/live by the page
REFRESH_S = 2.0
#: largest sign-in form body read
_MAX_FORM_BYTES = 4096


class UiBackend(Protocol):
    """What the UI needs from the service."""

    @property
    def rails(self) -> Rails: ...
    @property
    def store(self) -> Store: ...
    @property
    def settings(self) -> ServeSettings: ...
    @property
    def keys(self) -> KeyRing: ...
    @property
    def rate(self) -> RateLimiter | None: ...
    @property
    def drift(self) -> DriftMonitor: ...


def install_ui(app: FastAPI, backend: UiBackend, *, refresh_s: float = REFRESH_S) -> None:
    """Add the ``/ui`` routes to ``app``."""
    ui = Ui(backend, refresh_s)
    router = APIRouter(prefix="/ui", include_in_schema=False)
    router.add_api_route("", ui.dashboard, methods=["GET"], response_class=Response)
    router.add_api_route("/live", ui.live, methods=["GET"], response_class=Response)
    router.add_api_route("/login", ui.login_form, methods=["GET"], response_class=Response)
    router.add_api_route("/login", ui.login, methods=["POST"], response_class=Response)
    router.add_api_route("/logout", ui.logout, methods=["POST"], response_class=Response)
    router.add_api_route("/assets/ui.css", ui.css, methods=["GET"], response_class=Response)
    router.add_api_route("/assets/ui.js", ui.js, methods=["GET"], response_class=Response)
    install_descriptor_routes(router, ui)
    install_drift_routes(router, ui)
    app.include_router(router)


class Ui:
    """The dashboard, sign-in and assets; the other pages reach the service and the sign-in
    through it."""

    def __init__(self, backend: UiBackend, refresh_s: float) -> None:
        self.b = backend
        self.refresh_ms = max(500, int(refresh_s * 1000))
        self.artifact = artifact_view(backend.rails)
        self.ok = backend.rails.policy.status_codes.ok

    @property
    def auth(self) -> bool:
        return self.b.settings.auth

    # -- who is looking ------------------------------------------------------------------
    async def viewer(self, request: Request) -> Viewer | None:
        if not self.auth:
            return Viewer(None)
        cookie = request.cookies.get(COOKIE_NAME)
        if not cookie:
            return None
        try:
            record = await anyio.to_thread.run_sync(verify_session, self.b.keys, cookie)
        except StoreUnavailable:
            raise StoreDown from None
        return None if record is None else Viewer(record.id)

    # -- pages ---------------------------------------------------------------------------
    async def dashboard(self, request: Request) -> Response:
        root = ui_root(request)
        try:
            viewer = await self.viewer(request)
        except StoreDown:
            return self.store_down_page(request)
        if viewer is None:
            return redirect(root + "/login")
        window = window_seconds(request.query_params.get("window"))
        live, status = await self._live_context(window)
        page = render(
            "dashboard.html",
            root=root,
            live_url=f"{root}/live?window={window}",
            refresh_ms=self.refresh_ms,
            artifact=self.artifact,
            auth=self.auth,
            key_id=viewer.key_id,
            windows=list(WINDOWS.items()),
            window=window,
            **live,
        )
        return html(page, status)

    async def live(self, request: Request) -> Response:
        try:
            viewer = await self.viewer(request)
        except StoreDown:
            return html(
                render("live.html", **self._empty_live(900, "the key store is unavailable")), 503
            )
        if viewer is None:
            problem = problems.UNAUTHORIZED.problem(
                401, f"sign in at {ui_root(request)}/login first"
            )
            headers = {**SECURITY_HEADERS, "WWW-Authenticate": 'Bearer realm="mlrails"'}
            return problem_response(problem, headers)
        window = window_seconds(request.query_params.get("window"))
        live, status = await self._live_context(window)
        return html(render("live.html", **live), status)

    async def login_form(self, request: Request) -> Response:
        root = ui_root(request)
        if not self.auth:
            return redirect(root)
        return self._login_page(root, None, 200)

    async def login(self, request: Request) -> Response:
        root = ui_root(request)
        if not self.auth:
            return redirect(root)
        if not same_origin(request):
            return self._login_page(root, "cross-site sign-in refused", 403)
        if self.b.rate is not None:
            host = request.client.host if request.client else "unknown"
            wait = self.b.rate.acquire("ui-login:" + host)
            if wait:
                return self._login_page(
                    root, f"too many attempts; retry in {wait} s", 429, {"Retry-After": str(wait)}
                )
        form = await _read_form(request)
        token = (form.get("key") or "").strip()
        if not token or len(token) > 512:
            return self._login_page(root, "enter an API key", 400)
        try:
            record = await anyio.to_thread.run_sync(self.b.keys.verify, token)
        except StoreUnavailable:
            return self._login_page(root, "the key store is unavailable; retry later", 503)
        if record is None:
            return self._login_page(
                root,
                "unknown or revoked API key",
                401,
                {"WWW-Authenticate": 'Bearer realm="mlrails"'},
            )
        value, ttl = issue_session(record)
        response = redirect(root)
        response.set_cookie(
            COOKIE_NAME,
            value,
            max_age=ttl,
            path=root,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    async def logout(self, request: Request) -> Response:
        root = ui_root(request)
        if not same_origin(request):  # another site must not sign a browser out either
            problem = problems.CROSS_SITE.problem(403, "sign out from this site's own pages")
            return problem_response(problem, dict(SECURITY_HEADERS))
        response = redirect(root + "/login" if self.auth else root)
        response.delete_cookie(
            COOKIE_NAME,
            path=root,
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    async def css(self) -> Response:
        return Response(CSS, media_type="text/css; charset=utf-8", headers=_asset_headers())

    async def js(self) -> Response:
        return Response(JS, media_type="text/javascript; charset=utf-8", headers=_asset_headers())

    # -- helpers -------------------------------------------------------------------------
    def _login_page(
        self,
        root: str,
        error: str | None,
        status: int,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        page = render("login.html", root=root, error=error, ttl_hours=SESSION_TTL_S // 3600)
        return html(page, status, headers)

    def store_down_page(self, request: Request) -> Response:
        page = render(
            "login.html",
            root=ui_root(request),
            error="the key store is unavailable; retry later",
            ttl_hours=SESSION_TTL_S // 3600,
        )
        return html(page, 503, {"Retry-After": str(self.b.settings.retry_after_s)})

    def _empty_live(self, window: int, error: str | None) -> dict[str, Any]:
        return {
            "mix": {"total": 0, "rows": []},
            "recent": [],
            "generated": now_text(),
            "window_label": WINDOWS.get(window, f"{window} s"),
            "error": error,
            "ok": self.ok,
            "limit": RECENT_LIMIT,
        }

    async def _live_context(self, window: int) -> tuple[dict[str, Any], int]:
        store, ok = self.b.store, self.ok

        def read() -> tuple[dict[int, int], list[dict[str, Any]]]:
            since = datetime.now(UTC) - timedelta(seconds=window)
            counts = status_counts(store, since=since)
            recent = recent_decisions(store, limit=RECENT_LIMIT, since=since, exclude_status=ok)
            return counts, [decision_view(r) for r in recent]

        try:
            counts, recent = await anyio.to_thread.run_sync(read)
        except StoreUnavailable as exc:
            log.error("web UI: cannot read the decision log: %s", exc)
            return self._empty_live(window, "the decision log is unavailable; retrying"), 503
        ctx = self._empty_live(window, None)
        ctx["mix"] = status_mix(counts, self.b.rails.policy.status_codes)
        ctx["recent"] = recent
        return ctx, 200


def _asset_headers() -> dict[str, str]:
    return {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
        "Content-Security-Policy": "default-src 'none'",
    }


async def _read_form(request: Request) -> dict[str, str]:
    """The urlencoded form body (first value per field), read up to a small limit."""
    buf = bytearray()
    async for chunk in request.stream():
        buf.extend(chunk)
        if len(buf) > _MAX_FORM_BYTES:
            return {}
    try:
        parsed = parse_qs(buf.decode("utf-8"), max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {k: v[0] for k, v in parsed.items() if v}
