"""Turn a model object or a model file into a :class:`ModelAdapter`, safely.

:func:`as_adapter` dispatches on the object's type. :func:`load_model` reads a file by its
extension and refuses anything that could execute code while loading unless ``trust=True``:

=================  ==========================================================================
``.skops``         loaded with ``skops.io``; the types skops does not trust by default are
                   accepted only when they come from scikit-learn, NumPy, SciPy or a few
                   builtin containers; anything else is refused without ``trust``
``.onnx``          onnxruntime session (no code execution)
``.pkl/.pickle``   pickle can run arbitrary code: refused without ``trust``, then joblib.load
``.joblib``
``.pt/.pth``       a full pickled ``nn.Module``: refused without ``trust``, then
                   ``torch.load(weights_only=False)``
``.json``          an mlrails native model descriptor (XGBoost / LightGBM, see
                   :mod:`mlrails.models.native`) or an XGBoost JSON model; no code execution
``.ubj``           an XGBoost UBJSON model (``save_model``); no code execution
``.txt``           a LightGBM model text file (``booster_.save_model``); no code execution
=================  ==========================================================================

Every failure is a :class:`~mlrails.errors.ModelLoadError` with a one-line message naming the
file and the problem.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlrails.errors import ModelLoadError
from mlrails.models.base import ModelAdapter, Task
from mlrails.models.callable import CallableAdapter, check_task
from mlrails.models.sklearn import SklearnAdapter

#: module prefixes whose types a ``.skops`` file may contain without ``trust``
SKOPS_ALLOWED_PREFIXES: tuple[str, ...] = ("sklearn.", "numpy.", "scipy.")
#: exact type names allowed besides those prefixes
SKOPS_ALLOWED_NAMES: frozenset[str] = frozenset(
    {
        "builtins.object",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
        "builtins.frozenset",
        "builtins.slice",
        "builtins.int",
        "builtins.float",
        "builtins.complex",
        "builtins.str",
        "builtins.bytes",
        "builtins.bool",
        "builtins.NoneType",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "collections.deque",
    }
)
#: parts of the allowed packages that can run code, touch files or the network when called
SKOPS_DENIED_PREFIXES: tuple[str, ...] = (
    "numpy.testing",
    "numpy.f2py",
    "numpy.distutils",
    "numpy.ctypeslib",
    "numpy.lib.npyio",
    "numpy.lib._npyio_impl",
    "numpy.lib.format",
    "numpy._pytesttester",
    "scipy._lib",
    "scipy.io",
    "scipy.weave",
    "sklearn.utils._testing",
    "sklearn.externals",
    "sklearn.datasets",
)
#: function names refused wherever they live (loading files, running code)
SKOPS_DENIED_NAMES: frozenset[str] = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "system",
        "load",
        "loads",
        "loadtxt",
        "genfromtxt",
        "fromfile",
        "tofile",
        "memmap",
        "open_memmap",
        "save",
        "savez",
        "savez_compressed",
        "savetxt",
        "runstring",
        "__import__",
        "getattr",
        "setattr",
        "open",
    }
)

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
TORCH_SUFFIXES = (".pt", ".pth")
NATIVE_SUFFIXES = (".json", ".ubj", ".txt")
SUPPORTED_SUFFIXES = (".skops", ".onnx", *NATIVE_SUFFIXES, *PICKLE_SUFFIXES, *TORCH_SUFFIXES)


def _module_has_torch_module(model: Any) -> bool:
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    nn = getattr(torch, "nn", None)
    module_cls = getattr(nn, "Module", None)
    return module_cls is not None and isinstance(model, module_cls)


def as_adapter(model: Any, task: Task | str | None = None, **kwargs: Any) -> ModelAdapter:
    """Wrap ``model`` in the matching adapter.

    * a :class:`ModelAdapter` is returned as is;
    * a ``torch.nn.Module`` becomes a :class:`~mlrails.models.torch.TorchAdapter`;
    * anything with ``predict_proba`` / ``predict`` a :class:`SklearnAdapter`;
    * an onnxruntime session or a path ending in ``.onnx`` an
      :class:`~mlrails.models.onnx.OnnxAdapter`; other model paths go through
      :func:`load_model` (pass ``trust=True`` in ``kwargs`` for pickle / torch files);
    * a plain callable a :class:`CallableAdapter` (``task`` is required).

    ``kwargs`` go to the adapter's constructor (e.g. ``classes``, ``output``, ``input``).
    """
    if task is not None:
        task = check_task(task)
    if isinstance(model, ModelAdapter):
        return model
    if _module_has_torch_module(model):
        from mlrails.models.torch import TorchAdapter

        return TorchAdapter(model, task=task or "classification", **kwargs)
    from mlrails.models.onnx import is_onnx_session

    if is_onnx_session(model):
        from mlrails.models.onnx import OnnxAdapter

        return OnnxAdapter(model, task=task, **kwargs)
    if isinstance(model, str | Path):
        path = Path(model)
        if path.suffix.lower() == ".onnx":
            from mlrails.models.onnx import OnnxAdapter

            return OnnxAdapter(path, task=task, **kwargs)
        trust = bool(kwargs.pop("trust", False))
        if kwargs:
            raise TypeError(f"unexpected arguments for a model file: {sorted(kwargs)}")
        return load_model(path, trust=trust, task=task)
    if hasattr(model, "predict_proba") or hasattr(model, "predict"):
        if kwargs:
            raise TypeError(f"unexpected arguments for a scikit-learn model: {sorted(kwargs)}")
        return SklearnAdapter(model, task=task)
    if callable(model):
        if task is None:
            raise TypeError(
                "a plain callable needs task='classification' or task='regression' "
                "(mlrails cannot tell whether it returns probabilities or values)"
            )
        return CallableAdapter(model, task=task, **kwargs)
    raise TypeError(
        f"cannot use a {type(model).__module__}.{type(model).__name__} as a model: expected a "
        "scikit-learn-style estimator, a torch.nn.Module, an ONNX model, a model file path or "
        "a callable"
    )


# -- files ---------------------------------------------------------------------------------
def load_error(path: Path, problem: str) -> ModelLoadError:
    """The error of a model file that cannot load: one line naming the file and ``problem``."""
    return ModelLoadError(f"cannot load model {path}: {problem}")


def error_summary(exc: BaseException) -> str:
    """``exc`` in one line for a load error: its type and the first line of its message."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if len(first) > 300:
        first = first[:297] + "..."
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def skops_type_allowed(name: str) -> bool:
    """Whether a type name reported by ``skops.io.get_untrusted_types`` may load without trust."""
    if name in SKOPS_ALLOWED_NAMES:
        return True
    if not name.startswith(SKOPS_ALLOWED_PREFIXES):
        return False
    if any(name == p or name.startswith(p + ".") for p in SKOPS_DENIED_PREFIXES):
        return False
    return name.rsplit(".", 1)[-1] not in SKOPS_DENIED_NAMES


