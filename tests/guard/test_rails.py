"""The guard end to end: fit rails, check inputs, verdicts per the status-code protocol."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mlrails
from mlrails.models import CallableAdapter
from mlrails.protocol import Outcome


def statuses(verdicts: list[Any]) -> list[int]:
    return [v.status for v in verdicts]


# -- clean inputs -------------------------------------------------------------------------
def test_clean_rows_mostly_pass_with_full_evidence(cancer: Any, cancer_rails: Any) -> None:
    verdicts = cancer_rails.check(cancer.X_test)
    assert len(verdicts) == len(cancer.X_test)
    ok = [v for v in verdicts if v.status == 200]
    # answered rows: 200, or 203 because the conformal set is empty (a forest this accurate
    # has many rows whose set at 90% coverage holds no class)
    answered = [
        v for v in verdicts if v.status == 200 or (v.status == 203 and not v.prediction_set)
    ]
    assert len(answered) >= 0.85 * len(verdicts)
    assert all(v.status != 200 for v in verdicts if v.prediction_set == [])
    v = ok[0]
    assert v.problem is None and v.to_problem() is None and v.ok
    assert v.prediction in (0, 1)
    assert v.probabilities is not None
    assert sum(v.probabilities.values()) == pytest.approx(1.0)
    assert v.confidence is not None
    assert v.confidence.max_probability == pytest.approx(max(v.probabilities.values()))
    assert v.prediction_set is not None and v.prediction in v.prediction_set
    names = [s.name for s in v.safeguards]
    assert names == [
        "validation",
        "ood",
        "adversarial:label_instability",
        "adversarial:neighbour_disagreement",
        "reliability",
        "conformal_set",
        "batch_shift",  # the test batch has enough rows for the batch-level test
    ]
    for s in v.safeguards[1:-2]:
        assert s.score is not None and s.threshold is not None and not s.triggered
    conformal = v.safeguard("conformal_set")
    assert conformal is not None and not conformal.triggered
    assert conformal.details["set_size"] >= 1
    assert v.artifact_hash == cancer_rails.artifact_hash
    json.dumps(v.to_dict())  # JSON-ready


def test_calibrated_prediction_matches_the_model(
    cancer: Any, cancer_forest: Any, cancer_rails: Any
) -> None:
    verdicts = cancer_rails.check(cancer.X_test)
    bare = cancer_forest.predict(cancer.X_test)
    answered = [
        (v.prediction, b) for v, b in zip(verdicts, bare, strict=True) if v.prediction is not None
    ]
    # temperature scaling never changes the predicted class
    assert all(p == b for p, b in answered)


def test_batch_and_row_by_row_give_the_same_verdicts(cancer: Any, cancer_rails: Any) -> None:
    X = cancer.X_test.head(25)
    batch = cancer_rails.check(X)
    single = [cancer_rails.check(X.iloc[[i]])[0] for i in range(len(X))]
    assert statuses(batch) == statuses(single)
    for a, b in zip(batch, single, strict=True):
        assert [s.score for s in a.safeguards] == pytest.approx([s.score for s in b.safeguards])


def test_numpy_records_and_frames_are_equivalent(cancer: Any, cancer_rails: Any) -> None:
    X = cancer.X_test.head(10)
    by_frame = statuses(cancer_rails.check(X))
    assert statuses(cancer_rails.check(X.to_dict(orient="records"))) == by_frame
    assert statuses(cancer_rails.check(X.to_numpy())) == by_frame
    assert cancer_rails.check_one(X.iloc[0].to_dict()).status == by_frame[0]


# -- bad inputs: 400, never an exception --------------------------------------------------
def test_every_kind_of_bad_row_gets_a_400_with_field_errors(cancer: Any, cancer_rails: Any) -> None:
    cols = list(cancer.X_test.columns)
    rows = cancer.X_test.head(6).to_dict(orient="records")
    rows[0][cols[0]] = "twelve"
    rows[1][cols[1]] = float("nan")
    rows[2][cols[2]] = float("inf")
    rows[3][cols[3]] = 1e30
    rows[4][cols[4]] = None
    verdicts = cancer_rails.check(rows)
    assert statuses(verdicts) == [400, 400, 400, 400, 400, verdicts[5].status]
    assert verdicts[5].status in (200, 203)
    expected = ["wrong_type", "missing_value", "not_finite", "out_of_range", "missing_value"]
    for v, field, code in zip(verdicts, cols, expected, strict=False):
        assert v.outcome is Outcome.INVALID_INPUT and v.prediction is None
        assert [(e.field, e.code) for e in v.errors] == [(field, code)]
        doc = v.to_problem().to_dict()
        assert doc["type"].endswith("/invalid-input") and doc["status"] == 400
        assert doc["errors"][0]["field"] == field
    json.dumps([v.to_dict() for v in verdicts])


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((3, 29)),  # wrong number of columns
        np.zeros((0, 30)),  # empty batch
        "not a table",
        [[1, 2], [3]],  # ragged
        pd.DataFrame({"x": [1, 2]}),  # wrong columns
    ],
)
def test_malformed_batches_get_400_not_exceptions(cancer_rails: Any, bad: Any) -> None:
    verdicts = cancer_rails.check(bad)
    assert verdicts and all(v.status == 400 for v in verdicts)
    assert all(v.errors for v in verdicts)


def test_empty_batch_is_one_400_verdict(cancer: Any, cancer_rails: Any) -> None:
    verdicts = cancer_rails.check(cancer.X_test.head(0))
    assert len(verdicts) == 1 and verdicts[0].status == 400
    assert verdicts[0].errors[0].code == "empty_batch"


def test_validation_warn_mode_answers_203_when_the_model_copes(
    cancer: Any, cancer_forest: Any
) -> None:
    rails = mlrails.fit(
        cancer_forest,
        cancer.X_train,
        cancer.y_train,
        policy={"validation": {"mode": "warn"}, "calibration_fraction": 0.3},
    )
    X = cancer.X_test.head(3).copy()
    X.iloc[0, 0] = X.iloc[:, 0].max() * 50  # out of range, still a number
    v = rails.check(X)[0]
    assert v.status != 400 and v.errors and v.errors[0].code == "out_of_range"


# -- model errors: 500 naming the error class, other rows unaffected ----------------------
def test_model_that_raises_gets_500_only_for_its_rows() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    y = (X[:, 0] > 0).astype(int)
    lr = LogisticRegression().fit(X, y)

    def fragile(batch: np.ndarray) -> np.ndarray:
        if (batch[:, 1] > 3.5).any():  # far from the fit rows and their noisy copies
            raise ZeroDivisionError("boom")
        return lr.predict_proba(batch)

    model = CallableAdapter(fragile, task="classification", classes=[0, 1])
    rails = mlrails.fit(model, X[X[:, 1] <= 2.5], y[X[:, 1] <= 2.5])
    rows = np.array([[0.1, 0.0, 0.0, 0.0], [0.1, 3.6, 0.0, 0.0], [-0.2, 0.1, 0.0, 0.1]])
    verdicts = rails.check(rows)
    assert verdicts[1].status == 500 and "ZeroDivisionError" in (verdicts[1].detail or "")
    assert verdicts[1].outcome is Outcome.MODEL_ERROR
    assert verdicts[0].status != 500 and verdicts[2].status != 500


# -- out-of-distribution, adversarial, low confidence -------------------------------------
@pytest.fixture(scope="module")
def gaussian() -> tuple[np.ndarray, np.ndarray, Any]:
    X, y = make_classification(n_samples=6000, n_features=10, n_informative=6, random_state=0)
    model = LogisticRegression(max_iter=500).fit(X[:3000], y[:3000])
    return X, y, model


def test_far_away_input_is_422_with_evidence(gaussian: Any) -> None:
    X, y, model = gaussian
    rails = mlrails.fit(model, X[:3000], y[:3000])
    far = np.full((1, 10), 3.0)  # every feature at +3: inside each range, jointly unseen
    v = rails.check(far)[0]
    assert v.status == 422 and v.outcome is Outcome.OUT_OF_DISTRIBUTION
    assert v.prediction is None
    ood = v.safeguard("ood")
    assert ood is not None and ood.triggered and ood.score > ood.threshold
    assert "ood" in (v.detail or "")


def test_realised_false_alarm_rate_on_fresh_in_distribution_data(gaussian: Any) -> None:
    X, y, model = gaussian
    rails = mlrails.fit(
        model,
        X[:2000],
        y[:2000],
        X[2000:3000],
        y[2000:3000],
        policy={"reliability": {"mode": "off"}},
    )
    fresh = rails.check(X[3000:])
    alarms = np.mean([v.status in (403, 422) for v in fresh])
    ood_rate = np.mean([v.safeguard("ood").triggered for v in fresh])
    # 1% target per safeguard, 1000 calibration rows: allow binomial noise
    assert ood_rate < 0.025
    assert alarms < 0.06
    for g in rails.summary.safeguards:
        assert g.realised_fpr is not None and g.realised_fpr <= g.target_fpr


def test_warn_mode_answers_203_with_the_prediction(gaussian: Any) -> None:
    X, y, model = gaussian
    rails = mlrails.fit(model, X[:3000], y[:3000], policy={"ood": {"mode": "warn"}})
    v = rails.check(np.full((1, 10), 3.0))[0]
    assert v.status == 203 and v.outcome is Outcome.NOT_AUTHORITATIVE
    assert v.prediction is not None and "ood" in (v.detail or "")


def test_off_mode_skips_the_safeguard_and_codes_can_be_overridden(gaussian: Any) -> None:
    X, y, model = gaussian
    off = mlrails.fit(model, X[:3000], y[:3000], policy={"ood": {"mode": "off"}})
    v = off.check(np.full((1, 10), 3.0))[0]
    assert v.safeguard("ood") is None and off.ood is None
    custom = mlrails.fit(
        model, X[:3000], y[:3000], policy={"status_codes": {"out_of_distribution": 409}}
    )
    assert custom.check(np.full((1, 10), 3.0))[0].status == 409


def test_boundary_inputs_are_refused_or_flagged(gaussian: Any) -> None:
    X, y, model = gaussian
    rails = mlrails.fit(model, X[:3000], y[:3000])
    # move test rows onto the decision boundary along the weight vector: w.x + b = 0
    w, b = model.coef_[0], model.intercept_[0]
    Xt = X[3000:3300]
    on_boundary = Xt - ((Xt @ w + b) / (w @ w))[:, None] * w[None, :] * 0.98
    clean = statuses(rails.check(Xt))
    edge = statuses(rails.check(on_boundary))
    flagged_clean = np.mean([s != 200 for s in clean])
    flagged_edge = np.mean([s != 200 for s in edge])
    assert flagged_edge > 0.6 and flagged_edge > 5 * flagged_clean
    assert {403, 203} & set(edge)


def test_low_confidence_is_203_with_the_prediction(cancer: Any, cancer_forest: Any) -> None:
    rails = mlrails.fit(
        cancer_forest,
        cancer.X_train,
        cancer.y_train,
        policy={
            "reliability": {"min_confidence": 0.99},
            "adversarial": {"mode": "off"},
            "ood": {"mode": "off"},
        },
    )
    verdicts = rails.check(cancer.X_test)
    low = [v for v in verdicts if v.confidence and v.confidence.max_probability < 0.99]
    assert low
    assert all(v.status == 203 and v.prediction is not None for v in low)
    assert all("low confidence" in (v.detail or "") for v in low)


def test_summary_reports_calibration_and_thresholds(cancer_rails: Any) -> None:
    s = cancer_rails.summary
    assert s.task == "classification"
    assert s.calibration is not None and s.calibration.method == "temperature"
    assert s.calibration.nll_after <= s.calibration.nll_before + 1e-9
    names = {g.name for g in s.safeguards}
    assert {"ood", "adversarial:label_instability", "reliability"} <= names
    # no calibration data: every training row calibrated, out of fold, and the model
    # (a scikit-learn estimator) was refitted per fold, so no optimism note is due
    assert s.budget is not None and s.budget.calibration_method == "crossfit"
    assert s.n_calibration == s.n_train
    assert not any("taken from the training data" in n for n in s.notes)


# -- other tasks and layouts --------------------------------------------------------------
def test_regression_gets_conformal_intervals_with_coverage() -> None:
    X, y = make_regression(n_samples=4000, n_features=8, noise=10.0, random_state=0)
    model = LinearRegression().fit(X[:1000], y[:1000])
    rails = mlrails.fit(
        model,
        X[:1000],
        y[:1000],
        X[1000:2000],
        y[1000:2000],
        policy={"reliability": {"coverage": 0.9}},
    )
    verdicts = rails.check(X[2000:])
    answered = [(v, t) for v, t in zip(verdicts, y[2000:], strict=True) if v.interval]
    assert len(answered) > 0.9 * len(verdicts)
    covered = np.mean([lo <= t <= hi for v, t in answered for lo, hi in [v.interval]])
    assert 0.87 <= covered <= 0.93
    v = answered[0][0]
    assert v.prediction == pytest.approx(float(model.predict(X[2000:2001])[0]))
    assert v.probabilities is None


def test_mixed_numeric_and_categorical_tables() -> None:
    rng = np.random.default_rng(0)
    n = 800
    X = pd.DataFrame(
        {
            "size": rng.normal(10, 2, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "count": rng.integers(0, 20, n),
        }
    )
    y = ((X["size"] > 10) ^ (X["colour"] == "red")).astype(int).to_numpy()
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"])], remainder=StandardScaler()
    )
    model = make_pipeline(pre, LogisticRegression()).fit(X, y)
    rails = mlrails.fit(model, X, y)
    good = X.head(5)
    assert all(s in (200, 203, 403) for s in statuses(rails.check(good)))
    bad = good.astype({"count": float})
    bad.loc[0, "colour"] = "purple"
    bad.loc[1, "count"] = 2.5
    v = rails.check(bad)
    assert v[0].status == 400 and v[0].errors[0].code == "unknown_category"
    assert v[1].status == 400 and v[1].errors[0].code == "not_integer"
    explained = rails.check(good.head(2), explain=True)
    assert all(e.explanation is not None for e in explained if e.prediction is not None)


def test_image_inputs_check_shape_and_use_feature_squeezing() -> None:
    X, y = load_digits(return_X_y=True)
    imgs = X.reshape(-1, 8, 8)
    lr = LogisticRegression(max_iter=2000).fit(X[:1200], y[:1200])
    model = CallableAdapter(
        lambda b: lr.predict_proba(np.asarray(b).reshape(len(b), -1)),
        task="classification",
        classes=list(range(10)),
    )
    rails = mlrails.fit(model, imgs[:1200], y[:1200])
    names = [d.name for d in rails.adversarial]
    assert "feature_squeezing" in names
    assert rails.check(imgs[1300:1301])[0].status in (200, 203, 403, 422)
    wrong = rails.check(np.zeros((2, 7, 8)))
    assert statuses(wrong) == [400, 400] and wrong[0].errors[0].code == "wrong_shape"
    v = rails.check(imgs[1300:1301] + 100.0)[0]
    assert v.status == 400 and v.errors[0].code == "out_of_range"


def test_explanations_follow_the_policy(cancer: Any, cancer_forest: Any) -> None:
    rails = mlrails.fit(
        cancer_forest,
        cancer.X_train,
        cancer.y_train,
        policy={"explanation": {"when": "non200", "top_k": 3}, "calibration_fraction": 0.3},
    )
    X = cancer.X_test.head(40)
    verdicts = rails.check(X)
    for v in verdicts:
        if v.status == 200:
            assert v.explanation is None
        elif v.status in (203, 403, 422):
            assert v.explanation is not None and len(v.explanation.contributions) == 3
    on_request = rails.check(X.head(2), explain=True)
    e = on_request[0].explanation
    assert e is not None and e.method == "tree"
    mags = [abs(c.contribution) for c in e.contributions]
    assert mags == sorted(mags, reverse=True)
    assert rails.check(X.head(2), explain=False)[0].explanation is None


def test_fit_rejects_unusable_data(cancer: Any, cancer_forest: Any) -> None:
    with pytest.raises(mlrails.DataError, match="rows"):
        mlrails.fit(cancer_forest, cancer.X_train, cancer.y_train[:10])
    with pytest.raises(mlrails.DataError, match="empty"):
        mlrails.fit(cancer_forest, cancer.X_train.head(0), cancer.y_train[:0])
    with pytest.raises(mlrails.PolicyError):
        mlrails.fit(cancer_forest, cancer.X_train, cancer.y_train, policy={"ood": {"x": 1}})
    with pytest.raises(mlrails.DataError, match="not one of the model's classes"):
        mlrails.fit(
            cancer_forest,
            cancer.X_train,
            cancer.y_train,
            cancer.X_test,
            np.full(len(cancer.X_test), 7),
        )


@pytest.mark.parametrize("detector", ["knn", "mahalanobis", "iforest", "ensemble"])
def test_every_ood_detector_can_be_chosen_by_policy(gaussian: Any, detector: str) -> None:
    X, y, model = gaussian
    rails = mlrails.fit(model, X[:3000], y[:3000], policy={"ood": {"detector": detector}})
    assert rails.ood is not None and rails.ood.name == detector
    assert rails.check(np.full((1, 10), 3.0))[0].status == 422
