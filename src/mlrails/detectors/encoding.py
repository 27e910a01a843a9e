"""Encode mixed numeric/categorical tables (or image-like arrays) into one numeric matrix.

Detectors measure distances and densities, which need numbers on comparable scales. The
encoder is fitted on training data and saved inside each detector's state: numeric columns are
median-imputed and robustly standardised; categorical columns are one-hot encoded over their
training vocabulary (an unseen category encodes as all zeros); image-like arrays are flattened.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails._state import State
from mlrails.errors import DataError, NotFittedError

MAX_CATEGORIES = 50


def is_categorical_series(series: pd.Series) -> bool:
    """Whether a column is treated as categorical (anything non-numeric, booleans excepted)."""
    return not (
        pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype)
    )


class TabularEncoder:
    """Fitted mapping from raw input rows to a float64 matrix (see module docstring)."""

    def __init__(self) -> None:
        self.input_kind_: str | None = None
        self.columns_: list[str] = []
        self.numeric_columns_: list[str] = []
        self.categories_: dict[str, list[str]] = {}
        self.center_: NDArray[np.float64] = np.zeros(0)
        self.scale_: NDArray[np.float64] = np.ones(0)
        self.sample_shape_: tuple[int, ...] = ()

    # -- fitting -------------------------------------------------------------------------
    def fit(self, X: Any) -> TabularEncoder:
        if isinstance(X, pd.DataFrame):
            self._fit_frame(X)
        else:
            arr = np.asarray(X)
            if arr.ndim < 2 or arr.shape[0] == 0:
                raise DataError(f"expected a non-empty 2-D or image-like array, got {arr.shape}")
            if arr.ndim == 2 and arr.dtype.kind in "OUS":
                self._fit_frame(pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])]))
                self.input_kind_ = "array"
                return self
            self.input_kind_ = "array" if arr.ndim == 2 else "image"
            self.sample_shape_ = tuple(arr.shape[1:])
            flat = arr.reshape(arr.shape[0], -1).astype(np.float64)
            self.columns_ = [f"x{i}" for i in range(flat.shape[1])]
            self.numeric_columns_ = list(self.columns_)
            self.center_, self.scale_ = _robust_center_scale(flat)
        return self

    def _fit_frame(self, X: pd.DataFrame) -> None:
        if len(X) == 0:
            raise DataError("cannot fit on an empty table")
        X = _str_columns(X)
        self.input_kind_ = "frame"
        self.columns_ = [str(c) for c in X.columns]
        self.numeric_columns_ = []
        self.categories_ = {}
        for col in X.columns:
            s = X[col]
            if is_categorical_series(s):
                counts = s.dropna().astype(str).value_counts()
                self.categories_[str(col)] = [str(c) for c in counts.index[:MAX_CATEGORIES]]
            else:
                self.numeric_columns_.append(str(col))
        num = _numeric_block(X, self.numeric_columns_)
        self.center_, self.scale_ = _robust_center_scale(num)

    # -- transforming --------------------------------------------------------------------
    def transform(self, X: Any) -> NDArray[np.float64]:
        if self.input_kind_ is None:
            raise NotFittedError("TabularEncoder is not fitted")
        if not self.categories_ and not isinstance(X, pd.DataFrame) and self.input_kind_ != "image":
            arr = np.asarray(X)
            if arr.ndim == 2 and arr.dtype.kind in "fiub" and arr.shape[1] == self.center_.size:
                return _standardise(arr.astype(np.float64, copy=False), self.center_, self.scale_)
        if self.input_kind_ == "frame" or (self.categories_ and not isinstance(X, pd.DataFrame)):
            frame = (
                _str_columns(X)
                if isinstance(X, pd.DataFrame)
                else pd.DataFrame(np.asarray(X), columns=self.columns_)
            )
            num = _numeric_block(frame, self.numeric_columns_)
            parts = [_standardise(num, self.center_, self.scale_)]
            for col, cats in self.categories_.items():
                values = frame[col].astype(object).where(frame[col].notna(), None)
                strs = np.array([None if v is None else str(v) for v in values], dtype=object)
                parts.append(
                    np.stack([strs == c for c in cats], axis=1).astype(np.float64)
                    if cats
                    else np.zeros((len(frame), 0))
                )
            return np.hstack(parts) if parts else np.zeros((len(frame), 0))
        arr = np.asarray(X, dtype=np.float64)
        flat = arr.reshape(arr.shape[0], -1)
        if flat.shape[1] != self.center_.size:
            raise DataError(f"expected {self.center_.size} features, got {flat.shape[1]}")
        return _standardise(flat, self.center_, self.scale_)

    def encodes_matrix_like_table(self, columns: list[str]) -> bool:
        """Whether a float matrix whose columns are ``columns`` encodes exactly as the table.

        True when the encoder is purely numeric (no categorical columns) and ``columns`` are
        its numeric columns in order: ``transform`` then standardises the same numbers in the
        same order either way, and the matrix skips converting the table again.
        """
        return (
            self.input_kind_ in ("frame", "array")
            and not self.categories_
            and self.numeric_columns_ == columns
            and self.center_.size == len(columns)
        )

    def encoded_features(self) -> list[str]:
        """The input column of each encoded column, in ``transform``'s order (a categorical
        column once per one-hot column; an image's pixels as ``x0, x1, ...``)."""
        if self.input_kind_ is None:
            raise NotFittedError("TabularEncoder is not fitted")
        names = list(self.numeric_columns_)
        for col, cats in self.categories_.items():
            names.extend([col] * len(cats))
        return names

    def fit_transform(self, X: Any) -> NDArray[np.float64]:
        return self.fit(X).transform(X)

    @property
    def n_encoded_(self) -> int:
        return int(self.center_.size + sum(len(c) for c in self.categories_.values()))

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> State:
        if self.input_kind_ is None:
            raise NotFittedError("TabularEncoder is not fitted")
        return State(
            meta={
                "input_kind": self.input_kind_,
                "columns": self.columns_,
                "numeric_columns": self.numeric_columns_,
                # (column, vocabulary) pairs: the one-hot blocks follow this order, and a
                # JSON object's key order is not kept (the artifact writes sorted keys)
                "categories": [[col, list(cats)] for col, cats in self.categories_.items()],
                "sample_shape": list(self.sample_shape_),
            },
            arrays={"center": self.center_, "scale": self.scale_},
        )

    @classmethod
    def from_state(cls, state: State) -> TabularEncoder:
        enc = cls()
        enc.input_kind_ = str(state.meta["input_kind"])
        enc.columns_ = list(state.meta["columns"])
        enc.numeric_columns_ = list(state.meta["numeric_columns"])
        enc.categories_ = _categories_from_state(state.meta["categories"], enc.columns_)
        enc.sample_shape_ = tuple(state.meta.get("sample_shape", []))
        enc.center_ = np.asarray(state.array("center"), dtype=np.float64)
        enc.scale_ = np.asarray(state.array("scale"), dtype=np.float64)
        return enc


