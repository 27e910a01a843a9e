"""How rules compare names and types across descriptors.

Names are compared after normalisation (case, spaces/underscores/dashes, version specifiers such
as ``torch>=2.1``, and a few well-known aliases: ``torch`` = ``pytorch``, ``sklearn`` =
``scikit-learn``, ``FNR`` = ``false negative rate``), not as raw strings; free-text types are
compared by family (integer, float, string, ...).
"""

from __future__ import annotations

import re

from mlrails.descriptors.trained_model import MetricResult

_ALIASES: dict[str, str] = {
    # frameworks
    "sklearn": "scikit-learn",
    "scikit": "scikit-learn",
    "scikitlearn": "scikit-learn",
    "torch": "pytorch",
    "tf": "tensorflow",
    "tensorflow-gpu": "tensorflow",
    "tf-keras": "keras",
    "xgb": "xgboost",
    "lgbm": "lightgbm",
    "onnxruntime": "onnx-runtime",
    "hf-transformers": "transformers",
    # languages
    "python3": "python",
    "py": "python",
    "c++": "cpp",
    "golang": "go",
    "js": "javascript",
    "ts": "typescript",
    "c#": "csharp",
}

_METRICS: dict[str, str] = {
    "fnr": "false negative rate",
    "miss rate": "false negative rate",
    "false negative rate": "false negative rate",
    "fpr": "false positive rate",
    "fall-out": "false positive rate",
    "false positive rate": "false positive rate",
    "ppv": "positive predictive value",
    "precision": "positive predictive value",
    "positive predictive value": "positive predictive value",
    "npv": "negative predictive value",
    "negative predictive value": "negative predictive value",
    "f1": "f1 score",
    "f1 score": "f1 score",
    "f-score": "f1 score",
    "f1-score": "f1 score",
    "accuracy": "accuracy",
    "acc": "accuracy",
    "recall": "recall",
    "sensitivity": "recall",
    "tpr": "recall",
    "true positive rate": "recall",
    "specificity": "specificity",
    "tnr": "specificity",
    "true negative rate": "specificity",
    "auc": "roc auc",
    "roc auc": "roc auc",
    "auroc": "roc auc",
}
_VERSION_SPEC = re.compile(r"\s*(?:[<>=!~^]=?|==|\s+v?\d).*$")


def norm_name(name: str) -> str:
    """Lower case, version specifier dropped, ``_``/spaces as ``-``, known aliases resolved."""
    s = _VERSION_SPEC.sub("", name.strip().lower())
    s = re.sub(r"[\s_]+", "-", s).strip("-")
    return _ALIASES.get(s, s)


def norm_text(name: str) -> str:
    """Lower case with runs of spaces, ``_`` and ``-`` as one space (metric/log/feedback names)."""
    return re.sub(r"[\s_\-]+", " ", name.strip().lower()).strip()


def canonical_metric(text: str) -> str:
    """The canonical name of a performance metric in ``text`` (whole text, else a known metric
    named inside it, e.g. ``"FNR below 2%"``), else the normalised text."""
    t = norm_text(text)
    if t in _METRICS:
        return _METRICS[t]
    for alias in sorted(_METRICS, key=len, reverse=True):
        if re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", t):
            return _METRICS[alias]
    return t


def metric_result_name(m: MetricResult) -> str:
    """A model metric's name: ``other_metric`` when the metric is ``Other``."""
    return m.other_metric if m.metric == "Other" else m.metric


_TYPE_FAMILY: dict[str, str] = {}
for _family, _names in {
    "integer": ("int", "integer", "int8", "int16", "int32", "int64", "long", "short", "uint8"),
    "float": ("float", "double", "real", "decimal", "float16", "float32", "float64"),
    "number": ("number", "numeric", "num"),
    "string": ("string", "str", "text", "varchar", "char", "category", "categorical", "enum"),
    "boolean": ("bool", "boolean", "binary flag"),
    "datetime": ("date", "datetime", "timestamp", "time", "date-time"),
    "image": ("image", "img", "picture"),
}.items():
    for _n in _names:
        _TYPE_FAMILY[_n] = _family

TypeVerdict = str  # "ok" | "lossy" | "incompatible" | "unknown"


def type_family(type_name: str) -> str | None:
    """The type family of a free-text type (integer, float, number, string, boolean,
    datetime, image), or ``None`` when unknown or ``Other``/``any``."""
    return _TYPE_FAMILY.get(norm_text(type_name))


def type_compatibility(produced: str, consumed: str) -> TypeVerdict:
    """Can values of type ``produced`` feed a consumer of type ``consumed``?

    ``ok``: same family, or integer/float into number/float; ``lossy``: float into integer,
    boolean into a number and back; ``incompatible``: anything else across families (e.g.
    string into integer); ``unknown``: a side is untyped (``Other``, ``any``, unrecognised).
    """
    a, b = type_family(produced), type_family(consumed)
    if a is None or b is None:
        return "unknown"
    if a == b:
        return "ok"
    numeric = {"integer", "float", "number"}
    if a in numeric and b in numeric:
        return "lossy" if b == "integer" else "ok"
    if {a, b} <= numeric | {"boolean"}:
        return "lossy"
    return "incompatible"
