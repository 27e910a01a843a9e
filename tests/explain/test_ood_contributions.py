"""Which features made a row out of distribution: per-feature parts of the OOD score."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import mahalanobis

import mlrails
from mlrails.detectors import make_seeded_detector

COLUMNS = ["zone", "age", "tier", "income", "score", "visits"]
NUMERIC = ["age", "income", "score", "visits"]


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "zone": rng.choice(["n", "s", "e", "w"], n),
            "age": rng.normal(40, 10, n),
            "tier": rng.choice(["gold", "silver", "bronze"], n),
            "income": rng.normal(50, 15, n),
            "score": rng.normal(0, 1, n),
            "visits": rng.poisson(5, n).astype(float),
        }
    )


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return _frame(500, 0)


@pytest.fixture(scope="module")
def detectors(train: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("mahalanobis", "knn", "ensemble"):
        out[name] = make_seeded_detector(name, 0).fit(train).calibrate(_frame(200, 1), 0.05)
    out["knn_kth"] = make_seeded_detector("knn", 0, aggregate="kth").fit(train)
    out["ensemble_mean"] = make_seeded_detector("ensemble", 0, combine="mean").fit(train)
    out["ensemble_iforest"] = make_seeded_detector(
        "ensemble", 0, detectors=("knn", "mahalanobis", "iforest")
    ).fit(train)
    return out


@pytest.mark.parametrize(
    "name", ["mahalanobis", "knn", "knn_kth", "ensemble", "ensemble_mean", "ensemble_iforest"]
)
def test_contributions_add_up_to_the_score(name: str, detectors: dict[str, Any]) -> None:
    det = detectors[name]
    rows = _frame(30, 2)
    parts = det.feature_contributions(rows)
    assert parts.features == COLUMNS  # one-hot columns summed back onto zone / tier
    assert parts.values.shape == (30, len(COLUMNS))
    np.testing.assert_allclose(parts.total, det.score_samples(rows), rtol=1e-9, atol=1e-9)
    # mahalanobis and knn split the whole score (and so does an ensemble of them, with its
    # centring in the offset); an isolation forest member does not
    assert parts.exact == (name != "ensemble_iforest")
    if parts.exact and not name.startswith("ensemble"):
        np.testing.assert_allclose(parts.offset, 0.0)


def test_mahalanobis_reference(detectors: dict[str, Any]) -> None:
    """The score is SciPy's squared Mahalanobis distance; its terms are z_j (P z)_j."""
    det = detectors["mahalanobis"]
    rows = _frame(5, 3)
    Z = det.encoder_.transform(rows)
    parts = det.feature_contributions(rows)
    for r in range(len(rows)):
        d2 = mahalanobis(Z[r], det.location_, det.precision_) ** 2
        assert parts.total[r] == pytest.approx(d2, rel=1e-9)
        z = Z[r] - det.location_
        age = det.encoder_.encoded_features().index("age")
        assert parts.values[r, COLUMNS.index("age")] == pytest.approx(
            z[age] * (det.precision_ @ z)[age], rel=1e-9
        )


@settings(max_examples=30, deadline=None)
@given(
    feature=st.sampled_from(NUMERIC),
    sign=st.sampled_from([-1.0, 1.0]),
    row=st.integers(0, 49),
    name=st.sampled_from(["mahalanobis", "knn", "ensemble"]),
)
def test_a_feature_shifted_far_is_ranked_first(
    feature: str, sign: float, row: int, name: str, detectors: dict[str, Any], train: pd.DataFrame
) -> None:
    rows = _frame(50, 4).iloc[[row]].reset_index(drop=True)
    rows[feature] = rows[feature] + sign * 25.0 * train[feature].std()
    parts = detectors[name].feature_contributions(rows)
    assert parts.features[int(np.argmax(parts.values[0]))] == feature


def test_unseen_category_is_blamed_on_its_column(detectors: dict[str, Any]) -> None:
    rows = _frame(1, 5)
    rows["tier"] = "platinum"  # never seen: encodes as all zeros, far from every one-hot row
    rows[NUMERIC] = _frame(500, 0)[NUMERIC].median().to_numpy()
    parts = detectors["knn"].feature_contributions(rows)
    assert parts.features[int(np.argmax(parts.values[0]))] == "tier"


def test_isolation_forest_alone_has_no_decomposition(train: pd.DataFrame) -> None:
    det = make_seeded_detector("iforest", 0).fit(train)
    with pytest.raises(NotImplementedError):
        det.feature_contributions(train.head(2))


# -- the 422 verdict and its problem document ------------------------------------------------
def test_422_says_which_feature_made_the_row_unusual(train: pd.DataFrame) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    y = (train["age"] + 5 * (train["zone"] == "n") > 42).astype(int).to_numpy()
    model = Pipeline(
        [
            (
                "pre",
                ColumnTransformer(
                    [
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["zone", "tier"]),
                        ("num", StandardScaler(), NUMERIC),
                    ]
                ),
            ),
            ("model", HistGradientBoostingClassifier(max_iter=20)),
        ]
    ).fit(train, y)
    rails = mlrails.fit(
        model,
        train,
        y,
        policy={
            "ood": {"detector": "mahalanobis"},
            "adversarial": {"mode": "off"},
            "drift": {"reference": False},
            "validation": {"tolerance": 100.0},
        },
    )
    rows = _frame(3, 6)
    rows.loc[1, "income"] = 50 + 12 * 15.0  # 12 sd out, inside the widened contract
    verdicts = rails.check(rows, explain=False)
    assert verdicts[1].status == 422, verdicts[1].detail
    attribution = verdicts[1].ood_contributions
    assert attribution is not None and attribution.detector == "mahalanobis"
    assert attribution.contributions[0].feature == "income"
    assert attribution.contributions[0].value == pytest.approx(rows.loc[1, "income"])
    total = attribution.offset + sum(c.contribution for c in attribution.contributions)
    assert total + attribution.remainder == pytest.approx(attribution.score, rel=1e-9)
    assert attribution.score == pytest.approx(verdicts[1].safeguard("ood").score, rel=1e-9)
    problem = verdicts[1].to_problem()
    assert problem is not None
    evidence = problem.extensions["ood_contributions"]
    assert evidence["contributions"][0]["feature"] == "income"
    assert verdicts[1].to_dict()["ood_contributions"] == evidence
    # rows the detector did not flag carry no attribution
    assert all(v.ood_contributions is None for v in verdicts if v.status == 200)
