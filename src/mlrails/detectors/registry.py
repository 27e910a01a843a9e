"""Detectors by name: build one for a policy, or rebuild one from a saved state.

:data:`DETECTORS` holds every known detector class under its ``name``. The
out-of-distribution detectors are registered here (and listed in :data:`OOD_DETECTORS`);
other modules add theirs with :func:`register_detector` (usable as a class decorator).
Modules named in :data:`PLUGIN_MODULES` are imported on the first look-up of a name not yet
known, so their detectors register themselves even when nothing imported them yet.
"""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from mlrails._state import State
from mlrails.detectors.base import BaseDetector
from mlrails.detectors.ensemble import EnsembleDetector
from mlrails.detectors.iforest import IsolationForestDetector
from mlrails.detectors.knn import KNNDetector
from mlrails.detectors.mahalanobis import MahalanobisDetector
from mlrails.errors import ArtifactError
from mlrails.registry import Registry

D = TypeVar("D", bound=type[BaseDetector])

#: modules that register further detectors when imported (missing ones are skipped)
PLUGIN_MODULES: tuple[str, ...] = ("mlrails.detectors.adversarial",)

#: every registered detector class by name (OOD and adversarial)
DETECTORS: Registry[type[BaseDetector]] = Registry("detector", plugins=PLUGIN_MODULES)

#: the out-of-distribution detectors by name
OOD_DETECTORS: dict[str, type[BaseDetector]] = {
    cls.name: cls
    for cls in (EnsembleDetector, KNNDetector, MahalanobisDetector, IsolationForestDetector)
}


def register_detector(cls: D) -> D:
    """Add ``cls`` to :data:`DETECTORS` under ``cls.name``; returns ``cls`` (a decorator).

    Registering another class under a name already taken is an error; registering the same
    class again is a no-op.
    """
    if not (isinstance(cls, type) and issubclass(cls, BaseDetector)):
        raise TypeError(f"{cls!r} is not a BaseDetector subclass")
    if not cls.name or cls.name == BaseDetector.name:
        raise ValueError(f"{cls.__name__} must set a class attribute 'name'")
    return DETECTORS.register(cls)


for _cls in OOD_DETECTORS.values():
    register_detector(_cls)


def get_detector_class(name: str) -> type[BaseDetector]:
    """The class registered as ``name``; ``ValueError`` listing the known names otherwise."""
    return DETECTORS.get(name)


def make_detector(name: str, **params: Any) -> BaseDetector:
    """An unfitted detector ``name`` with constructor ``params``.

    Raises ``ValueError`` naming the known detectors when ``name`` is unknown.
    """
    return get_detector_class(name)(**params)


def make_seeded_detector(name: str, seed: int, **params: Any) -> BaseDetector:
    """Like :func:`make_detector`, passing ``random_state=seed`` to detectors that take one."""
    cls = get_detector_class(name)
    if "random_state" in inspect.signature(cls.__init__).parameters:
        params.setdefault("random_state", seed)
    return cls(**params)


def detector_from_state(state: State, **runtime: Any) -> BaseDetector:
    """Rebuild the fitted detector saved in ``state`` (dispatching on its ``detector`` name).

    ``runtime`` supplies objects that are not saved, such as the model an adversarial
    detector needs. An unknown name is an :class:`~mlrails.errors.ArtifactError`.
    """
    name = state.meta.get("detector")
    try:
        cls = get_detector_class(str(name))
    except ValueError as exc:
        raise ArtifactError(f"saved state: {exc}") from None
    return cls.from_state(state, **runtime)
