"""A JSON boolean is not a number, and a number is not a boolean: ``wrong_type`` everywhere.

Python's ``bool`` is an ``int``, so ``"mean radius": true`` used to pass the guard as ``1.0``
although the published contract says ``number``. Over a real uvicorn server: a boolean put
in a random numeric field of an otherwise valid record is that row's own 400 listing exactly
``(field, wrong_type)``, in every body shape of ``/v1/predict`` (one record, a row as an
array, a batch of records, a batch of columns), never a 200; through the Open Inference
Protocol a boolean element in a numeric tensor, a ``BOOL`` tensor for a numeric column and
a ``BOOL`` matrix for numeric columns are 400s listing ``wrong_type`` for those fields.
The reverse too: on rails trained with a boolean column, ``true``/``false`` pass and a
number (``0`` and ``1`` included) in that field is ``wrong_type``; the published contract
says so (``/v1/contract`` is the JSON Schema the guard enforces).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from servekit import Fitted, Served
from sklearn.linear_model import LogisticRegression

import mlrails
from mlrails.contract.validate import WRONG_TYPE, validate_fast
from mlrails.guard.rails import Rails
from mlrails.serve import ServerThread, ServeSettings, create_app
from mlrails.serve.payload import guard_input, parse_payload
from mlrails.store import open_store

BASE = "https://mlrails.dev/problems/"
INFER = "/v2/models/mlrails/infer"
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _faults(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((e["field"], e["code"]) for e in doc.get("errors") or [])


def _invalid(r: httpx.Response) -> dict[str, Any]:
    """A single row's 400: the guard's invalid-input problem document."""
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    doc: dict[str, Any] = r.json()
    assert doc["type"] == BASE + "invalid-input", doc
    return doc


def _malformed_tensor(r: httpx.Response) -> dict[str, Any]:
    """An OIP tensor whose datatype or elements do not fit: a 400 with the OIP ``error``."""
    assert r.status_code == 400, r.text
    doc: dict[str, Any] = r.json()
    assert doc["type"] == BASE + "malformed-request", doc
    assert isinstance(doc["error"], str)
    return doc


@st.composite
def boolean_rows(draw: st.DrawFn, fitted: Fitted) -> tuple[list[dict[str, Any]], int, str]:
    """Valid records, one of which holds a JSON boolean in a random numeric field."""
    ok = fitted.status_rows[200]
    n = draw(st.integers(1, 4), label="rows")
    bad = draw(st.integers(0, n - 1), label="bad row")
    field = draw(st.sampled_from(fitted.rails.contract.columns), label="field")
    rows = [dict(ok) for _ in range(n)]
    rows[bad][field] = draw(st.booleans(), label="value")
    return rows, bad, field


# -- /v1/predict ---------------------------------------------------------------------------
@SETTINGS
@given(data=st.data())
def test_a_boolean_in_a_numeric_field_is_wrong_type(
    served: Served, fitted: Fitted, data: st.DataObject
) -> None:
    rows, bad, field = data.draw(boolean_rows(fitted))
    cols = fitted.rails.contract.columns
    shape = data.draw(st.sampled_from(["record", "array", "records", "columns"]), label="shape")
    if shape == "record":
        body: dict[str, Any] = {"instance": rows[bad]}
    elif shape == "array":
        body = {"instance": [rows[bad][c] for c in cols]}
    elif shape == "records":
        body = {"instances": rows}
    else:
        body = {"instances": {c: [r[c] for r in rows] for c in cols}}
    r = served.post(body)
    if "instance" in body:
        assert _faults(_invalid(r)) == [(field, WRONG_TYPE)]
        return
    assert r.status_code == 207, r.text  # a batch with a refused row, even of one row
    verdicts = r.json()["verdicts"]
    assert [v["status"] for v in verdicts] == [400 if i == bad else 200 for i in range(len(rows))]
    assert _faults(verdicts[bad]) == [(field, WRONG_TYPE)]
    wrong = next(e for e in verdicts[bad]["errors"] if e["field"] == field)
    assert wrong["value"] is rows[bad][field] and wrong["expected"] == "a number"
    # the library answers the same records the same way
    local = fitted.rails.check(rows)
    assert [v.status for v in local] == [v["status"] for v in verdicts]
    assert [(e.field, e.code) for e in local[bad].errors] == [(field, WRONG_TYPE)]


def test_exact_numbers_keep_the_fast_path_and_booleans_leave_it(fitted: Fitted) -> None:
    contract = fitted.rails.contract
    ok = fitted.status_rows[200]
    exact = guard_input(parse_payload({"instances": [ok, ok]}, contract), contract)
    assert validate_fast(contract, exact) is not None
    flag = {**ok, "mean radius": True}
    assert isinstance(
        guard_input(parse_payload({"instances": [ok, flag]}, contract), contract), list
    )


def test_the_published_contract_refuses_what_the_guard_refuses(
    served: Served, fitted: Fitted
) -> None:
    schema = served.client.get("/v1/contract").json()
    ok = fitted.status_rows[200]
    jsonschema.validate(ok, schema)
    for field in fitted.rails.contract.columns:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**ok, field: True}, schema)
    openapi = served.client.get("/openapi.json").json()
    row = openapi["components"]["schemas"].get("InputRow")
    if row is not None and "properties" in row:  # the full contract may be withheld there
        assert all(p.get("type", "number") == "number" for p in row["properties"].values())


# -- Rails.check with tables ---------------------------------------------------------------
def test_a_bool_column_for_a_numeric_field_is_wrong_type(fitted: Fitted) -> None:
    X = fitted.X.iloc[:3].reset_index(drop=True)
    radius = X["mean radius"].tolist()
    wrong = [("mean radius", WRONG_TYPE)]
    for flags, want in (
        (np.array([True, False, True]), [wrong] * 3),  # a NumPy bool column
        (pd.array([True, None, False], dtype="boolean"), [wrong, [], wrong]),  # nullable
        (np.array([True, radius[1], radius[2]], dtype=object), [wrong, [], []]),  # mixed
    ):
        table = X.copy()
        table["mean radius"] = flags
        verdicts = fitted.rails.check(table)
        faults = [[(e.field, e.code) for e in v.errors] for v in verdicts]
        if isinstance(flags, pd.api.extensions.ExtensionArray):  # None: a missing value
            want[1] = [("mean radius", "missing_value")]
        assert faults == want, flags
    assert all(v.status != 400 for v in fitted.rails.check(X))


# -- the Open Inference Protocol -----------------------------------------------------------
def _column_tensors(cols: list[str], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"name": c, "shape": [len(rows)], "datatype": "FP64", "data": [r[c] for r in rows]}
        for c in cols
    ]


@SETTINGS
@given(data=st.data())
def test_oip_booleans_in_numeric_tensors_are_wrong_type(
    served: Served, fitted: Fitted, data: st.DataObject
) -> None:
    rows, _, field = data.draw(boolean_rows(fitted))
    cols = fitted.rails.contract.columns
    form = data.draw(st.sampled_from(["columns", "matrix", "BOOL column"]), label="form")
    if form == "columns":  # JSON booleans inside an FP64 tensor's data
        inputs = _column_tensors(cols, rows)
    elif form == "matrix":
        matrix = [[r[c] for c in cols] for r in rows]
        datatype = data.draw(st.sampled_from(["FP32", "FP64"]), label="datatype")
        inputs = [
            {"name": "x", "shape": [len(rows), len(cols)], "datatype": datatype, "data": matrix}
        ]
    else:  # a BOOL tensor for a numeric column
        inputs = _column_tensors(cols, [fitted.status_rows[200]] * len(rows))
        inputs[cols.index(field)] |= {"datatype": "BOOL", "data": [True] * len(rows)}
    doc = _malformed_tensor(served.client.post(INFER, json={"inputs": inputs}))
    assert _faults(doc) == [(field, WRONG_TYPE)], doc
    assert repr(field) in doc["error"]


def test_oip_a_bool_matrix_for_numeric_columns_is_wrong_type(
    served: Served, fitted: Fitted
) -> None:
    cols = fitted.rails.contract.columns
    tensor = {"name": "x", "shape": [2, len(cols)], "datatype": "BOOL", "data": [True] * 60}
    doc = _malformed_tensor(served.client.post(INFER, json={"inputs": [tensor]}))
    assert _faults(doc) == sorted((c, WRONG_TYPE) for c in cols)


# -- a boolean column in training ----------------------------------------------------------
@pytest.fixture(scope="module")
def flagged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Rails, httpx.Client]]:
    """Rails trained on a numeric ``income`` and a boolean ``member``, served without auth."""
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"income": rng.normal(50, 15, n), "member": rng.random(n) < 0.4})
    y = ((X["income"] + X["member"] * 20 + rng.normal(0, 5, n)) > 60).astype(int).to_numpy()
    model = LogisticRegression().fit(X[:400], y[:400])
    rails = mlrails.fit(model, X[:400], y[:400], X[400:], y[400:])
    store = open_store(tmp_path_factory.mktemp("flagged") / "decisions.db")
    server = ServerThread(
        create_app(rails, store, ServeSettings(port=0, auth=False, rate_limit_rps=None))
    ).start()
    client = httpx.Client(base_url=server.url, timeout=30.0)
    yield rails, client
    client.close()
    server.stop()
    store.close()


def test_a_boolean_training_column_takes_true_and_false_only(
    flagged: tuple[Rails, httpx.Client],
) -> None:
    rails, client = flagged
    assert {f.name: f.kind for f in rails.contract.fields} == {
        "income": "numeric",
        "member": "boolean",
    }
    schema = client.get("/v1/contract").json()
    assert schema["properties"]["member"]["type"] == "boolean"
    for member in (True, False):
        row = {"income": 50.0, "member": member}
        jsonschema.validate(row, schema)
        assert client.post("/v1/predict", json={"instance": row}).status_code != 400
        tensors = [
            {"name": "income", "shape": [1], "datatype": "FP64", "data": [50.0]},
            {"name": "member", "shape": [1], "datatype": "BOOL", "data": [member]},
        ]
        assert client.post(INFER, json={"inputs": tensors}).status_code != 400
    for wrong in (0, 1, 1.0, 0.0, 2, "true"):
        row = {"income": 50.0, "member": wrong}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(row, schema)
        doc = _invalid(client.post("/v1/predict", json={"instance": row}))
        assert _faults(doc) == [("member", WRONG_TYPE)]
        assert [(e.field, e.code) for e in rails.check([row])[0].errors] == [("member", WRONG_TYPE)]
    doc = _invalid(client.post("/v1/predict", json={"instance": {"income": True, "member": True}}))
    assert _faults(doc) == [("income", WRONG_TYPE)]
    # through OIP: an integer tensor for the boolean column, a BOOL one for the numeric column
    for name, datatype, value in (("member", "INT64", 1), ("income", "BOOL", True)):
        other = "income" if name == "member" else "member"
        tensors = [
            {"name": name, "shape": [1], "datatype": datatype, "data": [value]},
            {
                "name": other,
                "shape": [1],
                "datatype": "FP64" if other == "income" else "BOOL",
                "data": [50.0 if other == "income" else True],
            },
        ]
        doc = _malformed_tensor(client.post(INFER, json={"inputs": tensors}))
        assert _faults(doc) == [(name, WRONG_TYPE)]
    # numeric and boolean columns take no one datatype: no single tensor for all columns
    meta = client.get("/v2/models/mlrails").json()
    assert (
        meta["parameters"]["mlrails_input_forms"] == "one tensor per column, shape [-1] or [-1, 1]"
    )
    assert [t["datatype"] for t in meta["inputs"]] == ["FP64", "BOOL"]
    matrix = {"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [50.0, 1.0]}
    doc = _malformed_tensor(client.post(INFER, json={"inputs": [matrix]}))
    assert "one tensor per column" in doc["error"]
    # the training table itself, bool dtype and all, passes its own contract
    frame = pd.DataFrame({"income": [40.0, 60.0], "member": [True, False]})
    assert all(v.status != 400 for v in rails.check(frame))
    assert [[(e.field, e.code) for e in v.errors] for v in rails.check(frame.astype(float))] == [
        [("member", WRONG_TYPE)]
    ] * 2
