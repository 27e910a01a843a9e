"""The encoder: mixed tables, unseen categories, missing values, image-like arrays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from mlrails._state import State
from mlrails.detectors import TabularEncoder, make_detector
from mlrails.errors import DataError, NotFittedError


def test_numeric_array_is_median_centred_and_std_scaled() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -3.0]
    Z = TabularEncoder().fit_transform(X)
    expected = (X - np.median(X, axis=0)) / X.std(axis=0)
    np.testing.assert_allclose(Z, expected, rtol=1e-12)


def test_mixed_frame_layout(mixed_frame: pd.DataFrame) -> None:
    enc = TabularEncoder().fit(mixed_frame)
    assert enc.input_kind_ == "frame"
    assert enc.numeric_columns_ == ["age", "income", "active"]
    assert set(enc.categories_) == {"city", "plan"}
    assert enc.categories_["city"] == ["paris", "lyon", "nice"]  # by frequency
    Z = enc.transform(mixed_frame)
    assert Z.shape == (len(mixed_frame), 3 + 3 + 2) == (len(mixed_frame), enc.n_encoded_)
    assert np.isfinite(Z).all()
    # one-hot block of "city": exactly one 1 per non-missing row
    city = Z[:, 3:6]
    missing = mixed_frame["city"].isna().to_numpy()
    np.testing.assert_array_equal(city.sum(axis=1), np.where(missing, 0.0, 1.0))


def test_unseen_category_and_missing_values_encode_as_zeros_and_median(
    mixed_frame: pd.DataFrame,
) -> None:
    enc = TabularEncoder().fit(mixed_frame)
    new = mixed_frame.iloc[:3].copy()
    new["city"] = ["marseille", None, "lyon"]  # unseen, missing, known
    new["age"] = [np.nan, np.inf, 40.0]
    Z = enc.transform(new)
    np.testing.assert_array_equal(Z[0, 3:6], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(Z[1, 3:6], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(Z[2, 3:6], [0.0, 1.0, 0.0])
    # missing / non-finite numbers are imputed with the training median: standardised 0
    assert Z[0, 0] == 0.0 and Z[1, 0] == 0.0
    median = np.nanmedian(mixed_frame["age"].to_numpy())
    std = np.nanstd(mixed_frame["age"].to_numpy())
    assert Z[2, 0] == pytest.approx((40.0 - median) / std)


def test_image_like_arrays_are_flattened() -> None:
    rng = np.random.default_rng(1)
    for shape in [(30, 8, 8), (30, 4, 4, 3)]:
        X = rng.random(shape)
        enc = TabularEncoder().fit(X)
        assert enc.input_kind_ == "image"
        assert enc.sample_shape_ == shape[1:]
        Z = enc.transform(X)
        flat = X.reshape(30, -1)
        np.testing.assert_allclose(Z, (flat - np.median(flat, axis=0)) / flat.std(axis=0))
        with pytest.raises(DataError, match="features"):
            enc.transform(rng.random((2, 5, 5)))


def test_detectors_accept_images() -> None:
    rng = np.random.default_rng(2)
    X = rng.random((200, 6, 6))
    det = make_detector("ensemble").fit(X)
    assert det.n_features_in_ == 36
    scores = det.score_samples(rng.random((10, 6, 6)))
    assert scores.shape == (10,) and np.isfinite(scores).all()
    bright = det.score_samples(rng.random((10, 6, 6)) + 3.0)
    assert bright.min() > scores.max()


def test_integer_column_labels() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(20, 2)))  # labels 0 and 1
    enc = TabularEncoder().fit(frame)
    assert enc.columns_ == ["0", "1"]
    np.testing.assert_allclose(enc.transform(frame), enc.transform(frame.to_numpy()))


def test_string_array_is_categorical() -> None:
    X = np.array([["a", "x"], ["b", "x"], ["a", "y"]], dtype=object)
    enc = TabularEncoder().fit(X)
    Z = enc.transform(np.array([["a", "z"]], dtype=object))
    np.testing.assert_array_equal(Z, [[1.0, 0.0, 0.0, 0.0]])


def test_state_round_trip(mixed_frame: pd.DataFrame, roundtrip: Callable[[State], State]) -> None:
    enc = TabularEncoder().fit(mixed_frame)
    back = TabularEncoder.from_state(roundtrip(enc.get_state()))
    np.testing.assert_array_equal(back.transform(mixed_frame), enc.transform(mixed_frame))


def test_errors() -> None:
    with pytest.raises(NotFittedError):
        TabularEncoder().transform(np.zeros((1, 1)))
    with pytest.raises(DataError):
        TabularEncoder().fit(np.zeros((0, 3)))
    with pytest.raises(DataError):
        TabularEncoder().fit(pd.DataFrame({"a": []}))
