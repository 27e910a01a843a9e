"""Training vs production **label** distributions (``distribution`` of both descriptors).

The v1.2 format gives each data descriptor a ``distribution``: the share of instances per
label (``percentage``; the training side maps each label to its production name with
``mapping_production_data``). Rule ``MM-LABEL-SHIFT`` compares the two lists:

* **Reading the shares.** Shares summing to 100 (within half a percentage point per label,
  at least 1: rounded percentages) are percentages; shares summing to 1 (within 0.005 per
  label, at least 0.01) are fractions; both are normalised to proportions. Any other sum, a
  share that is not a finite number in range, a blank or repeated label makes the list
  unreadable: a finding that says why, never an exception.
* **Labels.** Compared case-, space-, ``_``- and ``-``-insensitively after the training
  mapping; a label with a positive share on one side only is a finding of its own (and counts
  as share 0 on the other side in the comparison).
* **Effect size.** Cohen's h per label, ``h = 2 asin√q − 2 asin√p`` (p training, q
  production share; Cohen 1988, *Statistical Power Analysis*, ch. 6), and the total variation
  distance ``½ Σ |p − q|``. The decision uses the largest ``|h|``: a shift from
  :data:`LABEL_SHIFT_H` = 0.2 (Cohen's "small"), which for a 50 % class is about 10
  percentage points and for a 10 % class about 6, so rare classes are judged on their
  relative change too.
* **Significance**, when both sample sizes are known (each descriptor's row count: the
  largest ``count / (1 − missing_rate)`` of its statistics): counts ``round(share × n)``
  per label, chi-square test of homogeneity of the 2 × k table — the numbers of
  ``scipy.stats.chi2_contingency`` with its defaults (Yates' correction when k = 2). A shift
  is reported (warning) when ``|h| ≥ 0.2`` **and** ``p < alpha`` (0.05). When a sample size
  is not given, the finding rests on the effect size alone and says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mlrails.descriptors.common import DescriptorKind
from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.descriptors.statistics import FieldStatistics
from mlrails.drift.statistics import chi_square_homogeneity, cohens_h
from mlrails.mismatch.findings import DS, OPS, Finding, NumberValue, field_ref
from mlrails.mismatch.rules import norm_text, production_field_for, rule

LABEL_SHIFT_H = 0.2
"""Largest per-label ``|Cohen's h|`` from which a label distribution counts as shifted."""

LABEL_SHIFT_ALPHA = 0.05
"""Significance level of the chi-square test when both sample sizes are known."""

LABELS_FIELD = "<label distribution>"
"""The ``field`` of the label comparison's row in the report's statistics table."""

Scale = Literal["percent", "fraction"]


class ShareError(ValueError):
    """A label distribution that cannot be read as one (the message says why)."""


@dataclass(frozen=True)
class LabelShares:
    """A label distribution as proportions (sum 1), by normalised label, in listed order."""

    shares: dict[str, float]
    names: dict[str, str]
    """normalised label → label as written"""
    scale: Scale
    total: float
    """the shares' sum as written (about 100 or about 1)"""


def parse_label_shares(items: Sequence[tuple[str, object]]) -> LabelShares:
    """``[(label, share), ...]`` as proportions; :class:`ShareError` when it is not a
    distribution (see the module docstring for percentages vs fractions)."""
    if not items:
        raise ShareError("no label is listed")
    raw: dict[str, float] = {}
    names: dict[str, str] = {}
    for label, value in items:
        if not isinstance(label, str) or not label.strip():
            raise ShareError(f"a label is blank ({label!r})")
        key = norm_text(label)
        if key in raw:
            raise ShareError(f"label {label!r} is listed twice (as {names[key]!r})")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ShareError(f"label {label!r}: share {value!r} is not a number")
        share = float(value)
        if not math.isfinite(share) or share < 0:
            raise ShareError(f"label {label!r}: share {value!r} is not a number ≥ 0")
        raw[key], names[key] = share, label
    total = math.fsum(raw.values())
    k = len(raw)
    scale: Scale
    if abs(total - 100.0) <= max(1.0, 0.5 * k):
        scale = "percent"
    elif abs(total - 1.0) <= max(0.01, 0.005 * k):
        scale = "fraction"
    else:
        raise ShareError(
            f"the shares sum to {total:g}, neither 100 (percentages) nor 1 (fractions): a "
            "label is missing or a share is wrong"
        )
    return LabelShares({k_: v / total for k_, v in raw.items()}, names, scale, total)


