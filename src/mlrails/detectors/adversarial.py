"""Model-agnostic detectors of adversarial inputs.

Adversarial examples are found by pushing an input just across the model's decision boundary
with a small, targeted change. They therefore tend to sit where the model is unstable, and
where the model's answer disagrees with the training data around them. The detectors here
only call the model through :class:`~mlrails.models.base.ModelAdapter` (no gradients), score
every row independently of the rest of the batch (**higher = more suspicious**), and inherit
calibration to a target false-alarm rate from :class:`~mlrails.detectors.base.BaseDetector`.

* :class:`LabelInstabilityDetector` — share of small random perturbations of the row that
  change the predicted label (regression: spread of the perturbed predictions);
* :class:`NeighbourDisagreementDetector` — share of the row's nearest training neighbours
  whose label differs from the model's prediction;
* :class:`FeatureSqueezingDetector` — how much the prediction moves when the image is
  "squeezed" by bit-depth reduction or median smoothing (Xu, Evans & Qi, NDSS 2018).

The model is a constructor parameter that is not saved; pass it again when loading:
``LabelInstabilityDetector.from_state(state, model=adapter)``.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails._state import State
from mlrails.detectors.base import BaseDetector
from mlrails.detectors.encoding import numeric_matrix
from mlrails.detectors.registry import register_detector
from mlrails.errors import DataError, NotFittedError
from mlrails.models.base import ModelAdapter

#: weight of the continuous tie-break term added to the discrete share in a score. It is kept
#: below ``1 / n`` for any practical number ``n`` of copies or neighbours, so it only orders
#: rows whose shares are equal and never changes the order between different shares.
TIE_BREAK = 1e-3


def _require_model(det: BaseDetector) -> ModelAdapter:
    model = getattr(det, "model", None)
    if model is None:
        raise NotFittedError(
            f"{type(det).__name__} needs the model: construct it with model=adapter "
            "(or pass model=adapter to from_state)"
        )
    if not isinstance(model, ModelAdapter):
        raise TypeError(
            f"{type(det).__name__} expects an mlrails ModelAdapter, got {type(model).__name__}; "
            "wrap the model first (e.g. mlrails.models.SklearnAdapter)"
        )
    return model


def _n_rows(X: Any) -> int:
    return len(X) if isinstance(X, pd.DataFrame) else int(np.asarray(X).shape[0])


def _check_proba(proba: Any, n: int) -> NDArray[np.float64]:
    P = np.asarray(proba, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] != n:
        raise ValueError(f"proba must have shape (n_rows={n}, n_classes), got {P.shape}")
    return P


# =============================================================================================
# label instability
# =============================================================================================


class LabelInstabilityDetector(BaseDetector):
    """Share of small random perturbations of a row that change the model's predicted label.

    At ``fit`` a fixed noise bank ``noise_bank_`` of shape ``(n_copies, n_numeric)`` is drawn
    from a seeded standard normal generator, together with the per-feature scale ``scale_``
    (training standard deviation of each numeric column, in original units). Copy ``j`` of a
    row adds ``noise_bank_[j] * noise_scale * scale_`` to the row's numeric columns;
    categorical (and boolean) columns are left untouched. Image-like arrays ``(n, h, w[, c])``
    treat every pixel as a numeric feature with one global standard deviation.

    All ``n * n_copies`` perturbed rows go to the model in one call. For a classifier the score
    of a row is

        share of copies whose predicted label differs from the row's own predicted label
        + ``TIE_BREAK`` (1e-3) × mean total-variation distance between the row's probability
        vector and the copies' probability vectors,

    the second term (at most 1e-3, below the 1/n_copies step of the first) breaks the many
    ties at a share of zero so that a threshold can be calibrated. For a regressor the score is
    the standard deviation of the copies' predictions divided by the training target's
    standard deviation. The same noise is used for every row, so a row's score does not depend
    on the batch it comes in.
    """

    name = "label_instability"
    family = "adversarial"
    needs_model = True

    noise_bank_: NDArray[np.float64]
    scale_: NDArray[np.float64]
    positions_: NDArray[np.int64]
    columns_: list[str]
    layout_: str
    target_scale_: float

    def __init__(
        self,
        model: ModelAdapter | None = None,
        n_copies: int = 8,
        noise_scale: float = 0.05,
        random_state: int | None = 0,
    ) -> None:
        self.model = model
        self.n_copies = n_copies
        self.noise_scale = noise_scale
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------------------
    def _fit_encoded(self, Z: NDArray[np.float64], y: NDArray[Any] | None, X: Any) -> None:
        model = _require_model(self)
        if int(self.n_copies) < 1:
            raise ValueError(f"n_copies must be >= 1, got {self.n_copies}")
        if not float(self.noise_scale) > 0:
            raise ValueError(f"noise_scale must be > 0, got {self.noise_scale}")
        enc = self.encoder_
        if enc.input_kind_ == "image":
            self.layout_ = "image"
            flat = np.asarray(X, dtype=np.float64).reshape(_n_rows(X), -1)
            self.positions_ = np.arange(flat.shape[1], dtype=np.int64)
            self.columns_ = list(enc.columns_)
            with np.errstate(all="ignore"):
                global_std = float(np.nanstd(np.where(np.isfinite(flat), flat, np.nan)))
            if not np.isfinite(global_std):
                global_std = 0.0
            self.scale_ = np.full(flat.shape[1], global_std, dtype=np.float64)
        else:
            self.layout_ = "table"
            if isinstance(X, pd.DataFrame):
                names = [
                    str(c)
                    for c in X.columns
                    if pd.api.types.is_numeric_dtype(X[c].dtype)
                    and not pd.api.types.is_bool_dtype(X[c].dtype)
                ]
            elif np.asarray(X).dtype == bool:
                names = []
            else:
                names = list(enc.numeric_columns_)
            self.columns_ = names
            self.positions_ = np.array([enc.columns_.index(c) for c in names], dtype=np.int64)
            block = self._numeric_block(X)
            with np.errstate(all="ignore"):
                std = np.nanstd(np.where(np.isfinite(block), block, np.nan), axis=0)
            self.scale_ = np.where(np.isfinite(std), std, 0.0).astype(np.float64)
        rng = np.random.default_rng(self.random_state)
        self.noise_bank_ = rng.standard_normal((int(self.n_copies), self.positions_.size))
        self.target_scale_ = 1.0
        if model.task == "regression":
            target = (
                np.asarray(y, dtype=np.float64).ravel()
                if y is not None
                else model.predict_values(X)
            )
            with np.errstate(all="ignore"):
                t_std = float(np.nanstd(target))
            self.target_scale_ = t_std if np.isfinite(t_std) and t_std > 1e-12 else 1.0

    # -- scoring ---------------------------------------------------------------------------
    def score_samples(
        self,
        X: Any,
        *,
        proba: NDArray[np.float64] | None = None,
        noisy_proba: NDArray[np.float64] | None = None,
    ) -> NDArray[np.float64]:
        """Instability score per row.

        ``proba``: the model's probabilities for ``X``, if already known; ``noisy_proba``: its
        probabilities for :meth:`perturbed_copies` of ``X`` (in that order), if already known.
        """
        self._check_fitted()
        model = _require_model(self)
        n = _n_rows(X)
        if n == 0:
            return np.zeros(0, dtype=np.float64)
        c = self.noise_bank_.shape[0]
        if noisy_proba is not None and model.task == "classification":
            P0 = _check_proba(model.predict_proba(X) if proba is None else proba, n)
            Pn = np.asarray(noisy_proba, dtype=np.float64).reshape(n, c, -1)
            return self._instability(P0, Pn)
        noisy = self._perturb(X)
        if model.task == "regression":
            values = np.asarray(model.predict_values(noisy), dtype=np.float64).reshape(n, c)
            return np.asarray(values.std(axis=1) / self.target_scale_, dtype=np.float64)
        P0 = _check_proba(model.predict_proba(X) if proba is None else proba, n)
        Pn = np.asarray(model.predict_proba(noisy), dtype=np.float64).reshape(n, c, -1)
        return self._instability(P0, Pn)

    @staticmethod
    def _instability(P0: NDArray[np.float64], Pn: NDArray[np.float64]) -> NDArray[np.float64]:
        """Share of the copies whose label flips, plus the tie-break total-variation term."""
        flipped = (Pn.argmax(axis=2) != P0.argmax(axis=1)[:, None]).mean(axis=1)
        tv = 0.5 * np.abs(Pn - P0[:, None, :]).sum(axis=2).mean(axis=1)
        return np.asarray(flipped + TIE_BREAK * tv, dtype=np.float64)

    def perturbed_copies(self, X: Any) -> Any:
        """The ``n * n_copies`` perturbed rows (copy ``j`` of row ``i`` at ``i * n_copies + j``)."""
        self._check_fitted()
        return self._perturb(X)

    def perturbs_matrix_like_table(self, columns: list[str]) -> bool:
        """Whether copies of a float matrix whose columns are ``columns`` hold exactly the
        numbers of the copies of the table: every column is perturbed, in this order.

        The guard then perturbs the matrix it already has instead of converting the table.
        """
        return (
            self.layout_ == "table"
            and self.columns_ == columns
            and np.array_equal(self.positions_, np.arange(len(columns)))
        )

    def _perturb(self, X: Any) -> Any:
        n = _n_rows(X)
        c = self.noise_bank_.shape[0]
        delta = self.noise_bank_ * (float(self.noise_scale) * self.scale_)
        if self.layout_ == "image":
            arr = np.asarray(X, dtype=np.float64)
            flat = arr.reshape(n, -1)
            if flat.shape[1] != delta.shape[1]:
                raise DataError(f"expected {delta.shape[1]} pixels per image, got {flat.shape[1]}")
            noisy_flat = flat[:, None, :] + delta[None, :, :]
            return noisy_flat.reshape((n * c, *arr.shape[1:]))
        block = self._numeric_block(X)
        noisy = (block[:, None, :] + delta[None, :, :]).reshape(n * c, -1)
        rows = np.repeat(np.arange(n), c)
        if isinstance(X, pd.DataFrame):
            cols = self._frame_columns(X)
            if list(cols) == list(X.columns):  # all-numeric table: no copy of other columns
                return pd.DataFrame(noisy, columns=X.columns)
            rep = X.iloc[rows].reset_index(drop=True)
            if not cols:
                return rep
            new = pd.DataFrame(noisy, columns=pd.Index(cols))
            return pd.concat([rep.drop(columns=cols), new], axis=1)[list(X.columns)]
        arr = np.asarray(X)
        if self.positions_.size == 0:
            return np.repeat(arr, c, axis=0)
        if arr.dtype.kind in "OUS":
            out = np.repeat(arr.astype(object), c, axis=0)
        else:
            out = np.repeat(arr.astype(np.float64), c, axis=0)
        out[:, self.positions_] = noisy
        return out

    def _frame_columns(self, X: pd.DataFrame) -> list[Any]:
        if self.encoder_.input_kind_ != "frame":
            return [X.columns[p] for p in self.positions_]
        lookup = {str(c): c for c in X.columns}
        missing = [c for c in self.columns_ if c not in lookup]
        if missing:
            raise DataError(f"input lacks the numeric columns {missing}")
        return [lookup[c] for c in self.columns_]

    def _numeric_block(self, X: Any) -> NDArray[np.float64]:
        n = _n_rows(X)
        if self.positions_.size == 0:
            return np.zeros((n, 0))
        if isinstance(X, pd.DataFrame):
            return numeric_matrix(X, self._frame_columns(X))
        arr = np.asarray(X)
        if arr.ndim != 2:
            raise DataError(f"expected a 2-D array, got shape {arr.shape}")
        sub = arr[:, self.positions_]
        if sub.dtype.kind in "OUS":
            sub = pd.DataFrame(sub).apply(pd.to_numeric, errors="coerce").to_numpy()
        return np.asarray(sub, dtype=np.float64)

    # -- persistence -----------------------------------------------------------------------
    def _get_fitted_state(self) -> State:
        return State(
            meta={
                "layout": self.layout_,
                "columns": list(self.columns_),
                "target_scale": self.target_scale_,
            },
            arrays={
                "noise_bank": self.noise_bank_,
                "scale": self.scale_,
                "positions": self.positions_,
            },
        )

    def _set_fitted_state(self, state: State) -> None:
        self.layout_ = str(state.meta["layout"])
        self.columns_ = [str(c) for c in state.meta["columns"]]
        self.target_scale_ = float(state.meta["target_scale"])
        self.noise_bank_ = np.asarray(state.array("noise_bank"), dtype=np.float64)
        self.scale_ = np.asarray(state.array("scale"), dtype=np.float64)
        self.positions_ = np.asarray(state.array("positions"), dtype=np.int64)


# =============================================================================================
# neighbour disagreement
# =============================================================================================


class NeighbourDisagreementDetector(BaseDetector):
    """Share of the nearest training neighbours whose label differs from the model's prediction.

    ``fit(X, y)`` keeps (a seeded random subsample of at most ``max_reference`` of) the
    training rows in the encoded space of :class:`~mlrails.detectors.encoding.TabularEncoder`,
    with their labels. The score of a row is

        share of its ``n_neighbors`` nearest reference rows (Euclidean, encoded space) whose
        label differs from the model's predicted label for the row
        + ``TIE_BREAK`` (1e-3) × the same share weighted by ``1 / (distance + 1e-8)``,

    the second term (at most 1e-3, below the ``1/n_neighbors`` step of the first) breaks ties
    between rows with the same share in favour of rows whose disagreeing neighbours are
    closest. Classification only.
    """

    name = "neighbour_disagreement"
    family = "adversarial"
    needs_model = True
    encoded_input_only = True  # given ``predicted``; the guard always passes it

    reference_: NDArray[np.float64]
    reference_labels_: NDArray[np.int64]
    classes_: NDArray[Any]
    k_: int
    index_: Any
    lookup_: dict[Any, int]

    def __init__(
        self,
        model: ModelAdapter | None = None,
        n_neighbors: int = 10,
        max_reference: int = 5000,
        random_state: int | None = 0,
    ) -> None:
        self.model = model
        self.n_neighbors = n_neighbors
        self.max_reference = max_reference
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> Self:
        if y is None:
            raise ValueError(
                "neighbour_disagreement needs the training labels: call fit(X, y) with y"
            )
        if self.model is not None:
            _check_classifier(_require_model(self), self.name)
        return super().fit(X, y)

    def _fit_encoded(self, Z: NDArray[np.float64], y: NDArray[Any] | None, X: Any) -> None:
        if y is None:  # pragma: no cover - guarded in fit
            raise ValueError("neighbour_disagreement needs the training labels y")
        labels = np.asarray(y).ravel()
        if labels.shape[0] != Z.shape[0]:
            raise ValueError(f"y has {labels.shape[0]} labels for {Z.shape[0]} rows")
        if int(self.n_neighbors) < 1 or int(self.max_reference) < 1:
            raise ValueError("n_neighbors and max_reference must be >= 1")
        idx = np.arange(Z.shape[0])
        if Z.shape[0] > int(self.max_reference):
            rng = np.random.default_rng(self.random_state)
            idx = np.sort(rng.choice(Z.shape[0], size=int(self.max_reference), replace=False))
        classes, inverse = np.unique(labels[idx], return_inverse=True)
        self.classes_ = classes
        self.reference_ = np.ascontiguousarray(Z[idx], dtype=np.float64)
        self.reference_labels_ = inverse.astype(np.int64).ravel()
        self._build_index()

    def _build_index(self) -> None:
        from mlrails.detectors.neighbours import BruteNeighbours

        self.k_ = min(int(self.n_neighbors), self.reference_.shape[0])
        self.index_ = BruteNeighbours(self.reference_)
        self.lookup_ = {c: i for i, c in enumerate(self.classes_.tolist())}

    def score_samples(self, X: Any, *, predicted: Any = None) -> NDArray[np.float64]:
        """Disagreement score per row; ``predicted`` = the model's labels for ``X`` if known."""
        self._check_fitted()
        n = _n_rows(X)
        if predicted is None:
            model = _require_model(self)
            _check_classifier(model, self.name)
            predicted = model.predict(X)
        pred = np.asarray(predicted).ravel()
        if pred.shape[0] != n:
            raise ValueError(f"predicted has {pred.shape[0]} labels for {n} rows")
        if n == 0:
            return np.zeros(0, dtype=np.float64)
        Z = self.encoder_.transform(X)
        dist, ind = self.index_.kneighbors(Z, self.k_)
        pred_idx = np.array([self.lookup_.get(v, -1) for v in pred.tolist()], dtype=np.int64)
        differ = self.reference_labels_[ind] != pred_idx[:, None]
        share = differ.mean(axis=1)
        w = 1.0 / (dist + 1e-8)
        weighted = (w * differ).sum(axis=1) / w.sum(axis=1)
        return np.asarray(share + TIE_BREAK * weighted, dtype=np.float64)

    def _get_fitted_state(self) -> State:
        return State(
            meta={"classes": self.classes_.tolist()},
            arrays={"reference": self.reference_, "reference_labels": self.reference_labels_},
        )

    def _set_fitted_state(self, state: State) -> None:
        self.classes_ = np.asarray(state.meta["classes"])
        self.reference_ = np.asarray(state.array("reference"), dtype=np.float64)
        self.reference_labels_ = np.asarray(state.array("reference_labels"), dtype=np.int64)
        self._build_index()


