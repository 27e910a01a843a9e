"""The web UI's drift page: the service's latest drift check, field by field.

=====================  ====================================================================
``GET /ui/drift``      the latest check of the logged traffic against the artifact's
                       reference (inputs; prediction and confidence), alarming fields first
``POST /ui/drift``     runs a check now (same-origin forms only), then redirects (303) back
=====================  ====================================================================

Same sign-in, security headers and same-origin check as the rest of the UI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from starlette.responses import Response

from mlrails.serve.ui.common import StoreDown, html, now_text, redirect, same_origin, ui_root
from mlrails.serve.ui.drift_view import BAR_PX, drift_page
from mlrails.serve.ui.templates import render

if TYPE_CHECKING:
    from mlrails.serve.ui.routes import Ui


def install_drift_routes(router: APIRouter, ui: Ui) -> None:
    """Add the drift page to the ``/ui`` router."""
    page = _DriftPage(ui)
    router.add_api_route("/drift", page.show, methods=["GET"], response_class=Response)
    router.add_api_route("/drift", page.run, methods=["POST"], response_class=Response)


class _DriftPage:
    def __init__(self, ui: Ui) -> None:
        self.ui = ui

    async def _signed_in(self, request: Request) -> Response | str | None:
        """None when signed in; else the response that ends the request."""
        try:
            viewer = await self.ui.viewer(request)
        except StoreDown:
            return self.ui.store_down_page(request)
        if viewer is None:
            return redirect(ui_root(request) + "/login")
        return viewer.key_id or ""

    async def show(self, request: Request) -> Response:
        who = await self._signed_in(request)
        if isinstance(who, Response):
            return who
        status = self.ui.b.drift.status
        page = render(
            "drift.html",
            root=ui_root(request),
            auth=self.ui.auth,
            key_id=who or None,
            current="drift",
            p=drift_page(status),
            bar_px=BAR_PX,
            generated=now_text(),
        )
        return html(page)

    async def run(self, request: Request) -> Response:
        who = await self._signed_in(request)
        if isinstance(who, Response):
            return who
        if not same_origin(request):
            return html("<!doctype html><title>refused</title><p>cross-site request refused", 403)
        await self.ui.b.drift.run_once()
        return redirect(ui_root(request) + "/drift")
