"""Adapter for PyTorch ``nn.Module`` models (optional extra: ``pip install mlrails[torch]``).

``torch`` is imported only when a :class:`TorchAdapter` is built, so the core install works
without it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.models.base import ModelAdapter, ModelInfo, Task
from mlrails.models.callable import (
    PROBA_ATOL_FLOAT32,
    check_probabilities,
    check_task,
    check_values,
)

if TYPE_CHECKING:
    import torch

OutputKind = Literal["logits", "probabilities"]


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "PyTorch is not installed; install it with `pip install mlrails[torch]`"
        ) from exc
    return torch


def to_float32_matrix(X: Any) -> NDArray[np.float32]:
    """Convert a batch to a float32 array; a DataFrame must have only numeric columns."""
    if isinstance(X, pd.DataFrame):
        non_numeric = [
            str(c)
            for c in X.columns
            if not (
                pd.api.types.is_numeric_dtype(X[c].dtype) or pd.api.types.is_bool_dtype(X[c].dtype)
            )
        ]
        if non_numeric:
            raise ValueError(
                "a tensor model needs numeric input; non-numeric columns: "
                + ", ".join(non_numeric[:10])
            )
        return _writable(np.ascontiguousarray(X.to_numpy(dtype=np.float32), dtype=np.float32))
    try:
        return _writable(np.ascontiguousarray(X, dtype=np.float32))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot convert the input to a float32 array: {exc}") from None


def _writable(arr: NDArray[np.float32]) -> NDArray[np.float32]:
    """``torch.from_numpy`` warns on a read-only array (pandas may hand out one): copy it."""
    return arr if arr.flags.writeable else arr.copy()


class TorchAdapter(ModelAdapter):
    """Wrap an ``nn.Module`` mapping a float32 batch ``(n, ...)`` to outputs.

    Classification: the module returns ``(n, K)`` logits (``output="logits"``, softmax is
    applied; a single logit column ``(n, 1)`` is read as binary, sigmoid) or probabilities
    (``output="probabilities"``, validated). Regression: ``(n,)`` or ``(n, 1)`` values.
    The module is put in eval mode and moved to ``device``; inference runs under
    ``torch.inference_mode`` in batches of ``batch_size`` rows.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        task: Task | str = "classification",
        classes: Sequence[Any] | NDArray[Any] | None = None,
        output: OutputKind = "logits",
        batch_size: int = 4096,
        device: str = "cpu",
    ) -> None:
        torch = _import_torch()
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"expected a torch.nn.Module, got {type(module).__name__}")
        if output not in ("logits", "probabilities"):
            raise ValueError(f"output must be 'logits' or 'probabilities', got {output!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.task = check_task(task)
        self.output = output
        self.batch_size = int(batch_size)
        self.device = torch.device(device)
        self.module = module.to(self.device)
        self.module.eval()
        if classes is not None:
            if self.task != "classification":
                raise ValueError("classes only apply to a classification model")
            self.classes_ = np.asarray(classes)

    def _forward(self, X: Any) -> tuple[NDArray[np.float64], int]:
        """Run the module on ``X`` in batches; return the stacked outputs and the row count."""
        torch = _import_torch()
        arr = to_float32_matrix(X)
        if self.module.training:  # someone switched it back to training mode
            self.module.eval()
        outs: list[NDArray[np.float64]] = []
        with torch.inference_mode():
            for start in range(0, max(len(arr), 1), self.batch_size):  # one pass if empty
                chunk = torch.from_numpy(arr[start : start + self.batch_size]).to(self.device)
                out = self.module(chunk)
                if isinstance(out, tuple | list):
                    out = out[0]
                out = out.float()
                if self.task == "classification" and self.output == "logits":
                    if out.ndim == 2 and out.shape[1] == 1:
                        p1 = torch.sigmoid(out)
                        out = torch.cat([1.0 - p1, p1], dim=1)
                    elif out.ndim == 2:
                        out = torch.softmax(out, dim=1)
                outs.append(out.detach().to("cpu").double().numpy())
        return np.concatenate(outs, axis=0), len(arr)

    def predict_proba(self, X: Any) -> NDArray[np.float64]:
        if self.task != "classification":
            raise TypeError("predict_proba is only available for a classification model")
        n_classes = None if self.classes_ is None else len(self.classes_)
        out, n = self._forward(X)
        return check_probabilities(
            out, n, n_classes, atol=PROBA_ATOL_FLOAT32, source=self._source()
        )

    def predict_values(self, X: Any) -> NDArray[np.float64]:
        if self.task != "regression":
            raise TypeError("predict_values is only available for a regression model")
        out, n = self._forward(X)
        return check_values(out, n, source=self._source())

    def _source(self) -> str:
        return f"torch module {type(self.module).__name__}"

    def info(self) -> ModelInfo:
        torch = _import_torch()
        cls = type(self.module)
        return ModelInfo(
            framework="torch",
            framework_version=str(torch.__version__),
            model_class=f"{cls.__module__}.{cls.__qualname__}",
            task=self.task,
            n_classes=None if self.classes_ is None else len(self.classes_),
        )

    @property
    def native(self) -> Any:
        return self.module
