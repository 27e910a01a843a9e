"""Run every mismatch rule on a descriptor set, including the training-vs-production statistics.

:func:`check_descriptors` runs each registered rule (:mod:`mlrails.mismatch.rules`) whose
descriptors were read, records the others as skipped (missing or unreadable file), and turns the
unreadable files into descriptor problems (file, JSON path, problem).

Statistical comparison of training vs production, **from the statistics stored in the two
descriptors** (no raw rows), per training field and the production field it maps to, with the
tests, thresholds and alarm rule of :mod:`mlrails.drift.detect` (``DriftConfig``: BH-adjusted
p < 0.05 *and* effect ≥ 0.1):

* categorical (``frequencies`` on both sides): chi-square test of homogeneity of the 2 × k table
  via :func:`~mlrails.drift.statistics.chi_square_homogeneity`, Cramér's V with equal sample
  sizes as the effect, PSI. **Exact** (the same numbers as on the raw rows) when the frequencies
  list every category; categories beyond the listed ones are pooled as ``<other>`` (count minus
  listed counts), and missing values form a ``<missing>`` category whose count is recovered from
  ``missing_rate`` (rounded).
* numeric (``histogram`` on both sides). With **identical bin edges**: the KS statistic is
  bounded, ``D_lo ≤ D ≤ D_hi``: ``D_lo`` is the largest ECDF difference at the edges (exact
  values there), ``D_hi`` adds the most each bin could hide. The KS p-value is computed from
  ``D_lo`` (:func:`~mlrails.drift.statistics.ks_pvalues`, SciPy's exact/asymptotic rule), so
  it is conservative: an alarm here is also an alarm on the raw data. A chi-square on the bin
  counts and PSI on the bins are exact *for the bins* (PSI uses the histogram bins, not
  drift.py's reference deciles). The Wasserstein-1 distance is **approximated** by spreading
  each bin's values uniformly (piecewise-linear CDFs); its bounds are reported: lower
  ``|mean_train - mean_prod|`` (exact), upper from the per-bin ECDF ranges. The effect is that
  approximation over the training ``std`` (ddof=1; drift.py uses ddof=0, a relative difference
  of 1/(2n)). With **different edges** both CDFs are interpolated on the union of the edges: D,
  its p-value, W1 and PSI are approximations, and no bin chi-square is given.
* predictions (``MM-PREDICTION-SHIFT``): the training label field against the production field
  it maps to, which for production data described by ``mlrails describe`` holds the guard's
  predictions (``prediction``): training label counts (the label field's frequencies: exact;
  else the training ``distribution`` times the training row count, the largest
  ``count / (1 - missing_rate)`` among its statistics: **approximate**) against the
  production frequencies, chi-square as for categorical fields. This compares labels with
  *predictions*; labels with labels (the two ``distribution`` lists) is ``MM-LABEL-SHIFT``
  (:mod:`mlrails.mismatch.labels`), a test of its own outside the BH family.

Benjamini–Hochberg runs across every tested field and the prediction comparison together. A
field without comparable statistics gives an ``MM-STAT-MISSING`` finding (missing information).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.descriptors.production_data import ProductionData
from mlrails.descriptors.statistics import FieldStatistics, Histogram
from mlrails.descriptors.training_data import TrainingData
from mlrails.drift.detect import MISSING_CATEGORY, DriftConfig
from mlrails.drift.statistics import (
    benjamini_hochberg,
    chi_square_homogeneity,
    ks_pvalues,
    population_stability_index,
)
from mlrails.mismatch.findings import (
    DS,
    OPS,
    DescriptorProblem,
    Finding,
    MismatchReport,
    NumberValue,
    SkippedRule,
    field_ref,
)
from mlrails.mismatch.labels import label_comparison, rows_of, statistics_row
from mlrails.mismatch.rules import RULES, Rule, norm_text, production_field_for, rule

F64 = NDArray[np.float64]
OTHER_CATEGORY = "<other>"
STAT_RULES = ("MM-STAT-DRIFT", "MM-PREDICTION-SHIFT", "MM-STAT-MISSING")

Exactness = Literal["exact", "binned bounds", "approximate"]


@dataclass(frozen=True)
class FieldComparison:
    """Training vs production statistics of one field (or of labels vs predictions).

    ``p_value`` is the KS p-value (numeric) or chi-square p-value (categorical, labels);
    ``exactness`` says how far the numbers are those the raw data would give (see the module
    docstring). Bounds and bin chi-square are ``None`` where not available.
    """

    field: str
    production_field: str
    kind: Literal["numeric", "categorical"]
    test: Literal["ks", "chi2"]
    exactness: Exactness
    statistic: float
    p_value: float
    effect_size: float
    effect_name: Literal["wasserstein_std", "cramers_v_equal_n"]
    psi: float
    n_ref: int
    n_cur: int
    is_label: bool = False
    wasserstein: float | None = None
    ks_upper: float | None = None
    wasserstein_lower: float | None = None
    wasserstein_upper: float | None = None
    bins_chi2_p: float | None = None
    p_adjusted: float = math.nan
    significant: bool = False
    alarm: bool = False

    def to_dict(self) -> dict[str, NumberValue]:
        """JSON-ready form."""
        out: dict[str, NumberValue] = asdict(self)
        return out


@dataclass
class StatisticsComparison:
    """All compared fields, and those that could not be compared (field, why)."""

    fields: list[FieldComparison] = field(default_factory=list)
    untested: list[tuple[str, str]] = field(default_factory=list)
    config: DriftConfig = field(default_factory=DriftConfig)


# --------------------------------------------------------------------------------------------
# numeric: histograms


def _cdf_at(h: Histogram, x: F64) -> F64:
    """Share of the histogram's values below each x, linear inside bins (exact at own edges)."""
    counts = np.asarray(h.counts, dtype=np.float64)
    cum = np.concatenate([[0.0], np.cumsum(counts)]) / counts.sum()
    edges = np.asarray(h.edges, dtype=np.float64)
    # equal consecutive edges (a zero-width bin) make interp ambiguous; keep the last value
    return np.asarray(np.interp(x, edges, cum, left=0.0, right=1.0), dtype=np.float64)


