"""Types shared by the service tests (the fixtures themselves live in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from mlrails.guard.rails import Rails
from mlrails.serve import ServerThread, ServeSettings
from mlrails.store import Store


@dataclass
class Fitted:
    """The saved artifact, the rails loaded from it, and one row per status code."""

    artifact: Path
    rails: Rails
    X: pd.DataFrame
    status_rows: dict[int, dict[str, Any]]


@dataclass
class Served:
    """A running server: its URL, its store, a valid API token and a client using it."""

    url: str
    store: Store
    db_path: Path
    token: str
    key_id: str
    client: httpx.Client
    settings: ServeSettings
    server: ServerThread
    extra: dict[str, Any] = field(default_factory=dict)

    def post(self, body: Any, **kwargs: Any) -> httpx.Response:
        return self.client.post("/v1/predict", json=body, **kwargs)


ServerFactory = Callable[..., Served]
