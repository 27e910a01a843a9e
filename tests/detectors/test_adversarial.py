from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from mlrails._state import State
from mlrails.detectors.adversarial import (
    TIE_BREAK,
    FeatureSqueezingDetector,
    LabelInstabilityDetector,
    NeighbourDisagreementDetector,
)
from mlrails.detectors.base import BaseDetector
from mlrails.detectors.registry import detector_from_state, make_detector
from mlrails.errors import DataError, NotFittedError
from mlrails.models import ModelAdapter, ModelInfo, SklearnAdapter

# -- helpers ----------------------------------------------------------------------------------


def auroc(clean: np.ndarray, attacked: np.ndarray) -> float:
    labels = np.r_[np.zeros(len(clean)), np.ones(len(attacked))]
    return float(roc_auc_score(labels, np.r_[clean, attacked]))


def saved_and_loaded(det: BaseDetector, **runtime: Any) -> BaseDetector:
    """Round trip through JSON metadata and a pickle-free ``.npz``, as an artifact does."""
    state = det.get_state()
    meta = json.loads(json.dumps(state.meta))
    buf = io.BytesIO()
    np.savez(buf, **state.arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return detector_from_state(State(meta=meta, arrays=arrays), **runtime)


def boundary_attack(model: Any, X: np.ndarray, X_ref: np.ndarray, overshoot: float = 0.02):
    """Model-agnostic boundary crossing: walk each row toward its nearest training row the
    model labels differently, bisect for a point where the label flips, and step a little past
    it (vectorised over rows, one model call per bisection step)."""
    pred = model.predict(X)
    ref_pred = model.predict(X_ref)
    d2 = ((X[:, None, :] - X_ref[None, :, :]) ** 2).sum(axis=2)
    d2[ref_pred[None, :] == pred[:, None]] = np.inf
    target = X_ref[d2.argmin(axis=1)]
    lo, hi = np.zeros(len(X)), np.ones(len(X))
    for _ in range(25):
        mid = (lo + hi) / 2
        same = model.predict(X + mid[:, None] * (target - X)) == pred
        lo, hi = np.where(same, mid, lo), np.where(same, hi, mid)
    out = X + np.minimum(hi + overshoot, 1.0)[:, None] * (target - X)
    back = model.predict(out) == pred  # a tree ensemble may flip back: stay at the boundary
    out[back] = (X + hi[:, None] * (target - X))[back]
    assert np.all(model.predict(out) != pred)
    return out


class RecordingAdapter(ModelAdapter):
    """Delegates to an sklearn adapter and records every batch the model is called on."""

    def __init__(self, inner: SklearnAdapter) -> None:
        self.inner = inner
        self.task = inner.task
        self.classes_ = inner.classes_
        self.calls: list[Any] = []

    def predict_proba(self, X: Any) -> np.ndarray:
        self.calls.append(X)
        return self.inner.predict_proba(X)

    def predict_values(self, X: Any) -> np.ndarray:
        self.calls.append(X)
        return self.inner.predict_values(X)

    def info(self) -> ModelInfo:
        return self.inner.info()


class ThresholdModel(ModelAdapter):
    """A hand-made 1-D classifier: label 'b' when x > cut, else 'a'."""

    task = "classification"

    def __init__(self, cut: float) -> None:
        self.cut = cut
        self.classes_ = np.array(["a", "b"])

    def predict_proba(self, X: Any) -> np.ndarray:
        x = np.asarray(X, dtype=float)[:, 0]
        pb = 1 / (1 + np.exp(-(x - self.cut) * 4))
        return np.column_stack([1 - pb, pb])

    def predict_values(self, X: Any) -> np.ndarray:
        raise NotImplementedError

    def info(self) -> ModelInfo:
        return ModelInfo("test", "0", "ThresholdModel", "classification", 2)


def flatten_images(X: Any) -> np.ndarray:
    return np.asarray(X, dtype=np.float64).reshape(len(X), -1)


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cancer() -> dict[str, Any]:
    X, y = load_breast_cancer(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.4, random_state=0, stratify=y)
    logreg = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(Xtr, ytr)
    forest = RandomForestClassifier(n_estimators=60, random_state=0).fit(Xtr, ytr)
    return {
        "Xtr": Xtr,
        "ytr": ytr,
        "Xte": Xte,
        "logreg": logreg,
        "forest": forest,
        "logreg_adv": boundary_attack(logreg, Xte, Xtr),
        "forest_adv": boundary_attack(forest, Xte, Xtr),
    }


@pytest.fixture(scope="module")
def synthetic() -> dict[str, Any]:
    X, y = make_classification(n_samples=8000, n_features=10, n_informative=6, random_state=0)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[:3000], y[:3000])
    return {
        "Xtr": X[:3000],
        "ytr": y[:3000],
        "Xcal": X[3000:5500],
        "Xnew": X[5500:],
        "adapter": SklearnAdapter(model),
    }


