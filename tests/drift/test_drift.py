"""Drift statistics against SciPy, the alarm rule, false alarms, profiles and bad input."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import association

from mlrails.drift import DriftConfig, ReferenceProfile, compare, drift
from mlrails.drift.kernels import bucketize, numba_available
from mlrails.drift.profile import category_key
from mlrails.drift.statistics import (
    NumericIndex,
    benjamini_hochberg,
    chi_square_homogeneity,
    compare_numeric,
    ks_pvalues,
    population_stability_index,
    wasserstein_null_mean,
)
from mlrails.errors import ArtifactError, DataError, MlrailsError, PolicyError

PATHS = [True, False]  # numba kernels, numpy fallback
# SciPy warns when its exact KS computation fails and it falls back to the asymptotic one;
# the module takes the same fallback, silently
pytestmark = pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation:RuntimeWarning")


def _ks(ref: np.ndarray, cur: np.ndarray, use_numba: bool) -> tuple[float, float, float]:
    """(statistic, p-value, wasserstein) through the module's numeric path."""
    ix = NumericIndex.build(np.sort(ref), 10)
    s = compare_numeric(ix, cur, use_numba=use_numba)
    d, p = ks_pvalues(np.array([s.d]), np.array([s.n_ref]), np.array([s.n_cur]))
    return float(d[0]), float(p[0]), s.wasserstein


def _sample(kind: str, rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    if kind == "normal":
        return rng.normal(shift, 1.0, n)
    if kind == "lognormal":
        return rng.lognormal(shift, 1.5, n)
    if kind == "ties":  # integer values: most points tied
        return rng.integers(0, 12, n).astype(np.float64) + np.round(shift * 4)
    if kind == "rounded":
        return np.round(rng.normal(shift, 1.0, n), 1)
    if kind == "cauchy":
        return rng.standard_cauchy(n) + shift
    if kind == "offset":  # large offset, small spread
        return 1e6 + rng.normal(shift, 1e-3, n) * 1e3
    raise AssertionError(kind)


# ------------------------------------------------------------------------- KS and Wasserstein


@pytest.mark.parametrize("use_numba", PATHS)
@pytest.mark.parametrize("kind", ["normal", "lognormal", "ties", "rounded", "cauchy", "offset"])
@pytest.mark.parametrize(
    ("n1", "n2"),
    [
        (5, 7),  # exact branch, tiny
        (60, 60),  # exact, equal sizes
        (400, 1_300),  # exact, unequal sizes
        (10_000, 3_000),  # exact at SciPy's 10,000 limit
        (12_000, 500),  # asymptotic (n1 > 10,000)
        (30_000, 80_000),  # asymptotic, production larger than reference
    ],
)
@pytest.mark.parametrize("shift", [0.0, 0.15])
def test_ks_and_wasserstein_equal_scipy(
    kind: str, n1: int, n2: int, shift: float, use_numba: bool
) -> None:
    rng = np.random.default_rng(n1 + 7 * n2)
    ref, cur = _sample(kind, rng, n1, 0.0), _sample(kind, rng, n2, shift)
    d, p, w = _ks(ref, cur, use_numba)
    want = stats.ks_2samp(ref, cur)
    assert abs(d - want.statistic) <= 1e-12
    assert abs(p - want.pvalue) <= 1e-9
    w_want = stats.wasserstein_distance(ref, cur)
    assert w == pytest.approx(w_want, rel=1e-9, abs=1e-300)


@settings(max_examples=60, deadline=None)
@given(
    ref=st.lists(st.integers(-5, 5), min_size=1, max_size=40),
    cur=st.lists(st.integers(-6, 6), min_size=1, max_size=40),
    scale=st.sampled_from([1.0, 0.1, 1e-7, 3e5]),
)
def test_ks_equal_scipy_on_arbitrary_tied_samples(
    ref: list[int], cur: list[int], scale: float
) -> None:
    r = np.asarray(ref, dtype=np.float64) * scale
    c = np.asarray(cur, dtype=np.float64) * scale
    want = stats.ks_2samp(r, c)
    for use_numba in PATHS:
        d, p, w = _ks(r, c, use_numba)
        assert abs(d - want.statistic) <= 1e-12
        assert abs(p - want.pvalue) <= 1e-9
        assert w == pytest.approx(stats.wasserstein_distance(r, c), rel=1e-9, abs=1e-12 * scale)


def test_large_windows_use_the_asymptotic_branch_like_scipy() -> None:
    rng = np.random.default_rng(3)
    ref, cur = rng.normal(size=50_000), rng.normal(0.01, 1.0, 250_000)
    for use_numba in PATHS:
        d, p, _ = _ks(ref, cur, use_numba)
        want = stats.ks_2samp(ref, cur)
        assert d == want.statistic
        assert p == pytest.approx(want.pvalue, abs=1e-12)


def test_numba_and_numpy_buckets_agree() -> None:
    if not numba_available():
        pytest.skip("numba not available")
    rng = np.random.default_rng(5)
    ref = np.sort(rng.lognormal(0, 2, 5_000))
    x = np.concatenate([rng.lognormal(0, 2, 20_000), ref[:50], [np.nan, -1.0, 1e9]])
    ix = NumericIndex.build(ref, 10)
    a = bucketize(x, ix.edges, ix.grid())
    b = bucketize(x, ix.edges, None)
    assert np.array_equal(a.count, b.count)
    assert np.array_equal(a.at_edge, b.at_edge)
    assert np.array_equal(a.bid, b.bid)
    assert np.allclose(a.offset, b.offset, rtol=1e-12, atol=1e-9)
    assert np.array_equal(
        a.count,
        np.bincount(
            np.searchsorted(ix.edges, x[~np.isnan(x)], "right"),
            minlength=len(ix.edges) + 1,
        ),
    )
    assert (a.n_missing, a.n_infinite) == (1, 0)


def test_compare_reports_scipy_numbers_per_field() -> None:
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"x": rng.normal(size=3_000), "k": rng.poisson(2, 3_000)})
    cur = pd.DataFrame({"x": rng.normal(0.1, 1, 20_000), "k": rng.poisson(2.2, 20_000)})
    rep = compare(ReferenceProfile.fit(ref), cur)
    for name in ("x", "k"):
        want = stats.ks_2samp(ref[name].to_numpy(float), cur[name].to_numpy(float))
        assert rep[name].test == "ks"
        assert rep[name].statistic == pytest.approx(want.statistic, abs=1e-12)
        assert rep[name].p_value == pytest.approx(want.pvalue, abs=1e-9)
        assert rep[name].wasserstein == pytest.approx(
            stats.wasserstein_distance(ref[name], cur[name]), rel=1e-9
        )
        assert rep[name].effect_raw == pytest.approx(
            rep[name].wasserstein / ref[name].std(ddof=0), rel=1e-12
        )


