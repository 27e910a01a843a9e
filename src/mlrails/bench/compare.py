"""Comparisons between the pairs of a run: which model (or artifact) is more robust where.

For every condition (perturbation or attack, severity, seed, repeat) that two pairs both ran,
accuracy is compared with an exact test — McNemar's on the discordant rows when both saw the
very same rows (same ``rows_hash``: a perturbation is seeded, so it is), Fisher's otherwise
(attacks craft different rows per model) — with a bootstrap interval of the difference and
Cohen's *h* as effect size; the silent-failure rates with Fisher's test on the wrong answers.
p-values are Holm-adjusted over the whole family. A power note per (condition without the
seed, pair pair) says, from the spread of the difference across seeds and repeats, how many
replicates a paired t-test needs to resolve a given difference.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from mlrails.bench import resample
from mlrails.bench.record import CellRecord, RunRecord
from mlrails.bench.stats import holm
from mlrails.drift.statistics import cohens_h


@dataclass(frozen=True)
class Comparison:
    """One metric of pair ``b`` against pair ``a`` on one condition (``difference = b − a``)."""

    condition: str
    metric: str
    pair_a: str
    pair_b: str
    value_a: float
    value_b: float
    difference: float
    ci: tuple[float, float] | None
    effect_size: float
    test: str
    p: float
    p_holm: float
    significant: bool


@dataclass(frozen=True)
class PowerNote:
    """How many seed×repeat replicates would resolve ``target`` for one (name, severity).

    ``sd``: standard deviation of the per-replicate accuracy difference; ``power_now``:
    power of a two-sided paired t-test at the current number of replicates.
    """

    name: str
    severity: int
    pair_a: str
    pair_b: str
    replicates: int
    mean_difference: float
    sd: float | None
    target: float
    power_now: float | None
    replicates_needed: int | None


def mcnemar_exact(correct_a: np.ndarray, correct_b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value: the discordant rows as a binomial with p = ½."""
    b = int(np.sum(correct_a & ~correct_b))
    c = int(np.sum(~correct_a & correct_b))
    if b + c == 0:
        return 1.0
    return float(stats.binomtest(b, b + c, 0.5).pvalue)


def paired_t_power(effect: float, n: int, alpha: float = 0.05) -> float:
    """Power of a two-sided one-sample / paired t-test with standardised effect
    ``effect = δ/σ`` and ``n`` pairs (noncentral t)."""
    if n < 2:
        return float("nan")
    df = n - 1
    crit = stats.t.ppf(1 - alpha / 2, df)
    nc = effect * math.sqrt(n)
    return float(stats.nct.sf(crit, df, nc) + stats.nct.cdf(-crit, df, nc))


def replicates_needed(
    effect: float, alpha: float = 0.05, power: float = 0.8, max_n: int = 100_000
) -> int | None:
    """Smallest ``n`` whose paired t-test power reaches ``power`` (``None`` beyond ``max_n``
    or for a zero effect)."""
    if effect == 0 or not math.isfinite(effect):
        return None
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    n = max(2, math.floor((z / abs(effect)) ** 2))
    while n <= max_n:
        if paired_t_power(abs(effect), n, alpha) >= power:
            return n
        n += 1
    return None


def compare_pairs(
    record: RunRecord,
    *,
    alpha: float = 0.05,
    target: float = 0.02,
    power: float = 0.8,
    n_resamples: int = 2000,
) -> tuple[list[Comparison], list[PowerNote]]:
    """Every pair against every other on every condition both ran (see the module
    docstring); ``target``: the accuracy difference the power note is about."""
    by_pair: dict[str, dict[str, CellRecord]] = defaultdict(dict)
    for cell in record.cells:
        if cell.error is None and cell.correct is not None:
            by_pair[cell.pair][cell.condition] = cell
    pairs = [p.name for p in record.pairs if p.name in by_pair]
    raw: list[Comparison] = []
    for a, b in itertools.combinations(pairs, 2):
        for cond in by_pair[a]:
            if cond in by_pair[b]:
                raw += _compare_cells(by_pair[a][cond], by_pair[b][cond], n_resamples)
    adjusted = holm([c.p for c in raw]) if raw else np.array([])
    out = [
        replace(c, p_holm=float(q), significant=bool(q < alpha))
        for c, q in zip(raw, adjusted, strict=True)
    ]
    notes = [
        _power_note(a, b, by_pair, target, alpha, power)
        for a, b in itertools.combinations(pairs, 2)
    ]
    return out, [n for group in notes for n in group]