@dataclass(frozen=True)
class LabelShift:
    """Training vs production label proportions, their effect sizes and (n known) the test.

    ``label``/``cohens_h`` are the label with the largest ``|h|`` and its signed h
    (production minus training); ``statistic``/``p_value``/``dof`` are ``None`` without
    both sample sizes; ``shifted`` is the reporting decision of the module docstring.
    """

    labels: tuple[str, ...]
    training: tuple[float, ...]
    production: tuple[float, ...]
    n_training: int | None
    n_production: int | None
    label: str
    cohens_h: float
    tvd: float
    statistic: float | None
    p_value: float | None
    dof: int | None
    threshold: float
    alpha: float
    shifted: bool

    @property
    def tested(self) -> bool:
        """Whether the chi-square test ran (both sample sizes known)."""
        return self.p_value is not None


def label_counts(shares: Sequence[float], n: int) -> list[int]:
    """Counts per label from proportions and a sample size: ``round(share × n)``."""
    return [round(s * n) for s in shares]


def compare_label_shares(
    training: dict[str, float],
    production: dict[str, float],
    n_training: int | None = None,
    n_production: int | None = None,
    *,
    threshold: float = LABEL_SHIFT_H,
    alpha: float = LABEL_SHIFT_ALPHA,
) -> LabelShift:
    """Compare two label distributions (proportions by label; a label missing on a side has
    share 0 there): Cohen's h, TVD, and the chi-square test when both n are known."""
    labels = tuple(training) + tuple(sorted(set(production) - set(training)))
    p = tuple(training.get(lab, 0.0) for lab in labels)
    q = tuple(production.get(lab, 0.0) for lab in labels)
    hs = [cohens_h(a, b) for a, b in zip(p, q, strict=True)]
    worst = max(range(len(labels)), key=lambda i: abs(hs[i]))
    tvd = 0.5 * math.fsum(abs(a - b) for a, b in zip(p, q, strict=True))
    statistic: float | None = None
    p_value: float | None = None
    dof: int | None = None
    if n_training and n_production:
        r = np.array(label_counts(p, n_training), dtype=np.int64)
        c = np.array(label_counts(q, n_production), dtype=np.int64)
        if r.sum() > 0 and c.sum() > 0:
            chi = chi_square_homogeneity(r, c)
            statistic, p_value, dof = chi.statistic, chi.p_value, chi.dof
    large = abs(hs[worst]) >= threshold
    shifted = large and (p_value is None or p_value < alpha)
    return LabelShift(
        labels=labels,
        training=p,
        production=q,
        n_training=n_training or None,
        n_production=n_production or None,
        label=labels[worst],
        cohens_h=hs[worst],
        tvd=tvd,
        statistic=statistic,
        p_value=p_value,
        dof=dof,
        threshold=threshold,
        alpha=alpha,
        shifted=shifted,
    )


def rows_of(statistics: Sequence[FieldStatistics]) -> int | None:
    """A descriptor's row count from its statistics: the largest ``count / (1 −
    missing_rate)`` (rounded) over its fields, ``None`` when no field has a count."""
    best: int | None = None
    for s in statistics:
        if s.count is None:
            continue
        rate = s.missing_rate or 0.0
        if rate >= 1.0:
            continue
        n = round(s.count / (1.0 - rate))
        if best is None or n > best:
            best = n
    return best


_TRAINING = field_ref("training_data", "$.distribution")
_PRODUCTION = field_ref("production_data", "$.distribution")
_KINDS: tuple[DescriptorKind, ...] = ("training_data", "production_data")


def _unreadable(side: str, why: str) -> Finding:
    return Finding(
        rule_id="MM-LABEL-SHIFT",
        severity="warning",
        descriptors=_KINDS,
        fields=(_TRAINING if side == "training" else _PRODUCTION,),
        numbers={"side": side},
        roles=(DS, OPS),
        message=f"the {side} label distribution cannot be compared: {why}",
        fix_hint="Give one share per label, as percentages summing to 100 (or fractions "
        "summing to 1).",
    )


def _percent(x: float) -> str:
    return f"{100 * x:.4g}%"


@rule(
    "MM-LABEL-SHIFT",
    "label distribution shifted (training vs production labels)",
    "training_data",
    "production_data",
)
def label_shift(ds: DescriptorSet) -> list[Finding]:
    """Training ``distribution`` (labels mapped by ``mapping_production_data``) vs production
    ``distribution``: largest per-label Cohen's h ≥ 0.2 and, when both descriptors' row
    counts are known, chi-square p < 0.05 (warning); without row counts the effect size alone
    decides and the finding says so. Percentages or fractions; a label on one side only and
    an unreadable list are warnings. Details: :mod:`mlrails.mismatch.labels`."""
    return label_comparison(ds)[0]


