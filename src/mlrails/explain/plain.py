"""A feature's value or a class label as one JSON scalar, for an explanation's JSON form.

The explained row's cell holds whatever the caller sent (NumPy and pandas scalars, missing
markers, dates, odd objects). Scalars go through :func:`mlrails._json.jsonable`; unlike it, a
pandas missing marker (``NaT``, ``NA``, a ``Decimal`` NaN) is ``None`` and anything else,
containers included, is its text: an explanation shows one value per feature, never a list.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlrails._json import jsonable


def plain_value(value: Any) -> Any:
    """``value`` as a JSON scalar: ``None``, a string, a number, a bool (see module docstring)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, str | int | float | bool | pd.Timestamp):
        return jsonable(value)
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)
