"""Guard quality (issue 14): false alarms, silent failures, coverage, OOD catch, error detection.

Ten settings (``guard_quality_settings.py``): bundled tables (breast cancer, wine, digits 0-4,
diabetes), a table with string categories, a 150-row and a 50,000-row training set, and
nannyml's synthetic car-loan, car-price and credit-card sets with their drifting analysis
periods; linear models, forests, HistGradientBoosting, LightGBM and XGBoost. Planted shifts:
noise, unit change, unseen classes, unseen category, correlation break, prior shift.

Per setting and seed, the guard is fitted with the error budget of issue 14
(``false_alarm_rate`` 1%, ``silent_failure_rate`` alpha, ``confidence`` 0.9, batch test off)
in two variants: no calibration data (the default path) and ``X_calib``/``y_calib`` given;
in-distribution test rows and each shift are checked in one batch each. Measured:

* in-distribution false alarms: share of test rows whose OOD or adversarial safeguard
  triggered, against the budget plus binomial slack (95% upper quantile of Binomial(n, 1%));
* silent failures: error among rows answered 200 against alpha plus binomial slack; coverage
  (share answered 200) against the oracle's: the most rows a threshold on calibrated max
  probability (regression: on the error score) could answer at the same error if it were
  chosen on the test rows with their labels;
* OOD: shifted rows caught (400/403/422, or an OOD/adversarial alarm) against kNN k-th
  distance, Ledoit-Wolf Mahalanobis and Isolation Forest fitted on the training rows and
  thresholded on the calibration split at the guard's realised in-distribution alarm rate;
* error detection: AUROC of the guard's error score for "the prediction is wrong" against
  1 - max probability;
* MAPIE's Learn-Then-Test risk control of the error among answered rows (same alpha and
  delta, calibration split given), its coverage against ours.

    .venv/bin/python -m benchmarks.bench_guard_quality [--quick] [--seeds 3] [--settings a,b]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import mlrails
from benchmarks.common import fmt_table
from benchmarks.guard_quality_metrics import (
    CATCH_STATUSES,
    Batch,
    ClassicDetectors,
    auroc,
    binom_upper,
    mapie_selective,
    oracle_coverage,
    read_verdicts,
)
from benchmarks.guard_quality_settings import (
    BUILDERS,
    NANNYML,
    QUICK,
    Setting,
    build,
    nannyml_data_dir,
    wrong,
)
from mlrails.errors import PolicyError

FALSE_ALARM_RATE = 0.01
CONFIDENCE = 0.9
VARIANTS = ("no calib", "calib given")
MAPIE_FWER = ("bonferroni_holm", "fixed_sequence")


@dataclass
class ShiftResult:
    """One shift of one run: the guard's catch rate and the classic detectors' at its rate."""

    shift: str
    n: int
    guard_catch: float
    classic: dict[str, float]
    share_200: float
    error_200: float | None  # None when the shift has no meaningful labels


@dataclass
class RunResult:
    """One fit of the guard (setting x seed x variant x alpha) and what it did on test rows."""

    setting: str
    kind: str
    model: str
    seed: int
    variant: str
    alpha: float
    stated: bool  # the setting's stated alpha (else a point of the alpha sweep)
    n_train: int
    n_test: int
    base_error: float
    alarm_rate: float
    alarm_bound: float
    n_200: int
    error_200: float
    error_bound: float
    coverage: float
    oracle: float
    certified_coverage: float | None
    fit_false_alarm: float | None  # the fit's own estimate (summary.budget), when it gives one
    auroc_guard: float
    auroc_max_probability: float
    error_score: str
    fit_s: float
    check_s: float
    shifts: list[ShiftResult] = field(default_factory=list)
    mapie: dict[str, tuple[float, float]] = field(default_factory=dict)  # FWER -> (cov, err)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.coverage / self.oracle if self.oracle > 0 else float("nan")


def policy_for(setting: Setting, alpha: float | None) -> dict[str, Any]:
    """The issue-14 policy: one false-alarm budget, alpha at confidence 0.9, batch test off."""
    budget: dict[str, Any] = {
        "false_alarm_rate": FALSE_ALARM_RATE,
        "silent_failure_rate": alpha,
        "confidence": CONFIDENCE,
    }
    if setting.tolerance is not None:
        budget["tolerance"] = setting.tolerance
    return {"budget": budget, "batch_shift": {"mode": "off"}}


def _fit(setting: Setting, variant: str, alpha: float) -> Any:
    pol = policy_for(setting, alpha)
    given = variant == "calib given"
    X_c, y_c = (setting.X_calib, setting.y_calib) if given else (None, None)
    try:
        return mlrails.fit(setting.model, setting.X_train, setting.y_train, X_c, y_c, policy=pol)
    except PolicyError:  # an older guard without some of these sections
        return mlrails.fit(setting.model, setting.X_train, setting.y_train, X_c, y_c)


def _budget_field(rails: Any, name: str) -> Any:
    budget = getattr(getattr(rails, "summary", None), "budget", None)
    return None if budget is None else getattr(budget, name, None)


def _confidence_score(setting: Setting, batch: Batch, X: Any) -> np.ndarray:
    """1 - calibrated max probability (classification) or the error score (regression);
    the bare model's max probability stands in where a verdict carries none."""
    if not setting.is_classification:
        s = batch.error_score.copy()
        s[np.isnan(s)] = np.inf
        return s
    s = 1.0 - batch.max_probability
    gap = np.isnan(s)
    if gap.any():
        P = np.asarray(setting.model.predict_proba(X.iloc[np.flatnonzero(gap)]))
        s[gap] = 1.0 - P.max(axis=1)
    return s