def _categories_from_state(saved: Any, columns: list[str]) -> dict[str, list[str]]:
    """The vocabularies in encoding order, from ``[[column, vocabulary], ...]``.

    Artifacts written before the pairs saved a ``{column: vocabulary}`` object, whose key order
    the JSON writer sorted; the fitted order is the table's column order (``columns``), so such
    an object is put back in that order.
    """
    if isinstance(saved, dict):
        rank = {c: i for i, c in enumerate(columns)}
        pairs = sorted(saved.items(), key=lambda kv: (rank.get(str(kv[0]), len(rank)), kv[0]))
    else:
        pairs = [(col, cats) for col, cats in saved]
    return {str(col): [str(c) for c in cats] for col, cats in pairs}


def _str_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with its column labels as strings (labels are saved and matched as text)."""
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    return frame.set_axis([str(c) for c in frame.columns], axis=1)


def _numeric_block(frame: pd.DataFrame, columns: list[str]) -> NDArray[np.float64]:
    return numeric_matrix(frame, columns)


def numeric_matrix(frame: pd.DataFrame, columns: list[Any]) -> NDArray[np.float64]:
    """``frame[columns]`` as float64; values that are not numbers become NaN.

    Numeric columns are taken as they are (one fast ``to_numpy``); only object/text columns
    go through ``pd.to_numeric``.
    """
    if not columns:
        return np.zeros((len(frame), 0))
    sub = frame if list(frame.columns) == list(columns) else frame[columns]
    if all(pd.api.types.is_numeric_dtype(d) or pd.api.types.is_bool_dtype(d) for d in sub.dtypes):
        return np.asarray(sub.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    block = sub.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(block, dtype=np.float64)


def _robust_center_scale(
    block: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if block.shape[1] == 0:
        return np.zeros(0), np.ones(0)
    clean = np.where(np.isfinite(block), block, np.nan)
    with np.errstate(all="ignore"):
        center = np.nanmedian(clean, axis=0)
        scale = np.nanstd(clean, axis=0)
    center = np.where(np.isfinite(center), center, 0.0)
    scale = np.where(np.isfinite(scale) & (scale > 1e-12), scale, 1.0)
    return center.astype(np.float64), scale.astype(np.float64)


def _standardise(
    block: NDArray[np.float64], center: NDArray[np.float64], scale: NDArray[np.float64]
) -> NDArray[np.float64]:
    clean = np.where(np.isfinite(block), block, np.nan)
    clean = np.where(np.isnan(clean), center, clean)
    return (clean - center) / scale
