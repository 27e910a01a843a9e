"""The sentences verdicts carry: contract violations, thresholds crossed, warnings."""

from __future__ import annotations

from mlrails.contract import Violation
from mlrails.guard.verdict import Verdict


def summarise(errs: list[Violation]) -> str:
    parts = [f"{e.field}: {e.code} (got {e.value!r}, expected {e.expected})" for e in errs[:3]]
    more = f"; and {len(errs) - 3} more" if len(errs) > 3 else ""
    return "; ".join(parts) + more


def distinct(x: float, other: float) -> str:
    """``x`` with the fewest significant digits (at least 4) that tell it apart from ``other``.

    "score 0.8008 is above its threshold 0.8008" says nothing; the digits that differ do.
    """
    for digits in range(4, 18):
        text = f"{x:.{digits}g}"
        if text != f"{other:.{digits}g}":
            return text
    return repr(float(x))


def describe_warning(
    name: str,
    v: Verdict,
    min_conf: float | None = None,
    coverage: float | None = None,
    max_width: float | None = None,
) -> str:
    if name == "reliability" and v.confidence is not None:
        mp = v.confidence.max_probability
        if min_conf is None:
            return f"low confidence (max probability {mp:.3f})"
        return (
            f"low confidence (max probability {distinct(mp, min_conf)} is below the minimum "
            f"{distinct(min_conf, mp)})"
        )
    if name == "conformal_set":
        cov = "the stated coverage" if coverage is None else f"{coverage * 100:.4g}% coverage"
        return f"the conformal prediction set is empty at {cov} (no label is plausible)"
    if name == "interval_width" and v.interval is not None and max_width is not None:
        width = v.interval[1] - v.interval[0]
        return (
            f"wide prediction interval (width {distinct(width, max_width)} is above the "
            f"calibrated limit {distinct(max_width, width)})"
        )
    if name == "validation":
        return "contract violations in warn mode"
    return f"{name} fired in warn mode"
