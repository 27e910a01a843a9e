"""Model adapters: one interface over scikit-learn, callables, PyTorch and ONNX models."""

from mlrails.models.base import ModelAdapter, ModelInfo, Task
from mlrails.models.sklearn import SklearnAdapter

__all__ = ["ModelAdapter", "ModelInfo", "SklearnAdapter", "Task"]
