"""The Open Inference Protocol v2 endpoints, spoken to by a plain OIP JSON client over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from servekit import Fitted, Served, ServerFactory
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlrails
from mlrails._json import jsonable
from mlrails.guard.rails import Rails
from mlrails.serve import ServerThread, ServeSettings, create_app
from mlrails.serve.oip import INT_RANGES, predict_fill
from mlrails.store import open_store

PROBLEM = "application/problem+json"
BASE = "https://mlrails.dev/problems/"
INFER = "/v2/models/mlrails/infer"


def _matrix(fitted: Fitted, rows: list[dict[str, Any]], datatype: str = "FP32") -> dict[str, Any]:
    cols = fitted.rails.contract.columns
    return {
        "name": "input-0",
        "shape": [len(rows), len(cols)],
        "datatype": datatype,
        "data": [[r[c] for c in cols] for r in rows],
    }


def _columns(fitted: Fitted, rows: list[dict[str, Any]], shape1: bool = False) -> list[Any]:
    return [
        {
            "name": c,
            "shape": [len(rows), 1] if shape1 else [len(rows)],
            "datatype": "FP64",
            "data": [r[c] for r in rows],
        }
        for c in fitted.rails.contract.columns
    ]


def _verdicts(body: dict[str, Any]) -> list[dict[str, Any]]:
    verdicts: list[dict[str, Any]] = json.loads(body["parameters"]["mlrails_verdicts"])
    return verdicts


def _output(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in body["outputs"] if o["name"] == name)


def _valid_tensor(t: dict[str, Any]) -> None:
    """Every element of an output tensor is a JSON value of its datatype (never null)."""
    assert len(t["data"]) == int(np.prod(t["shape"])), t
    for v in t["data"]:
        if t["datatype"] == "BYTES":
            assert isinstance(v, str), t
        elif t["datatype"] == "BOOL":
            assert isinstance(v, bool), t
        elif t["datatype"].startswith("FP"):
            assert isinstance(v, (int, float)) and not isinstance(v, bool), t
        else:
            assert type(v) is int, t


def _inference_response(r: httpx.Response) -> dict[str, Any]:
    """A successful OIP inference response: HTTP 200, JSON, valid output tensors."""
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert "error" not in body and "type" not in body
    assert {"model_name", "id", "outputs"} <= set(body)
    for t in body["outputs"]:
        _valid_tensor(t)
    return body


def _oip_error(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """A non-200 /v2 answer: a problem document that OIP clients can read as {"error"}."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    doc = r.json()
    assert doc["type"] == BASE + slug and doc["status"] == status
    assert isinstance(doc["error"], str) and doc["detail"] in doc["error"]
    assert "Traceback" not in r.text and ".py" not in r.text
    return doc


# -- health and metadata -------------------------------------------------------------------
def test_health_and_server_metadata_need_no_key(served: Served) -> None:
    assert httpx.get(served.url + "/v2/health/live").json() == {"live": True}
    assert httpx.get(served.url + "/v2/health/ready").json() == {"ready": True}
    r = httpx.get(served.url + "/v2/models/mlrails/ready")
    assert r.status_code == 200 and r.json() == {"name": "mlrails", "ready": True}
    meta = httpx.get(served.url + "/v2").json()
    assert meta["name"] == "mlrails" and meta["version"] and meta["extensions"] == []


def test_not_ready_when_the_store_is_closed(make_server: ServerFactory) -> None:
    s = make_server()
    s.store.close()
    for path in ("/v2/health/ready", "/v2/models/mlrails/ready"):
        doc = _oip_error(s.client.get(path), 503, "not-ready")
        assert doc["ready"] is False and doc["store"] is False
    assert s.client.get("/v2/health/live").status_code == 200


