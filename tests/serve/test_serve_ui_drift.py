"""The web UI's drift page, in headless Chromium against uvicorn: what it shows is the
service's own drift check (``GET /v1/drift``), field by field."""

from __future__ import annotations

from typing import Any

import httpx
from servekit import Fitted, Served, ServerFactory


def _sign_in(page: Any, served: Served) -> None:
    page.goto(served.url + "/ui/drift")
    assert page.url == served.url + "/ui/login"
    page.fill("#key", served.token)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/ui")
    page.goto(served.url + "/ui/drift")


def _shifted(fitted: Fitted, n: int = 80) -> list[dict[str, float]]:
    X = fitted.X.head(n).copy()
    X["mean radius"] = X["mean radius"] * 1.25
    return [{str(k): float(v) for k, v in r.items()} for _, r in X.iterrows()]


def test_drift_page_shows_the_services_check(
    make_server: ServerFactory, fitted: Fitted, page: Any
) -> None:
    s = make_server(drift_every_s=None)
    _sign_in(page, s)
    assert page.locator("#drift-state").get_attribute("data-state") == "pending"
    assert page.locator("tr.drift-row").count() == 0
    s.post({"instances": _shifted(fitted)})
    page.click("#check-now")  # POST /ui/drift, then back to the page
    page.wait_for_url(s.url + "/ui/drift")
    assert page.locator("#drift-state").get_attribute("data-state") == "alarm"
    doc = s.client.get("/v1/drift").json()
    check = doc["check"]
    assert page.locator("#alarming").inner_text() == ", ".join(check["alarming"])
    rows = page.locator("tr.drift-row")
    n_fields = len(check["inputs"]["fields"]) + len(check["outputs"]["fields"])
    assert rows.count() == n_fields
    # alarming rows first, each marked, with the API's statistic
    alarms = [rows.nth(i).get_attribute("data-alarm") for i in range(rows.count())]
    assert alarms == sorted(alarms, reverse=True)
    radius = page.locator('tr.drift-row[data-side="input"][data-field="mean radius"]')
    assert radius.get_attribute("data-alarm") == "1"
    api = next(f for f in check["inputs"]["fields"] if f["field"] == "mean radius")
    assert float(radius.locator("td.statistic").inner_text()) == float(f"{api['statistic']:.3g}")
    texture = page.locator('tr.drift-row[data-side="input"][data-field="mean texture"]')
    assert texture.get_attribute("data-alarm") == "0"
    assert page.locator('tr.drift-row[data-side="output"]').count() == 2
    assert page.locator("nav.pages a[aria-current=page]").inner_text() == "Drift"
    assert page.problems == []


def test_drift_page_needs_a_session_and_a_same_origin_post(
    make_server: ServerFactory, fitted: Fitted
) -> None:
    s = make_server(drift_every_s=None)
    r = httpx.get(s.url + "/ui/drift", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/ui/login")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    s.post({"instances": _shifted(fitted, 30)})
    from mlrails.serve.ui.session import COOKIE_NAME, issue_session

    record = next(k for k in s.store.list_keys() if k.id == s.key_id)
    cookie = {"Cookie": f"{COOKIE_NAME}={issue_session(record)[0]}"}
    refused = httpx.post(
        s.url + "/ui/drift",
        headers={**cookie, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert refused.status_code == 403
    assert s.client.get("/v1/drift").json()["state"] == "pending"  # nothing ran
    ok = httpx.post(s.url + "/ui/drift", headers=cookie, follow_redirects=False)
    assert ok.status_code == 303
    assert s.client.get("/v1/drift").json()["state"] == "alarm"