def refused_skops_types(types: Iterable[str]) -> list[str]:
    """The type names of ``types`` that are not allowlisted."""
    return sorted({t for t in types if not skops_type_allowed(t)})


def _wrap(obj: Any, path: Path, task: Task | None) -> ModelAdapter:
    try:
        return as_adapter(obj, task=task)
    except (TypeError, ValueError) as exc:
        raise load_error(
            path, f"the file holds a {type(obj).__name__}, not a usable model ({exc})"
        ) from None


def load_model(
    path: str | Path, *, trust: bool = False, task: Task | str | None = None
) -> ModelAdapter:
    """Load a model file into an adapter; refuse code-executing formats unless ``trust``.

    See the module docstring for the formats. ``task`` overrides the inferred task.
    Raises :class:`~mlrails.errors.ModelLoadError` on any problem.
    """
    p = Path(path)
    try:
        checked_task = None if task is None else check_task(task)
    except ValueError as exc:
        raise load_error(p, str(exc)) from None
    if not p.exists():
        raise load_error(p, "file not found")
    if not p.is_file():
        raise load_error(p, "not a file")
    suffix = p.suffix.lower()
    if suffix == ".skops":
        return _load_skops(p, trust=trust, task=checked_task)
    if suffix == ".onnx":
        return _load_onnx(p, task=checked_task)
    if suffix in NATIVE_SUFFIXES:
        from mlrails.models.native import load_native_file

        return _wrap(load_native_file(p, trust=trust), p, checked_task)
    if suffix in PICKLE_SUFFIXES:
        if not trust:
            raise load_error(
                p,
                "pickle files can execute code; pass --trust (trust=True) only if "
                "you trust where this file comes from, or save the model as .skops or .onnx",
            )
        return _load_pickle(p, task=checked_task)
    if suffix in TORCH_SUFFIXES:
        if not trust:
            raise load_error(
                p,
                "PyTorch files are pickles and can execute code; pass --trust "
                "(trust=True) only if you trust where this file comes from, or export to .onnx",
            )
        return _load_torch(p, task=checked_task)
    raise load_error(
        p,
        f"unknown model file extension {p.suffix!r}; supported: {', '.join(SUPPORTED_SUFFIXES)}",
    )


