"""Infer an :class:`InputContract` from training data (pandas DataFrame or NumPy array)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlrails.contract.spec import FieldSpec, ImageSpec, InputContract
from mlrails.errors import DataError

MAX_CATEGORIES = 1000
MIN_ROWS_FOR_INTEGER = 30


def infer_contract(X: Any, *, tolerance: float = 0.5) -> InputContract:
    """Learn column names and order, kinds, ranges, vocabularies and nullability from ``X``.

    ``tolerance`` widens every numeric range by that share of its width on each side, so that
    values a little beyond the training range are accepted (the OOD detectors judge those).
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise DataError(f"training table is empty (shape {X.shape})")
        fields = [_infer_field(str(c), X[c], tolerance) for c in X.columns]
        return InputContract(
            layout="frame", fields=fields, tolerance=tolerance, n_training_rows=len(X)
        )
    arr = np.asarray(X)
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise DataError(
            f"training data must be a non-empty 2-D table or image batch, got {arr.shape}"
        )
    if arr.ndim == 2:
        frame = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        fields = [_infer_field(str(c), frame[c], tolerance) for c in frame.columns]
        return InputContract(
            layout="array", fields=fields, tolerance=tolerance, n_training_rows=len(arr)
        )
    values = arr.astype(np.float64)
    if not np.isfinite(values).all():
        raise DataError("image-like training data contains NaN or infinite values")
    lo, hi = float(values.min()), float(values.max())
    pad = tolerance * (hi - lo)
    image = ImageSpec(
        shape=list(arr.shape[1:]),
        dtype=str(arr.dtype),
        minimum=lo,
        maximum=hi,
        lower=lo - pad,
        upper=hi + pad,
    )
    return InputContract(layout="image", image=image, tolerance=tolerance, n_training_rows=len(arr))


def _infer_field(name: str, s: pd.Series, tolerance: float) -> FieldSpec:
    missing = s.isna()
    nullable = bool(missing.any())
    missing_rate = float(missing.mean())
    dtype = str(s.dtype)
    if pd.api.types.is_bool_dtype(s.dtype):
        return FieldSpec(
            name=name, kind="boolean", dtype=dtype, nullable=nullable, missing_rate=missing_rate
        )
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise DataError(f"column {name!r} has no finite values")
        lo, hi = float(finite.min()), float(finite.max())
        pad = tolerance * (hi - lo) if hi > lo else tolerance * max(abs(lo), 1.0)
        integral = bool(np.all(np.equal(np.mod(finite, 1), 0)))
        # float columns holding whole numbers are counts only when there is evidence enough
        integer = integral and (s.dtype.kind in "iu" or finite.size >= MIN_ROWS_FOR_INTEGER)
        return FieldSpec(
            name=name,
            kind="integer" if integer else "numeric",
            dtype=dtype,
            minimum=lo,
            maximum=hi,
            lower=lo - pad,
            upper=hi + pad,
            nullable=nullable,
            missing_rate=missing_rate,
        )
    cats = pd.unique(s.dropna().astype(str))
    if len(cats) > MAX_CATEGORIES:
        raise DataError(
            f"column {name!r} has {len(cats)} distinct text values; a categorical column may "
            f"have at most {MAX_CATEGORIES} (is it free text or an identifier?)"
        )
    return FieldSpec(
        name=name,
        kind="categorical",
        dtype=dtype,
        categories=sorted(str(c) for c in cats),
        nullable=nullable,
        missing_rate=missing_rate,
    )
