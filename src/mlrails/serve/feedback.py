"""The body of ``POST /v1/feedback``: the true labels of logged decisions.

Accepted (JSON): ``{"labels": [{"trace_id": "...", "row": 0, "label": ...}, ...]}``, where
``trace_id`` is the one the prediction's answer carried (``X-Trace-Id``), ``row`` the row's
index in that request's batch (0, the default, for a single row) and ``label`` its true value
(a string, an integer, a boolean or a number). Anything else raises
:class:`~mlrails.serve.payload.PayloadError` (answered 400), as a malformed prediction does;
what each label matches is the store's business (:mod:`mlrails.store.labels`).
"""

from __future__ import annotations

from typing import Any

from mlrails.errors import DataError
from mlrails.serve.payload import PayloadError, kind_of
from mlrails.store import Label

_FIELDS = frozenset({"trace_id", "row", "label"})


def parse_feedback(body: Any) -> list[Label]:
    """The labels of a feedback body, in order (see the module docstring)."""
    if not isinstance(body, dict):
        raise PayloadError(f"the body must be a JSON object, got {kind_of(body)}")
    if set(body) != {"labels"}:
        unknown = sorted(set(body) - {"labels"})
        raise PayloadError(
            f"unknown field(s) {unknown}; expected 'labels'" if unknown else "send 'labels'"
        )
    items = body["labels"]
    if not isinstance(items, list):
        raise PayloadError(f"'labels' must be an array, got {kind_of(items)}")
    return [_label(item, i) for i, item in enumerate(items)]


def _label(item: Any, i: int) -> Label:
    where = f"labels[{i}]"
    if not isinstance(item, dict):
        raise PayloadError(f"{where} must be an object, got {kind_of(item)}")
    unknown = sorted(set(item) - _FIELDS)
    if unknown:
        raise PayloadError(f"{where}: unknown field(s) {unknown}; expected {sorted(_FIELDS)}")
    for name in ("trace_id", "label"):
        if name not in item:
            raise PayloadError(f"{where}: no '{name}'")
    row = item.get("row", 0)
    if isinstance(row, float) and row.is_integer():  # JSON Schema's integer: 1.0 is one
        row = int(row)
    try:
        return Label(item["trace_id"], row, item["label"])
    except DataError as exc:
        raise PayloadError(f"{where}: {exc}") from None
