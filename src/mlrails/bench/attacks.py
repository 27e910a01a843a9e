"""Adversarial attacks for the robustness benchmark: the budget ε is the severity.

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

* **white-box** (``fgsm``, ``pgd``): our own vectorised PyTorch implementation, gradients of
  the cross-entropy of the true label through a :class:`~mlrails.models.torch.TorchAdapter`.
* **black-box** (``hopskipjump``, ``boundary``, ``zoo``): the Adversarial Robustness
  Toolbox's attacks (``pip install adversarial-robustness-toolbox``) on ``predict_proba`` only,
  so any classifier works. They are not budget-bound: each is run once per batch and seed in
  standardised space and its result projected into the ε-ball (coordinate-wise clipping of the
  displacement), which is how "ε = severity" is honoured; the unprojected result is cached so
  the five severities of one batch cost one attack. Only correctly classified rows are
  attacked; rows the attack cannot start from (no reference row of another class) come back
  unchanged, the others projected whether or not the projection still fools the model.

Add one::

    @register_attack
    class Noise(Attack):
        name = "noise"
        access = "black-box"
        def _delta(self, x, y, eps, seed):
            return np.random.default_rng(seed).uniform(-eps, eps, x.shape)
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.bench.perturbations import PerturbationError, check_severity
from mlrails.models.base import ModelAdapter

if TYPE_CHECKING:
    import torch

    from mlrails.models.torch import TorchAdapter

Access = Literal["black-box", "white-box"]
Array = NDArray[np.float64]
Epsilons = tuple[float, float, float, float, float]

#: standard deviations below this are treated as zero (constant feature → scale 1)
MIN_STD = 1e-12
#: reference rows kept by black-box attacks to find adversarial starting points
MAX_REFERENCE = 2000


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


_REGISTRY: dict[str, type[Attack]] = {}
A = TypeVar("A", bound=type[Attack])


def register_attack(cls: A) -> A:
    """Class decorator: make ``cls`` available by its ``name``."""
    if not getattr(cls, "name", None) or getattr(cls, "access", None) not in (
        "black-box",
        "white-box",
    ):
        raise TypeError(f"{cls.__name__} needs a name and access 'black-box' or 'white-box'")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f"attack {cls.name!r} is already registered")
    _check_epsilons(cls.name, cls.default_epsilons)
    _REGISTRY[cls.name] = cls
    return cls


def available_attacks(access: Access | None = None) -> list[str]:
    """Registered attack names (of one access kind), sorted."""
    return sorted(n for n, c in _REGISTRY.items() if access is None or c.access == access)


def make_attack(name: str, **params: Any) -> Attack:
    """An instance of the attack registered as ``name`` (``epsilons=`` and its parameters)."""
    cls = _REGISTRY.get(name)
    if cls is None:
        raise AttackError(f"unknown attack {name!r}; available: {', '.join(available_attacks())}")
    return cls(**params)


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


def _int_param(name: str, p: dict[str, Any], key: str, low: int) -> None:
    v = p[key]
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
        raise AttackError(f"{name}: {key} must be an integer >= {low}, got {v!r}")


def _float_param(name: str, p: dict[str, Any], key: str, optional: bool = False) -> None:
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


# -- white-box: FGSM and PGD in PyTorch ----------------------------------------------------
class _GradientAttack(Attack):
    """Shared gradient machinery: cross-entropy of the true label through the module."""

    access: ClassVar[Access] = "white-box"

    def _check_access(self, adapter: ModelAdapter) -> None:
        from mlrails.models.torch import TorchAdapter

        if not isinstance(adapter, TorchAdapter):
            raise AttackError(
                f"{self.name} needs a differentiable PyTorch model (a TorchAdapter); the model "
                f"is {adapter.info().model_class} — use a black-box attack: "
                + ", ".join(available_attacks("black-box"))
            )

    @property
    def _torch(self) -> TorchAdapter:
        adapter: TorchAdapter = self.adapter_  # type: ignore[assignment]
        return adapter

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Summed cross-entropy of the true labels (sum, so each row's gradient is its own)."""
        import torch
        import torch.nn.functional as F

        if out.ndim != 2:
            raise AttackError(
                f"{self.name}: a classifier module must return (n, K) outputs, got shape "
                f"{tuple(out.shape)}"
            )
        if self._torch.output == "logits":
            if out.shape[1] == 1:
                return F.binary_cross_entropy_with_logits(
                    out[:, 0], y.to(out.dtype), reduction="sum"
                )
            return F.cross_entropy(out, y, reduction="sum")
        tiny = torch.finfo(out.dtype).tiny
        if out.shape[1] == 1:
            p1 = out[:, 0].clamp(tiny, 1.0)
            p0 = (1.0 - out[:, 0]).clamp(tiny, 1.0)
            yf = y.to(out.dtype)
            return -(yf * torch.log(p1) + (1.0 - yf) * torch.log(p0)).sum()
        return F.nll_loss(torch.log(out.clamp_min(tiny)), y, reduction="sum")

    def _gradient(
        self, x0: torch.Tensor, scale: torch.Tensor, delta: torch.Tensor, y: torch.Tensor
    ) -> torch.Tensor:
        """Gradient of the loss w.r.t. the standardised displacement ``delta``."""
        import torch

        module = self._torch.module
        if module.training:
            module.eval()
        d = delta.detach().requires_grad_(True)
        with torch.enable_grad():
            out = module((x0 + d * scale).to(torch.float32))
            if isinstance(out, tuple | list):
                out = out[0]
            try:
                (grad,) = torch.autograd.grad(self._loss(out.float(), y), d)
            except RuntimeError as exc:
                raise AttackError(
                    f"{self.name}: the module's output is not differentiable w.r.t. its "
                    f"input ({exc})"
                ) from None
        return grad

    def _delta(self, x: Array, y: NDArray[np.intp], eps: float, seed: int) -> Array:
        import torch

        adapter = self._torch
        device = adapter.device
        low, high = self._limits(x, eps)
        start = np.clip(self._start(x.shape, eps, seed), low, high)
        scale = torch.from_numpy(self.scale_).to(device)
        out = np.empty_like(x)
        for lo in range(0, len(x), adapter.batch_size):
            rows = slice(lo, lo + adapter.batch_size)
            x0, d, lower, upper = (
                torch.from_numpy(a[rows]).to(device) for a in (x, start, low, high)
            )
            yt = torch.from_numpy(y[rows].astype(np.int64)).to(device)
            out[rows] = self._steps(x0, scale, d, yt, eps, (lower, upper)).detach().cpu().numpy()
        return out

    def _start(self, shape: tuple[int, ...], eps: float, seed: int) -> Array:
        """The starting displacement (zero; PGD: seeded uniform in the ball)."""
        return np.zeros(shape)

    @abstractmethod
    def _steps(
        self,
        x0: torch.Tensor,
        scale: torch.Tensor,
        delta: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        limits: tuple[torch.Tensor, torch.Tensor],
    ) -> torch.Tensor:
        """The final displacement of one chunk of rows, within ``limits`` (lower, upper)."""


