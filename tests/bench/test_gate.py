"""The CI regression gate on constructed records: p-values by hand and against scipy."""

from __future__ import annotations

from math import comb
from typing import Any

import numpy as np
import pytest
from scipy.stats import binomtest, fisher_exact

from mlrails.bench.gate import GateError, compare_to_baseline, fisher_worse, mcnemar_worse
from mlrails.bench.record import CellRecord, Machine, RunRecord, pack_bits
from mlrails.bench.stats import holm

N = 100


def cell(
    name: str,
    right: np.ndarray[Any, Any] | None,
    *,
    rows: str = "rows-a",
    silent: tuple[int, int] | None = None,
    severity: int = 1,
    regression: bool = False,
    rmse: float = 1.0,
    error: str | None = None,
) -> CellRecord:
    """A cell whose model was right on ``right``; ``silent = (silent, n_wrong)`` sets the
    rails' silent-failure rate (default: a third of the wrong rows, rounded)."""
    if error is not None or right is None:
        return CellRecord(
            pair="m", kind="perturbation", name=name, severity=severity, seed=0, error=error
        )
    n_wrong = int((~right).sum())
    s = silent[0] if silent else n_wrong // 3
    metrics: dict[str, float | None] = (
        {"rmse": rmse} if regression else {"accuracy": float(right.mean())}
    )
    metrics["silent_failure_rate"] = s / n_wrong if n_wrong else None
    return CellRecord(
        pair="m",
        kind="clean" if name == "none" else "perturbation",
        name=name,
        severity=severity,
        seed=0,
        n=len(right),
        n_wrong=n_wrong,
        metrics=metrics,
        correct=pack_bits(right),
        rows_hash=rows,
    )


def record(cells: list[CellRecord], **config: Any) -> RunRecord:
    return RunRecord(
        run_id="r",
        config=config,
        config_hash="c",
        data_hashes={"test": "d"},
        pairs=[],
        seeds=[0],
        packages={},
        mlrails_version="0",
        machine=Machine(hostname="h", platform="p", python="3", cpu="c", cpu_count=1),
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:01+00:00",
        wall_s=1.0,
        cells=cells,
    )


def right_except(wrong: list[int], n: int = N) -> np.ndarray[Any, Any]:
    r = np.ones(n, dtype=bool)
    r[wrong] = False
    return r


def test_planted_regression_on_the_same_rows_is_an_exact_mcnemar() -> None:
    base = record([cell("none", np.ones(N, dtype=bool))])
    cur = record([cell("none", right_except(list(range(12))))])
    res = compare_to_baseline(cur, base)
    acc = next(t for t in res.tests if t.metric == "accuracy")
    # b = 12 rows right before and wrong now, c = 0: p = P(Binom(12, ½) ≥ 12) = 2⁻¹²
    assert acc.test == "mcnemar-exact"
    assert acc.p == pytest.approx(2.0**-12, rel=1e-12)
    assert acc.p == binomtest(12, 12, 0.5, alternative="greater").pvalue
    assert acc.baseline == 1.0 and acc.current == 0.88
    assert acc.difference == pytest.approx(-0.12) and acc.worsening == pytest.approx(0.12)
    assert acc.regressed and res.regressions == [acc] and not res.ok


def test_mcnemar_counts_only_discordant_rows() -> None:
    # 9 rows right before and wrong now, 2 the other way round, 5 wrong in both
    base = right_except([0, 1, 2, 3, 4, 90, 91])
    now = right_except([0, 1, 2, 3, 4, *range(10, 19)])
    p = mcnemar_worse(base, now)
    assert p == pytest.approx(sum(comb(11, k) for k in (9, 10, 11)) / 2**11, rel=1e-12)
    assert p == pytest.approx(67 / 2048, rel=1e-12)
    assert mcnemar_worse(base, base) == 1.0
    assert mcnemar_worse(now, base) == binomtest(2, 11, 0.5, alternative="greater").pvalue


def _fisher_by_hand(a: int, n1: int, c: int, n2: int) -> float:
    """P(X ≥ a) for X hypergeometric: ``a + c`` bad outcomes among ``n1 + n2`` rows, ``n1``
    of them drawn (the current run's)."""
    bad = a + c
    total = n1 + n2
    hi = min(bad, n1)
    return sum(comb(bad, k) * comb(total - bad, n1 - k) for k in range(a, hi + 1)) / comb(total, n1)


def test_other_rows_use_a_one_sided_fisher_test() -> None:
    base = record([cell("none", right_except(list(range(5))), rows="rows-a")])
    cur = record([cell("none", right_except(list(range(15)), n=90), rows="rows-b")])
    acc = next(t for t in compare_to_baseline(cur, base).tests if t.metric == "accuracy")
    assert acc.test == "fisher-exact"
    expected = fisher_exact([[15, 75], [5, 95]], alternative="greater").pvalue
    assert acc.p == expected
    assert acc.p == pytest.approx(_fisher_by_hand(15, 90, 5, 100), rel=1e-9)
    assert fisher_worse(15, 90, 5, 100) == expected


