"""Adapter for ONNX models run with onnxruntime (optional extra: ``pip install mlrails[onnx]``).

Works with the graphs skl2onnx writes for classifiers (a label output plus probabilities,
either as a ZipMap ``seq(map(...))`` or, with ``options={"zipmap": False}``, a float tensor)
and regressors (one float tensor), and with any graph whose first float output is the
prediction. ``onnxruntime`` (and ``onnx``, used only to read class labels from the graph) are
imported when an adapter is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.errors import ModelLoadError
from mlrails.models.base import ModelAdapter, ModelInfo, Task
from mlrails.models.callable import (
    PROBA_ATOL_FLOAT32,
    check_probabilities,
    check_task,
    check_values,
    n_rows,
)

OnnxOutputKind = Literal["probabilities", "logits"]

_FLOAT_TENSORS = ("tensor(float)", "tensor(double)", "tensor(float16)")
_LABEL_TENSORS = ("tensor(int64)", "tensor(int32)", "tensor(string)")
_INPUT_DTYPES: dict[str, Any] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "onnxruntime is not installed; install it with `pip install mlrails[onnx]`"
        ) from exc
    return onnxruntime


def is_onnx_session(obj: Any) -> bool:
    """Whether ``obj`` is an onnxruntime ``InferenceSession`` (without importing onnxruntime)."""
    import sys

    ort = sys.modules.get("onnxruntime")
    return ort is not None and isinstance(obj, ort.InferenceSession)


def _class_labels_from_graph(model_bytes: bytes) -> NDArray[Any] | None:
    """Class labels stored in the graph (ZipMap first, then any ``*Classifier`` node)."""
    try:
        import onnx
        from onnx import helper
    except ImportError:  # pragma: no cover - onnx is optional
        return None
    try:
        proto = onnx.load_from_string(model_bytes)
    except Exception:
        return None
    found: list[Any] | None = None
    for node in proto.graph.node:
        for attr in node.attribute:
            if attr.name.startswith("classlabels_"):
                values = helper.get_attribute_value(attr)
                labels = [v.decode() if isinstance(v, bytes) else v for v in values]
                if node.op_type == "ZipMap":
                    return np.asarray(labels)
                if found is None and labels:
                    found = labels
    return None if found is None else np.asarray(found)


class OnnxAdapter(ModelAdapter):
    """Wrap an ONNX model (path, serialized bytes or an ``InferenceSession``).

    ``task=None`` infers the task from the outputs: a ZipMap output, a float output named like
    ``probabilities``, or a label output next to a float output mean classification; otherwise
    regression (the first float tensor output). ``classes=None`` reads the class labels from the
    graph when the ``onnx`` package is installed. ``output="logits"`` applies a softmax to the
    probability output (for exported networks that return raw scores).
    """

    def __init__(
        self,
        path_or_bytes: str | Path | bytes | Any,
        task: Task | str | None = None,
        classes: Sequence[Any] | NDArray[Any] | None = None,
        *,
        output: OnnxOutputKind = "probabilities",
    ) -> None:
        ort = _import_ort()
        if output not in ("probabilities", "logits"):
            raise ValueError(f"output must be 'probabilities' or 'logits', got {output!r}")
        self.output = output
        model_bytes: bytes | None = None
        if isinstance(path_or_bytes, ort.InferenceSession):
            self.session = path_or_bytes
            self.source = "<InferenceSession>"
        else:
            if isinstance(path_or_bytes, bytes | bytearray):
                model_bytes = bytes(path_or_bytes)
                self.source = "<bytes>"
            elif isinstance(path_or_bytes, str | Path):
                self.source = str(path_or_bytes)
                try:
                    model_bytes = Path(path_or_bytes).read_bytes()
                except OSError as exc:
                    raise ModelLoadError(
                        f"cannot read ONNX model {self.source}: {exc.strerror or exc}"
                    ) from None
            else:
                raise TypeError(
                    "expected a path, bytes or onnxruntime.InferenceSession, got "
                    f"{type(path_or_bytes).__name__}"
                )
            try:
                self.session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
            except Exception as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                raise ModelLoadError(
                    f"cannot load ONNX model {self.source}: {type(exc).__name__}: {first[:300]}"
                ) from None

        #: the serialised model, bundled into a saved artifact as ``model.onnx`` (None when the
        #: adapter was built from a live InferenceSession)
        self.model_bytes = model_bytes
        self._inputs = list(self.session.get_inputs())
        outputs = list(self.session.get_outputs())
        self._zipmap = False
        prob = next((o for o in outputs if str(o.type).startswith("seq(map(")), None)
        if prob is not None:
            self._zipmap = True
        else:
            prob = next(
                (o for o in outputs if o.type in _FLOAT_TENSORS and "prob" in o.name.lower()),
                None,
            )
        label = next((o for o in outputs if o.type in _LABEL_TENSORS), None)
        floats = [o for o in outputs if o.type in _FLOAT_TENSORS]
        if task is None:
            task = (
                "classification"
                if prob is not None or (label is not None and floats)
                else "regression"
            )
        self.task = check_task(task)
        if self.task == "classification":
            if prob is None:
                prob = floats[0] if floats else None
            if prob is None:
                names = ", ".join(f"{o.name} ({o.type})" for o in outputs)
                raise ValueError(
                    f"ONNX model {self.source} has no probability output; outputs: {names}"
                )
        else:
            if not floats:
                names = ", ".join(f"{o.name} ({o.type})" for o in outputs)
                raise ValueError(
                    f"ONNX model {self.source} has no float tensor output for regression; "
                    f"outputs: {names}"
                )
            prob = floats[0]
        self._output_name: str = prob.name

        if classes is not None:
            if self.task != "classification":
                raise ValueError("classes only apply to a classification model")
            self.classes_ = np.asarray(classes)
        elif self.task == "classification" and model_bytes is not None:
            self.classes_ = _class_labels_from_graph(model_bytes)

    # -- feeding -------------------------------------------------------------------------
    def _feed(self, X: Any) -> dict[str, Any]:
        if len(self._inputs) == 1:
            inp = self._inputs[0]
            dtype = _INPUT_DTYPES.get(inp.type, np.float32)
            data = X.to_numpy() if isinstance(X, pd.DataFrame) else np.asarray(X)
            try:
                arr = np.ascontiguousarray(data.astype(dtype))
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"cannot convert the input to {inp.type} for ONNX input {inp.name!r}: {exc}"
                ) from None
            if dtype is object:
                arr = arr.astype(str).astype(object)
            return {inp.name: arr}
        # one graph input per column (skl2onnx with a DataFrame): feed columns by name/position
        feed: dict[str, Any] = {}
        if isinstance(X, pd.DataFrame):
            missing = [i.name for i in self._inputs if i.name not in X.columns]
            if missing:
                raise ValueError(f"input lacks the columns the ONNX graph needs: {missing}")
            columns = [X[i.name].to_numpy() for i in self._inputs]
        else:
            arr2 = np.asarray(X)
            if arr2.ndim != 2 or arr2.shape[1] != len(self._inputs):
                raise ValueError(
                    f"the ONNX graph has {len(self._inputs)} inputs; pass a DataFrame with "
                    f"columns {[i.name for i in self._inputs]}"
                )
            columns = [arr2[:, j] for j in range(arr2.shape[1])]
        for inp, col in zip(self._inputs, columns, strict=True):
            dtype = _INPUT_DTYPES.get(inp.type, np.float32)
            value = col.astype(str) if dtype is object else col
            feed[inp.name] = np.asarray(value).astype(dtype).reshape(-1, 1)
        return feed

    def _run(self, X: Any) -> Any:
        return self.session.run([self._output_name], self._feed(X))[0]

    # -- predictions -----------------------------------------------------------------------
    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        if self.task != "classification":
            raise TypeError("predict_proba is only available for a classification model")
        out = self._run(X)
        if self._zipmap:
            rows = list(out)
            if not rows:
                k = 0 if self.classes_ is None else len(self.classes_)
                proba = np.zeros((0, k), dtype=np.float64)
            elif self.classes_ is not None and all(c in rows[0] for c in self._class_keys()):
                keys = self._class_keys()
                proba = np.array([[r[k] for k in keys] for r in rows], dtype=np.float64)
            else:
                proba = np.array([list(r.values()) for r in rows], dtype=np.float64)
        else:
            proba = np.asarray(out, dtype=np.float64)
        if self.output == "logits" and proba.ndim == 2:
            shifted = proba - proba.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            proba = e / e.sum(axis=1, keepdims=True)
        n_classes = None if self.classes_ is None else len(self.classes_)
        return check_probabilities(
            proba, n_rows(X), n_classes, atol=PROBA_ATOL_FLOAT32, source=self._src()
        )

    def _class_keys(self) -> list[Any]:
        assert self.classes_ is not None
        return [c.item() if isinstance(c, np.generic) else c for c in self.classes_]

    def predict_values(self, X: Any) -> NDArray[np.float64]:
        if self.task != "regression":
            raise TypeError("predict_values is only available for a regression model")
        return check_values(self._run(X), n_rows(X), source=self._src())

    def _src(self) -> str:
        return f"ONNX model {self.source}"

    def info(self) -> ModelInfo:
        ort = _import_ort()
        meta = self.session.get_modelmeta()
        producer = getattr(meta, "producer_name", "") or "unknown"
        graph = getattr(meta, "graph_name", "") or "graph"
        return ModelInfo(
            framework="onnx",
            framework_version=str(ort.__version__),
            model_class=f"onnx:{producer}:{graph}",
            task=self.task,
            n_classes=None if self.classes_ is None else len(self.classes_),
        )

    @property
    def native(self) -> Any:
        return self.session
