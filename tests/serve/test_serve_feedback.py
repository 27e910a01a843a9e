"""``POST /v1/feedback`` on a real server: labels of answered rows, named by the answer's trace
id, are matched, counted once, changed (the latest wins) or unknown; the endpoint has the
prediction's key check, limits and problem documents, and a store that cannot commit is 503."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import httpx
import pytest
from servekit import Fitted, Served, ServerFactory

from storekit import rename

PROBLEM = "application/problem+json"
BASE = "https://mlrails.dev/problems/"


@pytest.fixture(scope="module")
def fb(make_server: ServerFactory) -> Served:
    """A server whose log only these tests touch: auth on, small limits."""
    return make_server(max_batch_rows=20, max_body_bytes=16 * 1024)


def _feedback(s: Served, labels: list[dict[str, Any]], **kwargs: Any) -> dict[str, int]:
    r = s.client.post("/v1/feedback", json={"labels": labels}, **kwargs)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body: dict[str, int] = r.json()
    assert set(body) == {"matched", "unknown", "duplicate", "changed"}
    return body


def _label(trace: str, row: int, label: Any) -> dict[str, Any]:
    return {"trace_id": trace, "row": row, "label": label}


def _counts(matched: int = 0, unknown: int = 0, duplicate: int = 0, changed: int = 0) -> Any:
    return {"matched": matched, "unknown": unknown, "duplicate": duplicate, "changed": changed}


def _problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    doc = r.json()
    assert doc["type"] == BASE + slug and doc["status"] == status, doc
    assert doc["title"] and doc["detail"]
    assert "Traceback" not in r.text and ".py" not in r.text
    return doc


def test_labels_of_a_batch_are_matched_counted_once_and_changed(fb: Served, fitted: Fitted) -> None:
    rows = fitted.status_rows
    answer = fb.post({"instances": [rows[200], rows[203], rows[422]]})
    assert answer.status_code == 207
    trace = answer.headers["x-trace-id"]
    assert answer.json()["trace_id"] == trace
    verdicts = answer.json()["verdicts"]

    first = [{"trace_id": trace, "row": 0, "label": 1}, {"trace_id": trace, "row": 1, "label": 0}]
    assert _feedback(fb, first) == _counts(matched=2)
    assert _feedback(fb, first) == _counts(duplicate=2)
    changed = [{"trace_id": trace, "row": 1, "label": 1}, {"trace_id": trace, "row": 2, "label": 0}]
    assert _feedback(fb, changed) == _counts(matched=1, changed=1)
    unknown = [
        {"trace_id": "f" * 32, "row": 0, "label": 1},
        {"trace_id": trace, "row": 3, "label": 1},
    ]
    assert _feedback(fb, unknown + first[:1]) == _counts(unknown=2, duplicate=1)

    got = {r.row_index: r for r in fb.store.labelled_decisions() if r.trace_id == trace}
    assert {i: (r.label, r.revision) for i, r in got.items()} == {0: (1, 1), 1: (1, 2), 2: (0, 1)}
    assert [got[i].status for i in range(3)] == [200, 203, 422]
    assert [got[i].prediction for i in range(3)] == [v.get("prediction") for v in verdicts]
    with sqlite3.connect(fb.db_path) as raw:
        keys = raw.execute("SELECT DISTINCT key_id FROM labels WHERE trace_id = ?", (trace,))
        assert keys.fetchall() == [(fb.key_id,)]


def test_a_single_row_is_row_zero_and_a_callers_trace_id_names_it(
    fb: Served, fitted: Fitted
) -> None:
    one = fb.post({"instance": fitted.status_rows[200]})
    assert one.status_code == 200
    assert _feedback(fb, [{"trace_id": one.headers["x-trace-id"], "label": 1}]) == _counts(
        matched=1
    )
    mine = "0af7651916cd43dd8448eb211c80319c"
    traceparent = f"00-{mine}-b7ad6b7169203331-01"
    answer = fb.post({"instance": fitted.status_rows[200]}, headers={"traceparent": traceparent})
    assert answer.headers["x-trace-id"] == mine
    assert _feedback(fb, [{"trace_id": mine, "row": 0, "label": True}]) == _counts(matched=1)
    refused = fb.client.post("/v1/predict", content=b"{broken")
    assert refused.status_code == 400  # logged, but as a request: it has no row to label
    assert _feedback(fb, [{"trace_id": refused.headers["x-trace-id"], "label": 1}]) == _counts(
        unknown=1
    )
    assert _feedback(fb, []) == _counts()


def test_feedback_needs_a_key(fb: Served) -> None:
    body = {"labels": [{"trace_id": "a" * 32, "label": 1}]}
    for headers in ({}, {"Authorization": "Bearer mlr_000000000000_nope"}):
        r = httpx.post(fb.url + "/v1/feedback", json=body, headers=headers)
        _problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1]", "JSON object"),
        (b'{"labels": 3}', "'labels' must be an array"),
        (b'{"labels": [], "more": 1}', "unknown field"),
        (b"{}", "labels"),
        (b'{"labels": [3]}', "labels[0] must be an object"),
        (b'{"labels": [{"trace_id": "a b", "label": 1}]}', "labels[0]: trace_id"),
        (b'{"labels": [{"label": 1}]}', "labels[0]: no 'trace_id'"),
        (b'{"labels": [{"trace_id": "t"}]}', "labels[0]: no 'label'"),
        (b'{"labels": [{"trace_id": "t", "label": null}]}', "labels[0]: label"),
        (b'{"labels": [{"trace_id": "t", "label": [1]}]}', "labels[0]: label"),
        (b'{"labels": [{"trace_id": "t", "row": -1, "label": 1}]}', "labels[0]: row"),
        (b'{"labels": [{"trace_id": "t", "row": "0", "label": 1}]}', "labels[0]: row"),
        (b'{"labels": [{"trace_id": "t", "row": 0, "label": 1, "x": 2}]}', "unknown field"),
        (b'{"labels": [{"trace_id": "t", "label": 1}, {"trace_id": 7, "label": 1}]}', "labels[1]"),
    ],
)
def test_a_malformed_body_is_400(fb: Served, body: bytes, says: str) -> None:
    r = fb.client.post("/v1/feedback", content=body, headers={"content-type": "application/json"})
    assert says in _problem(r, 400, "malformed-request")["detail"]


def test_limits_are_the_predictions(fb: Served) -> None:
    many = [{"trace_id": "a" * 32, "row": i, "label": 1} for i in range(21)]
    doc = _problem(fb.client.post("/v1/feedback", json={"labels": many}), 413, "payload-too-large")
    assert "21 labels" in doc["detail"]
    big = b'{"labels": [' + b" " * (16 * 1024) + b"]}"
    _problem(fb.client.post("/v1/feedback", content=big), 413, "payload-too-large")
    form = fb.client.post("/v1/feedback", data={"labels": "x"})
    _problem(form, 415, "unsupported-media-type")
    _problem(fb.client.get("/v1/feedback"), 405, "method-not-allowed")


def test_rate_limit_is_429(make_server: ServerFactory) -> None:
    s = make_server(rate_limit_rps=0.01, rate_limit_burst=1)
    assert _feedback(s, []) == _counts()
    r = s.client.post("/v1/feedback", json={"labels": []})
    _problem(r, 429, "rate-limited")
    assert int(r.headers["retry-after"]) >= 1


def _label_one(s: Served, fitted: Fitted) -> list[dict[str, Any]]:
    answer = s.post({"instance": fitted.status_rows[200]})
    assert answer.status_code == 200
    return [{"trace_id": answer.headers["x-trace-id"], "label": 1}]


def test_a_locked_store_is_503_and_records_nothing(
    make_server: ServerFactory, fitted: Fitted
) -> None:
    s = make_server(store_timeout_s=0.3, retry_after_s=2, drift_every_s=None)
    labels = _label_one(s, fitted)
    blocker = sqlite3.connect(s.db_path, timeout=0.1, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        r = s.client.post("/v1/feedback", json={"labels": labels})
        doc = _problem(r, 503, "unavailable")
        assert "none was recorded" in doc["detail"] and r.headers["retry-after"] == "2"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert s.store.labelled_decisions() == []
    assert _feedback(s, labels) == _counts(matched=1)  # once the lock is gone


def test_a_moved_database_file_is_503(make_server: ServerFactory, fitted: Fitted) -> None:
    s = make_server(store_timeout_s=0.3, auth=False, drift_every_s=None)
    labels = _label_one(s, fitted)
    rename(s.db_path)
    for _ in range(2):
        _problem(s.client.post("/v1/feedback", json={"labels": labels}), 503, "unavailable")


def test_the_openapi_document_describes_feedback(fb: Served) -> None:
    doc = httpx.get(fb.url + "/openapi.json").json()
    op = doc["paths"]["/v1/feedback"]["post"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/FeedbackRequest"}
    assert {"200", "400", "401", "413", "415", "429", "503"} <= set(op["responses"])
    ok = op["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/FeedbackCountsDocument"}
    assert op["security"] == [{"bearerAuth": []}]
    item = doc["components"]["schemas"]["LabelDocument"]
    assert item["required"] == ["trace_id", "label"] and item["additionalProperties"] is False
    problems = op["responses"]["400"]["content"][PROBLEM]["x-problem-types"]
    assert problems == [BASE + "malformed-request"]


def test_metrics_count_labels_by_outcome(fb: Served, fitted: Fitted) -> None:
    def matched() -> float:
        text = httpx.get(fb.url + "/metrics").text
        m = re.search(r'^mlrails_feedback_labels_total\{outcome="matched"\} (\S+)$', text, re.M)
        return float(m.group(1)) if m else 0.0

    before = matched()
    _feedback(fb, _label_one(fb, fitted))
    assert matched() == before + 1
