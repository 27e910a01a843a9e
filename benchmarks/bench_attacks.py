"""Adversarial attacks: our FGSM/PGD against ART's on the same model; HopSkipJump's cost.

(1) White-box: a small PyTorch MLP (30-16-2, standardisation inside) trained on the bundled
breast-cancer data; the test set tiled to ~10,000 rows is attacked at ε = 0.25 std (severity
3) by our ``fgsm`` / ``pgd`` (10 steps, step 2.5ε/10, no random start) and by ART's
``FastGradientMethod`` / ``ProjectedGradientDescent`` on a ``PyTorchClassifier`` of the same
module with the same per-feature budget (``eps = ε · std`` as an array), the same steps and
``num_random_init=0``: rows/s of each (median of repeats after a warm-up), our throughput over
ART's with the batch size matched to ours (4,096) and with ART's default (32), the accuracy
under attack and the largest disagreement with ART in std units.

(2) Black-box: HopSkipJump (L∞) on a 50-tree random forest, on the first test rows the forest
classifies correctly: our ``hopskipjump`` (its small defaults, nearest-other-class start,
standardised space) against ART's ``HopSkipJump`` with ART's defaults (``max_iter=50``,
``max_eval=10000``, its own random start) in the same standardised space and on raw features.
Seconds per adversarial example (per attacked row), the share of rows whose result is
adversarial at all (and its median L∞ distance), and the share still adversarial after
projection into the ε-ball of each severity (0.05 … 1 std). ART's own start is drawn from an
unseeded generator, so its rows vary a little from run to run; ours are reproducible.

    .venv/bin/python -m benchmarks.bench_attacks           # ~10,000 rows; 10 HSJ rows
    .venv/bin/python -m benchmarks.bench_attacks --quick   # ~2,000 rows; 3 HSJ rows
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.ensemble import RandomForestClassifier

from benchmarks.common import breast_cancer, fmt_table
from mlrails.bench.attacks import Attack, make_attack
from mlrails.models import SklearnAdapter, TorchAdapter

SEVERITY = 3  # ε = 0.25 std for the white-box comparison


def _mlp(X: NDArray[np.float64], y: NDArray[Any]) -> TorchAdapter:
    import torch
    from torch import nn

    class Standardize(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(X.mean(0), dtype=torch.float32))
            self.register_buffer("std", torch.tensor(X.std(0), dtype=torch.float32))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x - self.mean) / self.std

    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = nn.Sequential(Standardize(), nn.Linear(30, 16), nn.ReLU(), nn.Linear(16, 2))
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
        for _ in range(200):
            opt.zero_grad()
            nn.functional.cross_entropy(net(xt), yt).backward()
            opt.step()
    return TorchAdapter(net.eval(), classes=[0, 1])


def _rate(fn: Callable[[], Any], rows: int, repeats: int) -> tuple[float, Any]:
    """Rows per second of ``fn`` (median of ``repeats`` timed calls after one warm-up)."""
    out = fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return rows / statistics.median(times), out


def white_box_table(tiles: int, repeats: int) -> str:
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescent
    from art.estimators.classification import PyTorchClassifier
    from torch import nn

    X_tr, X_te, y_tr, y_te = breast_cancer(0)
    model = _mlp(X_tr.to_numpy(), y_tr)
    X = np.tile(X_te.to_numpy(), (tiles, 1))
    y = np.tile(y_te, tiles)
    X32 = X.astype(np.float32)
    ours = {
        "fgsm": make_attack("fgsm").fit(model, X_tr),
        "pgd": make_attack("pgd", steps=10, random_start=False).fit(model, X_tr),
    }
    eps = ours["fgsm"].epsilon(SEVERITY)
    budget = (eps * ours["fgsm"].scale_).astype(np.float32)
    step = (2.5 * eps / 10 * ours["pgd"].scale_).astype(np.float32)
    clf = PyTorchClassifier(
        model.module, loss=nn.CrossEntropyLoss(), input_shape=(30,), nb_classes=2
    )

    def art(name: str, batch: int) -> Any:
        if name == "fgsm":
            return FastGradientMethod(clf, eps=budget, eps_step=budget, batch_size=batch)
        return ProjectedGradientDescent(
            clf,
            eps=budget,
            eps_step=step,
            max_iter=10,
            num_random_init=0,
            batch_size=batch,
            verbose=False,
        )

    clean = float(np.mean(model.predict(X) == y))
    rows = []
    for name, attack in ours.items():
        r_ours, adv = _rate(lambda a=attack: a(X, y, SEVERITY, 0)[0], len(X), repeats)
        art_big = art(name, 4096)
        r_art, adv_art = _rate(lambda a=art_big: a.generate(X32, y=y), len(X), repeats)
        art_small = art(name, 32)
        r_small, _ = _rate(lambda a=art_small: a.generate(X32, y=y), len(X), max(1, repeats // 3))
        diff = float(np.max(np.abs(adv - adv_art) / ours["fgsm"].scale_))
        acc = float(np.mean(model.predict(adv) == y))
        rows.append(
            [
                name,
                f"{r_ours:,.0f}",
                f"{r_art:,.0f}",
                f"{r_ours / r_art:.2f}×",
                f"{r_small:,.0f}",
                f"{r_ours / r_small:.1f}×",
                f"{clean:.3f} → {acc:.3f}",
                f"{diff:.1e}",
            ]
        )
    return fmt_table(
        [
            f"attack (ε={eps} std, {len(X):,} rows)",
            "ours rows/s",
            "ART rows/s (batch 4096)",
            "ours / ART",
            "ART rows/s (default batch 32)",
            "ours / ART default",
            "accuracy clean → attacked",
            "max abs diff to ART (std)",
        ],
        rows,
    )


def _art_hsj(
    predict: Callable[[NDArray[Any]], NDArray[np.float64]], x: NDArray[np.float32], seed: int
) -> NDArray[Any]:
    from art.attacks.evasion import HopSkipJump
    from art.estimators.classification import BlackBoxClassifier

    clf = BlackBoxClassifier(predict, x.shape[1:], 2)
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        return np.asarray(HopSkipJump(clf, norm=np.inf, verbose=False).generate(x))
    finally:
        np.random.set_state(state)


def hopskipjump_table(n_rows: int) -> str:
    X_tr, X_te, y_tr, y_te = breast_cancer(0)
    forest = RandomForestClassifier(n_estimators=50, random_state=0).fit(X_tr, y_tr)
    adapter = SklearnAdapter(forest)
    ok = np.flatnonzero(adapter.predict(X_te) == y_te)[:n_rows]
    X, y = X_te.iloc[ok].reset_index(drop=True), y_te[ok]
    x = X.to_numpy()
    ours: Attack = make_attack("hopskipjump").fit(adapter, X_tr)
    # the same attack with no real budget at severity 5: its raw (unprojected) result, which
    # ``ours`` clips into the ε-ball of each severity (one run serves all five)
    raw: Attack = make_attack("hopskipjump", epsilons=[*ours.epsilons[:4], 1e9])
    raw.fit(adapter, X_tr)
    std, mean = ours.scale_, X_tr.to_numpy().mean(axis=0)
    cols = list(X.columns)

    def proba(rows: NDArray[Any]) -> NDArray[np.float64]:
        return adapter.predict_proba(pd.DataFrame(np.asarray(rows, np.float64), columns=cols))

    results: dict[str, tuple[float, NDArray[np.float64]]] = {}
    t0 = time.perf_counter()
    x_ours = np.asarray(raw(X, y, 5, seed=0)[0], dtype=np.float64)
    results["ours (defaults, std space)"] = (time.perf_counter() - t0, (x_ours - x) / std)
    z = ((x - mean) / std).astype(np.float32)
    t0 = time.perf_counter()
    z_adv = _art_hsj(lambda zz: proba(zz * std + mean), z, 0)
    results["ART defaults, std space"] = (time.perf_counter() - t0, z_adv - z)
    t0 = time.perf_counter()
    x_adv = _art_hsj(proba, x.astype(np.float32), 0)
    results["ART defaults, raw features"] = (time.perf_counter() - t0, (x_adv - x) / std)

    rows = []
    for name, (seconds, delta) in results.items():
        fooled = np.argmax(proba(x + delta * std), axis=1) != y
        within = []
        for s in range(1, 6):
            e = ours.epsilon(s)
            adv = x + np.clip(delta, -e, e) * std
            within.append(f"{np.mean(np.argmax(proba(adv), axis=1) != y):.0%}")
        dist = np.max(np.abs(delta), axis=1)[fooled]
        median = f"{np.median(dist):.2f}" if len(dist) else "–"
        rows.append(
            [
                name,
                f"{seconds / len(x):.2f}",
                f"{fooled.mean():.0%}",
                median,
                *within,
            ]
        )
    eps = [f"≤ε={ours.epsilon(s):g}" for s in range(1, 6)]
    return fmt_table(
        [
            f"HopSkipJump L∞, forest, {len(x)} rows",
            "s / example (row attacked)",
            "adversarial (any size)",
            "median L∞ of those (std)",
            *eps,
        ],
        rows,
    )


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="~2,000 rows; 3 HopSkipJump rows")
    a = ap.parse_args(argv)
    logging.getLogger("art").setLevel(logging.ERROR)
    tiles, repeats, hsj_rows = (12, 3, 3) if a.quick else (60, 5, 10)
    load = os.getloadavg()[0]
    white = white_box_table(tiles, repeats)
    black = hopskipjump_table(hsj_rows)
    return "\n".join(
        [
            f"({os.cpu_count()} CPUs; 1-min load average {load:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after)",
            "",
            "### Adversarial attacks: our FGSM/PGD vs ART's (same PyTorch MLP, same budget)",
            "",
            white,
            "",
            "### HopSkipJump on a random forest: ours vs ART's defaults",
            "",
            black,
        ]
    )


if __name__ == "__main__":
    print(main())
