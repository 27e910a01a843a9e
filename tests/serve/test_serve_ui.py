"""The web UI at /ui, opened in a real headless Chromium (Playwright) against a real uvicorn.

Chromium comes from Debian (``apt-get install -y chromium``; ``.ci/run`` installs it), never
from a Playwright download. Without /usr/bin/chromium the browser tests are skipped, except
when ``MLRAILS_REQUIRE_BROWSER`` is set (``.ci/run`` sets it once Chromium is installed),
where they fail.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from servekit import Fitted, Served, ServerFactory

from mlrails.serve import KeyRing
from mlrails.serve.ui.session import COOKIE_NAME, issue_session, verify_session
from mlrails.store import DecisionRecord

#: what a logged input tries to do if the page ever runs it
PAYLOAD = '<script>window.__pwned = 1</script><img src="x" onerror="window.__pwned = 2">'


# -- fixtures (browser and page: conftest.py) ----------------------------------------------
@pytest.fixture(scope="module")
def ui(make_server: ServerFactory, fitted: Fitted) -> Served:
    """A server whose log only these tests write, with a few decisions of each kind and a
    second key (``ui_token``) to sign in to the UI with."""
    s = make_server()
    rows = fitted.status_rows
    evil = dict(rows[400])
    evil["mean texture"] = PAYLOAD  # type: ignore[assignment]
    answers = [
        s.post({"instance": rows[200]}).status_code,
        s.post({"instance": rows[200]}).status_code,
        s.post({"instance": rows[422]}).status_code,
        s.post({"instance": evil}).status_code,
        s.client.post(
            "/v1/predict",
            content=("{" + PAYLOAD).encode(),
            headers={"content-type": "application/json"},
        ).status_code,
    ]
    assert answers == [200, 200, 422, 400, 400]
    issued = KeyRing(s.store).create("ui")
    s.extra["ui_token"] = issued.token
    s.extra["ui_key_id"] = issued.record.id
    return s


def _sign_in(page: Any, served: Served, token: str) -> None:
    page.goto(served.url + "/ui")
    assert page.url == served.url + "/ui/login"
    page.fill("#key", token)
    page.click("button[type=submit]")
    page.wait_for_url(served.url + "/ui")


def _mix(page: Any) -> dict[int, int]:
    out = {}
    for row in page.locator("#mix tbody tr").all():
        out[int(row.get_attribute("data-status"))] = int(row.locator(".count").inner_text())
    return out


def _non_ok_newest_first(served: Served, limit: int = 20) -> list[DecisionRecord]:
    logged = served.store.decisions()
    return [d for d in reversed(logged) if d.status != 200][:limit]


# -- sign-in ------------------------------------------------------------------------------
def test_ui_needs_a_session_when_auth_is_on(ui: Served) -> None:
    r = httpx.get(ui.url + "/ui", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    live = httpx.get(ui.url + "/ui/live")
    assert live.status_code == 401
    assert live.headers["content-type"].startswith("application/problem+json")
    assert "www-authenticate" in live.headers
    forged = httpx.get(
        ui.url + "/ui/live", headers={"Cookie": f"{COOKIE_NAME}={ui.key_id}.9999999999.{'0' * 64}"}
    )
    assert forged.status_code == 401
    # the API key in a header is not a UI session, and a UI session is not an API key
    bearer = httpx.get(ui.url + "/ui", headers={"Authorization": f"Bearer {ui.token}"})
    assert bearer.status_code == 303 and bearer.headers["location"] == "/ui/login"
    cross = httpx.post(
        ui.url + "/ui/login",
        data={"key": ui.token},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403 and COOKIE_NAME not in cross.cookies


def test_sign_in_sets_a_strict_httponly_cookie_without_the_key(
    ui: Served, page: Any, fitted: Fitted
) -> None:
    page.goto(ui.url + "/ui")
    page.fill("#key", "mlr_000000000000_wrong")
    page.click("button[type=submit]")
    assert "unknown or revoked" in page.locator("#login-error").inner_text()
    page.fill("#key", ui.extra["ui_token"])
    page.click("button[type=submit]")
    page.wait_for_url(ui.url + "/ui")
    (cookie,) = page.context.cookies()
    assert cookie["name"] == COOKIE_NAME and cookie["path"] == "/ui"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert ui.extra["ui_token"].split("_", 2)[2] not in cookie["value"]
    assert page.evaluate("document.cookie") == ""
    assert ui.extra["ui_key_id"] in page.locator("header.top").inner_text()
    # the API does not accept the UI cookie
    api = httpx.post(
        ui.url + "/v1/predict",
        json={"instance": fitted.status_rows[200]},
        headers={"Cookie": f"{COOKIE_NAME}={cookie['value']}"},
    )
    assert api.status_code == 401
    page.click("text=Sign out")
    page.wait_for_url(ui.url + "/ui/login")
    assert page.context.cookies() == []
    assert page.problems == []


# -- content ------------------------------------------------------------------------------
def test_status_mix_matches_the_log(ui: Served, page: Any) -> None:
    _sign_in(page, ui, ui.extra["ui_token"])
    want = Counter(d.status for d in ui.store.decisions())
    assert _mix(page) == dict(want)
    assert int(page.locator("#mix").get_attribute("data-total")) == sum(want.values())
    assert page.problems == []


def test_recent_non_200_show_their_problem_documents(ui: Served, page: Any, fitted: Fitted) -> None:
    _sign_in(page, ui, ui.extra["ui_token"])
    want = _non_ok_newest_first(ui)
    articles = page.locator("article.decision").all()
    assert [a.get_attribute("data-trace-id") for a in articles] == [d.trace_id for d in want]
    for article, d in zip(articles, want, strict=True):
        out = d.output
        assert int(article.get_attribute("data-status")) == d.status
        problem_type = out.get("problem") or out.get("type")
        assert article.locator(".problem-type").inner_text() == problem_type
        assert article.locator(".title").inner_text() == out["title"]
        assert out["detail"][:100] in article.locator(".detail").inner_text()
        names = [s["name"] for s in out.get("safeguards", [])]
        shown = [r.get_attribute("data-safeguard") for r in article.locator(".evidence tr").all()]
        assert [n for n in shown if n] == names
        fired = article.locator(".evidence tr.fired").all()
        want_fired = [s["name"] for s in out.get("safeguards", []) if s["triggered"]]
        assert [r.get_attribute("data-safeguard") for r in fired] == want_fired
    types = {a.locator(".problem-type").inner_text().rsplit("/", 1)[-1] for a in articles}
    assert types == {"out-of-distribution", "invalid-input", "malformed-request"}
    ood = page.locator("article[data-status='422'] .evidence tr.fired").all()
    assert "ood" in [r.get_attribute("data-safeguard") for r in ood]


def test_out_of_distribution_rows_say_which_features_made_them_unusual(
    ui: Served, page: Any
) -> None:
    _sign_in(page, ui, ui.extra["ui_token"])
    logged = next(d for d in _non_ok_newest_first(ui) if d.status == 422)
    attr = logged.output["ood_contributions"]
    assert attr["contributions"]  # the guard split the OOD score by feature
    article = page.locator(f"article[data-trace-id='{logged.trace_id}']")
    shown = [r.get_attribute("data-feature") for r in article.locator("table.ood tbody tr").all()]
    assert [f for f in shown if f] == [c["feature"] for c in attr["contributions"]]
    assert attr["detector"] in article.locator("table.ood caption").inner_text()


def test_safeguard_table_lists_every_safeguard(ui: Served, page: Any, fitted: Fitted) -> None:
    _sign_in(page, ui, ui.extra["ui_token"])
    summary = fitted.rails.summary.safeguards
    rows = page.locator("#safeguards tbody tr").all()
    assert [r.get_attribute("data-safeguard") for r in rows] == [g.name for g in summary]
    for row, g in zip(rows, summary, strict=True):
        cells = [c.inner_text() for c in row.locator("td").all()]
        assert cells[1] == g.mode
        if g.threshold is not None:
            assert float(cells[2]) == pytest.approx(g.threshold, rel=1e-3)
        if g.target_fpr is not None:
            assert cells[3] == f"{100 * g.target_fpr:.2f} %"
        if g.realised_fpr is not None:
            assert cells[4] == f"{100 * g.realised_fpr:.2f} %"
    assert page.locator("#artifact-hash").inner_text() == fitted.rails.artifact_hash
    assert "RandomForestClassifier" in page.locator("#model").inner_text()


def test_injected_script_is_inert_text(ui: Served, page: Any) -> None:
    _sign_in(page, ui, ui.extra["ui_token"])
    inputs = [p.text_content() for p in page.locator("pre.input").all()]
    assert any(PAYLOAD in (t or "") for t in inputs)
    assert PAYLOAD in page.locator("article[data-status='400'] td.value").first.inner_text()
    # and after the polled panels were swapped in (innerHTML) it is still only text
    # (wait_for_function would need 'unsafe-eval', which the page's CSP refuses)
    page.locator("body:not([data-refreshes='0'])").wait_for(state="attached")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("script").count() == 1  # ui.js only
    assert page.locator("#live img").count() == 0
    assert not [p for p in page.problems if "Content Security Policy" in p]
    assert page.problems == []


def test_page_follows_new_decisions_by_polling(ui: Served, page: Any, fitted: Fitted) -> None:
    _sign_in(page, ui, ui.extra["ui_token"])
    page.evaluate("window.__sameDocument = true")
    before = _mix(page)
    for _ in range(3):
        assert ui.post({"instance": fitted.status_rows[403]}).status_code == 403
    assert ui.post({"instance": fitted.status_rows[200]}).status_code == 200
    want = dict(Counter(d.status for d in ui.store.decisions()))
    assert want[403] == before.get(403, 0) + 3
    page.locator("#mix tr[data-status='403'] .count").filter(has_text=str(want[403])).wait_for()
    assert _mix(page) == want
    newest = _non_ok_newest_first(ui)[0]
    first = page.locator("article.decision").first
    assert first.get_attribute("data-trace-id") == newest.trace_id
    assert first.locator(".problem-type").inner_text().endswith("/adversarial-input")
    assert page.evaluate("window.__sameDocument") is True  # updated in place, not reloaded
    assert page.problems == []


def test_revoking_the_key_ends_the_session(ui: Served, page: Any) -> None:
    ring = KeyRing(ui.store)
    issued = ring.create("short-lived")
    _sign_in(page, ui, issued.token)
    ring.revoke(issued.record.id)
    page.wait_for_url(ui.url + "/ui/login")  # the next poll gets 401 and reloads


# -- settings -----------------------------------------------------------------------------
def test_ui_with_auth_off_is_open_and_says_so(
    make_server: ServerFactory, page: Any, fitted: Fitted
) -> None:
    open_server = make_server(auth=False)
    assert open_server.post({"instance": fitted.status_rows[422]}).status_code == 422
    page.goto(open_server.url + "/ui?window=300")
    assert page.url == open_server.url + "/ui?window=300"
    assert "Authentication is off" in page.locator("#auth-off").inner_text()
    assert _mix(page) == {422: 1}
    assert page.locator("nav.windows a[aria-current=page]").inner_text() == "5 min"
    assert httpx.get(open_server.url + "/ui/login", follow_redirects=False).status_code == 303
    assert page.problems == []


def test_ui_off_is_not_served(make_server: ServerFactory) -> None:
    s = make_server(ui=False)
    assert s.client.get("/ui").status_code == 404
    assert s.client.get("/ui/live").status_code == 404


def test_ui_is_not_in_the_openapi_document(ui: Served) -> None:
    paths = ui.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/ui")]


def test_ui_responses_carry_a_strict_content_security_policy(ui: Served) -> None:
    r = httpx.get(ui.url + "/ui/login")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert r.headers["cache-control"] == "no-store"
    assert not re.search(r"<script>", r.text)


# -- sessions (no browser) ---------------------------------------------------------------
def test_session_cookie_expires_and_cannot_be_forged(ui: Served) -> None:
    ring = KeyRing(ui.store)
    issued = ring.create("session")
    now = time.time()
    value, ttl = issue_session(issued.record, now=now)
    assert verify_session(ring, value, now=now) == issued.record
    assert verify_session(ring, value, now=now + ttl + 1) is None
    key_id, expires, sig = value.split(".")
    assert verify_session(ring, f"{key_id}.{int(expires) + 3600}.{sig}", now=now) is None
    assert verify_session(ring, f"{key_id}.{expires}.{'0' * len(sig)}", now=now) is None
    assert verify_session(ring, "garbage", now=now) is None
    ring.revoke(issued.record.id)
    assert verify_session(ring, value, now=now) is None


def test_huge_logged_values_are_clipped(ui: Served) -> None:
    from datetime import UTC, datetime

    from mlrails.serve.ui.view import MAX_INPUT, MAX_TEXT, decision_view

    big = "x" * 100_000
    record = DecisionRecord(
        time=datetime.now(UTC),
        trace_id="t",
        key_id=None,
        artifact_hash="h",
        row_index=None,
        status=400,
        problem="p",
        input=big,
        output={"type": "p", "title": big, "detail": big, "errors": [{"value": big}]},
        scores=None,
        latency_ms=1.0,
    )
    view = decision_view(record)
    assert len(view["input"]) < MAX_INPUT + 40 and view["input"].endswith("(100000 characters)")
    assert len(view["title"]) < MAX_TEXT + 40 and len(view["errors"][0]["value"]) < MAX_TEXT + 40
