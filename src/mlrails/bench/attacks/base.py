"""The attack base class, its validation and the registry of attacks by name.

An attack is a small registered class like a :mod:`~mlrails.bench.perturbations` entry, but
it needs the model: :meth:`Attack.fit` takes the model's adapter and clean reference rows (from
which it learns each feature's standard deviation), and :meth:`Attack.__call__` has the same
signature and return as ``Perturbation.__call__``: adversarial copies of the rows, labels
unchanged.

Budgets are L∞ radii in units of each feature's standard deviation, one per severity 1–5
(:attr:`Attack.default_epsilons`, or ``epsilons=[...]``), so a severity means the same on any
dataset. Every returned row satisfies ``|x_adv - x| <= eps * std`` feature by feature;
constant features get a std of 1. Image batches ``(n, H, W[, C])`` use one pooled std for
every pixel (as image attacks measure ε in pixel-range units) and stay within the value range
of the reference images.

Add one::

    @register_attack
    class Noise(Attack):
        name = "noise"
        access = "black-box"
        def _delta(self, x, y, eps, seed):
            return np.random.default_rng(seed).uniform(-eps, eps, x.shape)
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.bench.perturbations import PerturbationError, check_severity
from mlrails.models.base import ModelAdapter
from mlrails.registry import Registry

Access = Literal["black-box", "white-box"]
Array = NDArray[np.float64]
Epsilons = tuple[float, float, float, float, float]

#: standard deviations below this are treated as zero (constant feature → scale 1)
MIN_STD = 1e-12


class AttackError(PerturbationError):
    """An unknown attack, bad parameters, or a model or data the attack cannot handle."""


class Attack(ABC):
    """One adversarial attack at severities 1–5 (see the module docstring).

    Subclasses set :attr:`name`, :attr:`access`, :attr:`defaults` (their parameters) and
    implement :meth:`_delta`, the displacement in standardised units.
    """

    name: ClassVar[str]
    #: "black-box" (any model: only ``predict_proba``) or "white-box" (a differentiable
    #: PyTorch model)
    access: ClassVar[Access]
    #: default budgets for severities 1..5: L∞ radius in units of each feature's std
    default_epsilons: ClassVar[Epsilons] = (0.05, 0.1, 0.25, 0.5, 1.0)
    #: parameter names and default values accepted by the constructor
    defaults: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, epsilons: Sequence[float] | None = None, **params: Any) -> None:
        self.epsilons: Epsilons = (
            self.default_epsilons if epsilons is None else _check_epsilons(self.name, epsilons)
        )
        unknown = sorted(set(params) - set(self.defaults))
        if unknown:
            known = ", ".join(sorted(self.defaults)) or "none"
            raise AttackError(f"{self.name}: unknown parameter(s) {unknown}; known: {known}")
        #: the parameters as given (defaults not filled in)
        self.params: dict[str, Any] = dict(params)
        self._p: dict[str, Any] = {**self.defaults, **params}
        self._check_params(self._p)

    def _check_params(self, p: dict[str, Any]) -> None:
        """Raise :class:`AttackError` for bad parameter values (default: nothing to check)."""
        return None

    def epsilon(self, severity: int) -> float:
        """The budget (L∞ radius in std units) of ``severity``."""
        return self.epsilons[_severity(severity) - 1]

    # -- model and reference data ----------------------------------------------------------
    def check_model(self, adapter: ModelAdapter) -> None:
        """Raise :class:`AttackError` if this attack cannot attack ``adapter``'s model."""
        adapter = _adapt(adapter)
        if adapter.task != "classification":
            raise AttackError(
                f"{self.name}: attacks need a classification model; "
                f"{adapter.info().model_class} is a {adapter.task} model"
            )
        self._check_access(adapter)

    def _check_access(self, adapter: ModelAdapter) -> None:
        """Access-specific checks (a black-box attack accepts any classifier)."""
        return None

    def fit(self, adapter: ModelAdapter, X_ref: Any, y_ref: Any = None) -> Attack:
        """Check the model, then learn each feature's scale and layout from clean rows.

        ``adapter`` may also be a bare model (anything :func:`mlrails.models.as_adapter`
        accepts). ``y_ref`` is not needed by the built-in attacks.
        """
        adapter = _adapt(adapter)
        self.check_model(adapter)
        columns = list(X_ref.columns) if isinstance(X_ref, pd.DataFrame) else None
        ref = self._as_array(X_ref, columns, fitting=True)
        if len(ref) < 2:
            raise AttackError(f"{self.name}: fit needs at least 2 reference rows")
        if ref.ndim > 2:  # images: one pooled scale for every pixel, and a value range
            std = np.full(ref.shape[1:], float(np.nanstd(ref)))
            center = np.full(ref.shape[1:], float(np.nanmean(ref)))
            self.bounds_: tuple[float, float] | None = (
                float(np.nanmin(ref)),
                float(np.nanmax(ref)),
            )
        else:
            std = np.nanstd(ref, axis=0)
            center = np.nanmean(ref, axis=0)
            self.bounds_ = None
        self.columns_ = columns
        self.shape_: tuple[int, ...] = tuple(ref.shape[1:])
        self.scale_: Array = np.where(np.isfinite(std) & (std > MIN_STD), std, 1.0)
        self.center_: Array = np.where(np.isfinite(center), center, 0.0)
        self.adapter_ = adapter
        self.classes_: NDArray[Any] | None = (
            None if adapter.classes_ is None else np.asarray(adapter.classes_)
        )
        if self.classes_ is not None:
            self.n_classes_ = len(self.classes_)
        else:
            probe = adapter.predict_proba(self._model_input(ref[:2]))
            self.n_classes_ = int(np.shape(probe)[1])
        self._fit_model(ref)
        return self

    def _fit_model(self, ref: Array) -> None:
        """Hook: learn what the attack needs from the reference rows (default: nothing)."""
        return None

    # -- attacking -------------------------------------------------------------------------
    def __call__(
        self, X: Any, y: NDArray[Any], severity: int, seed: int
    ) -> tuple[Any, NDArray[Any]]:
        """Adversarial copies of ``X`` at budget ``epsilon(severity)``, and ``y`` unchanged.

        ``X`` comes back as it went in: a DataFrame (same index and columns, float values)
        or a float64 array of the same shape. The same ``seed`` gives identical output.
        """
        eps = self.epsilon(severity)
        if not hasattr(self, "scale_"):
            raise AttackError(f"{self.name}: call fit(adapter, X_ref) before attacking")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise AttackError(f"{self.name}: seed must be a non-negative integer, got {seed!r}")
        y = np.asarray(y)
        x = self._as_array(X, self.columns_)
        if len(y) != len(x):
            raise AttackError(f"{self.name}: X has {len(x)} rows but y has {len(y)}")
        if len(x) == 0:
            return self._like(X, x), y.copy()
        labels = self._label_index(y)
        low, high = self._limits(x, eps)
        delta = np.clip(self._delta(x, labels, eps, int(seed)), low, high)
        return self._like(X, x + delta * self.scale_), y.copy()

    def _limits(self, x: Array, eps: float) -> tuple[Array, Array]:
        """Per-value bounds of the displacement in std units: the ε-ball and, for images, the
        fitted value range (a value already outside it is never forced to move)."""
        if self.bounds_ is None:
            return np.full_like(x, -eps), np.full_like(x, eps)
        lo, hi = self.bounds_
        with np.errstate(invalid="ignore"):
            low = np.maximum(-eps, np.minimum(0.0, (lo - x) / self.scale_))
            high = np.minimum(eps, np.maximum(0.0, (hi - x) / self.scale_))
        return low, high

    @abstractmethod
    def _delta(self, x: Array, y: NDArray[np.intp], eps: float, seed: int) -> Array:
        """Displacement of every row in std units (clipped into the ε-ball afterwards).

        ``x`` is the float64 batch ``(n, *shape_)``, ``y`` the column index of each row's
        true class in ``predict_proba``.
        """

    # -- helpers ---------------------------------------------------------------------------
    def _as_array(self, X: Any, columns: list[Any] | None, fitting: bool = False) -> Array:
        if isinstance(X, pd.DataFrame):
            bad = [
                str(c)
                for c in X.columns
                if not pd.api.types.is_numeric_dtype(X[c].dtype) or X[c].dtype == bool
            ]
            if bad:
                raise AttackError(
                    f"{self.name}: attacks need numeric features; non-numeric columns: "
                    + ", ".join(bad[:10])
                )
            if columns is not None and not fitting:
                missing = [str(c) for c in columns if c not in X.columns]
                if missing or len(X.columns) != len(columns):
                    raise AttackError(
                        f"{self.name}: X's columns differ from the reference rows' "
                        f"(missing: {', '.join(missing[:10]) or 'none'})"
                    )
                X = X[columns]
            arr: Array = X.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        else:
            try:
                arr = np.array(X, dtype=np.float64, copy=True)
            except (TypeError, ValueError) as exc:
                raise AttackError(f"{self.name}: attacks need numeric features: {exc}") from None
        if arr.ndim < 2:
            raise AttackError(f"{self.name}: expected a batch of rows, got shape {arr.shape}")
        if not fitting and tuple(arr.shape[1:]) != self.shape_:
            raise AttackError(
                f"{self.name}: rows of shape {arr.shape[1:]} but the attack was fitted on "
                f"rows of shape {self.shape_}"
            )
        return arr

    def _like(self, X: Any, arr: Array) -> Any:
        if isinstance(X, pd.DataFrame):
            if self.columns_ is None:
                return pd.DataFrame(arr, index=X.index, columns=X.columns)
            frame = pd.DataFrame(arr, index=X.index, columns=self.columns_)
            return frame[list(X.columns)]
        return arr

    def _model_input(self, arr: Array) -> Any:
        """Rows in the layout the model was given at fit time (a DataFrame if it was one)."""
        if self.columns_ is not None:
            return pd.DataFrame(arr, columns=self.columns_)
        return arr

    def _label_index(self, y: NDArray[Any]) -> NDArray[np.intp]:
        if self.classes_ is not None:
            idx = pd.Index(self.classes_).get_indexer(y)
            if (idx < 0).any():
                unknown = pd.unique(y[idx < 0])[:5]
                raise AttackError(
                    f"{self.name}: labels {list(unknown)} are not among the model's classes "
                    f"{list(self.classes_)[:10]}"
                )
            return np.asarray(idx, dtype=np.intp)
        if not np.issubdtype(y.dtype, np.integer) or (
            len(y) and (y.min() < 0 or y.max() >= self.n_classes_)
        ):
            raise AttackError(
                f"{self.name}: the model has no classes_, so y must hold class indices "
                f"0..{self.n_classes_ - 1}"
            )
        return y.astype(np.intp)


