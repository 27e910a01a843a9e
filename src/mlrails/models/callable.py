"""Adapter for a plain Python callable, plus the output checks shared by all adapters.

A callable returns class probabilities (classification) or values (regression) for a batch.
Its output is validated on every call: the guard relies on probabilities being a proper
distribution per row, and a silent mistake here (logits, a 1-D positive-class column, a
transposed array) would corrupt every downstream decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.models.base import ModelAdapter, ModelInfo, Task

InputKind = Literal["array", "frame"]

#: tolerance on the row sums of probabilities computed in float64
PROBA_ATOL = 1e-6
#: tolerance for models that compute in float32 (ONNX, PyTorch)
PROBA_ATOL_FLOAT32 = 1e-4


def check_task(task: str | None) -> Task:
    """Validate ``task`` and return it typed; ``None`` is an error here."""
    if task == "classification":
        return "classification"
    if task == "regression":
        return "regression"
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")


def n_rows(X: Any) -> int:
    """Number of rows of a batch (DataFrame, array or sequence of rows)."""
    if isinstance(X, pd.DataFrame | pd.Series):
        return len(X)
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    return len(X)


def check_probabilities(
    proba: Any,
    n: int,
    n_classes: int | None = None,
    *,
    atol: float = PROBA_ATOL,
    source: str = "model",
) -> NDArray[np.float64]:
    """Return ``proba`` as a float64 ``(n, K)`` array, or raise ``ValueError`` saying what is wrong.

    Checks: 2-D with one row per input row (and ``n_classes`` columns when known), finite,
    non-negative, and every row summing to 1 within ``atol``.
    """
    try:
        arr = np.asarray(proba, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source} returned a non-numeric array ({exc})") from None
    if arr.ndim != 2:
        hint = " (for a binary classifier return both columns, [1 - p, p])" if arr.ndim == 1 else ""
        raise ValueError(
            f"{source} must return probabilities of shape (n_rows, n_classes), got shape "
            f"{arr.shape}{hint}"
        )
    if arr.shape[0] != n:
        raise ValueError(f"{source} returned {arr.shape[0]} rows of probabilities for {n} inputs")
    if n_classes is not None and arr.shape[1] != n_classes:
        raise ValueError(
            f"{source} returned {arr.shape[1]} probability columns for {n_classes} classes"
        )
    if arr.shape[1] < 2:
        raise ValueError(
            f"{source} returned {arr.shape[1]} probability column(s); a classifier needs at least 2"
        )
    if arr.size == 0:
        return arr
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{source} returned non-finite probabilities (NaN or inf)")
    if arr.min() < 0.0:
        raise ValueError(
            f"{source} returned negative probabilities (min {arr.min():.3g}); "
            "are these logits or scores rather than probabilities?"
        )
    sums = arr.sum(axis=1)
    worst = float(np.max(np.abs(sums - 1.0)))
    if worst > atol:
        raise ValueError(
            f"{source} returned rows that do not sum to 1 (off by up to {worst:.3g}); "
            "are these logits or scores rather than probabilities?"
        )
    return arr


def check_values(values: Any, n: int, *, source: str = "model") -> NDArray[np.float64]:
    """Return regression output as a float64 ``(n,)`` array, accepting ``(n,)`` or ``(n, 1)``."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{source} returned a non-numeric array ({exc})") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"{source} must return one value per row, shape (n_rows,), got shape {arr.shape}"
        )
    if arr.shape[0] != n:
        raise ValueError(f"{source} returned {arr.shape[0]} values for {n} inputs")
    return arr


class CallableAdapter(ModelAdapter):
    """Wrap any callable ``fn(X)`` returning probabilities or values.

    ``input="array"`` passes a NumPy array (a DataFrame is converted with ``to_numpy()``);
    ``input="frame"`` passes a DataFrame (an array is wrapped in one with columns 0..d-1).
    For classification ``fn`` must return ``(n, K)`` probabilities (``K = len(classes)`` when
    ``classes`` is given): non-negative rows summing to 1 within 1e-6. Anything else raises a
    ``ValueError`` naming the problem.
    """

    def __init__(
        self,
        fn: Callable[[Any], Any],
        task: Task | str,
        classes: Sequence[Any] | NDArray[Any] | None = None,
        input: InputKind = "array",
    ) -> None:
        if not callable(fn):
            raise TypeError(f"expected a callable, got {type(fn).__name__}")
        if input not in ("array", "frame"):
            raise ValueError(f"input must be 'array' or 'frame', got {input!r}")
        self.fn = fn
        self.task = check_task(task)
        self.input = input
        if classes is not None:
            if self.task != "classification":
                raise ValueError("classes only apply to a classification model")
            self.classes_ = np.asarray(classes)
            if self.classes_.ndim != 1 or len(self.classes_) < 2:
                raise ValueError("classes must be a 1-D sequence of at least two labels")

    def _prepare(self, X: Any) -> Any:
        if self.input == "frame":
            return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X))
        if isinstance(X, pd.DataFrame):
            return X.to_numpy()
        return np.asarray(X)

    def _source(self) -> str:
        return f"callable {getattr(self.fn, '__qualname__', type(self.fn).__name__)}"

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        if self.task != "classification":
            raise TypeError("predict_proba is only available for a classification model")
        n_classes = None if self.classes_ is None else len(self.classes_)
        out = self.fn(self._prepare(X))
        return check_probabilities(out, n_rows(X), n_classes, source=self._source())

    def predict_values(self, X: Any) -> NDArray[np.float64]:
        if self.task != "regression":
            raise TypeError("predict_values is only available for a regression model")
        return check_values(self.fn(self._prepare(X)), n_rows(X), source=self._source())

    def info(self) -> ModelInfo:
        fn_type = type(self.fn)
        name = getattr(self.fn, "__qualname__", fn_type.__name__)
        module = getattr(self.fn, "__module__", None) or fn_type.__module__
        return ModelInfo(
            framework="callable",
            framework_version="",
            model_class=f"{module}.{name}",
            task=self.task,
            n_classes=None if self.classes_ is None else len(self.classes_),
        )

    @property
    def native(self) -> Any:
        return self.fn
