"""Batch-level shift: false downgrades, planted shifts, SciPy agreement, state, bad input."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlrails import _json
from mlrails._state import State
from mlrails.drift.batch import BatchShiftFinding, BatchShiftTest, binormal_distance
from mlrails.errors import ArtifactError, DataError, NotFittedError, PolicyError

CITIES = np.array(["north", "south", "east", "west"])
ZIPS = np.array([f"z{i:02d}" for i in range(30)])
ZIP_P = 1.0 / np.arange(1, 31) ** 1.3
ZIP_P /= ZIP_P.sum()  # many rare levels: the chi-square must not be fooled by them


def make_rows(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Inputs: ``noise`` is never used by the models below."""
    return pd.DataFrame(
        {
            "age": np.round(rng.normal(40, 10, n)),  # ties
            "income": rng.lognormal(10, 0.5, n),
            "noise": rng.normal(0, 1, n),
            "city": CITIES[rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])],
            "zip": ZIPS[rng.choice(30, n, p=ZIP_P)],
        }
    )


def labels(X: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    z = (
        0.05 * (X["age"] - 40)
        + 3.0 * (np.log(X["income"]) - 10)
        + 1.5 * (X["city"] == "north")
        - 1.0
    )
    return (rng.random(len(X)) < 1 / (1 + np.exp(-z))).astype(int)


def classifier_model(X: pd.DataFrame, y: np.ndarray) -> Pipeline:
    """Logistic regression on age, income, city, zip; ``noise`` is dropped."""
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), ["age", "income"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["city", "zip"]),
        ]
    )
    return make_pipeline(prep, LogisticRegression(max_iter=500)).fit(X, y)


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    rng = np.random.default_rng(0)
    X_train = make_rows(rng, 3000)
    model = classifier_model(X_train, labels(X_train, rng))
    X_cal = make_rows(rng, 1500)  # rows the model did not train on
    test = BatchShiftTest().fit(X_train, model.predict_proba(X_cal), predict=model.predict_proba)
    return {"model": model, "test": test, "X_train": X_train, "X_cal": X_cal}


def run(test: BatchShiftTest, model: Any, X: pd.DataFrame) -> BatchShiftFinding:
    f = test.test(X, model.predict_proba(X))
    assert f is not None
    return f


# ------------------------------------------------------------------ false downgrades


@pytest.mark.parametrize("size", [100, 500, 5000])
def test_in_distribution_batches_are_rarely_downgraded(world: dict[str, Any], size: int) -> None:
    """alpha = 0.05 (more events than the default 0.01, so that an anti-conservative test
    shows): 5 references × 20 batches; the count stays within the binomial 99.9% bound."""
    model = world["model"]
    rng = np.random.default_rng(100 + size)
    n_refs, per_ref, alpha = 5, 20, 0.05
    downgraded = 0
    for r in range(n_refs):
        X_ref, X_out = make_rows(rng, 2000), make_rows(rng, 1000)
        test = BatchShiftTest(alpha=alpha, random_state=r, max_reference_rows=2000).fit(
            X_ref, model.predict_proba(X_out), predict=model.predict_proba
        )
        for _ in range(per_ref):
            downgraded += run(test, model, make_rows(rng, size)).shifted
    total = n_refs * per_ref
    assert downgraded <= stats.binom.ppf(0.999, total, alpha), (downgraded, total)


# ------------------------------------------------------------------ planted shifts


def test_unit_change_of_a_used_feature_is_shifted(world: dict[str, Any]) -> None:
    X = make_rows(np.random.default_rng(1), 200)
    X["income"] = X["income"] / 1000
    f = run(world["test"], world["model"], X)
    assert f.shifted and f.drifted
    assert f.fields[0].field == "income" and f.fields[0].matters
    assert f.fields[0].importance > 0.3
    assert "fields" in f.causes and "outputs" in f.causes
    assert f.reason.startswith("income shifted (KS 1.00, p<1e-9)")


def test_drift_in_an_unused_feature_is_reported_not_held_against_the_rows(
    world: dict[str, Any],
) -> None:
    X = make_rows(np.random.default_rng(2), 500)
    X["noise"] = X["noise"] * 3 + 2
    f = run(world["test"], world["model"], X)
    noise = next(s for s in f.fields if s.field == "noise")
    assert noise.importance == 0.0  # the pipeline drops the column
    assert noise.significant and not noise.matters
    assert f.drifted and not f.shifted
    assert "barely uses it" in f.reason


def test_without_a_model_every_field_counts(world: dict[str, Any]) -> None:
    """No ``predict``: importances unknown (NaN), so a drifted field is held against the rows."""
    model = world["model"]
    test = BatchShiftTest().fit(world["X_train"], model.predict_proba(world["X_cal"]))
    assert np.isnan(test.importance_).all()
    X = make_rows(np.random.default_rng(2), 500)
    X["noise"] = X["noise"] * 3 + 2
    f = run(test, model, X)
    assert f.shifted and "fields" in f.causes


