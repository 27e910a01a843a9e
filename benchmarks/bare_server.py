"""Baseline server of ``bench_serve``: the artifact's bundled model on bare FastAPI + uvicorn.

What a team would write without mlrails: ``POST /predict`` takes ``{"instance": {...}}``
(validated as ``dict[str, float]`` by FastAPI), builds a one-row DataFrame in the model's
column order and calls ``predict_proba`` once. No safeguards, no decision log, no auth, no
metrics. The endpoint is a plain ``def``, so FastAPI runs it in its worker-thread pool (the
usual way to serve a blocking model call). ``GET /healthz`` answers 200 once loaded.

    .venv/bin/python -m benchmarks.bare_server ARTIFACT --port 8001 [--workers 1]
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

ENV_ARTIFACT = "MLRAILS_BENCH_ARTIFACT"


class PredictBody(BaseModel):
    instance: dict[str, float]


def make_app() -> FastAPI:
    """The app, serving the model bundled in the artifact named by ``$MLRAILS_BENCH_ARTIFACT``."""
    import mlrails

    rails = mlrails.load(os.environ[ENV_ARTIFACT])
    model = rails.adapter  # the bundled model (model.skops), nothing of the guard
    columns = rails.contract.columns
    classes = [] if model.classes_ is None else model.classes_.tolist()
    del rails
    app = FastAPI(title="bare model")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/predict")
    def predict(body: PredictBody) -> dict[str, Any]:
        X = pd.DataFrame([body.instance], columns=columns)
        proba = model.predict_proba(X)[0]
        best = int(proba.argmax())
        return {
            "prediction": classes[best] if classes else best,
            "probabilities": [float(p) for p in proba],
        }

    return app


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("artifact")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8001)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--log-level", default="warning")
    a = ap.parse_args()
    os.environ[ENV_ARTIFACT] = str(a.artifact)
    uvicorn.run(
        "benchmarks.bare_server:make_app",
        factory=True,
        host=a.host,
        port=a.port,
        workers=a.workers,
        log_level=a.log_level,
        server_header=False,
    )


if __name__ == "__main__":
    main()