def _abs_integral(x: F64, d: F64) -> float:
    """∫|d| over x for d linear between the points (exact for piecewise-linear d)."""
    h = np.diff(x)
    d0, d1 = d[:-1], d[1:]
    same = d0 * d1 >= 0
    s = np.abs(d0) + np.abs(d1)
    crossing = np.where(s > 0, (d0**2 + d1**2) / np.where(s > 0, 2 * s, 1.0), 0.0)
    return float(np.sum(np.where(same, h * s / 2, h * crossing)))


def _binned_std(h: Histogram) -> float:
    mid = (np.asarray(h.edges[:-1]) + np.asarray(h.edges[1:])) / 2
    w = np.asarray(h.counts, dtype=np.float64)
    mean = float(np.sum(mid * w) / w.sum())
    return float(math.sqrt(np.sum(w * (mid - mean) ** 2) / max(w.sum() - 1, 1)))


def compare_histograms(
    name: str, prod_name: str, ref: FieldStatistics, cur: FieldStatistics, cfg: DriftConfig
) -> FieldComparison:
    """KS (bounds or approximation), Wasserstein-1, PSI and bin chi-square of two histograms."""
    a, b = ref.histogram, cur.histogram
    assert a is not None and b is not None
    n1, n2 = int(sum(a.counts)), int(sum(b.counts))
    shared = len(a.edges) == len(b.edges) and bool(
        np.allclose(a.edges, b.edges, rtol=1e-12, atol=0.0)
    )
    grid = np.unique(np.concatenate([a.edges, b.edges]).astype(np.float64))
    f1, f2 = _cdf_at(a, grid), _cdf_at(b, grid)
    diff = f1 - f2
    d_lo = float(np.max(np.abs(diff)))
    w = _abs_integral(grid, diff)
    std = ref.std if ref.std is not None and ref.std > 0 else _binned_std(a)
    effect = w / std if std > 0 else (math.inf if w > 0 else 0.0)
    w_lower = abs(ref.mean - cur.mean) if ref.mean is not None and cur.mean is not None else None
    if w_lower is not None and w < w_lower:
        w = w_lower  # the exact lower bound |Δmean| beats the binned approximation
        effect = w / std if std > 0 else math.inf
    d_hi: float | None = None
    w_upper: float | None = None
    bins_p: float | None = None
    if shared:
        c1 = np.concatenate([[0], np.cumsum(a.counts)]) / n1
        c2 = np.concatenate([[0], np.cumsum(b.counts)]) / n2
        inside = np.maximum(c1[1:] - c2[:-1], c2[1:] - c1[:-1])
        d_hi = float(min(1.0, max(d_lo, float(inside.max(initial=0.0)))))
        w_upper = float(np.sum(np.diff(np.asarray(a.edges, dtype=np.float64)) * inside))
        chi = chi_square_homogeneity(
            np.asarray(a.counts, dtype=np.int64),
            np.asarray(b.counts, dtype=np.int64),
            cfg.psi_epsilon,
        )
        psi, bins_p = chi.psi, chi.p_value
    else:
        edges = np.asarray(a.edges, dtype=np.float64)
        p_ref = np.diff(_cdf_at(a, edges))
        p_cur = np.diff(_cdf_at(b, edges))
        p_cur[0] += float(_cdf_at(b, edges[:1])[0])  # production mass below/above the
        p_cur[-1] += 1.0 - float(_cdf_at(b, edges[-1:])[0])  # training range: outer bins
        psi = population_stability_index(p_ref, p_cur, cfg.psi_epsilon)
    d_arr, p_arr = ks_pvalues(
        np.array([d_lo]), np.array([n1], dtype=np.int64), np.array([n2], dtype=np.int64)
    )
    return FieldComparison(
        field=name,
        production_field=prod_name,
        kind="numeric",
        test="ks",
        exactness="binned bounds" if shared else "approximate",
        statistic=float(d_arr[0]),
        p_value=float(p_arr[0]),
        effect_size=float(effect),
        effect_name="wasserstein_std",
        psi=float(psi),
        n_ref=n1,
        n_cur=n2,
        wasserstein=w,
        ks_upper=d_hi,
        wasserstein_lower=w_lower,
        wasserstein_upper=w_upper,
        bins_chi2_p=bins_p,
    )


