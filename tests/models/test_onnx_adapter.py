"""OnnxAdapter on models exported with skl2onnx agrees with scikit-learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from mlrails.errors import ModelLoadError
from mlrails.models import OnnxAdapter, as_adapter, load_model

ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")


def _export(model: object, X: np.ndarray, options: dict[int, object] | None = None) -> bytes:
    onx = skl2onnx.to_onnx(model, X[:1].astype(np.float32), options=options)
    return bytes(onx.SerializeToString())


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.mark.parametrize("zipmap", [True, False])
def test_onnx_logistic_regression(iris: tuple[np.ndarray, np.ndarray], zipmap: bool) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=1000).fit(X, y)
    options: dict[int, object] | None = None if zipmap else {id(model): {"zipmap": False}}
    adapter = OnnxAdapter(_export(model, X, options))
    assert adapter.task == "classification"
    assert adapter.classes_ is not None and list(adapter.classes_) == [0, 1, 2]
    np.testing.assert_allclose(adapter.predict_proba(X), model.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(adapter.predict(X), model.predict(X))
    assert adapter.info().framework == "onnx"


def test_onnx_random_forest_string_labels(iris: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = iris
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = RandomForestClassifier(n_estimators=25, random_state=0).fit(X, labels)
    adapter = OnnxAdapter(_export(model, X))
    assert list(adapter.classes_) == list(model.classes_)  # type: ignore[arg-type]
    np.testing.assert_allclose(adapter.predict_proba(X), model.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(adapter.predict(X), model.predict(X))


def test_onnx_regressor(tmp_path: Path) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = GradientBoostingRegressor(n_estimators=50, random_state=0).fit(X, y)
    path = tmp_path / "gbr.onnx"
    path.write_bytes(_export(model, X))
    adapter = load_model(path)
    assert isinstance(adapter, OnnxAdapter)
    assert adapter.task == "regression" and adapter.classes_ is None
    np.testing.assert_allclose(adapter.predict_values(X), model.predict(X), rtol=1e-5)
    # a path string and an InferenceSession go through as_adapter too
    assert isinstance(as_adapter(str(path)), OnnxAdapter)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    by_session = as_adapter(session)
    np.testing.assert_allclose(by_session.predict_values(X[:5]), model.predict(X[:5]), rtol=1e-5)


def test_onnx_corrupt_bytes_is_a_load_error() -> None:
    with pytest.raises(ModelLoadError, match="cannot load ONNX model"):
        OnnxAdapter(b"definitely not a protobuf")