@register_attack
class FGSM(_GradientAttack):
    """Fast gradient sign method (Goodfellow et al. 2015): one L∞ step of size ε along the
    sign of the loss gradient, ``x + eps * std * sign(∇x loss)``; deterministic."""

    name = "fgsm"

    def _steps(
        self,
        x0: torch.Tensor,
        scale: torch.Tensor,
        delta: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        limits: tuple[torch.Tensor, torch.Tensor],
    ) -> torch.Tensor:
        return (eps * self._gradient(x0, scale, delta, y).sign()).clamp(*limits)


@register_attack
class PGD(_GradientAttack):
    """Projected gradient descent (Madry et al. 2018), L∞, untargeted: ``steps`` signed
    gradient steps of ``step_size`` std units (default ``2.5 * eps / steps``), each followed by
    projection onto the ε-ball, from a random start drawn uniformly in the ball from ``seed``
    (``random_start=False``: from the clean row)."""

    name = "pgd"
    defaults: ClassVar[Mapping[str, Any]] = {"steps": 10, "step_size": None, "random_start": True}

    def _check_params(self, p: dict[str, Any]) -> None:
        _int_param(self.name, p, "steps", 1)
        _float_param(self.name, p, "step_size", optional=True)
        if not isinstance(p["random_start"], bool):
            raise AttackError(f"{self.name}: random_start must be True or False")

    def _start(self, shape: tuple[int, ...], eps: float, seed: int) -> Array:
        if not self._p["random_start"]:
            return np.zeros(shape)
        import torch

        gen = torch.Generator(device="cpu").manual_seed(seed)
        u = torch.rand(shape, generator=gen, dtype=torch.float64).numpy()
        return np.asarray((2.0 * u - 1.0) * eps, dtype=np.float64)

    def _steps(
        self,
        x0: torch.Tensor,
        scale: torch.Tensor,
        delta: torch.Tensor,
        y: torch.Tensor,
        eps: float,
        limits: tuple[torch.Tensor, torch.Tensor],
    ) -> torch.Tensor:
        steps = int(self._p["steps"])
        size = self._p["step_size"]
        alpha = 2.5 * eps / steps if size is None else float(size)
        for _ in range(steps):
            grad = self._gradient(x0, scale, delta, y)
            delta = (delta + alpha * grad.sign()).clamp(*limits)
        return delta


