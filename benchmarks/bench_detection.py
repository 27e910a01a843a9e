"""Detection quality of the OOD detectors and realised false-alarm rates.

AUROC of each detector (kNN, Mahalanobis, Isolation Forest) and of the ensemble, on held-out
in-distribution rows vs shifted rows, in four settings of different kinds:

* unseen classes — digits: fit on digits 0–4, OOD = test images of digits 5–9;
* unit change — breast cancer: one random feature per row multiplied by 10;
* noise — breast cancer: Gaussian noise of 1 training standard deviation per feature;
* correlation break — breast cancer: every feature shuffled independently across rows.

Then the false-alarm rate realised on fresh in-distribution data (50,000 generated rows)
against the 1% target, threshold set on a 2,000-row calibration split, over 10 seeds,
beside the distribution conformal theory predicts.

    .venv/bin/python benchmarks/bench_detection.py
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from benchmarks.common import breast_cancer, fmt_table
from mlrails.detectors import make_seeded_detector

DETECTORS = ("knn", "mahalanobis", "iforest", "ensemble")


def _settings(seed: int = 0) -> dict[str, tuple[Any, Any, Any]]:
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[Any, Any, Any]] = {}
    X, y = load_digits(return_X_y=True)
    X_in, y_in = X[y < 5], y[y < 5]
    tr, te = train_test_split(X_in, test_size=0.3, random_state=seed, stratify=y_in)
    out["unseen classes (digits 5-9)"] = (tr, te, X[y >= 5][: len(te)])
    X_tr, X_te, _, _ = breast_cancer(seed)
    tr, te = X_tr.to_numpy(), X_te.to_numpy()
    unit = te.copy()
    cols = rng.integers(0, te.shape[1], len(te))
    unit[np.arange(len(te)), cols] *= 10.0
    out["unit change (one feature x10)"] = (tr, te, unit)
    sd = tr.std(axis=0)
    out["Gaussian noise (1 sd)"] = (tr, te, te + rng.normal(0, 1.0, te.shape) * sd)
    shuffled = np.column_stack([rng.permutation(te[:, j]) for j in range(te.shape[1])])
    out["correlation break (shuffle)"] = (tr, te, shuffled)
    return out


def auroc_table(seed: int = 0) -> str:
    rows = []
    for name, (tr, te, ood) in _settings(seed).items():
        row = [name]
        for det_name in DETECTORS:
            det = make_seeded_detector(det_name, seed).fit(tr)
            s_in, s_out = det.score_samples(te), det.score_samples(ood)
            y = np.r_[np.zeros(len(s_in)), np.ones(len(s_out))]
            row.append(f"{roc_auc_score(y, np.r_[s_in, s_out]):.3f}")
        rows.append(row)
    return fmt_table(["setting", *DETECTORS], rows)


def realised_fpr(seeds: int = 10, target: float = 0.01) -> str:
    rates: dict[str, list[float]] = {d: [] for d in DETECTORS}
    for seed in range(seeds):
        X, _ = make_classification(
            n_samples=57_000, n_features=20, n_informative=10, random_state=seed
        )
        X = X[np.random.default_rng(seed).permutation(len(X))]  # exchangeable rows
        tr, cal, fresh = X[:5_000], X[5_000:7_000], X[7_000:]
        for d in DETECTORS:
            det = make_seeded_detector(d, seed).fit(tr).calibrate(cal, target)
            rates[d].append(float(np.mean(det.score_samples(fresh) > det.threshold_.value)))
    # conformal theory: given n calibration scores the fresh false-alarm rate is
    # Beta(n + 1 - k, k) with k = ceil((n + 1)(1 - alpha)): its mean is <= alpha
    n = 2_000
    k = int(np.ceil((n + 1) * (1 - target)))
    a, b = n + 1 - k, k
    beta_mean, beta_sd = a / (a + b), np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    rows = []
    for d, r in rates.items():
        arr: NDArray[np.float64] = np.asarray(r)
        rows.append(
            [
                d,
                f"{target:.1%}",
                f"{arr.mean():.2%} ± {arr.std(ddof=1):.2%}",
                f"{arr.min():.2%} – {arr.max():.2%}",
            ]
        )
    rows.append(["theory (Beta law)", f"{target:.1%}", f"{beta_mean:.2%} ± {beta_sd:.2%}", ""])
    return fmt_table(
        ["detector", "target", f"realised FPR, mean ± sd over {seeds} seeds", "range"], rows
    )


def main() -> str:
    return "\n".join(
        [
            "### OOD detection AUROC (in-distribution test rows vs shifted rows)",
            "",
            auroc_table(),
            "",
            "### False-alarm rate on 50,000 fresh in-distribution rows (2,000 calibration rows)",
            "",
            realised_fpr(),
        ]
    )


if __name__ == "__main__":
    print(main())
