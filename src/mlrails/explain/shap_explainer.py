"""SHAP explanations of single predictions, of the output the rails serve.

:class:`Explainer` picks the SHAP algorithm from the wrapped model:

``tree``
    ``shap.TreeExplainer`` (exact path-dependent algorithm, ``feature_perturbation=
    "tree_path_dependent"``) for scikit-learn decision trees, forests and gradient boosting
    (and XGBoost / LightGBM / CatBoost models). A ``Pipeline`` whose last step is such a
    model is explained the same way on the final estimator over the transformed features;
    the contributions of the columns each original feature produced (a one-hot group, a
    scaled column) are summed back onto that feature (see
    :func:`~mlrails.explain.pipelines.column_groups`). This is exact for the tree part: the
    sum over features still equals the model output.
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

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, softmax

from mlrails.explain.background import MAX_BACKGROUND, as_batch, take_background, take_rows
from mlrails.explain.codec import TabularCodec
from mlrails.explain.contributions import Explanation, FeatureContribution
from mlrails.explain.families import is_linear_model, is_tree_model
from mlrails.explain.outputs import (
    CHECK_ROWS,
    CHECK_TOL,
    calibration_temperature,
    is_calibrating,
    match_link,
    normalize,
)
from mlrails.explain.pipelines import column_groups, dense, split_pipeline
from mlrails.explain.plain import plain_value
from mlrails.models.base import ModelAdapter

#: the model-agnostic explainer is exact (2**d coalitions) up to this many features
EXACT_MAX_FEATURES = 8
#: model evaluations (coalitions) per row for the permutation explainer
PERMUTATION_MAX_EVALS = 500


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
        self.background = take_background(background, max_background, seed)
        self.seed = seed
        self.calibrator = calibrator
        self._codec = TabularCodec(self.background)
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
        model, head = split_pipeline(adapter.native)
        if method in ("auto", "tree") and is_tree_model(model):
            if self._build_tree(model, head) and self._resolve_output():
                return
            self._reset()
        if method == "tree":
            raise ValueError(f"cannot build a TreeExplainer for {type(adapter.native).__name__}")
        if method in ("auto", "linear") and is_linear_model(model):
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
        return dense(self._head.transform(X))

    def _build_tree(self, model: Any, head: Any) -> bool:
        import shap

        if head is not None:
            groups = column_groups(head, self._codec.n_features)
            if groups is None:
                return False
            self._head = head
            try:
                width = self._head_features(take_rows(self.background, 1)).shape[1]
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
            what = "calibrated probability" if is_calibrating(self.calibrator) else "probability"
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
        rows = take_rows(self.background, CHECK_ROWS)
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
        self._link = match_link(out, P, self._single_output_binary)
        if self._head is not None and not self._link:
            return False  # the transformed-feature explanation is not the model's output
        temperature = calibration_temperature(self.calibrator)
        calibrating = is_calibrating(self.calibrator)
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
            values, base = normalize(res.values, res.base_values, n)
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
        return normalize(res.values, res.base_values, n)

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
        batch = as_batch(
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
            shown_label = repr(plain_value(label)) if label is not None else str(class_index)
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
