"""Adapter for scikit-learn estimators (and anything with their predict / predict_proba API)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlrails.models.base import ModelAdapter, ModelInfo, Task


class SklearnAdapter(ModelAdapter):
    """Wrap a fitted scikit-learn classifier (``predict_proba``) or regressor (``predict``)."""

    def __init__(self, estimator: Any, task: Task | None = None) -> None:
        self.estimator = estimator
        if task is None:
            task = "classification" if hasattr(estimator, "predict_proba") else "regression"
        self.task = task
        if task == "classification":
            if not hasattr(estimator, "predict_proba"):
                raise TypeError(
                    f"{type(estimator).__name__} has no predict_proba; "
                    "mlrails needs class probabilities for a classifier"
                )
            self.classes_ = np.asarray(getattr(estimator, "classes_", None))

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        return np.asarray(self.estimator.predict_proba(X), dtype=np.float64)

    def predict_values(self, X: Any) -> NDArray[np.float64]:
        return np.asarray(self.estimator.predict(X), dtype=np.float64).reshape(-1)

    def info(self) -> ModelInfo:
        import sklearn

        return ModelInfo(
            framework="scikit-learn",
            framework_version=sklearn.__version__,
            model_class=f"{type(self.estimator).__module__}.{type(self.estimator).__name__}",
            task=self.task,
            n_classes=None if self.classes_ is None else len(self.classes_),
        )

    @property
    def native(self) -> Any:
        return self.estimator
