"""Model adapters: one interface over scikit-learn, callables, PyTorch and ONNX models.

``torch`` and ``onnxruntime`` are optional: they are imported only when a
:class:`TorchAdapter` or :class:`OnnxAdapter` is built.
"""

from mlrails.models.base import ModelAdapter, ModelInfo, Task
from mlrails.models.callable import CallableAdapter, check_probabilities
from mlrails.models.loading import as_adapter, load_model
from mlrails.models.onnx import OnnxAdapter
from mlrails.models.remote import RemoteModel
from mlrails.models.sklearn import SklearnAdapter
from mlrails.models.torch import TorchAdapter

__all__ = [
    "CallableAdapter",
    "ModelAdapter",
    "ModelInfo",
    "OnnxAdapter",
    "RemoteModel",
    "SklearnAdapter",
    "Task",
    "TorchAdapter",
    "as_adapter",
    "check_probabilities",
    "load_model",
]
