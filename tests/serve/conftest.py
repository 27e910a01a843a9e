"""A real uvicorn server on loopback around rails fitted on scikit-learn's breast-cancer data.

The rails use a held-out calibration split and a policy whose reliability safeguard asks for
a calibrated confidence of at least 0.99, so one artifact answers 200, 203, 400, 403 and 422:
``status_rows`` finds, with the in-process guard, one row for each of those codes, and the
HTTP tests check that the server answers them identically.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from pgkit import ENV_REQUIRE, NoPostgres, PostgresServer, start_server
from servekit import Fitted, Served, ServerFactory
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

import mlrails
from mlrails.guard.rails import Rails
from mlrails.serve import KeyRing, ServerThread, ServeSettings, create_app
from mlrails.store import open_store

POLICY = {"reliability": {"min_confidence": 0.99}, "batch_shift": {"mode": "warn"}}

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: how long a page waits for an element (the dashboard polls every 2 s)
PAGE_TIMEOUT_MS = 15_000


def _record(row: pd.Series) -> dict[str, Any]:
    return {str(k): float(v) for k, v in row.items()}


def _find_status_rows(rails: Rails, X: pd.DataFrame, y: np.ndarray[Any, Any]) -> dict[int, Any]:
    """One record per status code, found by asking the guard in process."""
    rng = np.random.default_rng(0)
    lo, hi = X.min().to_numpy(), X.max().to_numpy()
    uniform = pd.DataFrame(rng.uniform(lo, hi, size=(50, X.shape[1])), columns=X.columns)
    a = X[y == 0].iloc[:20].reset_index(drop=True)
    b = X[y == 1].iloc[:20].reset_index(drop=True)
    between = pd.concat([a * (1 - t) + b * t for t in np.linspace(0, 1, 21)], ignore_index=True)
    candidates = pd.concat([X, uniform, between], ignore_index=True)
    found: dict[int, Any] = {}
    for i, v in enumerate(rails.check(candidates)):
        found.setdefault(v.status, _record(candidates.iloc[i]))
    bad = dict(found[200])
    bad["mean texture"] = "abc"  # type: ignore[assignment]
    found[400] = bad
    missing = {200, 203, 400, 403, 422} - set(found)
    assert not missing, f"no row found for {missing}"
    return found


@pytest.fixture(scope="session")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> Fitted:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_tr, X_cal, y_tr, y_cal = train_test_split(
        X, y.to_numpy(), test_size=0.3, random_state=0, stratify=y
    )
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_tr, y_tr)
    rails = mlrails.fit(model, X_tr, y_tr, X_cal, y_cal, policy=POLICY)
    path = tmp_path_factory.mktemp("artifact") / "rails"
    rails.save(path)
    loaded = mlrails.load(path)
    X_tr = X_tr.reset_index(drop=True)
    return Fitted(path, loaded, X_tr, _find_status_rows(loaded, X_tr, y_tr))


@pytest.fixture(scope="module")
def make_server(
    fitted: Fitted, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerFactory]:
    """Start servers (each with its own SQLite store and key) and stop them at module end."""
    started: list[Served] = []

    def start(store_timeout_s: float = 5.0, **settings: Any) -> Served:
        db = tmp_path_factory.mktemp("store") / "decisions.db"
        store = open_store(db, timeout_s=store_timeout_s)
        issued = KeyRing(store).create("tests")
        opts: dict[str, Any] = {"port": 0, "rate_limit_rps": None, **settings}
        cfg = ServeSettings(**opts)
        server = ServerThread(create_app(fitted.rails, store, cfg), settings=cfg).start()
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
def served(make_server: ServerFactory) -> Served:
    """The main server: auth on, no rate limit, at most 50 rows per request."""
    return make_server(max_batch_rows=50, store_timeout_s=0.3)


def _postgres_or_skip(local: bool = False) -> PostgresServer:
    try:
        return start_server(local=local)
    except NoPostgres as exc:
        if os.environ.get(ENV_REQUIRE):
            pytest.fail(f"{ENV_REQUIRE} is set but {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session (see pgkit.py for how it is found)."""
    server = _postgres_or_skip()
    yield server
    server.close()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    """A local PostgreSQL cluster of this test alone (even when ``MLRAILS_TEST_POSTGRES_URL``
    names a server), which it may stop and start."""
    server = _postgres_or_skip(local=True)
    yield server
    server.close()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """The ``postgresql://`` URL of a fresh, empty database on the session's server."""
    return postgres.create_database()


# -- headless Chromium (the web UI tests) ---------------------------------------------------
def _in_ci() -> bool:
    return bool(os.environ.get("MLRAILS_REQUIRE_BROWSER"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright: skipped without /usr/bin/chromium, except in
    CI (``MLRAILS_REQUIRE_BROWSER`` set), where that fails."""
    if not CHROMIUM.exists():
        if _in_ci():
            pytest.fail("CI needs /usr/bin/chromium (apt-get install -y chromium)")
        pytest.skip("no /usr/bin/chromium (apt-get install -y chromium) and not in CI")
    if _in_ci():
        from playwright.sync_api import sync_playwright
    else:
        sync_api = pytest.importorskip("playwright.sync_api")
        sync_playwright = sync_api.sync_playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page; ``page.problems`` collects script errors and console
    errors (a Content-Security-Policy violation is one)."""
    context = browser.new_context()
    pg = context.new_page()
    pg.set_default_timeout(PAGE_TIMEOUT_MS)
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    pg.problems = problems
    yield pg
    context.close()