@pytest.fixture(scope="module")
def digits() -> dict[str, Any]:
    d = load_digits()
    Xtr, Xte, ytr, yte = train_test_split(
        d.images, d.target, test_size=0.4, random_state=0, stratify=d.target
    )
    pipe = Pipeline(
        [
            ("flatten", FunctionTransformer(flatten_images)),
            ("lr", LogisticRegression(C=0.1, max_iter=5000)),
        ]
    ).fit(Xtr, ytr)
    # FGSM (Goodfellow et al. 2015) computed analytically: for multinomial logistic
    # regression the gradient of the cross-entropy w.r.t. the input is W^T (p - onehot(y)).
    P = pipe.predict_proba(Xte)
    grad = (P - np.eye(10)[yte]) @ pipe["lr"].coef_
    X_adv = np.clip(Xte + 2.0 * np.sign(grad).reshape(Xte.shape), 0.0, 16.0)
    assert pipe.score(X_adv, yte) < 0.5 < pipe.score(Xte, yte)
    return {"Xtr": Xtr, "ytr": ytr, "Xte": Xte, "Xadv": X_adv, "adapter": SklearnAdapter(pipe)}


# -- detection quality ------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [LabelInstabilityDetector, NeighbourDisagreementDetector])
@pytest.mark.parametrize("which", ["logreg", "forest"])
def test_boundary_crossing_inputs_score_higher(cancer: dict[str, Any], cls: type, which: str):
    adapter = SklearnAdapter(cancer[which])
    det = cls(model=adapter).fit(cancer["Xtr"], cancer["ytr"])
    clean = det.score_samples(cancer["Xte"])
    attacked = det.score_samples(cancer[f"{which}_adv"])
    assert auroc(clean, attacked) > 0.8


def test_feature_squeezing_detects_fgsm_on_digits(digits: dict[str, Any]) -> None:
    adapter = digits["adapter"]
    det = FeatureSqueezingDetector(model=adapter).fit(digits["Xtr"])
    clean, attacked = det.score_samples(digits["Xte"]), det.score_samples(digits["Xadv"])
    assert attacked.mean() > clean.mean()
    assert auroc(clean, attacked) > 0.6
    # on 8x8 images the 2x2 median filter alone moves clean predictions a lot; the
    # bit-depth squeezer alone (median_size=1 is the identity) separates much better
    bits_only = FeatureSqueezingDetector(model=adapter, median_size=1).fit(digits["Xtr"])
    bits_clean = bits_only.score_samples(digits["Xte"])
    assert auroc(bits_clean, bits_only.score_samples(digits["Xadv"])) > 0.8


def test_feature_squeezing_squeezers(digits: dict[str, Any]) -> None:
    det = FeatureSqueezingDetector(model=digits["adapter"], bit_depth=1).fit(digits["Xtr"])
    assert (det.min_, det.max_) == (0.0, 16.0)
    bits, median = det.squeeze(digits["Xte"][:5])
    assert set(np.unique(bits)) <= {0.0, 16.0}
    assert median.shape == (5, 8, 8)
    # scores with precomputed probabilities equal scores without
    X = digits["Xte"][:20]
    np.testing.assert_allclose(
        det.score_samples(X, proba=digits["adapter"].predict_proba(X)), det.score_samples(X)
    )
    # colour images (n, h, w, c) work too
    rgb = np.repeat(digits["Xtr"][:50, :, :, None], 3, axis=3)
    _, med_rgb = FeatureSqueezingDetector(median_size=2).fit(rgb).squeeze(rgb[:2])
    np.testing.assert_allclose(med_rgb[..., 0], med_rgb[..., 2])