def _predictions(setting: Setting, batch: Batch, X: Any) -> np.ndarray:
    """The guard's prediction where it gives one, else the bare model's (for the oracle)."""
    bare = np.asarray(setting.model.predict(X), dtype=object)
    given = np.array([p is not None for p in batch.prediction])
    out = bare.copy()
    out[given] = np.array(batch.prediction, dtype=object)[given]
    return out


def run_one(
    setting: Setting,
    seed: int,
    variant: str,
    alpha: float,
    stated: bool,
    classic: ClassicDetectors | None,
) -> RunResult:
    t0 = time.perf_counter()
    rails = _fit(setting, variant, alpha)
    fit_s = time.perf_counter() - t0
    reg = not setting.is_classification
    t0 = time.perf_counter()
    batch = read_verdicts(rails.check(setting.X_test), reg)
    check_s = time.perf_counter() - t0
    n = len(setting.X_test)
    pred = _predictions(setting, batch, setting.X_test)
    wrong_all = wrong(setting, pred, setting.y_test)
    ok200 = batch.status == 200
    n200 = int(ok200.sum())
    err200 = float(wrong_all[ok200].mean()) if n200 else 0.0
    score = _confidence_score(setting, batch, setting.X_test)
    oracle = oracle_coverage(score, wrong_all, err200)
    baseline = 1.0 - batch.max_probability if setting.is_classification else np.full(n, np.nan)
    res = RunResult(
        setting=setting.name,
        kind=setting.kind,
        model=setting.model_name,
        seed=seed,
        variant=variant,
        alpha=alpha,
        stated=stated,
        n_train=len(setting.X_train),
        n_test=n,
        base_error=setting.base_error,
        alarm_rate=float(batch.alarm.mean()),
        alarm_bound=binom_upper(n, FALSE_ALARM_RATE),
        n_200=n200,
        error_200=err200,
        error_bound=binom_upper(n200, alpha),
        coverage=n200 / n,
        oracle=oracle,
        certified_coverage=_budget_field(rails, "certified_coverage"),
        fit_false_alarm=_budget_field(rails, "realised_false_alarm"),
        auroc_guard=auroc(wrong_all, batch.error_score),
        auroc_max_probability=auroc(wrong_all, baseline),
        error_score=batch.error_score_name,
        fit_s=fit_s,
        check_s=check_s,
        notes=[str(x) for x in getattr(rails.summary, "notes", [])],
    )
    if not stated:
        return res
    for name, sh in setting.shifts.items():
        b = read_verdicts(rails.check(sh.X), reg)
        caught = b.alarm | np.isin(b.status, CATCH_STATUSES)
        ok = b.status == 200
        err = None
        if sh.y is not None and ok.any():
            p = np.array(b.prediction, dtype=object)[ok]
            err = float(wrong(setting, p, sh.y[ok]).mean())
        rates = classic.catch_rates(sh.X, res.alarm_rate) if classic is not None else {}
        res.shifts.append(
            ShiftResult(name, len(sh.X), float(caught.mean()), rates, float(ok.mean()), err)
        )
    if variant == "calib given" and setting.is_classification:
        for fwer in MAPIE_FWER:
            m = mapie_selective(
                setting.model,
                setting.X_calib,
                setting.y_calib,
                setting.X_test,
                setting.y_test,
                alpha,
                CONFIDENCE,
                fwer,
            )
            if m is not None:
                res.mapie[fwer] = m
    return res


