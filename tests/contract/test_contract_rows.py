"""A batch of records is judged row by row: each row gets exactly its own faults, all of them.

Property: in a random batch of records where random rows get random faults (a key dropped,
an unknown key added, a key misspelt, a value of the wrong type, a NaN), every faulty row's
violations are exactly the faults put in it (with their codes: ``missing_column`` for an
absent key, ``unexpected_column`` for an unknown one, ``wrong_type``, ``missing_value``), and
every clean row has none, whatever the other rows hold. A boolean in a numeric or integer
field, and a number (``0`` and ``1`` included) in a boolean one, is ``wrong_type``: Python's
``bool`` is an ``int``, the contract's types are not.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from mlrails.contract import InputContract, infer_contract, validate
from mlrails.contract.spec import FieldSpec
from mlrails.contract.validate import (
    MISSING_COLUMN,
    MISSING_VALUE,
    UNEXPECTED_COLUMN,
    UNKNOWN_CATEGORY,
    WRONG_TYPE,
    validate_fast,
)

CITIES = ["lyon", "nice", "paris"]
FIELDS = [
    FieldSpec(name="income", kind="numeric", dtype="float64", lower=0.0, upper=1e6),
    FieldSpec(name="age", kind="integer", dtype="int64", lower=0.0, upper=120.0),
    FieldSpec(name="city", kind="categorical", dtype="object", categories=CITIES),
    FieldSpec(name="member", kind="boolean", dtype="bool"),
    FieldSpec(name="score", kind="numeric", dtype="float64", lower=0.0, upper=1.0, nullable=True),
]
COLUMNS = [f.name for f in FIELDS]
KIND = {f.name: f.kind for f in FIELDS}
NOT_NULLABLE = [f.name for f in FIELDS if not f.nullable]
TYPED = [f.name for f in FIELDS if f.kind != "categorical"]  # a string is the wrong type
#: a value of the other JSON scalar type: a boolean for a number, a number for a boolean
OTHER_TYPE: dict[str, st.SearchStrategy[Any]] = {
    "numeric": st.booleans() | st.booleans().map(np.bool_),
    "integer": st.booleans() | st.booleans().map(np.bool_),
    "boolean": st.sampled_from([0, 1, 0.0, 1.0]) | st.integers() | st.floats(allow_nan=False),
}

Fault = tuple[str, str]  # (field, code)


def _contract(allow_extra: bool) -> InputContract:
    return InputContract(layout="frame", fields=FIELDS, allow_extra_columns=allow_extra)


clean_rows = st.fixed_dictionaries(
    {
        "income": st.floats(0.0, 1e6),
        "age": st.integers(0, 120),
        "city": st.sampled_from(CITIES),
        "member": st.booleans(),
        "score": st.one_of(st.none(), st.floats(0.0, 1.0)),
    }
)
#: names that are never a contract column nor a misspelling of one
stray_names = st.text("abcdefghij", min_size=1, max_size=6).map(lambda s: "zz_" + s)


def _misspell(name: str, how: int) -> str:
    forms = [name[:-1], name + name[-1], name[0].upper() + name[1:], name[1:], name + "_"]
    return forms[how % len(forms)]


@st.composite
def faulty_row(draw: st.DrawFn, allow_extra: bool) -> tuple[dict[str, Any], list[Fault]]:
    """A record and the faults it must be reported with (none for a clean one)."""
    row: dict[str, Any] = draw(clean_rows)
    faults: list[Fault] = []
    if not draw(st.booleans()):  # about half the rows stay clean
        return _shuffled(draw, row), faults
    targets = draw(st.lists(st.sampled_from(COLUMNS), unique=True, max_size=3))
    for col in targets:
        kinds = ["drop", "misspell"]
        kinds += ["wrong_type", "other_type"] if col in TYPED else ["unknown_category"]
        kinds += ["nan"] if col in NOT_NULLABLE else []
        kind = draw(st.sampled_from(kinds))
        if kind == "drop":
            del row[col]
            faults.append((col, MISSING_COLUMN))
        elif kind == "misspell":
            wrong = _misspell(col, draw(st.integers(0, 4)))
            row[wrong] = row.pop(col)
            faults.append((col, MISSING_COLUMN))
            if not allow_extra:
                faults.append((wrong, UNEXPECTED_COLUMN))
        elif kind == "wrong_type":
            row[col] = draw(st.text(max_size=5))
            faults.append((col, WRONG_TYPE))
        elif kind == "other_type":
            row[col] = draw(OTHER_TYPE[KIND[col]])
            faults.append((col, WRONG_TYPE))
        elif kind == "unknown_category":
            row[col] = draw(st.text(max_size=5).filter(lambda s: s not in CITIES))
            faults.append((col, UNKNOWN_CATEGORY))
        else:
            row[col] = math.nan
            faults.append((col, MISSING_VALUE))
    for name in draw(st.lists(stray_names, unique=True, max_size=2)):
        row[name] = draw(st.one_of(st.integers(), st.text(max_size=3), st.none()))
        if not allow_extra:
            faults.append((name, UNEXPECTED_COLUMN))
    return _shuffled(draw, row), faults


def _shuffled(draw: st.DrawFn, row: dict[str, Any]) -> dict[str, Any]:
    keys = draw(st.permutations(list(row)))
    return {k: row[k] for k in keys}


@st.composite
def batches(draw: st.DrawFn) -> tuple[bool, list[dict[str, Any]], list[list[Fault]]]:
    allow_extra = draw(st.booleans())
    pairs = draw(st.lists(faulty_row(allow_extra), min_size=1, max_size=12))
    return allow_extra, [r for r, _ in pairs], [f for _, f in pairs]


def _codes(errors: list[Any]) -> Counter[Fault]:
    return Counter((e.field, e.code) for e in errors)


@settings(max_examples=60, deadline=None)
@given(batches())
def test_each_record_gets_exactly_its_own_faults(
    batch: tuple[bool, list[dict[str, Any]], list[list[Fault]]],
) -> None:
    allow_extra, rows, faults = batch
    contract = _contract(allow_extra)
    res = validate(contract, rows)
    assert res.batch_errors == []
    assert res.n_rows == len(rows)
    for i, want in enumerate(faults):
        assert _codes(res.row_errors(i)) == Counter(want), (i, rows[i])
    assert res.valid.tolist() == [not f for f in faults]
    # the table keeps the contract's columns only, and a clean row's values as sent
    assert list(res.data.columns) == COLUMNS
    for i, want in enumerate(faults):
        if not want:
            assert res.data.loc[i, "income"] == rows[i]["income"]
            assert res.data.loc[i, "city"] == rows[i]["city"]
    # one record alone gets the same verdict as in the batch
    alone = validate(contract, rows[0])
    assert _codes(alone.row_errors(0)) == Counter(faults[0])


def test_a_misspelt_key_is_missing_and_unexpected_with_a_hint() -> None:
    good = {"income": 1.0, "age": 30, "city": "nice", "member": True, "score": None}
    bad = {k: v for k, v in good.items() if k != "income"} | {"incme": "x"}
    res = validate(_contract(False), [good, bad])
    assert res.valid.tolist() == [True, False]
    errs = {e.code: e for e in res.errors[1]}
    assert errs[MISSING_COLUMN].field == "income"
    assert errs[UNEXPECTED_COLUMN].field == "incme" and errs[UNEXPECTED_COLUMN].value == "x"
    assert "did you mean 'income'?" in errs[UNEXPECTED_COLUMN].expected


def test_a_table_lacking_a_column_still_lists_each_rows_own_faults() -> None:
    frame = pd.DataFrame(
        {"income": [1.0, "abc"], "age": [30, 40], "member": [True, False], "score": [0.1, 0.2]}
    )
    res = validate(_contract(False), frame)
    assert [(e.field, e.code) for e in res.batch_errors] == [("city", MISSING_COLUMN)]
    assert not res.valid.any() and res.data is None
    assert [(e.field, e.code) for e in res.row_errors(1)] == [
        ("city", MISSING_COLUMN),
        ("income", WRONG_TYPE),
    ]
    assert [(e.field, e.code) for e in res.row_errors(0)] == [("city", MISSING_COLUMN)]


def test_records_with_many_stray_keys_keep_the_contracts_columns() -> None:
    base = {"income": 1.0, "age": 30, "city": "nice", "member": True, "score": 0.5}
    rows = [base | {f"zz_{i}": i} for i in range(300)]
    res = validate(_contract(True), rows)
    assert res.valid.all() and list(res.data.columns) == COLUMNS
    np.testing.assert_array_equal(res.data["age"].to_numpy(), np.full(300, 30.0))


def test_keys_that_are_not_strings_are_named_by_their_text() -> None:
    good = {"income": 1.0, "age": 30, "city": "nice", "member": True, "score": None}
    res = validate(_contract(False), [good, {**good, 7: 1}])
    assert res.valid.tolist() == [True, False]
    assert [(e.field, e.code, e.value) for e in res.errors[1]] == [("7", UNEXPECTED_COLUMN, 1)]


NUMBERS = [f.name for f in FIELDS if f.kind in ("numeric", "integer")]


def _table(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "income": np.linspace(1.0, 2.0, n),
            "age": np.arange(n) % 100,
            "city": [CITIES[i % 3] for i in range(n)],
            "member": [i % 2 == 0 for i in range(n)],
            "score": np.full(n, 0.5),
        }
    )


@settings(max_examples=40, deadline=None)
@given(
    column=st.sampled_from(NUMBERS),
    n=st.integers(1, 6),
    dtype=st.sampled_from(["bool", "boolean", "object"]),
    data=st.data(),
)
def test_a_bool_column_for_a_number_is_wrong_type(
    column: str, n: int, dtype: str, data: st.DataObject
) -> None:
    """A table whose numeric column holds booleans (NumPy ``bool``, pandas ``boolean``, or
    Python bools among numbers): each boolean cell is its row's ``wrong_type``."""
    table = _table(n)
    flags = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="flags")
    if dtype == "object":  # booleans among numbers: which cells are booleans is drawn too
        where = data.draw(st.lists(st.booleans(), min_size=n, max_size=n), label="where")
        cells = [
            f if w else table[column][i].item()
            for i, (f, w) in enumerate(zip(flags, where, strict=True))
        ]
        table[column] = pd.Series(cells, dtype=object)
    else:
        where = [True] * n
        table[column] = pd.Series(flags, dtype=dtype)
    res = validate(_contract(False), table)
    assert [[(e.field, e.code) for e in res.row_errors(i)] for i in range(n)] == [
        [(column, WRONG_TYPE)] if w else [] for w in where
    ]
    assert validate_fast(_contract(False), table) is None or not any(where)


