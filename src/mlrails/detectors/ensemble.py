"""Ensemble of out-of-distribution detectors with tail-aligned scores.

Each member (by default k-NN distance, Mahalanobis distance and isolation forest) is fitted
on the same encoded matrix (the input is encoded once). A member's raw score is put on a
common scale with statistics of that member's *honest* scores on its own training rows:
``(score - median) / (q99 - median)``, so every member's 99th percentile maps to 1 and, at
the alarm rates a guard runs at (around 1%), every member has the same say. For k-NN the
training scores are leave-one-out (each reference row's own entry is dropped from its
neighbours), so they are not optimistic; the other members' training scores are in-sample.

The normalised member scores are combined by their max (default) or mean. The max flags a
row that any member finds far out on its own scale, so the ensemble catches about what its
best member catches on each kind of shift (Mahalanobis on noise, unit changes and broken
correlations; k-NN on new clusters); the mean dilutes a strong member with the weak ones
(150 training rows of 10 features, 1 sd noise: the mean caught 58%, the max 70%, Mahalanobis
alone 72%, each at its own 1% alarm rate). Aligning the tails (not the interquartile
ranges) keeps a member with a heavy-tailed score from owning the max. The final threshold
is calibrated on the combined score, so either combination keeps the alarm rate.
Per-feature contributions (:meth:`feature_contributions`) are the members' own, with the
same weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from mlrails._state import State
from mlrails.detectors.base import BaseDetector, saved_params, training_rows
from mlrails.detectors.iforest import IsolationForestDetector
from mlrails.detectors.knn import KNNDetector
from mlrails.detectors.mahalanobis import MahalanobisDetector
from mlrails.errors import ArtifactError

#: detectors an ensemble can be made of
MEMBER_DETECTORS: dict[str, type[BaseDetector]] = {
    cls.name: cls for cls in (KNNDetector, MahalanobisDetector, IsolationForestDetector)
}
COMBINES = ("max", "mean")
#: the quantile of a member's honest training scores that the normalisation maps to 1
TAIL_QUANTILE = 0.99


class EnsembleDetector(BaseDetector):
    """Max (or mean) of members' tail-aligned scores; higher = more anomalous.

    Parameters
    ----------
    detectors:
        names of the members (``"knn"``, ``"mahalanobis"``, ``"iforest"``), each at most once;
        by default k-NN and Mahalanobis (an isolation forest spends alarm rate on the shifts
        the other two catch, and rarely catches what they miss).
    combine:
        ``"max"`` (default: the strongest member decides) or ``"mean"`` of the normalised
        member scores.
    random_state:
        passed to the members that take one.
    """

    name: ClassVar[str] = "ensemble"
    family: ClassVar[str] = "ood"
    encoded_input_only: ClassVar[bool] = True

    #: fitted members by name, in the order of ``detectors``
    members_: dict[str, BaseDetector]
    #: per member: median of its training scores (subtracted)
    score_center_: NDArray[np.float64]
    #: per member: 99th percentile less median of its training scores (divided by)
    score_scale_: NDArray[np.float64]

    def __init__(
        self,
        detectors: Sequence[str] = ("knn", "mahalanobis"),
        combine: str = "max",
        random_state: int | None = 0,
    ) -> None:
        self.detectors = detectors
        self.combine = combine
        self.random_state = random_state

    # -- public --------------------------------------------------------------------------
    def member_scores(self, X: Any) -> dict[str, NDArray[np.float64]]:
        """Raw (un-normalised) score of every member for each row of ``X``."""
        self._check_fitted()
        X = self._validate_input(X, reset=False)
        return self._member_scores(self.encoder_.transform(X), X)

    # -- hooks ---------------------------------------------------------------------------
    def _fit_encoded(self, Z: NDArray[np.float64], y: NDArray[Any] | None, X: Any) -> None:
        names = self._check_params()
        members: dict[str, BaseDetector] = {}
        for name in names:
            member = self._new_member(name, {})
            member._fit_encoded(Z, y, X)
            members[name] = member
        self.members_ = members
        rows = training_rows(Z.shape[0])
        in_sample = self._member_scores(Z[rows], None)
        honest = {
            name: m._leave_one_out_scores(Z, rows)
            if isinstance(m, KNNDetector)
            else in_sample[name]
            for name, m in members.items()
        }
        centers, scales = [], []
        for name in names:
            center, scale = tail_center_scale(honest[name])
            centers.append(center)
            scales.append(scale)
        self.score_center_ = np.asarray(centers, dtype=np.float64)
        self.score_scale_ = np.asarray(scales, dtype=np.float64)
        # handed to _training_scores, which fit() calls next with the same rows
        self._fit_cache = (rows, self._combine(in_sample))

    def _score_encoded(self, Z: NDArray[np.float64], X: Any) -> NDArray[np.float64]:
        return self._combine(self._member_scores(Z, X))

    def _contributions_encoded(
        self, Z: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
        """Members' contributions with the ensemble's normalisation weights.

        ``mean``: member ``m`` enters as ``(s_m - center_m) / (M scale_m)``, so its
        contributions are divided by ``M scale_m`` and its centre goes to the offset;
        ``max``: the row's winning member only. A member without a decomposition (the
        isolation forest) goes to the offset whole, and the result is then not ``exact``.
        """
        n, names = len(Z), list(self.members_)
        values = np.zeros((len(names), n, Z.shape[1]))
        offset = np.zeros((len(names), n))
        exact = True
        for m, name in enumerate(names):
            member = self.members_[name]
            try:
                values[m], offset[m], member_exact = member._contributions_encoded(Z)
                exact = exact and member_exact
            except NotImplementedError:
                offset[m] = member._score_encoded(Z, None)
                exact = False
        center = self.score_center_[:, None]
        scale = self.score_scale_[:, None]
        values = values / scale[:, :, None]
        offset = (offset - center) / scale
        if self.combine == "max":
            winner = np.argmax(offset + values.sum(axis=2), axis=0)
            rows = np.arange(n)
            return values[winner, rows], offset[winner, rows], exact
        return values.mean(axis=0), offset.mean(axis=0), exact

    def _training_scores(
        self, Z: NDArray[np.float64], rows: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        cache = self.__dict__.pop("_fit_cache", None)
        if cache is not None and np.array_equal(cache[0], rows):
            return np.asarray(cache[1], dtype=np.float64)
        return self._score_encoded(Z[rows], None)

    def _get_fitted_state(self) -> State:
        meta_members: list[dict[str, Any]] = []
        arrays: dict[str, NDArray[Any]] = {
            "score_center": self.score_center_,
            "score_scale": self.score_scale_,
        }
        for name, member in self.members_.items():
            sub = member._get_fitted_state()
            meta_members.append(
                {
                    "detector": name,
                    "params": saved_params(member.get_params(deep=False)),
                    "fitted": sub.meta,
                }
            )
            arrays.update({f"{name}.{k}": v for k, v in sub.arrays.items()})
        return State(meta={"members": meta_members}, arrays=arrays)

    def _set_fitted_state(self, state: State) -> None:
        members: dict[str, BaseDetector] = {}
        for entry in state.meta["members"]:
            name = str(entry["detector"])
            if name not in MEMBER_DETECTORS:
                raise ArtifactError(f"ensemble state names an unknown member {name!r}")
            member = self._new_member(name, dict(entry["params"]))
            prefix = f"{name}."
            member._set_fitted_state(
                State(
                    meta=dict(entry["fitted"]),
                    arrays={
                        k.removeprefix(prefix): v
                        for k, v in state.arrays.items()
                        if k.startswith(prefix)
                    },
                )
            )
            members[name] = member
        self.members_ = members
        self.score_center_ = np.asarray(state.array("score_center"), dtype=np.float64)
        self.score_scale_ = np.asarray(state.array("score_scale"), dtype=np.float64)
        if self.score_center_.size != len(members) or self.score_scale_.size != len(members):
            raise ArtifactError("ensemble state: normalisation does not match its members")

    # -- helpers -------------------------------------------------------------------------
    def _new_member(self, name: str, params: dict[str, Any]) -> BaseDetector:
        """A member sharing this ensemble's encoder (it only ever sees encoded rows)."""
        cls = MEMBER_DETECTORS[name]
        if not params and "random_state" in cls._get_param_names():
            params = {"random_state": self.random_state}
        member = cls(**params)
        member.encoder_ = self.encoder_
        member.n_features_in_ = self.n_features_in_
        return member

    def _member_scores(self, Z: NDArray[np.float64], X: Any) -> dict[str, NDArray[np.float64]]:
        return {name: m._score_encoded(Z, X) for name, m in self.members_.items()}

    def _combine(self, raw: dict[str, NDArray[np.float64]]) -> NDArray[np.float64]:
        normed = np.column_stack([raw[name] for name in self.members_])
        normed = (normed - self.score_center_) / self.score_scale_
        if self.combine == "max":
            return np.asarray(normed.max(axis=1), dtype=np.float64)
        return np.asarray(normed.mean(axis=1), dtype=np.float64)

    def _check_params(self) -> list[str]:
        if isinstance(self.detectors, str) or not isinstance(self.detectors, Sequence):
            raise ValueError(f"detectors must be a sequence of names, got {self.detectors!r}")
        names = [str(n) for n in self.detectors]
        if not names:
            raise ValueError("detectors must name at least one member")
        unknown = [n for n in names if n not in MEMBER_DETECTORS]
        if unknown:
            raise ValueError(
                f"unknown ensemble member(s) {unknown}; choose from {sorted(MEMBER_DETECTORS)}"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"ensemble members must be distinct, got {names}")
        if self.combine not in COMBINES:
            raise ValueError(f"combine must be one of {COMBINES}, got {self.combine!r}")
        return names


def tail_center_scale(scores: NDArray[np.float64], q: float = TAIL_QUANTILE) -> tuple[float, float]:
    """Median and (``q``-quantile - median) of ``scores``: the member's tail maps to 1.

    Falls back to the interquartile range, then the standard deviation, then 1, when the
    tail is flat (many tied scores)."""
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size == 0:
        return 0.0, 1.0
    q25, median, q75, tail = np.percentile(s, [25.0, 50.0, 75.0, 100.0 * q])
    tiny = 1e-12 * max(1.0, abs(float(median)))
    for scale in (float(tail - median), float(q75 - q25), float(np.std(s))):
        if scale > tiny:
            return float(median), scale
    return float(median), 1.0
