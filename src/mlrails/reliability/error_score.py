"""TEMPORARY stand-in (replaced by the helper's module at merge)."""

from __future__ import annotations
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self
import numpy as np
from numpy.typing import ArrayLike, NDArray
from mlrails._state import State


@dataclass(frozen=True)
class ErrorFeatures:
    proba: NDArray[np.float64] | None = None
    prediction: NDArray[np.float64] | None = None
    difficulty: NDArray[np.float64] | None = None
    distribution: NDArray[np.float64] | None = None
    encoded: NDArray[np.float64] | None = None


class ErrorScorer:
    def __init__(
        self, candidates: Sequence[str] | None = None, cv: int = 3, random_state: int = 0
    ) -> None:
        self.candidates = candidates
        self.cv = cv
        self.random_state = random_state

    def fit(self, features: ErrorFeatures, wrong: ArrayLike) -> Self:
        self.baseline_ = "max_probability" if features.proba is not None else "difficulty"
        self.chosen_ = self.baseline_
        self.auroc_: dict[str, float] = {}
        return self

    def score(self, features: ErrorFeatures) -> NDArray[np.float64]:
        if features.proba is not None:
            return np.asarray(1.0 - features.proba.max(axis=1), dtype=np.float64)
        assert features.difficulty is not None
        return np.asarray(features.difficulty, dtype=np.float64)

    def get_state(self) -> State:
        return State(meta={"chosen": self.chosen_, "baseline": self.baseline_}, arrays={})

    @classmethod
    def from_state(cls, state: State) -> ErrorScorer:
        s = cls()
        s.chosen_ = state.meta["chosen"]
        s.baseline_ = state.meta["baseline"]
        s.auroc_ = {}
        return s