def _load_skops(path: Path, *, trust: bool, task: Task | None) -> ModelAdapter:
    return _wrap(load_skops_object(path, path.read_bytes(), trust=trust), path, task)


def load_skops_object(path: Path, data: bytes, *, trust: bool) -> Any:
    """The object in the ``.skops`` bytes ``data`` (read from ``path``); types outside the
    allowlist are refused unless ``trust``."""
    import skops.io as sio

    try:
        untrusted = list(sio.get_untrusted_types(data=data))
    except Exception as exc:
        raise load_error(path, f"not a valid .skops file ({error_summary(exc)})") from None
    if not trust:
        refused = refused_skops_types(untrusted)
        if refused:
            hint = ""
            if any(t.startswith(("xgboost.", "lightgbm.")) for t in refused):
                hint = (
                    " (XGBoost and LightGBM models load without trust from their own formats: "
                    "XGBoost .ubj/.json from save_model, LightGBM .txt model text, or an "
                    "artifact saved by this mlrails, which stores them so)"
                )
            raise load_error(
                path,
                f"the file contains types outside the allowlist: {', '.join(refused)}; review "
                f"them and pass --trust (trust=True) if you trust them{hint}",
            )
    try:
        return sio.loads(data, trusted=untrusted)
    except Exception as exc:
        raise load_error(path, f"cannot read the .skops file ({error_summary(exc)})") from None


def _load_onnx(path: Path, *, task: Task | None) -> ModelAdapter:
    try:
        from mlrails.models.onnx import OnnxAdapter

        return OnnxAdapter(path, task=task)
    except ModelLoadError:
        raise
    except ImportError as exc:
        raise load_error(path, str(exc)) from None
    except Exception as exc:
        raise load_error(path, error_summary(exc)) from None


def _load_pickle(path: Path, *, task: Task | None) -> ModelAdapter:
    import joblib

    try:
        obj = joblib.load(path)
    except Exception as exc:
        raise load_error(path, f"cannot unpickle the file ({error_summary(exc)})") from None
    return _wrap(obj, path, task)


def _load_torch(path: Path, *, task: Task | None) -> ModelAdapter:
    try:
        import torch
    except ImportError:
        raise load_error(
            path, "PyTorch is not installed; install it with `pip install mlrails[torch]`"
        ) from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise load_error(path, f"cannot read the PyTorch file ({error_summary(exc)})") from None
    if not isinstance(obj, torch.nn.Module):
        kind = "a state dict" if isinstance(obj, dict) else f"a {type(obj).__name__}"
        raise load_error(
            path,
            f"the file holds {kind}, not a full nn.Module; build the module, load the weights "
            "and pass it to TorchAdapter",
        )
    from mlrails.models.torch import TorchAdapter

    try:
        return TorchAdapter(obj, task=task or "classification")
    except (TypeError, ValueError) as exc:
        raise load_error(path, error_summary(exc)) from None