def test_bool_arrays_are_not_numbers_but_fill_boolean_contracts() -> None:
    numbers = InputContract(
        layout="array",
        fields=[FieldSpec(name=f"x{i}", kind="numeric", dtype="float64") for i in range(2)],
    )
    flags = np.array([[True, False], [False, False]])
    assert validate_fast(numbers, flags) is None
    res = validate(numbers, flags)
    assert [[(e.field, e.code) for e in res.row_errors(i)] for i in range(2)] == [
        [("x0", WRONG_TYPE), ("x1", WRONG_TYPE)]
    ] * 2
    assert validate(numbers, flags.astype(np.int64)).valid.all()
    # an all-numeric table of plain numbers still takes the fast path
    frame = pd.DataFrame({"x0": [1, 2], "x1": [0.5, 1.5]})
    assert validate_fast(_framed(numbers), frame) is not None
    assert validate_fast(_framed(numbers), frame.astype({"x1": bool})) is None
    # a contract learnt from booleans takes booleans (its own training data), not numbers
    trained = infer_contract(flags)
    assert [f.kind for f in trained.fields] == ["boolean", "boolean"]
    assert validate(trained, flags).valid.all()
    res = validate(trained, flags.astype(np.float64))
    assert not res.valid.any() and {e.code for e in res.row_errors(0)} == {WRONG_TYPE}
    table = pd.DataFrame({"member": pd.array([True, None, False], dtype="boolean"), "n": [1, 2, 3]})
    learnt = infer_contract(table)
    assert [(f.kind, f.nullable) for f in learnt.fields] == [("boolean", True), ("integer", False)]
    assert validate(learnt, table).valid.all()
    assert validate(learnt, [{"member": True, "n": 2}, {"member": None, "n": 1}]).valid.all()


def _framed(contract: InputContract) -> InputContract:
    return contract.model_copy(update={"layout": "frame"})
