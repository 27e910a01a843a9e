"""A real upstream model server on loopback, for the proxy-mode tests (``RemoteModel``).

A bare FastAPI app (no mlrails in it) serves scikit-learn classifiers in both protocols that
:class:`mlrails.models.remote.RemoteModel` speaks:

* Open Inference Protocol v2: ``POST /v2/models/{name}/infer`` (one tensor per column, or
  one ``input`` tensor ``[n, d]``, in; ``probabilities`` and ``predict`` out),
  ``GET /v2/health/ready``;
* plain JSON: ``POST /json/{name}`` (``{"instances": [{column: value}, ...]}`` or rows as
  lists in, ``{"predictions": [[p0, p1], ...]}`` out).

``name`` is a served model, or one of the misbehaving upstreams below (which answer for the
model ``cancer``): ``broken`` (HTTP 500), ``slow`` (sleeps ``hang_s`` before answering),
``html`` (not JSON), ``short`` (one row too few), ``logits`` (log-probabilities), ``empty``
(no outputs / no predictions), ``single`` (OIP: the probabilities as the only output, named
``output-0``), ``after{k}-{tag}`` (answers the first ``k`` calls, then HTTP 500). Every call
is counted by name in ``Upstream.calls``.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
            "name": "output-0" if name == "single" else "probabilities",
            "datatype": "FP64",
            "shape": list(P.shape),
            "data": P.reshape(-1).tolist(),
        }
        labels = model.classes_[P.argmax(axis=1)].tolist()
        predict = {"name": "predict", "datatype": "INT64", "shape": [len(labels)], "data": labels}
        outputs = [] if name == "empty" else [proba] if name == "single" else [predict, proba]
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
