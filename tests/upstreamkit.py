"""A real upstream model server on loopback, for the proxy-mode tests (``RemoteModel``).

A bare FastAPI app (no mlrails in it) serves scikit-learn classifiers in both protocols that
:class:`mlrails.models.remote.RemoteModel` speaks:

* Open Inference Protocol v2 as a stock MLServer (``mlserver_sklearn``) speaks it:
  ``POST /v2/models/{name}/infer`` (one tensor per column, or one ``input`` tensor ``[n, d]``,
  in), answering only ``predict`` (the labels) unless the request names its ``outputs``
  (``predict``, ``predict_proba``; any other name is HTTP 400 with ``{"error": ...}``),
  ``GET /v2/health/ready``;
* plain JSON: ``POST /json/{name}`` (``{"instances": [{column: value}, ...]}`` or rows as
  lists in, ``{"predictions": [[p0, p1], ...]}`` out).

``name`` is a served model, or one of the misbehaving upstreams below (which answer for the
model ``cancer``): ``broken`` (HTTP 500), ``slow`` (sleeps ``hang_s`` before answering),
``html`` (not JSON), ``short`` (one row too few), ``logits`` (log-probabilities), ``empty``
(no outputs / no predictions), ``single`` (OIP: the probabilities as the only output, named
``output-0``, whatever the request names, as KServe's servers answer), ``after{k}-{tag}``
(answers the first ``k`` calls, then HTTP 500). Every call is counted by name in
``Upstream.calls``.

:func:`start_mlserver` starts a real, stock MLServer (``mlserver_sklearn.SKLearnModel``) from
its own virtual environment ``.venv-mlserver`` (``make mlserver``; its pins conflict with the
project's), serving joblib-saved scikit-learn models on free loopback ports.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import joblib
import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from mlrails.serve import ServerThread

FAILING = ("broken", "slow", "html", "short", "logits", "empty")
_AFTER = re.compile(r"^after(\d+)-")


@dataclass
class Upstream:
    """A running upstream: its base URL, the calls it got by model name, its server."""

    url: str
    server: ServerThread
    calls: Counter[str] = field(default_factory=Counter)

    def stop(self) -> None:
        self.server.stop()


def _frame(model: Any, protocol: str, body: Any) -> pd.DataFrame:
    """The rows of a request: named columns, or a matrix in the model's column order."""
    names = list(model.feature_names_in_)
    if protocol == "oip":
        inputs = body["inputs"]
        if len(inputs) == 1 and inputs[0]["name"] == "input":
            matrix = np.asarray(inputs[0]["data"], dtype=np.float64)
            return pd.DataFrame(matrix.reshape(inputs[0]["shape"]), columns=names)
        columns = {t["name"]: t["data"] for t in inputs}
    else:
        rows = body["instances"]
        if isinstance(rows[0], list):
            return pd.DataFrame(np.asarray(rows, dtype=np.float64), columns=names)
        columns = {c: [r[c] for r in rows] for c in rows[0]}
    return pd.DataFrame({c: np.asarray(columns[c], dtype=np.float64) for c in names})