def test_unseen_category_value(world: dict[str, Any]) -> None:
    X = make_rows(np.random.default_rng(3), 300)
    X.loc[:119, "city"] = "atlantis"  # 40% of the rows, never seen in training
    f = run(world["test"], world["model"], X)
    city = next(s for s in f.fields if s.field == "city")
    assert city.statistic == "chi2" and city.significant and city.matters
    assert city.effect == pytest.approx(0.4, abs=0.08)  # TV: 40% of the mass moved
    assert f.shifted


def test_prior_shift_via_outputs(world: dict[str, Any]) -> None:
    """Rows selected by their label (a prior shift) move the output distribution."""
    rng = np.random.default_rng(4)
    X = make_rows(rng, 20000)
    y = labels(X, rng)
    X = pd.concat([X[y == 1].iloc[:900], X[y == 0].iloc[:100]], ignore_index=True)
    f = run(world["test"], world["model"], X)
    assert f.shifted and "outputs" in f.causes
    assert f.output_effect is not None and f.output_effect > 0.2


def test_regression_outputs() -> None:
    rng = np.random.default_rng(5)
    X = make_rows(rng, 3000)[["age", "income", "noise"]]
    y = 0.1 * X["age"] + X["income"] / 10000 + rng.normal(0, 0.5, len(X))
    model = LinearRegression().fit(X[["age", "income"]], y)

    def predict(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict(frame[["age", "income"]]))

    X_out = make_rows(rng, 1000)[["age", "income", "noise"]]
    test = BatchShiftTest().fit(X, predict(X_out), predict=predict)
    assert test.task_ == "regression"
    B = make_rows(rng, 400)[["age", "income", "noise"]]
    ok = test.test(B, predict(B))
    assert ok is not None and not ok.shifted and ok.estimated_accuracy_drop is None
    B["income"] = B["income"] / 1000
    bad = test.test(B, predict(B))
    assert bad is not None and bad.shifted and {"fields", "outputs"} <= set(bad.causes)


def test_estimated_accuracy_drop_is_the_confidence_gap(world: dict[str, Any]) -> None:
    test, model = world["test"], world["model"]
    X = make_rows(np.random.default_rng(6), 400)
    P = model.predict_proba(X)
    f = test.test(X, P)
    assert f is not None and f.estimated_accuracy_drop is not None
    expected = test.outputs_ref_.max(axis=1).mean() - P.max(axis=1).mean()
    assert f.estimated_accuracy_drop == pytest.approx(expected, abs=1e-12)


# ------------------------------------------------------------------ numbers against SciPy


def test_field_p_values_match_scipy(world: dict[str, Any]) -> None:
    test = world["test"]
    X = make_rows(np.random.default_rng(7), 300)
    X["age"] = X["age"] + 2  # a shift, so that p is not ~1
    f = run(test, world["model"], X)
    by = {s.field: s for s in f.fields}
    j = test.columns_.index("age")
    ref = test.ref_numeric_[:, j]
    ks = stats.ks_2samp(ref, X["age"].to_numpy())
    assert by["age"].value == pytest.approx(ks.statistic, abs=1e-12)
    assert by["age"].p_value == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300)
    assert by["age"].effect == by["age"].value
    # city: four categories, none rare at 300 rows: the plain 2 × 4 chi-square
    codes = test.ref_categorical_[
        :, test.kinds_[: test.columns_.index("city")].count("categorical")
    ]
    ref_counts = np.bincount(codes, minlength=4)
    cur = X["city"].value_counts()
    table = np.array([ref_counts, [cur.get(c, 0) for c in test.vocabularies_[0]]])
    chi = stats.chi2_contingency(table)
    assert by["city"].value == pytest.approx(chi.statistic, rel=1e-12)
    assert by["city"].p_value == pytest.approx(chi.pvalue, rel=1e-9)


def test_classifier_sees_a_strong_shift(world: dict[str, Any]) -> None:
    """age + 1.5 sd: held-out AUROC near the normal-shift value Phi(1.5 / sqrt 2) = 0.86."""
    X = make_rows(np.random.default_rng(8), 400)
    X["age"] = X["age"] + 15
    f = run(world["test"], world["model"], X)
    assert f.classifier_auroc is not None and f.classifier_auroc > 0.75
    assert f.classifier_p_value is not None and f.classifier_p_value < 1e-9


# ------------------------------------------------------------------ state, sizes, errors


