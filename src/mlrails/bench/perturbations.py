"""Parameterised, seeded perturbations of a test set: the "severity" axis of a benchmark.

A perturbation is a small registered class: ``name`` (how configs refer to it), ``kind``
(``"tabular"`` or ``"image"``), and :meth:`Perturbation.apply`, which returns perturbed copies
of the rows (and labels, for perturbations that resample) at one of five severities, from a
NumPy ``Generator`` so the same seed gives the same rows on any machine. What a perturbation
needs to know about the clean data (each feature's spread, the categories seen) comes from
:meth:`Perturbation.fit` on reference data, so severities mean the same on any dataset.

Add one::

    @register
    class Rounding(Perturbation):
        name = "rounding"
        kind = "tabular"
        def apply(self, X, y, severity, rng):
            return X.round(6 - severity), y
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.errors import MlrailsError
from mlrails.registry import Registry

SEVERITIES = (1, 2, 3, 4, 5)
Kind = Literal["tabular", "image"]


class PerturbationError(MlrailsError):
    """An unknown perturbation, a severity out of range, or data it cannot perturb."""


class Perturbation(ABC):
    """One kind of corruption at severities 1–5 (see the module docstring)."""

    name: ClassVar[str]
    kind: ClassVar[Kind]
    #: whether :meth:`apply` may change the labels or the number of rows
    resamples: ClassVar[bool] = False

    def fit(self, X: Any, y: NDArray[Any] | None = None) -> Perturbation:
        """Learn what severities are scaled by from clean reference data (default: nothing)."""
        return self

    @abstractmethod
    def apply(
        self, X: Any, y: NDArray[Any], severity: int, rng: np.random.Generator
    ) -> tuple[Any, NDArray[Any]]:
        """Perturbed copies of ``X`` (and ``y``); the inputs are never modified."""

    def __call__(
        self, X: Any, y: NDArray[Any], severity: int, seed: int
    ) -> tuple[Any, NDArray[Any]]:
        """:meth:`apply` with a checked severity and a generator seeded by ``seed``."""
        check_severity(severity)
        return self.apply(X, np.asarray(y), severity, np.random.default_rng(seed))


#: every registered perturbation class by name
PERTURBATIONS: Registry[type[Perturbation]] = Registry(
    "perturbation", error=PerturbationError, conflict=TypeError
)


def register(cls: type[Perturbation]) -> type[Perturbation]:
    """Class decorator: make ``cls`` available by its ``name``."""
    if not getattr(cls, "name", None) or getattr(cls, "kind", None) not in ("tabular", "image"):
        raise TypeError(f"{cls.__name__} needs a name and kind 'tabular' or 'image'")
    return PERTURBATIONS.add(cls.name, cls)


def available(kind: Kind | None = None) -> list[str]:
    """Registered perturbation names (of one kind), sorted."""
    return PERTURBATIONS.names(None if kind is None else lambda c: c.kind == kind)


def make(name: str, **params: Any) -> Perturbation:
    """An instance of the perturbation registered as ``name``."""
    cls = PERTURBATIONS.get(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise PerturbationError(f"{name}: {exc}") from None


def check_severity(severity: int) -> int:
    if isinstance(severity, bool) or not isinstance(severity, int | np.integer):
        raise PerturbationError(f"severity must be an integer 1–5, got {severity!r}")
    if severity not in SEVERITIES:
        raise PerturbationError(f"severity must be 1–5, got {severity}")
    return int(severity)


# -- tabular -------------------------------------------------------------------------------
def _numeric_columns(X: pd.DataFrame) -> list[str]:
    return [c for c in X.columns if pd.api.types.is_numeric_dtype(X[c]) and X[c].dtype != bool]


def _as_frame(X: Any) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise PerturbationError(f"a tabular perturbation needs a 2-D table, got shape {arr.shape}")
    return pd.DataFrame(arr)


def _like(X: Any, frame: pd.DataFrame) -> Any:
    return frame if isinstance(X, pd.DataFrame) else frame.to_numpy()


class _Tabular(Perturbation):
    """Shared fitting of tabular perturbations: numeric spreads and category lists."""

    kind: ClassVar[Kind] = "tabular"

    def fit(self, X: Any, y: NDArray[Any] | None = None) -> Perturbation:
        frame = _as_frame(X)
        num = _numeric_columns(frame)
        self.numeric_ = num
        std = frame[num].std(ddof=0).to_numpy(dtype=np.float64) if num else np.empty(0)
        self.spread_ = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        self.categories_ = {
            c: pd.unique(frame[c].dropna()) for c in frame.columns if c not in set(num)
        }
        return self

    def _spread(self, frame: pd.DataFrame) -> tuple[list[str], NDArray[np.float64]]:
        if not hasattr(self, "spread_"):
            self.fit(frame)
        return self.numeric_, self.spread_


@register
class GaussianNoise(_Tabular):
    """Add N(0, (s · σ_j)²) to every numeric feature j; s = 0.1, 0.2, 0.5, 1, 2 × severity."""

    name = "gaussian_noise"
    SCALE = (0.1, 0.2, 0.5, 1.0, 2.0)

    def apply(
        self, X: Any, y: NDArray[Any], severity: int, rng: np.random.Generator
    ) -> tuple[Any, NDArray[Any]]:
        frame = _as_frame(X).copy()
        cols, spread = self._spread(frame)
        s = self.SCALE[severity - 1]
        noise = rng.normal(size=(len(frame), len(cols))) * spread * s
        frame[cols] = frame[cols].to_numpy(dtype=np.float64) + noise
        return _like(X, frame), y.copy()


@register
class Scaling(_Tabular):
    """Multiply a random share of the numeric features by a unit-change factor (×1.5, ×2,
    ×5, ×10, ×100 by severity), as when an upstream system switches units."""

    name = "scaling"
    FACTOR = (1.5, 2.0, 5.0, 10.0, 100.0)

    def __init__(self, fraction: float = 0.3) -> None:
        if not 0 < fraction <= 1:
            raise PerturbationError(f"scaling: fraction must be in (0, 1], got {fraction}")
        self.fraction = fraction

    def apply(
        self, X: Any, y: NDArray[Any], severity: int, rng: np.random.Generator
    ) -> tuple[Any, NDArray[Any]]:
        frame = _as_frame(X).copy()
        cols, _ = self._spread(frame)
        k = max(1, round(self.fraction * len(cols))) if cols else 0
        chosen = list(rng.choice(cols, size=k, replace=False)) if k else []
        for c in chosen:
            frame[c] = frame[c].astype(np.float64) * self.FACTOR[severity - 1]
        return _like(X, frame), y.copy()


@register
class MissingValues(_Tabular):
    """Blank out a share of the cells (5, 10, 20, 35, 50 % by severity) at random."""

    name = "missing_values"
    RATE = (0.05, 0.1, 0.2, 0.35, 0.5)

    def apply(
        self, X: Any, y: NDArray[Any], severity: int, rng: np.random.Generator
    ) -> tuple[Any, NDArray[Any]]:
        frame = _as_frame(X).copy()
        mask = rng.random(frame.shape) < self.RATE[severity - 1]
        for j, c in enumerate(frame.columns):
            if mask[:, j].any():
                if pd.api.types.is_integer_dtype(frame[c]) or frame[c].dtype == bool:
                    frame[c] = frame[c].astype(object if frame[c].dtype == bool else "float64")
                frame.loc[mask[:, j], c] = np.nan
        return _like(X, frame), y.copy()


@register
class CategorySwap(_Tabular):
    """Replace a share of each categorical column's values (5–50 % by severity) with another
    category seen in the reference data."""

    name = "category_swap"
    RATE = (0.05, 0.1, 0.2, 0.35, 0.5)

    def apply(
        self, X: Any, y: NDArray[Any], severity: int, rng: np.random.Generator
    ) -> tuple[Any, NDArray[Any]]:
        frame = _as_frame(X).copy()
        self._spread(frame)
        cats = {c: v for c, v in self.categories_.items() if len(v) > 1 and c in frame}
        if not cats:
            raise PerturbationError("category_swap: the data has no categorical column")
        for c, values in cats.items():
            hit = np.flatnonzero(rng.random(len(frame)) < self.RATE[severity - 1])
            col = frame[c].to_numpy(dtype=object).copy()
            for i in hit:
                others = [v for v in values if v != col[i]]
                col[i] = others[int(rng.integers(len(others)))]
            frame[c] = col
        return _like(X, frame), y.copy()


@register
class Outliers(_Tabular):
    """Push a share of the rows (2, 5, 10, 20, 30 %) far out on one random numeric feature:
    value + sign · k · σ with k = 5–10."""

    name = "outliers"
    RATE = (0.02, 0.05, 0.1, 0.2, 0.3)

    def apply(
        self, X: Any, y: NDArray[Any], severity: int, rng: np.random.Generator
    ) -> tuple[Any, NDArray[Any]]:
        frame = _as_frame(X).copy()
        cols, spread = self._spread(frame)
        if not cols:
            raise PerturbationError("outliers: the data has no numeric column")
        rows = np.flatnonzero(rng.random(len(frame)) < self.RATE[severity - 1])
        vals = frame[cols].to_numpy(dtype=np.float64, copy=True)
        for i in rows:
            j = int(rng.integers(len(cols)))
            vals[i, j] += rng.choice([-1.0, 1.0]) * rng.uniform(5, 10) * spread[j]
        frame[cols] = vals
        return _like(X, frame), y.copy()


@register
class CovariateShift(_Tabular):
    """Shift a chosen subset of numeric features (default: a random third) by
    (0.25, 0.5, 1, 1.5, 2) · σ — the whole population moves, as after a change upstream."""

    name = "covariate_shift"
    SHIFT = (0.25, 0.5, 1.0, 1.5, 2.0)

    def __init__(self, features: list[str] | None = None, fraction: float = 1 / 3) -> None:
        self.features = features
        self.fraction = fraction

    def apply(
        self, X: Any, y: NDArray[Any], severity: int, rng: np.random.Generator
    ) -> tuple[Any, NDArray[Any]]:
        frame = _as_frame(X).copy()
        cols, spread = self._spread(frame)
        if self.features is not None:
            unknown = [f for f in self.features if f not in cols]
            if unknown:
                raise PerturbationError(f"covariate_shift: not numeric features: {unknown}")
            chosen = list(self.features)
        else:
            k = max(1, round(self.fraction * len(cols)))
            chosen = list(rng.choice(cols, size=k, replace=False))
        sd = dict(zip(cols, spread, strict=True))
        for c in chosen:
            frame[c] = frame[c].astype(np.float64) + self.SHIFT[severity - 1] * sd[c]
        return _like(X, frame), y.copy()


@register
class PriorShift(_Tabular):
    """Resample the rows (same count, with replacement) so one class — the rarest by default
    — makes up (share + severity steps) of the set: 50 %→90 % of the rows at severity 5."""

    name = "prior_shift"
    resamples = True
    SHARE = (0.5, 0.6, 0.7, 0.8, 0.9)

    def __init__(self, target_class: Any = None) -> None:
        self.target_class = target_class

    def apply(
        self, X: Any, y: NDArray[Any], severity: int, rng: np.random.Generator
    ) -> tuple[Any, NDArray[Any]]:
        frame = _as_frame(X)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise PerturbationError("prior_shift: needs at least two classes in y")
        target = classes[np.argmin(counts)] if self.target_class is None else self.target_class
        if target not in classes:
            raise PerturbationError(f"prior_shift: class {target!r} is not in y")
        n = len(y)
        n_target = round(self.SHARE[severity - 1] * n)
        pos = np.flatnonzero(y == target)
        neg = np.flatnonzero(y != target)
        idx = np.concatenate(
            [rng.choice(pos, n_target, replace=True), rng.choice(neg, n - n_target, replace=True)]
        )
        rng.shuffle(idx)
        out = frame.iloc[idx].reset_index(drop=True)
        return _like(X, out), np.asarray(y)[idx]