def test_missing_numeric_values_are_left_out_and_reported() -> None:
    rng = np.random.default_rng(2)
    ref = rng.normal(size=2_000)
    cur = rng.normal(size=1_500)
    ref_nan, cur_nan = ref.copy(), cur.copy()
    ref_nan[:100] = np.nan
    cur_nan[::10] = np.nan
    rep = compare(ReferenceProfile.fit(pd.DataFrame({"x": ref_nan})), pd.DataFrame({"x": cur_nan}))
    f = rep["x"]
    want = stats.ks_2samp(ref_nan[~np.isnan(ref_nan)], cur_nan[~np.isnan(cur_nan)])
    assert f.statistic == pytest.approx(want.statistic, abs=1e-12)
    assert f.p_value == pytest.approx(want.pvalue, abs=1e-9)
    assert (f.n_ref, f.n_cur) == (1_900, 1_350)
    assert f.missing_ref == pytest.approx(0.05)
    assert f.missing_cur == pytest.approx(0.1)


def test_constant_reference() -> None:
    ref = pd.DataFrame({"x": np.full(500, 3.0)})
    same = compare(ReferenceProfile.fit(ref), pd.DataFrame({"x": np.full(50, 3.0)}))
    assert same["x"].statistic == 0.0 and same["x"].p_value == 1.0 and not same.alarm
    moved = compare(ReferenceProfile.fit(ref), pd.DataFrame({"x": np.full(50, 3.5)}))
    assert moved["x"].statistic == 1.0
    assert moved["x"].effect_size == math.inf and moved.alarm


# ------------------------------------------------------------------------- chi-square


@pytest.mark.parametrize(
    ("ref", "cur"),
    [
        ([500, 300], [40, 60]),  # 2 x 2: Yates' correction, as chi2_contingency's default
        ([5, 1], [1, 5]),  # 2 x 2, small counts
        ([400, 300, 200, 100, 50], [30, 40, 20, 10, 0]),
        ([1000, 10, 0], [20, 3, 4]),  # a category new in production
        ([7, 7, 7], [7, 7, 7]),  # identical shares
    ],
)
def test_chi_square_equals_chi2_contingency(ref: list[int], cur: list[int]) -> None:
    table = np.array([ref, cur])
    got = chi_square_homogeneity(table[0], table[1])
    want = stats.chi2_contingency(table[:, table.sum(axis=0) > 0])
    assert got.statistic == pytest.approx(want.statistic, rel=1e-12, abs=1e-12)
    assert got.p_value == pytest.approx(want.pvalue, rel=1e-9, abs=1e-12)
    assert got.dof == want.dof
    assert got.yates == (got.dof == 1)
    # Cramér's V of the table with both rows scaled to the same total
    eq = np.array([table[0] * table[1].sum(), table[1] * table[0].sum()])
    eq = eq[:, eq.sum(axis=0) > 0]
    assert got.cramers_v == pytest.approx(association(eq, method="cramer"), rel=1e-9)


