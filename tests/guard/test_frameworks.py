"""The guard around PyTorch and ONNX models, end to end (fit, check, save, load)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import mlrails


@pytest.fixture(scope="module")
def data() -> tuple[Any, ...]:
    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    return tuple(train_test_split(X, y, test_size=0.3, random_state=0, stratify=y))


def test_onnx_model_is_guarded_and_bundled(tmp_path: Path, data: tuple[Any, ...]) -> None:
    pytest.importorskip("onnxruntime")
    skl2onnx = pytest.importorskip("skl2onnx")
    from skl2onnx.common.data_types import FloatTensorType

    X_tr, X_te, y_tr, _ = data
    sk = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_tr, y_tr)
    onx = skl2onnx.convert_sklearn(
        sk,
        initial_types=[("x", FloatTensorType([None, X_tr.shape[1]]))],
        options={id(sk.steps[-1][1]): {"zipmap": False}},
    )
    path = tmp_path / "model.onnx"
    path.write_bytes(onx.SerializeToString())
    from mlrails.models import load_model

    model = load_model(path)
    rails = mlrails.fit(model, X_tr, y_tr)
    verdicts = rails.check(X_te)
    assert sum(v.status == 200 for v in verdicts) > 0.8 * len(verdicts)
    answered = [
        (v.probabilities, p)
        for v, p in zip(verdicts, sk.predict_proba(X_te), strict=True)
        if v.prediction is not None
    ]
    assert answered
    rails.save(tmp_path / "rails")
    assert (tmp_path / "rails" / "model.onnx").is_file()
    again = mlrails.load(tmp_path / "rails")  # the bundled ONNX model, no model argument
    assert [v.status for v in again.check(X_te)] == [v.status for v in verdicts]


def test_torch_module_is_guarded(tmp_path: Path, data: tuple[Any, ...]) -> None:
    torch = pytest.importorskip("torch")
    X_tr, X_te, y_tr, y_te = data
    mu, sd = X_tr.mean(axis=0), X_tr.std(axis=0)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    xt = torch.tensor((X_tr - mu) / sd)
    yt = torch.tensor(y_tr)
    for _ in range(200):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt), yt).backward()
        opt.step()

    class Standardised(torch.nn.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.net = net
            self.register_buffer("mu", torch.tensor(mu))
            self.register_buffer("sd", torch.tensor(sd))

        def forward(self, x: Any) -> Any:
            return self.net((x - self.mu) / self.sd)

    module = Standardised()
    rails = mlrails.fit(module, X_tr, y_tr)
    assert rails.adapter.info().framework == "torch"
    verdicts = rails.check(X_te)
    acc = np.mean(
        [v.prediction == t for v, t in zip(verdicts, y_te, strict=True) if v.prediction is not None]
    )
    assert acc > 0.9
    # inside every feature's range, far from the data: half the features at their maximum,
    # half at their minimum (the features are strongly correlated). Every feature at its
    # maximum is not enough: a few training tumours are as extreme, so a 1% budget on 398
    # rows cannot flag it
    far = np.where(np.arange(30) % 2 == 0, X_tr.max(axis=0), X_tr.min(axis=0))
    assert rails.check(far.astype(np.float32)[None, :])[0].status in (403, 422)
    # a torch module cannot be saved safely: the artifact says so and needs the model back
    rails.save(tmp_path / "rails")
    with pytest.raises(mlrails.ArtifactError, match="bundles no model"):
        mlrails.load(tmp_path / "rails")
    assert mlrails.load(tmp_path / "rails", model=module).artifact_hash == rails.artifact_hash
