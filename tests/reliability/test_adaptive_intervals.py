"""Locally adaptive regression intervals: widths follow difficulty, coverage is kept, wide
intervals answer 203 at the target rate, and a saved artifact gives the same intervals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_friedman1
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import train_test_split

import mlrails
from mlrails._state import State
from mlrails.reliability import ConformalRegressor, KNNDifficulty, conformal_from_state

FAST = {"ood": {"mode": "off"}, "adversarial": {"mode": "off"}, "drift": {"reference": False}}


def _hetero(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """y = 3 x0 + x1 + noise whose sd grows from 0.1 to 3 with x0 (the noise sd returned)."""
    X = rng.uniform(0.0, 1.0, size=(n, 3))
    sd = 0.1 + 2.9 * X[:, 0]
    return X, 3 * X[:, 0] + X[:, 1] + rng.normal(size=n) * sd, sd


def _diabetes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_diabetes(return_X_y=True)
    rows = rng.permutation(len(y))[:n]
    return X[rows], y[rows], np.zeros(n)


def _friedman(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y = make_friedman1(n_samples=n, noise=1.0, random_state=int(rng.integers(2**31)))
    return X, y, np.zeros(n)


def _fit_split(
    X: np.ndarray, y: np.ndarray, coverage: float, n_fit: int, n_cal: int, model: Any = None
) -> tuple[Any, ConformalRegressor, ConformalRegressor]:
    """Model and difficulty on rows [:n_fit], quantile on [n_fit:n_fit+n_cal]."""
    model = (model or LinearRegression()).fit(X[:n_fit], y[:n_fit])
    fit_rows, cal = slice(0, n_fit), slice(n_fit, n_fit + n_cal)
    adaptive = ConformalRegressor(coverage=coverage).fit_difficulty(
        X[fit_rows], model.predict(X[fit_rows]), y[fit_rows]
    )
    adaptive.fit(model.predict(X[cal]), y[cal], X[cal])
    constant = ConformalRegressor(coverage=coverage).fit(model.predict(X[cal]), y[cal])
    return model, adaptive, constant


Maker = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray, np.ndarray]]


@pytest.mark.parametrize(
    ("make", "n_fit", "n_cal", "coverage"),
    [(_hetero, 600, 400, 0.9), (_diabetes, 200, 120, 0.8), (_friedman, 600, 300, 0.95)],
)
def test_marginal_coverage_within_the_conformal_guarantee(
    make: Maker, n_fit: int, n_cal: int, coverage: float
) -> None:
    """Seed-averaged coverage on held-out rows lies in [1-a, 1-a+1/(n+1)] ± 3 binomial sd."""
    seeds, covered, n_test = 20, [], 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        X, y, _ = make(rng, 442 if make is _diabetes else n_fit + n_cal + 1000)
        model, adaptive, _ = _fit_split(X, y, coverage, n_fit, n_cal)
        Xt, yt = X[n_fit + n_cal :], y[n_fit + n_cal :]
        n_test = len(yt)
        lo, hi = adaptive.predict_intervals(model.predict(Xt), Xt)
        covered.append(np.mean((lo <= yt) & (yt <= hi)))
        assert np.ptp(hi - lo) > 0  # adaptive: widths differ between rows
    var = coverage * (1 - coverage) * (1 / (n_cal + 2) + 1 / n_test)
    tol = 3 * np.sqrt(var / seeds)
    assert coverage - tol <= np.mean(covered) <= coverage + 1 / (n_cal + 1) + tol


def test_per_noise_bin_coverage_is_closer_to_target_than_constant_width() -> None:
    coverage, gaps_adaptive, gaps_constant = 0.9, [], []
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        X, y, sd = _hetero(rng, 5000)
        model, adaptive, constant = _fit_split(X, y, coverage, 1500, 1000)
        Xt, yt, sdt = X[2500:], y[2500:], sd[2500:]
        bins = np.digitize(sdt, np.quantile(sdt, [0.2, 0.4, 0.6, 0.8]))
        for cr, gaps in ((adaptive, gaps_adaptive), (constant, gaps_constant)):
            lo, hi = cr.predict_intervals(model.predict(Xt), Xt)
            hit = (lo <= yt) & (yt <= hi)
            gaps.append(np.mean([abs(hit[bins == b].mean() - coverage) for b in range(5)]))
    # constant widths over-cover quiet rows and under-cover noisy ones (~0.1 off per bin)
    assert np.mean(gaps_constant) > 0.06
    assert np.mean(gaps_adaptive) < 0.5 * np.mean(gaps_constant)


def test_diabetes_rails_give_varying_widths_and_keep_coverage() -> None:
    """The issue's case: before, every diabetes row had the same width (231.5)."""
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    X_fit, X_cal, y_fit, y_cal = train_test_split(X_tr, y_tr, test_size=0.4, random_state=0)
    model = LinearRegression().fit(X_fit, y_fit)
    rails = mlrails.fit(model, X_fit, y_fit, X_cal, y_cal, policy=FAST)
    verdicts = rails.check(X_te)
    widths = np.array([v.interval[1] - v.interval[0] for v in verdicts])
    assert len(np.unique(np.round(widths, 6))) > 0.9 * len(widths)
    assert widths.max() > 1.5 * widths.min()
    bounds = [v.interval for v in verdicts]
    covered = np.mean([lo <= t <= hi for (lo, hi), t in zip(bounds, y_te, strict=True)])
    assert covered > 0.8
    assert verdicts[0].safeguard("interval_width") is not None
    assert any(s.name == "interval_width" for s in rails.summary.safeguards)


