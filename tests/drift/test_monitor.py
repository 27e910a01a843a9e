"""The drift reference kept by ``fit`` and the check of logged records against it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.linear_model import Ridge

import mlrails
from mlrails.contract import infer_contract
from mlrails.drift import ReferenceProfile, compare
from mlrails.drift.monitor import (
    CONFIDENCE,
    PREDICTION,
    TrafficReference,
    check_traffic,
    logged_outputs,
)
from mlrails.store import DecisionRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _record(
    row: Any, output: dict[str, Any] | None, *, row_index: int | None = 0, status: int = 200
) -> DecisionRecord:
    return DecisionRecord(
        time=NOW,
        trace_id="t",
        key_id=None,
        artifact_hash="h",
        row_index=row_index,
        status=status,
        problem=None,
        input=row,
        output=output,
        scores=None,
        latency_ms=1.0,
    )


def _json(v: Any) -> Any:
    """A cell as it arrives in a JSON body (numpy scalars as Python values)."""
    return v.item() if hasattr(v, "item") else v


def _mixed(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "k": rng.integers(0, 5, size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
            "flag": rng.random(n) < 0.3,
        }
    )


def test_fit_keeps_training_inputs_and_calibration_answers(cancer: Any, cancer_forest: Any) -> None:
    X_fit, X_cal = cancer.X_train.iloc[:250], cancer.X_train.iloc[250:]
    y_fit, y_cal = cancer.y_train[:250], cancer.y_train[250:]
    rails = mlrails.fit(cancer_forest, X_fit, y_fit, X_cal, y_cal)
    ref = rails.reference
    assert ref is not None and ref.inputs is not None and ref.outputs is not None
    # the inputs are every training row (fit + calibration), exactly
    assert ref.inputs == ReferenceProfile.fit(cancer.X_train)
    # the outputs are the guard's answers on the calibration split, as the log keeps them
    verdicts = rails.check(X_cal)
    pred, conf = ref.outputs.reference(PREDICTION), ref.outputs.reference(CONFIDENCE)
    assert pred.kind == "categorical" and set(pred.categories) <= {"0", "1"}
    ran = [v for v in verdicts if v.confidence is not None]
    assert pred.n == conf.n == len(ran)
    # refused rows keep their confidence but count as a missing prediction
    assert pred.n_missing == sum(v.prediction is None for v in ran)
    assert np.array_equal(conf.values, np.sort([v.confidence.max_probability for v in ran]))


def test_reference_subsample_is_capped_and_seeded() -> None:
    X = _mixed(3000, 0)
    contract = infer_contract(X)
    answers = pd.DataFrame({PREDICTION: ["a"] * 10, CONFIDENCE: np.full(10, 0.9)})
    a = TrafficReference.build(X, contract, answers, task="classification", reference_size=500)
    b = TrafficReference.build(X, contract, answers, task="classification", reference_size=500)
    assert a.inputs is not None and a.inputs == b.inputs
    x = a.inputs.reference("x")
    assert x.n == 500 and set(x.values) <= set(X["x"])
    # categorical and boolean contract fields are compared as categories, integers as numbers
    kinds = {f.name: f.kind for f in a.inputs.fields}
    assert kinds == {"x": "numeric", "k": "numeric", "colour": "categorical", "flag": "categorical"}


def test_logged_outputs_take_the_rows_the_model_answered() -> None:
    records = [
        _record({}, {"prediction": 1, "confidence": {"max_probability": 0.8}}),
        _record({}, {"prediction": "1", "confidence": {"max_probability": 0.6}}),
        _record({}, {"prediction": None, "confidence": None}, status=400),  # never reached it
        _record({}, {"prediction": None, "confidence": {"max_probability": 0.55}}, status=422),
        _record([1, 2], {"type": "about:blank"}, row_index=None, status=400),
        _record({}, {"prediction": 0, "confidence": None}),
    ]
    out = logged_outputs(records, task="classification")
    assert [None if pd.isna(p) else p for p in out[PREDICTION]] == ["1", "1", None, "0"]
    assert out[CONFIDENCE].tolist()[:3] == [0.8, 0.6, 0.55] and np.isnan(out[CONFIDENCE].iloc[3])
    reg = logged_outputs([_record({}, {"prediction": 2.5})], task="regression")
    assert list(reg.columns) == [PREDICTION] and reg[PREDICTION].tolist() == [2.5]


def test_check_equals_scipy_on_the_logged_rows() -> None:
    X = _mixed(2000, 1)
    contract = infer_contract(X)
    rng = np.random.default_rng(2)
    answers = pd.DataFrame(
        {PREDICTION: rng.choice(["a", "b"], size=400), CONFIDENCE: rng.uniform(0.5, 1, size=400)}
    )
    ref = TrafficReference.build(
        X, contract, answers, task="classification", reference_size=100_000
    )
    W = _mixed(300, 3)
    W["x"] = W["x"] + 0.5
    records = [
        _record(
            {k: _json(v) for k, v in r.items()},
            {"prediction": "a", "confidence": {"max_probability": 0.7}},
        )
        for _, r in W.iterrows()
    ]
    check = check_traffic(ref, records, contract, task="classification", since=NOW - timedelta(1))
    assert check.inputs is not None and check.outputs is not None
    assert check.n_rows == check.n_answered == 300
    ks = stats.ks_2samp(X["x"], W["x"])
    assert check.inputs["x"].statistic == pytest.approx(ks.statistic, abs=1e-12)
    assert check.inputs["x"].p_value == pytest.approx(ks.pvalue, rel=1e-9)
    assert "x" in check.alarming and "colour" not in check.alarming
    table = pd.crosstab(
        np.r_[np.zeros(len(X)), np.ones(len(W))], np.r_[X["colour"].to_numpy(), W["colour"]]
    )
    chi2 = stats.chi2_contingency(table, correction=False)
    assert check.inputs["colour"].p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    # every answer "a" at 0.7 while the reference is half "b": both outputs alarm
    assert set(check.outputs.alarming) == {PREDICTION, CONFIDENCE}


def test_rows_sent_as_lists_are_read_in_contract_order_and_empty_fields_are_noted() -> None:
    X = _mixed(500, 4)[["x", "k"]]
    contract = infer_contract(X)
    answers = pd.DataFrame({PREDICTION: np.ones(50)})
    ref = TrafficReference.build(X, contract, answers, task="regression", reference_size=10_000)
    W = _mixed(200, 5)
    as_lists = [
        _record([float(a), int(b)], {"prediction": 1.0})
        for a, b in zip(W["x"], W["k"], strict=True)
    ]
    check = check_traffic(ref, as_lists, contract, task="regression", since=NOW)
    assert check.inputs is not None and check.n_rows == 200
    direct = compare(ref.inputs, W[["x", "k"]])  # type: ignore[arg-type]
    assert check.inputs["x"].statistic == direct["x"].statistic
    missing_k = [_record({"x": 0.1}, {"prediction": 1.0}) for _ in range(30)]
    check = check_traffic(ref, missing_k, contract, task="regression", since=NOW)
    assert check.inputs is not None and [f.field for f in check.inputs.fields] == ["x"]
    assert any("'k'" in n for n in check.notes)
    empty = check_traffic(ref, [], contract, task="regression", since=NOW)
    assert empty.inputs is None and empty.outputs is None and not empty.alarm
    assert "no row was logged in the window" in empty.notes


def test_a_regressor_keeps_numeric_predictions(cancer: Any) -> None:
    y = cancer.X_train["mean area"].to_numpy()
    X = cancer.X_train.drop(columns=["mean area"])
    rails = mlrails.fit(Ridge().fit(X, y), X, y)
    assert rails.reference is not None and rails.reference.outputs is not None
    assert [f.name for f in rails.reference.outputs.fields] == [PREDICTION]
    assert rails.reference.outputs.fields[0].kind == "numeric"


def test_without_confidence_the_reference_keeps_the_prediction(cancer: Any) -> None:
    """Reliability off: verdicts carry no confidence, so neither does the reference."""
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(n_estimators=20, random_state=0)
    model.fit(cancer.X_train, cancer.y_train)
    rails = mlrails.fit(
        model, cancer.X_train, cancer.y_train, policy={"reliability": {"mode": "off"}}
    )
    assert rails.reference is not None and rails.reference.outputs is not None
    assert [f.name for f in rails.reference.outputs.fields] == [PREDICTION]


def test_batches_give_the_same_check_as_the_whole_window() -> None:
    """The service reads the log in chunks: the result must not depend on the chunking, and
    records at or after ``until`` are left out."""
    from mlrails.drift.monitor import check_traffic_batches

    X = _mixed(1500, 6)
    contract = infer_contract(X)
    rng = np.random.default_rng(7)
    answers = pd.DataFrame(
        {PREDICTION: rng.choice(["a", "b"], size=300), CONFIDENCE: rng.uniform(0.5, 1, 300)}
    )
    ref = TrafficReference.build(X, contract, answers, task="classification", reference_size=10**5)
    W = _mixed(250, 8)
    W["x"] = W["x"] * 1.3
    out = [
        {"prediction": p, "confidence": {"max_probability": c}}
        for p, c in zip(rng.choice(["a", "b"], 250), rng.uniform(0.5, 1, 250), strict=True)
    ]
    records = [
        _record({k: _json(v) for k, v in r.items()}, out[i])
        for i, (_, r) in enumerate(W.iterrows())
    ]
    whole = check_traffic(ref, records, contract, task="classification", since=NOW)
    chunked = check_traffic_batches(
        ref,
        [records[:1], records[1:100], [], records[100:]],
        contract,
        task="classification",
        since=NOW,
    )
    assert whole.inputs is not None and chunked.inputs is not None
    assert whole.outputs is not None and chunked.outputs is not None
    assert chunked.inputs.fields == whole.inputs.fields
    assert chunked.outputs.fields == whole.outputs.fields
    assert (chunked.n_records, chunked.n_rows, chunked.n_answered) == (250, 250, 250)
    late = [replace(r, time=NOW + timedelta(hours=1)) for r in records[:50]]
    bounded = check_traffic_batches(
        ref,
        [records, late],
        contract,
        task="classification",
        since=NOW,
        until=NOW + timedelta(minutes=1),
    )
    assert bounded.n_records == 250 and bounded.inputs.fields == whole.inputs.fields  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def clean_window(cancer: Any, cancer_rails: Any) -> list[DecisionRecord]:
    """The clean test rows as the service logs them (the guard's real verdicts)."""
    rows = [{k: _json(v) for k, v in r.items()} for _, r in cancer.X_test.iterrows()]
    verdicts = cancer_rails.check(cancer.X_test)
    return [
        replace(_record(row, v.to_dict(), status=v.status), problem=v.problem)
        for row, v in zip(rows, verdicts, strict=True)
    ]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    refused=st.lists(
        st.tuples(
            st.integers(0, 29),  # which field is absurd
            st.sampled_from([3.9e6, -3.9e6, 1e12, 1e300]),
            st.integers(0, 170),  # where in the window it arrives
        ),
        min_size=1,
        max_size=5,
    )
)
def test_rows_refused_by_validation_stay_out_of_the_input_statistics(
    cancer: Any, cancer_rails: Any, clean_window: list[DecisionRecord], refused: list[Any]
) -> None:
    """Clean rows plus rows the guard refused with 400 (one absurd value each): exactly the
    input statistics of the clean rows alone; the refusals are counted, as a rate."""
    from mlrails.drift.monitor import check_traffic_batches

    clean_only = [r for r in clean_window if r.status != 400]
    base = check_traffic(
        cancer_rails.reference, clean_only, cancer_rails.contract, task="classification", since=NOW
    )
    window = list(clean_only)
    columns = list(cancer.X_test.columns)
    for field, value, at in refused:
        row = {k: _json(v) for k, v in cancer.X_test.iloc[at % 10].items()}
        row[columns[field]] = value
        (v,) = cancer_rails.check(pd.DataFrame([row]))
        assert v.status == 400  # the guard refused it: invalid input
        window.insert(
            at % (len(window) + 1),
            replace(_record(row, v.to_dict(), status=400), problem=v.problem),
        )
    got = check_traffic_batches(
        cancer_rails.reference,
        [window[:40], window[40:]],
        cancer_rails.contract,
        task="classification",
        since=NOW,
    )
    assert base.inputs is not None and got.inputs is not None
    assert got.inputs.fields == base.inputs.fields
    assert got.outputs is not None and base.outputs is not None
    assert got.outputs.fields == base.outputs.fields
    assert got.n_rows == base.n_rows == len(clean_only)
    assert got.n_refused == len(refused) and base.n_refused == 0
    assert got.refusal_rate == pytest.approx(len(refused) / (len(clean_only) + len(refused)))
    doc = got.to_dict()
    assert doc["n_refused"] == len(refused) and doc["refusal_rate"] == got.refusal_rate


