"""Paired comparisons between pairs, Holm over the family, effect sizes and the power note."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mlrails.bench.compare import (
    cohens_h,
    compare_pairs,
    mcnemar_exact,
    paired_t_power,
    replicates_needed,
)
from mlrails.bench.record import CellRecord, Machine, PairRecord, RunRecord, pack_bits
from mlrails.bench.stats import holm


def test_mcnemar_exact_hand_case() -> None:
    a = np.array([True] * 8 + [False] * 2 + [True] * 5)
    b = np.array([False] * 8 + [True] * 2 + [True] * 5)
    # 8 vs 2 discordant rows: 2·P(X ≤ 2 | n=10, ½) = 2·56/1024
    assert mcnemar_exact(a, b) == pytest.approx(112 / 1024)
    assert mcnemar_exact(a, a) == 1.0


def test_power_matches_published_sample_sizes() -> None:
    # G*Power, one-sample/paired t, two-sided α = .05, power .80: d = .5 → 34, d = .8 → 15
    assert replicates_needed(0.5) == 34
    assert replicates_needed(0.8) == 15
    assert 0.80 <= paired_t_power(0.5, 34) < paired_t_power(0.5, 35)
    assert paired_t_power(0.5, 33) < 0.80
    assert replicates_needed(0.0) is None
    assert cohens_h(0.5, 0.75) == pytest.approx(
        2 * math.asin(math.sqrt(0.75)) - 2 * math.asin(math.sqrt(0.5))
    )


def _cell(pair: str, name: str, sev: int, seed: int, correct: np.ndarray, rows: str) -> CellRecord:
    n = len(correct)
    acc = float(correct.mean())
    n_wrong = int((~correct).sum())
    return CellRecord(
        pair=pair,
        kind="clean" if name == "none" else "perturbation",
        name=name,
        severity=sev,
        seed=seed,
        n=n,
        n_wrong=n_wrong,
        metrics={"accuracy": acc, "silent_failure_rate": 0.5 if n_wrong else None},
        correct=pack_bits(correct),
        rows_hash=rows,
    )


def _record(cells: list[CellRecord]) -> RunRecord:
    pairs = [
        PairRecord(name=n, artifact=n, artifact_hash="x", model_hash="y", model_class="m",
                   task="classification")
        for n in ("a", "b")
    ]  # fmt: skip
    machine = Machine(hostname="h", platform="p", python="3", cpu="c", cpu_count=1)
    return RunRecord(
        run_id="r", config={}, config_hash="h", data_hashes={}, pairs=pairs, seeds=[0, 1, 2],
        packages={}, mlrails_version="0", machine=machine, started_at="t", finished_at="t",
        wall_s=0.0, cells=cells,
    )  # fmt: skip


def test_compare_pairs_tests_holm_and_power_note() -> None:
    rng = np.random.default_rng(0)
    n = 200
    cells: list[CellRecord] = []
    base = rng.random(n) < 0.95
    cells += [_cell("a", "none", 1, 0, base, "clean"), _cell("b", "none", 1, 0, base, "clean")]
    diffs = []
    for seed in range(3):
        ca = rng.random(n) < 0.9
        cb = ca & (rng.random(n) < 0.8)  # b loses ~18 % of a's right answers
        cells += [
            _cell("a", "noise", 3, seed, ca, f"s{seed}"),
            _cell("b", "noise", 3, seed, cb, f"s{seed}"),
        ]
        diffs.append(cb.mean() - ca.mean())
    # an attack: different rows per model → Fisher's test
    cells += [
        _cell("a", "fgsm", 2, 0, rng.random(n) < 0.7, "rows-a"),
        _cell("b", "fgsm", 2, 0, rng.random(n) < 0.7, "rows-b"),
    ]
    comps, notes = compare_pairs(_record(cells), target=0.02)
    acc = [c for c in comps if c.metric == "accuracy"]
    assert len(acc) == 5
    same = next(c for c in acc if c.condition == "none/s1/seed0")
    assert same.p == 1.0 and same.difference == 0.0 and not same.significant
    noisy = [c for c in acc if c.condition.startswith("noise")]
    assert all(c.test == "mcnemar-exact" and c.significant and c.difference < 0 for c in noisy)
    for c in noisy:
        assert c.ci is not None and c.ci[0] <= c.difference <= c.ci[1] and c.ci[1] < 0
        assert c.effect_size == pytest.approx(cohens_h(c.value_a, c.value_b))
    attack = next(c for c in acc if c.condition.startswith("fgsm"))
    ra = cells[-2].correct_rows()
    rb = cells[-1].correct_rows()
    assert ra is not None and rb is not None
    table = [[ra.sum(), (~ra).sum()], [rb.sum(), (~rb).sum()]]
    assert attack.test == "fisher-exact"
    assert attack.p == pytest.approx(stats.fisher_exact(table).pvalue)
    assert [c.p_holm for c in comps] == pytest.approx(list(holm([c.p for c in comps])))
    fgsm_note, note = notes  # sorted by name: one replicate of fgsm cannot give a spread
    assert fgsm_note.replicates == 1 and fgsm_note.sd is None
    assert fgsm_note.replicates_needed is None
    assert (note.name, note.severity, note.replicates) == ("noise", 3, 3)
    sd = float(np.std(diffs, ddof=1))
    assert note.sd == pytest.approx(sd) and note.mean_difference == pytest.approx(np.mean(diffs))
    assert note.replicates_needed == replicates_needed(0.02 / sd)