def test_categorical_fields_through_compare() -> None:
    rng = np.random.default_rng(4)
    levels = np.array(["a", "b", "c", "d"])
    ref = pd.DataFrame({"c": levels[rng.choice(4, 5_000, p=[0.4, 0.3, 0.2, 0.1])]})
    cur_vals = levels[rng.choice(4, 2_000, p=[0.3, 0.3, 0.3, 0.1])].astype(object)
    cur_vals[:30] = "new"
    cur_vals[30:40] = None
    cur = pd.DataFrame({"c": cur_vals})
    rep = compare(ReferenceProfile.fit(ref), cur)
    f = rep["c"]
    table = pd.concat(
        [ref["c"].value_counts(dropna=False), cur["c"].value_counts(dropna=False)], axis=1
    ).fillna(0)
    want = stats.chi2_contingency(table.to_numpy().T)
    assert f.test == "chi2" and f.kind == "categorical"
    assert f.statistic == pytest.approx(want.statistic, rel=1e-12)
    assert f.p_value == pytest.approx(want.pvalue, rel=1e-9, abs=1e-300)
    assert f.missing_cur == pytest.approx(10 / 2_000)
    assert f.wasserstein is None and f.alarm


def test_category_keys_match_across_int_float_and_text() -> None:
    assert category_key(3) == category_key(3.0) == category_key(np.int64(3)) == "3"
    assert category_key(2.5) == "2.5"
    assert category_key(True) == "True"
    assert category_key(None) is None and category_key(float("nan")) is None
    ref = pd.DataFrame({"g": np.array([1, 2, 3] * 100)})
    cur = pd.DataFrame({"g": [1.0, 2.0, 3.0] * 30})  # floats, same shares
    rep = compare(ReferenceProfile.fit(ref, categorical=["g"]), cur)
    assert rep["g"].statistic == 0.0 and rep["g"].p_value == 1.0
    with_nan = compare(ReferenceProfile.fit(ref, categorical=["g"]), cur.iloc[:89].assign(g=1.0))
    assert with_nan["g"].p_value < 1e-6


# ------------------------------------------------------------------------- PSI, BH, effects


def test_psi_hand_computed() -> None:
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.4, 0.2])
    want = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.4 - 0.3) * math.log(0.4 / 0.3)
    assert population_stability_index(p, q) == pytest.approx(want, rel=1e-12)
    # an empty bin is floored at epsilon
    assert population_stability_index(np.array([0.5, 0.5]), np.array([1.0, 0.0]), 1e-4) == (
        pytest.approx(0.5 * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5))
    )


def test_numeric_psi_uses_reference_decile_bins() -> None:
    ref = np.arange(1000, dtype=np.float64)  # deciles at 100, 200, ..., 900
    cur = np.concatenate([np.full(300, 50.0), np.full(700, 500.0)])
    s = compare_numeric(NumericIndex.build(ref, 10), cur)
    shares = np.array([0.3, 0, 0, 0, 0, 0.7, 0, 0, 0, 0])
    assert s.psi == pytest.approx(population_stability_index(np.full(10, 0.1), shares))


@pytest.mark.parametrize("m", [1, 2, 7, 50])
def test_benjamini_hochberg_equals_scipy(m: int) -> None:
    rng = np.random.default_rng(m)
    p = rng.uniform(size=m) ** 3
    if m > 2:
        p[1] = p[0]  # ties
    assert np.allclose(benjamini_hochberg(p), stats.false_discovery_control(p), rtol=1e-12)
    with_nan = np.append(p, np.nan)
    got = benjamini_hochberg(with_nan)
    assert np.isnan(got[-1])
    assert np.allclose(got[:-1], stats.false_discovery_control(p), rtol=1e-12)


def test_wasserstein_null_mean_matches_simulation() -> None:
    rng = np.random.default_rng(0)
    ref = np.sort(rng.normal(size=5_000))
    ix = NumericIndex.build(ref, 10)
    sims = [stats.wasserstein_distance(ref, rng.normal(size=300)) for _ in range(300)]
    assert wasserstein_null_mean(ix.bridge, 5_000, 300) == pytest.approx(np.mean(sims), rel=0.08)


