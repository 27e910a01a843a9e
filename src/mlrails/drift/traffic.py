"""The traffic of a time window as the decision log holds it, read as a typed table.

Drift monitoring, the production-data descriptor and ``mlrails drift`` read the same rows the
same way: the decisions logged in ``[since, until)``, the row-level inputs typed by the
contract (numbers where a field is numeric), and the rows refused by input validation left out
(their values describe the caller's bug, not the traffic; they are counted apart).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlrails.clock import utc
from mlrails.errors import MlrailsError
from mlrails.protocol.problem import INVALID_INPUT
from mlrails.protocol.status import Outcome

if TYPE_CHECKING:
    from mlrails.contract import InputContract
    from mlrails.store import DecisionRecord, Store


def logged_window(
    store: str | Path | Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    contract: InputContract | None = None,
) -> tuple[pd.DataFrame, list[DecisionRecord], str]:
    """The inputs logged in ``[since, until)`` as a typed table (the contract's fields when
    given: numbers where a field is numeric, anything else missing; rows refused by
    validation left out), every row-level record of the window, and the store as shown to
    people. :class:`MlrailsError` if no row (or only refused rows) was logged."""
    records, shown = window_records(store, since, until)
    frame, kept = inputs_frame(records, contract)
    rows = [r for r in records if r.row_index is not None]
    when = window_text(since, until)
    if not rows:
        raise MlrailsError(f"{shown}: no row was logged {when}")
    if not kept:
        raise MlrailsError(
            f"{shown}: every row logged {when} ({len(rows)}) was refused by validation; "
            "no input statistics to describe"
        )
    return frame, rows, shown


def refused_by_validation(record: DecisionRecord) -> bool:
    """Whether the row was refused by input validation (``invalid-input``, 400 by default):
    its values broke the contract, so they describe the caller's bug, not the traffic, and
    are kept out of input statistics (counted as refusals instead)."""
    if record.problem is not None and record.problem.endswith("/" + INVALID_INPUT.slug):
        return True
    out = record.output
    return isinstance(out, dict) and out.get("outcome") == Outcome.INVALID_INPUT.value


def inputs_frame(
    records: Sequence[DecisionRecord], contract: InputContract | None = None
) -> tuple[pd.DataFrame, list[DecisionRecord]]:
    """The row-level records' inputs as a typed table (see :func:`logged_window`) and those
    records. A row sent as a list is read in the contract's field order. Rows refused by
    validation (:func:`refused_by_validation`) are left out."""
    names_in_order = [f.name for f in contract.fields] if contract is not None else []
    rows: list[DecisionRecord] = []
    inputs: list[dict[str, Any]] = []
    for r in records:
        if r.row_index is None or refused_by_validation(r):
            continue
        if isinstance(r.input, dict):
            inputs.append(r.input)
        elif isinstance(r.input, list) and names_in_order and len(r.input) == len(names_in_order):
            inputs.append(dict(zip(names_in_order, r.input, strict=True)))
        else:
            continue
        rows.append(r)
    if not rows:
        return pd.DataFrame(columns=names_in_order), rows
    raw = pd.DataFrame(inputs)
    specs = {f.name: f for f in contract.fields} if contract is not None else {}
    names = list(specs) if specs else [str(c) for c in raw.columns]
    columns = {}
    for field in names:
        col = raw[field] if field in raw.columns else pd.Series([None] * len(raw))
        spec = specs.get(field)
        numeric = spec is not None and spec.kind in ("numeric", "integer")
        columns[field] = _coerced(col.rename(field), numeric=numeric)
    return pd.DataFrame(columns), rows


def window_records(
    store: str | Path | Store, since: datetime | None, until: datetime | None
) -> tuple[list[DecisionRecord], str]:
    """The decisions logged in ``[since, until)`` (oldest first) and the store as shown."""
    from mlrails.store import Store, display_url, open_store

    if isinstance(store, Store):
        shown = store.display
        return _filter(store.decisions(since=since), until), shown
    shown = display_url(store)
    if (isinstance(store, Path) or "://" not in str(store)) and not Path(store).is_file():
        raise MlrailsError(f"{store}: no decision log there (file not found)")
    with open_store(store, create=False) as opened:
        return _filter(opened.decisions(since=since), until), shown


def _filter(records: list[DecisionRecord], until: datetime | None) -> list[DecisionRecord]:
    if until is None:
        return records
    end = utc(until)
    return [r for r in records if utc(r.time) < end]


def _coerced(series: pd.Series[Any], *, numeric: bool) -> pd.Series[Any]:
    """Logged JSON values as a typed column: numbers where the field is (or looks) numeric."""
    if numeric:
        return pd.to_numeric(series, errors="coerce")
    present = series.dropna()
    if len(present) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in present
    ):
        return pd.to_numeric(series, errors="coerce")
    if len(present) and all(isinstance(v, bool) for v in present):
        return series.astype("boolean")
    return series


def window_text(since: datetime | None, until: datetime | None) -> str:
    parts = []
    if since is not None:
        parts.append(f"since {utc(since).isoformat(timespec='seconds')}")
    if until is not None:
        parts.append(f"before {utc(until).isoformat(timespec='seconds')}")
    return " and ".join(parts) if parts else "at all"
