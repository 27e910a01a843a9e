"""Tabular perturbations: seeded, severity-graded, never touching their input."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlrails.bench import Perturbation, PerturbationError, available, make, register

TABULAR = ["gaussian_noise", "scaling", "missing_values", "outliers", "covariate_shift"]


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "a": rng.normal(10, 2, 2000),
            "b": rng.normal(-5, 0.5, 2000),
            "c": rng.integers(0, 100, 2000),
            "kind": rng.choice(["x", "y", "z"], 2000),
        }
    )
    y = (rng.random(2000) < 0.2).astype(int)
    return X, y


def _numeric_change(a: pd.DataFrame, b: pd.DataFrame) -> float:
    cols = ["a", "b", "c"]
    diff = (b[cols].astype(float) - a[cols].astype(float)).abs().to_numpy()
    # a blanked cell counts as one standard deviation of damage
    return float(np.mean(np.where(np.isnan(diff), 1.0, diff / a[cols].std().to_numpy())))


def test_registry_lists_and_refuses() -> None:
    assert set([*TABULAR, "category_swap", "prior_shift"]) <= set(available("tabular"))
    with pytest.raises(PerturbationError, match="unknown perturbation 'nois'"):
        make("nois")
    with pytest.raises(PerturbationError, match="severity must be 1–5"):
        make("gaussian_noise")(pd.DataFrame({"a": [1.0]}), np.array([0]), 6, 0)
    with pytest.raises(PerturbationError, match="integer"):
        make("gaussian_noise")(pd.DataFrame({"a": [1.0]}), np.array([0]), 2.5, 0)  # type: ignore[arg-type]
    with pytest.raises(PerturbationError, match="fraction"):
        make("scaling", fraction=0)
    with pytest.raises(PerturbationError, match="no arguments|unexpected keyword"):
        make("gaussian_noise", strength=3)


def test_a_new_perturbation_plugs_in() -> None:
    @register
    class Rounding(Perturbation):
        name = "rounding_test"
        kind = "tabular"

        def apply(self, X: Any, y: Any, severity: int, rng: Any) -> Any:
            return X.round(6 - severity), y

    out, _ = make("rounding_test")(pd.DataFrame({"a": [1.23456789]}), np.array([0]), 5, 0)
    assert out["a"].iloc[0] == 1.2
    with pytest.raises(TypeError, match="already registered"):

        @register
        class Other(Perturbation):
            name = "rounding_test"
            kind = "tabular"

            def apply(self, X: Any, y: Any, severity: int, rng: Any) -> Any:
                return X, y


@pytest.mark.parametrize("name", TABULAR)
def test_seeded_graded_and_pure(name: str, table: tuple[pd.DataFrame, Any]) -> None:
    X, y = table
    before = X.copy()
    p = make(name).fit(X, y)
    a, ya = p(X, y, 3, seed=7)
    b, _ = p(X, y, 3, seed=7)
    pd.testing.assert_frame_equal(X, before)  # the input is untouched
    pd.testing.assert_frame_equal(a, b)  # same seed, same rows
    # another seed, other rows (a random feature choice may coincide for one seed)
    assert any(not a.equals(p(X, y, 3, seed=s)[0]) for s in range(8, 13))
    assert a.shape == X.shape and np.array_equal(ya, y)
    changes = [_numeric_change(X, p(X, y, s, seed=1)[0]) for s in range(1, 6)]
    assert all(x < y_ for x, y_ in itertools.pairwise(changes)), changes


def test_gaussian_noise_has_the_stated_spread(table: tuple[pd.DataFrame, Any]) -> None:
    X, y = table
    out, _ = make("gaussian_noise").fit(X)(X, y, 4, seed=0)
    # severity 4: σ_noise = 1.0 × σ_feature; the noise's sample sd within 5 %
    noise = (out["a"] - X["a"]).to_numpy()
    assert np.std(noise) == pytest.approx(X["a"].std(ddof=0), rel=0.05)
    assert abs(np.mean(noise)) < 4 * X["a"].std(ddof=0) / np.sqrt(len(X))
    assert (out["kind"] == X["kind"]).all()


def test_scaling_multiplies_whole_columns(table: tuple[pd.DataFrame, Any]) -> None:
    X, y = table
    out, _ = make("scaling", fraction=0.34).fit(X)(X, y, 4, seed=0)
    ratios = {c: (out[c] / X[c]).replace([np.inf], np.nan).dropna().unique() for c in "abc"}
    scaled = [c for c, r in ratios.items() if not np.allclose(r, 1.0)]
    assert len(scaled) == 1 and np.allclose(ratios[scaled[0]], 10.0)


def test_missing_values_rate_within_binomial_bounds(table: tuple[pd.DataFrame, Any]) -> None:
    X, y = table
    out, _ = make("missing_values")(X, y, 3, seed=0)
    n = X.size
    rate = out.isna().to_numpy().sum() / n
    assert abs(rate - 0.2) < 4 * np.sqrt(0.2 * 0.8 / n)


def test_category_swap_changes_the_stated_share(table: tuple[pd.DataFrame, Any]) -> None:
    X, y = table
    out, _ = make("category_swap").fit(X)(X, y, 5, seed=0)
    changed = (out["kind"] != X["kind"]).mean()
    assert abs(changed - 0.5) < 4 * np.sqrt(0.25 / len(X))
    assert set(out["kind"]) <= {"x", "y", "z"}
    with pytest.raises(PerturbationError, match="no categorical"):
        make("category_swap")(X[["a", "b"]], y, 1, seed=0)


def test_covariate_shift_moves_the_chosen_features_by_k_sigma(
    table: tuple[pd.DataFrame, Any],
) -> None:
    X, y = table
    out, _ = make("covariate_shift", features=["b"]).fit(X)(X, y, 5, seed=0)
    assert np.allclose(out["b"] - X["b"], 2.0 * X["b"].std(ddof=0))
    assert out["a"].equals(X["a"])
    with pytest.raises(PerturbationError, match="not numeric"):
        make("covariate_shift", features=["kind"]).fit(X)(X, y, 1, seed=0)


def test_outliers_touch_the_stated_share_of_rows(table: tuple[pd.DataFrame, Any]) -> None:
    X, y = table
    out, _ = make("outliers").fit(X)(X, y, 4, seed=0)
    moved = (out[["a", "b", "c"]].astype(float) != X[["a", "b", "c"]].astype(float)).any(axis=1)
    assert abs(moved.mean() - 0.2) < 4 * np.sqrt(0.16 / len(X))
    z = ((out["a"] - X["a"]).abs() / X["a"].std(ddof=0))[out["a"] != X["a"]]
    assert ((z >= 5 - 1e-9) & (z <= 10 + 1e-9)).all()


def test_prior_shift_resamples_to_the_target_share(table: tuple[pd.DataFrame, Any]) -> None:
    X, y = table
    for severity, share in ((1, 0.5), (5, 0.9)):
        out, ys = make("prior_shift")(X, y, severity, seed=0)
        assert len(out) == len(X) and len(ys) == len(y)
        assert np.mean(ys == 1) == pytest.approx(share, abs=1 / len(y))
        # every row is a row of the clean set, with its own label
        merged = out.assign(y=ys).merge(X.assign(y=y), how="left", indicator=True)
        assert (merged["_merge"] == "both").all()
    with pytest.raises(PerturbationError, match="two classes"):
        make("prior_shift")(X, np.zeros(len(X), dtype=int), 1, seed=0)


def test_arrays_stay_arrays(table: tuple[pd.DataFrame, Any]) -> None:
    X, y = table
    arr = X[["a", "b"]].to_numpy()
    out, _ = make("gaussian_noise").fit(arr)(arr, y, 2, seed=0)
    assert isinstance(out, np.ndarray) and out.shape == arr.shape
    with pytest.raises(PerturbationError, match="2-D"):
        make("gaussian_noise")(np.zeros(3), y[:3], 1, seed=0)


@pytest.mark.parametrize("name", TABULAR)
def test_an_all_float_frame_is_perturbed_without_touching_it(
    name: str, table: tuple[pd.DataFrame, Any]
) -> None:
    # one float dtype: pandas may hand out a read-only view of the block, never write to it
    X, y = table
    floats = X[["a", "b"]].copy()
    before = floats.copy()
    out, _ = make(name).fit(floats)(floats, y, 5, seed=0)
    assert floats.equals(before) and not out.equals(before)
