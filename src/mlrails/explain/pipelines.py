"""Pipelines: the final estimator SHAP explains, and the original feature of each column.

A ``Pipeline`` is explained on its last step over the features its earlier steps produce;
:func:`column_groups` maps those transformed columns back to the input columns so that
their contributions can be summed onto the feature the caller sent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray


def is_pipeline(model: Any) -> bool:
    """Whether ``model`` is a scikit-learn ``Pipeline`` (or anything with ``steps``)."""
    return type(model).__name__ == "Pipeline" or hasattr(model, "steps")


def split_pipeline(model: Any) -> tuple[Any, Any]:
    """``(final estimator, the steps before it)`` of a Pipeline, else ``(model, None)``."""
    steps = getattr(model, "steps", None) if is_pipeline(model) else None
    if not steps:
        return model, None
    return steps[-1][1], (model[:-1] if len(steps) > 1 else None)


def dense(Z: Any) -> NDArray[np.float64]:
    """A transformer's output (sparse or not) as a dense float matrix."""
    if sp.issparse(Z):
        Z = Z.toarray()
    return np.asarray(Z, dtype=np.float64)


def column_groups(transformer: Any, n_in: int) -> NDArray[np.intp] | None:
    """For each output column of a fitted transformer, the input column it derives from.

    Handles ``ColumnTransformer`` (its ``output_indices_`` and input columns per transformer),
    nested ``Pipeline`` steps, ``"passthrough"`` / ``"drop"``, and any transformer whose
    ``get_feature_names_out`` names each output after one input (``"city_paris"`` from
    ``city``, ``"age"`` from ``age``, ``"missingindicator_age"``). None when some output column
    cannot be traced to exactly one input (PCA, polynomial features, a function transformer).
    """
    try:
        return _groups(transformer, n_in)
    except Exception:
        return None


def _groups(trans: Any, n_in: int) -> NDArray[np.intp] | None:
    if trans is None or (isinstance(trans, str) and trans == "passthrough"):
        return np.arange(n_in, dtype=np.intp)
    if isinstance(trans, str) and trans == "drop":
        return np.zeros(0, dtype=np.intp)
    if is_pipeline(trans):
        current = np.arange(n_in, dtype=np.intp)
        for _, step in trans.steps:
            sub = _groups(step, len(current))
            if sub is None:
                return None
            current = current[sub]
        return current
    if hasattr(trans, "output_indices_") and hasattr(trans, "_transformer_to_input_indices"):
        width = max((sl.stop for sl in trans.output_indices_.values()), default=0)
        out = np.full(width, -1, dtype=np.intp)
        for name, sl in trans.output_indices_.items():
            if sl.stop <= sl.start:
                continue
            inputs = np.asarray(trans._transformer_to_input_indices[name], dtype=np.intp)
            sub = _groups(trans.named_transformers_[name], len(inputs))
            if sub is None or len(sub) != sl.stop - sl.start:
                return None
            out[sl] = inputs[sub]
        return None if (out < 0).any() else out
    names_in = getattr(trans, "feature_names_in_", None)
    in_names = (
        [str(c) for c in names_in] if names_in is not None else [f"x{i}" for i in range(n_in)]
    )
    if len(in_names) != n_in:
        return None
    out_names = [str(c) for c in trans.get_feature_names_out()]
    if n_in == 1:
        return np.zeros(len(out_names), dtype=np.intp)
    position = {name: i for i, name in enumerate(in_names)}
    result = np.empty(len(out_names), dtype=np.intp)
    for o, name in enumerate(out_names):
        if name in position:
            result[o] = position[name]
            continue
        hits = [
            i
            for i, nm in enumerate(in_names)
            if name.startswith(nm + "_") or name.endswith("_" + nm)
        ]
        if not hits:
            return None
        longest = max(len(in_names[i]) for i in hits)
        best = [i for i in hits if len(in_names[i]) == longest]
        if len(best) != 1:
            return None
        result[o] = best[0]
    return result
