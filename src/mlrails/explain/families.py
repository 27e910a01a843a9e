"""Which SHAP algorithm fits a model: the tree and linear model families.

``shap.TreeExplainer`` serves scikit-learn's trees, forests and gradient boosting and the
XGBoost / LightGBM / CatBoost models; ``shap.LinearExplainer`` any model with ``coef_`` and
``intercept_``. A ``Pipeline`` itself is neither: its final estimator is (see
:mod:`mlrails.explain.pipelines`). Every other model gets a model-agnostic explainer.
"""

from __future__ import annotations

from typing import Any

from mlrails.explain.pipelines import is_pipeline

#: the scikit-learn estimators (and their subclasses) TreeExplainer reads
TREE_CLASS_NAMES = frozenset(
    {
        "DecisionTreeClassifier",
        "DecisionTreeRegressor",
        "ExtraTreeClassifier",
        "ExtraTreeRegressor",
        "RandomForestClassifier",
        "RandomForestRegressor",
        "ExtraTreesClassifier",
        "ExtraTreesRegressor",
        "GradientBoostingClassifier",
        "GradientBoostingRegressor",
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
    }
)
#: the libraries whose models TreeExplainer reads
TREE_LIBRARIES = ("xgboost", "lightgbm", "catboost")


def is_tree_model(model: Any) -> bool:
    """Whether ``shap.TreeExplainer`` reads ``model`` (a tree, forest or boosting model)."""
    if model is None or is_pipeline(model):
        return False
    cls = type(model)
    root = cls.__module__.split(".")[0]
    if root == "sklearn":
        return cls.__name__ in TREE_CLASS_NAMES or any(
            c.__name__ in TREE_CLASS_NAMES for c in cls.__mro__
        )
    return root in TREE_LIBRARIES


def is_linear_model(model: Any) -> bool:
    """Whether ``model`` is linear (``coef_`` and ``intercept_``), for ``shap.LinearExplainer``."""
    return (
        model is not None
        and not is_pipeline(model)
        and hasattr(model, "coef_")
        and hasattr(model, "intercept_")
    )