def test_debiased_cramers_v_is_near_zero_without_drift() -> None:
    rng = np.random.default_rng(1)
    p = np.full(50, 1 / 50)
    vs, raws = [], []
    for _ in range(200):
        ref, cur = rng.multinomial(20_000, p), rng.multinomial(200, p)
        chi = chi_square_homogeneity(ref, cur)
        vs.append(chi.cramers_v_debiased)
        raws.append(chi.cramers_v)
    assert np.mean(raws) > 0.2  # the noise plain V shows with 50 categories and 200 rows
    assert np.mean(vs) < 0.06


# ------------------------------------------------------------------------- alarm rule


def _frame(
    rng: np.random.Generator, n: int, shift: float = 0.0, share: float = 0.0
) -> pd.DataFrame:
    levels = np.array(["x", "y", "z"])
    return pd.DataFrame(
        {
            "a": rng.normal(shift, 1.0, n),
            "b": rng.exponential(1.0, n),
            "c": rng.poisson(4.0, n).astype(np.float64),
            "d": rng.lognormal(0.0, 1.0, n),
            "e": levels[rng.choice(3, n, p=[0.5 - share, 0.3 + share, 0.2])],
            "f": rng.integers(0, 10, n),
        }
    )


def test_tiny_shift_on_a_huge_sample_is_significant_but_does_not_alarm() -> None:
    rng = np.random.default_rng(8)
    profile = ReferenceProfile.fit(_frame(rng, 100_000), categorical=["f"])
    rep = compare(profile, _frame(rng, 400_000, shift=0.03))
    a = rep["a"]
    assert a.p_adjusted < 1e-6  # 0.03 standard deviations, 400,000 rows: clearly significant
    assert a.effect_size < 0.1  # ... but negligible
    assert not a.alarm and not rep.alarm


def test_real_shift_alarms() -> None:
    rng = np.random.default_rng(9)
    profile = ReferenceProfile.fit(_frame(rng, 20_000), categorical=["f"])
    rep = compare(profile, _frame(rng, 2_000, shift=0.4))
    assert rep.alarm and rep.alarming == ["a"]
    assert rep["a"].effect_size > 0.25
    rep = compare(profile, _frame(rng, 2_000, share=0.15))
    assert rep.alarming == ["e"]


def test_false_alarms_at_most_5_percent_and_planted_shift_detected() -> None:
    rng = np.random.default_rng(10)
    profile = ReferenceProfile.fit(_frame(rng, 20_000), categorical=["f"])
    cfg = DriftConfig()
    null = [compare(profile, _frame(rng, 500), cfg).alarm for _ in range(200)]
    assert np.mean(null) <= 0.05
    shifted = [compare(profile, _frame(rng, 500, shift=0.3), cfg).alarm for _ in range(100)]
    assert np.mean(shifted) >= 0.9


def test_label_is_categorical_and_optional_in_the_window() -> None:
    rng = np.random.default_rng(12)
    ref = _frame(rng, 3_000).assign(y=rng.integers(0, 3, 3_000))
    profile = ReferenceProfile.fit(ref, label="y", categorical=["f"])
    assert profile.reference("y").kind == "categorical" and profile.reference("y").is_label
    without = compare(profile, _frame(rng, 500))
    assert "y" not in [f.field for f in without.fields]
    with_label = compare(profile, _frame(rng, 500).assign(y=rng.integers(0, 3, 500)))
    assert with_label["y"].is_label and with_label["y"].test == "chi2"


def test_report_serialises() -> None:
    rng = np.random.default_rng(13)
    rep = drift(_frame(rng, 1_000), _frame(rng, 300))
    d = rep.to_dict()
    assert len(d["fields"]) == 6 and d["alarm"] == rep.alarm
    assert list(rep.to_frame().index) == ["a", "b", "c", "d", "e", "f"]


# ------------------------------------------------------------------------- profiles


def test_profile_round_trip(tmp_path: object) -> None:
    rng = np.random.default_rng(14)
    ref = _frame(rng, 2_000)
    ref.loc[::7, "a"] = np.nan
    profile = ReferenceProfile.fit(ref, categorical=["f"], label="f")
    cur = _frame(rng, 700, shift=0.2)
    back = ReferenceProfile.from_bytes(profile.to_bytes())
    assert back == profile and back.names == profile.names
    for a, b in zip(profile.fields, back.fields, strict=True):
        assert type(a) is type(b) and a.n_missing == b.n_missing and a.is_label == b.is_label
    assert compare(back, cur) == compare(profile, cur)
    path = f"{tmp_path}/profile.npz"
    profile.to_npz(path)
    assert compare(ReferenceProfile.from_npz(path), cur) == compare(profile, cur)