def test_model_metadata_derives_from_the_contract(served: Served, fitted: Fitted) -> None:
    r = served.client.get("/v2/models/mlrails")
    assert r.status_code == 200
    meta = r.json()
    rails = fitted.rails
    assert meta["name"] == "mlrails" and meta["versions"] == [rails.artifact_hash]
    assert meta["platform"] == "mlrails_scikit_learn"
    assert [t["name"] for t in meta["inputs"]] == rails.contract.columns
    assert {(t["datatype"], tuple(t["shape"])) for t in meta["inputs"]} == {("FP64", (-1,))}
    assert meta["outputs"] == [
        {"name": "predict", "datatype": "INT64", "shape": [-1], "parameters": {"mlrails_fill": -1}},
        {
            "name": "probabilities",
            "datatype": "FP64",
            "shape": [-1, 2],
            "parameters": {"mlrails_fill": 0.0},
        },
        {"name": "status", "datatype": "INT32", "shape": [-1]},
        {"name": "problem", "datatype": "BYTES", "shape": [-1]},
        {"name": "answered", "datatype": "BOOL", "shape": [-1]},
    ]
    assert json.loads(meta["parameters"]["mlrails_classes"]) == [0, 1]
    assert all(isinstance(v, (str, int, float, bool)) for v in meta["parameters"].values())
    versioned = served.client.get(f"/v2/models/mlrails/versions/{rails.artifact_hash}")
    assert versioned.json() == meta


# -- inference ---------------------------------------------------------------------------
def test_single_tensor_batch_gets_predictions_and_verdicts(served: Served, fitted: Fitted) -> None:
    order = [200, 422, 203, 403]
    rows = [fitted.status_rows[s] for s in order]
    r = served.client.post(INFER, json={"id": "req-1", "inputs": [_matrix(fitted, rows)]})
    doc = _inference_response(r)  # a mixed batch is a successful inference, not a problem
    assert doc["model_name"] == "mlrails" and doc["id"] == "req-1"
    assert doc["model_version"] == fitted.rails.artifact_hash
    params = doc["parameters"]
    assert all(isinstance(v, (str, int, float, bool)) for v in params.values())
    assert params["mlrails_status"] == 207
    assert params["mlrails_trace_id"] == r.headers["x-trace-id"]
    assert json.loads(params["mlrails_status_counts"]) == {str(s): 1 for s in order}
    verdicts = _verdicts(doc)
    assert [v["status"] for v in verdicts] == order
    assert verdicts[1]["problem"] == BASE + "out-of-distribution" and verdicts[1]["detail"]
    assert verdicts[0]["problem"] is None
    assert _output(doc, "status")["data"] == order
    assert _output(doc, "problem")["data"] == [v["problem"] or "" for v in verdicts]
    assert _output(doc, "answered")["data"] == [True, False, True, False]
    predict = _output(doc, "predict")
    assert predict["shape"] == [4] and predict["datatype"] == "INT64"
    assert predict["data"][0] in (0, 1) and predict["data"][2] in (0, 1)
    assert predict["data"][1] == -1 and predict["data"][3] == -1  # refused rows: the fill
    proba = _output(doc, "probabilities")
    assert proba["shape"] == [4, 2] and len(proba["data"]) == 8
    assert abs(sum(proba["data"][:2]) - 1) < 1e-9
    assert proba["data"][2:4] == [0.0, 0.0]
    # the same rows through /v1/predict: the same verdicts and predictions
    v1 = served.post({"instances": rows}).json()["verdicts"]
    assert [v["status"] for v in v1] == order
    answered = _output(doc, "answered")["data"]
    assert [v["prediction"] for v in v1] == [
        p if a else None for p, a in zip(predict["data"], answered, strict=True)
    ]


def test_tensor_per_column_equals_single_tensor(served: Served, fitted: Fitted) -> None:
    ok, low = fitted.status_rows[200], fitted.status_rows[203]
    for rows, status in (([ok, ok], 200), ([ok, low, ok], 207)):  # mlrails_status
        answers = [
            served.client.post(INFER, json={"inputs": inputs})
            for inputs in (
                [_matrix(fitted, rows, "FP64")],
                _columns(fitted, rows),
                _columns(fitted, rows, shape1=True),
            )
        ]
        bodies = [_inference_response(r) for r in answers]
        for r, body in zip(answers, bodies, strict=True):
            assert body["id"] == r.headers["x-trace-id"]  # no id sent: the trace id
            assert body["parameters"]["mlrails_status"] == status
        for name in ("predict", "probabilities", "status", "problem", "answered"):
            assert _output(bodies[0], name) == _output(bodies[1], name)
            assert _output(bodies[0], name) == _output(bodies[2], name)


