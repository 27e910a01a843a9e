"""Benchmark metrics and statistics against scikit-learn, SciPy and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score, log_loss

from mlrails.bench.metrics import grade_rails, model_metrics
from mlrails.bench.stats import bootstrap_ci, holm
from mlrails.guard.verdict import SafeguardResult, Verdict
from mlrails.protocol.status import Outcome


def test_model_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    p1 = rng.random(500)
    P = np.column_stack([1 - p1, p1])
    y = (rng.random(500) < p1).astype(int)
    m = model_metrics(y, P, [0, 1])
    pred = (p1 > 0.5).astype(int)
    assert m.accuracy == pytest.approx(accuracy_score(y, pred))
    assert m.f1_macro == pytest.approx(f1_score(y, pred, average="macro"))
    # the multi-class Brier score sums both columns: twice the binary one
    assert m.brier == pytest.approx(2 * brier_score_loss(y, p1))
    assert m.nll == pytest.approx(log_loss(y, P))
    assert m.n == 500 and 0 <= m.ece < 0.1  # these probabilities are calibrated by design


def test_model_metrics_hand_case_and_unknown_label() -> None:
    P = np.array([[0.9, 0.1], [0.2, 0.8]])
    m = model_metrics(["a", "a"], P, ["a", "b"])
    assert m.accuracy == 0.5
    assert m.nll == pytest.approx(-(np.log(0.9) + np.log(0.2)) / 2)
    assert m.brier == pytest.approx(((0.1**2 + 0.1**2) + (0.8**2 + 0.8**2)) / 2)
    with pytest.raises(ValueError, match="'c' is not among"):
        model_metrics(["c", "a"], P, ["a", "b"])


def _verdict(status: int, score: float) -> Verdict:
    outcome = Outcome.OK if status == 200 else Outcome.OUT_OF_DISTRIBUTION
    return Verdict(
        status=status,
        outcome=outcome,
        safeguards=[SafeguardResult("ood", "block", status != 200, score, 1.0)],
    )


def test_grade_rails_hand_case() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    yhat = np.array([0, 1, 1, 0, 0, 0])  # wrong: rows 1, 3, 5
    statuses = [200, 422, 200, 200, 422, 422]
    scores = [0.1, 2.0, 0.2, 0.9, 1.5, 3.0]
    g = grade_rails(y, yhat, [_verdict(s, x) for s, x in zip(statuses, scores, strict=True)])
    assert g.n_wrong == 3
    assert g.silent_failure_rate == pytest.approx(1 / 3)  # row 3: wrong, yet 200
    assert g.false_alarm_rate == pytest.approx(1 / 3)  # row 4: right, yet refused
    assert g.status_mix == {200: 0.5, 422: 0.5}
    # wrong rows score 2.0, 0.9, 3.0; right rows 0.1, 0.2, 1.5: 8 of 9 pairs ordered
    assert g.detection_auroc["ood"] == pytest.approx(8 / 9)
    all_right = grade_rails(y, y, [_verdict(200, 0.0)] * 6)
    assert all_right.silent_failure_rate is None and all_right.detection_auroc["ood"] is None
    with pytest.raises(ValueError, match="same length"):
        grade_rails(y, yhat, [])


def test_holm_hand_case() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 → running max
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    # 0.5 × 2 = 1.0 caps; 0.9 × 1 = 0.9 is raised to the running max 1.0
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])


def test_bootstrap_interval_covers_the_mean_with_the_normal_width() -> None:
    x = np.random.default_rng(1).normal(3.0, 2.0, 400)
    ci = bootstrap_ci(x, np.mean, seed=0)
    assert ci.estimate == pytest.approx(x.mean())
    assert ci.low < ci.estimate < ci.high
    normal_width = 2 * 1.96 * x.std(ddof=1) / np.sqrt(len(x))
    assert ci.high - ci.low == pytest.approx(normal_width, rel=0.15)
    assert bootstrap_ci(x, np.mean, seed=0) == ci  # seeded: identical


def test_paired_bootstrap_of_accuracy() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 300)
    yhat = np.where(rng.random(300) < 0.8, y, 1 - y)
    ci = bootstrap_ci((y, yhat), lambda a, b: np.mean(a == b), seed=0)
    acc = np.mean(y == yhat)
    half = 1.96 * np.sqrt(acc * (1 - acc) / 300)
    assert ci.estimate == pytest.approx(acc)
    assert ci.low == pytest.approx(acc - half, abs=0.02)
    assert ci.high == pytest.approx(acc + half, abs=0.02)
    one = bootstrap_ci(np.array([0.7]), np.mean)
    assert (one.low, one.high) == (0.7, 0.7)
