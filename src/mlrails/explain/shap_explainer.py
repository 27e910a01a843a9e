"""SHAP explanations of single predictions, of the output the rails serve.

:class:`Explainer` picks the SHAP algorithm from the wrapped model:

``tree``
    ``shap.TreeExplainer`` (exact path-dependent algorithm, ``feature_perturbation=
    "tree_path_dependent"``) for scikit-learn decision trees, forests and gradient boosting
    (and XGBoost / LightGBM / CatBoost models). A ``Pipeline`` whose last step is such a
    model is explained the same way on the final estimator over the transformed features;
    the contributions of the columns each original feature produced (a one-hot group, a
    scaled column) are summed back onto that feature (see :func:`column_groups`). This is
    exact for the tree part: the sum over features still equals the model output.
``linear``
    ``shap.LinearExplainer`` with an independent masker on the background sample, for linear
    models (``coef_`` / ``intercept_``), used directly or as the last step of a ``Pipeline``
    (on the transformed features, grouped back as above): contribution of feature ``j`` is
    ``coef_j * (x_j - mean_background_j)`` in margin space (log-odds for a binary logistic
    regression) for classifiers and in value space for regressors.
``exact`` / ``permutation``
    model-agnostic: exact Shapley values (``shap.ExactExplainer``, up to
    :data:`EXACT_MAX_FEATURES` features) or antithetic permutation sampling
    (``shap.PermutationExplainer``, :data:`PERMUTATION_MAX_EVALS` evaluations per row) with
    an independent masker on the background sample, on the model's probabilities *after the
    rails' calibrator* (the probabilities verdicts serve) or ``predict_values``.
    Non-numeric columns are integer-coded for SHAP and decoded back before the model sees them.

Which output is explained (``Explanation.explains``), for classification:

* a model whose explained margin is the log-odds of its probabilities (checked on the
  background: ``sigmoid``/``softmax`` of the explained output equals ``predict_proba``), under
  temperature scaling (or no calibration): the *calibrated* log-odds. Temperature scaling
  divides the logits by ``T``, and Shapley values are linear, so values and base value are
  divided by ``T`` exactly; ``sigmoid(base + sum)`` is then the served probability (binary;
  for more classes the explained logit's softmax over all classes is);
* the model-agnostic explainers: the calibrated probability itself;
* otherwise (a forest's probability under calibration, any model under isotonic calibration,
  which is not linear in the logits): the *uncalibrated* model output, labelled so.

For classification the predicted class of each row is explained (or ``predicted_idx``).
In every case ``base_value + sum(all contributions) == Explanation.output``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.special import expit, softmax

from mlrails.models.base import ModelAdapter

#: rows of background data kept (a random sample when more are given)
MAX_BACKGROUND = 100
#: the model-agnostic explainer is exact (2**d coalitions) up to this many features
EXACT_MAX_FEATURES = 8
#: model evaluations (coalitions) per row for the permutation explainer
PERMUTATION_MAX_EVALS = 500
#: background rows on which a specialised explainer's output is checked against the model
CHECK_ROWS = 20
#: tolerance of that check (probabilities)
CHECK_TOL = 1e-6

_TREE_CLASS_NAMES = frozenset(
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
_TREE_LIBRARIES = ("xgboost", "lightgbm", "catboost")


# -- results ---------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A JSON-friendly Python scalar for a NumPy / pandas scalar."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


@dataclass(frozen=True)
class FeatureContribution:
    """One feature's SHAP value for one row: its input ``value`` and ``contribution``."""

    feature: str
    value: Any
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "value": _plain(self.value),
            "contribution": float(self.contribution),
        }