@pytest.mark.parametrize(
    ("status", "slug"),
    [(203, "low-confidence"), (403, "adversarial-input"), (422, "out-of-distribution")],
)
def test_single_row_gets_its_verdicts_code(
    served: Served, fitted: Fitted, status: int, slug: str
) -> None:
    r = served.client.post(INFER, json={"inputs": [_matrix(fitted, [fitted.status_rows[status]])]})
    doc = _oip_error(r, status, slug)
    assert doc["parameters"]["mlrails_status"] == status
    assert [v["status"] for v in _verdicts(doc)] == [status]
    assert {s["name"] for s in doc["safeguards"]} >= {"validation"}
    assert _output(doc, "status")["data"] == [status]
    if status == 203:
        assert _output(doc, "predict")["data"][0] in (0, 1)


def test_single_ok_row_is_200(served: Served, fitted: Fitted) -> None:
    r = served.client.post(INFER, json={"inputs": _columns(fitted, [fitted.status_rows[200]])})
    assert r.status_code == 200
    body = r.json()
    assert body["parameters"]["mlrails_status"] == 200
    assert body["outputs"][0]["name"] == "predict" and body["outputs"][0]["data"][0] in (0, 1)


@given(st.lists(st.sampled_from([200, 203, 403, 422]) | st.integers(0, 29), min_size=2, max_size=6))
@settings(max_examples=25, deadline=None, database=None)
def test_a_batch_is_an_inference_response_with_per_row_status(
    served: Served, fitted: Fitted, picks: list[int]
) -> None:
    """Property-based: any batch of two or more rows (any mix of verdicts, nulls included)
    is HTTP 200 with valid tensors (no null element); ``status``, ``problem`` and
    ``answered`` give each row's verdict, which is the in-process guard's."""
    cols = fitted.rails.contract.columns
    rows: list[dict[str, Any]] = []
    for pick in picks:
        if pick < 100:  # a clean row with one column null: that row's own 400
            row = dict(fitted.status_rows[200])
            row[cols[pick]] = None
        else:
            row = dict(fitted.status_rows[pick])
        rows.append(row)
    body = {"inputs": _columns(fitted, rows)}
    doc = _inference_response(served.client.post(INFER, json=body))
    want = fitted.rails.check(pd.DataFrame(rows, columns=cols, dtype=float))
    statuses = [v.status for v in want]
    assert _output(doc, "status")["data"] == statuses
    assert _output(doc, "problem")["data"] == [v.problem or "" for v in want]
    answered = [v.prediction is not None for v in want]
    assert _output(doc, "answered")["data"] == answered
    predict = _output(doc, "predict")["data"]
    assert predict == [
        jsonable(v.prediction) if a else -1 for v, a in zip(want, answered, strict=True)
    ]
    proba = np.asarray(_output(doc, "probabilities")["data"]).reshape(len(rows), 2)
    assert np.all(proba[~np.asarray(answered)] == 0.0)
    summary = 200 if all(s == 200 for s in statuses) else 207
    assert doc["parameters"]["mlrails_status"] == summary
    assert [v["status"] for v in _verdicts(doc)] == statuses


@given(
    st.lists(st.integers(*INT_RANGES["INT64"]), min_size=2, max_size=20, unique=True)
    | st.lists(st.integers(-3, 3), min_size=2, max_size=7, unique=True)
    | st.just([INT_RANGES["INT64"][0], -1, INT_RANGES["INT64"][1]])
)
@settings(max_examples=60, deadline=None, database=None)
def test_the_int64_fill_is_never_a_label(labels: list[int]) -> None:
    """Property-based: for any integer labels the fill of ``predict`` is an INT64 value that
    is no label (``-1`` whenever ``-1`` is not one)."""
    fill = predict_fill("INT64", labels)
    lo, hi = INT_RANGES["INT64"]
    assert type(fill) is int and lo <= fill <= hi and fill not in labels
    assert fill == -1 or -1 in labels


# -- nullable columns ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def nullable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Rails, httpx.Client]]:
    """Rails whose ``age`` (numeric) and ``zone`` (categorical) columns had missing values in
    training, served without auth."""
    rng = np.random.default_rng(0)
    n = 800
    age = rng.normal(40, 10, n)
    age[rng.random(n) < 0.1] = np.nan
    zone = rng.choice(["north", "south", "east"], n).astype(object)
    zone[rng.random(n) < 0.1] = None
    income = rng.normal(50, 15, n)
    signal = np.nan_to_num(age, nan=40) + income / 2 + (zone == "north") * 10
    y = (signal + rng.normal(0, 5, n) > 70).astype(int)
    X = pd.DataFrame({"age": age, "zone": zone, "income": income})
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "income"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["zone"]),  # missing: a category
        ]
    )
    model = make_pipeline(prep, LogisticRegression()).fit(X[:500], y[:500])
    rails = mlrails.fit(model, X[:500], y[:500], X[500:], y[500:])
    store = open_store(tmp_path_factory.mktemp("nullable") / "decisions.db")
    cfg = ServeSettings(port=0, auth=False, rate_limit_rps=None)
    server = ServerThread(create_app(rails, store, cfg)).start()
    client = httpx.Client(base_url=server.url, timeout=30.0)
    yield rails, client
    client.close()
    server.stop()
    store.close()


