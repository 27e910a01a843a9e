"""The batch-level shift test in the request path: a batch that shifted in what the model
uses answers 203; a drift the model does not care about is reported, not held against rows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import mlrails


def _income_table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.5, 0.4, size=n)  # dollars
    age = rng.uniform(20, 70, size=n)
    noise = rng.normal(size=n)  # a field the model ignores
    logit = (np.log(income) - 10.5) * 4 + (age - 45) / 15
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"income": income, "age": age, "noise": noise}), y


@pytest.fixture(scope="module")
def rails() -> Any:
    X, y = _income_table(3000, seed=0)
    uses = ColumnTransformer(
        [("log", FunctionTransformer(np.log), ["income"]), ("age", "passthrough", ["age"])]
    )  # the model never looks at "noise"
    model = make_pipeline(uses, LogisticRegression(max_iter=1000)).fit(X, y)
    return mlrails.fit(model, X, y)


def test_a_unit_change_on_a_whole_batch_answers_203(rails: Any) -> None:
    X, _ = _income_table(200, seed=7)
    X["income"] = X["income"] * 0.6  # another currency: every row inside the training range
    verdicts = rails.check(X)
    assert all(v.status != 400 for v in verdicts)  # row by row it is plausible
    answered = [v for v in verdicts if v.prediction is not None]
    assert answered and all(v.status != 200 for v in verdicts)
    sg = verdicts[0].safeguard("batch_shift")
    assert sg is not None and sg.triggered and sg.details["shifted"]
    assert "income" in sg.details["reason"]
    v = next(v for v in verdicts if v.status == 203)
    assert "the batch shifted" in (v.detail or "")


def test_a_clean_batch_is_not_downgraded(rails: Any) -> None:
    downgraded = 0
    for seed in range(10, 20):
        X, _ = _income_table(300, seed=seed)
        sg = rails.check(X)[0].safeguard("batch_shift")
        assert sg is not None
        downgraded += bool(sg.triggered)
    assert downgraded <= 1  # alpha = 1% per batch


def test_a_drift_in_an_unused_field_is_reported_not_held_against_rows(rails: Any) -> None:
    X, _ = _income_table(300, seed=21)
    X["noise"] = X["noise"] + 2.0
    verdicts = rails.check(X)
    sg = verdicts[0].safeguard("batch_shift")
    assert sg is not None and sg.details["drifted"] and not sg.triggered
    assert "noise" in sg.details["reason"]


def test_small_batches_are_not_tested(rails: Any) -> None:
    X, _ = _income_table(50, seed=3)
    X["income"] = X["income"] * 0.6
    assert all(v.safeguard("batch_shift") is None for v in rails.check(X))


def test_warn_mode_reports_and_keeps_the_status(tmp_path: Any, rails: Any) -> None:
    rails.save(tmp_path / "a")
    back = mlrails.load(tmp_path / "a")
    assert back.batch_shift is not None
    X, _ = _income_table(200, seed=7)
    X["income"] = X["income"] * 0.6
    assert [v.status for v in back.check(X)] == [v.status for v in rails.check(X)]
    back.policy = back.policy.model_copy(
        update={"batch_shift": back.policy.batch_shift.model_copy(update={"mode": "warn"})}
    )
    verdicts = back.check(X)
    assert all(v.safeguard("batch_shift").triggered for v in verdicts if v.prediction is not None)
    assert not any("the batch shifted" in (v.detail or "") for v in verdicts)