@dataclass(frozen=True)
class Explanation:
    """SHAP explanation of one prediction.

    ``contributions`` holds the ``top_k`` features by ``|contribution|`` (descending);
    ``remainder`` is the summed contribution of the features left out, so that
    ``base_value + sum(c.contribution) + remainder == output``, the model output in
    ``output_space`` (``"probability"``, ``"margin"`` i.e. log-odds / logit, or ``"value"``
    for regression). ``explains`` says in words which output that is (e.g. ``"calibrated
    log-odds of class 'malignant'"``) and ``served`` whether it is (a link of) the
    probability or value the verdict serves. ``probability``: the probability of the explained class
    that ``output`` stands for (``sigmoid(output)`` for binary log-odds), None when ``output`` is
    not one the verdict serves. ``class_index`` / ``class_label``: the explained class.
    """

    method: str
    base_value: float
    contributions: list[FeatureContribution]
    output: float = float("nan")
    output_space: str = "value"
    class_index: int | None = None
    class_label: Any = None
    remainder: float = 0.0
    n_features: int = 0
    explains: str = ""
    served: bool = False
    probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "explains": self.explains,
            "served": self.served,
            "base_value": float(self.base_value),
            "output": float(self.output),
            "output_space": self.output_space,
            "probability": None if self.probability is None else float(self.probability),
            "class_index": self.class_index,
            "class_label": _plain(self.class_label),
            "contributions": [c.to_dict() for c in self.contributions],
            "remainder": float(self.remainder),
            "n_features": self.n_features,
        }


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


