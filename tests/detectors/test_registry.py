"""Detectors by name: make, register, and rebuild from a saved state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import pytest
from numpy.typing import NDArray

from mlrails._state import State
from mlrails.detectors import (
    DETECTORS,
    OOD_DETECTORS,
    BaseDetector,
    EnsembleDetector,
    KNNDetector,
    detector_from_state,
    make_detector,
    register_detector,
    registry,
)
from mlrails.errors import ArtifactError


def test_ood_detectors_are_registered() -> None:
    assert set(OOD_DETECTORS) == {"ensemble", "knn", "mahalanobis", "iforest"}
    for name, cls in OOD_DETECTORS.items():
        assert DETECTORS[name] is cls
        assert cls.name == name and cls.family == "ood" and not cls.needs_model


def test_make_detector_passes_parameters() -> None:
    det = make_detector("knn", n_neighbors=3, aggregate="kth")
    assert isinstance(det, KNNDetector)
    assert det.get_params() == {
        "n_neighbors": 3,
        "max_reference": 5000,
        "aggregate": "kth",
        "random_state": 0,
    }
    assert isinstance(make_detector("ensemble", random_state=4), EnsembleDetector)


def test_unknown_name_lists_the_options() -> None:
    with pytest.raises(ValueError, match="unknown detector 'lof'") as info:
        make_detector("lof")
    for name in ("ensemble", "iforest", "knn", "mahalanobis"):
        assert name in str(info.value)


class _Echo(BaseDetector):
    """A toy adversarial detector that needs a model supplied at load time."""

    name: ClassVar[str] = "echo_test"
    family: ClassVar[str] = "adversarial"
    needs_model: ClassVar[bool] = True

    def __init__(self, model: Any = None, scale: float = 1.0) -> None:
        self.model = model
        self.scale = scale

    def _fit_encoded(self, Z: NDArray[np.float64], y: Any, X: Any) -> None:
        self.mean_ = Z.mean(axis=0)

    def _score_encoded(self, Z: NDArray[np.float64], X: Any) -> NDArray[np.float64]:
        return np.asarray(self.scale * np.abs(Z - self.mean_).sum(axis=1))

    def _get_fitted_state(self) -> State:
        return State(meta={}, arrays={"mean": self.mean_})

    def _set_fitted_state(self, state: State) -> None:
        self.mean_ = state.array("mean")


def test_register_and_restore_a_detector_with_runtime_objects(
    monkeypatch: pytest.MonkeyPatch, roundtrip: Callable[[State], State]
) -> None:
    monkeypatch.setattr(registry, "DETECTORS", DETECTORS.copy())
    assert register_detector(_Echo) is _Echo
    assert register_detector(_Echo) is _Echo  # idempotent
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    model = object()
    det = make_detector("echo_test", model=model, scale=2.0).fit(X).calibrate(X[:20], 0.1)
    state = roundtrip(det.get_state())
    assert "model" not in state.meta["params"]
    back = detector_from_state(state, model=model)
    assert isinstance(back, _Echo) and back.model is model and back.scale == 2.0
    np.testing.assert_array_equal(back.score_samples(X), det.score_samples(X))
    assert "echo_test" not in OOD_DETECTORS


def test_register_rejects_clashes_and_non_detectors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "DETECTORS", DETECTORS.copy())

    class OtherKNN(KNNDetector):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register_detector(OtherKNN)
    with pytest.raises(TypeError):
        register_detector(dict)  # type: ignore[arg-type]


def test_detector_from_state_errors() -> None:
    det = KNNDetector().fit(np.random.default_rng(0).normal(size=(30, 2)))
    state = det.get_state()
    bad = State(meta={**state.meta, "detector": "nope"}, arrays=state.arrays)
    with pytest.raises(ArtifactError, match="unknown detector 'nope'"):
        detector_from_state(bad)
    with pytest.raises(ArtifactError, match="cannot load as 'ensemble'"):
        EnsembleDetector.from_state(state)
    missing = State(meta=state.meta, arrays={})
    with pytest.raises(ArtifactError, match="lacks the array"):
        detector_from_state(missing)
