"""A benchmark cell on the breast-cancer forest and its rails."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from mlrails.bench.cell import CellSpec, run_cell


@pytest.fixture(scope="module")
def clean(cancer: Any, cancer_rails: Any) -> Any:
    return run_cell(cancer_rails, cancer.X_test, cancer.y_test, CellSpec("none", 1, 0))


def test_clean_cell_matches_the_model(cancer: Any, cancer_forest: Any, clean: Any) -> None:
    assert clean.error is None and clean.model is not None and clean.rails is not None
    acc = accuracy_score(cancer.y_test, cancer_forest.predict(cancer.X_test))
    assert clean.model.accuracy == pytest.approx(acc)
    assert clean.rails.n == len(cancer.y_test)
    assert clean.rails.n_wrong == round((1 - acc) * len(cancer.y_test))
    assert sum(clean.rails.status_mix.values()) == pytest.approx(1.0)


def test_noise_degrades_the_model_and_the_rails_notice(
    cancer: Any, cancer_rails: Any, clean: Any
) -> None:
    spec = CellSpec("gaussian_noise", 5, 0)
    noisy = run_cell(cancer_rails, cancer.X_test, cancer.y_test, spec, cancer.X_train)
    assert noisy.error is None and noisy.model is not None and noisy.rails is not None
    assert noisy.model.accuracy < clean.model.accuracy - 0.05
    # 2σ noise on every feature: most rows are flagged or refused
    assert noisy.rails.status_mix.get(200, 0.0) < clean.rails.status_mix[200]
    again = run_cell(cancer_rails, cancer.X_test, cancer.y_test, spec, cancer.X_train)
    assert again.model == noisy.model and again.rails == noisy.rails  # seeded


def test_a_failing_cell_is_recorded(cancer: Any, cancer_rails: Any) -> None:
    bad = run_cell(cancer_rails, cancer.X_test, cancer.y_test, CellSpec("category_swap", 2, 0))
    assert bad.model is None and bad.error is not None
    assert "no categorical column" in bad.error
    wrong = run_cell(cancer_rails, cancer.X_test, cancer.y_test, CellSpec("nope", 2, 0))
    assert wrong.error is not None and "unknown perturbation" in wrong.error
    assert np.isfinite(wrong.wall_s)