@pytest.mark.parametrize("labels", ["integers", "strings"])
def test_a_cross_fitted_reference_does_not_alarm_on_held_out_traffic(labels: str) -> None:
    """Fitted without calibration data, the reference holds the guard's answers with the
    model's out-of-fold outputs: a random forest is near-certain on its own training rows,
    and a reference made of those answers alarmed on the confidence of every new window."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    X_all, y_all = make_classification(
        n_samples=3000, n_features=6, n_informative=4, flip_y=0.1, random_state=3
    )
    X = pd.DataFrame(X_all, columns=[f"x{j}" for j in range(6)])
    y = y_all if labels == "integers" else np.array(["no", "yes"])[y_all]
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(X[:2000], y[:2000])
    policy = {"batch_shift": {"mode": "off"}}
    rails = mlrails.fit(model, X[:2000], y[:2000], policy=policy)
    assert rails.reference is not None and rails.reference.outputs is not None
    held = X[2000:]
    rows = [{k: _json(v) for k, v in r.items()} for _, r in held.iterrows()]
    window = [
        _record(row, v.to_dict(), status=v.status)
        for row, v in zip(rows, rails.check(held), strict=True)
    ]
    check = check_traffic(rails.reference, window, rails.contract, task="classification", since=NOW)
    assert check.outputs is not None
    assert CONFIDENCE not in check.outputs.alarming and PREDICTION not in check.outputs.alarming
