"""k-nearest-neighbour distance detector.

The score of a row is its Euclidean distance, in the encoded space, to its ``k`` nearest
training rows (their mean, or the ``k``-th one): rows far from everything seen in training
score high. The reference set is a seeded subsample of at most ``max_reference`` training
rows; it is saved as an array and the neighbour index is rebuilt when the detector loads.
The score splits exactly into per-column terms (:meth:`feature_contributions`): a distance
``r`` to a neighbour is the sum over columns of the squared difference divided by ``r``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from mlrails._state import State
from mlrails.detectors.base import BaseDetector
from mlrails.detectors.neighbours import BruteNeighbours

AGGREGATES = ("mean", "kth")


class KNNDetector(BaseDetector):
    """Distance to the ``n_neighbors`` nearest training rows; higher = more anomalous.

    Parameters
    ----------
    n_neighbors:
        ``k``; clipped to the number of reference rows.
    max_reference:
        at most this many training rows (a seeded subsample) are kept as the reference.
    aggregate:
        ``"mean"`` of the ``k`` distances or the ``"kth"`` (largest) one.
    random_state:
        seed of the reference subsample.
    """

    name: ClassVar[str] = "knn"
    family: ClassVar[str] = "ood"
    encoded_input_only: ClassVar[bool] = True

    reference_: NDArray[np.float64]
    n_neighbors_: int
    index_: BruteNeighbours

    def __init__(
        self,
        n_neighbors: int = 5,
        max_reference: int = 5000,
        aggregate: str = "mean",
        random_state: int | None = 0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.max_reference = max_reference
        self.aggregate = aggregate
        self.random_state = random_state

    # -- hooks ---------------------------------------------------------------------------
    def _fit_encoded(self, Z: NDArray[np.float64], y: NDArray[Any] | None, X: Any) -> None:
        self._check_params()
        n = Z.shape[0]
        if n > self.max_reference:
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(n, size=int(self.max_reference), replace=False))
        else:
            rows = np.arange(n)
        self._reference_rows = rows.astype(np.intp)  # only used by _training_scores
        self._set_reference(np.ascontiguousarray(Z[rows], dtype=np.float64))

    def _score_encoded(self, Z: NDArray[np.float64], X: Any) -> NDArray[np.float64]:
        dist, _ = self.index_.kneighbors(Z, self.n_neighbors_)
        return self._aggregate(np.asarray(dist, dtype=np.float64))

    def _contributions_encoded(
        self, Z: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
        """Exact: a distance ``r = sqrt(sum_j s_j)`` to a neighbour, with ``s_j`` the squared
        difference in column ``j``, is ``sum_j s_j / r``; the score averages that over the
        ``k`` neighbours (or takes the ``k``-th). A neighbour at distance 0 adds nothing."""
        _, ind = self.index_.kneighbors(Z, self.n_neighbors_)
        if self.aggregate == "kth":
            ind = ind[:, -1:]
        sq = (Z[:, None, :] - self.reference_[ind]) ** 2  # (n, k, d)
        r = np.sqrt(sq.sum(axis=2, keepdims=True))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(r > 0.0, sq / r, 0.0)
        return np.asarray(share.mean(axis=1), dtype=np.float64), np.zeros(len(Z)), True

    def _training_scores(
        self, Z: NDArray[np.float64], rows: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        return self._score_encoded(Z[rows], None)

    def _leave_one_out_scores(
        self, Z: NDArray[np.float64], rows: NDArray[np.intp]
    ) -> NDArray[np.float64]:
        """Leave-one-out scores of the training rows ``Z[rows]``, just after ``_fit_encoded``.

        ``Z`` is the encoded matrix the detector was fitted on (``rows`` index it).

        A row that is in the reference would otherwise find itself at distance 0; its own
        reference entry is dropped from its neighbours (``k + 1`` are queried), so training
        scores are not optimistic. Rows outside the reference keep their ``k`` nearest.
        """
        n_ref = self.reference_.shape[0]
        k = self.n_neighbors_
        if n_ref < 2:  # nothing to leave one out against
            return self._score_encoded(Z[rows], None)
        position = np.full(Z.shape[0], -1, dtype=np.intp)
        ref_rows = getattr(self, "_reference_rows", None)
        if ref_rows is not None and ref_rows.size == n_ref:
            position[ref_rows] = np.arange(n_ref)
        q = min(k + 1, n_ref)
        dist, ind = self.index_.kneighbors(Z[rows], q)
        drop = ind == position[rows][:, None]
        drop[~drop.any(axis=1), -1] = True  # no self-match: drop the farthest instead
        kept = np.asarray(dist, dtype=np.float64)[~drop].reshape(len(rows), q - 1)
        return self._aggregate(kept[:, : min(k, q - 1)])

    def _get_fitted_state(self) -> State:
        return State(
            meta={"n_neighbors": int(self.n_neighbors_)},
            arrays={"reference": self.reference_},
        )

    def _set_fitted_state(self, state: State) -> None:
        self._check_params()
        self._set_reference(np.ascontiguousarray(state.array("reference"), dtype=np.float64))

    # -- helpers -------------------------------------------------------------------------
    def _set_reference(self, reference: NDArray[np.float64]) -> None:
        self.reference_ = reference
        self.n_neighbors_ = int(min(self.n_neighbors, reference.shape[0]))
        self.index_ = BruteNeighbours(reference)

    def _aggregate(self, dist: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.aggregate == "kth":
            return np.ascontiguousarray(dist[:, -1], dtype=np.float64)
        return np.asarray(dist.mean(axis=1), dtype=np.float64)

    def _check_params(self) -> None:
        if isinstance(self.n_neighbors, bool) or not isinstance(
            self.n_neighbors, (int, np.integer)
        ):
            raise ValueError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}")
        if self.n_neighbors < 1:
            raise ValueError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}")
        if (
            isinstance(self.max_reference, bool)
            or not isinstance(self.max_reference, (int, np.integer))
            or self.max_reference < 1
        ):
            raise ValueError(
                f"max_reference must be a positive integer, got {self.max_reference!r}"
            )
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, got {self.aggregate!r}")
