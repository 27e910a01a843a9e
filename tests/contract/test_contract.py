"""Input contract: inference, validation of every violation, JSON Schema export."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrails.contract import infer_contract, to_json_schema, validate
from mlrails.contract.validate import validate_numeric_array
from mlrails.errors import DataError


@pytest.fixture
def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 100
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "income": rng.normal(50_000, 10_000, n),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "member": rng.random(n) > 0.5,
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        }
    )


def test_infers_kinds_ranges_vocabulary_and_nullability(table: pd.DataFrame) -> None:
    c = infer_contract(table, tolerance=0.5)
    assert c.columns == ["age", "income", "city", "member", "score"]
    age, income, city, member, score = c.fields
    assert age.kind == "integer" and income.kind == "numeric"
    assert city.kind == "categorical" and city.categories == ["lyon", "nice", "paris"]
    assert member.kind == "boolean"
    assert age.minimum == table["age"].min() and age.maximum == table["age"].max()
    spread = max(float(np.std(table["age"])), (age.maximum - age.minimum) / 6)
    assert age.lower == pytest.approx(max(0.0, age.minimum - 0.5 * spread))
    assert age.upper == pytest.approx(age.maximum + 0.5 * spread)
    assert score.nullable and score.missing_rate == pytest.approx(table["score"].isna().mean())
    assert not income.nullable


def test_valid_rows_pass_and_keep_their_values(table: pd.DataFrame) -> None:
    c = infer_contract(table)
    res = validate(c, table.head(10))
    assert res.valid.all() and not res.batch_errors
    np.testing.assert_allclose(res.data["income"], table["income"].head(10))


def test_every_violation_of_every_row_is_reported(table: pd.DataFrame) -> None:
    c = infer_contract(table)
    rows = [
        {"age": "old", "income": np.inf, "city": "rome", "member": True, "score": 0.5},
        {"age": 30.5, "income": 1e12, "city": None, "member": "yes", "score": None},
        {"age": 40, "income": 50_000.0, "city": "paris", "member": False, "score": 0.1},
    ]
    res = validate(c, rows)
    codes = [sorted((e.field, e.code) for e in errs) for errs in res.errors]
    assert codes[0] == [
        ("age", "wrong_type"),
        ("city", "unknown_category"),
        ("income", "not_finite"),
    ]
    assert codes[1] == [
        ("age", "not_integer"),
        ("city", "missing_value"),
        ("income", "out_of_range"),
        ("member", "wrong_type"),
    ]
    assert codes[2] == []
    assert res.valid.tolist() == [False, False, True]
    bad = res.errors[0][0]
    assert bad.to_dict().keys() == {"field", "code", "value", "expected"}
    # values are JSON-safe, even infinities
    json.dumps([e.to_dict() for errs in res.errors for e in errs])


def test_missing_and_unexpected_columns_fail_every_row(table: pd.DataFrame) -> None:
    c = infer_contract(table)
    res = validate(c, table.drop(columns=["city"]).assign(extra=1).head(3))
    assert not res.valid.any()
    assert {(e.field, e.code) for e in res.batch_errors} == {
        ("city", "missing_column"),
        ("extra", "unexpected_column"),
    }


def test_wrong_column_count_and_empty_batch() -> None:
    X = np.random.default_rng(0).normal(size=(50, 4))
    c = infer_contract(X)
    assert c.layout == "array" and c.columns == ["x0", "x1", "x2", "x3"]
    res = validate(c, np.zeros((2, 3)))
    assert res.n_rows == 2 and res.batch_errors[0].code == "wrong_column_count"
    empty = validate(c, np.zeros((0, 4)))
    assert empty.n_rows == 0 and empty.batch_errors[0].code == "empty_batch"


def test_fast_path_agrees_with_general_path() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 6))
    c = infer_contract(X)
    good = rng.normal(size=(20, 6)) * 0.5
    fast = validate_numeric_array(c, good)
    assert fast is not None and fast.valid.all()
    np.testing.assert_array_equal(fast.data, validate(c, good).data)
    bad = good.copy()
    bad[3, 2] = 1e9
    assert validate_numeric_array(c, bad) is None  # falls back to report every violation
    assert validate(c, bad).valid.tolist() == [i != 3 for i in range(20)]


def test_image_contract_checks_shape_and_range() -> None:
    imgs = np.random.default_rng(0).random((30, 8, 8))
    c = infer_contract(imgs, tolerance=0.1)
    assert c.layout == "image" and c.image is not None and c.image.shape == [8, 8]
    assert validate(c, imgs[:4]).valid.all()
    wrong = validate(c, np.zeros((2, 7, 8)))
    assert wrong.batch_errors[0].code == "wrong_shape" and not wrong.valid.any()
    bright = imgs[:3].copy()
    bright[1] += 5.0
    bright[2, 0, 0] = np.nan
    res = validate(c, bright)
    assert res.valid.tolist() == [True, False, False]
    assert res.errors[1][0].code == "out_of_range" and res.errors[2][0].code == "not_finite"
    single = validate(c, imgs[0])  # one sample without the batch axis
    assert single.n_rows == 1 and single.valid.all()


def test_json_schema_matches_contract(table: pd.DataFrame) -> None:
    c = infer_contract(table)
    schema = to_json_schema(c)
    assert schema["required"] == c.columns
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["age"]["type"] == "integer"
    assert props["income"]["minimum"] == c.field("income").lower
    assert props["city"]["enum"] == ["lyon", "nice", "paris"]
    assert props["score"]["type"] == ["number", "null"]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(schema)
    row = table.iloc[0].to_dict()
    row = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    row["score"] = None if pd.isna(row["score"]) else row["score"]
    jsonschema.validate(row, schema)


def test_contract_round_trips_through_json(table: pd.DataFrame) -> None:
    from mlrails.contract import InputContract

    c = infer_contract(table)
    assert InputContract.model_validate_json(c.model_dump_json()) == c


def test_inference_rejects_unusable_training_data() -> None:
    with pytest.raises(DataError):
        infer_contract(pd.DataFrame())
    with pytest.raises(DataError, match="free text or an identifier"):
        infer_contract(pd.DataFrame({"id": [f"user{i}" for i in range(1500)]}))


# -- numeric ranges: a multiple of the spread, sign kept, constants open ------------------
def test_range_bounds_hand_computed() -> None:
    """[min - k*spread, max + k*spread], spread = max(std, range/6), lower >= 0 if min >= 0."""
    frame = pd.DataFrame(
        {
            # std sqrt(2) > range/6: upper 4 + 3 sqrt(2); lower 0, not negative
            "count": [0, 1, 2, 3, 4] * 20,
            # std sqrt(8/5) = 1.2649 > range/6: symmetric margin
            "signed": [-2.0, 0.0, 2.0, 0.0, 0.0] * 20,
            # std 2.4 > range/6 = 1: upper 6 + 3 * 2.4
            "sparse": [0.0, 0.0, 0.0, 0.0, 6.0] * 20,
            # std 5.97 < range/6 = 10: upper 60 + 3 * 10
            "skewed": [0.0] * 99 + [60.0],
            "zero": [0.0] * 100,  # constant: open above, sign kept
            "minus": [-3.0] * 100,  # constant and negative: open both ways
        }
    )
    c = infer_contract(frame, tolerance=3.0)
    bounds = {f.name: (f.lower, f.upper) for f in c.fields}
    assert bounds["count"] == (0.0, pytest.approx(4 + 3 * np.sqrt(2)))
    assert bounds["signed"] == (
        pytest.approx(-2 - 3 * np.sqrt(8 / 5)),
        pytest.approx(2 + 3 * np.sqrt(8 / 5)),
    )
    assert bounds["sparse"] == (0.0, pytest.approx(6 + 3 * 2.4))
    assert bounds["skewed"] == (0.0, pytest.approx(60 + 3 * 10))
    assert bounds["zero"] == (0.0, None)
    assert bounds["minus"] == (None, None)
    strict = infer_contract(frame, tolerance=3.0, strict_constant=True)
    assert (strict.field("zero").lower, strict.field("zero").upper) == (0.0, 0.0)
    assert (strict.field("minus").lower, strict.field("minus").upper) == (-3.0, -3.0)


def _draw(kind: str, rng: np.random.Generator, n: int, scale: float) -> np.ndarray:
    if kind == "normal":
        return rng.normal(scale, scale, n)
    if kind == "uniform":
        return rng.uniform(0.0, scale, n)
    if kind == "exponential":
        return rng.exponential(scale, n)
    if kind == "lognormal":
        return scale * rng.lognormal(0.0, 0.5, n)
    if kind == "poisson":
        return rng.poisson(max(scale, 0.1), n).astype(np.int64)
    if kind == "binomial":
        return rng.binomial(16, 0.3, n).astype(np.int64)
    if kind == "sparse":  # a digits-like pixel: mostly 0, rarely 1..16
        return np.where(rng.random(n) < 0.02, rng.integers(1, 17, n), 0).astype(np.int64)
    return np.full(n, scale)  # constant


KINDS = ["normal", "uniform", "exponential", "lognormal", "poisson", "binomial", "sparse"]
BOUNDED = {"uniform", "binomial", "constant"}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    kinds=st.lists(st.sampled_from([*KINDS, "constant"]), min_size=1, max_size=6),
    n=st.integers(100, 400),
    scale=st.floats(0.01, 1e5),
    seed=st.integers(0, 2**16),
    tolerance=st.sampled_from([3.0]),
)
def test_clean_rows_from_the_training_distribution_pass(
    kinds: list[str], n: int, scale: float, seed: int, tolerance: float
) -> None:
    rng = np.random.default_rng(seed)
    cols = {f"c{j}_{k}": k for j, k in enumerate(kinds)}
    train = pd.DataFrame({c: _draw(k, rng, n, scale) for c, k in cols.items()})
    fresh = pd.DataFrame({c: _draw(k, rng, n, scale) for c, k in cols.items()})
    contract = infer_contract(train, tolerance=tolerance)
    res = validate(contract, fresh)
    refused = [e for row in res.errors for e in row]
    assert all(e.code == "out_of_range" for e in refused), refused[:3]
    # unbounded distributions can in principle exceed max + 3 spreads; it must be rare
    assert len(refused) <= 0.01 * n, refused[:3]
    for e in refused:
        assert cols[e.field] not in BOUNDED, e
    for f in contract.fields:  # a non-negative training feature keeps its sign
        if f.minimum is not None and f.minimum >= 0:
            assert f.lower is not None and f.lower >= 0.0


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    kind=st.sampled_from(["uniform", "exponential", "poisson", "sparse", "constant"]),
    scale=st.floats(0.0, 1e4),
    negative=st.floats(1e-9, 1e6),
    tolerance=st.floats(0.0, 100.0),
    seed=st.integers(0, 2**16),
)
def test_non_negative_features_never_accept_negatives(
    kind: str, scale: float, negative: float, tolerance: float, seed: int
) -> None:
    train = pd.DataFrame({"x": _draw(kind, np.random.default_rng(seed), 200, scale)})
    contract = infer_contract(train, tolerance=tolerance)
    res = validate(contract, pd.DataFrame({"x": [-negative]}))
    assert not res.valid[0]
    assert res.errors[0][0].code == "out_of_range"
    assert contract.fields[0].lower is not None and contract.fields[0].lower >= 0.0


@settings(max_examples=20, deadline=None, derandomize=True)
@given(value=st.floats(-1e6, 1e6), other=st.floats(-1e6, 1e6), integer=st.booleans())
def test_constant_features_are_open_unless_strict(
    value: float, other: float, integer: bool
) -> None:
    """An always-0 pixel (any constant) does not refuse other values unless told so."""
    v = float(round(value)) if integer else value
    o = float(round(other)) if integer else other
    train = pd.DataFrame({"x": np.full(50, v), "y": np.arange(50)})
    if integer:
        train["x"] = train["x"].astype(np.int64)
    row = pd.DataFrame({"x": [o], "y": [3]})
    open_ok = validate(infer_contract(train), row).valid[0]
    assert open_ok == (v < 0 or o >= 0)  # only the sign of a non-negative constant is kept
    strict = validate(infer_contract(train, strict_constant=True), row).valid[0]
    assert strict == (o == v)