def _compare_cells(ca: CellRecord, cb: CellRecord, n_resamples: int) -> list[Comparison]:
    out: list[Comparison] = []
    ra, rb = ca.correct_rows(), cb.correct_rows()
    assert ra is not None and rb is not None
    acc_a, acc_b = float(ra.mean()), float(rb.mean())
    if ca.rows_hash is not None and ca.rows_hash == cb.rows_hash:
        test, p = "mcnemar-exact", mcnemar_exact(ra, rb)
        W = resample.resample_counts(len(ra), n_resamples, seed=0)
        diffs = W @ (rb.astype(np.float64) - ra.astype(np.float64)) / len(ra)
    else:
        table = [[int(ra.sum()), int((~ra).sum())], [int(rb.sum()), int((~rb).sum())]]
        test, p = "fisher-exact", float(stats.fisher_exact(table).pvalue)
        Wa = resample.resample_counts(len(ra), n_resamples, seed=0)
        Wb = resample.resample_counts(len(rb), n_resamples, seed=1)
        diffs = Wb @ rb.astype(np.float64) / len(rb) - Wa @ ra.astype(np.float64) / len(ra)
    common = {"condition": ca.condition, "pair_a": ca.pair, "pair_b": cb.pair}
    out.append(
        Comparison(
            **common,
            metric="accuracy",
            value_a=acc_a,
            value_b=acc_b,
            difference=acc_b - acc_a,
            ci=resample.percentile(diffs),
            effect_size=cohens_h(acc_a, acc_b),
            test=test,
            p=p,
            p_holm=p,
            significant=False,
        )
    )
    sa, sb = ca.metrics.get("silent_failure_rate"), cb.metrics.get("silent_failure_rate")
    if sa is not None and sb is not None and ca.n_wrong and cb.n_wrong:
        ka, kb = round(sa * ca.n_wrong), round(sb * cb.n_wrong)
        table = [[ka, ca.n_wrong - ka], [kb, cb.n_wrong - kb]]
        p = float(stats.fisher_exact(table).pvalue)
        out.append(
            Comparison(
                **common,
                metric="silent_failure_rate",
                value_a=sa,
                value_b=sb,
                difference=sb - sa,
                ci=None,
                effect_size=cohens_h(sa, sb),
                test="fisher-exact",
                p=p,
                p_holm=p,
                significant=False,
            )
        )
    return out


def _power_note(
    a: str,
    b: str,
    by_pair: dict[str, dict[str, CellRecord]],
    target: float,
    alpha: float,
    power: float,
) -> list[PowerNote]:
    groups: dict[tuple[str, int], list[float]] = defaultdict(list)
    for cond, ca in by_pair[a].items():
        cb = by_pair[b].get(cond)
        if cb is None or ca.kind == "clean":
            continue
        acc_a, acc_b = ca.metrics.get("accuracy"), cb.metrics.get("accuracy")
        if acc_a is not None and acc_b is not None:
            groups[(ca.name, ca.severity)].append(acc_b - acc_a)
    notes = []
    for (name, severity), diffs in sorted(groups.items()):
        d = np.asarray(diffs)
        sd = float(d.std(ddof=1)) if len(d) >= 2 else None
        effect = target / sd if sd else None
        notes.append(
            PowerNote(
                name=name,
                severity=severity,
                pair_a=a,
                pair_b=b,
                replicates=len(d),
                mean_difference=float(d.mean()),
                sd=sd,
                target=target,
                power_now=None if effect is None else paired_t_power(effect, len(d), alpha),
                replicates_needed=None
                if effect is None
                else replicates_needed(effect, alpha, power),
            )
        )
    return notes
