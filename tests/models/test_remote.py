"""RemoteModel against a real upstream on loopback: same numbers as the local model, a
ModelUnavailable for every way the upstream can fail, and rails that behave the same
through the proxy as around the local model."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi import FastAPI, Request
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression

import mlrails
from mlrails.errors import ArtifactError, MlrailsError, ModelUnavailable
from mlrails.guard.rails import Rails
from mlrails.models.remote import RemoteModel
from mlrails.serve import ServerThread
from mlrails.serve.launch import remote_model_for
from upstreamkit import Upstream, start_upstream

HANG_S = 3.0
#: the time limit of the calls meant to time out; the others get a generous one (busy CI)
TIMEOUT_S = 0.5
OK_TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def other_forest(cancer: Any) -> RandomForestClassifier:
    """A different model on the same data (fewer trees, another seed)."""
    return RandomForestClassifier(n_estimators=7, random_state=3).fit(
        cancer.X_train, cancer.y_train
    )


@pytest.fixture(scope="module")
def upstream(cancer_forest: Any, other_forest: Any) -> Iterator[Upstream]:
    up = start_upstream({"cancer": cancer_forest, "other": other_forest}, hang_s=HANG_S)
    yield up
    up.stop()


@pytest.fixture(scope="module")
def artifact(cancer_rails: Rails, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("remote") / "rails"
    cancer_rails.save(path)
    return path


def remote(up: Upstream, name: str = "cancer", protocol: str = "oip", **kw: Any) -> RemoteModel:
    url = f"{up.url}/json/{name}" if protocol == "json" else up.url
    opts: dict[str, Any] = {"timeout": OK_TIMEOUT_S, "classes": [0, 1], **kw}
    if protocol == "oip":
        opts.setdefault("model_name", name)
    return RemoteModel(url, protocol=protocol, **opts)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


# -- the adapter ----------------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["oip", "json"])
def test_probabilities_equal_the_local_model(
    upstream: Upstream, cancer: Any, cancer_forest: Any, protocol: str
) -> None:
    with remote(upstream, protocol=protocol) as model:
        X = cancer.X_test
        got = model.predict_proba(X)
        np.testing.assert_allclose(got, cancer_forest.predict_proba(X), rtol=0, atol=1e-12)
        # an array without column names: OIP sends one [n, d] tensor, JSON lists of numbers
        np.testing.assert_allclose(model.predict_proba(X.to_numpy()), got, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(model.predict(X), cancer_forest.predict(X))
        assert model.predict_proba(X.iloc[:0]).shape == (0, 2)
        assert model.ping()


def test_one_adapter_serves_concurrent_threads(
    upstream: Upstream, cancer: Any, cancer_forest: Any
) -> None:
    X = cancer.X_test
    batches = [X.iloc[i : i + 20] for i in range(0, 160, 20)]
    with remote(upstream, max_connections=4) as model, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(model.predict_proba, batches * 3))
    for got, batch in zip(results, batches * 3, strict=True):
        np.testing.assert_allclose(got, cancer_forest.predict_proba(batch), rtol=0, atol=1e-12)


def test_oip_reads_the_only_output_and_the_model_name_from_the_url(
    upstream: Upstream, cancer: Any, cancer_forest: Any
) -> None:
    model = RemoteModel(f"{upstream.url}/v2/models/single", timeout=OK_TIMEOUT_S)
    assert model.model_name == "single"
    assert model.endpoint == f"{upstream.url}/v2/models/single/infer"
    X = cancer.X_test.iloc[:25]
    np.testing.assert_allclose(
        model.predict_proba(X), cancer_forest.predict_proba(X), rtol=0, atol=1e-12
    )
    assert model.classes_ is None  # not given: mlrails.load takes them from the artifact


def test_missing_values_travel_as_null(upstream: Upstream, cancer: Any) -> None:
    X = cancer.X_test.iloc[:5].copy()
    X.iloc[0, 0] = np.nan  # JSON has no NaN: sent as null, read back as NaN upstream
    with remote(upstream) as model:
        P = model.predict_proba(X)
    assert P.shape == (5, 2) and np.allclose(P.sum(axis=1), 1.0)


def test_info_and_messages_hide_credentials(upstream: Upstream) -> None:
    host = upstream.url.removeprefix("http://")
    model = RemoteModel(
        f"http://alice:s3cret@{host}/v2/models/broken?token=t0ps3cret", timeout=OK_TIMEOUT_S
    )
    info = model.info()
    assert (info.framework, info.framework_version) == ("remote", "oip")
    assert info.model_class == f"{upstream.url}/v2/models/broken"
    with pytest.raises(ModelUnavailable) as caught:
        model.predict_proba(pd.DataFrame({"a": [1.0]}))
    text = str(caught.value) + repr(model)
    assert "s3cret" not in text and "alice" not in text and "t0ps3cret" not in text


@pytest.mark.parametrize("protocol", ["oip", "json"])
@pytest.mark.parametrize(
    ("name", "timeout", "says"),
    [
        ("broken", False, "answered HTTP 500"),
        ("slow", True, f"did not answer within {TIMEOUT_S:g} s"),
        ("html", False, "not JSON (text/html)"),
        ("short", False, "rows of probabilities for 10 inputs"),
        ("logits", False, "negative probabilities"),
        ("empty", False, "answered no"),
        ("missing-model", False, "answered HTTP 404"),
    ],
)
def test_every_upstream_failure_is_model_unavailable(
    upstream: Upstream, cancer: Any, protocol: str, name: str, timeout: bool, says: str
) -> None:
    model = remote(upstream, name, protocol, timeout=TIMEOUT_S if timeout else OK_TIMEOUT_S)
    t0 = time.perf_counter()
    with pytest.raises(ModelUnavailable) as caught:
        model.predict_proba(cancer.X_test.iloc[:10])
    err = caught.value
    assert err.timeout is timeout
    assert says in err.detail and model.endpoint in err.detail
    assert "\n" not in err.detail
    assert time.perf_counter() - t0 < HANG_S  # the timeout, not the upstream, ended the call


def test_unreachable_upstream_is_model_unavailable() -> None:
    for protocol in ("oip", "json"):
        model = RemoteModel(f"http://127.0.0.1:{_closed_port()}", protocol=protocol)
        with pytest.raises(ModelUnavailable) as caught:
            model.predict_proba(pd.DataFrame({"a": [1.0, 2.0]}))
        assert caught.value.timeout is False
        assert "cannot be reached" in caught.value.detail
        assert model.ping() is False


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="http"):
        RemoteModel("ftp://example.org/model")
    with pytest.raises(ValueError, match="protocol"):
        RemoteModel("http://example.org", protocol="grpc")
    with pytest.raises(ValueError, match="timeout"):
        RemoteModel("http://example.org", timeout=0)
    with pytest.raises(ValueError, match="differs"):
        RemoteModel("http://example.org/v2/models/a", model_name="b")


def test_regression_values(cancer: Any) -> None:
    """A regressor upstream answering [n, 1] values over plain JSON."""
    reg = LinearRegression().fit(cancer.X_train, cancer.y_train.astype(float))
    app = FastAPI()
    calls: list[int] = []

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        rows = (await request.json())["instances"]
        calls.append(len(rows))
        X = pd.DataFrame(rows)[list(reg.feature_names_in_)]
        return {"predictions": reg.predict(X).reshape(-1, 1).tolist()}

    with ServerThread(app) as server:
        model = RemoteModel(f"{server.url}/predict", protocol="json", task="regression")
        X = cancer.X_test.iloc[:30]
        np.testing.assert_allclose(model.predict_values(X), reg.predict(X), rtol=0, atol=1e-9)
        assert model.ping()  # GET on a POST-only endpoint: 405, so it is up
        with pytest.raises(TypeError):
            model.predict_proba(X)
    assert calls == [30]


# -- rails through the proxy ----------------------------------------------------------------
def _mixed_rows(cancer: Any) -> list[dict[str, Any]]:
    """In-distribution rows, far-out (OOD) rows, and rows that break the contract."""
    X = cancer.X_test
    good = X.iloc[:40]
    rng = np.random.default_rng(0)
    far = pd.DataFrame(
        X.max().to_numpy() * rng.uniform(2.0, 4.0, size=(10, X.shape[1])), columns=X.columns
    )
    rows = [{str(k): float(v) for k, v in r.items()} for _, r in pd.concat([good, far]).iterrows()]
    bad = dict(rows[0], **{"mean radius": "big"})
    missing = {k: v for k, v in rows[1].items() if k != "worst area"}
    return [*rows, bad, missing]


@pytest.mark.parametrize("protocol", ["oip", "json"])
def test_rails_through_the_proxy_match_the_local_rails(
    upstream: Upstream, artifact: Path, cancer: Any, protocol: str
) -> None:
    local = mlrails.load(artifact)
    with remote(upstream, protocol=protocol, classes=None) as model:
        proxied = mlrails.load(artifact, model=model)
        assert proxied.artifact_hash == local.artifact_hash
        # a mixed batch (one combined call with label instability's noisy copies) and a
        # large one (> 256 rows: the copies go in a second call)
        large = pd.concat([cancer.X_test, cancer.X_train.iloc[:150]], ignore_index=True)
        for rows in (_mixed_rows(cancer), large):
            want, got = local.check(rows), proxied.check(rows)
            assert [v.status for v in got] == [v.status for v in want]
            assert [v.prediction for v in got] == [v.prediction for v in want]
            for a, b in zip(got, want, strict=True):
                assert a.problem == b.problem
                assert a.prediction_set == b.prediction_set
                if b.probabilities is None:
                    assert a.probabilities is None
                else:
                    assert a.probabilities is not None
                    np.testing.assert_allclose(
                        list(a.probabilities.values()),
                        list(b.probabilities.values()),
                        rtol=0,
                        atol=1e-12,
                    )
                sa = {s.name: s.score for s in a.safeguards}
                sb = {s.name: s.score for s in b.safeguards}
                assert sa.keys() == sb.keys()
                # a rule with no score (the empty-conformal-set entry) has none on both sides
                assert [k for k, s in sa.items() if s is None] == [
                    k for k, s in sb.items() if s is None
                ]
                scored = [k for k, s in sb.items() if s is not None]
                np.testing.assert_allclose(
                    [sa[k] for k in scored], [sb[k] for k in scored], atol=1e-12
                )
        statuses = {v.status for v in proxied.check(_mixed_rows(cancer))}
        assert {200, 400, 422} <= statuses  # the mix really is mixed


def test_rails_let_model_unavailable_through(
    upstream: Upstream, artifact: Path, cancer: Any
) -> None:
    rows = cancer.X_test.iloc[:20]
    # the model call: no row-by-row retry, no second call without the noisy copies
    broken = mlrails.load(artifact, model=remote(upstream, "broken"), check_model=False)
    before = upstream.calls["broken"]
    with pytest.raises(ModelUnavailable, match="HTTP 500"):
        broken.check(rows)
    assert upstream.calls["broken"] == before + 1
    slow = mlrails.load(
        artifact, model=remote(upstream, "slow", timeout=TIMEOUT_S), check_model=False
    )
    with pytest.raises(ModelUnavailable) as caught:
        slow.check(rows.iloc[:1])
    assert caught.value.timeout is True
    # label instability's own call (> 256 rows): not turned into a safeguard error
    name = f"after1-{uuid.uuid4().hex[:8]}"
    flaky = mlrails.load(artifact, model=remote(upstream, name), check_model=False)
    large = pd.concat([cancer.X_test, cancer.X_train.iloc[:150]], ignore_index=True)
    with pytest.raises(ModelUnavailable, match="HTTP 500"):
        flaky.check(large)
    assert upstream.calls[name] == 2
    # explanations: not swallowed as "explanation failed" evidence
    name = f"after1-{uuid.uuid4().hex[:8]}"
    flaky = mlrails.load(artifact, model=remote(upstream, name), check_model=False)
    with pytest.raises(ModelUnavailable, match="HTTP 500"):
        flaky.check(rows.iloc[:1], explain=True)


def test_load_checks_the_upstream_is_the_fitted_model(upstream: Upstream, artifact: Path) -> None:
    for protocol in ("oip", "json"):
        with pytest.raises(ArtifactError, match="does not reproduce the predictions"):
            mlrails.load(artifact, model=remote(upstream, "other", protocol))
    down = RemoteModel(f"http://127.0.0.1:{_closed_port()}", timeout=TIMEOUT_S)
    with pytest.raises(MlrailsError) as caught:
        mlrails.load(artifact, model=down)
    msg = str(caught.value)
    assert isinstance(caught.value, ModelUnavailable)
    assert "probe rows" in msg and "cannot be reached" in msg and "\n" not in msg
    regression = RemoteModel(upstream.url, task="regression")
    with pytest.raises(ArtifactError, match="classification"):
        mlrails.load(artifact, model=regression)


def test_for_artifact_takes_task_and_classes(upstream: Upstream, artifact: Path) -> None:
    model = remote_model_for(artifact, upstream.url, model_name="cancer")
    assert model.task == "classification"
    assert model.classes_ is not None and model.classes_.tolist() == [0, 1]
    with pytest.raises(ArtifactError):
        remote_model_for(artifact / "nope", upstream.url)
