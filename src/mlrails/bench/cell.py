"""One cell of a benchmark grid: a perturbation or attack at one severity, seed and repeat.

The cell perturbs the clean test rows, asks the bare model for its outputs (its quality) and
the rails for verdicts (their grade), bootstraps an interval for every metric, and records
its wall time and peak memory as a :class:`~mlrails.bench.record.CellRecord`. A cell that
fails keeps its error message instead of stopping the grid.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import confusion_matrix, roc_curve

from mlrails.bench import resample
from mlrails.bench.attacks import Attack
from mlrails.bench.metrics import (
    CONFIDENCE_SCORES,
    grade_rails,
    model_metrics,
    regression_metrics,
)
from mlrails.bench.perturbations import Perturbation, check_severity, make
from mlrails.bench.record import CellRecord, Reliability, RocCurve, pack_bits
from mlrails.guard.rails import Rails
from mlrails.guard.verdict import Verdict
from mlrails.measure import PeakMemory
from mlrails.reliability.calibration import expected_calibration_error

#: bootstrap resamples per cell (percentile intervals)
N_RESAMPLES = 1000
#: bins of the reliability diagram
RELIABILITY_BINS = 10


@dataclass(frozen=True)
class CellSpec:
    """What one cell runs: ``name`` (a registered perturbation or attack, or ``"none"`` for
    the clean rows) at ``severity`` 1–5 with ``seed`` and ``repeat``, on the ``pair``."""

    name: str
    severity: int
    seed: int
    params: dict[str, Any] = field(default_factory=dict)
    kind: Literal["clean", "perturbation", "attack"] = "perturbation"
    pair: str = "default"
    repeat: int = 0

    def __post_init__(self) -> None:
        if self.name == "none":
            object.__setattr__(self, "kind", "clean")

    @property
    def key(self) -> str:
        rep = f"/r{self.repeat}" if self.repeat else ""
        return f"{self.pair}:{self.name}/s{self.severity}/seed{self.seed}{rep}"

    @property
    def rng_seed(self) -> int:
        """The seed the perturbation draws from: ``seed`` itself for repeat 0, else one
        derived from ``(seed, repeat)`` so repeats are independent yet reproducible."""
        if self.repeat == 0:
            return self.seed
        return int(np.random.SeedSequence([self.seed, self.repeat]).generate_state(1)[0])


def run_cell(
    rails: Rails,
    X: Any,
    y: NDArray[Any],
    spec: CellSpec,
    reference: Any = None,
    perturbation: Perturbation | Attack | None = None,
    *,
    tolerance: float | None = None,
    n_resamples: int = N_RESAMPLES,
) -> CellRecord:
    """Measure the model and the rails on ``X, y`` perturbed (or attacked) as ``spec`` says;
    the perturbation (or attack) is fitted on ``reference`` (default: ``X``) unless given
    fitted.
    ``tolerance``: for a regressor, the absolute error above which a prediction is wrong."""
    base = {
        "pair": spec.pair,
        "kind": spec.kind,
        "name": spec.name,
        "severity": spec.severity,
        "seed": spec.seed,
        "repeat": spec.repeat,
        "params": dict(spec.params),
    }
    meter = PeakMemory()
    t0 = time.perf_counter()
    try:
        Xp, yp = _perturb(rails, X, y, spec, reference, perturbation)
        measured = _measure(rails, Xp, yp, spec, tolerance, n_resamples)
        error = None
    except Exception as exc:  # a failing cell is recorded, the grid goes on
        msg = (str(exc).splitlines() or [""])[0][:300]
        measured, error = {}, f"{type(exc).__name__}: {msg}"
    wall = time.perf_counter() - t0
    peak = meter.stop()
    return CellRecord(**base, **measured, wall_s=wall, peak_mb=round(peak, 3), error=error)


def _perturb(
    rails: Rails,
    X: Any,
    y: NDArray[Any],
    spec: CellSpec,
    reference: Any,
    perturbation: Perturbation | Attack | None,
) -> tuple[Any, NDArray[Any]]:
    if spec.kind == "clean":
        return X, np.asarray(y)
    check_severity(spec.severity)
    ref = X if reference is None else reference
    if spec.kind == "attack":
        from mlrails.bench.attacks import make_attack

        attack = perturbation if isinstance(perturbation, Attack) else None
        if attack is None:
            attack = make_attack(spec.name, **spec.params).fit(rails.adapter, ref, None)
        return attack(X, y, spec.severity, spec.rng_seed)
    p = perturbation if isinstance(perturbation, Perturbation) else None
    p = p or make(spec.name, **spec.params).fit(ref, y)
    return p(X, y, spec.severity, spec.rng_seed)


def _measure(
    rails: Rails,
    Xp: Any,
    yp: NDArray[Any],
    spec: CellSpec,
    tolerance: float | None,
    n_resamples: int,
) -> dict[str, Any]:
    adapter = rails.adapter
    verdicts = rails.check(Xp, explain=False)
    ok = rails.policy.status_codes.ok
    W = resample.resample_counts(len(yp), n_resamples, seed=spec.rng_seed)
    out: dict[str, Any] = {"n": len(yp), "rows_hash": rows_hash(Xp, yp)}
    metrics: dict[str, float | None]
    if adapter.task == "regression":
        pred = np.asarray(adapter.predict_values(Xp), dtype=np.float64)
        yv = np.asarray(yp, dtype=np.float64)
        rm = regression_metrics(yv, pred)
        metrics = {"rmse": rm.rmse, "mae": rm.mae, "r2": rm.r2}
        tol = float(np.inf) if tolerance is None else tolerance
        wrong = np.abs(pred - yv) > tol
        reps = resample.regression_replicates(W, yv, pred)
        y_model: NDArray[Any] = pred
    else:
        proba = np.asarray(adapter.predict_proba(Xp), dtype=np.float64)
        classes = np.asarray(
            adapter.classes_ if adapter.classes_ is not None else np.arange(proba.shape[1])
        )
        y_model = classes[np.argmax(proba, axis=1)]
        mm = model_metrics(yp, proba, classes)
        index = {c: i for i, c in enumerate(classes.tolist())}
        y_idx = np.array([index[v] for v in np.asarray(yp).tolist()], dtype=np.intp)
        served = served_probabilities(rails, proba)
        metrics = {
            "accuracy": mm.accuracy,
            "f1_macro": mm.f1_macro,
            "ece_model": mm.ece,
            "ece_rails": float(expected_calibration_error(served, y_idx)),
            "brier": mm.brier,
            "nll": mm.nll,
        }
        wrong = np.asarray(y_model != np.asarray(yp))
        reps = resample.classification_replicates(W, y_idx, proba)
        reps["ece_rails"] = resample.ece_replicates(W, y_idx, served)
        out["classes"] = [_plain(c) for c in classes.tolist()]
        out["confusion"] = confusion_matrix(yp, y_model, labels=classes).tolist()
        out["reliability"] = reliability(proba, ~wrong)
    grade = grade_rails(yp, y_model, verdicts, ok=ok, wrong=wrong)
    passed = np.array([v.status == ok for v in verdicts])
    scores = {name: _scores(verdicts, name) for name in grade.detection_auroc}
    reps.update(resample.rails_replicates(W, wrong, passed, scores))
    metrics["silent_failure_rate"] = grade.silent_failure_rate
    metrics["false_alarm_rate"] = grade.false_alarm_rate
    metrics["refusal_rate"] = float(np.mean(~passed)) if len(passed) else None
    roc: dict[str, RocCurve] = {}
    for name, auc in grade.detection_auroc.items():
        metrics[f"auroc.{name}"] = auc
        if auc is not None:
            roc[name] = roc_points(scores[name], wrong, auc)
    out.update(
        n_wrong=grade.n_wrong,
        metrics=metrics,
        intervals={k: v for k, v in resample.intervals(reps).items() if metrics.get(k) is not None},
        status_mix={str(k): v for k, v in grade.status_mix.items()},
        roc=roc,
        correct=pack_bits(~wrong),
    )
    return out


def served_probabilities(rails: Rails, proba: NDArray[np.float64]) -> NDArray[np.float64]:
    """The probabilities the rails serve for the model's ``proba``: its calibrator's output
    (what every answered verdict carries in ``probabilities``), on every row, so that
    ``ece_rails`` and ``ece_model`` are measured on the same rows."""
    if rails.calibrator is None:
        return proba
    return np.asarray(rails.calibrator.transform(proba), dtype=np.float64)


def _scores(verdicts: list[Verdict], name: str) -> NDArray[np.float64]:
    out = np.full(len(verdicts), np.nan)
    for i, v in enumerate(verdicts):
        s = v.safeguard(name)
        if s is not None and s.score is not None:
            out[i] = float(s.score)
    return -out if name in CONFIDENCE_SCORES else out


def reliability(proba: NDArray[np.float64], correct: NDArray[np.bool_]) -> Reliability:
    """Reliability diagram of the top-1 confidence in :data:`RELIABILITY_BINS` bins."""
    conf = proba.max(axis=1)
    edges = np.linspace(0.0, 1.0, RELIABILITY_BINS + 1)
    bins = np.clip(np.searchsorted(edges[1:-1], conf, side="left"), 0, RELIABILITY_BINS - 1)
    count = np.bincount(bins, minlength=RELIABILITY_BINS)
    csum = np.bincount(bins, weights=conf, minlength=RELIABILITY_BINS)
    asum = np.bincount(bins, weights=correct.astype(np.float64), minlength=RELIABILITY_BINS)
    return Reliability(
        edges=edges.tolist(),
        count=count.tolist(),
        confidence=[float(c / k) if k else None for c, k in zip(csum, count, strict=True)],
        accuracy=[float(a / k) if k else None for a, k in zip(asum, count, strict=True)],
    )


def roc_points(
    scores: NDArray[np.float64], wrong: NDArray[np.bool_], auroc: float, max_points: int = 101
) -> RocCurve:
    """The ROC curve of ``scores`` for ``wrong``, thinned to at most ``max_points``."""
    have = np.isfinite(scores)
    fpr, tpr, _ = roc_curve(wrong[have], scores[have])
    if len(fpr) > max_points:
        keep = np.unique(np.linspace(0, len(fpr) - 1, max_points).round().astype(int))
        fpr, tpr = fpr[keep], tpr[keep]
    return RocCurve(fpr=fpr.tolist(), tpr=tpr.tolist(), auroc=auroc)


def rows_hash(X: Any, y: Any = None) -> str:
    """SHA-256 of the exact rows (and labels): equal hashes mean the same data."""
    h = hashlib.sha256()
    if isinstance(X, pd.DataFrame):
        h.update(",".join(map(str, X.columns)).encode())
        h.update(pd.util.hash_pandas_object(X, index=False).to_numpy().tobytes())
    else:
        arr = np.ascontiguousarray(X)
        h.update(str((arr.dtype.str, arr.shape)).encode())
        h.update(arr.tobytes() if arr.dtype != object else repr(arr.tolist()).encode())
    if y is not None:
        yy = np.asarray(y)
        h.update(yy.tobytes() if yy.dtype != object else repr(yy.tolist()).encode())
    return h.hexdigest()


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
