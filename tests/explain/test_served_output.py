"""Explanations explain what the verdict serves, and pipelines are explained by their trees.

Issue 11 item 4: SHAP explained the uncalibrated probability while the verdict served the
calibrated one; a ColumnTransformer + gradient-boosting pipeline took minutes to explain.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, softmax
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlrails
from mlrails.explain import Explainer, Explanation
from mlrails.explain.pipelines import column_groups
from mlrails.models import SklearnAdapter
from mlrails.reliability import TemperatureScaler


def _total(e: Explanation) -> float:
    return e.base_value + sum(c.contribution for c in e.contributions) + e.remainder


def _table(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Mixed table: text columns not in alphabetical order, numeric ones, a noisy target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "zone": rng.choice(["n", "s", "e", "w"], n),
            "age": rng.normal(40, 10, n),
            "tier": rng.choice(["gold", "silver", "bronze"], n),
            "income": rng.normal(50, 15, n),
            "score": rng.normal(0, 1, n),
        }
    )
    logit = 0.08 * (frame["age"] - 40) + 1.2 * (frame["zone"] == "n") + frame["score"]
    y = (rng.random(n) < expit(logit.to_numpy())).astype(int)
    return frame, y


def _onehot_pipeline(final: Any) -> Pipeline:
    return Pipeline(
        [
            (
                "pre",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["zone", "tier"]),
                        ("num", StandardScaler(), ["age", "income", "score"]),
                    ]
                ),
            ),
            ("model", final),
        ]
    )


def _fit_rails(
    model: Any, X: Any, y: Any, calibration: str = "temperature", cross_fit: str = "auto"
) -> Any:
    return mlrails.fit(
        model,
        X,
        y,
        policy={
            "cross_fit": {"method": cross_fit},
            "reliability": {"calibration": calibration},
            "ood": {"mode": "warn"},
            "adversarial": {"mode": "off"},
            "drift": {"reference": False},
            "explanation": {"top_k": 50},
        },
    )


# -- additivity against the verdict's calibrated probability -----------------------------------
@pytest.mark.parametrize(
    "kind", ["hist_gradient_boosting", "gradient_boosting", "logistic", "pipeline_hgb"]
)
def test_explanation_adds_up_to_the_served_calibrated_probability(kind: str) -> None:
    X, y = _table()
    models: dict[str, Any] = {
        "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(
            max_iter=60, categorical_features="from_dtype"
        ),
        "gradient_boosting": lambda: GradientBoostingClassifier(n_estimators=60, random_state=0),
        "logistic": lambda: _onehot_pipeline(LogisticRegression(C=100.0, max_iter=2000)),
        "pipeline_hgb": lambda: _onehot_pipeline(HistGradientBoostingClassifier(max_iter=60)),
    }
    data = X if kind.startswith("pipeline") or kind == "logistic" else X.select_dtypes("number")
    model = models[kind]().fit(data, y)
    # a well-specified logistic model is calibrated out-of-fold (T close to 1); on rows it
    # has seen it is over-confident, which gives the temperature something to change
    rails = _fit_rails(model, data, y, cross_fit="training" if kind == "logistic" else "auto")
    assert isinstance(rails.calibrator, TemperatureScaler)
    assert abs(rails.calibrator.temperature_ - 1.0) > 0.05  # calibration does change things
    verdicts = rails.check(data.iloc[:40], explain=True)
    checked = 0
    for v in verdicts:
        e = v.explanation
        if e is None or v.probabilities is None:
            continue
        assert e.method in ("tree", "linear")
        assert e.served and e.explains.startswith("calibrated log-odds of class")
        served = v.probabilities[str(v.prediction)]
        # base + sum(values) is the calibrated log-odds the verdict serves
        assert expit(_total(e)) == pytest.approx(served, abs=1e-6)
        assert e.probability == pytest.approx(served, abs=1e-6)
        assert e.to_dict()["explains"] == e.explains
        checked += 1
    assert checked >= 30


@pytest.mark.parametrize("kind", ["tree", "linear"])
def test_multiclass_logits_softmax_to_the_served_probabilities(kind: str) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    model: Any = (
        HistGradientBoostingClassifier(max_iter=20)
        if kind == "tree"
        else LogisticRegression(max_iter=1000)
    ).fit(X, y)
    rails = _fit_rails(model, X, y.to_numpy())
    explainer = rails.explainer()
    assert explainer.method == kind
    rows = X.iloc[::10]
    served = np.array([[v.probabilities[str(c)] for c in (0, 1, 2)] for v in rails.check(rows)])
    logits = np.column_stack(
        [[_total(e) for e in explainer.explain(rows, predicted_idx=k)] for k in (0, 1, 2)]
    )
    np.testing.assert_allclose(softmax(logits, axis=1), served, atol=1e-6)
    (e,) = explainer.explain(rows.iloc[:1])
    assert e.explains.startswith("calibrated logit of class")
    assert e.probability == pytest.approx(served[0].max(), abs=1e-6)


def test_agnostic_explains_the_calibrated_probability() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :4]
    model = KNeighborsClassifier(n_neighbors=25).fit(X, y)
    rails = _fit_rails(model, X, y)
    top = model.predict_proba(X).max(axis=1)
    i = int(np.flatnonzero((top > 0.55) & (top < 0.9))[0])  # an uncertain row
    (v,) = rails.check(X[i : i + 1], explain=True)
    e = v.explanation
    assert e.method == "exact" and e.served
    assert e.explains.startswith("calibrated probability of class")
    served = v.probabilities[str(v.prediction)]
    assert _total(e) == pytest.approx(served, abs=1e-8)
    raw = top[i]
    assert abs(raw - served) > 1e-4  # the raw probability is not what is explained


@pytest.mark.parametrize("case", ["forest_temperature", "hgb_isotonic"])
def test_uncalibrated_output_is_labelled_so(case: str) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    if case == "forest_temperature":
        model: Any = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
        rails = _fit_rails(model, X, y, "temperature")
    else:
        model = HistGradientBoostingClassifier(max_iter=30).fit(X, y)
        rails = _fit_rails(model, X, y, "isotonic")
    (e,) = rails.explainer().explain(X[:1])
    assert not e.served and e.probability is None
    assert e.explains.startswith("uncalibrated") and "before calibration" in e.explains


def test_no_calibration_explains_the_model_probability() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    rails = _fit_rails(model, X, y, "none")
    (v,) = rails.check(X[:1], explain=True)
    e = v.explanation
    assert e.served and e.explains.startswith("probability of class")
    assert _total(e) == pytest.approx(v.probabilities[str(v.prediction)], abs=1e-8)


# -- pipelines: the tree / linear part over the transformed features ---------------------------
def test_pipeline_tree_is_grouped_back_onto_the_original_features() -> None:
    X, y = _table()
    model = _onehot_pipeline(HistGradientBoostingClassifier(max_iter=40)).fit(X, y)
    explainer = Explainer(SklearnAdapter(model), X)
    assert explainer.method == "tree" and explainer.output_space == "margin"
    rows = X.iloc[:50]
    margin = model.decision_function(rows)
    for e, m in zip(explainer.explain(rows, predicted_idx=1, top_k=None), margin, strict=True):
        assert e.n_features == 5
        assert {c.feature for c in e.contributions} == set(X.columns)
        assert _total(e) == pytest.approx(m, abs=1e-8)
    # reference: SHAP on the final estimator, one-hot columns summed by hand
    import shap

    Z = model[:-1].transform(rows)
    raw = shap.TreeExplainer(model[-1], feature_perturbation="tree_path_dependent")(Z).values
    names = model[:-1].get_feature_names_out()
    by_hand = {
        col: raw[
            :, [i for i, n in enumerate(names) if n.split("__", 1)[1].split("_")[0] == col]
        ].sum(axis=1)
        for col in X.columns
    }
    for r, e in enumerate(explainer.explain(rows, predicted_idx=1, top_k=None)):
        for c in e.contributions:
            assert c.contribution == pytest.approx(by_hand[c.feature][r], abs=1e-10)


def test_pipeline_linear_equals_exact_shapley_of_each_feature() -> None:
    """An additive model's Shapley value of a feature is the mean change of the margin when
    that feature alone takes the background's values (computed here by calling the model)."""
    X, y = _table(300)
    model = _onehot_pipeline(LogisticRegression(max_iter=2000)).fit(X, y)
    background = X.iloc[:80]
    explainer = Explainer(SklearnAdapter(model), background)
    assert explainer.method == "linear"
    row = X.iloc[[200]]
    (e,) = explainer.explain(row, predicted_idx=1, top_k=None)
    f_row = model.decision_function(row)[0]
    for c in e.contributions:
        swapped = pd.concat([row] * len(background), ignore_index=True)
        swapped[c.feature] = background[c.feature].to_numpy()
        reference = f_row - model.decision_function(swapped).mean()
        assert c.contribution == pytest.approx(reference, abs=1e-8)