def test_state_round_trip_gives_identical_findings(world: dict[str, Any]) -> None:
    test, model = world["test"], world["model"]
    state = test.get_state()
    # through the artifact's storage: JSON metadata, npz arrays without pickle
    meta = json.loads(_json.dumps(state.meta))
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **state.arrays)  # type: ignore[arg-type]
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    back = BatchShiftTest.from_state(State(meta=meta, arrays=arrays))
    for seed, shift in [(9, 1.0), (10, 1000.0)]:
        X = make_rows(np.random.default_rng(seed), 600)
        X["income"] = X["income"] / shift
        a, b = test.test(X, model.predict_proba(X)), back.test(X, model.predict_proba(X))
        assert a is not None and b is not None
        assert a.to_dict() == b.to_dict()
        _json.dumps(a.to_dict())  # strict JSON (no NaN)


def test_corrupt_state_is_an_artifact_error(world: dict[str, Any]) -> None:
    state = world["test"].get_state()
    bad = State(meta=dict(state.meta), arrays=dict(state.arrays))
    bad.arrays["importance"] = bad.arrays["importance"][:-1]
    with pytest.raises(ArtifactError):
        BatchShiftTest.from_state(bad)
    with pytest.raises(ArtifactError):
        BatchShiftTest.from_state(State(meta={"format": "nope"}))
    del bad.arrays["ref_numeric"]
    with pytest.raises(ArtifactError):
        BatchShiftTest.from_state(bad)


def test_small_batches_are_not_tested(world: dict[str, Any]) -> None:
    X = make_rows(np.random.default_rng(11), 99)
    assert world["test"].test(X, world["model"].predict_proba(X)) is None
    assert run(world["test"], world["model"], make_rows(np.random.default_rng(11), 100))


def test_params_are_stored_unchanged_and_checked() -> None:
    t = BatchShiftTest(min_rows=50, alpha=0.02, effect=0.2)
    assert (t.min_rows, t.alpha, t.effect) == (50, 0.02, 0.2)
    rows = make_rows(np.random.default_rng(0), 100)
    with pytest.raises(PolicyError, match="alpha"):
        BatchShiftTest(alpha=1.5).fit(rows, None)
    with pytest.raises(NotFittedError):
        BatchShiftTest().test(rows, None)


def test_bad_inputs_give_clear_errors(world: dict[str, Any]) -> None:
    test, model = world["test"], world["model"]
    X = make_rows(np.random.default_rng(12), 200)
    P = model.predict_proba(X)
    with pytest.raises(DataError, match="lacks column.*income"):
        test.test(X.drop(columns="income"), P)
    with pytest.raises(DataError, match="non-numeric value"):
        test.test(X.assign(age="old"), P)
    with pytest.raises(DataError, match="outputs_batch has 3 columns"):
        test.test(X, np.c_[P, P[:, :1]])
    with pytest.raises(DataError, match="199 rows"):
        test.test(X, P[:199])
    with pytest.raises(DataError, match="columns but 5 fields"):
        test.test(X.to_numpy()[:, :4], P)
    with pytest.raises(DataError, match="2-D"):
        test.test(np.zeros(5), P)


def test_array_inputs_and_extra_columns() -> None:
    rng = np.random.default_rng(13)
    Xa = rng.normal(size=(2000, 3))
    model = LogisticRegression().fit(Xa[:, :2], (Xa[:, 0] > 0).astype(int))

    def predict(a: np.ndarray) -> np.ndarray:
        return np.asarray(model.predict_proba(np.asarray(a)[:, :2]))

    test = BatchShiftTest().fit(Xa, predict(rng.normal(size=(800, 3))), predict=predict)
    assert test.columns_ == ["x0", "x1", "x2"]
    assert test.importance_[2] == 0.0 and test.importance_[0] > 0.5
    B = rng.normal(size=(300, 3))
    B[:, 0] /= 1000
    f = test.test(B, predict(B))
    assert f is not None and f.shifted and f.fields[0].field == "x0"
    # a DataFrame with the fitted names (and an extra column) is accepted too
    frame = pd.DataFrame(B, columns=["x0", "x1", "x2"]).assign(extra=1.0)
    g = test.test(frame, predict(B))
    assert g is not None and g.to_dict() == f.to_dict()


def test_binormal_distance_against_the_normal_model() -> None:
    """Two normals a gap d apart: AUROC = Phi(d / sqrt 2), KS distance = 2 Phi(d / 2) - 1."""
    for gap in [0.1, 0.25, 1.0, 3.0]:
        auroc = stats.norm.cdf(gap / np.sqrt(2))
        assert binormal_distance(auroc) == pytest.approx(2 * stats.norm.cdf(gap / 2) - 1)
    assert binormal_distance(0.5) == 0.0 and binormal_distance(0.3) == 0.0
    assert binormal_distance(1.0) == 1.0
    # the KS distance of two large normal samples agrees
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 200_000), rng.normal(0.5, 1, 200_000)
    auroc = stats.mannwhitneyu(b, a).statistic / len(a) / len(b)
    assert binormal_distance(auroc) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=0.01)
