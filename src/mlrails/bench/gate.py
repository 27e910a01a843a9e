"""The CI regression gate: is a run significantly worse than its baseline?

For every cell both runs have (same pair and condition, i.e. the same
:attr:`~mlrails.bench.record.CellRecord.key`), two one-sided tests ask whether the current
run is *worse*:

* the model's quality — ``accuracy`` for a classifier, ``rmse`` for a regressor, tested on
  the per-row "prediction right" bits (a regressor's row is right when its error is within
  the tolerance):

  - same rows (equal ``rows_hash``): exact McNemar test — of the ``b + c`` discordant rows,
    ``b`` were right in the baseline and wrong now; ``p = P(Binom(b + c, ½) ≥ b)``;
  - other rows: one-sided Fisher exact test on the 2×2 table of right/wrong counts;
  - a regressor is only tested when both runs fixed the same ``regression_tolerance`` in
    their config (the default tolerance is a quantile of each run's own errors, so "right"
    would mean something else in each run); otherwise the test is listed untested with a
    note;

* the rails' ``silent_failure_rate`` (wrong rows that passed, over wrong rows): one-sided
  Fisher exact test on silent/caught counts (``silent = round(rate · n_wrong)``); not
  paired, as the wrong rows differ between runs.

The p-values of all tests are Holm-adjusted together (family-wise error ``alpha``); a test
is a regression when its adjusted p is below ``alpha`` and the metric got worse by at least
``min_effect`` (absolute: accuracy points, RMSE units, rate points). A cell that failed now
but not in the baseline is a regression too, and a baseline cell missing from the current
run fails the gate (nothing shows it did not regress).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binomtest, fisher_exact

from mlrails.bench.record import CellRecord, RunRecord
from mlrails.bench.stats import holm
from mlrails.errors import MlrailsError

Metric = Literal["accuracy", "rmse", "silent_failure_rate"]
TestName = Literal["mcnemar-exact", "fisher-exact", "none"]


class GateError(MlrailsError):
    """The gate's settings are unusable."""


@dataclass(frozen=True)
class GateTest:
    """One metric of one cell, baseline against current. ``difference`` is current minus
    baseline; ``p`` the one-sided p-value of "current is worse", ``p_holm`` adjusted over
    every test of the gate (both ``None`` for an untested metric, see ``note``)."""

    key: str
    metric: Metric
    baseline: float | None
    current: float | None
    difference: float | None
    test: TestName
    p: float | None
    p_holm: float | None
    regressed: bool
    note: str | None = None

    @property
    def worsening(self) -> float | None:
        """How much worse the current run is (positive: worse) in the metric's units."""
        if self.difference is None:
            return None
        return -self.difference if self.metric == "accuracy" else self.difference


@dataclass(frozen=True)
class GateResult:
    """Every test, the cells the current run lacks or newly failed, and the verdict."""

    tests: list[GateTest]
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    alpha: float = 0.05
    min_effect: float = 0.0

    @property
    def regressions(self) -> list[GateTest]:
        return [t for t in self.tests if t.regressed]

    @property
    def ok(self) -> bool:
        """No significant regression, no newly failed cell, no missing cell."""
        return not self.regressions and not self.failed and not self.missing


@dataclass(frozen=True)
class _Raw:
    key: str
    metric: Metric
    baseline: float | None
    current: float | None
    test: TestName
    p: float | None
    note: str | None = None


def compare_to_baseline(
    current: RunRecord,
    baseline: RunRecord,
    *,
    alpha: float = 0.05,
    min_effect: float = 0.0,
) -> GateResult:
    """Test every shared cell of ``current`` for a regression against ``baseline`` (see
    the module docstring)."""
    if not 0 < alpha < 1:
        raise GateError(f"alpha must be between 0 and 1, got {alpha}")
    if min_effect < 0:
        raise GateError(f"min_effect must be ≥ 0, got {min_effect}")
    now = {c.key: c for c in current.cells}
    before = {c.key: c for c in baseline.cells}
    tolerance = _same_tolerance(current, baseline)
    missing = [k for k in before if k not in now]
    added = [k for k in now if k not in before]
    failed: list[str] = []
    raw: list[_Raw] = []
    for key, base in before.items():
        cur = now.get(key)
        if cur is None or base.error is not None:
            continue
        if cur.error is not None:
            failed.append(key)
            continue
        raw.append(_quality(key, base, cur, tolerance))
        raw.append(_silent(key, base, cur))
    tested = {i: r.p for i, r in enumerate(raw) if r.p is not None}
    adjusted = holm(list(tested.values())) if tested else np.empty(0)
    p_holm = dict(zip(tested, (float(a) for a in adjusted), strict=True))
    tests = [_finish(r, p_holm.get(i), alpha, min_effect) for i, r in enumerate(raw)]
    return GateResult(
        tests=tests,
        missing=missing,
        failed=failed,
        added=added,
        notes=_notes(current, baseline),
        alpha=alpha,
        min_effect=min_effect,
    )