def _check_classifier(model: ModelAdapter, name: str) -> None:
    if model.task != "classification":
        raise ValueError(f"{name} works with classifiers only; the model is a {model.task} model")


# =============================================================================================
# feature squeezing
# =============================================================================================


class FeatureSqueezingDetector(BaseDetector):
    """Feature squeezing for image-like inputs (Xu, Evans & Qi, NDSS 2018).

    Inputs are arrays ``(n, h, w)`` or ``(n, h, w, c)``; ``fit`` learns the value range
    ``[min_, max_]`` of the training images. Two squeezers are applied:

    * bit-depth reduction to ``bit_depth`` bits over ``[min_, max_]``;
    * a ``median_size × median_size`` median filter over the spatial axes
      (:func:`scipy.ndimage.median_filter`, each image and channel separately).

    The score is the largest L1 distance between the model's probability vector on the
    original image and on a squeezed one: legitimate images barely move, adversarial ones,
    which rely on small high-frequency changes, often do. Classification only.
    """

    name = "feature_squeezing"
    family = "adversarial"
    needs_model = True

    min_: float
    max_: float
    sample_shape_: tuple[int, ...]

    def __init__(
        self, model: ModelAdapter | None = None, bit_depth: int = 4, median_size: int = 2
    ) -> None:
        self.model = model
        self.bit_depth = bit_depth
        self.median_size = median_size

    def fit(self, X: Any, y: Any = None) -> Self:
        _check_image_like(X)
        if int(self.bit_depth) < 1:
            raise ValueError(f"bit_depth must be >= 1, got {self.bit_depth}")
        if int(self.median_size) < 1:
            raise ValueError(f"median_size must be >= 1, got {self.median_size}")
        if self.model is not None:
            _check_classifier(_require_model(self), self.name)
        return super().fit(X, y)

    def _fit_encoded(self, Z: NDArray[np.float64], y: NDArray[Any] | None, X: Any) -> None:
        arr = _check_image_like(X)
        finite = arr[np.isfinite(arr)]
        if finite.size == 0:
            raise DataError("feature_squeezing needs finite pixel values to learn their range")
        self.min_ = float(finite.min())
        self.max_ = float(finite.max())
        self.sample_shape_ = tuple(arr.shape[1:])

    def squeeze(self, X: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The bit-depth-reduced and the median-filtered versions of ``X``."""
        self._check_fitted()
        arr = _check_image_like(X)
        if tuple(arr.shape[1:]) != self.sample_shape_:
            raise DataError(f"expected images of shape {self.sample_shape_}, got {arr.shape[1:]}")
        span = self.max_ - self.min_ if self.max_ > self.min_ else 1.0
        levels = 2 ** int(self.bit_depth) - 1
        unit = np.clip((arr - self.min_) / span, 0.0, 1.0)
        bits = np.round(unit * levels) / levels * span + self.min_
        from scipy.ndimage import median_filter

        m = int(self.median_size)
        size = (1, m, m) if arr.ndim == 3 else (1, m, m, 1)
        median = median_filter(arr, size=size, mode="reflect")
        return np.asarray(bits, dtype=np.float64), np.asarray(median, dtype=np.float64)

    def score_samples(
        self, X: Any, *, proba: NDArray[np.float64] | None = None
    ) -> NDArray[np.float64]:
        """Squeezing score per row; ``proba`` = the model's probabilities for ``X`` if known."""
        self._check_fitted()
        model = _require_model(self)
        _check_classifier(model, self.name)
        arr = _check_image_like(X)
        n = arr.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.float64)
        bits, median = self.squeeze(arr)
        if proba is None:
            P = np.asarray(model.predict_proba(np.concatenate([arr, bits, median])))
            P0, Pb, Pm = P[:n], P[n : 2 * n], P[2 * n :]
        else:
            P0 = _check_proba(proba, n)
            P = np.asarray(model.predict_proba(np.concatenate([bits, median])))
            Pb, Pm = P[:n], P[n:]
        l1_bits = np.abs(P0 - Pb).sum(axis=1)
        l1_median = np.abs(P0 - Pm).sum(axis=1)
        return np.asarray(np.maximum(l1_bits, l1_median), dtype=np.float64)

    def _get_fitted_state(self) -> State:
        return State(
            meta={"min": self.min_, "max": self.max_, "sample_shape": list(self.sample_shape_)},
            arrays={},
        )

    def _set_fitted_state(self, state: State) -> None:
        self.min_ = float(state.meta["min"])
        self.max_ = float(state.meta["max"])
        self.sample_shape_ = tuple(int(s) for s in state.meta["sample_shape"])


def _check_image_like(X: Any) -> NDArray[np.float64]:
    if isinstance(X, pd.DataFrame):
        raise DataError(
            "feature_squeezing needs image-like arrays (n, h, w) or (n, h, w, c), got a table"
        )
    arr = np.asarray(X)
    if arr.ndim not in (3, 4) or arr.dtype.kind not in "biuf":
        raise DataError(
            "feature_squeezing needs numeric image-like arrays (n, h, w) or (n, h, w, c), "
            f"got shape {arr.shape} of dtype {arr.dtype}"
        )
    return np.asarray(arr, dtype=np.float64)


for _cls in (LabelInstabilityDetector, NeighbourDisagreementDetector, FeatureSqueezingDetector):
    register_detector(_cls)
