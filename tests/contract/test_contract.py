"""Input contract: inference, validation of every violation, JSON Schema export."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

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
    width = age.maximum - age.minimum
    assert age.lower == pytest.approx(age.minimum - 0.5 * width)
    assert age.upper == pytest.approx(age.maximum + 0.5 * width)
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