# --------------------------------------------------------------------------------------------
# categorical: frequencies


def _missing_count(s: FieldStatistics, present: int) -> int:
    rate = s.missing_rate or 0.0
    if rate <= 0.0 or rate >= 1.0:
        return 0
    return round(rate * present / (1.0 - rate))


def category_table(
    ref: FieldStatistics, cur: FieldStatistics
) -> tuple[list[str], NDArray[np.int64], NDArray[np.int64]]:
    """(categories, training counts, production counts): training categories first, then new
    ones (sorted), then ``<other>`` (unlisted remainder) and ``<missing>`` when either side has
    any — the layout of :func:`mlrails.drift.detect.contingency_table`."""
    cats = list(ref.frequencies) + sorted(set(cur.frequencies) - set(ref.frequencies))
    r = [ref.frequencies.get(c, 0) for c in cats]
    c = [cur.frequencies.get(k, 0) for k in cats]
    rest_r = (ref.count or 0) - sum(ref.frequencies.values())
    rest_c = (cur.count or 0) - sum(cur.frequencies.values())
    if rest_r > 0 or rest_c > 0:
        cats.append(OTHER_CATEGORY)
        r.append(max(rest_r, 0))
        c.append(max(rest_c, 0))
    m_r = _missing_count(ref, ref.count or sum(r))
    m_c = _missing_count(cur, cur.count or sum(c))
    if m_r or m_c:
        cats.append(MISSING_CATEGORY)
        r.append(m_r)
        c.append(m_c)
    return cats, np.array(r, dtype=np.int64), np.array(c, dtype=np.int64)


def compare_frequencies(
    name: str,
    prod_name: str,
    ref_counts: NDArray[np.int64],
    cur_counts: NDArray[np.int64],
    cfg: DriftConfig,
    *,
    exactness: Exactness = "exact",
    is_label: bool = False,
) -> FieldComparison:
    """Chi-square of homogeneity, Cramér's V (equal n) and PSI of two count vectors."""
    chi = chi_square_homogeneity(ref_counts, cur_counts, cfg.psi_epsilon)
    return FieldComparison(
        field=name,
        production_field=prod_name,
        kind="categorical",
        test="chi2",
        exactness=exactness,
        statistic=chi.statistic,
        p_value=chi.p_value,
        effect_size=chi.cramers_v,
        effect_name="cramers_v_equal_n",
        psi=chi.psi,
        n_ref=int(ref_counts.sum()),
        n_cur=int(cur_counts.sum()),
        is_label=is_label,
    )


