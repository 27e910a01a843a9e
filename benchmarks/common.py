"""Shared data and helpers for the benchmarks (bundled or generated data only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split


def breast_cancer(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, NDArray[Any], NDArray[Any]]:
    """The 30-feature bundled breast-cancer data, split 70/30 (stratified, seeded)."""
    data = load_breast_cancer(as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        data.data, data.target.to_numpy(), test_size=0.3, random_state=seed, stratify=data.target
    )
    return X_tr.reset_index(drop=True), X_te.reset_index(drop=True), y_tr, y_te


def timed(fn: Callable[[], Any], repeats: int) -> NDArray[np.float64]:
    """Wall times in milliseconds of ``repeats`` calls of ``fn`` (after 20 warm-up calls)."""
    for _ in range(20):
        fn()
    out = np.empty(repeats)
    for i in range(repeats):
        t0 = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - t0) * 1000.0
    return out


def fmt_table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)