def test_silent_failure_rate_is_fisher_on_silent_over_wrong_counts() -> None:
    wrong = list(range(20))
    base = record([cell("none", right_except(wrong), silent=(2, 20))])
    cur = record([cell("none", right_except(wrong), silent=(14, 20))])
    res = compare_to_baseline(cur, base)
    silent = next(t for t in res.tests if t.metric == "silent_failure_rate")
    assert silent.test == "fisher-exact"
    assert (silent.baseline, silent.current) == (0.1, 0.7)
    assert silent.p == fisher_exact([[14, 6], [2, 18]], alternative="greater").pvalue
    assert silent.p == pytest.approx(_fisher_by_hand(14, 20, 2, 20), rel=1e-9)
    assert silent.regressed
    acc = next(t for t in res.tests if t.metric == "accuracy")
    assert acc.p == 1.0 and not acc.regressed  # the same rows right and wrong


def test_p_values_are_holm_adjusted_over_every_test() -> None:
    cells_base = [cell("noise", np.ones(N, dtype=bool), severity=s) for s in (1, 2, 3)]
    cells_now = [
        cell("noise", right_except(list(range(k))), severity=s)
        for s, k in ((1, 12), (2, 3), (3, 0))
    ]
    res = compare_to_baseline(record(cells_now), record(cells_base))
    tested = [t for t in res.tests if t.p is not None]
    # silent failure is untested where a run has no wrong rows (every baseline cell here)
    assert [t.metric for t in tested] == ["accuracy"] * 3
    ps = [t.p for t in tested if t.p is not None]
    assert [t.p_holm for t in tested] == pytest.approx(holm(ps).tolist())
    assert tested[0].p_holm == pytest.approx(3 * 2.0**-12)
    assert tested[1].p == pytest.approx(1 / 8) and not tested[1].regressed
    assert [t.key for t in res.regressions] == ["m:noise/s1/seed0"]
    untested = [t for t in res.tests if t.p is None]
    assert all(t.test == "none" and t.note and not t.regressed for t in untested)


def test_an_identical_rerun_passes() -> None:
    cells = [
        cell("none", right_except([3, 50, 70])),
        cell("noise", right_except(list(range(30))), severity=5, silent=(9, 30)),
    ]
    base, cur = record(cells), record([c.model_copy() for c in cells])
    res = compare_to_baseline(cur, base)
    assert res.ok and not res.regressions and not res.missing and not res.failed
    for t in res.tests:  # no discordant rows; equal silent/wrong tables: P(X ≥ observed)
        assert t.p == 1.0 if t.test == "mcnemar-exact" else t.p is not None and t.p > 0.5
    assert all(t.difference == 0 for t in res.tests if t.difference is not None)


def test_min_effect_ignores_small_significant_changes() -> None:
    base = record([cell("none", np.ones(1000, dtype=bool))])
    cur = record([cell("none", right_except(list(range(20)), n=1000))])
    assert not compare_to_baseline(cur, base).ok  # 2 points, p = 2⁻²⁰
    res = compare_to_baseline(cur, base, min_effect=0.05)
    p_holm = next(t for t in res.tests if t.metric == "accuracy").p_holm
    assert res.ok and p_holm is not None and p_holm < 1e-5


def test_failed_missing_and_added_cells() -> None:
    ok = np.ones(N, dtype=bool)
    base = record([cell("none", ok), cell("noise", ok), cell("shift", ok)])
    cur = record([cell("none", ok), cell("noise", None, error="ValueError: boom"), cell("x", ok)])
    res = compare_to_baseline(cur, base)
    assert res.failed == ["m:noise/s1/seed0"]
    assert res.missing == ["m:shift/s1/seed0"]
    assert res.added == ["m:x/s1/seed0"]
    assert not res.regressions and not res.ok
    # a cell that failed in the baseline has nothing to compare
    res2 = compare_to_baseline(base, cur)
    assert "m:noise/s1/seed0" not in res2.failed and not res2.regressions


def test_a_regressor_is_gated_only_with_a_fixed_tolerance() -> None:
    b = cell("none", np.ones(N, dtype=bool), regression=True, rmse=1.0)
    c = cell("none", right_except(list(range(12))), regression=True, rmse=1.5)
    res = compare_to_baseline(record([c]), record([b]))
    rmse = next(t for t in res.tests if t.metric == "rmse")
    assert rmse.test == "none" and rmse.p is None and "regression_tolerance" in (rmse.note or "")
    assert rmse.difference == 0.5 and rmse.worsening == 0.5
    res = compare_to_baseline(
        record([c], regression_tolerance=0.5), record([b], regression_tolerance=0.5)
    )
    rmse = next(t for t in res.tests if t.metric == "rmse")
    assert rmse.test == "mcnemar-exact" and rmse.p == pytest.approx(2.0**-12)
    assert rmse.regressed and not res.ok


def test_settings_are_checked_and_input_changes_noted() -> None:
    base = record([cell("none", np.ones(N, dtype=bool))])
    with pytest.raises(GateError, match="alpha"):
        compare_to_baseline(base, base, alpha=1.5)
    with pytest.raises(GateError, match="min_effect"):
        compare_to_baseline(base, base, min_effect=-1)
    other = base.model_copy(update={"config_hash": "x", "data_hashes": {"test": "e"}})
    assert compare_to_baseline(other, base).notes == ["the configs differ", "the test data differ"]
