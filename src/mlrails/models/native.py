"""XGBoost and LightGBM models in their own non-executable formats (no pickle, no skops).

A fitted ``XGBClassifier`` / ``XGBRegressor`` is stored as XGBoost UBJSON (``save_model``), a
``LGBMClassifier`` / ``LGBMRegressor`` as LightGBM model text (``model_to_string``). What the
format lacks (the scikit-learn wrapper's class, its classes, feature names, resolved objective
and plain hyper-parameters) goes in a small JSON descriptor, :class:`NativeModelSpec`, which
also holds the SHA-256 of every part. A :class:`~sklearn.pipeline.Pipeline` whose last step is
such a model is stored as the descriptor, the booster, and a ``.skops`` file of the preceding
steps (loaded through the same allowlist as any ``.skops`` file).

Loading uses the library's own loader (``XGBModel.load_model``, ``lightgbm.Booster(model_str=)``)
and returns the same scikit-learn wrapper class, so predictions are bit-identical and the
explainer and descriptors see the model they saw before saving. ``xgboost`` and ``lightgbm``
are optional and imported only when such a model is saved or loaded.

Plain files written by the libraries themselves load too: ``.ubj`` / ``.json`` (XGBoost, the
wrapper class read from the ``scikit_learn`` attribute ``save_model`` writes, else from the
objective) and ``.txt`` (LightGBM model text; classes are ``0..k-1``).
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from mlrails.models.loading import error_summary, load_error, load_skops_object

NATIVE_FORMAT: Literal["mlrails-native-model"] = "mlrails-native-model"
NATIVE_FORMAT_VERSION = 1
Library = Literal["xgboost", "lightgbm"]
#: the scikit-learn wrappers stored natively, by library
ESTIMATORS: dict[str, tuple[str, ...]] = {
    "xgboost": ("XGBClassifier", "XGBRegressor"),
    "lightgbm": ("LGBMClassifier", "LGBMRegressor"),
}
#: file names inside an artifact (the descriptor is the manifest's ``model_file``)
DESCRIPTOR_NAME = "model.native.json"
BOOSTER_NAMES: dict[str, str] = {"xgboost": "model.xgboost.ubj", "lightgbm": "model.lightgbm.txt"}
PIPELINE_NAME = "model.pipeline.skops"
#: XGBoost objectives by the wrapper that serves them (a plain booster names no wrapper)
_XGB_CLASSIFIER_OBJECTIVES = ("binary:logistic", "multi:softprob", "multi:softmax")
_XGB_REGRESSOR_PREFIXES = ("reg:", "count:", "survival:")


class NativePart(BaseModel):
    """One file of a native model and its SHA-256."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    sha256: str


class NativeModelSpec(BaseModel):
    """The JSON descriptor of a natively stored model: what the booster format lacks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["mlrails-native-model"] = NATIVE_FORMAT
    format_version: int = NATIVE_FORMAT_VERSION
    library: Library
    library_version: str
    #: the scikit-learn wrapper's class name, e.g. ``XGBClassifier``
    estimator: str
    booster: NativePart
    #: class labels in ``predict_proba`` column order (classifiers)
    classes: list[Any] | None = None
    feature_names: list[str] | None = None
    #: the objective the wrapper resolved at fit time
    objective: str | None = None
    #: the wrapper's plain hyper-parameters (non-finite floats as ``{"float": "nan"}``)
    params: dict[str, Any] = {}
    #: the steps before the model, when the model is a Pipeline's last step
    pipeline: NativePart | None = None
    step_name: str | None = None


# -- which models ----------------------------------------------------------------------------
def native_library(model: Any) -> Library | None:
    """``"xgboost"`` / ``"lightgbm"`` when ``model`` is one of their supported wrappers."""
    cls = type(model)
    root = cls.__module__.split(".")[0]
    if root in ESTIMATORS and cls.__name__ in ESTIMATORS[root]:
        return "xgboost" if root == "xgboost" else "lightgbm"
    return None


def _split_pipeline(model: Any) -> tuple[Any, Any, str | None]:
    """(head pipeline or None, final native model, its step name) for a supported model."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline) and model.steps:
        name, last = model.steps[-1]
        if native_library(last) is not None:
            head = Pipeline(
                [*model.steps[:-1], (name, "passthrough")],
                memory=model.memory,
                verbose=model.verbose,
            )
            return head, last, str(name)
    return None, model, None


def is_native_model(model: Any) -> bool:
    """Whether :func:`dump_native` can store ``model`` (alone or as a Pipeline's last step)."""
    _, last, _ = _split_pipeline(model)
    return native_library(last) is not None


# -- saving ----------------------------------------------------------------------------------
def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plain_params(params: dict[str, Any]) -> dict[str, Any]:
    """The JSON-plain hyper-parameters (callables, arrays, generators left out).

    Not :func:`mlrails._json.jsonable`, which writes a non-finite float as ``null``: here it
    becomes ``{"float": "nan"}`` so that :func:`_restore_params` gives the estimator the same
    value back; a parameter of any other type is left out, not turned into text.
    """
    out: dict[str, Any] = {}
    for k, v in sorted(params.items()):
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = {"float": repr(v)}
        elif v is None or isinstance(v, str | bool | int | float):
            out[k] = v
    return out


