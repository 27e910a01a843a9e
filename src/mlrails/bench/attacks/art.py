"""Black-box attacks: the Adversarial Robustness Toolbox's ``hopskipjump``, ``boundary`` and
``zoo`` on ``predict_proba`` only, so any classifier works.

ART is an optional dependency (``pip install adversarial-robustness-toolbox``), imported only
when an attack is fitted or run. The attacks are not budget-bound: each is run once per batch
and seed in standardised space and its result projected into the ε-ball (coordinate-wise
clipping of the displacement), which is how "ε = severity" is honoured; the unprojected result
is cached so the five severities of one batch cost one attack. Only correctly classified rows
are attacked; rows the attack cannot start from (no reference row of another class) come back
unchanged, the others projected whether or not the projection still fools the model.
"""

from __future__ import annotations

import functools
import hashlib
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from mlrails.bench.attacks.base import (
    Access,
    Array,
    Attack,
    AttackError,
    float_param,
    int_param,
    register_attack,
)
from mlrails.models.base import ModelAdapter

#: reference rows kept by black-box attacks to find adversarial starting points
MAX_REFERENCE = 2000


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
            int_param(self.name, p, key, 1)
        float_param(self.name, p, "theta", optional=True)
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
            int_param(self.name, p, key, 1)
        for key in ("delta", "epsilon", "step_adapt"):
            float_param(self.name, p, key)
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
            int_param(self.name, p, key, 1)
        for key in ("learning_rate", "initial_const", "variable_h"):
            float_param(self.name, p, key)
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
