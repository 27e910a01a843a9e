"""Rows as the float matrix the model-agnostic SHAP explainers mask, and back.

SHAP's maskers only handle numbers: :class:`TabularCodec` integer-codes every non-numeric
column (strings, categoricals, objects, dates) and decodes masked matrices back into rows of
the background's own layout and dtypes before the model sees them.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


class TabularCodec:
    """Map rows to a float matrix SHAP can mask, and masked matrices back to model input.

    Numeric columns pass through; any other column (strings, categoricals, objects, dates) is
    replaced by integer codes into a per-column list of the values seen so far.
    """

    def __init__(self, background: Any) -> None:
        self.is_frame = isinstance(background, pd.DataFrame)
        self.categories: dict[int, list[Any]] = {}
        self._lookup: dict[int, dict[Any, int]] = {}
        if self.is_frame:
            frame: pd.DataFrame = background
            self.columns: list[Any] = list(frame.columns)
            self.dtypes: list[Any] = list(frame.dtypes)
            self.sample_shape: tuple[int, ...] = (len(self.columns),)
            for j, dtype in enumerate(self.dtypes):
                if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                    self.categories[j] = []
                    self._lookup[j] = {}
            self.array_dtype: Any = None
        else:
            arr = np.asarray(background)
            self.columns = []
            self.dtypes = []
            self.sample_shape = tuple(arr.shape[1:])
            self.array_dtype = arr.dtype
            if arr.dtype.kind not in "biuf":
                width = int(np.prod(self.sample_shape))
                for j in range(width):
                    self.categories[j] = []
                    self._lookup[j] = {}

    @property
    def n_features(self) -> int:
        return int(np.prod(self.sample_shape))

    def _code(self, j: int, value: Any) -> int:
        key: Any = value
        if _is_missing(value):
            key = ("__missing__",)
        try:
            return self._lookup[j][key]
        except KeyError:
            self._lookup[j][key] = len(self.categories[j])
            self.categories[j].append(value)
            return self._lookup[j][key]
        except TypeError:  # unhashable value: code by its repr
            key = ("__repr__", repr(value))
            if key not in self._lookup[j]:
                self._lookup[j][key] = len(self.categories[j])
                self.categories[j].append(value)
            return self._lookup[j][key]

    def encode(self, X: Any) -> NDArray[np.float64]:
        if self.is_frame:
            frame: pd.DataFrame = X
            out = np.empty((len(frame), len(self.columns)), dtype=np.float64)
            for j, col in enumerate(self.columns):
                series = frame[col]
                if j in self.categories:
                    out[:, j] = [self._code(j, v) for v in series.astype(object).tolist()]
                else:
                    out[:, j] = series.to_numpy(dtype=np.float64, na_value=np.nan)
            return out
        arr = np.asarray(X).reshape(len(X), -1)
        if not self.categories:
            return arr.astype(np.float64)
        out = np.empty(arr.shape, dtype=np.float64)
        for j in range(arr.shape[1]):
            out[:, j] = [self._code(j, v) for v in arr[:, j].tolist()]
        return out

    def decode(self, Z: NDArray[Any]) -> Any:
        Z = np.asarray(Z)
        if self.is_frame:
            data: dict[Any, Any] = {}
            for j, col in enumerate(self.columns):
                if j in self.categories:
                    cats = np.empty(len(self.categories[j]), dtype=object)
                    cats[:] = self.categories[j]
                    data[col] = cats[Z[:, j].astype(np.intp)]
                else:
                    data[col] = Z[:, j]
            frame = pd.DataFrame(data, columns=self.columns)
            for col, dtype in zip(self.columns, self.dtypes, strict=True):
                if frame[col].dtype != dtype:
                    with contextlib.suppress(TypeError, ValueError):
                        frame[col] = frame[col].astype(dtype)
            return frame
        if self.categories:
            out = np.empty(Z.shape, dtype=object)
            for j in range(Z.shape[1]):
                cats = np.empty(len(self.categories[j]), dtype=object)
                cats[:] = self.categories[j]
                out[:, j] = cats[Z[:, j].astype(np.intp)]
            return out.astype(self.array_dtype).reshape((len(Z), *self.sample_shape))
        return Z.astype(self.array_dtype, copy=False).reshape((len(Z), *self.sample_shape))
