"""Every status code of the protocol, reached through a real uvicorn server over HTTP."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from servekit import Fitted, Served, ServerFactory

PROBLEM = "application/problem+json"
BASE = "https://mlrails.dev/problems/"


def _is_problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """Assert an RFC 9457 answer and return its document."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    doc = r.json()
    assert doc["type"] == BASE + slug
    assert doc["status"] == status
    assert doc["title"] and doc["detail"]
    text = r.text
    assert "Traceback" not in text and "/work/" not in text and ".py" not in text
    return doc


# -- the guard's codes -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "slug"),
    [
        (203, "low-confidence"),
        (400, "invalid-input"),
        (403, "adversarial-input"),
        (422, "out-of-distribution"),
    ],
)
def test_single_instance_gets_the_guards_code(
    served: Served, fitted: Fitted, status: int, slug: str
) -> None:
    r = served.post({"instance": fitted.status_rows[status]})
    doc = _is_problem(r, status, slug)
    assert doc["artifact_hash"] == fitted.rails.artifact_hash
    assert doc["trace_id"] == r.headers["x-trace-id"]
    assert doc["instance"] == "urn:mlrails:trace:" + doc["trace_id"]
    assert {s["name"] for s in doc["safeguards"]} >= {"validation"}
    if status == 203:
        assert doc["prediction"] in (0, 1) and doc["confidence"]["max_probability"] < 0.99
    if status == 400:
        assert any(e["field"] == "mean texture" for e in doc["errors"])
    if status in (403, 422):
        assert "prediction" not in doc


def test_single_ok_is_the_verdict(served: Served, fitted: Fitted) -> None:
    r = served.post({"instance": fitted.status_rows[200]})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["status"] == 200 and body["outcome"] == "ok" and body["problem"] is None
    assert body["prediction"] in (0, 1)
    assert body["trace_id"] == r.headers["x-trace-id"]
    assert body["artifact_hash"] == fitted.rails.artifact_hash


def test_explain_attaches_shap(served: Served, fitted: Fitted) -> None:
    plain = served.post({"instance": fitted.status_rows[200]}).json()
    assert plain["explanation"] is None
    r = served.post({"instance": fitted.status_rows[200]}, params={"explain": "true"})
    assert r.status_code == 200
    assert r.json()["explanation"] is not None


def test_traceparent_is_the_trace_id(served: Served, fitted: Fitted) -> None:
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = served.post(
        {"instance": fitted.status_rows[200]},
        headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"},
    )
    assert r.headers["x-trace-id"] == trace


# -- batches -------------------------------------------------------------------------------
def test_batch_all_ok_is_200(served: Served, fitted: Fitted) -> None:
    ok = fitted.status_rows[200]
    r = served.post({"instances": [ok, ok, ok]})
    assert r.status_code == 200
    body = r.json()
    assert body["n"] == 3 and body["status_counts"] == {"200": 3}
    assert [v["row"] for v in body["verdicts"]] == [0, 1, 2]


def test_mixed_batch_is_207_with_item_statuses(served: Served, fitted: Fitted) -> None:
    order = [200, 422, 403, 203, 400]
    r = served.post({"instances": [fitted.status_rows[s] for s in order]})
    doc = _is_problem(r, 207, "mixed-batch")
    assert [v["status"] for v in doc["verdicts"]] == order
    assert doc["status_counts"] == {str(s): 1 for s in order}
    assert doc["n"] == 5


def test_columns_equal_records(served: Served, fitted: Fitted) -> None:
    rows = [fitted.status_rows[s] for s in (200, 422, 203)]
    columns = {c: [r[c] for r in rows] for c in rows[0]}
    a = served.post({"instances": rows}).json()["verdicts"]
    b = served.post({"instances": columns}).json()["verdicts"]
    assert [v["status"] for v in a] == [v["status"] for v in b] == [200, 422, 203]
    assert [v["prediction"] for v in a] == [v["prediction"] for v in b]