def _restore_params(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: float(v["float"]) if isinstance(v, dict) and set(v) == {"float"} else v
        for k, v in params.items()
    }


def _label(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _xgb_bytes(model: Any) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "model.ubj"
        model.save_model(f)
        return f.read_bytes()


def dump_native(model: Any) -> tuple[str, dict[str, bytes]]:
    """``model`` as (descriptor file name, {file name: bytes}) for an artifact.

    Raises ``TypeError`` when the model cannot be stored natively (an unsupported class, a
    custom objective function).
    """
    import skops.io as sio

    head, last, step = _split_pipeline(model)
    library = native_library(last)
    if library is None:
        raise TypeError(f"{type(model).__name__} is not an XGBoost or LightGBM wrapper")
    params = last.get_params(deep=False)
    if callable(params.get("objective")):
        raise TypeError("a custom objective function cannot be stored in the native format")
    classes = getattr(last, "classes_", None)
    if library == "xgboost":
        booster = _xgb_bytes(last)
        names = last.get_booster().feature_names
        objective = str(last.objective) if last.objective is not None else None
    else:
        booster = last.booster_.model_to_string().encode("utf-8")
        names = list(last.feature_names_in_) if hasattr(last, "feature_names_in_") else None
        resolved = getattr(last, "_objective", None) or last.objective
        objective = None if resolved is None else str(resolved)
    files = {BOOSTER_NAMES[library]: booster}
    pipeline = None
    if head is not None:
        files[PIPELINE_NAME] = bytes(sio.dumps(head))
        pipeline = NativePart(name=PIPELINE_NAME, sha256=_sha(files[PIPELINE_NAME]))
    spec = NativeModelSpec(
        library=library,
        library_version=str(getattr(sys.modules.get(library), "__version__", "")),
        estimator=type(last).__name__,
        booster=NativePart(name=BOOSTER_NAMES[library], sha256=_sha(booster)),
        classes=None if classes is None else [_label(c) for c in np.asarray(classes)],
        feature_names=None if names is None else [str(n) for n in names],
        objective=objective,
        params=_plain_params(params),
        pipeline=pipeline,
        step_name=step,
    )
    files[DESCRIPTOR_NAME] = json.dumps(
        spec.model_dump(mode="json"), indent=2, sort_keys=True, allow_nan=False
    ).encode("utf-8")
    return DESCRIPTOR_NAME, files


# -- loading ---------------------------------------------------------------------------------
def _import(library: str, path: Path) -> Any:
    try:
        return __import__(library)
    except ImportError:
        raise load_error(
            path, f"{library} is not installed; install it with `pip install mlrails[{library}]`"
        ) from None


def _read_part(path: Path, part: NativePart) -> bytes:
    if Path(part.name).name != part.name:
        raise load_error(path, f"part {part.name!r} is not a file name next to the descriptor")
    f = path.parent / part.name
    if not f.is_file():
        raise load_error(path, f"part {part.name} is missing")
    data = f.read_bytes()
    if _sha(data) != part.sha256:
        raise load_error(path, f"part {part.name} does not match its SHA-256 (tampered or corrupt)")
    return data


def read_spec(path: Path, data: bytes) -> NativeModelSpec:
    """The descriptor in ``data`` (the file ``path``), validated."""
    try:
        return NativeModelSpec.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        problem = f"not a valid native model descriptor ({where}: {first['msg']})"
        raise load_error(path, problem) from None


def load_native(path: Path, spec: NativeModelSpec, *, trust: bool) -> Any:
    """The model described by ``spec`` (the descriptor at ``path``), parts verified."""
    if spec.estimator not in ESTIMATORS[spec.library]:
        raise load_error(path, f"unsupported {spec.library} estimator {spec.estimator!r}")
    booster = _read_part(path, spec.booster)
    params = _restore_params(spec.params)
    if spec.library == "xgboost":
        model = _load_xgboost(path, booster, spec.estimator, params)
    else:
        model = _load_lightgbm(path, booster, spec, params)
    if spec.pipeline is None:
        return model
    head_bytes = _read_part(path, spec.pipeline)
    head = load_skops_object(path.parent / spec.pipeline.name, head_bytes, trust=trust)
    from sklearn.pipeline import Pipeline

    if not isinstance(head, Pipeline) or not head.steps or head.steps[-1][0] != spec.step_name:
        raise load_error(path, f"{spec.pipeline.name} is not the pipeline the descriptor names")
    head.steps[-1] = (spec.step_name, model)
    return head


def _load_xgboost(path: Path, data: bytes, estimator: str, params: dict[str, Any]) -> Any:
    xgb = _import("xgboost", path)
    model = getattr(xgb, estimator)()
    known = model.get_params(deep=False)
    try:
        model.set_params(**{k: v for k, v in params.items() if k in known})
        model.load_model(bytearray(data))
    except Exception as exc:
        raise load_error(path, f"XGBoost cannot read the model ({error_summary(exc)})") from None
    return model


def _load_lightgbm(path: Path, data: bytes, spec: NativeModelSpec, params: dict[str, Any]) -> Any:
    """A fitted LightGBM wrapper around the booster read from its model text.

    LightGBM has no public way to load a booster into its scikit-learn wrapper; the wrapper's
    fitted attributes are set as its own ``fit`` sets them.
    """
    lgb = _import("lightgbm", path)
    try:
        booster = lgb.Booster(model_str=data.decode("utf-8"))
    except Exception as exc:
        raise load_error(path, f"LightGBM cannot read the model ({error_summary(exc)})") from None
    model = getattr(lgb, spec.estimator)()
    known = model.get_params(deep=False)
    model.set_params(**{k: v for k, v in params.items() if k in known})
    n = booster.num_feature()
    model._Booster = booster
    model._n_features = n
    model._n_features_in = n
    model._fitted_with_feature_names = spec.feature_names is not None
    model._objective = spec.objective
    model._best_iteration = booster.best_iteration
    model._best_score = booster.best_score
    if spec.estimator == "LGBMClassifier":
        from lightgbm.compat import _LGBMLabelEncoder

        if spec.classes is None:
            raise load_error(path, "a LightGBM classifier descriptor must list its classes")
        encoder = _LGBMLabelEncoder().fit(np.asarray(spec.classes))
        model._le = encoder
        model._classes = encoder.classes_
        model._n_classes = len(encoder.classes_)
        model._class_map = dict(
            zip(encoder.classes_, encoder.transform(encoder.classes_), strict=True)
        )
    model.fitted_ = True
    return model


def load_native_file(path: Path, *, trust: bool) -> Any:
    """The model in ``path``: a native descriptor, an XGBoost ``.ubj`` / ``.json`` model file,
    or a LightGBM model text ``.txt`` file."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            doc = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise load_error(path, f"not valid JSON ({exc})") from None
        if isinstance(doc, dict) and doc.get("format") == NATIVE_FORMAT:
            return load_native(path, read_spec(path, data), trust=trust)
        if not (isinstance(doc, dict) and "learner" in doc):
            raise load_error(
                path,
                "a .json model must be an XGBoost model (save_model) or an mlrails native "
                "model descriptor",
            )
    if suffix in (".json", ".ubj"):
        return _load_plain_xgboost(path, data)
    return _load_plain_lightgbm(path, data)


def _load_plain_xgboost(path: Path, data: bytes) -> Any:
    xgb = _import("xgboost", path)
    try:
        booster = xgb.Booster(model_file=bytearray(data))
        config = json.loads(booster.save_config())
        kind = json.loads(booster.attr("scikit_learn") or "{}").get("_estimator_type")
        objective = str(config["learner"]["objective"]["name"])
    except Exception as exc:
        raise load_error(path, f"XGBoost cannot read the model ({error_summary(exc)})") from None
    if kind is None:
        if objective in _XGB_CLASSIFIER_OBJECTIVES:
            kind = "classifier"
        elif objective.startswith(_XGB_REGRESSOR_PREFIXES):
            kind = "regressor"
    if kind not in ("classifier", "regressor"):
        raise load_error(
            path,
            f"XGBoost objective {objective!r} is neither a classifier nor a regressor mlrails "
            "can guard",
        )
    estimator = "XGBClassifier" if kind == "classifier" else "XGBRegressor"
    return _load_xgboost(path, data, estimator, {})


def _load_plain_lightgbm(path: Path, data: bytes) -> Any:
    lgb = _import("lightgbm", path)
    if not data.startswith(b"tree\n"):
        raise load_error(path, "not a LightGBM model text file (it does not start with 'tree')")
    try:
        booster = lgb.Booster(model_str=data.decode("utf-8"))
    except Exception as exc:
        raise load_error(path, f"LightGBM cannot read the model ({error_summary(exc)})") from None
    objective = str(booster.params.get("objective", "")).split()[0] if booster.params else ""
    if not objective:
        header = data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
        line = next((x for x in header.splitlines() if x.startswith("objective=")), "")
        objective = line.removeprefix("objective=").split(" ")[0]
    names = booster.feature_name()
    default = [f"Column_{i}" for i in range(len(names))]
    if objective in ("binary", "multiclass", "multiclassova", "cross_entropy"):
        k = max(2, booster.num_model_per_iteration())
        spec_classes: list[Any] | None = list(range(k))
        estimator = "LGBMClassifier"
    elif objective.startswith(("regression", "huber", "fair", "poisson", "quantile", "mape")) or (
        objective in ("gamma", "tweedie")
    ):
        spec_classes, estimator = None, "LGBMRegressor"
    else:
        raise load_error(
            path,
            f"LightGBM objective {objective!r} is neither a classifier nor a regressor mlrails "
            "can guard",
        )
    spec = NativeModelSpec(
        library="lightgbm",
        library_version=str(getattr(lgb, "__version__", "")),
        estimator=estimator,
        booster=NativePart(name=path.name, sha256=_sha(data)),
        classes=spec_classes,
        feature_names=None if names == default else list(names),
        objective=objective,
    )
    return _load_lightgbm(path, data, spec, {})