def test_pipeline_that_cannot_be_traced_falls_back_to_model_agnostic() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :6]
    model = make_pipeline(PCA(n_components=3), HistGradientBoostingClassifier(max_iter=10))
    model.fit(X, y)
    explainer = Explainer(SklearnAdapter(model), X[:40])
    assert explainer.method == "exact"
    (e,) = explainer.explain(X[:1], top_k=None)
    assert _total(e) == pytest.approx(model.predict_proba(X[:1]).max(), abs=1e-8)


# -- the column mapping, checked by perturbing one input column at a time -----------------------
_names = st.lists(
    st.text(alphabet="ab_c1", min_size=1, max_size=5), min_size=2, max_size=6, unique=True
)


@settings(max_examples=25, deadline=None)
@given(names=_names, kinds=st.lists(st.booleans(), min_size=6, max_size=6), seed=st.integers(0, 99))
def test_column_groups_trace_each_output_to_its_input(
    names: list[str], kinds: list[bool], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    data: dict[str, Any] = {}
    for name, text in zip(names, kinds, strict=False):
        data[name] = rng.choice(["p", "q_r", "s"], n) if text else rng.normal(size=n)
    frame = pd.DataFrame(data)
    text_cols = [c for c in names if not pd.api.types.is_numeric_dtype(frame[c])]
    num_cols = [c for c in names if c not in text_cols]
    blocks: list[Any] = []
    if text_cols:
        blocks.append(("cat", OneHotEncoder(handle_unknown="ignore"), text_cols))
    if num_cols:
        imputer = make_pipeline(SimpleImputer(add_indicator=True), StandardScaler())
        blocks.append(("num", imputer, num_cols[:1]))
        if len(num_cols) > 1:
            blocks.append(("rest", "passthrough", num_cols[1:]))
    frame.loc[0, num_cols] = np.nan  # so the imputer's indicator columns exist
    ct = ColumnTransformer(blocks, sparse_threshold=0.0).fit(frame)
    groups = column_groups(ct, len(names))
    assert groups is not None
    base = np.nan_to_num(np.asarray(ct.transform(frame), dtype=float), nan=0.0)
    for j, name in enumerate(names):
        changed = frame.copy()
        changed[name] = frame[name].to_numpy()[::-1]
        changed.loc[0, name] = np.nan if name in num_cols else "s"
        diff = np.nan_to_num(np.asarray(ct.transform(changed), dtype=float), nan=0.0) != base
        moved = np.flatnonzero(diff.any(axis=0))
        assert set(moved) <= set(np.flatnonzero(groups == j))  # only its own columns move


def test_column_groups_refuse_what_cannot_be_traced() -> None:
    X = np.random.default_rng(0).normal(size=(30, 4))
    assert column_groups(PCA(n_components=2).fit(X), 4) is None
    assert column_groups(make_pipeline(StandardScaler(), PCA(2)).fit(X), 4) is None
    np.testing.assert_array_equal(column_groups(StandardScaler().fit(X), 4), [0, 1, 2, 3])
