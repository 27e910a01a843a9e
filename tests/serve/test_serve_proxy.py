"""Proxy mode (``mlrails serve --upstream``) end to end: a real upstream model server on
loopback (the stand-in of ``upstreamkit``, and a stock MLServer from ``.venv-mlserver``), the
guard's service in front of it, both over HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from servekit import Fitted, Served
from sklearn.ensemble import RandomForestClassifier

import mlrails
from mlrails._json import jsonable
from mlrails.models.remote import RemoteModel
from mlrails.serve import KeyRing, ServerThread, ServeSettings, create_app
from mlrails.store import open_store
from upstreamkit import (
    ENV_REQUIRE_MLSERVER,
    Mlserver,
    NoMlserver,
    Upstream,
    start_mlserver,
    start_upstream,
)

PROBLEM = "application/problem+json"
BASE = "https://mlrails.dev/problems/"
MLRAILS = Path(sys.executable).with_name("mlrails")
HANG_S = 3.0


@pytest.fixture(scope="module")
def upstream(cancer_forest: Any, cancer: Any) -> Iterator[Upstream]:
    other = RandomForestClassifier(n_estimators=7, random_state=3).fit(
        cancer.X_train, cancer.y_train
    )
    up = start_upstream({"cancer": cancer_forest, "other": other}, hang_s=HANG_S)
    yield up
    up.stop()


@pytest.fixture(scope="module")
def mlserver(cancer_forest: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mlserver]:
    """A stock MLServer 1.7 serving the artifact's forest as ``cancer`` (one per module)."""
    try:
        ms = start_mlserver({"cancer": cancer_forest}, tmp_path_factory.mktemp("mlserver"))
    except NoMlserver as exc:
        if os.environ.get(ENV_REQUIRE_MLSERVER):
            pytest.fail(f"{ENV_REQUIRE_MLSERVER} is set but {exc}")
        pytest.skip(str(exc))
    yield ms
    ms.stop()


