"""A benchmark cell on the breast-cancer forest and its rails (and a regressor's)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, mean_absolute_error

from mlrails.bench.cell import CellSpec, run_cell


@pytest.fixture(scope="module")
def clean(cancer: Any, cancer_rails: Any) -> Any:
    return run_cell(cancer_rails, cancer.X_test, cancer.y_test, CellSpec("none", 1, 0))


def test_clean_cell_matches_the_model(
    cancer: Any, cancer_forest: Any, cancer_rails: Any, clean: Any
) -> None:
    assert clean.error is None and clean.kind == "clean"
    pred = cancer_forest.predict(cancer.X_test)
    acc = accuracy_score(cancer.y_test, pred)
    assert clean.metrics["accuracy"] == pytest.approx(acc)
    assert clean.n == len(cancer.y_test)
    assert clean.n_wrong == round((1 - acc) * len(cancer.y_test))
    assert sum(clean.status_mix.values()) == pytest.approx(1.0)
    assert clean.confusion == confusion_matrix(cancer.y_test, pred).tolist()
    correct = clean.correct_rows()
    assert correct is not None and (correct == (pred == cancer.y_test)).all()
    # every metric with a value has a bootstrap interval around it
    for name, value in clean.metrics.items():
        if value is not None and name != "auroc.validation":
            lo, hi = clean.intervals[name]
            assert lo <= value + 1e-12 and value - 1e-12 <= hi, name
    # the reliability score is a confidence: its detection AUROC is of the negated score
    from sklearn.metrics import roc_auc_score

    verdicts = cancer_rails.check(cancer.X_test)
    conf = np.array([v.safeguard("reliability").score for v in verdicts])
    auc = roc_auc_score(pred != cancer.y_test, -conf)
    assert clean.metrics["auroc.reliability"] == pytest.approx(auc) and auc > 0.5
    rel = clean.reliability
    assert rel is not None and sum(rel.count) == clean.n
    assert clean.peak_mb > 0 and clean.wall_s > 0


@pytest.mark.parametrize("spec", [CellSpec("none", 1, 0), CellSpec("gaussian_noise", 4, 0)])
def test_cell_reports_the_model_and_the_rails_ece(
    cancer: Any, cancer_forest: Any, cancer_rails: Any, spec: CellSpec
) -> None:
    """Both ECEs, on the same rows: the bare model's probabilities and the calibrated ones the
    rails serve (each answered verdict's ``probabilities``), each against a hand computation."""
    from mlrails.bench.perturbations import make
    from mlrails.reliability.calibration import expected_calibration_error

    cell = run_cell(cancer_rails, cancer.X_test, cancer.y_test, spec, cancer.X_train)
    X = cancer.X_test
    if spec.kind != "clean":
        X, _ = make(spec.name).fit(cancer.X_train, cancer.y_train)(X, cancer.y_test, 4, 0)
    assert "ece" not in cell.metrics
    raw = cancer_forest.predict_proba(X)
    assert cell.metrics["ece_model"] == pytest.approx(
        expected_calibration_error(raw, cancer.y_test)
    )
    verdicts = cancer_rails.check(X)
    answered = [i for i, v in enumerate(verdicts) if v.probabilities is not None]
    assert answered, "some rows must be answered for the comparison to mean anything"
    served = cancer_rails.calibrator.transform(raw)
    for i in answered:  # what the rails serve, row by row
        got = [verdicts[i].probabilities[str(c)] for c in cancer_forest.classes_]
        np.testing.assert_allclose(served[i], got, rtol=1e-12)
    if len(answered) == len(verdicts):
        served = np.array(
            [[v.probabilities[str(c)] for c in cancer_forest.classes_] for v in verdicts]
        )
    ece_rails = expected_calibration_error(served, cancer.y_test)
    assert cell.metrics["ece_rails"] == pytest.approx(ece_rails)
    assert cell.metrics["ece_rails"] != pytest.approx(cell.metrics["ece_model"])
    for name in ("ece_model", "ece_rails"):
        lo, hi = cell.intervals[name]
        assert lo <= cell.metrics[name] + 1e-12 and cell.metrics[name] - 1e-12 <= hi


def test_noise_degrades_the_model_and_the_rails_notice(
    cancer: Any, cancer_rails: Any, clean: Any
) -> None:
    spec = CellSpec("gaussian_noise", 5, 0)
    noisy = run_cell(cancer_rails, cancer.X_test, cancer.y_test, spec, cancer.X_train)
    assert noisy.error is None
    assert noisy.metrics["accuracy"] < clean.metrics["accuracy"] - 0.05
    # 2σ noise on every feature: most rows are flagged or refused
    assert noisy.status_mix.get("200", 0.0) < clean.status_mix["200"]
    again = run_cell(cancer_rails, cancer.X_test, cancer.y_test, spec, cancer.X_train)
    skip = {"wall_s", "peak_mb"}
    assert again.model_dump(exclude=skip) == noisy.model_dump(exclude=skip)  # seeded
    assert again.rows_hash == noisy.rows_hash != clean.rows_hash
    other = run_cell(
        cancer_rails, cancer.X_test, cancer.y_test, CellSpec("gaussian_noise", 5, 0, repeat=1),
        cancer.X_train,
    )  # fmt: skip
    assert other.rows_hash != noisy.rows_hash  # a repeat draws new noise
    assert other.key == "default:gaussian_noise/s5/seed0/r1"


def test_a_failing_cell_is_recorded(cancer: Any, cancer_rails: Any) -> None:
    bad = run_cell(cancer_rails, cancer.X_test, cancer.y_test, CellSpec("category_swap", 2, 0))
    assert bad.metrics == {} and bad.error is not None
    assert "no categorical column" in bad.error
    wrong = run_cell(cancer_rails, cancer.X_test, cancer.y_test, CellSpec("nope", 2, 0))
    assert wrong.error is not None and "unknown perturbation" in wrong.error
    assert np.isfinite(wrong.wall_s)


def test_regression_cell(tmp_path: Any) -> None:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import train_test_split

    import mlrails

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y.to_numpy(), test_size=0.3, random_state=0)
    model = Ridge(alpha=0.1).fit(X_tr, y_tr)
    rails = mlrails.fit(model, X_tr, y_tr)
    err = np.abs(model.predict(X_te) - y_te)
    tol = float(np.quantile(err, 0.9))
    cell = run_cell(rails, X_te, y_te, CellSpec("none", 1, 0), tolerance=tol)
    assert cell.error is None
    assert cell.metrics["mae"] == pytest.approx(mean_absolute_error(y_te, model.predict(X_te)))
    assert cell.n_wrong == int((err > tol).sum())
    assert "accuracy" not in cell.metrics and cell.confusion is None
    lo, hi = cell.intervals["rmse"]
    assert lo < cell.metrics["rmse"] < hi
