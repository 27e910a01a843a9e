"""The one interface every model is seen through.

Adapters hide the framework (scikit-learn, a plain callable, PyTorch, ONNX): the guard and the
detectors only ever call :meth:`ModelAdapter.predict_proba` (classification) or
:meth:`ModelAdapter.predict_values` (regression) on a batch, in the layout the model expects.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class ModelInfo:
    """What is known about the wrapped model, written into the artifact manifest."""

    framework: str
    framework_version: str
    model_class: str
    task: Task
    n_classes: int | None = None


class ModelAdapter(ABC):
    """A trained model behind a uniform, vectorised interface.

    ``X`` passed to the adapter is what the caller passed to the guard, after validation:
    a pandas DataFrame for tables with named columns, otherwise a NumPy array.
    """

    task: Task
    #: class labels in the column order of :meth:`predict_proba` (classification only)
    classes_: NDArray[Any] | None = None

    @abstractmethod
    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        """Class probabilities, shape ``(n, n_classes)``; classification only."""

    @abstractmethod
    def predict_values(self, X: Any) -> NDArray[np.float64]:
        """Predicted values, shape ``(n,)``; regression only."""

    @abstractmethod
    def info(self) -> ModelInfo:
        """Framework, version and class of the wrapped model."""

    def predict(self, X: Any) -> NDArray[Any]:
        """Predicted labels (classification) or values (regression)."""
        if self.task == "classification":
            proba = self.predict_proba(X)
            classes = self.classes_ if self.classes_ is not None else np.arange(proba.shape[1])
            labels: NDArray[Any] = np.asarray(classes)[np.argmax(proba, axis=1)]
            return labels
        return self.predict_values(X)

    @property
    def native(self) -> Any:
        """The wrapped framework object (used by explainers that know its type)."""
        return None
