"""The body of ``POST /v1/predict``: accepted shapes, turned into rows for the guard.

Accepted (JSON):

* ``{"instance": {...}}`` — one row (a record; an array for image-like models);
* ``{"instances": [{...}, ...]}`` — a batch of records (or arrays);
* ``{"instances": {"column": [...], ...}}`` — a batch as columns of equal length.

For tables a row may also be an array of values in the contract's column order. Anything
else raises :class:`PayloadError` (answered 400). Whether the rows respect the contract is the
guard's business, not this module's: it only fixes the shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlrails.contract import InputContract
from mlrails.contract.validate import Violation

_KEYS = {"instance", "instances"}


class PayloadError(ValueError):
    """The body is JSON but not a prediction request; ``str(exc)`` says what is wrong.

    ``violations``: when the fault is a value of the wrong type for contract fields (an OIP
    tensor whose datatype or elements a column cannot hold), those fields' ``wrong_type``,
    as the guard lists them (answered in the problem document's ``errors``).
    """

    def __init__(self, message: str, violations: Sequence[Violation] = ()) -> None:
        super().__init__(message)
        self.violations = tuple(violations)


@dataclass(frozen=True)
class PredictPayload:
    """The rows of one request, as the caller sent them, and whether it was a single one."""

    rows: list[Any]
    single: bool

    def __len__(self) -> int:
        return len(self.rows)


def parse_payload(body: Any, contract: InputContract) -> PredictPayload:
    """Check the request's shape and return its rows (see module docstring)."""
    if not isinstance(body, dict):
        raise PayloadError(f"the body must be a JSON object, got {kind_of(body)}")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise PayloadError(f"unknown field(s) {unknown}; expected 'instance' or 'instances'")
    if len(body) != 1:
        raise PayloadError("send exactly one of 'instance' or 'instances'")
    image = contract.layout == "image"
    if "instance" in body:
        return PredictPayload([_row(body["instance"], contract, image, None)], single=True)
    inst = body["instances"]
    if isinstance(inst, list):
        return PredictPayload(
            [_row(r, contract, image, i) for i, r in enumerate(inst)], single=False
        )
    if isinstance(inst, dict) and not image:
        return PredictPayload(_columns_to_records(inst), single=False)
    raise PayloadError(
        f"'instances' must be an array of rows{'' if image else ' or an object of columns'}, "
        f"got {kind_of(inst)}"
    )


def guard_input(payload: PredictPayload, contract: InputContract) -> Any:
    """What to hand ``Rails.check``: a numeric table when every row is plain numbers with
    exactly the contract's columns (the guard's fast path), else the rows as sent."""
    rows = payload.rows
    if contract.layout == "image" or not rows:
        return rows
    cols = contract.columns
    if not cols or any(f.kind not in ("numeric", "integer") for f in contract.fields):
        return rows
    keys = set(cols)
    matrix: list[list[Any]] = []
    for r in rows:
        if len(r) != len(cols) or r.keys() != keys:
            return rows
        values = [r[c] for c in cols]
        for v in values:  # exact types: a JSON boolean (a Python int) is no number
            if type(v) is not float and type(v) is not int:
                return rows
        matrix.append(values)
    try:
        num = np.asarray(matrix, dtype=np.float64)
    except (OverflowError, ValueError):
        return rows
    if contract.layout == "array":
        return num
    return pd.DataFrame(num, columns=cols)


def _row(r: Any, contract: InputContract, image: bool, i: int | None) -> Any:
    where = "'instance'" if i is None else f"instance {i}"
    if image:
        if not isinstance(r, list):
            raise PayloadError(f"{where} must be an array, got {kind_of(r)}")
        return r
    if isinstance(r, dict):
        return r
    if isinstance(r, list):
        cols = contract.columns
        if len(r) != len(cols):
            raise PayloadError(
                f"{where} has {len(r)} values; the contract has {len(cols)} columns "
                "(send an object keyed by column name, or the values in column order)"
            )
        return dict(zip(cols, r, strict=True))
    raise PayloadError(f"{where} must be an object keyed by column name, got {kind_of(r)}")


def _columns_to_records(cols: dict[str, Any]) -> list[dict[str, Any]]:
    if not cols:
        return []
    lengths = set()
    for name, values in cols.items():
        if not isinstance(values, list):
            raise PayloadError(f"column {name!r} must be an array, got {kind_of(values)}")
        lengths.add(len(values))
    if len(lengths) != 1:
        raise PayloadError(f"columns must have equal lengths, got {sorted(lengths)}")
    names = list(cols)
    return [dict(zip(names, vals, strict=True)) for vals in zip(*cols.values(), strict=True)]


def kind_of(v: Any) -> str:
    """What JSON value ``v`` is, for an error message ("an array", "a string", ...)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    return "an object"