def _prediction_counts(
    td: TrainingData, ref: FieldStatistics | None, cur: FieldStatistics
) -> tuple[NDArray[np.int64], NDArray[np.int64], Exactness] | None:
    """Training label counts vs the production field's category counts (its predictions).

    Training side: the label field's own frequencies when it has them (exact when they list
    every value on both sides), else the training ``distribution`` times the training row
    count (approximate: rounded counts). Training labels are mapped to their production names
    by the ``distribution``'s ``mapping_production_data``; labels compared after
    :func:`norm_text`."""
    to_prod = {
        norm_text(s.label): norm_text(production_field_for(s.label, s.mapping_production_data))
        for s in td.distribution
    }
    train: dict[str, float] = {}
    exactness: Exactness = "approximate"
    if ref is not None and ref.frequencies:
        for k, v in ref.frequencies.items():
            key = to_prod.get(norm_text(k), norm_text(k))
            train[key] = train.get(key, 0.0) + v
        complete = sum(ref.frequencies.values()) == ref.count
        complete &= sum(cur.frequencies.values()) == cur.count
        exactness = "exact" if complete else "approximate"
        n1 = round(sum(train.values()))
    else:
        n1 = (ref.count if ref is not None and ref.count else None) or rows_of(td.statistics) or 0
        for s in td.distribution:
            key = to_prod[norm_text(s.label)]
            train[key] = train.get(key, 0.0) + s.percentage
    total = sum(train.values())
    prod: dict[str, int] = {}
    for k, v in cur.frequencies.items():
        prod[norm_text(k)] = prod.get(norm_text(k), 0) + v
    if not n1 or total <= 0 or not prod:
        return None
    cats = list(train) + sorted(set(prod) - set(train))
    r = np.array([round(train.get(k, 0.0) / total * n1) for k in cats], dtype=np.int64)
    c = np.array([prod.get(k, 0) for k in cats], dtype=np.int64)
    if r.sum() == 0 or c.sum() == 0:
        return None
    return r, c, exactness


# --------------------------------------------------------------------------------------------
# all fields


def compare_statistics(
    td: TrainingData, pdd: ProductionData, config: DriftConfig | None = None
) -> StatisticsComparison:
    """Compare every training field (mapped to its production field) that has comparable
    statistics on both sides, plus training labels vs production predictions; BH across all;
    alarm rule of drift.py (adjusted p < alpha and effect ≥ the kind's threshold)."""
    cfg = config or DriftConfig()
    result = StatisticsComparison(config=cfg)
    raw: list[FieldComparison] = []
    for f in td.data_schema:
        prod_name = production_field_for(f.field_name, f.mapping_production_data)
        ref, cur = td.statistics_for(f.field_name), pdd.statistics_for(prod_name)
        if f.label_field:
            # the production counterpart of a label is what the model answered there
            if cur is not None and cur.frequencies:
                counts = _prediction_counts(td, ref, cur)
                if counts is not None:
                    r, c, how = counts
                    raw.append(
                        compare_frequencies(
                            f.field_name, prod_name, r, c, cfg, exactness=how, is_label=True
                        )
                    )
                    continue
            if not (
                ref is not None
                and cur is not None
                and ref.histogram is not None
                and cur.histogram is not None
            ):
                continue
        if ref is None or cur is None:
            if ref is not None or cur is not None or not f.label_field:
                side = "training" if ref is None else "production"
                if ref is None and cur is None:
                    side = "training and production"
                result.untested.append((f.field_name, f"no {side} statistics"))
            continue
        if ref.frequencies and cur.frequencies:
            _, r, c = category_table(ref, cur)
            raw.append(
                compare_frequencies(f.field_name, prod_name, r, c, cfg, is_label=f.label_field)
            )
        elif ref.histogram is not None and cur.histogram is not None:
            if sum(ref.histogram.counts) == 0 or sum(cur.histogram.counts) == 0:
                result.untested.append((f.field_name, "an empty histogram"))
                continue
            comp = compare_histograms(f.field_name, prod_name, ref, cur, cfg)
            raw.append(comp if not f.label_field else _with(comp, is_label=True))
        else:
            have_r = "frequencies" if ref.frequencies else "histogram" if ref.histogram else "none"
            have_c = "frequencies" if cur.frequencies else "histogram" if cur.histogram else "none"
            result.untested.append(
                (
                    f.field_name,
                    f"no comparable distribution (training: {have_r}, production: {have_c}); "
                    "a test needs frequencies or a histogram on both sides",
                )
            )
    p = np.array([c.p_value for c in raw], dtype=np.float64)
    adjusted = benjamini_hochberg(p) if len(raw) else np.zeros(0)
    for comp, p_adj in zip(raw, adjusted, strict=True):
        threshold = cfg.numeric_effect if comp.kind == "numeric" else cfg.categorical_effect
        alarm = bool(p_adj < cfg.alpha and comp.effect_size >= threshold)
        significant = bool(p_adj < cfg.alpha)
        result.fields.append(
            _with(comp, p_adjusted=float(p_adj), significant=significant, alarm=alarm)
        )
    return result


