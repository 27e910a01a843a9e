"""Fixtures shared across the test suite: bundled data, trained models, fitted rails."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split


@dataclass
class Split:
    X_train: pd.DataFrame
    X_test: pd.DataFrame
    y_train: np.ndarray[Any, Any]
    y_test: np.ndarray[Any, Any]


@pytest.fixture(scope="session")
def cancer() -> Split:
    """scikit-learn's bundled breast-cancer data (30 features), 70/30 stratified split."""
    data = load_breast_cancer(as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        data.data, data.target.to_numpy(), test_size=0.3, random_state=0, stratify=data.target
    )
    return Split(X_tr.reset_index(drop=True), X_te.reset_index(drop=True), y_tr, y_te)


@pytest.fixture(scope="session")
def cancer_forest(cancer: Split) -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=50, random_state=0).fit(
        cancer.X_train, cancer.y_train
    )


@pytest.fixture(scope="session")
def cancer_rails(cancer: Split, cancer_forest: RandomForestClassifier) -> Any:
    """Rails with the default policy (30% calibration so 1% thresholds are finite)."""
    import mlrails

    return mlrails.fit(
        cancer_forest, cancer.X_train, cancer.y_train, policy={"calibration_fraction": 0.3}
    )


DESCRIPTOR_SCHEMAS = (
    Path(__file__).resolve().parents[1].parent
    / "shared" / "reference" / "ml-mismatch-descriptors" / "schemas" / "1.2"
)  # fmt: skip


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    """The v1.2 reference schemas: ``$MLRAILS_DESCRIPTOR_SCHEMAS`` or ``../shared/reference``."""
    configured = os.environ.get("MLRAILS_DESCRIPTOR_SCHEMAS")
    path = Path(configured) if configured else DESCRIPTOR_SCHEMAS
    if not (path / "trained_model_schema.json").is_file():
        pytest.skip(
            f"reference v1.2 descriptor schemas not found in {path}; set "
            "MLRAILS_DESCRIPTOR_SCHEMAS to the folder holding <kind>_schema.json"
        )
    return path