def test_null_is_a_missing_value(nullable: tuple[Rails, httpx.Client]) -> None:
    """A null element is a missing value: fine in a nullable column (FP64 and BYTES), the
    row's own ``missing_value`` 400 in a column that never missed in training."""
    rails, client = nullable
    nulls = {f.name: f.nullable for f in rails.contract.fields}
    assert nulls == {"age": True, "zone": True, "income": False}
    age = [41.0, None, 38.0, 45.0, 39.0]
    zone = ["north", "south", None, "east", "south"]
    income = [52.0, 48.0, 55.0, None, 50.0]
    body = {
        "inputs": [
            {"name": "age", "shape": [5], "datatype": "FP64", "data": age},
            {"name": "zone", "shape": [5], "datatype": "BYTES", "data": zone},
            {"name": "income", "shape": [5, 1], "datatype": "FP32", "data": income},
        ]
    }
    doc = _inference_response(client.post(INFER, json=body))
    frame = pd.DataFrame({"age": age, "zone": zone, "income": income})
    frame[["age", "income"]] = frame[["age", "income"]].astype(float)
    want = rails.check(frame)
    statuses = _output(doc, "status")["data"]
    assert statuses == [v.status for v in want]
    assert statuses[3] == 400 and 400 not in statuses[:3] + statuses[4:]
    verdicts = _verdicts(doc)
    assert verdicts[3]["problem"] == BASE + "invalid-input" and "income" in verdicts[3]["detail"]
    for one, status in ((1, statuses[1]), (2, statuses[2])):  # one row alone: its own code
        single = {"inputs": [{**t, "shape": [1], "data": [t["data"][one]]} for t in body["inputs"]]}
        r = client.post(INFER, json=single)
        assert r.status_code == status, r.text


def test_contract_violation_is_the_guards_400(served: Served, fitted: Fitted) -> None:
    row = dict(fitted.status_rows[200])
    row["mean radius"] = 1e9
    r = served.client.post(INFER, json={"inputs": [_matrix(fitted, [row], "FP64")]})
    doc = _oip_error(r, 400, "invalid-input")
    assert any(e["field"] == "mean radius" for e in doc["errors"])


