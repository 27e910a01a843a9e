"""The rows an explainer works on: its background sample, and the rows asked about.

The background is a sample of training rows (at most :data:`MAX_BACKGROUND`, drawn with a
seed); rows to explain arrive as one row (Series, dict, 1-D array) or a batch and are put
into the background's layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: rows of background data kept (a random sample when more are given)
MAX_BACKGROUND = 100


def take_background(background: Any, max_rows: int, seed: int) -> Any:
    """``background`` itself (a copy), or ``max_rows`` of its rows drawn with ``seed``, in order."""
    n = len(background)
    if n == 0:
        raise ValueError("the background sample is empty")
    if n <= max_rows:
        return background.copy() if isinstance(background, pd.DataFrame) else np.asarray(background)
    idx = np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))
    if isinstance(background, pd.DataFrame):
        return background.iloc[idx].reset_index(drop=True)
    return np.asarray(background)[idx]


def as_batch(X: Any, like_frame: bool, columns: list[Any], sample_ndim: int) -> Any:
    """Turn one row (Series, dict, 1-D array) or a batch into the background's layout."""
    if like_frame:
        if isinstance(X, pd.Series):
            X = X.to_frame().T
        elif isinstance(X, dict):
            X = pd.DataFrame([X])
        elif not isinstance(X, pd.DataFrame):
            arr = np.asarray(X, dtype=object)
            X = pd.DataFrame(arr.reshape(1, -1) if arr.ndim == 1 else arr, columns=columns)
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(f"rows to explain lack the columns {missing[:10]}")
        return X[columns]
    if isinstance(X, pd.DataFrame):
        X = X.to_numpy()
    arr = np.asarray(X)
    if arr.ndim == sample_ndim:
        arr = arr[None, ...]
    return arr


def take_rows(data: Any, m: int) -> Any:
    """The first ``m`` rows of a DataFrame or array."""
    return data.iloc[:m] if isinstance(data, pd.DataFrame) else np.asarray(data)[:m]
