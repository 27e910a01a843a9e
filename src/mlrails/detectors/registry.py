"""Detectors by name: build one for a policy, or rebuild one from a saved state.

:data:`DETECTORS` holds every known detector class under its ``name``. The
out-of-distribution detectors are registered here (and listed in :data:`OOD_DETECTORS`);
other modules add theirs with :func:`register_detector` (usable as a class decorator).
Modules named in :data:`PLUGIN_MODULES` are imported on the first look-up of a name not yet
known, so their detectors register themselves even when nothing imported them yet.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, TypeVar

from mlrails._state import State
from mlrails.detectors.base import BaseDetector
from mlrails.detectors.ensemble import EnsembleDetector
from mlrails.detectors.iforest import IsolationForestDetector
from mlrails.detectors.knn import KNNDetector
from mlrails.detectors.mahalanobis import MahalanobisDetector
from mlrails.errors import ArtifactError

D = TypeVar("D", bound=type[BaseDetector])

#: every registered detector class by name (OOD and adversarial)
DETECTORS: dict[str, type[BaseDetector]] = {}

#: the out-of-distribution detectors by name
OOD_DETECTORS: dict[str, type[BaseDetector]] = {
    cls.name: cls
    for cls in (EnsembleDetector, KNNDetector, MahalanobisDetector, IsolationForestDetector)
}

#: modules that register further detectors when imported (missing ones are skipped)
PLUGIN_MODULES: tuple[str, ...] = ("mlrails.detectors.adversarial",)
_plugins_loaded = False


def register_detector(cls: D) -> D:
    """Add ``cls`` to :data:`DETECTORS` under ``cls.name``; returns ``cls`` (a decorator).

    Registering another class under a name already taken is an error; registering the same
    class again is a no-op.
    """
    if not (isinstance(cls, type) and issubclass(cls, BaseDetector)):
        raise TypeError(f"{cls!r} is not a BaseDetector subclass")
    name = cls.name
    if not name or name == BaseDetector.name:
        raise ValueError(f"{cls.__name__} must set a class attribute 'name'")
    current = DETECTORS.get(name)
    if current is not None and current is not cls:
        raise ValueError(f"detector name {name!r} is already registered to {current.__qualname__}")
    DETECTORS[name] = cls
    return cls


for _cls in OOD_DETECTORS.values():
    register_detector(_cls)


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for module in PLUGIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists but one of its imports is missing
                raise


def get_detector_class(name: str) -> type[BaseDetector]:
    """The class registered as ``name``; ``ValueError`` listing the known names otherwise."""
    if name not in DETECTORS:
        _load_plugins()
    try:
        return DETECTORS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown detector {name!r}; known detectors: {', '.join(sorted(DETECTORS))}"
        ) from None


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
