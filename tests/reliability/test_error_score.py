from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from mlrails._json import dumps, loads
from mlrails._state import State
from mlrails.errors import NotFittedError
from mlrails.reliability import (
    ErrorFeatures,
    ErrorScorer,
    auroc_difference_se,
    clean_proba,
    doctor_score,
    error_auroc,
)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _planted_ood(n: int, seed: int) -> tuple[ErrorFeatures, np.ndarray]:
    """Binary model whose errors sit where distribution column 0 is high; max prob says nothing."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.6, 0.99, n)
    ood = rng.normal(size=n)
    wrong = rng.random(n) < np.where(ood > 1.0, 0.6, 0.03)
    D = np.column_stack([ood, rng.normal(size=n)])
    D[rng.random(n) < 0.1, 1] = np.nan  # a safeguard that did not always run
    return ErrorFeatures(proba=np.column_stack([p, 1 - p]), distribution=D), wrong


def _calibrated(n: int, seed: int, k: int = 3) -> tuple[ErrorFeatures, np.ndarray]:
    """A calibrated model: the row is right with probability max p; noise distribution scores."""
    rng = np.random.default_rng(seed)
    P = _softmax(rng.normal(scale=2.0, size=(n, k)))
    wrong = rng.random(n) > P.max(axis=1)
    return ErrorFeatures(proba=P, distribution=rng.normal(size=(n, 2))), wrong


# -- measures ----------------------------------------------------------------------------------


def test_error_auroc_matches_sklearn_on_a_hand_case_with_ties() -> None:
    score = np.array([0.1, 0.4, 0.35, 0.8, 0.4, 0.2, 0.9, 0.4])
    wrong = np.array([0, 1, 0, 1, 0, 0, 1, 1], dtype=bool)
    assert error_auroc(score, wrong) == pytest.approx(roc_auc_score(wrong, score), abs=1e-15)
    # by hand: wrong {0.4, 0.8, 0.9, 0.4} vs right {0.1, 0.35, 0.4, 0.2}: 14 wins + 2 ties of 16
    assert error_auroc(score, wrong) == pytest.approx(15 / 16)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 60))
def test_error_auroc_matches_sklearn(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 5, n).astype(float)  # many ties
    wrong = rng.random(n) < 0.4
    if wrong.all() or not wrong.any():
        assert np.isnan(error_auroc(score, wrong))
    else:
        assert error_auroc(score, wrong) == pytest.approx(roc_auc_score(wrong, score), abs=1e-12)


def test_doctor_matches_the_formula_by_hand() -> None:
    P = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    g = np.array([0.25 + 0.09 + 0.04, 1.0, 1 / 3])
    np.testing.assert_allclose(doctor_score(P), (1 - g) / g)
    np.testing.assert_allclose(doctor_score(P), [0.62 / 0.38, 0.0, 2.0])


def test_delong_se_matches_the_pairwise_definition() -> None:
    rng = np.random.default_rng(3)
    n = 80
    wrong = rng.random(n) < 0.3
    a = rng.normal(size=n) + wrong
    b = np.round(rng.normal(size=n) + 0.5 * wrong, 1)  # ties

    def psi(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = s[wrong][:, None], s[~wrong][None, :]
        k = (x > y) + 0.5 * (x == y)
        return k.mean(axis=1), k.mean(axis=0)

    a10, a01 = psi(a)
    b10, b01 = psi(b)
    m, k = int(wrong.sum()), int((~wrong).sum())
    s10 = np.cov(np.vstack([a10, b10]))
    s01 = np.cov(np.vstack([a01, b01]))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / k
    assert auroc_difference_se(a, b, wrong) == pytest.approx(np.sqrt(var), rel=1e-10)
    assert auroc_difference_se(a, a, wrong) == pytest.approx(0.0, abs=1e-12)


def test_clean_proba_makes_bad_rows_uniform() -> None:
    P = clean_proba([[0.2, 0.8], [np.nan, 0.5], [0.0, 0.0], [-0.1, 2.0]])
    np.testing.assert_allclose(P, [[0.2, 0.8], [0.5, 0.5], [0.5, 0.5], [0.0, 1.0]])


# -- choosing ----------------------------------------------------------------------------------


def test_failure_predictor_chosen_when_errors_follow_a_distribution_score() -> None:
    fa, wa = _planted_ood(600, 0)
    scorer = ErrorScorer().fit(fa, wa)
    assert scorer.baseline_ == "max_probability"
    assert scorer.chosen_ == "failure_predictor"
    assert scorer.auroc_["failure_predictor"] > scorer.auroc_["max_probability"] + 0.15
    # judged on fresh rows, never seen by the fit
    ft, wt = _planted_ood(5000, 1)
    chosen = error_auroc(scorer.score(ft), wt)
    baseline = error_auroc(scorer.score(ft, "max_probability"), wt)
    assert chosen > 0.8
    assert chosen > baseline + 0.2
    np.testing.assert_array_equal(_round_trip(scorer).score(ft), scorer.score(ft))


def test_auroc_is_the_out_of_fold_auroc_of_each_fixed_candidate() -> None:
    fa, wa = _planted_ood(300, 4)
    scorer = ErrorScorer().fit(fa, wa)
    P = fa.proba
    assert P is not None
    assert scorer.auroc_["max_probability"] == pytest.approx(roc_auc_score(wa, -P.max(axis=1)))
    assert scorer.auroc_["doctor"] == pytest.approx(roc_auc_score(wa, doctor_score(P)))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_baseline_kept_when_max_probability_is_the_truth(seed: int) -> None:
    fa, wa = _calibrated(800, seed)
    scorer = ErrorScorer().fit(fa, wa)
    assert scorer.chosen_ == "max_probability"
    assert np.isfinite(scorer.auroc_["failure_predictor"])


def test_tiny_fit_set_keeps_the_baseline() -> None:
    fa, wa = _planted_ood(50, 2)
    scorer = ErrorScorer().fit(fa, wa)
    assert scorer.chosen_ == "max_probability"
    assert np.isnan(scorer.auroc_["failure_predictor"])  # not even tried


def test_margin_rule_keeps_baseline_on_a_small_noisy_set() -> None:
    # enough rows to try the predictor, too few errors for a clear gain: DeLong margin holds it
    fa, wa = _calibrated(150, 5)
    scorer = ErrorScorer(min_rows=100).fit(fa, wa)
    assert scorer.chosen_ == "max_probability"


@pytest.mark.parametrize("wrong_value", [False, True])
def test_no_errors_or_only_errors_keep_the_baseline(wrong_value: bool) -> None:
    fa, _ = _planted_ood(200, 6)
    scorer = ErrorScorer().fit(fa, np.full(200, wrong_value))
    assert scorer.chosen_ == "max_probability"
    assert all(np.isnan(v) for v in scorer.auroc_.values())
    assert np.isfinite(scorer.score(fa)).all()


def test_degenerate_inputs_do_not_crash() -> None:
    rng = np.random.default_rng(7)
    n = 300
    P = np.full((n, 2), 0.5)  # all-equal scores
    P[:5] = np.nan  # the model answered NaN
    D = np.full((n, 2), np.nan)  # a safeguard that never ran
    D[:, 1] = 1.0  # and a constant one
    wrong = rng.random(n) < 0.3
    features = ErrorFeatures(proba=P, distribution=D)
    scorer = ErrorScorer().fit(features, wrong)
    assert scorer.chosen_ == "max_probability"
    assert scorer.auroc_["max_probability"] == pytest.approx(0.5)
    s = scorer.score(features)
    np.testing.assert_allclose(s, 0.5)  # NaN rows read as uniform: the largest 1 - max p


def test_nan_proba_row_gets_the_highest_baseline_score() -> None:
    fa, wa = _calibrated(300, 8)
    scorer = ErrorScorer().fit(fa, wa)
    P = np.array([[0.9, 0.05, 0.05], [np.nan, 0.5, 0.5]])
    s = scorer.score(ErrorFeatures(proba=P, distribution=np.zeros((2, 2))))
    assert s[1] == pytest.approx(2 / 3) and s[1] > s[0]


def test_encoded_inputs_used_when_errors_follow_an_input() -> None:
    def make(n: int, seed: int) -> tuple[ErrorFeatures, np.ndarray]:
        rng = np.random.default_rng(seed)
        p = rng.uniform(0.6, 0.99, n)
        E = rng.normal(size=(n, 40))
        wrong = rng.random(n) < np.where(E[:, 7] > 0.8, 0.5, 0.03)
        return ErrorFeatures(proba=np.column_stack([p, 1 - p]), encoded=E), wrong

    fa, wa = make(800, 0)
    scorer = ErrorScorer(max_encoded=8).fit(fa, wa)
    assert scorer.chosen_ == "failure_predictor_inputs"
    assert 7 in scorer.inputs_
    ft, wt = make(4000, 1)
    assert error_auroc(scorer.score(ft), wt) > error_auroc(scorer.score(ft, "max_probability"), wt)
    np.testing.assert_array_equal(_round_trip(scorer).score(ft), scorer.score(ft))


def test_candidates_restrict_the_choice() -> None:
    fa, wa = _planted_ood(600, 0)
    scorer = ErrorScorer(candidates=["doctor"]).fit(fa, wa)
    assert set(scorer.auroc_) == {"max_probability", "doctor"}
    assert scorer.chosen_ == "max_probability"


def test_fit_is_deterministic() -> None:
    fa, wa = _planted_ood(400, 9)
    a = ErrorScorer(random_state=3).fit(fa, wa)
    b = ErrorScorer(random_state=3).fit(fa, wa)
    assert a.auroc_ == b.auroc_
    np.testing.assert_array_equal(a.score(fa), b.score(fa))


# -- regression --------------------------------------------------------------------------------


def _regression(n: int, seed: int, *, planted: bool) -> tuple[ErrorFeatures, np.ndarray]:
    rng = np.random.default_rng(seed)
    sigma = rng.uniform(0.5, 2.0, n)
    ood = rng.normal(size=n)
    scale = sigma * np.where(planted & (ood > 1.0), 4.0, 1.0)
    err = rng.normal(size=n) * scale
    features = ErrorFeatures(
        prediction=rng.normal(size=n), difficulty=sigma, distribution=ood[:, None]
    )
    return features, np.abs(err) > 2.0


def test_regression_keeps_difficulty_when_it_explains_the_errors() -> None:
    fa, wa = _regression(600, 0, planted=False)
    scorer = ErrorScorer().fit(fa, wa)
    assert scorer.baseline_ == "difficulty"
    assert scorer.chosen_ == "difficulty"
    assert scorer.auroc_["difficulty"] == pytest.approx(roc_auc_score(wa, fa.difficulty))


def test_regression_failure_predictor_when_a_distribution_score_explains_them() -> None:
    fa, wa = _regression(800, 1, planted=True)
    scorer = ErrorScorer().fit(fa, wa)
    assert scorer.chosen_ == "failure_predictor"
    ft, wt = _regression(5000, 2, planted=True)
    baseline = error_auroc(scorer.score(ft, "difficulty"), wt)
    assert error_auroc(scorer.score(ft), wt) > baseline + 0.05


# -- shapes, errors, state ---------------------------------------------------------------------


def test_wrong_shapes_are_value_errors() -> None:
    fa, wa = _planted_ood(200, 0)
    with pytest.raises(ValueError, match="wrong"):
        ErrorScorer().fit(fa, wa[:-1])
    with pytest.raises(ValueError, match="differ in rows"):
        ErrorScorer().fit(ErrorFeatures(proba=np.ones((3, 2)), distribution=np.ones((4, 1))), wa)
    with pytest.raises(ValueError, match="shape"):
        ErrorScorer().fit(ErrorFeatures(proba=np.ones(200)), wa)
    with pytest.raises(ValueError, match="not both"):
        ErrorScorer().fit(ErrorFeatures(proba=np.ones((200, 2)), difficulty=np.ones(200)), wa)
    with pytest.raises(ValueError, match="difficulty"):
        ErrorScorer().fit(ErrorFeatures(prediction=np.ones(200)), wa)
    with pytest.raises(ValueError, match="boolean"):
        ErrorScorer().fit(fa, np.full(200, 0.5))
    with pytest.raises(ValueError, match="unknown"):
        ErrorScorer(candidates=["nope"])
    scorer = ErrorScorer().fit(fa, wa)
    with pytest.raises(ValueError, match="classes"):
        scorer.score(ErrorFeatures(proba=np.ones((3, 3)) / 3, distribution=np.ones((3, 2))))
    with pytest.raises(ValueError, match="distribution"):
        scorer.score(ErrorFeatures(proba=np.ones((3, 2)) / 2, distribution=np.ones((3, 1))))
    with pytest.raises(ValueError, match="regression"):
        scorer.score(ErrorFeatures(difficulty=np.ones(3), distribution=np.ones((3, 2))))
    with pytest.raises(ValueError, match="not chosen"):
        ErrorScorer().fit(*_calibrated(300, 0)).score(_calibrated(3, 1)[0], "failure_predictor")


def test_not_fitted() -> None:
    with pytest.raises(NotFittedError):
        ErrorScorer().score(ErrorFeatures(proba=np.ones((2, 2)) / 2))


def _round_trip(scorer: ErrorScorer) -> ErrorScorer:
    state = scorer.get_state()
    meta = loads(dumps(state.meta))  # strict JSON: no NaN, no pickle
    arrays = {k: np.array(v) for k, v in state.arrays.items()}
    assert all(v.dtype != object for v in arrays.values())
    return ErrorScorer.from_state(State(meta=meta, arrays=arrays))


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 1000),
    n=st.integers(20, 400),
    k=st.integers(2, 4),
    d=st.integers(0, 3),
    p=st.integers(0, 5),
)
def test_state_round_trip_gives_identical_scores(seed: int, n: int, k: int, d: int, p: int) -> None:
    rng = np.random.default_rng(seed)
    P = _softmax(rng.normal(scale=2.0, size=(n, k)))
    D = rng.normal(size=(n, d))
    if d:
        D[rng.random(n) < 0.2, 0] = np.nan
        D[:, 0] += 3.0 * (P.max(axis=1) < 0.7)
    E = rng.normal(size=(n, p)) if p else None
    wrong = (rng.random(n) > P.max(axis=1)) | ((D[:, 0] > 2.0) if d else False)
    features = ErrorFeatures(proba=P, distribution=D, encoded=E)
    scorer = ErrorScorer(min_rows=20, min_errors=3, margin_sd=0.0, min_gain=0.0).fit(
        features, wrong
    )
    again = _round_trip(scorer)
    assert again.chosen_ == scorer.chosen_
    assert again.auroc_.keys() == scorer.auroc_.keys()
    for key, value in scorer.auroc_.items():
        assert again.auroc_[key] == value or (np.isnan(value) and np.isnan(again.auroc_[key]))
    np.testing.assert_array_equal(again.score(features), scorer.score(features))


def test_state_round_trip_of_a_learned_regression_score() -> None:
    fa, wa = _regression(800, 1, planted=True)
    scorer = ErrorScorer().fit(fa, wa)
    assert scorer.chosen_ == "failure_predictor"
    again = _round_trip(scorer)
    np.testing.assert_array_equal(again.score(fa), scorer.score(fa))
    assert again.difficulty_fill_ == scorer.difficulty_fill_
