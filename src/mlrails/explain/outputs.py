"""The explained output: SHAP's result layouts as arrays, and how it gives the served output.

SHAP returns values and base values in several layouts (per version, per explainer, per
number of outputs): :func:`normalize` makes them ``(n, d, K)`` and ``(n, K)``. A tree or
linear explainer explains the model's own output; :func:`match_link` finds how that output
gives the model's probabilities, and :func:`calibration_temperature` whether the rails'
calibrator keeps that link exact (see :mod:`mlrails.explain.shap_explainer`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, softmax

#: background rows on which a specialised explainer's output is checked against the model
CHECK_ROWS = 20
#: tolerance of that check (probabilities)
CHECK_TOL = 1e-6


def normalize(values: Any, base: Any, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
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


def calibration_temperature(calibrator: Any) -> float | None:
    """The temperature of a temperature-scaling calibrator; 1 for none; None otherwise."""
    method = getattr(calibrator, "method", "none") if calibrator is not None else "none"
    if method == "none":
        return 1.0
    if method == "temperature":
        return float(calibrator.temperature_)
    return None


def is_calibrating(calibrator: Any) -> bool:
    """Whether ``calibrator`` changes the model's probabilities (any method but ``none``)."""
    return calibrator is not None and getattr(calibrator, "method", "none") != "none"


def match_link(out: NDArray[np.float64], P: NDArray[np.float64], single: bool) -> str:
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