def run(names: list[str], seeds: list[int], quick: bool, log: Any = None) -> list[RunResult]:
    out: list[RunResult] = []
    for name in names:
        for seed in seeds:
            t0 = time.perf_counter()
            s = build(name, seed, quick)
            classic = ClassicDetectors(seed=seed).fit(s.X_train).calibrate(s.X_calib)
            for variant in VARIANTS:
                out.append(run_one(s, seed, variant, s.alpha, True, classic))
                if variant == "no calib" and not quick:
                    for a in s.extra_alphas:
                        out.append(run_one(s, seed, variant, a, False, None))
            if log is not None:
                log(f"{name} seed {seed}: {time.perf_counter() - t0:.1f} s")
    return out


# -- tables -----------------------------------------------------------------------------------
def _spread(values: list[float], fmt: str = "{:.1%}") -> str:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if v.size == 0:
        return "-"
    if v.size == 1:
        return fmt.format(v[0])
    return f"{fmt.format(v.mean())} [{fmt.format(v.min())}–{fmt.format(v.max())}]"


def _passes(flags: list[bool]) -> str:
    return f"{'yes' if all(flags) else 'NO'} ({sum(flags)}/{len(flags)})"


def _group(results: list[RunResult], **keys: Any) -> dict[tuple[str, str], list[RunResult]]:
    groups: dict[tuple[str, str], list[RunResult]] = {}
    for r in results:
        if all(getattr(r, k) == v for k, v in keys.items()):
            groups.setdefault((r.setting, r.variant), []).append(r)
    return groups


def false_alarm_table(results: list[RunResult]) -> str:
    rows = []
    for (name, variant), rs in _group(results, stated=True).items():
        rows.append(
            [
                name,
                variant,
                rs[0].n_train,
                rs[0].n_test,
                f"{FALSE_ALARM_RATE:.0%}",
                f"{rs[0].alarm_bound:.2%}",
                _spread([r.alarm_rate for r in rs], "{:.2%}"),
                f"{np.mean([r.alarm_rate for r in rs]) / FALSE_ALARM_RATE:.1f}x",
                _passes([r.alarm_rate <= r.alarm_bound for r in rs]),
                _spread([r.fit_false_alarm for r in rs if r.fit_false_alarm is not None], "{:.2%}"),
            ]
        )
    return fmt_table(
        [
            "setting",
            "variant",
            "train rows",
            "test rows",
            "budget",
            "budget + 95% slack",
            "realised (mean [min–max])",
            "realised / budget",
            "within",
            "fit's estimate (calibration)",
        ],
        rows,
    )


def silent_table(results: list[RunResult], stated: bool = True) -> str:
    rows = []
    for (name, variant), rs in _group(results, stated=stated).items():
        by_alpha: dict[float, list[RunResult]] = {}
        for r in rs:
            by_alpha.setdefault(r.alpha, []).append(r)
        for a, g in sorted(by_alpha.items()):
            cert = [r.certified_coverage for r in g if r.certified_coverage is not None]
            rows.append(
                [
                    name,
                    variant,
                    _spread([r.base_error for r in g]),
                    f"{a:.3g}",
                    _spread([r.error_200 for r in g]),
                    _spread([r.error_bound for r in g]),
                    _passes([r.error_200 <= r.error_bound for r in g]),
                    _spread([r.coverage for r in g]),
                    _spread(cert) if cert else "-",
                    _spread([r.oracle for r in g]),
                    _spread([r.ratio for r in g], "{:.2f}"),
                    _passes([bool(r.ratio >= 0.9) or r.oracle == 0 for r in g]),
                ]
            )
    return fmt_table(
        [
            "setting",
            "variant",
            "base error",
            "alpha",
            "error among 200",
            "alpha + 95% slack",
            "within",
            "coverage (200)",
            "certified (fit)",
            "oracle coverage",
            "coverage / oracle",
            ">= 0.9",
        ],
        rows,
    )


