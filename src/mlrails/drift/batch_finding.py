"""What a batch-level shift test found: per-field results, the finding, its one-line reason.

The records of :class:`~mlrails.drift.batch.BatchShiftTest` (see that module for the
statistics); plain values only, so that a verdict and an HTTP answer can carry them as JSON.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FieldShift:
    """The test of one input field against the reference.

    ``statistic`` names the test ("ks" or "chi2") and ``value`` is its statistic; ``effect``
    is the KS distance (numeric) or total-variation distance of the category shares
    (categorical, rare categories pooled); ``significant`` = Benjamini–Hochberg-rejected at
    ``fdr`` and ``effect`` >= the gate; ``matters`` = significant, an input the model relies
    on (``importance`` >= the floor; NaN when no model was given: every field counts), and
    Holm-rejected among those inputs at the family's share of ``alpha``.
    """

    field: str
    statistic: str
    p_value: float
    effect: float
    importance: float
    significant: bool
    value: float = float("nan")
    p_adjusted: float = float("nan")
    matters: bool = False
    n_batch: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {k: plain(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class BatchShiftFinding:
    """What :meth:`BatchShiftTest.test` found in one batch (see the module docstring)."""

    n_rows: int
    shifted: bool
    drifted: bool
    fields: list[FieldShift]
    output_p_value: float | None
    output_effect: float | None
    classifier_auroc: float | None
    classifier_p_value: float | None
    estimated_accuracy_drop: float | None
    reason: str
    classifier_effect: float | None = None
    n_fields: int = 0
    n_significant: int = 0
    alpha: float = 0.01
    causes: tuple[str, ...] = ()  # the families that rejected: "fields", "outputs", "classifier"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready plain values (NaN and infinities as None)."""
        out: dict[str, Any] = {}
        for k, v in asdict(self).items():
            if k == "fields":
                out[k] = [{a: plain(b) for a, b in f.items()} for f in v]
            elif k == "causes":
                out[k] = list(v)
            else:
                out[k] = plain(v)
        return out


def plain(v: Any) -> Any:
    """A NumPy or Python scalar as a plain JSON value (NaN and infinities as None)."""
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        f = float(v)
        return f if math.isfinite(f) else None
    return v


def p_text(p: float) -> str:
    """A p-value as a user reads it."""
    return "p<1e-9" if p < 1e-9 else f"p={p:.2g}"


def reason_text(
    fields: list[FieldShift],
    causes: list[str],
    out_name: str,
    out_p: float | None,
    out_eff: float | None,
    auroc: float | None,
    cls_p: float | None,
    fdr: float,
) -> str:
    """One line a user reads."""

    def field_text(f: FieldShift) -> str:
        name = "KS" if f.statistic == "ks" else "TV"
        return f"{f.field} shifted ({name} {f.effect:.2f}, {p_text(f.p_value)})"

    parts: list[str] = []
    if "fields" in causes:
        top = [f for f in fields if f.matters]
        text = field_text(top[0])
        if math.isfinite(top[0].importance):
            text += f", an input the model relies on (importance {top[0].importance:.2f})"
        if len(top) > 1:
            text += f", and {len(top) - 1} more"
        parts.append(text)
    if "outputs" in causes and out_p is not None and out_eff is not None:
        parts.append(f"the model's {out_name} shifted (KS {out_eff:.2f}, {p_text(out_p)})")
    if "classifier" in causes and auroc is not None and cls_p is not None:
        parts.append(
            "a classifier tells the batch from the reference on the inputs the model relies "
            f"on (AUROC {auroc:.2f}, {p_text(cls_p)})"
        )
    if parts:
        return "; ".join(parts)
    sig = [f for f in fields if f.significant]
    if sig:
        text = field_text(sig[0])
        if math.isfinite(sig[0].importance):
            text += f", but the model barely uses it (importance {sig[0].importance:.2f})"
        else:
            text += ", not enough to count as a shift that matters"
        more = f" ({len(sig) - 1} more field(s) drifted)" if len(sig) > 1 else ""
        return text + more + ": reported, rows not downgraded"
    return f"no significant shift (field tests at FDR {fdr:g})"
