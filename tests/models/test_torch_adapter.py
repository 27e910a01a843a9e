"""TorchAdapter on a tiny MLP trained for a few steps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris

from mlrails.models import TorchAdapter, as_adapter

torch = pytest.importorskip("torch")


def _train(module: torch.nn.Module, X: np.ndarray, y: np.ndarray, loss_fn: object) -> None:
    opt = torch.optim.Adam(module.parameters(), lr=0.05)
    xt = torch.from_numpy(X.astype(np.float32))
    yt = torch.from_numpy(y)
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(module(xt), yt)  # type: ignore[operator]
        loss.backward()
        opt.step()


@pytest.fixture(scope="module")
def iris_mlp() -> tuple[torch.nn.Module, np.ndarray]:
    torch.manual_seed(0)
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(16, 3)
    )
    _train(module, X, y.astype(np.int64), torch.nn.CrossEntropyLoss())
    return module, X


def test_torch_classifier_matches_softmax(iris_mlp: tuple[torch.nn.Module, np.ndarray]) -> None:
    module, X = iris_mlp
    adapter = TorchAdapter(module, classes=["setosa", "versicolor", "virginica"], batch_size=7)
    assert not module.training  # eval mode: dropout off, outputs deterministic
    proba = adapter.predict_proba(X)
    with torch.no_grad():
        ref = torch.softmax(module(torch.from_numpy(X.astype(np.float32))), dim=1).numpy()
    np.testing.assert_allclose(proba, ref, atol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    # batching does not change anything, and a DataFrame works too
    frame = pd.DataFrame(X, columns=list("abcd"))
    np.testing.assert_allclose(TorchAdapter(module).predict_proba(frame), proba, atol=1e-6)
    assert adapter.predict(X[:1])[0] in {"setosa", "versicolor", "virginica"}
    info = adapter.info()
    assert info.framework == "torch" and info.n_classes == 3


def test_torch_probability_output(iris_mlp: tuple[torch.nn.Module, np.ndarray]) -> None:
    module, X = iris_mlp
    with_softmax = torch.nn.Sequential(module, torch.nn.Softmax(dim=1))
    a = TorchAdapter(with_softmax, output="probabilities")
    np.testing.assert_allclose(a.predict_proba(X), TorchAdapter(module).predict_proba(X), atol=1e-6)
    with pytest.raises(ValueError, match="logits"):
        TorchAdapter(module, output="probabilities").predict_proba(X)


def test_torch_binary_single_logit() -> None:
    torch.manual_seed(0)
    module = torch.nn.Linear(3, 1)
    X = np.random.default_rng(0).normal(size=(10, 3))
    p = TorchAdapter(module).predict_proba(X)
    with torch.no_grad():
        p1 = torch.sigmoid(module(torch.from_numpy(X.astype(np.float32)))).numpy()[:, 0]
    np.testing.assert_allclose(p[:, 1], p1, atol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)


def test_torch_regressor() -> None:
    torch.manual_seed(0)
    X, y = load_diabetes(return_X_y=True)
    module = torch.nn.Sequential(torch.nn.Linear(10, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    _train(module, X, y.astype(np.float32)[:, None], torch.nn.MSELoss())
    adapter = as_adapter(module, task="regression", batch_size=64)
    assert isinstance(adapter, TorchAdapter)
    values = adapter.predict_values(X)
    with torch.no_grad():
        ref = module(torch.from_numpy(X.astype(np.float32))).numpy()[:, 0]
    assert values.shape == (len(X),)
    np.testing.assert_allclose(values, ref, rtol=1e-6)


def test_torch_rejects_non_numeric_frame(iris_mlp: tuple[torch.nn.Module, np.ndarray]) -> None:
    module, _ = iris_mlp
    frame = pd.DataFrame({"a": [1.0], "b": ["x"], "c": [1.0], "d": [2.0]})
    with pytest.raises(ValueError, match="non-numeric columns: b"):
        TorchAdapter(module).predict_proba(frame)


def test_a_float32_frame_is_read_without_warnings() -> None:
    import warnings

    import pandas as pd

    from mlrails.models.torch import TorchAdapter

    # a transposed block: pandas hands out a read-only C-contiguous view of it
    block = np.random.default_rng(0).random((3, 5), dtype=np.float32)
    X = pd.DataFrame(block).T.set_axis(list("abc"), axis=1)
    adapter = TorchAdapter(torch.nn.Linear(3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. torch's "non-writable NumPy array" warning
        P = adapter.predict_proba(X)
    assert P.shape == (5, 2) and np.allclose(P.sum(axis=1), 1.0)
