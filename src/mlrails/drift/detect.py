"""Drift of a production window against a reference profile, field by field.

One test per field (two-sample Kolmogorov–Smirnov for numeric fields, chi-square of
homogeneity for categorical fields and class labels), Benjamini–Hochberg across the fields of
the window, and an alarm only when a field is both significant *and* moved by a non-negligible
amount: on a million rows every shift, however tiny, is significant.

Defaults, and why:

* ``alpha = 0.05`` on BH-adjusted p-values. BH controls the false discovery rate; when no field
  has drifted every discovery is false, so it then bounds the chance that a window alarms at
  all by alpha (independent or positively dependent tests, Benjamini & Yekutieli 2001).
* numeric effect: Wasserstein-1 distance over the reference standard deviation, >= 0.1. For a
  pure location shift it *is* the shift in standard deviations (Cohen's d); 0.1 is half of
  Cohen's "small" 0.2. A change of scale by a factor s gives |s - 1| × 0.8 for normal data, so
  0.1 also catches a ~12% change of spread.
* categorical effect: Cramér's V of the share table (what V is with equal sample sizes),
  >= 0.1, Cohen's "small" effect w = 0.1; e.g. a 50/50 binary field moving to 60/40.
* both effects are *debiased*: the value expected from sampling noise alone, given both sample
  sizes, is taken off (Wasserstein: sqrt(2/pi) sqrt(1/n1 + 1/n2) ∫ sqrt(F(1 - F)) dx; V^2:
  (k - 1)(1/n1 + 1/n2) / 4). Raw, a 200-row window of unchanged data already shows
  W1 ≈ 0.09 sd, and V ≈ 0.25 over 50 categories, so the threshold would mean nothing on small
  windows; debiased, it means the same at 200 rows as at a million. ``effect_raw`` keeps the
  plain value (the raw numeric one equals Evidently's "Wasserstein distance (normed)").
* PSI is reported (10 reference-quantile bins) but does not gate the alarm: its usual 0.1/0.25
  thresholds ignore sample size, and its value depends on the binning.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from mlrails.drift.profile import (
    CategoricalReference,
    NumericReference,
    ReferenceProfile,
    category_counts,
    numeric_values,
)
from mlrails.drift.statistics import (
    benjamini_hochberg,
    chi_square_homogeneity,
    compare_numeric,
    ks_pvalues,
    wasserstein_null_mean,
)
from mlrails.errors import DataError, PolicyError

MISSING_CATEGORY = "<missing>"


@dataclass(frozen=True)
class DriftConfig:
    """Significance level and the effect sizes below which a significant shift is ignored."""

    alpha: float = 0.05
    numeric_effect: float = 0.1  # Wasserstein-1 / reference std
    categorical_effect: float = 0.1  # Cramér's V with equal sample sizes
    psi_bins: int = 10
    psi_epsilon: float = 1e-4

    def __post_init__(self) -> None:
        if not 0.0 < self.alpha < 1.0:
            raise PolicyError(f"alpha must be in (0, 1), got {self.alpha}")
        if self.numeric_effect < 0 or self.categorical_effect < 0:
            raise PolicyError("effect-size thresholds must be >= 0")
        if self.psi_bins < 2:
            raise PolicyError(f"psi_bins must be >= 2, got {self.psi_bins}")
        if not 0.0 < self.psi_epsilon < 1.0:
            raise PolicyError(f"psi_epsilon must be in (0, 1), got {self.psi_epsilon}")


@dataclass(frozen=True)
class FieldDrift:
    """The comparison of one field.

    ``statistic``/``p_value`` are those of ``scipy.stats.ks_2samp`` (numeric) or
    ``scipy.stats.chi2_contingency`` (categorical); ``p_adjusted`` is Benjamini–Hochberg over
    the window's fields; ``effect_size`` is the debiased effect the alarm uses and
    ``effect_raw`` the plain one (W1 / reference std; Cramér's V with equal sample sizes);
    ``wasserstein`` (the raw distance) is None for categorical fields. ``n_ref``/``n_cur``
    count non-missing values for numeric fields (missing values are left out of the tests and
    reported as shares) and all rows for categorical ones (missing is a category).
    """

    field: str
    kind: Literal["numeric", "categorical"]
    test: Literal["ks", "chi2"]
    statistic: float
    p_value: float
    p_adjusted: float
    effect_size: float
    effect_name: Literal["wasserstein_std_debiased", "cramers_v_debiased"]
    psi: float
    wasserstein: float | None
    alarm: bool
    n_ref: int
    n_cur: int
    effect_raw: float = float("nan")
    is_label: bool = False
    missing_ref: float = 0.0
    missing_cur: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DriftReport:
    """All fields of one window; ``alarm`` when any field alarms."""

    fields: tuple[FieldDrift, ...]
    alarm: bool
    alpha: float
    numeric_effect: float
    categorical_effect: float
    n_ref: int
    n_cur: int

    @property
    def alarming(self) -> list[str]:
        return [f.field for f in self.fields if f.alarm]

    def __getitem__(self, name: str) -> FieldDrift:
        for f in self.fields:
            if f.field == name:
                return f
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["alarming"] = self.alarming
        return d

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([f.to_dict() for f in self.fields]).set_index("field")


def compare(
    profile: ReferenceProfile,
    frame: pd.DataFrame,
    config: DriftConfig | None = None,
    *,
    use_numba: bool | None = None,
) -> DriftReport:
    """Compare production ``frame`` (a window of rows) with ``profile``, field by field.

    Every profiled feature must be present (extra columns are ignored); the label is compared
    when the window has it and left out otherwise (labels usually arrive later). DataError for
    an empty window, a missing feature column, text in a numeric field, infinite values, or a
    numeric field with no non-missing value.
    """
    cfg = config or DriftConfig()
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"window must be a pandas DataFrame, not {type(frame).__name__}")
    if len(frame) == 0:
        raise DataError("the production window is empty")
    absent = [f.name for f in profile.fields if f.name not in frame.columns and not f.is_label]
    if absent:
        raise DataError(f"production window lacks column(s): {', '.join(absent)}")
    refs = [f for f in profile.fields if f.name in frame.columns]

    n = len(refs)
    stat = np.full(n, np.nan)
    pval = np.full(n, np.nan)
    effect = np.full(n, np.nan)
    raw = np.full(n, np.nan)
    psi = np.full(n, np.nan)
    wass: list[float | None] = [None] * n
    n_ref = np.zeros(n, dtype=np.int64)
    n_cur = np.zeros(n, dtype=np.int64)
    miss_ref = np.zeros(n)
    miss_cur = np.zeros(n)

    num_i: list[int] = []
    for i, ref in enumerate(refs):
        s = frame[ref.name]
        if isinstance(ref, NumericReference):
            x = numeric_values(s, ref.name)
            ix = profile.numeric_index(ref, cfg.psi_bins)
            st = compare_numeric(ix, x, psi_epsilon=cfg.psi_epsilon, use_numba=use_numba)
            if st.n_infinite:
                raise DataError(f"field {ref.name!r}: {st.n_infinite} infinite value(s)")
            if st.n_cur == 0:
                raise DataError(f"field {ref.name!r}: no non-missing value in the window")
            stat[i] = st.d
            wass[i] = st.wasserstein
            psi[i] = st.psi
            raw[i] = _scaled(st.wasserstein, ix.std)
            null = wasserstein_null_mean(ix.bridge, st.n_ref, st.n_cur)
            effect[i] = _scaled(max(st.wasserstein - null, 0.0), ix.std)
            n_ref[i], n_cur[i] = st.n_ref, st.n_cur
            miss_ref[i] = ref.n_missing / (ref.n + ref.n_missing)
            miss_cur[i] = st.n_missing / len(x)
            num_i.append(i)
        else:
            _, table, cur_missing = contingency_table(ref, s)
            chi = chi_square_homogeneity(table[0], table[1], cfg.psi_epsilon)
            stat[i], pval[i], psi[i] = chi.statistic, chi.p_value, chi.psi
            effect[i], raw[i] = chi.cramers_v_debiased, chi.cramers_v
            n_ref[i], n_cur[i] = ref.n, len(s)
            miss_ref[i] = ref.n_missing / max(ref.n, 1)
            miss_cur[i] = cur_missing / len(s)

    if num_i:
        idx = np.array(num_i)

        def exact_with_scipy(j: int) -> tuple[float, float]:  # pragma: no cover
            ref = refs[int(idx[j])]
            assert isinstance(ref, NumericReference)
            x = numeric_values(frame[ref.name], ref.name)
            r = stats.ks_2samp(ref.values, x[~np.isnan(x)])
            return float(r.statistic), float(r.pvalue)

        stat[idx], pval[idx] = ks_pvalues(stat[idx], n_ref[idx], n_cur[idx], exact_with_scipy)

    p_adj = benjamini_hochberg(pval)
    fields: list[FieldDrift] = []
    for i, ref in enumerate(refs):
        numeric = isinstance(ref, NumericReference)
        threshold = cfg.numeric_effect if numeric else cfg.categorical_effect
        alarm = bool(p_adj[i] < cfg.alpha and effect[i] >= threshold)
        fields.append(
            FieldDrift(
                field=ref.name,
                kind="numeric" if numeric else "categorical",
                test="ks" if numeric else "chi2",
                statistic=float(stat[i]),
                p_value=float(pval[i]),
                p_adjusted=float(p_adj[i]),
                effect_size=float(effect[i]),
                effect_name="wasserstein_std_debiased" if numeric else "cramers_v_debiased",
                psi=float(psi[i]),
                wasserstein=wass[i],
                alarm=alarm,
                n_ref=int(n_ref[i]),
                n_cur=int(n_cur[i]),
                effect_raw=float(raw[i]),
                is_label=ref.is_label,
                missing_ref=float(miss_ref[i]),
                missing_cur=float(miss_cur[i]),
            )
        )
    return DriftReport(
        fields=tuple(fields),
        alarm=any(f.alarm for f in fields),
        alpha=cfg.alpha,
        numeric_effect=cfg.numeric_effect,
        categorical_effect=cfg.categorical_effect,
        n_ref=profile.n_rows,
        n_cur=len(frame),
    )


def _scaled(w: float, std: float) -> float:
    """Wasserstein-1 in reference standard deviations (inf for a shift off a constant)."""
    if std > 0:
        return w / std
    return float("inf") if w > 0 else 0.0


def contingency_table(ref: CategoricalReference, s: pd.Series) -> tuple[list[str], Any, int]:
    """(categories, 2 × k counts, production missing count): reference categories first,
    then categories new in production (sorted), then missing values if either side has any."""
    cur, cur_missing = category_counts(s)
    cats = list(ref.categories) + sorted(set(cur) - set(ref.categories))
    ref_row = np.zeros(len(cats), dtype=np.int64)
    ref_row[: len(ref.categories)] = ref.counts
    cur_row = np.array([cur.get(c, 0) for c in cats], dtype=np.int64)
    if ref.n_missing or cur_missing:
        cats.append(MISSING_CATEGORY)
        ref_row = np.append(ref_row, ref.n_missing)
        cur_row = np.append(cur_row, cur_missing)
    return cats, np.array([ref_row, cur_row]), cur_missing


def drift(
    reference: pd.DataFrame | ReferenceProfile,
    current: pd.DataFrame,
    config: DriftConfig | None = None,
    *,
    label: str | None = None,
) -> DriftReport:
    """One-shot convenience: profile ``reference`` (unless already a profile) and compare."""
    profile = (
        reference
        if isinstance(reference, ReferenceProfile)
        else ReferenceProfile.fit(reference, label=label)
    )
    return compare(profile, current, config)
