"""Reliability outcomes: an empty conformal set is never a 200; messages show the digits
that tell a score from its threshold."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlrails
from mlrails.guard.words import distinct

LOADERS = {
    "digits": load_digits,
    "cancer": load_breast_cancer,
    "iris": load_iris,
    "wine": load_wine,
}
MODELS = {
    "logistic": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    "forest": lambda: RandomForestClassifier(n_estimators=30, random_state=0),
    "knn": lambda: KNeighborsClassifier(n_neighbors=7),
    "bayes": lambda: GaussianNB(),
}
FAST = {"ood": {"mode": "off"}, "adversarial": {"mode": "off"}}


def _splits(name: str, seed: int) -> tuple[Any, ...]:
    X, y = LOADERS[name](return_X_y=True)
    X_tr, X_te, y_tr, _y_te = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    X_fit, X_cal, y_fit, y_cal = train_test_split(
        X_tr, y_tr, test_size=0.4, random_state=seed, stratify=y_tr
    )
    return X_fit, X_cal, X_te, y_fit, y_cal


def _assert_empty_sets_not_200(verdicts: list[Any], coverage: float) -> int:
    empty = [v for v in verdicts if v.prediction_set == []]
    for v in empty:
        assert v.status != 200, v.to_dict()
        if v.status == 203:
            assert f"empty at {coverage * 100:.4g}% coverage" in (v.detail or "")
            assert v.prediction is not None  # 203 keeps the answer
            sg = v.safeguard("conformal_set")
            assert sg is not None and sg.triggered and sg.details["set_size"] == 0
    for v in verdicts:  # a non-empty set never fires the rule
        sg = v.safeguard("conformal_set")
        if v.prediction_set:
            assert sg is not None and not sg.triggered
    return len(empty)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.sampled_from(sorted(LOADERS)),
    model=st.sampled_from(sorted(MODELS)),
    coverage=st.floats(0.7, 0.97),
    seed=st.integers(0, 3),
)
def test_every_empty_prediction_set_is_not_200(
    data: str, model: str, coverage: float, seed: int
) -> None:
    X_fit, X_cal, X_te, y_fit, y_cal = _splits(data, seed)
    clf = MODELS[model]().fit(X_fit, y_fit)
    policy = {**FAST, "reliability": {"coverage": coverage}, "drift": {"reference": False}}
    rails = mlrails.fit(clf, X_fit, y_fit, X_cal, y_cal, policy=policy)
    _assert_empty_sets_not_200(rails.check(X_te), coverage)


def test_digits_rows_with_empty_sets_are_203_not_200() -> None:
    """The case of the issue: digits, default policy; before the fix these rows were 200."""
    X_fit, X_cal, X_te, y_fit, y_cal = _splits("digits", 0)
    clf = LogisticRegression(max_iter=3000).fit(X_fit, y_fit)
    rails = mlrails.fit(clf, X_fit, y_fit, X_cal, y_cal)
    verdicts = rails.check(X_te)
    assert _assert_empty_sets_not_200(verdicts, 0.9) >= 10  # the case really occurs
    assert any(v.status == 203 and v.prediction_set == [] for v in verdicts)


def test_reliability_off_computes_no_sets_and_no_rule() -> None:
    X_fit, X_cal, X_te, y_fit, y_cal = _splits("iris", 0)
    clf = MODELS["logistic"]().fit(X_fit, y_fit)
    policy = {**FAST, "reliability": {"mode": "off"}}
    rails = mlrails.fit(clf, X_fit, y_fit, X_cal, y_cal, policy=policy)
    verdicts = rails.check(X_te)
    assert all(v.prediction_set is None and v.safeguard("conformal_set") is None for v in verdicts)


# -- numbers in messages ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("x", "other", "expected"),
    [
        (0.80081234, 0.80079999, "0.80081"),  # 4 digits tie (0.8008 / 0.8008)
        (0.80079999, 0.80081234, "0.8008"),
        (0.800812345, 0.800812344, "0.800812345"),
        (0.5, 0.25, "0.5"),
        (123456.0, 123457.0, "123456"),
        (1.0000000000000002, 1.0, "1.0000000000000002"),  # repr when 17 digits are needed
    ],
)
def test_distinct_shows_the_digits_that_differ(x: float, other: float, expected: str) -> None:
    text = distinct(x, other)
    assert text == expected
    assert text != distinct(other, x)
    assert float(text) == pytest.approx(x, rel=1e-4)


def test_block_detail_tells_a_score_from_a_threshold_just_below_it() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    model = MODELS["logistic"]().fit(X[:300], y[:300])
    rails = mlrails.fit(
        model, X[:300], y[:300], X[300:], y[300:], policy={"adversarial": {"mode": "off"}}
    )
    score = float(rails.ood.score_samples(X[:1])[0])
    rails.ood.threshold_ = replace(rails.ood.threshold_, value=score - 2e-9 * abs(score))
    v = rails.check(X[:1])[0]
    assert v.status == 422
    m = re.search(r"score (\S+) is above its threshold (\S+) ", v.detail or "")
    assert m is not None, v.detail
    shown_score, shown_thr = m.groups()
    assert shown_score != shown_thr
    assert float(shown_score) > float(shown_thr)


def test_low_confidence_detail_shows_value_and_minimum() -> None:
    X_fit, X_cal, X_te, y_fit, y_cal = _splits("cancer", 0)
    clf = MODELS["logistic"]().fit(X_fit, y_fit)
    policy = {**FAST, "reliability": {"min_confidence": 0.999, "coverage": 0.5}}
    rails = mlrails.fit(clf, X_fit, y_fit, X_cal, y_cal, policy=policy)
    low = [v for v in rails.check(X_te) if v.confidence and v.confidence.max_probability < 0.999]
    assert low
    for v in low:
        m = re.search(r"max probability (\S+) is below the minimum (\S+)\)", v.detail or "")
        assert m is not None, v.detail
        assert m.group(1) != m.group(2) and float(m.group(1)) < float(m.group(2))
    assert np.all([v.status == 203 for v in low])
