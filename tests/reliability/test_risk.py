"""Learn-then-Test certification of the silent-failure rate (reliability/risk.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import beta, binom

from mlrails.reliability.risk import (
    ANSWER_ALL,
    ANSWER_NONE,
    RiskCertificate,
    binomial_p_value,
    certify_selective_risk,
    clopper_pearson_upper,
    grid,
    min_rows_to_certify,
)


def test_min_rows_is_the_smallest_n_that_zero_errors_reject() -> None:
    for alpha, delta in [(0.05, 0.1), (0.01, 0.05), (0.2, 0.1), (0.02, 0.1)]:
        n = min_rows_to_certify(alpha, delta)
        assert binom.cdf(0, n, alpha) <= delta < binom.cdf(0, n - 1, alpha)
    assert min_rows_to_certify(0.05, 0.1) == 45  # log(0.1) / log(0.95) = 44.9


def test_p_value_and_upper_bound_match_scipy() -> None:
    assert binomial_p_value(3, 100, 0.05) == pytest.approx(binom.cdf(3, 100, 0.05))
    assert binomial_p_value(0, 0, 0.05) == 1.0
    ub = clopper_pearson_upper(3, 100, 0.1)
    assert ub == pytest.approx(beta.ppf(0.9, 4, 97))
    assert binom.cdf(3, 100, ub) == pytest.approx(0.1, rel=1e-6)  # the bound's definition
    assert clopper_pearson_upper(5, 5, 0.1) == 1.0


def _population(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores uniform on (0, 1), P(wrong | s) = s**2: the risk of answering s <= t is t**2 / 3."""
    s = rng.uniform(size=n)
    return s, rng.uniform(size=n) < s**2


def test_the_certificate_holds_with_probability_one_minus_delta() -> None:
    """Oracle check: the true selective risk at the certified threshold is t**2 / 3."""
    alpha, delta, n, draws = 0.05, 0.1, 800, 400
    rng = np.random.default_rng(0)
    violated, coverage = 0, []
    for _ in range(draws):
        lam = grid(rng.uniform(size=400))  # from other rows: fixed w.r.t. the certifying ones
        s, w = _population(rng, n)
        cert = certify_selective_risk(s, w, alpha, delta, thresholds=lam)
        t = min(cert.threshold, 1.0) if cert.certified else 0.0
        violated += t**2 / 3 > alpha
        coverage.append(t)
    # binomial slack on the violation count (one-sided 99.9%)
    assert violated <= binom.ppf(0.999, draws, delta)
    oracle = math.sqrt(3 * alpha)  # the laxest threshold with risk alpha
    assert np.median(coverage) >= 0.5 * oracle  # the finite-sample price, not trivially 0


def test_an_error_floor_among_the_most_confident_rows_does_not_stop_the_search() -> None:
    """3% of even the most confident answers are wrong: one early unlucky stretch must not end
    every sequence (the reason for several starting points)."""
    rng = np.random.default_rng(1)
    coverage = []
    for _ in range(100):
        lam = grid(rng.uniform(size=400))
        s = rng.uniform(size=2000)
        w = rng.uniform(size=2000) < 0.03 + 0.3 * s**2
        coverage.append(certify_selective_risk(s, w, 0.1, 0.1, thresholds=lam).coverage)
    assert np.percentile(coverage, 10) > 0.4


def test_the_counts_at_the_threshold_are_those_of_the_rows() -> None:
    rng = np.random.default_rng(1)
    s, w = _population(rng, 2000)
    cert = certify_selective_risk(s, w, 0.05, 0.1)
    answered = s <= cert.threshold
    assert cert.n_answered == answered.sum()
    assert cert.error_rate == pytest.approx(w[answered].mean())
    assert cert.error_rate <= cert.upper_bound
    assert cert.coverage == pytest.approx(answered.mean())
    # the trade-off is monotone in alpha and certified never exceeds empirical
    cov = [p.coverage for p in cert.tradeoff]
    assert cov == sorted(cov)
    assert all(p.certified_coverage <= p.coverage + 1e-12 for p in cert.tradeoff)


def test_an_unreachable_rate_certifies_nothing() -> None:
    rng = np.random.default_rng(2)
    s = rng.uniform(size=500)
    w = rng.uniform(size=500) < 0.3  # errors independent of the score: 30% everywhere
    cert = certify_selective_risk(s, w, 0.05, 0.1)
    assert not cert.certified
    assert cert.threshold == ANSWER_NONE
    assert not np.any(s <= cert.threshold)


def test_a_perfect_model_answers_everything() -> None:
    s = np.linspace(0, 1, 300)
    cert = certify_selective_risk(s, np.zeros(300, dtype=bool), 0.05, 0.1)
    assert cert.threshold == ANSWER_ALL
    assert cert.coverage == 1.0


def test_ineligible_rows_are_never_counted_as_answered() -> None:
    rng = np.random.default_rng(3)
    s, w = _population(rng, 1000)
    eligible = rng.uniform(size=1000) > 0.2
    cert = certify_selective_risk(s, w, 0.1, 0.1, eligible=eligible)
    answered = (s <= cert.threshold) & eligible
    assert cert.n_answered == answered.sum()


def test_bad_levels_and_shapes_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="silent-failure rate"):
        certify_selective_risk([0.1], [False], 0.0, 0.1)
    with pytest.raises(ValueError, match="delta"):
        certify_selective_risk([0.1], [False], 0.1, 1.0)
    with pytest.raises(ValueError, match="2 scores but 1"):
        certify_selective_risk([0.1, 0.2], [False], 0.1, 0.1)
    with pytest.raises(ValueError, match="zero calibration rows"):
        certify_selective_risk([], [], 0.1, 0.1)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 400),
    p=st.floats(0.0, 0.6),
    alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]),
    seed=st.integers(0, 2**16),
)
def test_any_certificate_is_consistent_and_round_trips(
    n: int, p: float, alpha: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    s = rng.normal(size=n)
    w = rng.uniform(size=n) < p
    cert = certify_selective_risk(s, w, alpha, 0.1)
    answered = s <= cert.threshold
    assert cert.n_answered == int(answered.sum())
    if cert.certified:
        # the binomial test rejected at the certified threshold
        assert binom.cdf(int(w[answered].sum()), cert.n_answered, alpha) <= 0.1
        assert cert.n_answered >= min_rows_to_certify(alpha, 0.1)
    assert RiskCertificate.from_dict(cert.to_dict()) == cert