@pytest.mark.parametrize("target", [0.05, 0.2])
def test_share_of_wide_intervals_on_fresh_data_is_the_target(target: float) -> None:
    rng = np.random.default_rng(7)
    X, y, _ = _hetero(rng, 9000)
    model = GradientBoostingRegressor(n_estimators=50, max_depth=2, random_state=0)
    model.fit(X[:2000], y[:2000])
    n_cal = 2000
    policy = {**FAST, "reliability": {"target_fpr": target}}
    rails = mlrails.fit(model, X[:2000], y[:2000], X[2000:4000], y[2000:4000], policy=policy)
    verdicts = rails.check(X[4000:])
    share = np.mean([v.status == 203 for v in verdicts])
    wide = [v for v in verdicts if v.status == 203]
    assert all("wide prediction interval" in (v.detail or "") for v in wide)
    assert all(v.prediction is not None and v.interval is not None for v in wide)
    n_new = len(verdicts)
    se = np.sqrt(target * (1 - target) * (1 / n_cal + 1 / n_new))
    assert target - 1 / (n_cal + 1) - 3 * se <= share <= target + 3 * se


def test_adaptive_state_and_artifact_round_trip_give_identical_intervals(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    X, y, _ = _hetero(rng, 1500)
    model, adaptive, _ = _fit_split(X, y, 0.9, 600, 400)
    Xt = X[1000:]
    state = adaptive.get_state()
    loaded = conformal_from_state(State(meta=state.meta, arrays=dict(state.arrays)))
    assert isinstance(loaded, ConformalRegressor) and loaded.method == "normalized"
    for a, b in zip(
        adaptive.predict_intervals(model.predict(Xt), Xt),
        loaded.predict_intervals(model.predict(Xt), Xt),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    # and through a saved artifact, on a table with text columns in non-alphabetical order
    import pandas as pd

    frame = pd.DataFrame(X[:, :2], columns=["b", "a"])
    frame["zone"] = rng.choice(["n", "s", "e"], len(frame))
    frame["tier"] = rng.choice(["gold", "basic"], len(frame))
    target = y + (frame["zone"] == "n") * rng.normal(size=len(y)) * 3
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    pipe = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["zone", "tier"]), remainder="passthrough"
        ),
        LinearRegression(),
    ).fit(frame[:400], target[:400])
    rails = mlrails.fit(pipe, frame[:400], target[:400], frame[400:800], target[400:800], FAST)
    rails.save(tmp_path / "art")
    again = mlrails.load(tmp_path / "art")
    before, after = rails.check(frame[800:1100]), again.check(frame[800:1100])
    assert [v.interval for v in before] == [v.interval for v in after]
    assert [v.status for v in before] == [v.status for v in after]
    assert len({round(v.interval[1] - v.interval[0], 6) for v in before}) > 10


def test_plain_states_saved_before_adaptive_intervals_still_load() -> None:
    old = State(
        meta={"kind": "regressor", "coverage": 0.8, "n_calibration": 9},
        arrays={"q_hat": np.array([0.5])},
    )
    cr = conformal_from_state(old)
    assert isinstance(cr, ConformalRegressor) and cr.method == "absolute"
    assert cr.width_threshold_ is None
    lo, hi = cr.predict_intervals(np.array([1.0, 2.0]))
    np.testing.assert_allclose(hi - lo, [1.0, 1.0])


def test_difficulty_is_knn_mean_residual_plus_floor_hand_computed() -> None:
    X = np.array([[0.0], [1.0], [2.0], [10.0]])
    r = np.array([1.0, 3.0, 5.0, 7.0])
    d = KNNDifficulty(n_neighbors=2, beta=0.5).fit(X, r)
    floor = 0.5 * r.mean()  # 2.0
    # encoder: (x - median 1.5) / std; neighbours of 0.4 are rows 0 and 1, of 9 rows 3 and 2
    np.testing.assert_allclose(d.predict(np.array([[0.4], [9.0]])), [2 + floor, 6 + floor])
    exact = KNNDifficulty().fit(X, np.zeros(4))  # a model that fits its rows exactly
    np.testing.assert_array_equal(exact.predict(X), np.ones(4))
    with pytest.raises(ValueError, match="adaptive"):
        ConformalRegressor().fit_difficulty(X, np.zeros(4), r).sigma(None, 4)
