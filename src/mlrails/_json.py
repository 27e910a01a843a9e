"""Strict JSON (RFC 8259) for everything mlrails sends or stores.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON: other parsers (and
PostgreSQL's JSON type) reject them. :func:`jsonable` turns non-finite floats into ``None`` and
NumPy scalars and arrays into Python values, so :func:`dumps` never fails on a verdict.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """``value`` with non-finite floats as ``None`` and NumPy/tuple values as JSON types."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def dumps(value: Any) -> str:
    """Compact, strict JSON text of ``value`` (see :func:`jsonable`)."""
    return json.dumps(jsonable(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes) -> Any:
    """Parse strict JSON: ``NaN``/``Infinity`` are refused (``ValueError``), as is deep nesting.

    Raises ``ValueError`` for any text that is not one JSON document.
    """
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"body is not UTF-8 ({exc.reason})") from None