def upstream_app(models: Mapping[str, Any], calls: Counter[str], hang_s: float) -> FastAPI:
    """The bare upstream app (see the module docstring)."""
    app = FastAPI()

    async def answer(name: str, protocol: str, request: Request) -> Response:
        calls[name] += 1
        body = await request.json()
        m = _AFTER.match(name)
        if name == "broken" or (m and calls[name] > int(m.group(1))):
            return JSONResponse({"error": "the model fell over"}, status_code=500)
        if name == "slow":
            await asyncio.sleep(hang_s)
        if name == "html":
            return PlainTextResponse("<html>gateway page</html>", media_type="text/html")
        model = models.get(name, models["cancer"] if name in (*FAILING, "single") or m else None)
        if model is None:
            return JSONResponse({"error": f"no model {name}"}, status_code=404)
        P = model.predict_proba(_frame(model, protocol, body))
        if name == "short":
            P = P[:-1]
        if name == "logits":
            P = np.log(np.clip(P, 1e-9, 1.0))
        if protocol == "json":
            return JSONResponse({} if name == "empty" else {"predictions": P.tolist()})
        proba = {
            "name": "output-0" if name == "single" else "predict_proba",
            "datatype": "FP64",
            "shape": list(P.shape),
            "data": P.reshape(-1).tolist(),
        }
        labels = model.classes_[P.argmax(axis=1)].tolist()
        predict = {"name": "predict", "datatype": "INT64", "shape": [len(labels), 1]}
        predict["data"] = labels
        if name in ("empty", "single"):
            outputs = [] if name == "empty" else [proba]
            return JSONResponse({"model_name": name, "outputs": outputs})
        by_name = {"predict": predict, "predict_proba": proba}
        wanted = [o["name"] for o in body.get("outputs") or [{"name": "predict"}]]
        unknown = [w for w in wanted if w not in by_name]
        if unknown:
            error = f"only 'predict' and 'predict_proba' are outputs ({unknown[0]} was received)"
            return JSONResponse({"error": error}, status_code=400)
        outputs = [by_name[w] for w in wanted]
        return JSONResponse({"model_name": name, "outputs": outputs})

    @app.get("/v2/health/ready")
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    @app.post("/v2/models/{name}/infer")
    async def infer(name: str, request: Request) -> Response:
        return await answer(name, "oip", request)

    @app.post("/json/{name}")
    async def predict(name: str, request: Request) -> Response:
        return await answer(name, "json", request)

    return app


def start_upstream(models: Mapping[str, Any], hang_s: float = 2.0) -> Upstream:
    """Serve ``models`` on a free loopback port (stop it with :meth:`Upstream.stop`)."""
    calls: Counter[str] = Counter()
    server = ServerThread(upstream_app(models, calls, hang_s)).start()
    return Upstream(server.url, server, calls)


# -- a stock MLServer ---------------------------------------------------------------------------
MLSERVER_VENV = Path(__file__).resolve().parents[1] / ".venv-mlserver"
#: when set, a missing MLServer venv fails the tests that need it instead of skipping them
ENV_REQUIRE_MLSERVER = "MLRAILS_REQUIRE_MLSERVER"


class NoMlserver(Exception):
    """The MLServer virtual environment is not there."""


@dataclass
class Mlserver:
    """A running MLServer: its base URL (HTTP) and its process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def start_mlserver(models: Mapping[str, Any], root: Path, timeout_s: float = 90.0) -> Mlserver:
    """``mlserver start root`` serving each model (saved with joblib) under its name, one
    process (``parallel_workers: 0``); returns once every model is ready."""
    exe = MLSERVER_VENV / "bin" / "mlserver"
    if not exe.is_file():
        raise NoMlserver(f"{exe} is absent (`make mlserver` installs it)")
    for name, model in models.items():
        d = root / name
        d.mkdir()
        joblib.dump(model, d / "model.joblib")
        settings = {
            "name": name,
            "implementation": "mlserver_sklearn.SKLearnModel",
            "parameters": {"uri": "./model.joblib"},
        }
        (d / "model-settings.json").write_text(json.dumps(settings))
    http_port, grpc_port, metrics_port = _free_ports(3)
    server = {
        "host": "127.0.0.1",
        "http_port": http_port,
        "grpc_port": grpc_port,
        "metrics_port": metrics_port,
        "parallel_workers": 0,
        "debug": False,
    }
    (root / "settings.json").write_text(json.dumps(server))
    log = root / "mlserver.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(exe), "start", str(root)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    ms = Mlserver(f"http://127.0.0.1:{http_port}", proc, log)
    deadline = time.monotonic() + timeout_s
    waiting = set(models)
    while waiting:
        for name in sorted(waiting):
            try:
                r = httpx.get(f"{ms.url}/v2/models/{name}/ready", timeout=1.0)
                if r.status_code == 200:
                    waiting.discard(name)
            except httpx.TransportError:
                pass
        if proc.poll() is not None or time.monotonic() > deadline:
            ms.stop()
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"MLServer did not get ready ({sorted(waiting)}):\n{tail}")
        time.sleep(0.2)
    return ms