def test_requested_outputs_and_explain(make_server: ServerFactory, fitted: Fitted) -> None:
    s = make_server()
    body = {
        "inputs": [_matrix(fitted, [fitted.status_rows[200]] * 2)],
        "outputs": [{"name": "predict"}],
        "parameters": {"explain": True},
    }
    r = s.client.post(INFER, json=body)
    assert r.status_code == 200
    assert [o["name"] for o in r.json()["outputs"]] == ["predict"]
    logged = s.store.decisions()
    assert len(logged) == 2 and all(d.output["explanation"] is not None for d in logged)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"inputs": []}, "non-empty array"),
        ({"input": []}, "unknown field"),
        ([1, 2], "JSON object"),
        (
            {"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP32", "data": [1.0] * 29}]},
            "holds 30 element(s), 'data' has 29",
        ),
        (
            {"inputs": [{"name": "x", "shape": [1, 29], "datatype": "FP32", "data": [1.0] * 29}]},
            "expected [n, 30]",
        ),
        (
            {"inputs": [{"name": "x", "shape": [30], "datatype": "FP32", "data": [1.0] * 30}]},
            "expected [n, 30]",
        ),
        (
            {
                "inputs": [
                    {"name": "x", "shape": [1, 30], "datatype": "FP32", "data": ["a"] + [1.0] * 29}
                ]
            },
            "is FP32 but element 0 is a string",
        ),
        (
            {"inputs": [{"name": "x", "shape": [1, 30], "datatype": "FLOAT", "data": [1.0] * 30}]},
            "unknown datatype 'FLOAT'",
        ),
        (
            {"inputs": [{"name": "x", "shape": [1, 30], "datatype": "INT8", "data": [300] * 30}]},
            "outside [-128, 127]",
        ),
        (
            {"inputs": [{"name": "x", "shape": [1, 30], "datatype": "INT32", "data": [1.5] * 30}]},
            "not an integer",
        ),
        (
            {"inputs": [{"name": "x", "shape": [1, 30], "datatype": "BYTES", "data": ["1"] * 30}]},
            "must be numeric",
        ),
        (
            {
                "inputs": [
                    {"name": "mean radius", "shape": [1], "datatype": "BYTES", "data": ["14.1"]}
                ]
            },
            "'mean radius' is numeric: send FP64",
        ),
        (
            {
                "inputs": [
                    {"name": "mean radius", "shape": [1, 2], "datatype": "FP64", "data": [1.0, 2.0]}
                ]
            },
            "a column is [n] or [n, 1]",
        ),
        (
            {
                "inputs": [
                    {"name": "mean radius", "shape": [2], "datatype": "FP64", "data": [1, 2]},
                    {"name": "mean texture", "shape": [1], "datatype": "FP64", "data": [1]},
                ]
            },
            "different lengths [1, 2]",
        ),
        (
            {
                "inputs": [
                    {"name": "mean radius", "shape": [1], "datatype": "FP64", "data": [1]},
                    {"name": "radius", "shape": [1], "datatype": "FP64", "data": [1]},
                ]
            },
            "unknown input(s) ['radius']",
        ),
        (
            {
                "inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP32", "data": [1.0] * 30}],
                "outputs": [{"name": "label"}],
            },
            "unknown output 'label'",
        ),
        (
            {
                "inputs": [{"name": "x", "shape": [1, 30], "datatype": "FP32", "data": [1.0] * 30}],
                "parameters": {"explain": "yes"},
            },
            "'explain' must be true or false",
        ),
        (
            {"inputs": [{"name": "x", "shape": [-1, 30], "datatype": "FP32", "data": []}]},
            "non-negative integers",
        ),
    ],
)
def test_malformed_tensors_are_400_with_a_clear_message(
    served: Served, body: Any, message: str
) -> None:
    r = served.client.post(INFER, json=body)
    doc = _oip_error(r, 400, "malformed-request")
    assert message in doc["error"], doc["error"]


def test_not_json_and_too_large_answer_oip_errors(served: Served) -> None:
    r = served.client.post(INFER, content=b"{nope", headers={"content-type": "application/json"})
    _oip_error(r, 400, "malformed-request")
    rows = served.settings.max_batch_rows + 1
    tensor = {"name": "x", "shape": [rows, 30], "datatype": "FP32", "data": [0.0] * (rows * 30)}
    _oip_error(served.client.post(INFER, json={"inputs": [tensor]}), 413, "payload-too-large")
    r = served.client.post(INFER, content=b"{}", headers={"inference-header-content-length": "2"})
    assert "binary" in _oip_error(r, 400, "malformed-request")["error"]


