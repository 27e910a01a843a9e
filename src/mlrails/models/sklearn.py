"""Adapter for scikit-learn estimators (and anything with their predict / predict_proba API)."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlrails.models.base import ModelAdapter, ModelInfo, Task
from mlrails.models.callable import check_task


class SklearnAdapter(ModelAdapter):
    """Wrap a fitted scikit-learn classifier (``predict_proba``) or regressor (``predict``).

    Also works for estimators of other libraries that follow the same API (XGBoost,
    LightGBM, CatBoost's scikit-learn wrappers). ``task=None`` means classification when the
    estimator has ``predict_proba``, otherwise regression.
    """

    def __init__(self, estimator: Any, task: Task | str | None = None) -> None:
        self.estimator = estimator
        if task is None:
            task = "classification" if hasattr(estimator, "predict_proba") else "regression"
        self.task = check_task(task)
        if self.task == "classification":
            if not hasattr(estimator, "predict_proba"):
                raise TypeError(
                    f"{type(estimator).__name__} has no predict_proba; "
                    "mlrails needs class probabilities for a classifier"
                )
            classes = getattr(estimator, "classes_", None)
            self.classes_ = None if classes is None else np.asarray(classes)
        elif not hasattr(estimator, "predict"):
            raise TypeError(f"{type(estimator).__name__} has no predict method")

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        if self.task != "classification":
            raise TypeError("predict_proba is only available for a classification model")
        return np.asarray(self.estimator.predict_proba(X), dtype=np.float64)

    def predict_values(self, X: Any) -> NDArray[np.float64]:
        if self.task != "regression":
            raise TypeError("predict_values is only available for a regression model")
        return np.asarray(self.estimator.predict(X), dtype=np.float64).reshape(-1)

    def info(self) -> ModelInfo:
        cls = type(self.estimator)
        root = cls.__module__.split(".")[0]
        if root == "sklearn":
            import sklearn

            framework, version = "scikit-learn", str(sklearn.__version__)
        else:
            module = sys.modules.get(root)
            framework, version = root, str(getattr(module, "__version__", ""))
        return ModelInfo(
            framework=framework,
            framework_version=version,
            model_class=f"{cls.__module__}.{cls.__name__}",
            task=self.task,
            n_classes=None if self.classes_ is None else len(self.classes_),
        )

    @property
    def native(self) -> Any:
        return self.estimator
