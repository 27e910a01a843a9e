"""Infer an :class:`InputContract` from training data (pandas DataFrame or NumPy array).

Numeric ranges (:func:`numeric_bounds`): a value is accepted up to ``tolerance`` times the
training spread beyond the smallest and largest training value — a multiple of the spread,
so the margin does not depend on where the values sit on the axis. The spread is the
standard deviation (population, ``ddof=0``), but at least ``(max - min) / 6``: a sparse or
skewed feature (mostly one value, a few large ones) has a small standard deviation and would
otherwise get a margin far narrower than its observed range. A feature whose training values
are all ``>= 0`` keeps its sign (the lower bound is never below 0). A feature constant in
training has no spread to widen by: its range is open (only the sign is kept) unless
``strict_constant`` pins it to the training value. Values that pass the range can still be
judged unusual by the out-of-distribution detectors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails.contract.spec import FieldSpec, ImageSpec, InputContract
from mlrails.errors import DataError

MAX_CATEGORIES = 1000
MIN_ROWS_FOR_INTEGER = 30
#: default margin beyond the training min/max, in units of the training spread
DEFAULT_TOLERANCE = 3.0
#: the spread is at least range / 6 (a normal sample's range is about 6 standard deviations)
RANGE_SPREAD_DIVISOR = 6.0


def numeric_bounds(
    values: NDArray[np.float64], tolerance: float, *, strict_constant: bool = False
) -> tuple[float | None, float | None]:
    """Accepted ``(lower, upper)`` for finite training ``values`` (``None``: unbounded).

    ``[min - tolerance * spread, max + tolerance * spread]`` with
    ``spread = max(std, (max - min) / 6)``, the lower bound raised to 0 when every
    training value is ``>= 0``; a constant feature is open (``strict_constant``: exactly the
    training value). See the module docstring.
    """
    lo, hi = float(values.min()), float(values.max())
    lower: float | None
    upper: float | None
    if hi > lo:
        pad = tolerance * max(float(np.std(values)), (hi - lo) / RANGE_SPREAD_DIVISOR)
        lower, upper = lo - pad, hi + pad
    elif strict_constant:
        lower, upper = lo, hi
    else:
        lower, upper = None, None
    if lo >= 0.0 and (lower is None or lower < 0.0):
        lower = 0.0
    return lower, upper


def infer_contract(
    X: Any, *, tolerance: float = DEFAULT_TOLERANCE, strict_constant: bool = False
) -> InputContract:
    """Learn column names and order, kinds, ranges, vocabularies and nullability from ``X``.

    ``tolerance``: the margin beyond the training min/max, in units of the training spread
    (:func:`numeric_bounds`); ``strict_constant``: a feature constant in training accepts only
    that value (by default it is not a hard contract).
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if isinstance(X, pd.DataFrame):
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise DataError(f"training table is empty (shape {X.shape})")
        fields = [_infer_field(str(c), X[c], tolerance, strict_constant) for c in X.columns]
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
        fields = [_infer_field(str(c), frame[c], tolerance, strict_constant) for c in frame.columns]
        return InputContract(
            layout="array", fields=fields, tolerance=tolerance, n_training_rows=len(arr)
        )
    values = arr.astype(np.float64)
    if not np.isfinite(values).all():
        raise DataError("image-like training data contains NaN or infinite values")
    lo, hi = float(values.min()), float(values.max())
    lower, upper = numeric_bounds(values.ravel(), tolerance, strict_constant=True)
    if hi == lo and not strict_constant:  # one value everywhere: a scale-free margin
        pad = tolerance * max(abs(lo), 1.0)
        lower, upper = (0.0 if lo >= 0 else lo - pad), hi + pad
    image = ImageSpec(
        shape=list(arr.shape[1:]),
        dtype=str(arr.dtype),
        minimum=lo,
        maximum=hi,
        lower=lo if lower is None else lower,
        upper=hi if upper is None else upper,
    )
    return InputContract(layout="image", image=image, tolerance=tolerance, n_training_rows=len(arr))


def _infer_field(name: str, s: pd.Series, tolerance: float, strict_constant: bool) -> FieldSpec:
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
        lower, upper = numeric_bounds(finite, tolerance, strict_constant=strict_constant)
        integral = bool(np.all(np.equal(np.mod(finite, 1), 0)))
        # float columns holding whole numbers are counts only when there is evidence enough
        # (one value repeated, e.g. an always-0 pixel, is no evidence of whole numbers)
        integer = integral and (
            s.dtype.kind in "iu" or (finite.size >= MIN_ROWS_FOR_INTEGER and hi > lo)
        )
        return FieldSpec(
            name=name,
            kind="integer" if integer else "numeric",
            dtype=dtype,
            minimum=lo,
            maximum=hi,
            lower=lower,
            upper=upper,
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