def _with(comp: FieldComparison, **changes: object) -> FieldComparison:
    data = asdict(comp)
    data.update(changes)
    return FieldComparison(**data)  # type: ignore[arg-type]


def statistical_findings(
    ds: DescriptorSet, config: DriftConfig | None = None
) -> tuple[list[Finding], StatisticsComparison]:
    """``MM-STAT-DRIFT`` findings per feature field and ``MM-PREDICTION-SHIFT`` for the label
    field (warning on alarm; info when significant with a negligible effect) and
    ``MM-STAT-MISSING`` findings (info: field not comparable), with the table."""
    td, pdd = ds.training_data, ds.production_data
    assert td is not None and pdd is not None
    cmp = compare_statistics(td, pdd, config)
    cfg = cmp.config
    out: list[Finding] = []
    for c in cmp.fields:
        if not c.significant:
            continue
        threshold = cfg.numeric_effect if c.kind == "numeric" else cfg.categorical_effect
        test = "Kolmogorov–Smirnov" if c.test == "ks" else "chi-square"
        effect = "Wasserstein/std" if c.kind == "numeric" else "Cramér's V"
        if c.is_label:
            what = (
                f"prediction distribution (training labels {c.field!r} vs production "
                f"{c.production_field!r})"
            )
        else:
            what = repr(c.field)
        if c.alarm:
            message = (
                f"{what} shifted "
                f"between training and production: {test} p_adj={c.p_adjusted:.3g} < "
                f"{cfg.alpha:g} and {effect} {c.effect_size:.3g} ≥ {threshold:g} "
                f"({c.exactness})"
            )
            hint = (
                "Find out why production differs (new population, upstream change, unit or "
                "encoding change); retrain or recalibrate on recent data if it is real."
            )
            if c.is_label:
                hint = (
                    "The model answers with other class shares than the training labels: "
                    "check for a prior shift (compare with production labels when they "
                    "arrive) or a model/threshold change."
                )
        else:
            message = (
                f"{what} differs significantly (p_adj={c.p_adjusted:.3g}) but the effect "
                f"is negligible ({effect} {c.effect_size:.3g} < {threshold:g}): no alarm"
            )
            hint = "No action needed; large samples make tiny shifts significant."
        train_ref = (
            field_ref("training_data", "$.distribution")
            if c.is_label and c.exactness == "approximate" and c.kind == "categorical"
            else field_ref("training_data", f"$.statistics[?(@.field=='{c.field}')]")
        )
        fields = (
            train_ref,
            field_ref("production_data", f"$.statistics[?(@.field=='{c.production_field}')]"),
        )
        numbers: dict[str, NumberValue] = {
            "test": c.test,
            "statistic": c.statistic,
            "p_value": c.p_value,
            "p_adjusted": c.p_adjusted,
            "alpha": cfg.alpha,
            c.effect_name: c.effect_size,
            "effect_threshold": threshold,
            "psi": c.psi,
            "n_training": c.n_ref,
            "n_production": c.n_cur,
            "exactness": c.exactness,
        }
        for key in (
            "wasserstein",
            "ks_upper",
            "wasserstein_lower",
            "wasserstein_upper",
            "bins_chi2_p",
        ):
            value = getattr(c, key)
            if value is not None:
                numbers[key] = value
        out.append(
            Finding(
                rule_id="MM-PREDICTION-SHIFT" if c.is_label else "MM-STAT-DRIFT",
                severity="warning" if c.alarm else "info",
                descriptors=("training_data", "production_data"),
                fields=fields,
                numbers=numbers,
                roles=(DS, OPS),
                message=message,
                fix_hint=hint,
            )
        )
    for name, why in cmp.untested:
        out.append(
            Finding(
                rule_id="MM-STAT-MISSING",
                severity="info",
                descriptors=("training_data", "production_data"),
                fields=(
                    field_ref("training_data", "$.statistics"),
                    field_ref("production_data", "$.statistics"),
                ),
                numbers={},
                roles=(DS, OPS),
                message=f"field {name!r} cannot be compared statistically: {why}",
                fix_hint="Record frequencies (categorical) or a histogram on the training "
                "edges (numeric) in both descriptors, e.g. with `mlrails describe`.",
            )
        )
    return out, cmp


