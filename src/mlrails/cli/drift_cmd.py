"""``mlrails drift``: has production traffic drifted from the training data?"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from mlrails.errors import MlrailsError

if TYPE_CHECKING:
    import pandas as pd


def drift(
    artifact: Annotated[Path, typer.Argument(help="Artifact directory written by `mlrails fit`.")],
    store: Annotated[
        str,
        typer.Option(help="Decision log of `mlrails serve` (SQLite path or postgresql:// URL)."),
    ],
    reference: Annotated[
        Path | None,
        typer.Option(help="Training data (.csv/.parquet) the traffic is compared with."),
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Label column of --reference, left out of the inputs.")
    ] = None,
    bundled: Annotated[
        str | None,
        typer.Option(help="Or scikit-learn's breast_cancer / wine training split (as the demo)."),
    ] = None,
    window: Annotated[str, typer.Option(help="How far back to look: 30m, 1h, 7d, 2w.")] = "1h",
    alpha: Annotated[
        float, typer.Option(min=1e-6, max=0.5, help="Benjamini–Hochberg level across fields.")
    ] = 0.05,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON.")
    ] = None,
    fail_on: Annotated[
        str, typer.Option(help="alarm (exit 1 when a field alarms) or never.")
    ] = "alarm",
) -> None:
    """Compare the inputs logged over the last WINDOW with the training data, field by field.

    Numeric fields: Kolmogorov–Smirnov (as SciPy's ks_2samp), Wasserstein distance, PSI;
    categorical fields: chi-square of homogeneity, Cramér's V, PSI. A field alarms only when
    it is significant after Benjamini–Hochberg AND moved by a non-negligible amount (effect
    ≥ 0.1): on large windows every tiny shift is significant.

    Examples:

      mlrails drift rails/ --store decisions.db --reference train.csv --target label --window 1h
      mlrails drift rails/ --store decisions.db --bundled breast_cancer --window 7d --json d.json

    Exit codes: 0 no alarm, 1 a field alarms (with --fail-on alarm), 2 bad input.
    """
    from mlrails.cli.main import _fail, console

    if fail_on not in ("alarm", "never"):
        _fail(f"--fail-on {fail_on!r}: use 'alarm' or 'never'")
    try:
        alarm = _run(artifact, store, reference, target, bundled, window, alpha, json_out)
    except MlrailsError as exc:
        _fail(str(exc))
    if alarm and fail_on == "alarm":
        console.print("[red]drift alarm[/]", highlight=False)
        raise typer.Exit(1)


def _run(
    artifact: Path,
    store: str,
    reference: Path | None,
    target: str | None,
    bundled: str | None,
    window: str,
    alpha: float,
    json_out: Path | None,
) -> bool:
    import json

    import mlrails
    from mlrails.cli.describe_cmd import parse_window
    from mlrails.cli.main import console
    from mlrails.descriptors.describe_data import logged_window
    from mlrails.mismatch import DriftConfig, ReferenceProfile, compare

    if (reference is None) == (bundled is None):
        raise MlrailsError("give the training data: --reference FILE or --bundled NAME")
    rails = mlrails.load(artifact)
    ref = _reference(reference, target, bundled)
    columns = [f.name for f in rails.contract.fields]
    missing = [c for c in columns if c not in ref.columns]
    if missing:
        raise MlrailsError(f"the reference data lacks the contract's fields: {missing[:5]}")
    since = datetime.now(UTC) - parse_window(window)
    frame, rows, shown = logged_window(store, since=since, contract=rails.contract)
    profile = ReferenceProfile.fit(ref[columns])
    report = compare(profile, frame, DriftConfig(alpha=alpha))
    table = Table(title=f"{len(rows)} logged rows from {shown} (last {window}) vs {len(ref)}")
    for col in ("field", "test", "statistic", "p (BH)", "effect", "PSI", "alarm"):
        table.add_column(col, justify="left" if col in ("field", "test") else "right")
    for f in sorted(report.fields, key=lambda f: (not f.alarm, f.p_adjusted)):
        table.add_row(
            f.field,
            f.test,
            f"{f.statistic:.4g}",
            f"{f.p_adjusted:.3g}",
            f"{f.effect_size:.3f}",
            f"{f.psi:.3f}",
            "[red]yes[/]" if f.alarm else "no",
        )
    console.print(table)
    if json_out is not None:
        json_out.write_text(json.dumps(report.to_dict(), indent=2, default=str))
    sys.stderr.write(
        f"{len(report.alarming)} of {len(report.fields)} field(s) alarm"
        + (f": {', '.join(report.alarming)}\n" if report.alarming else "\n")
    )
    return bool(report.alarm)


def _reference(reference: Path | None, target: str | None, bundled: str | None) -> pd.DataFrame:
    from mlrails.bench.grid import DataConfig
    from mlrails.tabular_io import read_table

    if bundled is not None:
        if bundled not in ("breast_cancer", "wine"):
            raise MlrailsError(f"--bundled {bundled!r}: use breast_cancer or wine")
        name: Literal["breast_cancer", "wine"] = (
            "breast_cancer" if bundled == "breast_cancer" else "wine"
        )
        return DataConfig(bundled=name).load()[2]
    assert reference is not None
    frame = read_table(reference)
    if target is not None:
        if target not in frame.columns:
            raise MlrailsError(f"{reference}: no column {target!r} (given by --target)")
        frame = frame.drop(columns=[target])
    return frame