def test_max_values_subsamples_numeric_fields() -> None:
    rng = np.random.default_rng(15)
    profile = ReferenceProfile.fit(_frame(rng, 5_000), max_values=1_000)
    assert profile.reference("a").n == 1_000
    assert profile.reference("e").n == 5_000  # categorical counts are kept whole


@pytest.mark.parametrize(
    "data",
    [b"not a zip", b""],
)
def test_corrupt_profile(data: bytes) -> None:
    with pytest.raises(ArtifactError):
        ReferenceProfile.from_bytes(data)


def test_profile_with_unsorted_values_is_rejected() -> None:
    buf = io.BytesIO()
    np.savez(
        buf,
        meta=np.array(
            '{"format": "mlrails-reference-profile", "version": 1, "n_rows": 2, "fields": '
            '[{"name": "a", "kind": "numeric", "is_label": false, "n_missing": 0}]}'
        ),
        values_0=np.array([2.0, 1.0]),
    )
    with pytest.raises(ArtifactError, match="bad reference values"):
        ReferenceProfile.from_bytes(buf.getvalue())


# ------------------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    return ReferenceProfile.fit(_frame(np.random.default_rng(16), 1_000), categorical=["f"])


def test_missing_columns(profile: ReferenceProfile) -> None:
    cur = _frame(np.random.default_rng(17), 100).drop(columns=["a", "e"])
    with pytest.raises(DataError, match="lacks column"):
        compare(profile, cur)


def test_text_in_a_numeric_field(profile: ReferenceProfile) -> None:
    cur = _frame(np.random.default_rng(18), 100)
    cur["a"] = cur["a"].astype(object)
    cur.loc[3, "a"] = "oops"
    with pytest.raises(DataError, match="non-numeric value 'oops'"):
        compare(profile, cur)


def test_numbers_stored_as_text_are_accepted(profile: ReferenceProfile) -> None:
    cur = _frame(np.random.default_rng(19), 100)
    as_text = cur.assign(a=cur["a"].astype(str).astype(object))
    assert compare(profile, as_text)["a"].statistic == compare(profile, cur)["a"].statistic


def test_empty_window(profile: ReferenceProfile) -> None:
    with pytest.raises(DataError, match="empty"):
        compare(profile, _frame(np.random.default_rng(20), 0))


@pytest.mark.parametrize("use_numba", PATHS)
def test_infinite_and_all_missing_numeric_values(
    profile: ReferenceProfile, use_numba: bool
) -> None:
    cur = _frame(np.random.default_rng(21), 100)
    for bad in (np.inf, -np.inf):
        with pytest.raises(DataError, match="infinite"):
            b = np.where(np.arange(100) % 7 == 5, bad, cur["b"])
            compare(profile, cur.assign(b=b), use_numba=use_numba)
    with pytest.raises(DataError, match="no non-missing value"):
        compare(profile, cur.assign(b=np.nan), use_numba=use_numba)


def test_not_a_frame(profile: ReferenceProfile) -> None:
    with pytest.raises(DataError):
        compare(profile, np.zeros((3, 6)))  # type: ignore[arg-type]
    with pytest.raises(DataError):
        ReferenceProfile.fit({"a": [1, 2]})  # type: ignore[arg-type]


def test_bad_reference() -> None:
    with pytest.raises(DataError, match="empty"):
        ReferenceProfile.fit(pd.DataFrame({"a": []}))
    with pytest.raises(DataError, match="no non-missing"):
        ReferenceProfile.fit(pd.DataFrame({"a": [np.nan, np.nan]}))
    with pytest.raises(DataError, match="lacks column"):
        ReferenceProfile.fit(pd.DataFrame({"a": [1.0]}), columns=["b"])
    with pytest.raises(DataError, match="unsupported dtype"):
        ReferenceProfile.fit(pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3)}))


@pytest.mark.parametrize(
    "kwargs",
    [{"alpha": 0.0}, {"alpha": 1.5}, {"numeric_effect": -1}, {"psi_bins": 1}, {"psi_epsilon": 0.0}],
)
def test_bad_config(kwargs: dict[str, float]) -> None:
    with pytest.raises(PolicyError):
        DriftConfig(**kwargs)  # type: ignore[arg-type]


def test_errors_are_mlrails_errors() -> None:
    assert issubclass(DataError, MlrailsError) and issubclass(ArtifactError, MlrailsError)