# -- black-box: the Adversarial Robustness Toolbox's decision- and score-based attacks ----
def _import_art() -> None:
    try:
        import art  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        raise AttackError(
            "black-box attacks need the Adversarial Robustness Toolbox; install it with "
            "`pip install adversarial-robustness-toolbox`"
        ) from None


@contextmanager
def _numpy_seed(seed: int) -> Iterator[None]:
    """Seed NumPy's global generator (ART draws from it) and restore its state afterwards."""
    state = np.random.get_state()
    np.random.seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
    try:
        yield
    finally:
        np.random.set_state(state)


#: unprojected attack results kept per fitted attack (one per test set × seed)
CACHE_SIZE = 8


@functools.cache
def _black_box_class() -> Any:
    """ART's ``BlackBoxClassifier`` with a floor on the rows per ``predict_fn`` call."""
    from art.estimators.classification import BlackBoxClassifier

    class _BlackBox(BlackBoxClassifier):  # type: ignore[misc]
        def __init__(self, *args: Any, min_batch: int, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.min_batch = min_batch

        def predict(self, x: NDArray[Any], batch_size: int = 128, **kwargs: Any) -> Any:
            return super().predict(x, batch_size=max(batch_size, self.min_batch), **kwargs)

    return _BlackBox


class _ArtAttack(Attack):
    """Run an ART attack on ``predict_proba`` in standardised space, then project.

    Only rows the model classifies correctly are attacked (an untargeted ART attack moves a
    row away from its *predicted* class; moving a misclassified row could only undo the
    error): rows already misclassified, and rows for which no adversarial start was found,
    come back unchanged. Others come back as the attack's output projected into the ε-ball,
    whether or not the projected row still fools the model. ART draws from NumPy's global
    generator, which is seeded from ``seed`` for the run and restored afterwards.
    """

    access: ClassVar[Access] = "black-box"
    #: whether the attack starts from an adversarial point (``x_adv_init``)
    needs_start: ClassVar[bool] = True

    def _check_access(self, adapter: ModelAdapter) -> None:
        _import_art()

    def _fit_model(self, ref: Array) -> None:
        if len(ref) > MAX_REFERENCE:
            keep = np.sort(np.random.default_rng(0).choice(len(ref), MAX_REFERENCE, replace=False))
            ref = ref[keep]
        ref = ref[np.isfinite(ref.reshape(len(ref), -1)).all(axis=1)]
        if len(ref) == 0:
            raise AttackError(f"{self.name}: no reference row without missing values")
        self.ref_z_ = self._standardise(ref)
        # classes of the rows exactly as ART will see them (float32 standardised)
        self.ref_pred_ = np.argmax(self._predict_z(self.ref_z_), axis=1)
        self._cache: dict[bytes, Array] = {}

    def _standardise(self, x: Array) -> NDArray[np.float32]:
        return np.asarray((x - self.center_) / self.scale_, dtype=np.float32)

    def _proba(self, x: Array) -> Array:
        return np.asarray(self.adapter_.predict_proba(self._model_input(x)), dtype=np.float64)

    def _predict_z(self, z: NDArray[Any]) -> Array:
        """``predict_proba`` of standardised rows (what ART sees)."""
        x = np.asarray(z, dtype=np.float64).reshape((-1, *self.shape_)) * self.scale_
        return self._proba(x + self.center_)

    def _delta(self, x: Array, y: NDArray[np.intp], eps: float, seed: int) -> Array:
        key = hashlib.blake2b(
            x.tobytes() + y.tobytes() + repr((x.shape, seed)).encode(), digest_size=16
        ).digest()
        if key in self._cache:
            return self._cache[key]
        delta = np.zeros_like(x)
        finite = np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        pred = np.full(len(x), -1)
        if finite.any():
            pred[finite] = np.argmax(self._proba(x[finite]), axis=1)
        todo = np.flatnonzero(finite & (pred == y))
        if len(todo):
            z = self._standardise(x[todo])
            # ART predicts the float32 standardised rows: skip the (rare) row whose class
            # that rounding changes, lest ART fall back to its own unseeded start
            same = np.argmax(self._predict_z(z), axis=1) == y[todo]
            todo, z = todo[same], z[same]
            start: NDArray[np.float32] | None = None
            if self.needs_start and len(todo):
                start, found = self._starts(z, pred[todo])
                todo, z, start = todo[found], z[found], start[found]
            if len(todo):
                lo = float(min(self.ref_z_.min(), z.min()))
                hi = float(max(self.ref_z_.max(), z.max()))
                with _numpy_seed(seed):
                    z_adv = self._run(z, y[todo], start, (lo, hi))
                step = np.asarray(z_adv, dtype=np.float64) - z
                delta[todo] = np.where(np.isfinite(step), step, 0.0)
        if len(self._cache) >= CACHE_SIZE:  # oldest out: seeds × repeats of one grid
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = delta
        return delta

    def _starts(
        self, z: NDArray[np.float32], pred: NDArray[Any]
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """For each row, the nearest (L∞) reference row the model assigns another class.

        Deterministic, and a far better start on tabular data than ART's own unseeded
        uniform draws over the whole value range.
        """
        ref = self.ref_z_.reshape(len(self.ref_z_), -1)
        flat = z.reshape(len(z), -1)
        best = np.zeros(len(z), dtype=np.intp)
        found = np.zeros(len(z), dtype=bool)
        chunk = max(1, 4_000_000 // max(1, ref.size))
        for lo in range(0, len(z), chunk):
            part = flat[lo : lo + chunk]
            dist = np.abs(part[:, None, :] - ref[None, :, :]).max(axis=2)
            dist[self.ref_pred_[None, :] == pred[lo : lo + chunk, None]] = np.inf
            best[lo : lo + chunk] = np.argmin(dist, axis=1)
            found[lo : lo + chunk] = np.isfinite(dist.min(axis=1))
        return self.ref_z_[best], found

    def _classifier(self, clip: tuple[float, float], batch_size: int = 4096) -> Any:
        """ART's view of the model: ``predict_proba`` on standardised rows, at least
        ``batch_size`` rows per call (ART's ZOO would otherwise call it row by row)."""
        return _black_box_class()(
            self._predict_z, self.shape_, self.n_classes_, clip_values=clip, min_batch=batch_size
        )

    @abstractmethod
    def _run(
        self,
        z: NDArray[np.float32],
        y: NDArray[np.intp],
        start: NDArray[np.float32] | None,
        clip: tuple[float, float],
    ) -> NDArray[Any]:
        """The ART attack's output for standardised rows ``z`` (true class indices ``y``)."""


@register_attack
class HopSkipJump(_ArtAttack):
    """HopSkipJump (Chen et al. 2020), decision-based, L∞, untargeted, via ART.

    Defaults are small for tabular benchmarks: ``max_iter=5``, ``max_eval=1000``,
    ``init_eval=100``, and a binary-search tolerance ``theta`` of ``min(0.01, 0.3 / d)`` std
    units (ART's own ``0.01 / d`` halves the speed for no gain once the result is projected
    onto the ε-ball). On the breast-cancer test set (171 rows × 30 features) with a 50-tree
    random forest that is about 0.2 s per row on two cores, once for all five severities.
    """

    name = "hopskipjump"
    defaults: ClassVar[Mapping[str, Any]] = {
        "max_iter": 5,
        "max_eval": 1000,
        "init_eval": 100,
        "theta": None,
        "batch_size": 1024,
    }

    def _check_params(self, p: dict[str, Any]) -> None:
        for key in ("max_iter", "max_eval", "init_eval", "batch_size"):
            _int_param(self.name, p, key, 1)
        _float_param(self.name, p, "theta", optional=True)
        if p["init_eval"] > p["max_eval"]:
            raise AttackError(f"{self.name}: init_eval must be <= max_eval")

    def _run(
        self,
        z: NDArray[np.float32],
        y: NDArray[np.intp],
        start: NDArray[np.float32] | None,
        clip: tuple[float, float],
    ) -> NDArray[Any]:
        from art.attacks.evasion import HopSkipJump as ArtHopSkipJump

        p = self._p
        attack = ArtHopSkipJump(
            self._classifier(clip, p["batch_size"]),
            batch_size=p["batch_size"],
            targeted=False,
            norm=np.inf,
            max_iter=p["max_iter"],
            max_eval=p["max_eval"],
            init_eval=p["init_eval"],
            verbose=False,
        )
        d = int(np.prod(self.shape_))
        attack.theta = float(p["theta"]) if p["theta"] is not None else min(0.01, 0.3 / d)
        return np.asarray(attack.generate(z, x_adv_init=None if start is None else start.copy()))


@register_attack
class Boundary(_ArtAttack):
    """Boundary attack (Brendel et al. 2018), decision-based, untargeted, via ART.

    A random walk along the decision boundary towards the clean row from an adversarial
    start; small defaults (``max_iter=20``, ``num_trial=5``, ``sample_size=10``) keep it to
    a fraction of a second per row on tabular data. Its steps are L2, so the budget is met by
    projection only.
    """

    name = "boundary"
    defaults: ClassVar[Mapping[str, Any]] = {
        "max_iter": 20,
        "num_trial": 5,
        "sample_size": 10,
        "delta": 0.01,
        "epsilon": 0.05,
        "step_adapt": 0.667,
        "batch_size": 1024,
    }

    def _check_params(self, p: dict[str, Any]) -> None:
        for key in ("max_iter", "num_trial", "sample_size", "batch_size"):
            _int_param(self.name, p, key, 1)
        for key in ("delta", "epsilon", "step_adapt"):
            _float_param(self.name, p, key)
        if p["step_adapt"] >= 1:
            raise AttackError(f"{self.name}: step_adapt must be in (0, 1)")

    def _run(
        self,
        z: NDArray[np.float32],
        y: NDArray[np.intp],
        start: NDArray[np.float32] | None,
        clip: tuple[float, float],
    ) -> NDArray[Any]:
        from art.attacks.evasion import BoundaryAttack

        p = self._p
        attack = BoundaryAttack(
            self._classifier(clip, p["batch_size"]),
            batch_size=p["batch_size"],
            targeted=False,
            delta=p["delta"],
            epsilon=p["epsilon"],
            step_adapt=p["step_adapt"],
            max_iter=p["max_iter"],
            num_trial=p["num_trial"],
            sample_size=p["sample_size"],
            verbose=False,
        )
        return np.asarray(attack.generate(z, x_adv_init=None if start is None else start.copy()))


@register_attack
class Zoo(_ArtAttack):
    """ZOO (Chen et al. 2017): Carlini–Wagner's attack with gradients estimated by
    finite differences of ``predict_proba`` (coordinate-wise, ``nb_parallel`` coordinates per
    row per iteration, in one model call), via ART; rows are attacked one by one.

    It needs scores that change within ``variable_h`` std units, so it is weak on tree
    ensembles (piecewise-constant scores) and meant for smooth models behind an API. Defaults
    (``max_iter=20``, ``learning_rate=0.3``, ``initial_const=10``) are set for the budget
    scale of std units; its distance is L2, so the budget is met by projection.
    """

    name = "zoo"
    needs_start = False
    defaults: ClassVar[Mapping[str, Any]] = {
        "max_iter": 20,
        "learning_rate": 0.3,
        "initial_const": 10.0,
        "binary_search_steps": 1,
        "confidence": 0.0,
        "nb_parallel": 32,
        "variable_h": 0.01,
    }

    def _check_params(self, p: dict[str, Any]) -> None:
        for key in ("max_iter", "binary_search_steps", "nb_parallel"):
            _int_param(self.name, p, key, 1)
        for key in ("learning_rate", "initial_const", "variable_h"):
            _float_param(self.name, p, key)
        c = p["confidence"]
        if isinstance(c, bool) or not isinstance(c, int | float) or not c >= 0:
            raise AttackError(f"{self.name}: confidence must be a number >= 0, got {c!r}")

    def _run(
        self,
        z: NDArray[np.float32],
        y: NDArray[np.intp],
        start: NDArray[np.float32] | None,
        clip: tuple[float, float],
    ) -> NDArray[Any]:
        from art.attacks.evasion import ZooAttack

        p = self._p
        d = int(np.prod(self.shape_))
        # one row at a time (ART's ZOO refuses batches of feature vectors and mis-sizes its
        # Adam state for batches of images); the coordinate probes of a row are one call
        attack = ZooAttack(
            self._classifier(clip),
            confidence=float(p["confidence"]),
            targeted=False,
            learning_rate=float(p["learning_rate"]),
            max_iter=p["max_iter"],
            binary_search_steps=p["binary_search_steps"],
            initial_const=float(p["initial_const"]),
            abort_early=True,
            use_resize=False,
            use_importance=False,
            nb_parallel=min(int(p["nb_parallel"]), d),
            batch_size=1,
            variable_h=float(p["variable_h"]),
            verbose=False,
        )
        one_hot = np.eye(self.n_classes_, dtype=np.float32)[y]
        return np.asarray(attack.generate(z, y=one_hot))


__all__ = [
    "Attack",
    "AttackError",
    "available_attacks",
    "make_attack",
    "register_attack",
]
