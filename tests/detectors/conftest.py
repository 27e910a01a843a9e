"""Shared data and helpers for the detector tests."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from mlrails._state import State


def _roundtrip(state: State) -> State:
    """Send a state through JSON and ``.npz`` (no pickle) as an artifact would."""
    meta = json.loads(json.dumps(state.meta))
    buf = io.BytesIO()
    np.savez(buf, **state.arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return State(meta=meta, arrays=arrays)


@pytest.fixture
def roundtrip() -> Callable[[State], State]:
    return _roundtrip


@pytest.fixture(scope="session")
def gaussian() -> dict[str, np.ndarray]:
    """Correlated 5-d Gaussian: train / calibration / fresh test draws (fixed seed)."""
    rng = np.random.default_rng(12345)
    d = 5
    A = rng.normal(size=(d, d)) / np.sqrt(d) + np.eye(d)
    mean = rng.normal(size=d) * 3.0

    def draw(n: int) -> np.ndarray:
        return np.asarray(rng.normal(size=(n, d)) @ A.T + mean)

    return {"train": draw(3000), "calib": draw(20_000), "test": draw(20_000), "A": A}


def make_mixed_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A table with numeric, categorical, boolean and missing values."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 10, n),
            "income": rng.lognormal(10, 0.5, n),
            "city": rng.choice(["paris", "lyon", "nice"], n, p=[0.5, 0.3, 0.2]),
            "plan": pd.Categorical(rng.choice(["free", "pro"], n)),
            "active": rng.random(n) < 0.7,
        }
    )
    frame.loc[frame.sample(frac=0.05, random_state=seed).index, "age"] = np.nan
    frame.loc[frame.sample(frac=0.05, random_state=seed + 1).index, "city"] = None
    return frame


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame(400)


@pytest.fixture
def make_frame() -> Callable[[int, int], pd.DataFrame]:
    """``make_frame(n, seed)``: a fresh mixed table."""
    return make_mixed_frame