def test_array_rows_in_column_order(served: Served, fitted: Fitted) -> None:
    row = fitted.status_rows[200]
    r = served.post({"instance": list(row.values())})
    assert r.status_code == 200


def test_empty_batch_is_400(served: Served) -> None:
    doc = _is_problem(served.post({"instances": []}), 400, "invalid-input")
    assert doc["errors"][0]["code"] == "empty_batch"


# -- the HTTP layer's codes ---------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        b"[1, 2, 3]",
        b'{"instance": {"a": NaN}}',
        b'{"instances": 3}',
        b'{"instance": 3}',
        b'{"instances": [1, 2]}',
        b'{"instances": {"a": [1, 2], "b": [1]}}',
        b'{"instance": {}, "instances": []}',
        b'{"instnaces": []}',
        b"\xff\xfe\x00",
        b"[" * 100_000,
    ],
)
def test_malformed_body_is_400(served: Served, body: bytes) -> None:
    r = served.client.post(
        "/v1/predict", content=body, headers={"content-type": "application/json"}
    )
    _is_problem(r, 400, "malformed-request")


def test_bad_query_parameter_is_400(served: Served, fitted: Fitted) -> None:
    r = served.post({"instance": fitted.status_rows[200]}, params={"explain": "maybe"})
    _is_problem(r, 400, "malformed-request")


def test_unknown_route_is_404(served: Served) -> None:
    _is_problem(served.client.get("/v1/nothing"), 404, "not-found")


def test_wrong_method_is_405(served: Served) -> None:
    r = served.client.get("/v1/predict")
    _is_problem(r, 405, "method-not-allowed")
    assert r.headers["allow"] == "POST"


def test_body_over_limit_is_413(served: Served) -> None:
    limit = served.settings.max_body_bytes
    big = b'{"instances": [' + b" " * limit + b"]}"
    _is_problem(served.client.post("/v1/predict", content=big), 413, "payload-too-large")


