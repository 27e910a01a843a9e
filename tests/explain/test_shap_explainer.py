"""SHAP explanations: additivity, the linear formula, ordering, mixed-type tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlrails.explain import Explainer, Explanation, FeatureContribution
from mlrails.explain.outputs import normalize
from mlrails.models import CallableAdapter, SklearnAdapter


def _total(e: Explanation) -> float:
    return e.base_value + sum(c.contribution for c in e.contributions) + e.remainder


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, np.ndarray]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y.to_numpy()


@pytest.fixture(scope="module")
def mixed() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.normal(50, 15, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "plan": pd.Categorical(rng.choice(["basic", "pro"], n)),
        }
    )
    y = ((frame["age"] > 40) ^ (frame["city"] == "lyon")).astype(int).to_numpy()
    return frame, y


# -- tree ------------------------------------------------------------------------------------
def test_tree_random_forest_additivity(iris: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = iris
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y)
    explainer = Explainer.from_background(SklearnAdapter(model), X)
    assert explainer.method == "tree" and explainer.output_space == "probability"
    rows = X.iloc[::15]
    proba = model.predict_proba(rows)
    explanations = explainer.explain(rows, top_k=None)
    assert len(explanations) == len(rows)
    for e, p in zip(explanations, proba, strict=True):
        k = int(np.argmax(p))
        assert e.class_index == k and e.class_label == model.classes_[k]
        assert len(e.contributions) == 4 and e.remainder == 0.0
        # base value + all contributions = probability of the predicted class
        assert _total(e) == pytest.approx(p[k], abs=1e-8)
        assert e.output == pytest.approx(p[k], abs=1e-8)


def test_tree_gradient_boosting_binary_margin() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    model = GradientBoostingClassifier(n_estimators=30, random_state=0).fit(X, y)
    explainer = Explainer(SklearnAdapter(model), X)
    assert explainer.method == "tree" and explainer.output_space == "margin"
    rows = X[:20]
    margin = model.decision_function(rows)  # log-odds of class 1
    for cls in (0, 1):
        for e, m in zip(
            explainer.explain(rows, predicted_idx=cls, top_k=None), margin, strict=True
        ):
            assert e.class_index == cls
            assert _total(e) == pytest.approx(m if cls == 1 else -m, abs=1e-6)


def test_tree_regressor_additivity() -> None:
    X, y = load_diabetes(return_X_y=True)
    model = GradientBoostingRegressor(n_estimators=40, random_state=0).fit(X, y)
    explainer = Explainer(SklearnAdapter(model), X)
    assert explainer.method == "tree" and explainer.output_space == "value"
    for e, v in zip(explainer.explain(X[:10], top_k=3), model.predict(X[:10]), strict=True):
        assert e.class_index is None
        assert len(e.contributions) == 3
        assert _total(e) == pytest.approx(v, rel=1e-9, abs=1e-6)
    with pytest.raises(ValueError, match="classification"):
        explainer.explain(X[:1], predicted_idx=0)


# -- linear ----------------------------------------------------------------------------------
def test_linear_regression_published_formula() -> None:
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)
    background = X[:80]
    explainer = Explainer(SklearnAdapter(model), background)
    assert explainer.method == "linear" and explainer.output_space == "value"
    mean = background.mean(axis=0)
    x = X[200]
    (e,) = explainer.explain(x, top_k=None)  # a single 1-D row works
    expected = model.coef_ * (x - mean)  # SHAP, independent masker: coef_j * (x_j - E[x_j])
    got = {c.feature: c.contribution for c in e.contributions}
    for j in range(X.shape[1]):
        assert got[f"x{j}"] == pytest.approx(expected[j], rel=1e-9, abs=1e-9)
    assert e.base_value == pytest.approx(float(model.intercept_ + mean @ model.coef_))
    assert _total(e) == pytest.approx(float(model.predict(x[None, :])[0]))


def test_linear_logistic_regression_margin_space() -> None:
    # For LinearExplainer, additivity holds in the model's margin (log-odds) space.
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = LogisticRegression(max_iter=2000).fit(X, y)
    explainer = Explainer(SklearnAdapter(model), X)
    assert explainer.method == "linear" and explainer.output_space == "margin"
    rows = X[:25]
    margin = model.decision_function(rows)
    pred = model.predict_proba(rows).argmax(axis=1)
    for e, m, k in zip(explainer.explain(rows, top_k=None), margin, pred, strict=True):
        assert e.class_index == k
        assert _total(e) == pytest.approx(m if k == 1 else -m, abs=1e-8)


def test_linear_multiclass_logistic_regression(iris: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=2000).fit(X, y)
    explainer = Explainer(SklearnAdapter(model), X)
    assert explainer.method == "linear"
    rows = X.iloc[::25]
    margin = model.decision_function(rows)
    for e, m in zip(explainer.explain(rows, top_k=None), margin, strict=True):
        assert _total(e) == pytest.approx(m[e.class_index], abs=1e-8)


# -- ordering / output format ------------------------------------------------------------------
def test_top_k_sorted_by_magnitude() -> None:
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)
    explainer = Explainer(SklearnAdapter(model), X)
    (full,) = explainer.explain(X[:1], top_k=None)
    (top,) = explainer.explain(X[:1], top_k=4)
    mags = [abs(c.contribution) for c in full.contributions]
    assert mags == sorted(mags, reverse=True)
    assert top.contributions == full.contributions[:4]
    assert top.remainder == pytest.approx(sum(c.contribution for c in full.contributions[4:]))
    assert _total(top) == pytest.approx(_total(full))
    assert explainer.explain(X[:1], top_k=0)[0].contributions == []
    with pytest.raises(ValueError):
        explainer.explain(X[:1], top_k=-1)


def test_to_dict_is_json(iris: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = iris
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    (e,) = Explainer(SklearnAdapter(model), X).explain(X.iloc[[60]], top_k=2)
    d = json.loads(json.dumps(e.to_dict()))
    assert d["method"] == "tree"
    assert d["class_index"] == e.class_index and d["output_space"] == "probability"
    assert [c["feature"] for c in d["contributions"]] == [c.feature for c in e.contributions]
    assert isinstance(e.contributions[0], FeatureContribution)
    assert d["contributions"][0]["value"] == float(X.iloc[60][e.contributions[0].feature])


# -- model-agnostic -----------------------------------------------------------------------------
def _pipeline() -> object:
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["city", "plan"]),
            (StandardScaler(), ["age", "income"]),
        ),
        LogisticRegression(),
    )


def test_mixed_types_through_pipeline(mixed: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = mixed
    model = _pipeline().fit(X, y)  # type: ignore[attr-defined]
    explainer = Explainer(SklearnAdapter(model), X, method="exact")
    assert explainer.method == "exact"  # forced: the model-agnostic path on mixed types
    assert len(explainer.background) == 100  # the background is capped
    rows = X.iloc[:6]
    proba = model.predict_proba(rows)
    for e, p, (_, row) in zip(
        explainer.explain(rows, top_k=None), proba, rows.iterrows(), strict=True
    ):
        k = int(np.argmax(p))
        assert e.output_space == "probability"
        assert _total(e) == pytest.approx(p[k], abs=1e-8)
        values = {c.feature: c.value for c in e.contributions}
        assert values["city"] == row["city"] and values["plan"] == row["plan"]
    # a category never seen in the background still explains
    odd = rows.iloc[[0]].copy()
    odd["city"] = "marseille"
    (e,) = explainer.explain(odd)
    assert _total(e) == pytest.approx(model.predict_proba(odd).max(), abs=1e-8)
    # a single row given as a dict
    (single,) = explainer.explain(rows.iloc[0].to_dict(), top_k=2)
    assert len(single.contributions) == 2


def test_permutation_for_many_features(mixed: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = mixed
    rng = np.random.default_rng(1)
    wide = X.copy()
    for j in range(8):
        wide[f"noise{j}"] = rng.normal(size=len(wide))
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["city", "plan"]), remainder=StandardScaler()
        ),
        LogisticRegression(),
    ).fit(wide, y)
    explainer = Explainer(SklearnAdapter(model), wide.iloc[:60], method="permutation")
    assert explainer.method == "permutation"
    rows = wide.iloc[:2]
    proba = model.predict_proba(rows)
    for e, p in zip(explainer.explain(rows, predicted_idx=[0, 1], top_k=5), proba, strict=True):
        assert len(e.contributions) == 5
        assert _total(e) == pytest.approx(p[e.class_index], abs=1e-8)  # type: ignore[index]


def test_agnostic_on_callable_and_unsupported_models() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :5]
    model = KNeighborsClassifier(n_neighbors=15).fit(X, y)
    for adapter in (SklearnAdapter(model), CallableAdapter(model.predict_proba, "classification")):
        explainer = Explainer(adapter, X[:50])
        assert explainer.method == "exact"
        (e,) = explainer.explain(X[100:101], top_k=None)
        p = model.predict_proba(X[100:101])[0]
        assert _total(e) == pytest.approx(p[e.class_index], abs=1e-8)  # type: ignore[index]


def test_agnostic_on_torch_module() -> None:
    torch = pytest.importorskip("torch")
    from mlrails.models import TorchAdapter

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    X = np.random.default_rng(0).normal(size=(50, 4))
    adapter = TorchAdapter(module)
    explainer = Explainer(adapter, X)
    assert explainer.method == "exact"
    (e,) = explainer.explain(X[:1], top_k=None)
    assert _total(e) == pytest.approx(adapter.predict_proba(X[:1]).max(), abs=1e-7)


def test_tree_falls_back_when_shap_cannot_read_the_input() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"age": rng.normal(40, 10, 200), "city": pd.Categorical(rng.choice(["a", "b"], 200))}
    )
    y = ((frame["age"] > 40) ^ (frame["city"] == "a")).astype(int).to_numpy()
    model = HistGradientBoostingClassifier(max_iter=10, categorical_features="from_dtype")
    model.fit(frame, y)
    explainer = Explainer(SklearnAdapter(model), frame)
    (e,) = explainer.explain(frame.iloc[:1], top_k=None)
    assert e.method in ("tree", "exact")
    if e.method == "exact":
        assert _total(e) == pytest.approx(model.predict_proba(frame.iloc[:1]).max(), abs=1e-8)


def test_feature_names_must_match() -> None:
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="feature names"):
        Explainer(SklearnAdapter(model), X, feature_names=["a", "b"])
    names = [f"f{j}" for j in range(X.shape[1])]
    (e,) = Explainer(SklearnAdapter(model), X, feature_names=names).explain(X[:1], top_k=1)
    assert e.contributions[0].feature in names


# -- SHAP output layouts -------------------------------------------------------------------------
def test_normalize_handles_shap_layouts() -> None:
    n, d, k = 3, 4, 2
    rng = np.random.default_rng(0)
    cube = rng.normal(size=(n, d, k))
    base = np.array([0.2, 0.8])
    as_list = [cube[:, :, j] for j in range(k)]
    for values in (cube, as_list):
        v, b = normalize(values, base, n)
        np.testing.assert_allclose(v, cube)
        np.testing.assert_allclose(b, np.tile(base, (n, 1)))
    v, b = normalize(cube[:, :, 0], 0.5, n)
    assert v.shape == (n, d, 1) and b.shape == (n, 1)
    v, b = normalize(cube[:, :, 0], np.array([0.1, 0.2, 0.3]), n)
    np.testing.assert_allclose(b[:, 0], [0.1, 0.2, 0.3])