# -- tabular coding for the model-agnostic explainers ------------------------------------------
class _TabularCodec:
    """Map rows to a float matrix SHAP can mask, and masked matrices back to model input.

    Numeric columns pass through; any other column (strings, categoricals, objects, dates) is
    replaced by integer codes into a per-column list of the values seen so far.
    """

    def __init__(self, background: Any) -> None:
        self.is_frame = isinstance(background, pd.DataFrame)
        self.categories: dict[int, list[Any]] = {}
        self._lookup: dict[int, dict[Any, int]] = {}
        if self.is_frame:
            frame: pd.DataFrame = background
            self.columns: list[Any] = list(frame.columns)
            self.dtypes: list[Any] = list(frame.dtypes)
            self.sample_shape: tuple[int, ...] = (len(self.columns),)
            for j, dtype in enumerate(self.dtypes):
                if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                    self.categories[j] = []
                    self._lookup[j] = {}
            self.array_dtype: Any = None
        else:
            arr = np.asarray(background)
            self.columns = []
            self.dtypes = []
            self.sample_shape = tuple(arr.shape[1:])
            self.array_dtype = arr.dtype
            if arr.dtype.kind not in "biuf":
                width = int(np.prod(self.sample_shape))
                for j in range(width):
                    self.categories[j] = []
                    self._lookup[j] = {}

    @property
    def n_features(self) -> int:
        return int(np.prod(self.sample_shape))

    def _code(self, j: int, value: Any) -> int:
        key: Any = value
        if _is_missing(value):
            key = ("__missing__",)
        try:
            return self._lookup[j][key]
        except KeyError:
            self._lookup[j][key] = len(self.categories[j])
            self.categories[j].append(value)
            return self._lookup[j][key]
        except TypeError:  # unhashable value: code by its repr
            key = ("__repr__", repr(value))
            if key not in self._lookup[j]:
                self._lookup[j][key] = len(self.categories[j])
                self.categories[j].append(value)
            return self._lookup[j][key]

    def encode(self, X: Any) -> NDArray[np.float64]:
        if self.is_frame:
            frame: pd.DataFrame = X
            out = np.empty((len(frame), len(self.columns)), dtype=np.float64)
            for j, col in enumerate(self.columns):
                series = frame[col]
                if j in self.categories:
                    out[:, j] = [self._code(j, v) for v in series.astype(object).tolist()]
                else:
                    out[:, j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
            return out
        arr = np.asarray(X).reshape(len(X), -1)
        if not self.categories:
            return arr.astype(np.float64)
        out = np.empty(arr.shape, dtype=np.float64)
        for j in range(arr.shape[1]):
            out[:, j] = [self._code(j, v) for v in arr[:, j].tolist()]
        return out

    def decode(self, Z: NDArray[Any]) -> Any:
        Z = np.asarray(Z)
        if self.is_frame:
            data: dict[Any, Any] = {}
            for j, col in enumerate(self.columns):
                if j in self.categories:
                    cats = np.empty(len(self.categories[j]), dtype=object)
                    cats[:] = self.categories[j]
                    data[col] = cats[Z[:, j].astype(np.intp)]
                else:
                    data[col] = Z[:, j]
            frame = pd.DataFrame(data, columns=self.columns)
            for col, dtype in zip(self.columns, self.dtypes, strict=True):
                if frame[col].dtype != dtype:
                    with contextlib.suppress(TypeError, ValueError):
                        frame[col] = frame[col].astype(dtype)
            return frame
        if self.categories:
            out = np.empty(Z.shape, dtype=object)
            for j in range(Z.shape[1]):
                cats = np.empty(len(self.categories[j]), dtype=object)
                cats[:] = self.categories[j]
                out[:, j] = cats[Z[:, j].astype(np.intp)]
            return out.astype(self.array_dtype).reshape((len(Z), *self.sample_shape))
        return Z.astype(self.array_dtype, copy=False).reshape((len(Z), *self.sample_shape))


# -- helpers -----------------------------------------------------------------------------------
def _is_pipeline(model: Any) -> bool:
    return type(model).__name__ == "Pipeline" or hasattr(model, "steps")


def _is_tree_model(model: Any) -> bool:
    if model is None or _is_pipeline(model):
        return False
    cls = type(model)
    root = cls.__module__.split(".")[0]
    if root == "sklearn":
        return cls.__name__ in _TREE_CLASS_NAMES or any(
            c.__name__ in _TREE_CLASS_NAMES for c in cls.__mro__
        )
    return root in _TREE_LIBRARIES


def _is_linear_model(model: Any) -> bool:
    return (
        model is not None
        and not _is_pipeline(model)
        and hasattr(model, "coef_")
        and hasattr(model, "intercept_")
    )


def _take_background(background: Any, max_rows: int, seed: int) -> Any:
    n = len(background)
    if n == 0:
        raise ValueError("the background sample is empty")
    if n <= max_rows:
        return background.copy() if isinstance(background, pd.DataFrame) else np.asarray(background)
    idx = np.sort(np.random.default_rng(seed).choice(n, size=max_rows, replace=False))
    if isinstance(background, pd.DataFrame):
        return background.iloc[idx].reset_index(drop=True)
    return np.asarray(background)[idx]


def _as_batch(X: Any, like_frame: bool, columns: list[Any], sample_ndim: int) -> Any:
    """Turn one row (Series, dict, 1-D array) or a batch into the background's layout."""
    if like_frame:
        if isinstance(X, pd.Series):
            X = X.to_frame().T
        elif isinstance(X, dict):
            X = pd.DataFrame([X])
        elif not isinstance(X, pd.DataFrame):
            arr = np.asarray(X, dtype=object)
            X = pd.DataFrame(arr.reshape(1, -1) if arr.ndim == 1 else arr, columns=columns)
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(f"rows to explain lack the columns {missing[:10]}")
        return X[columns]
    if isinstance(X, pd.DataFrame):
        X = X.to_numpy()
    arr = np.asarray(X)
    if arr.ndim == sample_ndim:
        arr = arr[None, ...]
    return arr


def _normalize(values: Any, base: Any, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """SHAP output in any of its layouts -> values ``(n, d, K)`` and base values ``(n, K)``."""
    if isinstance(values, list):  # older SHAP: one (n, d) array per output
        vals = np.stack([np.asarray(v, dtype=np.float64) for v in values], axis=-1)
    else:
        vals = np.asarray(values, dtype=np.float64)
    if vals.ndim == 1:
        vals = vals[None, :]
    if vals.ndim == 2:
        vals = vals[:, :, None]
    if vals.ndim > 3:  # image-like inputs: flatten the feature axes
        vals = vals.reshape(vals.shape[0], -1, vals.shape[-1])
    k = vals.shape[2]
    b = np.asarray(base, dtype=np.float64)
    if b.ndim == 0:
        b = np.full((n, k), float(b))
    elif b.ndim == 1:
        b = np.broadcast_to(b[None, :], (n, k)) if b.shape[0] == k and k > 1 else b.reshape(n, 1)
    b = np.broadcast_to(b.reshape(n, -1), (n, k)).astype(np.float64)
    return vals, b


def _take_rows(data: Any, m: int) -> Any:
    """The first ``m`` rows of a DataFrame or array."""
    return data.iloc[:m] if isinstance(data, pd.DataFrame) else np.asarray(data)[:m]


# -- pipelines: which original feature each transformed column comes from ------------------------
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
    if _is_pipeline(trans):
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


def _dense(Z: Any) -> NDArray[np.float64]:
    if sp.issparse(Z):
        Z = Z.toarray()
    return np.asarray(Z, dtype=np.float64)


def _split_pipeline(model: Any) -> tuple[Any, Any]:
    """``(final estimator, the steps before it)`` of a Pipeline, else ``(model, None)``."""
    steps = getattr(model, "steps", None) if _is_pipeline(model) else None
    if not steps:
        return model, None
    return steps[-1][1], (model[:-1] if len(steps) > 1 else None)


def _temperature(calibrator: Any) -> float | None:
    """The temperature of a temperature-scaling calibrator; 1 for none; None otherwise."""
    method = getattr(calibrator, "method", "none") if calibrator is not None else "none"
    if method == "none":
        return 1.0
    if method == "temperature":
        return float(calibrator.temperature_)
    return None


def _is_calibrating(calibrator: Any) -> bool:
    return calibrator is not None and getattr(calibrator, "method", "none") != "none"


def _match_link(out: NDArray[np.float64], P: NDArray[np.float64], single: bool) -> str:
    """How an explainer's outputs ``out`` ``(m, K)`` give the probabilities ``P``, or ``""``."""

    def close(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=0.0, atol=CHECK_TOL))

    if single:
        if P.shape[1] != 2:
            return ""
        if close(out[:, 0], P[:, 1]):
            return "identity"
        return "logit" if close(expit(out[:, 0]), P[:, 1]) else ""
    if close(out, P):
        return "identity"
    return "softmax" if close(softmax(out, axis=1), P) else ""


class Explainer:
    """SHAP explainer for a model adapter; see the module docstring for the methods.

    ``background``: rows of training data (DataFrame or array), of which at most
    :data:`MAX_BACKGROUND` are kept. ``feature_names`` default to the DataFrame's columns or
    ``x0, x1, ...``. ``method="auto"`` picks tree / linear / model-agnostic; ``"tree"``,
    ``"linear"``, ``"exact"`` or ``"permutation"`` force one. ``calibrator``: the rails'
    fitted calibrator (see :mod:`mlrails.reliability.calibration`), so that explanations are
    of the calibrated output the verdicts serve wherever that is exact.
    """

    def __init__(
        self,
        adapter: ModelAdapter,
        background: Any,
        feature_names: Sequence[str] | None = None,
        *,
        method: str = "auto",
        max_background: int = MAX_BACKGROUND,
        seed: int = 0,
        calibrator: Any = None,
    ) -> None:
        self.adapter = adapter
        self.background = _take_background(background, max_background, seed)
        self.seed = seed
        self.calibrator = calibrator
        self._codec = _TabularCodec(self.background)
        d = self._codec.n_features
        if feature_names is None:
            if self._codec.is_frame:
                feature_names = [str(c) for c in self._codec.columns]
            else:
                feature_names = [f"x{i}" for i in range(d)]
        self.feature_names = [str(f) for f in feature_names]
        if len(self.feature_names) != d:
            raise ValueError(
                f"{len(self.feature_names)} feature names for {d} features in the background"
            )
        if method not in ("auto", "tree", "linear", "exact", "permutation"):
            raise ValueError(f"unknown explanation method {method!r}")
        self._reset()
        model, head = _split_pipeline(adapter.native)
        if method in ("auto", "tree") and _is_tree_model(model):
            if self._build_tree(model, head) and self._resolve_output():
                return
            self._reset()
        if method == "tree":
            raise ValueError(f"cannot build a TreeExplainer for {type(adapter.native).__name__}")
        if method in ("auto", "linear") and _is_linear_model(model):
            if self._build_linear(model, head) and self._resolve_output():
                return
            self._reset()
        if method == "linear":
            raise ValueError(f"cannot build a LinearExplainer for {type(adapter.native).__name__}")
        exact = (d <= EXACT_MAX_FEATURES) if method == "auto" else method == "exact"
        self._build_agnostic(exact=exact)

    @classmethod
    def from_background(
        cls,
        adapter: ModelAdapter,
        background: Any,
        feature_names: Sequence[str] | None = None,
        *,
        calibrator: Any = None,
    ) -> Explainer:
        """Build the explainer from an adapter and a background sample of training rows."""
        return cls(adapter, background, feature_names, calibrator=calibrator)

    # -- construction ---------------------------------------------------------------------
    def _reset(self) -> None:
        self.method = ""
        self.output_space = "value"
        self._shap: Any = None
        self._single_output_binary = False
        #: the pipeline steps before the explained final estimator, and the original feature
        #: of each transformed column
        self._head: Any = None
        self._groups: NDArray[np.intp] | None = None
        #: factor on values and base value (1 / temperature for calibrated logits)
        self._scale = 1.0
        #: how the explained output gives the served probability: identity/logit/softmax/""
        self._link = ""
        self.served = False
        self._explains = ""

    def _n_classes(self) -> int | None:
        if self.adapter.task != "classification":
            return None
        classes = self.adapter.classes_
        return None if classes is None else len(classes)

    def _head_features(self, X: Any) -> NDArray[np.float64]:
        return _dense(self._head.transform(X))

    def _build_tree(self, model: Any, head: Any) -> bool:
        import shap

        if head is not None:
            groups = column_groups(head, self._codec.n_features)
            if groups is None:
                return False
            self._head = head
            try:
                width = self._head_features(_take_rows(self.background, 1)).shape[1]
            except Exception:
                return False
            if width != len(groups):
                return False
            self._groups = groups
        try:
            explainer = shap.TreeExplainer(model, feature_perturbation="tree_path_dependent")
        except Exception:
            return False
        tree_output = str(getattr(getattr(explainer, "model", None), "tree_output", ""))
        if self.adapter.task == "regression":
            space = "value"
        elif tree_output == "probability":
            space = "probability"
        else:
            space = "margin"
        if not self._accept_outputs(np.asarray(explainer.expected_value).size):
            return False
        self._shap = explainer
        self.method = "tree"
        self.output_space = space
        return True

    def _build_linear(self, model: Any, head: Any) -> bool:
        import shap

        coef = np.asarray(model.coef_)
        intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
        k = 1 if coef.ndim == 1 else coef.shape[0]
        if not self._accept_outputs(k):
            return False
        try:
            if head is not None:
                groups = column_groups(head, self._codec.n_features)
                if groups is None:
                    return False
                self._head = head
                bg = self._head_features(self.background)
                if bg.shape[1] != len(groups):
                    return False
                self._groups = groups
                model_input: Any = bg
            else:
                bg = self._codec.encode(self.background)
                model_input = self.background
        except Exception:
            return False
        # the explained quantity must really be linear in the inputs
        linear = bg @ coef.reshape(k, -1).T + intercept.reshape(1, -1)
        if self.adapter.task == "classification":
            decision = getattr(model, "decision_function", None)
            if decision is None:
                return False
            try:
                ref = np.asarray(decision(model_input), dtype=np.float64).reshape(len(bg), -1)
            except Exception:
                return False
            space = "margin"
        else:
            try:
                ref = np.asarray(model.predict(model_input), dtype=np.float64)
            except Exception:
                return False
            ref = ref.reshape(len(bg), -1)
            space = "value"
        if ref.shape != linear.shape or not np.allclose(ref, linear, rtol=1e-6, atol=1e-8):
            return False
        try:
            masker = shap.maskers.Independent(bg, max_samples=len(bg))
            explainer = shap.LinearExplainer((coef, intercept), masker)
        except Exception:
            return False
        self._shap = explainer
        self.method = "linear"
        self.output_space = space
        return True

    def _accept_outputs(self, k: int) -> bool:
        """Whether an explainer with ``k`` outputs matches the adapter's task / classes."""
        n_classes = self._n_classes()
        if self.adapter.task == "regression":
            return k == 1
        if k == 1:  # a single margin/probability for the positive class of a binary model
            if n_classes not in (None, 2):
                return False
            self._single_output_binary = True
            return True
        self._single_output_binary = False
        return n_classes is None or k == n_classes

    def _served_proba(self, X: Any) -> NDArray[np.float64]:
        """The probabilities the rails serve: the model's, through the calibrator."""
        P = self.adapter.predict_proba(X)
        if self.calibrator is None:
            return P
        return np.asarray(self.calibrator.transform(P), dtype=np.float64)

    def _build_agnostic(self, exact: bool) -> None:
        import shap

        self._reset()
        codec = self._codec
        predict: Callable[[Any], NDArray[np.float64]] = (
            self._served_proba
            if self.adapter.task == "classification"
            else self.adapter.predict_values
        )

        def model_fn(Z: NDArray[Any]) -> NDArray[np.float64]:
            return predict(codec.decode(Z))

        bg = codec.encode(self.background)
        masker = shap.maskers.Independent(bg, max_samples=len(bg))
        if exact:
            self._shap = shap.ExactExplainer(model_fn, masker)
            self.method = "exact"
        else:
            self._shap = shap.PermutationExplainer(model_fn, masker, seed=self.seed)
            self.method = "permutation"
        if self.adapter.task == "classification":
            self.output_space = "probability"
            self._link = "identity"
            self.served = True
            what = "calibrated probability" if _is_calibrating(self.calibrator) else "probability"
            self._explains = what + " of class {label}"
        else:
            self.output_space = "value"
            self.served = True
            self._explains = "predicted value"

    def _resolve_output(self) -> bool:
        """Decide which output a tree/linear explainer explains (see the module docstring).

        The explainer's output is checked on a few background rows against the model. A
        pipeline's explanation is only kept when it reproduces the model's output.
        """
        rows = _take_rows(self.background, CHECK_ROWS)
        try:
            values, base = self._shap_values(rows)
        except Exception:
            return False
        out = base + values.sum(axis=1)
        if self.adapter.task == "regression":
            self.served = True
            self._explains = "predicted value"
            if self._head is None:
                return True
            try:
                ref = np.asarray(self.adapter.predict_values(rows), dtype=np.float64)
            except Exception:
                return False
            return bool(np.allclose(out[:, 0], ref.reshape(-1), rtol=1e-6, atol=CHECK_TOL))
        try:
            P = np.asarray(self.adapter.predict_proba(rows), dtype=np.float64)
        except Exception:
            return False
        self._link = _match_link(out, P, self._single_output_binary)
        if self._head is not None and not self._link:
            return False  # the transformed-feature explanation is not the model's output
        temperature = _temperature(self.calibrator)
        calibrating = _is_calibrating(self.calibrator)
        if self._link in ("logit", "softmax") and temperature is not None:
            self._scale = 1.0 / temperature
            self.served = True
            prefix = "calibrated " if calibrating else ""
            self._explains = (
                prefix + "log-odds of class {label}"
                if self._link == "logit"
                else prefix + "logit of class {label} (the softmax over all classes' logits "
                "gives the probabilities)"
            )
        elif self._link == "identity" and not calibrating:
            self.served = True
            self._explains = "probability of class {label}"
        else:
            self.served = False
            kind = {"identity": "probability", "logit": "log-odds", "softmax": "logit"}.get(
                self._link, "margin"
            )
            self._explains = (
                f"uncalibrated {kind} of class {{label}} (the model's output before "
                "calibration, not the calibrated probability the verdict serves)"
            )
        return True

    # -- explaining -----------------------------------------------------------------------
    def _shap_values(self, X: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Raw SHAP values ``(n, d, K)`` on the original features and base values ``(n, K)``."""
        n = len(X)
        if self._head is not None:
            Z = self._head_features(X)
            res = self._shap(Z, check_additivity=False) if self.method == "tree" else self._shap(Z)
            values, base = _normalize(res.values, res.base_values, n)
            assert self._groups is not None
            onehot = np.zeros((len(self._groups), self._codec.n_features))
            onehot[np.arange(len(self._groups)), self._groups] = 1.0
            return np.einsum("nok,od->ndk", values, onehot), base
        if self.method == "tree":
            data = X if self._codec.is_frame else np.asarray(X).reshape(n, -1)
            res = self._shap(data, check_additivity=False)
        elif self.method == "linear":
            res = self._shap(self._codec.encode(X))
        elif self.method == "exact":
            res = self._shap(self._codec.encode(X), silent=True)
        else:
            d = self._codec.n_features
            res = self._shap(
                self._codec.encode(X),
                max_evals=max(PERMUTATION_MAX_EVALS, 2 * d + 1),
                silent=True,
            )
        return _normalize(res.values, res.base_values, n)

    def explain(
        self,
        X: Any,
        predicted_idx: int | Sequence[int] | NDArray[np.integer[Any]] | None = None,
        top_k: int | None = 5,
    ) -> list[Explanation]:
        """Explain each row of ``X`` (a batch, or a single row as Series / dict / 1-D array).

        Classification explains the class ``predicted_idx[i]`` (an index into the adapter's
        classes; default: the argmax of the served probabilities). ``top_k=None`` keeps all
        features.
        """
        if top_k is not None and top_k < 0:
            raise ValueError(f"top_k must be >= 0 or None, got {top_k}")
        batch = _as_batch(
            X, self._codec.is_frame, self._codec.columns, len(self._codec.sample_shape)
        )
        n = len(batch)
        if n == 0:
            return []
        is_clf = self.adapter.task == "classification"
        idx: NDArray[np.intp] | None = None
        if is_clf:
            if predicted_idx is None:
                idx = np.argmax(self._served_proba(batch), axis=1).astype(np.intp)
            else:
                idx = np.broadcast_to(np.asarray(predicted_idx, dtype=np.intp), (n,)).copy()
        elif predicted_idx is not None:
            raise ValueError("predicted_idx only applies to classification models")

        try:
            values, base = self._shap_values(batch)
        except Exception:
            if self.method not in ("tree", "linear"):
                raise
            # the specialised explainer cannot handle these rows: fall back for good
            d = self._codec.n_features
            self._build_agnostic(exact=d <= EXACT_MAX_FEATURES)
            values, base = self._shap_values(batch)
        if values.shape[1] != len(self.feature_names):
            raise ValueError(
                f"SHAP returned {values.shape[1]} features, expected {len(self.feature_names)}"
            )
        values, base = values * self._scale, base * self._scale
        shown = self._display_values(batch)
        classes = self.adapter.classes_
        out: list[Explanation] = []
        for i in range(n):
            class_index: int | None = None
            label = None
            probability: float | None = None
            if idx is not None:
                class_index = int(idx[i])
                phi, b0 = self._for_class(values[i], base[i], class_index)
                if classes is not None and class_index < len(classes):
                    label = np.asarray(classes)[class_index]
                output = b0 + float(np.sum(phi))
                probability = self._probability(output, values[i], base[i], class_index)
            else:
                phi, b0 = values[i, :, 0], float(base[i, 0])
                output = b0 + float(np.sum(phi))
            order = sorted(range(len(phi)), key=lambda j: -abs(float(phi[j])))
            keep = order if top_k is None else order[:top_k]
            contributions = [
                FeatureContribution(self.feature_names[j], shown[i][j], float(phi[j])) for j in keep
            ]
            rest = float(sum(float(phi[j]) for j in order[len(keep) :]))
            shown_label = repr(_plain(label)) if label is not None else str(class_index)
            out.append(
                Explanation(
                    method=self.method,
                    base_value=b0,
                    contributions=contributions,
                    output=output,
                    output_space=self.output_space,
                    class_index=class_index,
                    class_label=label,
                    remainder=rest,
                    n_features=len(phi),
                    explains=self._explains.format(label=shown_label),
                    served=self.served,
                    probability=probability,
                )
            )
        return out

    def _probability(
        self,
        output: float,
        phi: NDArray[np.float64],
        base: NDArray[np.float64],
        k: int,
    ) -> float | None:
        """The served probability of class ``k`` that the explained output stands for."""
        if not self.served:
            return None
        if self._link == "identity":
            return output
        if self._link == "logit":
            return float(expit(output))
        if self._link == "softmax":
            logits = base + phi.sum(axis=0)  # every class's (scaled) logit
            return float(softmax(logits)[k])
        return None

    def _for_class(
        self, phi: NDArray[np.float64], base: NDArray[np.float64], k: int
    ) -> tuple[NDArray[np.float64], float]:
        """Contributions and base value of class ``k`` for one row."""
        if phi.shape[1] == 1 and self._single_output_binary:
            if k not in (0, 1):
                raise ValueError(f"class index {k} out of range for a binary model")
            if k == 1:
                return phi[:, 0], float(base[0])
            # class 0: its margin is minus the positive class's; its probability 1 - p
            b0 = 1.0 - float(base[0]) if self.output_space == "probability" else -float(base[0])
            return -phi[:, 0], b0
        if not 0 <= k < phi.shape[1]:
            raise ValueError(f"class index {k} out of range for {phi.shape[1]} classes")
        return phi[:, k], float(base[k])

    def _display_values(self, batch: Any) -> list[list[Any]]:
        if self._codec.is_frame:
            rows: list[list[Any]] = batch.astype(object).to_numpy().tolist()
            return rows
        arr = np.asarray(batch).reshape(len(batch), -1)
        return [list(r) for r in arr.tolist()]