def test_keys_are_required(served: Served, fitted: Fitted) -> None:
    body = {"inputs": [_matrix(fitted, [fitted.status_rows[200]])]}
    for method, path in (("POST", INFER), ("GET", "/v2/models/mlrails")):
        r = httpx.request(method, served.url + path, json=body)
        _oip_error(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_unknown_model_or_version_is_404(served: Served, fitted: Fitted) -> None:
    body = {"inputs": [_matrix(fitted, [fitted.status_rows[200]])]}
    for r in (
        served.client.post("/v2/models/other/infer", json=body),
        served.client.get("/v2/models/other"),
        served.client.get("/v2/models/other/ready"),
        served.client.post("/v2/models/mlrails/versions/1/infer", json=body),
        served.client.get("/v2/models/mlrails/versions/1"),
        served.client.get("/v2/nothing"),
    ):
        _oip_error(r, 404, "not-found")
    _oip_error(served.client.get(INFER), 405, "method-not-allowed")
    v = fitted.rails.artifact_hash
    assert served.client.post(f"/v2/models/mlrails/versions/{v}/infer", json=body).is_success


def test_model_name_is_configurable(make_server: ServerFactory, fitted: Fitted) -> None:
    s = make_server(model_name="breast-cancer")
    body = {"inputs": [_matrix(fitted, [fitted.status_rows[200]])]}
    r = s.client.post("/v2/models/breast-cancer/infer", json=body)
    assert r.status_code == 200 and r.json()["model_name"] == "breast-cancer"
    _oip_error(s.client.post(INFER, json=body), 404, "not-found")
    assert s.client.get("/v2/models/breast-cancer").json()["name"] == "breast-cancer"


def test_every_decision_is_logged(make_server: ServerFactory, fitted: Fitted) -> None:
    s = make_server(max_batch_rows=10)
    rows = fitted.status_rows
    sent: dict[str, list[int | None]] = {}

    def send(body: Any, expect: list[int | None]) -> None:
        r = s.client.post(INFER, json=body)
        sent[r.headers["x-trace-id"]] = expect
        assert s.store.count_decisions() == sum(len(e) for e in sent.values())

    send({"inputs": [_matrix(fitted, [rows[200]])]}, [200])
    send({"inputs": _columns(fitted, [rows[200], rows[422], rows[203]])}, [200, 422, 203])
    send({"inputs": [_matrix(fitted, [rows[403], rows[200]])]}, [403, 200])
    send({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [1, 2]}]}, [400])
    send({"inputs": [_matrix(fitted, [rows[200]] * 11)]}, [413])
    logged = s.store.decisions()
    assert len(logged) == 8
    for trace, expect in sent.items():
        mine = sorted((d for d in logged if d.trace_id == trace), key=lambda d: d.row_index or 0)
        assert [d.status for d in mine] == expect
        assert all(d.key_id == s.key_id for d in mine)
    by_status = {d.status: d for d in logged}
    assert by_status[422].input == rows[422]  # the row as sent, keyed by column
    assert by_status[400].row_index is None and by_status[400].output["error"]


def test_openapi_documents_the_v2_endpoints(served: Served) -> None:
    doc = httpx.get(served.url + "/openapi.json").json()
    paths = doc["paths"]
    infer = paths["/v2/models/{model_name}/infer"]["post"]
    codes = {200, 203, 400, 401, 403, 404, 413, 415, 422, 429, 500, 503, 504}  # a batch is 200
    assert {int(c) for c in infer["responses"]} == codes
    ok = infer["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ok.endswith("/OipInferenceResponse")
    assert "OipInferenceRequest" in json.dumps(infer["requestBody"])
    assert {"200", "401", "404"} <= set(paths["/v2/models/{model_name}"]["get"]["responses"])
    assert {"200", "404", "503"} <= set(paths["/v2/models/{model_name}/ready"]["get"]["responses"])
    assert {"200", "503"} <= set(paths["/v2/health/ready"]["get"]["responses"])
    for p in ("/v2", "/v2/health/live", "/v2/models/{model_name}/versions/{model_version}/infer"):
        assert p in paths
    schemas = doc["components"]["schemas"]
    for name in ("OipInferenceRequest", "OipInferenceResponse", "OipModelMetadata"):
        assert name in schemas
    assert "HTTPValidationError" not in schemas


def test_random_inference_bodies_never_get_500(served: Served, fitted: Fitted) -> None:
    """Property-based: random tensors (real column names, any datatype, shape, data)."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    cols = fitted.rails.contract.columns
    scalar = (
        st.none()
        | st.booleans()
        | st.integers(-(2**70), 2**70)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=5)
    )
    tensor = st.fixed_dictionaries(
        {
            "name": st.sampled_from([*cols, "input-0"]) | st.text(max_size=5),
            "shape": st.lists(st.integers(-1, 40), min_size=0, max_size=3),
            "datatype": st.sampled_from(["FP32", "FP64", "INT8", "UINT64", "BOOL", "BYTES", "X"]),
            "data": st.lists(scalar | st.lists(scalar, max_size=31), max_size=40),
        }
    )
    body = st.fixed_dictionaries(
        {"inputs": st.lists(tensor, max_size=3)},
        optional={"id": scalar, "parameters": st.dictionaries(st.text(max_size=8), scalar)},
    )

    @hypothesis.settings(max_examples=80, deadline=None, database=None)
    @hypothesis.given(body)
    def check(b: dict[str, Any]) -> None:
        r = served.client.post(INFER, json=b)
        assert r.status_code < 500, r.text
        if r.status_code != 200:
            assert isinstance(r.json()["error"], str)

    check()