# -- calibrated false alarms ------------------------------------------------------------------


@pytest.mark.parametrize("cls", [LabelInstabilityDetector, NeighbourDisagreementDetector])
def test_calibrated_false_alarm_rate_on_fresh_data(synthetic: dict[str, Any], cls: type):
    target = 0.1
    det = cls(model=synthetic["adapter"]).fit(synthetic["Xtr"], synthetic["ytr"])
    det.calibrate(synthetic["Xcal"], target)
    assert det.threshold_.realised_fpr <= target
    rate = float(np.mean(det.predict(synthetic["Xnew"]) == -1))
    n_cal, n_new = len(synthetic["Xcal"]), len(synthetic["Xnew"])
    tol = 3 * np.sqrt(target * (1 - target) * (1 / n_cal + 1 / n_new))
    assert abs(rate - target) <= tol


# -- determinism and persistence --------------------------------------------------------------


@pytest.mark.parametrize("cls", [LabelInstabilityDetector, NeighbourDisagreementDetector])
def test_scores_do_not_depend_on_batch_composition(cancer: dict[str, Any], cls: type):
    det = cls(model=SklearnAdapter(cancer["forest"])).fit(cancer["Xtr"], cancer["ytr"])
    X = np.vstack([cancer["Xte"], cancer["forest_adv"]])
    alone = det.score_samples(X[:15])
    perm = np.random.default_rng(0).permutation(len(X))
    mixed = det.score_samples(X[perm])
    np.testing.assert_allclose(mixed[np.argsort(perm)][:15], alone, rtol=0, atol=1e-12)
    singles = np.array([det.score_samples(X[i : i + 1])[0] for i in range(5)])
    np.testing.assert_allclose(singles, alone[:5], rtol=0, atol=1e-12)
    # and refitting with the same seed gives the same detector
    again = cls(model=SklearnAdapter(cancer["forest"])).fit(cancer["Xtr"], cancer["ytr"])
    np.testing.assert_array_equal(again.score_samples(X[:15]), alone)


def test_save_load_round_trip_is_identical(cancer: dict[str, Any], digits: dict[str, Any]):
    adapter = SklearnAdapter(cancer["forest"])
    X = np.vstack([cancer["Xte"][:40], cancer["forest_adv"][:40]])
    for det in [
        LabelInstabilityDetector(model=adapter, n_copies=5, noise_scale=0.1, random_state=3),
        NeighbourDisagreementDetector(model=adapter, n_neighbors=7, max_reference=100),
    ]:
        det.fit(cancer["Xtr"], cancer["ytr"]).calibrate(cancer["Xte"], 0.1)
        loaded = saved_and_loaded(det, model=adapter)
        assert type(loaded) is type(det)
        assert loaded.get_params(deep=False) == det.get_params(deep=False)
        assert loaded.threshold_ == det.threshold_
        np.testing.assert_array_equal(loaded.score_samples(X), det.score_samples(X))
        np.testing.assert_array_equal(loaded.predict(X), det.predict(X))
    fs = FeatureSqueezingDetector(model=digits["adapter"], bit_depth=3)
    fs.fit(digits["Xtr"]).calibrate(digits["Xte"][:300], 0.1)
    fs_loaded = saved_and_loaded(fs, model=digits["adapter"])
    X_img = np.concatenate([digits["Xte"][300:340], digits["Xadv"][:40]])
    np.testing.assert_array_equal(fs_loaded.score_samples(X_img), fs.score_samples(X_img))


def test_registry_and_model_requirements(cancer: dict[str, Any]) -> None:
    adapter = SklearnAdapter(cancer["logreg"])
    for name, cls in [
        ("label_instability", LabelInstabilityDetector),
        ("neighbour_disagreement", NeighbourDisagreementDetector),
        ("feature_squeezing", FeatureSqueezingDetector),
    ]:
        det = make_detector(name, model=adapter)
        assert isinstance(det, cls)
        assert det.family == "adversarial" and det.needs_model
        assert det.model is adapter
    det = LabelInstabilityDetector(model=adapter).fit(cancer["Xtr"])
    assert "model" not in det.get_state().meta["params"]
    unloaded = LabelInstabilityDetector.from_state(det.get_state())
    with pytest.raises(NotFittedError, match="needs the model"):
        unloaded.score_samples(cancer["Xte"][:3])
    with pytest.raises(NotFittedError):
        LabelInstabilityDetector(model=adapter).score_samples(cancer["Xte"][:3])
    with pytest.raises(TypeError, match="ModelAdapter"):
        LabelInstabilityDetector(model=cancer["logreg"]).fit(cancer["Xtr"])