def _finish(r: _Raw, p_holm: float | None, alpha: float, min_effect: float) -> GateTest:
    diff = None if r.baseline is None or r.current is None else r.current - r.baseline
    worse = None if diff is None else (-diff if r.metric == "accuracy" else diff)
    regressed = (
        p_holm is not None
        and p_holm < alpha
        and worse is not None
        and worse > 0
        and worse >= min_effect
    )
    return GateTest(
        r.key, r.metric, r.baseline, r.current, diff, r.test, r.p, p_holm, regressed, r.note
    )


def mcnemar_worse(baseline_right: ArrayLike, current_right: ArrayLike) -> float:
    """Exact one-sided McNemar p-value that the current run gets more rows wrong: of the
    discordant rows, those right before and wrong now, against Binom(discordant, ½)."""
    base = np.asarray(baseline_right, dtype=bool)
    cur = np.asarray(current_right, dtype=bool)
    b = int(np.sum(base & ~cur))
    c = int(np.sum(~base & cur))
    if b + c == 0:
        return 1.0
    return float(binomtest(b, b + c, 0.5, alternative="greater").pvalue)


def fisher_worse(current_bad: int, current_n: int, baseline_bad: int, baseline_n: int) -> float:
    """One-sided Fisher exact p-value that the current run's share of bad outcomes is
    higher than the baseline's."""
    table = [
        [current_bad, current_n - current_bad],
        [baseline_bad, baseline_n - baseline_bad],
    ]
    return float(fisher_exact(table, alternative="greater").pvalue)


def _quality(key: str, base: CellRecord, cur: CellRecord, tolerance: bool) -> _Raw:
    metric: Metric = "rmse" if "rmse" in base.metrics or "rmse" in cur.metrics else "accuracy"
    b_val, c_val = base.metrics.get(metric), cur.metrics.get(metric)
    if metric == "rmse" and not tolerance:
        note = "untested: set the same regression_tolerance in both configs to gate a regressor"
        return _Raw(key, metric, b_val, c_val, "none", None, note)
    b_bits, c_bits = base.correct_rows(), cur.correct_rows()
    if b_bits is None or c_bits is None:
        return _Raw(key, metric, b_val, c_val, "none", None, "untested: no per-row results")
    if base.rows_hash is not None and base.rows_hash == cur.rows_hash and base.n == cur.n:
        return _Raw(key, metric, b_val, c_val, "mcnemar-exact", mcnemar_worse(b_bits, c_bits))
    p = fisher_worse(int((~c_bits).sum()), cur.n, int((~b_bits).sum()), base.n)
    return _Raw(key, metric, b_val, c_val, "fisher-exact", p)


def _silent(key: str, base: CellRecord, cur: CellRecord) -> _Raw:
    metric: Metric = "silent_failure_rate"
    b_rate, c_rate = base.metrics.get(metric), cur.metrics.get(metric)
    if b_rate is None or c_rate is None or not base.n_wrong or not cur.n_wrong:
        return _Raw(key, metric, b_rate, c_rate, "none", None, "untested: no wrong rows")
    c_silent = round(c_rate * cur.n_wrong)
    b_silent = round(b_rate * base.n_wrong)
    p = fisher_worse(c_silent, cur.n_wrong, b_silent, base.n_wrong)
    return _Raw(key, metric, b_rate, c_rate, "fisher-exact", p)


def _same_tolerance(current: RunRecord, baseline: RunRecord) -> bool:
    a = current.config.get("regression_tolerance")
    b = baseline.config.get("regression_tolerance")
    return a is not None and a == b


def _notes(current: RunRecord, baseline: RunRecord) -> list[str]:
    """What differs between the runs' inputs (expected in CI: a new model is the point)."""
    out: list[str] = []
    if current.config_hash != baseline.config_hash:
        out.append("the configs differ")
    for name, h in baseline.data_hashes.items():
        if current.data_hashes.get(name) != h:
            out.append(f"the {name} data differ")
    now = {p.name: p for p in current.pairs}
    for p in baseline.pairs:
        q = now.get(p.name)
        if q is None:
            continue
        if q.model_hash != p.model_hash:
            out.append(f"pair {p.name!r}: the model differs")
        if q.artifact_hash != p.artifact_hash:
            out.append(f"pair {p.name!r}: the artifact differs")
    return out
