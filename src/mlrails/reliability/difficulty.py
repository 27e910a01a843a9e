"""How hard a row is to predict: the scale ``sigma(x)`` of locally adaptive conformal intervals.

Normalised split conformal (Papadopoulos et al. 2008; Lei et al. 2018, section 5.2) scores a
calibration row by ``|y - ŷ| / sigma(x)`` and answers ``ŷ ± q_hat · sigma(x)``: rows in noisy
regions get wide intervals, rows in quiet ones narrow intervals, and the marginal coverage
guarantee holds for *any* ``sigma`` fitted without the calibration rows.

:class:`KNNDifficulty` is that ``sigma``: the mean absolute residual of the model on the
``k`` nearest *fit-split* rows (the model's training rows, never the calibration rows) in
the detectors' encoded space, plus a floor ``beta`` times the overall mean absolute residual
so that no row gets a zero-width interval. It is saved as plain arrays (the encoder's centre
and scale, the reference rows and their residuals) and predicts exactly the same after a
load. A model that fits its training rows exactly (all residuals 0) gives ``sigma = 1``:
constant widths, as plain split conformal.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlrails._state import State
from mlrails.detectors.encoding import TabularEncoder
from mlrails.detectors.neighbours import BruteNeighbours
from mlrails.errors import NotFittedError


class KNNDifficulty:
    """``sigma(x)`` = mean fit-split ``|residual|`` of the ``k`` nearest rows + ``beta`` floor.

    Parameters
    ----------
    n_neighbors:
        ``k``; clipped to the number of reference rows.
    beta:
        floor, as a share of the mean absolute residual over the reference rows.
    max_reference:
        at most this many fit rows (a seeded subsample) are kept.
    random_state:
        seed of that subsample.
    """

    encoder_: TabularEncoder
    reference_: NDArray[np.float64]
    residuals_: NDArray[np.float64]
    floor_: float
    index_: BruteNeighbours

    def __init__(
        self,
        n_neighbors: int = 20,
        beta: float = 0.1,
        max_reference: int = 5000,
        random_state: int = 0,
    ) -> None:
        if n_neighbors < 1:
            raise ValueError(f"n_neighbors must be >= 1, got {n_neighbors}")
        if beta <= 0:
            raise ValueError(f"beta must be > 0, got {beta}")
        self.n_neighbors = n_neighbors
        self.beta = beta
        self.max_reference = max_reference
        self.random_state = random_state

    def fit(self, X: Any, abs_residuals: ArrayLike) -> Self:
        """Learn from fit-split rows ``X`` and the model's absolute residuals on them."""
        r = np.abs(np.asarray(abs_residuals, dtype=np.float64).ravel())
        if r.size != len(X):
            raise ValueError(f"{len(X)} rows but {r.size} residuals")
        if r.size == 0 or not np.isfinite(r).all():
            raise ValueError("difficulty needs finite residuals on at least one row")
        self.encoder_ = TabularEncoder().fit(X)
        Z = self.encoder_.transform(X)
        rows = np.arange(r.size)
        if r.size > self.max_reference:
            rng = np.random.default_rng(self.random_state)
            rows = np.sort(rng.choice(r.size, size=self.max_reference, replace=False))
        self._set(np.ascontiguousarray(Z[rows]), r[rows])
        return self

    def _set(self, reference: NDArray[np.float64], residuals: NDArray[np.float64]) -> None:
        self.reference_ = reference
        self.residuals_ = residuals
        self.floor_ = self.beta * float(residuals.mean())
        self.index_ = BruteNeighbours(reference)

    def predict(self, X: Any, *, encoded: bool = False) -> NDArray[np.float64]:
        """``sigma`` of each row of ``X`` (``encoded``: ``X`` is already the encoded matrix)."""
        if not hasattr(self, "index_"):
            raise NotFittedError("KNNDifficulty is not fitted; call fit() first")
        n = len(X)
        if self.floor_ <= 0.0:  # the model fits its own rows exactly: nothing to learn from
            return np.ones(n)
        Z = np.asarray(X, dtype=np.float64) if encoded else self.encoder_.transform(X)
        k = min(self.n_neighbors, self.reference_.shape[0])
        _, ind = self.index_.kneighbors(Z, k)
        return np.asarray(self.residuals_[ind].mean(axis=1) + self.floor_, dtype=np.float64)

    def get_state(self) -> State:
        enc = self.encoder_.get_state()
        meta: dict[str, Any] = {
            "kind": "knn_abs_residual",
            "n_neighbors": self.n_neighbors,
            "beta": self.beta,
            "max_reference": self.max_reference,
            "random_state": self.random_state,
            "encoder": enc.meta,
            # the one-hot block's column order, explicit: never rely on a saved dict's order
            "category_order": list(self.encoder_.categories_),
        }
        arrays = {f"encoder.{k}": v for k, v in enc.arrays.items()}
        arrays.update(reference=self.reference_, residuals=self.residuals_)
        return State(meta=meta, arrays=arrays)

    @classmethod
    def from_state(cls, state: State) -> KNNDifficulty:
        m = state.meta
        obj = cls(
            n_neighbors=int(m["n_neighbors"]),
            beta=float(m["beta"]),
            max_reference=int(m["max_reference"]),
            random_state=int(m["random_state"]),
        )
        enc_arrays = {
            k.removeprefix("encoder."): v
            for k, v in state.arrays.items()
            if k.startswith("encoder.")
        }
        obj.encoder_ = TabularEncoder.from_state(State(meta=m["encoder"], arrays=enc_arrays))
        cats = obj.encoder_.categories_
        obj.encoder_.categories_ = {c: cats[c] for c in m.get("category_order", list(cats))}
        obj._set(
            np.ascontiguousarray(state.array("reference"), dtype=np.float64),
            np.asarray(state.array("residuals"), dtype=np.float64),
        )
        return obj