# -- label instability details ----------------------------------------------------------------


def test_label_instability_frame_perturbs_only_numeric_columns() -> None:
    rng = np.random.default_rng(0)
    n = 300
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "income": rng.normal(50.0, 10.0, n),
            "member": rng.random(n) < 0.5,
        }
    )
    y = (frame["income"] + 5 * (frame["colour"] == "red") > 52).astype(int)
    pipe = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["colour"]), remainder="passthrough"
        ),
        LogisticRegression(max_iter=1000),
    ).fit(frame, y)
    rec = RecordingAdapter(SklearnAdapter(pipe))
    det = LabelInstabilityDetector(model=rec, n_copies=4, noise_scale=0.1).fit(frame, y)
    assert det.columns_ == ["age", "income"]
    np.testing.assert_allclose(det.scale_, [frame["age"].std(ddof=0), frame["income"].std(ddof=0)])
    rec.calls.clear()
    X = frame.iloc[:3]
    scores = det.score_samples(X, proba=rec.inner.predict_proba(X))
    assert len(rec.calls) == 1  # one vectorised model call for all copies
    noisy = rec.calls[0]
    assert isinstance(noisy, pd.DataFrame) and list(noisy.columns) == list(frame.columns)
    assert len(noisy) == 3 * 4
    rows = np.repeat(np.arange(3), 4)
    np.testing.assert_array_equal(noisy["colour"], X["colour"].to_numpy()[rows])
    np.testing.assert_array_equal(noisy["member"], X["member"].to_numpy()[rows])
    expected_income = X["income"].to_numpy()[rows] + np.tile(
        det.noise_bank_[:, 1] * 0.1 * det.scale_[1], 3
    )
    np.testing.assert_allclose(noisy["income"], expected_income)
    assert np.all((scores >= 0) & (scores <= 1 + TIE_BREAK))
    # same answer when the model computes the probabilities itself
    np.testing.assert_array_equal(det.score_samples(X), scores)


def test_label_instability_images_use_one_global_scale(digits: dict[str, Any]) -> None:
    det = LabelInstabilityDetector(model=digits["adapter"], n_copies=6).fit(digits["Xtr"])
    assert det.noise_bank_.shape == (6, 64)
    np.testing.assert_allclose(det.scale_, np.full(64, np.std(digits["Xtr"])))
    copies = det.perturbed_copies(digits["Xte"][:2])
    assert copies.shape == (12, 8, 8)
    scores = det.score_samples(digits["Xte"][:50])
    assert scores.shape == (50,) and np.all(scores >= 0)


def test_label_instability_classification_score_by_hand() -> None:
    X_train = np.linspace(-2, 2, 41)[:, None]
    model = ThresholdModel(cut=0.0)
    det = LabelInstabilityDetector(model=model, n_copies=8, noise_scale=0.5).fit(X_train)
    x = np.array([[0.05]])
    noisy = x[0, 0] + det.noise_bank_[:, 0] * 0.5 * det.scale_[0]
    flips = np.mean((noisy > 0) != (x[0, 0] > 0))
    P0, Pn = model.predict_proba(x), model.predict_proba(noisy[:, None])
    tv = 0.5 * np.abs(Pn - P0).sum(axis=1).mean()
    assert det.score_samples(x)[0] == pytest.approx(flips + TIE_BREAK * tv)


