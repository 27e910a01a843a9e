"""The service builds the explainer at start-up; ``/readyz`` waits for it (real uvicorn)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlrails
from mlrails.serve import ServerThread, ServeSettings, create_app
from mlrails.store import open_store


def _rails() -> Any:
    rng = np.random.default_rng(0)
    n = 800
    X = pd.DataFrame(
        {
            "zone": rng.choice(["n", "s", "e"], n),
            "age": rng.normal(40, 10, n),
            "tier": rng.choice(["gold", "silver"], n),
            "income": rng.normal(50, 15, n),
        }
    )
    y = (rng.random(n) < expit(0.1 * (X["age"] - 40) + (X["zone"] == "n"))).astype(int)
    model = Pipeline(
        [
            (
                "pre",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["zone", "tier"]),
                        ("num", StandardScaler(), ["age", "income"]),
                    ]
                ),
            ),
            ("model", HistGradientBoostingClassifier(max_iter=30)),
        ]
    ).fit(X, y)
    rails = mlrails.fit(model, X, y, policy={"drift": {"reference": False}})
    return rails, X


def test_explainer_is_built_at_start_up_and_readiness_waits(tmp_path: Path) -> None:
    rails, X = _rails()
    rails.save(tmp_path / "a")
    loaded = mlrails.load(tmp_path / "a")
    assert loaded._explainer is None  # nothing built before the service starts
    store = open_store(tmp_path / "d.db")
    server = ServerThread(create_app(loaded, store, ServeSettings(port=0, auth=False))).start()
    try:
        # the Open Inference Protocol's readiness waits for the same build as /readyz
        oip = httpx.get(server.url + "/v2/health/ready", timeout=120)
        assert oip.status_code == 200 and loaded._explainer is not None
        r = httpx.get(server.url + "/readyz", timeout=120)
        assert r.status_code == 200 and r.json()["explainer"] is True
        assert loaded._explainer is not None and loaded.explainer().method == "tree"
        rows = X.iloc[:200].to_dict(orient="records")
        answer = httpx.post(
            server.url + "/v1/predict?explain=true", json={"instances": rows}, timeout=120
        )
        assert answer.status_code in (200, 207), answer.text[:500]
        doc = answer.json()
        results = doc.get("results") or doc.get("verdicts") or []
        explained = [v["explanation"] for v in results if v.get("explanation")]
        assert len(explained) >= 150
        assert all(e["explains"].startswith("calibrated log-odds") for e in explained)
    finally:
        server.stop()
        store.close()
