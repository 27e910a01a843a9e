"""One way for tests to build decision-log rows: each row of a table as a served 200 answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from mlrails.store import DecisionRecord


def served_records(
    X: pd.DataFrame, outputs: Sequence[dict[str, Any]], when: datetime, trace: str
) -> list[DecisionRecord]:
    """One single-row request per row of ``X`` (numeric inputs), answered ``outputs[i]``."""
    return [
        DecisionRecord(
            time=when,
            trace_id=f"{trace}-{i}",
            key_id=None,
            artifact_hash="h",
            row_index=0,
            status=200,
            problem=None,
            input={str(k): float(v) for k, v in row.items()},
            output=outputs[i],
            scores=None,
            latency_ms=1.0,
        )
        for i, (_, row) in enumerate(X.iterrows())
    ]