#: every registered attack class by name
ATTACKS: Registry[type[Attack]] = Registry("attack", error=AttackError, conflict=TypeError)
A = TypeVar("A", bound=type[Attack])


def register_attack(cls: A) -> A:
    """Class decorator: make ``cls`` available by its ``name``."""
    if not getattr(cls, "name", None) or getattr(cls, "access", None) not in (
        "black-box",
        "white-box",
    ):
        raise TypeError(f"{cls.__name__} needs a name and access 'black-box' or 'white-box'")
    _check_epsilons(cls.name, cls.default_epsilons)
    ATTACKS.add(cls.name, cls)
    return cls


def available_attacks(access: Access | None = None) -> list[str]:
    """Registered attack names (of one access kind), sorted."""
    return ATTACKS.names(None if access is None else lambda c: c.access == access)


def make_attack(name: str, **params: Any) -> Attack:
    """An instance of the attack registered as ``name`` (``epsilons=`` and its parameters)."""
    return ATTACKS.get(name)(**params)


# -- validation ----------------------------------------------------------------------------
def _severity(severity: int) -> int:
    try:
        return check_severity(severity)
    except PerturbationError as exc:
        raise AttackError(str(exc)) from None


def _check_epsilons(name: str, epsilons: Sequence[float]) -> Epsilons:
    if isinstance(epsilons, str | bytes) or not isinstance(epsilons, Sequence | np.ndarray):
        raise AttackError(f"{name}: epsilons must be a list of 5 numbers, got {epsilons!r}")
    values = list(epsilons)
    ok = len(values) == 5 and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in values
    )
    if ok:
        floats = [float(v) for v in values]
        ok = all(math.isfinite(v) and v > 0 for v in floats) and all(
            a < b for a, b in itertools.pairwise(floats)
        )
    if not ok:
        raise AttackError(
            f"{name}: epsilons must be 5 finite positive numbers, increasing with severity "
            f"(L∞ radius in feature standard deviations), got {values!r}"
        )
    e = [float(v) for v in values]
    return (e[0], e[1], e[2], e[3], e[4])


def int_param(name: str, p: dict[str, Any], key: str, low: int) -> None:
    """:class:`AttackError` unless parameter ``key`` of attack ``name`` is an int >= ``low``."""
    v = p[key]
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
        raise AttackError(f"{name}: {key} must be an integer >= {low}, got {v!r}")


def float_param(name: str, p: dict[str, Any], key: str, optional: bool = False) -> None:
    """:class:`AttackError` unless parameter ``key`` is a positive number (or ``None`` when
    ``optional``)."""
    v = p[key]
    if v is None and optional:
        return
    if (
        isinstance(v, bool)
        or not isinstance(v, int | float | np.integer | np.floating)
        or not (math.isfinite(float(v)) and v > 0)
    ):
        raise AttackError(f"{name}: {key} must be a positive number, got {v!r}")


def _adapt(model: Any) -> ModelAdapter:
    if isinstance(model, ModelAdapter):
        return model
    from mlrails.models.loading import as_adapter

    try:
        return as_adapter(model)
    except (TypeError, ValueError) as exc:
        raise AttackError(f"cannot attack this model: {exc}") from None