def label_comparison(ds: DescriptorSet) -> tuple[list[Finding], LabelShift | None]:
    """``MM-LABEL-SHIFT``'s findings and the comparison behind them (``None`` when a side has
    no distribution or one is unreadable)."""
    td, pdd = ds.training_data, ds.production_data
    assert td is not None and pdd is not None
    if not td.distribution or not pdd.distribution:
        return [], None
    out: list[Finding] = []
    try:
        train = parse_label_shares(
            [
                (production_field_for(s.label, s.mapping_production_data), s.percentage)
                for s in td.distribution
            ]
        )
    except ShareError as exc:
        out.append(_unreadable("training", str(exc)))
    try:
        prod = parse_label_shares([(s.label, s.percentage) for s in pdd.distribution])
    except ShareError as exc:
        out.append(_unreadable("production", str(exc)))
    if out:
        return out, None
    for only, names, shares, side, other in (
        (set(train.shares) - set(prod.shares), train.names, train.shares, "training", _PRODUCTION),
        (set(prod.shares) - set(train.shares), prod.names, prod.shares, "production", _TRAINING),
    ):
        for label in sorted(k for k in only if shares[k] > 0):
            out.append(
                Finding(
                    rule_id="MM-LABEL-SHIFT",
                    severity="warning",
                    descriptors=_KINDS,
                    fields=(_TRAINING if side == "training" else _PRODUCTION, other),
                    numbers={"label": names[label], "side": side, "share": shares[label]},
                    roles=(DS, OPS),
                    message=f"label {names[label]!r} ({_percent(shares[label])}) is in the "
                    f"{side} distribution only",
                    fix_hint="Map the label to its name on the other side "
                    "(mapping_production_data), or find out why it appeared or vanished.",
                )
            )
    n1, n2 = rows_of(td.statistics), rows_of(pdd.statistics)
    c = compare_label_shares(train.shares, prod.shares, n1, n2)
    if not c.shifted:
        return out, c
    name = {**train.names, **prod.names}.get(c.label, c.label)
    i = c.labels.index(c.label)
    moved = f"{name!r} {_percent(c.training[i])} → {_percent(c.production[i])}"
    numbers: dict[str, NumberValue] = {
        "label": name,
        "training_share": c.training[i],
        "production_share": c.production[i],
        "cohens_h": c.cohens_h,
        "tvd": c.tvd,
        "effect_threshold": c.threshold,
        "n_training": c.n_training,
        "n_production": c.n_production,
    }
    if c.tested:
        assert c.p_value is not None and c.statistic is not None
        numbers.update(test="chi2", statistic=c.statistic, p_value=c.p_value, dof=c.dof)
        numbers["alpha"] = c.alpha
        how = f"chi-square p={c.p_value:.3g} < {c.alpha:g} (n={c.n_training} vs {c.n_production})"
    else:
        numbers["test"] = "none"
        unknown = [
            s for s, n in (("training", c.n_training), ("production", c.n_production)) if not n
        ]
        how = (
            f"{' and '.join(unknown)} sample size unknown: effect size only, no test"
            if unknown
            else "too few rows for a test: effect size only"
        )
    out.append(
        Finding(
            rule_id="MM-LABEL-SHIFT",
            severity="warning",
            descriptors=_KINDS,
            fields=(_TRAINING, _PRODUCTION),
            numbers=numbers,
            roles=(DS, OPS),
            message=f"label distribution shifted between training and production: {moved} "
            f"(Cohen's h {c.cohens_h:+.3g}, |h| ≥ {c.threshold:g}; total variation "
            f"{c.tvd:.3g}); {how}",
            fix_hint="A prior shift: recalibrate or re-weight on recent labelled data, and "
            "revisit the decision threshold; check the label definition has not changed.",
        )
    )
    return out, c


def statistics_row(c: LabelShift) -> dict[str, NumberValue]:
    """The comparison as a row of the report's statistics table (its own test: ``p_adjusted``
    is the p-value, not part of the fields' BH family; effect = the largest ``|h|``)."""
    return {
        "field": LABELS_FIELD,
        "production_field": LABELS_FIELD,
        "kind": "categorical",
        "test": "chi2" if c.tested else "none",
        "exactness": "approximate",
        "statistic": c.statistic,
        "p_value": c.p_value,
        "p_adjusted": c.p_value,
        "effect_name": "cohens_h",
        "effect_size": abs(c.cohens_h),
        "tvd": c.tvd,
        "psi": None,
        "n_ref": c.n_training,
        "n_cur": c.n_production,
        "is_label": True,
        "significant": c.tested and c.p_value is not None and c.p_value < c.alpha,
        "alarm": c.shifted,
    }
