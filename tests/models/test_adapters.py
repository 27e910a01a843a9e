"""Adapters on real models: probabilities agree with the native model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlrails.models import (
    CallableAdapter,
    ModelAdapter,
    SklearnAdapter,
    as_adapter,
    check_probabilities,
)


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def diabetes() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    return X, y


# -- scikit-learn ---------------------------------------------------------------------------
def test_sklearn_classifier(iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    adapter = SklearnAdapter(model)
    assert adapter.task == "classification"
    np.testing.assert_allclose(adapter.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(adapter.predict(X), model.predict(X))
    assert list(adapter.classes_) == [0, 1, 2]
    info = adapter.info()
    assert info.framework == "scikit-learn" and info.n_classes == 3
    assert info.model_class == "sklearn.pipeline.Pipeline"


def test_sklearn_regressor(diabetes: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = diabetes
    model = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(X, y)
    adapter = SklearnAdapter(model)
    assert adapter.task == "regression"
    assert adapter.classes_ is None
    np.testing.assert_allclose(adapter.predict_values(X), model.predict(X))
    np.testing.assert_allclose(adapter.predict(X), model.predict(X))
    with pytest.raises(TypeError):
        adapter.predict_proba(X)


def test_sklearn_classifier_without_proba_is_refused() -> None:
    from sklearn.svm import LinearSVC

    X, y = load_iris(return_X_y=True)
    with pytest.raises(TypeError, match="predict_proba"):
        SklearnAdapter(LinearSVC().fit(X, y), task="classification")


# -- callables -------------------------------------------------------------------------------
def test_callable_classification_matches_model(iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    adapter = CallableAdapter(model.predict_proba, "classification", classes=["a", "b", "c"])
    np.testing.assert_allclose(adapter.predict_proba(X), model.predict_proba(X))
    assert list(adapter.predict(X[:3])) == ["a", "a", "a"]
    assert adapter.info().framework == "callable"


def test_callable_input_kinds() -> None:
    seen: list[type] = []

    def fn(X: object) -> np.ndarray:
        seen.append(type(X))
        return np.full((len(X), 2), 0.5)  # type: ignore[arg-type]

    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    CallableAdapter(fn, "classification").predict_proba(frame)
    CallableAdapter(fn, "classification", input="frame").predict_proba(frame)
    CallableAdapter(fn, "classification", input="frame").predict_proba(np.zeros((2, 3)))
    assert seen == [np.ndarray, pd.DataFrame, pd.DataFrame]


def test_callable_regression(diabetes: tuple[np.ndarray, np.ndarray]) -> None:
    X, _ = diabetes
    adapter = CallableAdapter(lambda Z: Z.sum(axis=1, keepdims=True), "regression")
    np.testing.assert_allclose(adapter.predict_values(X), X.sum(axis=1))
    with pytest.raises(ValueError, match="one value per row"):
        CallableAdapter(lambda Z: np.zeros((len(Z), 2)), "regression").predict_values(X)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        (lambda n: np.array([[2.0, -1.0]] * n), "negative"),
        (lambda n: np.array([[0.7, 0.7]] * n), "sum to 1"),
        (lambda n: np.full(n, 0.3), r"shape \(n_rows, n_classes\)"),
        (lambda n: np.full((n + 1, 2), 0.5), "rows of probabilities"),
        (lambda n: np.array([[np.nan, 1.0]] * n), "non-finite"),
        (lambda n: np.full((n, 1), 1.0), "at least 2"),
        (lambda n: [["a", "b"]] * n, "non-numeric"),
    ],
)
def test_callable_rejects_non_probabilities(output: object, message: str) -> None:
    X = np.zeros((4, 3))
    adapter = CallableAdapter(lambda Z: output(len(Z)), "classification")  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        adapter.predict_proba(X)


def test_callable_checks_number_of_classes() -> None:
    adapter = CallableAdapter(
        lambda Z: np.full((len(Z), 2), 0.5), "classification", classes=[0, 1, 2]
    )
    with pytest.raises(ValueError, match="3 classes"):
        adapter.predict_proba(np.zeros((2, 2)))


def test_check_probabilities_tolerance() -> None:
    p = np.array([[0.5, 0.5 + 5e-7]])
    assert check_probabilities(p, 1).shape == (1, 2)
    with pytest.raises(ValueError):
        check_probabilities(np.array([[0.5, 0.5 + 5e-6]]), 1)


def test_callable_needs_a_valid_task() -> None:
    with pytest.raises(ValueError, match="task"):
        CallableAdapter(lambda Z: Z, "ranking")


# -- dispatch --------------------------------------------------------------------------------
def test_as_adapter_dispatch(iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X, y)
    adapter = as_adapter(model)
    assert isinstance(adapter, SklearnAdapter)
    assert as_adapter(adapter) is adapter
    fn_adapter = as_adapter(model.predict_proba, task="classification")
    assert isinstance(fn_adapter, CallableAdapter)
    assert isinstance(fn_adapter, ModelAdapter)
    with pytest.raises(TypeError, match="task="):
        as_adapter(model.predict_proba)
    with pytest.raises(TypeError, match="cannot use"):
        as_adapter(42)
    with pytest.raises(ValueError, match="task"):
        as_adapter(model, task="clustering")


def test_as_adapter_does_not_import_optional_frameworks() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from sklearn.linear_model import LinearRegression; import numpy as np;"
        "from mlrails.models import as_adapter;"
        "as_adapter(LinearRegression().fit(np.eye(3), [1, 2, 3]));"
        "assert 'torch' not in sys.modules and 'onnxruntime' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_breast_cancer_binary_sklearn() -> None:
    X, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    adapter = as_adapter(model, task="classification")
    p = adapter.predict_proba(X)
    assert p.shape == (len(X), 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
