"""Budgets: one false-alarm rate shared by the distribution safeguards, a certified
silent-failure rate, and cross-fitted calibration when no calibration data is given."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from scipy.stats import binom
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression, Ridge

import mlrails
from mlrails.detectors.threshold import conformal_quantile
from mlrails.errors import DataError
from mlrails.guard.budget import joint_thresholds
from mlrails.models import CallableAdapter

NO_BATCH = {"batch_shift": {"mode": "off"}}


def _upper(k_budget: float, n: int, level: float = 0.999) -> float:
    """The binomial upper slack of a rate ``k_budget`` measured on ``n`` rows."""
    return float(binom.ppf(level, n, k_budget)) / n


# -- one false-alarm budget for several detectors ------------------------------------------
def test_joint_thresholds_keep_the_union_within_the_budget_on_fresh_rows() -> None:
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.3, 0.0], [0.3, 1.0, 0.0], [0.0, 0.0, 1.0]])
    budget, n_cal, n_new, draws = 0.05, 400, 2000, 60
    union, added = [], []
    for _ in range(draws):
        cal = rng.multivariate_normal(np.zeros(3), cov, size=n_cal)
        new = rng.multivariate_normal(np.zeros(3), cov, size=n_new)
        jt = joint_thresholds({f"d{j}": cal[:, j] for j in range(3)}, budget)
        thr = np.array([jt.thresholds[f"d{j}"].value for j in range(3)])
        union.append((new > thr).any(axis=1).mean())
        # per-detector targets at the same rate: the union adds up
        own = np.array([conformal_quantile(cal[:, j], budget) for j in range(3)])
        added.append((new > own).any(axis=1).mean())
    assert np.mean(union) <= budget + 0.005
    assert np.mean(union) >= 0.8 * budget  # not conservative for nothing
    assert np.mean(added) > 2 * budget


def test_joint_thresholds_are_the_common_rank_level() -> None:
    # hand case: 199 rows, two detectors with the same ranks, budget 2%: (count + 1) <=
    # 0.02 * 200 allows three calibration statistics at or above the level; counted one
    # higher (ranks 1..199), the level is 197 + 1: alarm above the 197th smallest score
    s = np.arange(1, 200, dtype=float)
    jt = joint_thresholds({"a": s, "b": 10 * s}, 0.02)
    assert jt.method == "rank"
    assert jt.thresholds["a"].value == pytest.approx(197.0)
    assert jt.thresholds["b"].value == pytest.approx(1970.0)
    assert jt.realised == pytest.approx(2 / 199)


@pytest.mark.parametrize("n_cal", [120, 400, 2000])
@pytest.mark.parametrize("n_det", [1, 3])
def test_the_union_stays_within_the_budget_at_every_calibration_size(
    n_cal: int, n_det: int
) -> None:
    """Exchangeable scores: the mean share of fresh rows flagged over many calibration draws
    is at most the budget (it was about 3/(n+1) with three detectors at n = 120, above a 1%
    budget, before the calibration ranks were counted among n + 1 rows)."""
    rng = np.random.default_rng(n_cal + n_det)
    budget, n_new, draws = 0.01, 2000, 300
    flagged = []
    for _ in range(draws):
        cal = rng.normal(size=(n_cal, n_det))
        new = rng.normal(size=(n_new, n_det))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            jt = joint_thresholds({f"d{j}": cal[:, j] for j in range(n_det)}, budget)
        if jt.method != "rank":
            continue
        thr = np.array([jt.thresholds[f"d{j}"].value for j in range(n_det)])
        flagged.append((new > thr).any(axis=1).mean())
    if n_cal * budget < n_det + 1:  # too few rows: the rank rule never runs here
        assert not flagged
        return
    # the mean over draws of a rate with mean <= budget; 4 standard errors of slack
    se = np.std(flagged) / np.sqrt(len(flagged))
    assert np.mean(flagged) <= budget + 4 * se


@pytest.mark.parametrize("dist", ["normal", "chi2", "uniform", "exponential"])
def test_too_few_rows_extrapolate_the_tail_near_the_budget(dist: str) -> None:
    """Below the rank rule's minimum, thresholds come from an exponential tail at
    budget / detectors: on light and exponential tails the union's rate on fresh rows stays
    near the budget (approximate: no distribution-free promise), and it still alarms."""
    rng = np.random.default_rng(3)
    draw = {
        "normal": lambda size: rng.normal(size=size),
        "chi2": lambda size: rng.chisquare(4, size=size),
        "uniform": lambda size: rng.uniform(size=size),
        "exponential": lambda size: rng.exponential(size=size),
    }[dist]
    budget, rates = 0.01, []
    for _ in range(200):
        cal = draw((100, 3))
        with pytest.warns(RuntimeWarning, match="too few"):
            jt = joint_thresholds({f"d{j}": cal[:, j] for j in range(3)}, budget)
        assert jt.method == "tail"
        thr = np.array([jt.thresholds[f"d{j}"].value for j in range(3)])
        assert (thr >= cal.max(axis=0) - 1e-12).all()  # never below the largest score
        rates.append((draw((4000, 3)) > thr).any(axis=1).mean())
    assert np.mean(rates) <= 2.5 * budget
    far = np.full((1, 3), 10.0 * cal.std() + cal.max())
    assert (far > thr).any()  # detection stays on


def test_tail_threshold_matches_the_exponential_quantile() -> None:
    """Exponential scores: the fitted tail's quantile is the exponential distribution's."""
    from scipy.stats import expon

    from mlrails.guard.budget import tail_threshold

    ordered = np.sort(expon.ppf((np.arange(1, 2001) - 0.5) / 2000))
    # beyond the largest score (level below 1/n), so the clamp to the maximum does not bite
    assert tail_threshold(ordered, 1e-4) == pytest.approx(expon.ppf(1 - 1e-4), rel=0.02)
    assert tail_threshold(ordered, 0.1) == ordered[-1]  # inside the data: the maximum


def test_a_detector_with_tied_top_scores_does_not_switch_the_others_off() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    tied = np.where(rng.uniform(size=n) < 0.05, 1.0, rng.uniform(0, 0.9, size=n))  # 5% at 1.0
    smooth = rng.normal(size=n)
    jt = joint_thresholds({"tied": tied, "smooth": smooth}, 0.01)
    assert jt.thresholds["tied"].value >= 1.0 - 1e-12  # its tie group cannot be split
    fresh = rng.normal(size=20_000)
    rate = np.mean(fresh > jt.thresholds["smooth"].value)
    assert 0.005 < rate < 0.015  # the smooth detector keeps (about) the whole budget
    assert jt.realised <= 0.01


def test_too_few_rows_for_the_budget_warn_and_never_alarm_below_the_maximum() -> None:
    with pytest.warns(RuntimeWarning, match="too few"):
        jt = joint_thresholds({"a": np.arange(20.0)}, 0.01)
    assert jt.method == "tail" and jt.thresholds["a"].value >= 19.0
    with pytest.warns(RuntimeWarning, match="too few"):
        tied = joint_thresholds({"a": np.ones(20)}, 0.01)  # a flat tail: the maximum
    assert tied.thresholds["a"].value == 1.0


# -- cross-fitting: the default path keeps its false-alarm budget ---------------------------
def _table(n: int, seed: int, d: int = 8) -> tuple[np.ndarray, np.ndarray]:
    return make_classification(
        n_samples=n, n_features=d, n_informative=5, flip_y=0.03, random_state=seed
    )


@pytest.mark.parametrize("n_train", [300, 3000])
def test_default_fit_without_calibration_data_keeps_the_false_alarm_budget(n_train: int) -> None:
    X, y = _table(n_train + 4000, seed=n_train)
    model = LogisticRegression(max_iter=1000).fit(X[:n_train], y[:n_train])
    rails = mlrails.fit(model, X[:n_train], y[:n_train], policy=NO_BATCH)
    assert rails.summary.budget is not None
    assert rails.summary.budget.calibration_method == "crossfit"
    verdicts = rails.check(X[n_train:])
    flagged = [
        any(s.triggered for s in v.safeguards if s.name == "ood" or s.name.startswith("adv"))
        for v in verdicts
    ]
    assert np.mean(flagged) <= _upper(0.01, len(verdicts))


def test_the_detail_of_a_refusal_states_the_shared_budget() -> None:
    X, y = _table(1500, seed=5)
    model = LogisticRegression(max_iter=1000).fit(X[:1000], y[:1000])
    rails = mlrails.fit(model, X[:1000], y[:1000], policy=NO_BATCH)
    v = rails.check(X[:1] * 0 + 50.0)[0]  # far away, still a valid number? the contract refuses
    far = X[1000:1001] + 8 * X[:1000].std(axis=0)
    v = rails.check(far, explain=False)[0]
    assert v.status in (400, 403, 422)
    if v.status in (403, 422):
        assert "false-alarm budget 1.00% shared by OOD and adversarial detection" in (
            v.detail or ""
        )


def test_a_model_that_cannot_be_refitted_needs_calibration_data_for_a_silent_failure_rate() -> None:
    X, y = _table(800, seed=3)
    lr = LogisticRegression(max_iter=1000).fit(X[:500], y[:500])
    model = CallableAdapter(lr.predict_proba, task="classification", classes=[0, 1])
    pol = {"budget": {"silent_failure_rate": 0.1}, **NO_BATCH}
    with pytest.raises(DataError, match="needs predictions the model did not train on"):
        mlrails.fit(model, X[:500], y[:500], policy=pol)
    rails = mlrails.fit(model, X[:500], y[:500], X[500:], y[500:], policy=pol)
    assert rails.certificate is not None and rails.summary.budget is not None
    assert rails.summary.budget.calibration_method == "given"
    # without a budget it fits, and says in one note what it costs
    plain = mlrails.fit(model, X[:500], y[:500], policy=NO_BATCH)
    assert any("cannot be refitted" in n for n in plain.summary.notes)


# -- the certified silent-failure rate -------------------------------------------------------
def _realised(rails: Any, X: np.ndarray, y: np.ndarray) -> tuple[float, float, int]:
    verdicts = rails.check(X, explain=False)
    ok = np.array([v.status == 200 for v in verdicts])
    pred = np.array([v.prediction if v.prediction is not None else -1 for v in verdicts])
    wrong = pred != y
    return float(wrong[ok].mean()) if ok.any() else 0.0, float(ok.mean()), int(ok.sum())


@pytest.mark.parametrize("alpha", [0.1, 0.15])
def test_the_error_among_200s_stays_within_the_certified_rate(alpha: float) -> None:
    X, y = make_classification(
        n_samples=9000, n_features=10, n_informative=4, flip_y=0.02, class_sep=0.8, random_state=11
    )
    model = LogisticRegression(max_iter=1000).fit(X[:3000], y[:3000])
    base_error = float(np.mean(model.predict(X[3000:]) != y[3000:]))
    assert base_error > alpha  # the budget has work to do
    pol = {"budget": {"silent_failure_rate": alpha, "confidence": 0.9}, **NO_BATCH}
    rails = mlrails.fit(model, X[:3000], y[:3000], policy=pol)
    b = rails.summary.budget
    assert b is not None and b.certified_coverage and b.certified_coverage > 0.1
    assert b.guarantee.startswith("with probability >= 90%")
    err, coverage, n_ok = _realised(rails, X[3000:], y[3000:])
    assert err <= alpha + 2 * np.sqrt(alpha * (1 - alpha) / n_ok)
    # the oracle: the most test rows a max-probability threshold chosen on the test labels
    # answers at the same error
    P = model.predict_proba(X[3000:])
    order = np.argsort(-P.max(axis=1), kind="stable")
    wrong = P.argmax(axis=1)[order] != y[3000:][order]
    running = np.cumsum(wrong) / np.arange(1, wrong.size + 1)
    oracle = (np.flatnonzero(running <= err).max() + 1) / wrong.size
    assert coverage >= 0.9 * oracle
    # rows outside the certified region answer 203 with the prediction and say why
    v = next(
        v
        for v in rails.check(X[3000:3400])
        if v.safeguard("error_budget").triggered and v.status == 203
    )
    assert v.status == 203 and v.prediction is not None
    assert f"at most {alpha:.2%} wrong among 200 answers" in (v.detail or "")


def test_withhold_answers_203_without_the_prediction() -> None:
    X, y = _table(3000, seed=8)
    model = LogisticRegression(max_iter=1000).fit(X[:2000], y[:2000])
    pol = {"budget": {"silent_failure_rate": 0.05, "action": "withhold"}, **NO_BATCH}
    rails = mlrails.fit(model, X[:2000], y[:2000], policy=pol)
    outside = [v for v in rails.check(X[2000:]) if v.safeguard("error_budget").triggered]
    assert outside
    assert all(v.status != 200 and v.prediction is None for v in outside)
    assert any(v.status == 203 for v in outside)


def test_an_unreachable_rate_answers_every_row_203_and_says_so() -> None:
    X, y = make_classification(n_samples=1500, n_features=6, flip_y=0.3, random_state=2)
    model = LogisticRegression(max_iter=1000).fit(X[:1000], y[:1000])
    pol = {"budget": {"silent_failure_rate": 0.01}, **NO_BATCH}
    rails = mlrails.fit(model, X[:1000], y[:1000], policy=pol)
    assert any("no threshold certifies" in n for n in rails.summary.notes)
    assert all(v.status != 200 for v in rails.check(X[1000:1100]))
    # the note names the smallest trade-off rate that the same rows do certify
    b = rails.summary.budget
    assert b is not None
    affordable = [p for p in b.tradeoff if p.certified_coverage > 0]
    note = next(n for n in rails.summary.notes if "no threshold certifies" in n)
    if affordable:
        assert f"smallest rate these rows certify is {affordable[0].alpha:.0%}" in note
    else:
        assert "smallest rate" not in note


def test_regression_wrong_means_an_error_above_the_tolerance() -> None:
    X, y = make_regression(n_samples=4000, n_features=6, noise=20.0, random_state=0)
    model = Ridge().fit(X[:2000], y[:2000])
    pol = {"budget": {"silent_failure_rate": 0.1}, **NO_BATCH}
    rails = mlrails.fit(model, X[:2000], y[:2000], policy=pol)
    b = rails.summary.budget
    assert b is not None and b.tolerance == pytest.approx(0.5 * np.std(y[:2000]))
    verdicts = rails.check(X[2000:], explain=False)
    ok = np.array([v.status == 200 for v in verdicts])
    pred = np.array([v.prediction if v.prediction is not None else np.nan for v in verdicts])
    wrong = np.abs(pred - y[2000:]) > b.tolerance
    assert ok.mean() > 0.3
    assert wrong[ok].mean() <= 0.1 + 2 * np.sqrt(0.09 / ok.sum())


def test_the_budget_survives_save_and_load(tmp_path: Any) -> None:
    X, y = _table(2500, seed=4)
    model = LogisticRegression(max_iter=1000).fit(X[:1500], y[:1500])
    pol = {"budget": {"silent_failure_rate": 0.1}, **NO_BATCH}
    rails = mlrails.fit(model, X[:1500], y[:1500], policy=pol)
    rails.save(tmp_path / "a")
    back = mlrails.load(tmp_path / "a", model)
    assert back.certificate == rails.certificate
    assert back.summary.budget == rails.summary.budget
    a, b = rails.check(X[1500:]), back.check(X[1500:])
    assert [v.status for v in a] == [v.status for v in b]
    assert [v.safeguard("error_budget").score for v in a] == [
        v.safeguard("error_budget").score for v in b
    ]


def test_shares_move_the_budget_between_detectors_and_keep_the_total() -> None:
    """Weighted min-p: the detector with the larger share alarms more often; the union stays
    within the budget (mean over calibration draws)."""
    from mlrails.guard.fitting import budget_shares

    shares = budget_shares(["ood", "adversarial:a", "adversarial:b"], 0.5)
    assert shares == {"ood": 0.5, "adversarial:a": 0.25, "adversarial:b": 0.25}
    assert budget_shares(["ood"], 0.5) == {"ood": 1.0}
    assert budget_shares(["ood", "adversarial:a"], None) == {"ood": 0.5, "adversarial:a": 0.5}
    rng = np.random.default_rng(4)
    budget, union, own = 0.02, [], []
    for _ in range(200):
        cal, new = rng.normal(size=(1000, 3)), rng.normal(size=(4000, 3))
        names = list(shares)
        jt = joint_thresholds({k: cal[:, j] for j, k in enumerate(names)}, budget, shares)
        thr = np.array([jt.thresholds[k].value for k in names])
        union.append((new > thr).any(axis=1).mean())
        own.append((new > thr).mean(axis=0))
    rates = np.mean(own, axis=0)
    assert rates[0] > 1.6 * rates[1] and rates[0] > 1.6 * rates[2]  # about 2x: 50% vs 25%
    assert np.mean(union) <= budget
    assert np.mean(union) >= 0.8 * budget