def test_label_instability_regression_score_by_hand() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3)) * [1.0, 5.0, 0.1]
    y = X @ [2.0, -1.0, 10.0] + rng.normal(size=200)
    reg = LinearRegression().fit(X, y)
    det = LabelInstabilityDetector(model=SklearnAdapter(reg), n_copies=16).fit(X, y)
    # for a linear model every row's copies move by bank @ (coef * noise_scale * std)
    moves = det.noise_bank_ @ (reg.coef_ * 0.05 * X.std(axis=0))
    expected = moves.std() / y.std()
    np.testing.assert_allclose(det.score_samples(X[:10]), expected, rtol=1e-9)
    # without y the target scale comes from the model's own predictions
    det2 = LabelInstabilityDetector(model=SklearnAdapter(reg), n_copies=16).fit(X)
    assert det2.target_scale_ == pytest.approx(reg.predict(X).std())


# -- neighbour disagreement details -----------------------------------------------------------


def test_neighbour_disagreement_hand_computed() -> None:
    X_train = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    y_train = np.array(["a", "a", "b", "b", "b"])
    det = NeighbourDisagreementDetector(model=ThresholdModel(cut=0.2), n_neighbors=3)
    det.fit(X_train, y_train)
    scale = X_train[:, 0].std()  # the encoder standardises by the training std
    # x = 0.4: neighbours 0 ('a', 0.4), 1 ('a', 0.6), 2 ('b', 1.6); the model says 'b'
    d = np.array([0.4, 0.6, 1.6]) / scale
    w = 1 / (d + 1e-8)
    expected = 2 / 3 + TIE_BREAK * (w[0] + w[1]) / w.sum()
    assert det.score_samples(np.array([[0.4]]))[0] == pytest.approx(expected)
    # the same with the prediction supplied, and for a prediction of 'a' (1 of 3 differs)
    assert det.score_samples(np.array([[0.4]]), predicted=["b"])[0] == pytest.approx(expected)
    expected_a = 1 / 3 + TIE_BREAK * w[2] / w.sum()
    assert det.score_samples(np.array([[0.4]]), predicted=["a"])[0] == pytest.approx(expected_a)
    # a label never seen in training disagrees with every neighbour
    assert det.score_samples(np.array([[0.4]]), predicted=["z"])[0] == pytest.approx(1 + TIE_BREAK)
    # far on the 'b' side, everything agrees
    assert det.score_samples(np.array([[10.5]]))[0] == 0.0


def test_neighbour_disagreement_needs_labels_and_a_classifier(cancer: dict[str, Any]) -> None:
    adapter = SklearnAdapter(cancer["logreg"])
    with pytest.raises(ValueError, match="needs the training labels"):
        NeighbourDisagreementDetector(model=adapter).fit(cancer["Xtr"])
    reg = SklearnAdapter(LinearRegression().fit(cancer["Xtr"], cancer["ytr"]))
    with pytest.raises(ValueError, match="classifiers only"):
        NeighbourDisagreementDetector(model=reg).fit(cancer["Xtr"], cancer["ytr"])


def test_neighbour_disagreement_subsamples_reference(cancer: dict[str, Any]) -> None:
    adapter = SklearnAdapter(cancer["logreg"])
    det = NeighbourDisagreementDetector(model=adapter, max_reference=50).fit(
        cancer["Xtr"], cancer["ytr"]
    )
    assert det.reference_.shape == (50, cancer["Xtr"].shape[1])
    assert det.reference_labels_.shape == (50,)


# -- feature squeezing errors ------------------------------------------------------------------


def test_feature_squeezing_rejects_non_images(cancer: dict[str, Any], digits: dict[str, Any]):
    adapter = SklearnAdapter(cancer["logreg"])
    with pytest.raises(DataError, match="image-like"):
        FeatureSqueezingDetector(model=adapter).fit(cancer["Xtr"])
    with pytest.raises(DataError, match="image-like"):
        FeatureSqueezingDetector(model=adapter).fit(pd.DataFrame(cancer["Xtr"]))
    det = FeatureSqueezingDetector(model=digits["adapter"]).fit(digits["Xtr"])
    with pytest.raises(DataError, match="image-like"):
        det.score_samples(flatten_images(digits["Xte"]))
    reg = SklearnAdapter(LinearRegression().fit(flatten_images(digits["Xtr"]), digits["ytr"]))
    with pytest.raises(ValueError, match="classifiers only"):
        FeatureSqueezingDetector(model=reg).fit(digits["Xtr"])