@pytest.fixture(scope="module")
def start_proxy(fitted: Fitted, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Start the service in front of an upstream model (own store and key per server)."""
    started: list[Served] = []

    def start(model: RemoteModel, *, check_model: bool = True, **settings: Any) -> Served:
        rails = mlrails.load(fitted.artifact, model=model, check_model=check_model)
        db = tmp_path_factory.mktemp("proxy") / "decisions.db"
        store = open_store(db)
        issued = KeyRing(store).create("tests")
        cfg = ServeSettings(**{"port": 0, "rate_limit_rps": None, **settings})
        server = ServerThread(create_app(rails, store, cfg)).start()
        client = httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {issued.token}"},
            timeout=30.0,
        )
        served = Served(server.url, store, db, issued.token, issued.record.id, client, cfg, server)
        started.append(served)
        return served

    yield start
    for s in started:
        s.client.close()
        s.server.stop()
        s.store.close()


@pytest.fixture(scope="module")
def proxy(start_proxy: Any, upstream: Upstream) -> Served:
    """The service in front of the healthy upstream serving the artifact's model (OIP)."""
    return start_proxy(RemoteModel(upstream.url, model_name="cancer"))


def _is_problem(r: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    doc = r.json()
    assert doc["type"] == BASE + slug and doc["status"] == status
    assert doc["title"] and doc["detail"] and "Traceback" not in r.text
    return doc


def _infer_body(rows: list[dict[str, Any]]) -> dict[str, Any]:
    cols = list(rows[0])
    return {
        "inputs": [
            {"name": c, "shape": [len(rows)], "datatype": "FP64", "data": [r[c] for r in rows]}
            for c in cols
        ]
    }


# -- a healthy upstream ---------------------------------------------------------------------
@pytest.mark.parametrize("protocol", ["oip", "json"])
def test_proxy_answers_like_the_local_service(
    start_proxy: Any, served: Served, upstream: Upstream, fitted: Fitted, protocol: str
) -> None:
    if protocol == "oip":
        model = RemoteModel(upstream.url, model_name="cancer")
    else:
        model = RemoteModel(f"{upstream.url}/json/cancer", protocol="json")
    _answers_like_the_local_service(start_proxy(model), served, fitted)


def _answers_like_the_local_service(s: Served, served: Served, fitted: Fitted) -> None:
    """The proxy ``s`` gives the verdicts of the local service ``served`` (same forest)."""
    rows = [fitted.status_rows[k] for k in (200, 203, 400, 403, 422)]
    here, there = served.post({"instances": rows}), s.post({"instances": rows})
    assert there.status_code == here.status_code == 207, there.text
    _same_verdicts(there.json()["verdicts"], here.json()["verdicts"])
    assert [v["status"] for v in there.json()["verdicts"]] == [200, 203, 400, 403, 422]
    one = s.post({"instance": fitted.status_rows[200]})
    assert one.status_code == 200
    assert (
        one.json()["probabilities"]
        == served.post({"instance": fitted.status_rows[200]}).json()["probabilities"]
    )


def _same_verdicts(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert [v["status"] for v in got] == [v["status"] for v in want]
    for a, b in zip(got, want, strict=True):
        assert a.get("prediction") == b.get("prediction")
        if b.get("probabilities") is not None:
            np.testing.assert_allclose(
                list(a["probabilities"].values()), list(b["probabilities"].values()), atol=1e-12
            )


def test_proxy_in_front_of_a_stock_mlserver(
    start_proxy: Any, served: Served, mlserver: Mlserver, fitted: Fitted
) -> None:
    """MLServer answers ``predict`` (labels) unless asked: the proxy asks for
    ``predict_proba`` by default, and gives the verdicts of the same forest in process."""
    s = start_proxy(RemoteModel(f"{mlserver.url}/v2/models/cancer"))
    _answers_like_the_local_service(s, served, fitted)
    rows = [fitted.status_rows[k] for k in (200, 203, 403, 422)]
    in_process = fitted.rails.check(pd.DataFrame(rows))
    verdicts = s.post({"instances": rows}).json()["verdicts"]
    assert [v["status"] for v in verdicts] == [v.status for v in in_process]
    for got, want in zip(verdicts, in_process, strict=True):
        assert got.get("prediction") == jsonable(want.prediction)
    body = _infer_body([fitted.status_rows[200]])
    r = s.client.post("/v2/models/mlrails/infer", json=body)
    local = served.client.post("/v2/models/mlrails/infer", json=body)
    assert r.status_code == local.status_code == 200, r.text
    assert r.json()["outputs"] == local.json()["outputs"]


def test_upstream_refusing_the_named_output_says_why(
    start_proxy: Any, upstream: Upstream, fitted: Fitted
) -> None:
    s = start_proxy(
        RemoteModel(upstream.url, model_name="cancer", output="nope"), check_model=False
    )
    doc = _is_problem(s.post({"instance": fitted.status_rows[200]}), 502, "bad-gateway")
    assert "answered HTTP 400 Bad Request: only 'predict' and 'predict_proba'" in doc["detail"]


def test_proxy_oip_infer_answers_200(proxy: Served, served: Served, fitted: Fitted) -> None:
    body = _infer_body([fitted.status_rows[200]])
    r = proxy.client.post("/v2/models/mlrails/infer", json=body)
    assert r.status_code == 200, r.text
    want = served.client.post("/v2/models/mlrails/infer", json=body).json()
    outs = {o["name"]: o["data"] for o in r.json()["outputs"]}
    expected = {o["name"]: o["data"] for o in want["outputs"]}
    assert outs["status"] == [200]
    np.testing.assert_allclose(outs["probabilities"], expected["probabilities"], atol=1e-12)


def test_openapi_documents_502_in_proxy_mode(proxy: Served, served: Served) -> None:
    doc = httpx.get(proxy.url + "/openapi.json").json()
    for path in ("/v1/predict", "/v2/models/{model_name}/infer"):
        answers = doc["paths"][path]["post"]["responses"]
        assert BASE + "bad-gateway" in answers["502"]["content"][PROBLEM]["x-problem-types"]
        assert BASE + "timeout" in answers["504"]["content"][PROBLEM]["x-problem-types"]
    local = httpx.get(served.url + "/openapi.json").json()
    assert "502" not in local["paths"]["/v1/predict"]["post"]["responses"]


# -- a failing upstream ---------------------------------------------------------------------
@pytest.mark.parametrize(("name", "says"), [("broken", "answered HTTP 500"), ("html", "not JSON")])
def test_failing_upstream_is_502(
    start_proxy: Any, upstream: Upstream, fitted: Fitted, name: str, says: str
) -> None:
    s = start_proxy(RemoteModel(upstream.url, model_name=name), check_model=False)
    before = upstream.calls[name]
    doc = _is_problem(s.post({"instance": fitted.status_rows[200]}), 502, "bad-gateway")
    assert says in doc["detail"]
    assert upstream.calls[name] == before + 1  # one call: no row-by-row retry
    r = s.client.post("/v2/models/mlrails/infer", json=_infer_body([fitted.status_rows[200]]))
    _is_problem(r, 502, "bad-gateway")


def test_hanging_upstream_is_504(start_proxy: Any, upstream: Upstream, fitted: Fitted) -> None:
    model = RemoteModel(upstream.url, model_name="slow", timeout=0.5)
    s = start_proxy(model, check_model=False)
    t0 = time.perf_counter()
    doc = _is_problem(s.post({"instance": fitted.status_rows[200]}), 504, "timeout")
    assert time.perf_counter() - t0 < HANG_S
    assert "did not answer within 0.5 s" in doc["detail"]


def test_readyz_follows_the_upstream(start_proxy: Any, cancer_forest: Any, fitted: Fitted) -> None:
    up = start_upstream({"cancer": cancer_forest})
    try:
        s = start_proxy(RemoteModel(up.url, model_name="cancer", timeout=10.0))
        assert httpx.get(s.url + "/readyz").status_code == 200
        assert s.post({"instance": fitted.status_rows[200]}).status_code == 200
    finally:
        up.stop()
    r = httpx.get(s.url + "/readyz")
    assert r.status_code == 503, r.text
    doc = _is_problem(s.post({"instance": fitted.status_rows[200]}), 502, "bad-gateway")
    assert "cannot be reached" in doc["detail"]


# -- the command line -----------------------------------------------------------------------
def _run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MLRAILS), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["stand-in", "mlserver"])
def test_cli_serve_upstream(
    fitted: Fitted, served: Served, request: pytest.FixtureRequest, tmp_path: Path, kind: str
) -> None:
    """``mlrails serve --upstream URL/v2/models/cancer`` starts (the probe rows go upstream)
    and answers like the local service, in front of the stand-in and of a stock MLServer."""
    up: Upstream | Mlserver = request.getfixturevalue(
        "upstream" if kind == "stand-in" else "mlserver"
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(MLRAILS),
            "serve",
            str(fitted.artifact),
            "--upstream",
            f"{up.url}/v2/models/cancer",
            "--upstream-timeout",
            "10",
            "--port",
            str(port),
            "--store",
            str(tmp_path / "log.db"),
            "--auth",
            "off",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        before = up.calls["cancer"] if isinstance(up, Upstream) else 0
        r = httpx.post(url + "/v1/predict", json={"instance": fitted.status_rows[200]})
        assert r.status_code == 200, r.text
        if isinstance(up, Upstream):
            assert up.calls["cancer"] > before  # the prediction came from the upstream
        rows = [fitted.status_rows[k] for k in (200, 203, 400, 403, 422)]
        there = httpx.post(url + "/v1/predict", json={"instances": rows}, timeout=30)
        _same_verdicts(
            there.json()["verdicts"], served.post({"instances": rows}).json()["verdicts"]
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err


@pytest.mark.slow
def test_cli_serve_upstream_fails_fast(fitted: Fitted, upstream: Upstream, tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    both = _run("serve", fitted.artifact, "--upstream", upstream.url, "--model", "m.skops")
    assert both.returncode == 2 and "mutually exclusive" in both.stderr
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    down = _run("serve", fitted.artifact, "--upstream", closed, "--store", db)
    other = _run("serve", fitted.artifact, "--upstream", f"{upstream.url}/v2/models/other")
    bad = _run("serve", fitted.artifact, "--upstream", "ftp://x", "--store", db)
    cancer = f"{upstream.url}/v2/models/cancer"
    output = _run("serve", fitted.artifact, "--upstream", cancer, "--upstream-output", "labels")
    for r, says in (
        (down, "cannot be reached"),
        (output, "answered HTTP 400 Bad Request: only 'predict' and 'predict_proba' are outputs"),
        (other, "does not reproduce the predictions"),
        (bad, "--upstream: upstream URL must be http:// or https://"),
    ):
        assert r.returncode == 2, r.stderr
        assert says in r.stderr and "Traceback" not in r.stderr
        assert r.stderr.count("\n") == 1  # one line
