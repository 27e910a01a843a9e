"""The decision log, API keys and metrics of a real server, checked after real requests."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from servekit import Fitted, Served, ServerFactory

from mlrails.serve import KeyRing
from mlrails.serve.keys import hash_token


@pytest.fixture(scope="module")
def fresh(make_server: ServerFactory) -> Served:
    """A server whose log and metrics only these tests touch."""
    return make_server()


def _metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        m = re.match(r"^(\w+)\{(.*)\} (\S+)$", line)
        if m and m.group(1) == name:
            got = ",".join(sorted(m.group(2).split(",")))
            if got == want:
                return float(m.group(3))
    return 0.0


def test_log_holds_exactly_every_row_before_the_answer(fresh: Served, fitted: Fitted) -> None:
    rows = fitted.status_rows
    requests: list[tuple[Any, list[int]]] = [
        ({"instance": rows[200]}, [200]),
        ({"instance": rows[422]}, [422]),
        ({"instances": [rows[200], rows[203], rows[403]]}, [200, 203, 403]),
        ({"instances": [rows[400], rows[200]]}, [400, 200]),
    ]
    sent: dict[str, list[int]] = {}
    for body, statuses in requests:
        r = fresh.post(body)
        sent[r.headers["x-trace-id"]] = statuses
        # committed before the answer: the rows are there as soon as the response is
        assert fresh.store.count_decisions() == sum(len(s) for s in sent.values())
    logged = fresh.store.decisions()
    assert len(logged) == sum(len(s) for s in sent.values()) == 7
    by_trace: dict[str, list[Any]] = {}
    for d in logged:
        by_trace.setdefault(d.trace_id, []).append(d)
        assert d.artifact_hash == fitted.rails.artifact_hash
        assert d.key_id == fresh.key_id
        assert d.time.tzinfo is not None
        assert d.output["status"] == d.status
        assert d.latency_ms >= 0
    for trace, statuses in sent.items():
        ds = sorted(by_trace[trace], key=lambda d: d.row_index)
        assert [d.status for d in ds] == statuses
        assert [d.row_index for d in ds] == list(range(len(statuses)))
    one = by_trace[next(iter(sent))][0]
    assert one.input == rows[200]
    assert set(one.scores or {}) >= {"validation", "ood"}


def test_request_level_outcomes_are_logged(fresh: Served) -> None:
    before = fresh.store.count_decisions()
    r = fresh.client.post("/v1/predict", content=b"{broken")
    assert r.status_code == 400
    d = fresh.store.decisions()[-1]
    assert fresh.store.count_decisions() == before + 1
    assert (d.status, d.row_index, d.trace_id) == (400, None, r.headers["x-trace-id"])
    assert d.problem == "https://mlrails.dev/problems/malformed-request"
    assert d.input == "{broken"


def test_concurrent_requests_all_logged(fresh: Served, fitted: Fitted) -> None:
    before = fresh.store.count_decisions()
    body = {"instances": [fitted.status_rows[200], fitted.status_rows[422]]}
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: fresh.post(body).status_code, range(40)))
    assert codes == [207] * 40
    assert fresh.store.count_decisions() == before + 80


def test_metrics_count_requests_by_status(fresh: Served, fitted: Fitted) -> None:
    def scrape() -> str:
        r = httpx.get(fresh.url + "/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        return r.text

    labels = {"method": "POST", "route": "/v1/predict"}
    text = scrape()
    ok0 = _metric(text, "mlrails_http_requests_total", status="200", **labels)
    ood0 = _metric(text, "mlrails_http_requests_total", status="422", **labels)
    for _ in range(3):
        fresh.post({"instance": fitted.status_rows[200]})
    for _ in range(2):
        fresh.post({"instance": fitted.status_rows[422]})
    fresh.client.get("/nowhere")
    text = scrape()
    assert _metric(text, "mlrails_http_requests_total", status="200", **labels) == ok0 + 3
    assert _metric(text, "mlrails_http_requests_total", status="422", **labels) == ood0 + 2
    assert (
        _metric(text, "mlrails_http_requests_total", method="GET", route="unmatched", status="404")
        >= 1
    )
    ood = "https://mlrails.dev/problems/out-of-distribution"
    assert _metric(text, "mlrails_verdicts_total", status="422", problem=ood) >= 2
    assert _metric(text, "mlrails_safeguard_triggers_total", safeguard="ood", mode="block") >= 2
    assert "mlrails_safeguard_latency_seconds_bucket" in text
    assert 'mlrails_safeguard_score_ratio_bucket{le="1.0",safeguard="ood"}' in text


def test_keys_are_stored_hashed(fresh: Served) -> None:
    stored = fresh.store.get_key(fresh.key_id)
    assert stored is not None and stored.token_hash == hash_token(fresh.token)
    raw = b"".join(
        p.read_bytes() for p in fresh.db_path.parent.iterdir() if p.name.startswith("decisions")
    )
    assert fresh.token.encode() not in raw
    secret = fresh.token.split("_", 2)[2]
    assert secret.encode() not in raw
    assert hash_token(fresh.token).encode() in raw


def test_revoked_key_gets_401(fresh: Served, fitted: Fitted) -> None:
    ring = KeyRing(fresh.store)
    issued = ring.create("short-lived")
    headers = {"Authorization": f"Bearer {issued.token}"}
    body = {"instance": fitted.status_rows[200]}
    assert httpx.post(fresh.url + "/v1/predict", json=body, headers=headers).status_code == 200
    ring.revoke(issued.record.id)
    r = httpx.post(fresh.url + "/v1/predict", json=body, headers=headers)
    assert r.status_code == 401
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert [k.active for k in ring.list() if k.id == issued.record.id] == [False]
