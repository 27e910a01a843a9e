"""load_model: safe formats load, code-executing ones need trust, failures are ModelLoadError."""

from __future__ import annotations

import operator
import os
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_iris
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from mlrails.errors import ModelLoadError
from mlrails.models import SklearnAdapter, as_adapter, load_model
from mlrails.models.loading import refused_skops_types, skops_type_allowed


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return X, y


def _assert_one_line(err: pytest.ExceptionInfo[ModelLoadError], path: Path) -> None:
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg


# -- skops -----------------------------------------------------------------------------------
def test_skops_pipeline_round_trip_without_trust(
    iris: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    X, y = iris
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    adapter = load_model(path)
    assert isinstance(adapter, SklearnAdapter)
    np.testing.assert_allclose(adapter.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize(
    "model",
    [
        RandomForestClassifier(n_estimators=5, random_state=0),
        HistGradientBoostingClassifier(max_iter=5),
        make_pipeline(FunctionTransformer(np.log1p), LogisticRegression(max_iter=500)),
    ],
)
def test_skops_sklearn_internal_types_are_allowlisted(
    model: object, iris: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    X, y = iris
    model.fit(X, y)  # type: ignore[attr-defined]
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    # skops does not trust e.g. sklearn.tree._tree.Tree by default; the allowlist does
    assert refused_skops_types(sio.get_untrusted_types(file=path)) == []
    adapter = load_model(path)
    np.testing.assert_allclose(adapter.predict_proba(X), model.predict_proba(X))  # type: ignore[attr-defined]


def test_skops_column_transformer_on_frame(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "c": ["x", "y", "x", "y"]})
    y = np.array([0, 1, 0, 1])
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["c"]), remainder="passthrough"),
        LogisticRegression(),
    ).fit(frame, y)
    path = tmp_path / "ct.skops"
    sio.dump(model, path)
    np.testing.assert_allclose(load_model(path).predict_proba(frame), model.predict_proba(frame))


def test_skops_non_allowlisted_type_is_refused(
    iris: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    # never fitted or called: the file only *references* os.system
    model = make_pipeline(FunctionTransformer(os.system), LogisticRegression())
    path = tmp_path / "evil.skops"
    sio.dump(model, path)
    with pytest.raises(ModelLoadError, match=r"system.*--trust") as err:
        load_model(path)
    _assert_one_line(err, path)


def test_skops_trust_accepts_reviewed_types(
    iris: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    X, y = iris
    model = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression(max_iter=500)).fit(
        X, y
    )
    path = tmp_path / "custom.skops"
    sio.dump(model, path)
    with pytest.raises(ModelLoadError, match=r"_operator\.neg"):
        load_model(path)
    adapter = load_model(path, trust=True)
    np.testing.assert_allclose(adapter.predict_proba(X), model.predict_proba(X))


def test_skops_allowlist_rules() -> None:
    assert skops_type_allowed("sklearn.tree._tree.Tree")
    assert skops_type_allowed("numpy.log1p")
    assert skops_type_allowed("builtins.object")
    assert not skops_type_allowed("posix.system")
    assert not skops_type_allowed("builtins.eval")
    assert not skops_type_allowed("numpy.testing._private.utils.runstring")
    assert not skops_type_allowed("numpy.lib._npyio_impl.load")
    assert not skops_type_allowed("sklearnx.Evil")
    assert refused_skops_types(["builtins.exec", "sklearn.tree._tree.Tree", "builtins.exec"]) == [
        "builtins.exec"
    ]


# -- pickle / joblib ---------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".pkl", ".pickle", ".joblib"])
def test_pickle_needs_trust(
    suffix: str, iris: tuple[np.ndarray, np.ndarray], tmp_path: Path
) -> None:
    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X, y)
    path = tmp_path / f"model{suffix}"
    joblib.dump(model, path)
    with pytest.raises(
        ModelLoadError,
        match=r"pickle files can execute code; pass --trust",
    ) as err:
        load_model(path)
    assert "--trust" in str(err.value)
    _assert_one_line(err, path)
    adapter = load_model(path, trust=True)
    np.testing.assert_allclose(adapter.predict_proba(X), model.predict_proba(X))
    # as_adapter forwards trust for file paths
    assert isinstance(as_adapter(path, trust=True), SklearnAdapter)


def test_pickle_of_a_non_model_is_a_load_error(tmp_path: Path) -> None:
    path = tmp_path / "data.pkl"
    joblib.dump({"not": "a model"}, path)
    with pytest.raises(ModelLoadError, match="not a usable model"):
        load_model(path, trust=True)


# -- failures ------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".skops", ".onnx", ".pkl", ".joblib", ".pt"])
def test_corrupt_files(suffix: str, tmp_path: Path) -> None:
    if suffix == ".onnx":
        pytest.importorskip("onnxruntime")
    if suffix == ".pt":
        pytest.importorskip("torch")
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"\x00\x01 this is not a model file \xff" * 10)
    with pytest.raises(ModelLoadError) as err:
        load_model(path, trust=True)
    _assert_one_line(err, path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.skops"
    with pytest.raises(ModelLoadError, match="not found") as err:
        load_model(path)
    _assert_one_line(err, path)


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "model.h5"
    path.write_bytes(b"whatever")
    with pytest.raises(ModelLoadError, match=r"unknown model file extension '\.h5'") as err:
        load_model(path, trust=True)
    _assert_one_line(err, path)


def test_directory_is_not_a_model(tmp_path: Path) -> None:
    d = tmp_path / "dir.skops"
    d.mkdir()
    with pytest.raises(ModelLoadError, match="not a file"):
        load_model(d)


# -- torch -------------------------------------------------------------------------------------
def test_torch_file_needs_trust(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from mlrails.models import TorchAdapter

    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3))
    path = tmp_path / "net.pt"
    torch.save(module, path)
    with pytest.raises(ModelLoadError, match="--trust") as err:
        load_model(path)
    _assert_one_line(err, path)
    adapter = load_model(path, trust=True)
    assert isinstance(adapter, TorchAdapter)
    X = np.random.default_rng(0).normal(size=(5, 4))
    np.testing.assert_allclose(
        adapter.predict_proba(X), TorchAdapter(module).predict_proba(X), atol=1e-6
    )
    state_path = tmp_path / "weights.pth"
    torch.save(module.state_dict(), state_path)
    with pytest.raises(ModelLoadError, match="state dict"):
        load_model(state_path, trust=True)