def test_streamed_body_over_limit_is_413(served: Served) -> None:
    """No Content-Length (chunked): the size actually received is what counts."""
    limit = served.settings.max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"instances": ['
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536
        yield b"]}"

    r = served.client.post("/v1/predict", content=chunks())
    assert "content-length" not in r.request.headers
    _is_problem(r, 413, "payload-too-large")


def test_batch_over_row_limit_is_413(served: Served, fitted: Fitted) -> None:
    rows = [fitted.status_rows[200]] * (served.settings.max_batch_rows + 1)
    doc = _is_problem(served.post({"instances": rows}), 413, "payload-too-large")
    assert "rows" in doc["detail"]


@pytest.mark.parametrize(
    "header",
    [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer mlr_000000000000_nope", "Bearer garbage"],
)
def test_missing_or_bad_key_is_401(served: Served, fitted: Fitted, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    for method, path in (("POST", "/v1/predict"), ("GET", "/v1/contract")):
        r = httpx.request(
            method,
            served.url + path,
            json={"instance": fitted.status_rows[200]},
            headers=headers,
        )
        _is_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith('Bearer realm="mlrails"')


def test_tampered_token_is_401(served: Served, fitted: Fitted) -> None:
    tampered = served.token[:-2] + ("AA" if not served.token.endswith("AA") else "BB")
    r = httpx.post(
        served.url + "/v1/predict",
        json={"instance": fitted.status_rows[200]},
        headers={"Authorization": f"Bearer {tampered}"},
    )
    _is_problem(r, 401, "unauthorized")


def test_rate_limit_is_429(make_server: ServerFactory, fitted: Fitted) -> None:
    s = make_server(rate_limit_rps=0.2, rate_limit_burst=2)
    body = {"instance": fitted.status_rows[200]}
    assert [s.post(body).status_code for _ in range(2)] == [200, 200]
    r = s.post(body)
    _is_problem(r, 429, "rate-limited")
    assert int(r.headers["retry-after"]) >= 1


def test_model_time_limit_is_504(make_server: ServerFactory, fitted: Fitted) -> None:
    s = make_server(model_timeout_s=0.001, max_batch_rows=5000, max_body_bytes=8 << 20)
    rows = fitted.X.head(400).to_dict(orient="records") * 5
    doc = _is_problem(s.post({"instances": rows}), 504, "timeout")
    assert doc["trace_id"]
    logged = s.store.decisions()
    assert [(d.status, d.row_index) for d in logged] == [(504, None)]


def test_locked_store_is_503_and_nothing_answered(served: Served, fitted: Fitted) -> None:
    before = served.store.count_decisions()
    other = sqlite3.connect(served.db_path, timeout=0.1, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        r = served.post({"instance": fitted.status_rows[200]})
        doc = _is_problem(r, 503, "unavailable")
        assert int(r.headers["retry-after"]) >= 1
        assert doc["trace_id"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert served.store.count_decisions() == before
    assert served.post({"instance": fitted.status_rows[200]}).status_code == 200
    assert served.store.count_decisions() == before + 1


def test_closed_store_is_503_and_not_ready(make_server: ServerFactory, fitted: Fitted) -> None:
    s = make_server()
    assert s.client.get("/readyz").status_code == 200
    s.store.close()
    _is_problem(s.post({"instance": fitted.status_rows[200]}), 503, "unavailable")
    r = s.client.get("/readyz")
    doc = _is_problem(r, 503, "not-ready")
    assert doc["store"] is False and doc["model"] is True


# -- the other endpoints -------------------------------------------------------------------
def test_contract_is_json_schema(served: Served, fitted: Fitted) -> None:
    import jsonschema

    r = served.client.get("/v1/contract")
    assert r.status_code == 200
    schema = r.json()
    assert schema["x-column-order"] == fitted.rails.contract.columns
    jsonschema.validate(fitted.status_rows[200], schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(fitted.status_rows[400], schema)


def test_artifact_reports_thresholds(served: Served, fitted: Fitted) -> None:
    r = served.client.get("/v1/artifact")
    assert r.status_code == 200
    info = r.json()
    assert info["artifact_hash"] == fitted.rails.artifact_hash
    names = {g["name"] for g in info["safeguards"]}
    assert "ood" in names
    for g in info["safeguards"]:
        assert g["target_fpr"] is not None and g["realised_fpr"] is not None
    assert info["policy"]["reliability"]["min_confidence"] == 0.99
    assert info["manifest"]


def test_health_and_readiness(served: Served) -> None:
    assert httpx.get(served.url + "/healthz").json() == {"status": "ok"}
    r = httpx.get(served.url + "/readyz")
    assert r.status_code == 200 and r.json()["store"] is True


def test_cors_is_off_by_default(served: Served, fitted: Fitted) -> None:
    r = served.client.options(
        "/v1/predict",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers
    r = served.post({"instance": fitted.status_rows[200]}, headers={"Origin": "https://x.y"})
    assert "access-control-allow-origin" not in r.headers


def test_openapi_documents_every_code(served: Served) -> None:
    doc = httpx.get(served.url + "/openapi.json").json()
    predict = doc["paths"]["/v1/predict"]["post"]["responses"]
    codes = {200, 203, 207, 400, 401, 403, 413, 415, 422, 429, 500, 503, 504}
    assert {int(c) for c in predict} == codes
    for code, answer in predict.items():
        if code == "200":
            continue
        content = answer["content"][PROBLEM]
        assert content["schema"]["$ref"] == "#/components/schemas/ProblemDocument"
        assert all(t.startswith(BASE) for t in content["x-problem-types"])
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["ProblemDocument"]["required"]) >= {"type", "title", "status", "detail"}
    assert schemas["InputRow"]["properties"]  # the contract's JSON Schema
    assert json.dumps(doc["paths"]["/v1/predict"]["post"]["requestBody"]).count("PredictRequest")
    for path in ("/v1/contract", "/v1/artifact"):
        assert {"200", "401", "429"} <= set(doc["paths"][path]["get"]["responses"])
    assert {"200", "503"} <= set(doc["paths"]["/readyz"]["get"]["responses"])