def ood_table(results: list[RunResult]) -> str:
    rows = []
    for (name, variant), rs in _group(results, stated=True).items():
        for k, first in enumerate(rs[0].shifts):
            sh = [r.shifts[k] for r in rs]
            best = [max(s.classic.values()) if s.classic else float("nan") for s in sh]
            best_name = max(first.classic, key=lambda d: first.classic[d]) if first.classic else "-"
            rows.append(
                [
                    name,
                    variant,
                    first.shift,
                    _spread([r.alarm_rate for r in rs], "{:.2%}"),
                    _spread([s.guard_catch for s in sh]),
                    *[
                        _spread([s.classic.get(d, float("nan")) for s in sh])
                        for d in ClassicDetectors.NAMES
                    ],
                    f"{best_name.split(' ')[0]}",
                    _spread([g.guard_catch - b for g, b in zip(sh, best, strict=True)], "{:+.1%}"),
                    _passes([s.guard_catch >= b - 0.05 for s, b in zip(sh, best, strict=True)]),
                    _spread([s.share_200 for s in sh]),
                    _spread([s.error_200 for s in sh if s.error_200 is not None]),
                ]
            )
    return fmt_table(
        [
            "setting",
            "variant",
            "shift",
            "in-dist alarm rate",
            "guard catch",
            *ClassicDetectors.NAMES,
            "best (seed 0)",
            "guard - best",
            ">= best - 0.05",
            "shifted: 200 share",
            "shifted: error among 200",
        ],
        rows,
    )


def auroc_table(results: list[RunResult]) -> str:
    rows = []
    for (name, variant), rs in _group(results, stated=True).items():
        g = [r.auroc_guard for r in rs]
        b = [r.auroc_max_probability for r in rs]
        ratio = [x / y for x, y in zip(g, b, strict=True) if np.isfinite(x) and np.isfinite(y)]
        rows.append(
            [
                name,
                variant,
                rs[0].error_score,
                _spread(g, "{:.3f}"),
                _spread(b, "{:.3f}"),
                _spread(ratio, "{:.2f}") if ratio else "-",
            ]
        )
    return fmt_table(
        [
            "setting",
            "variant",
            "guard error score",
            "guard AUROC",
            "1 - max probability AUROC",
            "guard / baseline",
        ],
        rows,
    )


def mapie_table(results: list[RunResult]) -> str:
    rows = []
    for (name, _variant), rs in _group(results, stated=True, variant="calib given").items():
        if not rs[0].mapie:
            continue
        row = [
            name,
            rs[0].kind,
            f"{rs[0].alpha:.3g}",
            f"{1 - CONFIDENCE:.2g}",
            _spread([r.coverage for r in rs]),
            _spread([r.error_200 for r in rs]),
        ]
        for fwer in MAPIE_FWER:
            m = [r.mapie[fwer] for r in rs if fwer in r.mapie]
            ratio = [
                r.coverage / r.mapie[fwer][0]
                for r in rs
                if fwer in r.mapie and r.mapie[fwer][0] > 0
            ]
            row += [
                _spread([x[0] for x in m]),
                _spread([x[1] for x in m]),
                _spread(ratio, "{:.2f}") if ratio else "-",
            ]
        rows.append(row)
    head = ["setting", "kind", "alpha", "delta", "mlrails coverage", "mlrails error among 200"]
    for fwer in ("Holm", "fixed sequence"):
        head += [f"MAPIE {fwer}: coverage", f"MAPIE {fwer}: error", f"mlrails / MAPIE {fwer}"]
    return fmt_table(head, rows)


