"""mlrails: put trained ML models on rails in production.

>>> import mlrails
>>> rails = mlrails.fit(model, X_train, y_train)   # doctest: +SKIP
>>> verdicts = rails.check(X)                      # doctest: +SKIP
>>> rails.save("rails/")                           # doctest: +SKIP
>>> rails = mlrails.load("rails/", model=model)    # doctest: +SKIP

Sub-packages are imported lazily, so ``import mlrails`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlrails.errors import (
    ArtifactError,
    DataError,
    MlrailsError,
    ModelLoadError,
    PolicyError,
)

if TYPE_CHECKING:
    from mlrails.guard import Policy, Rails, Verdict, fit

from mlrails.version import __version__

_LAZY = {
    "fit": "mlrails.guard",
    "Policy": "mlrails.guard",
    "Rails": "mlrails.guard",
    "Verdict": "mlrails.guard",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mlrails' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API (lazy names included; typing helpers and imports left out)."""
    return sorted(__all__)


def load(
    path: str | Path,
    model: Any = None,
    *,
    task: str | None = None,
    check_model: bool = True,
    trust: bool = False,
    public_key: str | Path | bytes | None = None,
) -> Rails:
    """Load a saved artifact around ``model``; verifies hashes and that the model matches.

    ``model=None`` loads the model bundled in the artifact (``.skops`` / ``.onnx``; a
    non-allowlisted type is refused unless ``trust=True``). ``public_key`` (an Ed25519
    public key PEM or its path) requires the artifact to be signed by the matching key.
    """
    from mlrails.artifact import load_artifact

    return load_artifact(
        path, model, task=task, check_model=check_model, trust=trust, public_key=public_key
    )


__all__ = [
    "ArtifactError",
    "DataError",
    "MlrailsError",
    "ModelLoadError",
    "Policy",
    "PolicyError",
    "Rails",
    "Verdict",
    "__version__",
    "fit",
    "load",
]