@rule(
    "MM-STAT-DRIFT",
    "training vs production distributions per field (chi-square, KS, PSI, Wasserstein, BH)",
    "training_data",
    "production_data",
)
def stat_drift(ds: DescriptorSet) -> list[Finding]:
    """Per field: chi-square (categorical, labels) or KS + Wasserstein + PSI (numeric) from the
    stored statistics; BH across fields; alarm (warning) only when BH-adjusted p < 0.05 and the
    effect ≥ 0.1 (Wasserstein/std or Cramér's V), the thresholds of ``DriftConfig``;
    significant-but-negligible shifts are info. Exact/binned/approximate: module docstring."""
    return [f for f in statistical_findings(ds)[0] if f.rule_id == "MM-STAT-DRIFT"]


@rule(
    "MM-PREDICTION-SHIFT",
    "prediction distribution shifted (training labels vs production predictions)",
    "training_data",
    "production_data",
)
def prediction_shift(ds: DescriptorSet) -> list[Finding]:
    """The training label field (``label_field``) against the production field it maps to
    (``mapping_production_data``; ``mlrails describe`` maps it to ``prediction``, the
    guard's answers in the decision log), when that field has category frequencies: training
    label counts (the field's frequencies, else ``distribution`` × row count) vs production
    prediction counts, chi-square + Cramér's V + PSI, in the same BH family and alarm rule as
    ``MM-STAT-DRIFT``. Label vs label is ``MM-LABEL-SHIFT``."""
    return [f for f in statistical_findings(ds)[0] if f.rule_id == "MM-PREDICTION-SHIFT"]


@rule(
    "MM-STAT-MISSING",
    "training and production fields have comparable statistics",
    "training_data",
    "production_data",
)
def stat_missing(ds: DescriptorSet) -> list[Finding]:
    """Fields whose statistics cannot be compared (absent on a side, or a histogram against
    frequencies): info, missing information."""
    return [f for f in statistical_findings(ds)[0] if f.rule_id == "MM-STAT-MISSING"]


# --------------------------------------------------------------------------------------------
# runner


def _skip_reason(r: Rule, ds: DescriptorSet) -> str | None:
    broken = [k for k in r.requires if k in ds.errors]
    absent = [k for k in r.requires if k not in ds.descriptors and k not in ds.errors]
    if not broken and not absent:
        return None
    parts = []
    if broken:
        parts.append("unreadable: " + ", ".join(f"{k}.json" for k in broken))
    if absent:
        parts.append("missing: " + ", ".join(f"{k}.json" for k in absent))
    return "; ".join(parts)


def check_descriptors(ds: DescriptorSet, config: DriftConfig | None = None) -> MismatchReport:
    """Run every rule whose descriptors are present; skipped rules and unreadable files are
    reported, never raised."""
    report = MismatchReport(
        directory=str(ds.directory),
        present=list(ds.descriptors),
        missing=list(ds.missing),
        descriptor_problems=[DescriptorProblem(p.file, p.path, p.problem) for p in ds.problems()],
    )
    stats_done = False
    label_row: dict[str, NumberValue] | None = None
    for r in RULES.values():
        reason = _skip_reason(r, ds)
        if reason is not None:
            report.skipped_rules.append(SkippedRule(r.rule_id, reason))
            continue
        report.checked_rules.append(r.rule_id)
        if r.rule_id == "MM-LABEL-SHIFT":
            found, labels = label_comparison(ds)
            report.findings.extend(found)
            label_row = statistics_row(labels) if labels is not None else None
            continue
        if r.rule_id in STAT_RULES:
            if not stats_done:
                found, cmp = statistical_findings(ds, config)
                report.findings.extend(found)
                report.statistics = [c.to_dict() for c in cmp.fields]
                stats_done = True
            continue
        report.findings.extend(r.fn(ds))
    if label_row is not None:
        report.statistics.append(label_row)
    return report