def done_criteria(results: list[RunResult]) -> str:
    """The issue's "done" conditions, each over every setting and seed."""
    st = [r for r in results if r.stated]
    nc = [r for r in st if r.variant == "no calib"]
    small_large = [r for r in nc if r.setting.startswith(("small", "large"))]
    lines = [
        (
            "default fit, no calibration data: in-dist alarm rate <= budget + slack "
            "(small and large tables)",
            [r.alarm_rate <= r.alarm_bound for r in small_large],
        ),
        ("... in every setting (no calib)", [r.alarm_rate <= r.alarm_bound for r in nc]),
        (
            "error among 200 <= alpha + slack, every setting and variant",
            [r.error_200 <= r.error_bound for r in st],
        ),
        (
            "coverage >= 90% of the oracle's, every setting and variant",
            [bool(r.ratio >= 0.9) or r.oracle == 0 for r in st],
        ),
        (
            "OOD catch >= best classic - 0.05 at the same alarm rate, every shift",
            [
                s.guard_catch >= max(s.classic.values()) - 0.05
                for r in st
                for s in r.shifts
                if s.classic
            ],
        ),
    ]
    return fmt_table(["criterion", "met"], [[t, _passes(f)] for t, f in lines])


def report(results: list[RunResult], seeds: list[int], wall_s: float, skipped: list[str]) -> str:
    fit = sum(r.fit_s for r in results)
    check = sum(r.check_s for r in results)
    parts = [
        "### Guard quality (issue 14)",
        "",
        f"Seeds {seeds}; {len(results)} guard fits; wall time {wall_s:.0f} s "
        f"(guard fit {fit:.0f} s, in-dist checks {check:.0f} s). Values: mean [min–max] "
        "over seeds; 'within' / '>=': in how many seeds the condition held.",
    ]
    if skipped:
        parts += ["", "Skipped: " + "; ".join(skipped)]
    parts += [
        "",
        "#### Done criteria",
        "",
        done_criteria(results),
        "",
        f"#### In-distribution false alarms (OOD or adversarial), budget {FALSE_ALARM_RATE:.0%}",
        "",
        false_alarm_table(results),
        "",
        "#### Silent failures at the stated alpha (confidence 0.9)",
        "",
        silent_table(results, True),
    ]
    if any(not r.stated for r in results):
        parts += ["", "#### Alpha sweep (no calibration data)", "", silent_table(results, False)]
    parts += [
        "",
        "#### Shifted rows caught, against classic detectors at the guard's in-dist alarm rate",
        "",
        ood_table(results),
        "",
        "#### Error detection on in-distribution rows (AUROC of 'the prediction is wrong')",
        "",
        auroc_table(results),
    ]
    mt = mapie_table(results)
    if mt.count("\n") > 1:
        parts += [
            "",
            "#### Certified coverage against MAPIE's risk control (calibration split "
            "given to both)",
            "",
            mt,
        ]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="one seed, five small settings")
    p.add_argument("--seeds", type=int, default=None, help="number of seeds (default 3; quick 1)")
    p.add_argument("--settings", default=None, help="comma-separated names: " + ",".join(BUILDERS))
    p.add_argument("--json", default=None, help="also write every run's figures to this file")
    p.add_argument("--verbose", action="store_true", help="progress on stderr")
    a = p.parse_args([] if argv is None else argv)
    names = a.settings.split(",") if a.settings else list(QUICK if a.quick else BUILDERS)
    unknown = [n for n in names if n not in BUILDERS]
    if unknown:
        raise SystemExit(f"unknown settings: {unknown}; known: {list(BUILDERS)}")
    skipped = []
    if nannyml_data_dir() is None and any(n in NANNYML for n in names):
        names = [n for n in names if n not in NANNYML]
        skipped.append(
            "nannyml settings (install the wheel: pip install --no-deps nannyml==0.13.1)"
        )
    seeds = list(range(a.seeds if a.seeds is not None else (1 if a.quick else 3)))
    log = None
    if a.verbose:
        import sys

        def log(msg: str) -> None:
            print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = run(names, seeds, a.quick, log)
    wall = time.perf_counter() - t0
    if a.json:
        Path(a.json).write_text(json.dumps([asdict(r) for r in results], indent=1, default=str))
    return report(results, seeds, wall, skipped)


if __name__ == "__main__":
    import sys

    print(main(sys.argv[1:]))
