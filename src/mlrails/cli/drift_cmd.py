"""``mlrails drift``: has production traffic drifted from the training data?"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from mlrails.cli.console import console, fail
from mlrails.cli.options import parse_window
from mlrails.errors import MlrailsError, echo

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
        typer.Option(
            help="Training data (.csv/.parquet) to compare with, instead of the reference the "
            "artifact keeps."
        ),
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
    """Compare the traffic logged over the last WINDOW with the training data, field by field.

    By default the reference is the one the artifact keeps (`mlrails fit` stores the training
    inputs and the model's answers on the calibration split): the logged inputs are compared
    with the training inputs, and the predictions and confidences of the answered rows with
    the model's own on the calibration split. --reference / --bundled replace the input side.

    Numeric fields: Kolmogorov–Smirnov (as SciPy's ks_2samp), Wasserstein distance, PSI;
    categorical fields: chi-square of homogeneity, Cramér's V, PSI. A field alarms only when
    it is significant after Benjamini–Hochberg AND moved by a non-negligible amount (effect
    ≥ 0.1): on large windows every tiny shift is significant.

    Examples:

      mlrails drift rails/ --store decisions.db --window 1h
      mlrails drift rails/ --store decisions.db --reference train.csv --target label --window 1h
      mlrails drift rails/ --store decisions.db --bundled breast_cancer --window 7d --json d.json

    Exit codes: 0 no alarm, 1 a field alarms (with --fail-on alarm), 2 bad input.
    """
    if fail_on not in ("alarm", "never"):
        fail(f"--fail-on {echo(fail_on)}: use 'alarm' or 'never'")
    try:
        alarm = _run(artifact, store, reference, target, bundled, window, alpha, json_out)
    except MlrailsError as exc:
        fail(str(exc))
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
    from mlrails.drift import DriftConfig, ReferenceProfile
    from mlrails.drift.monitor import TrafficReference, check_traffic
    from mlrails.drift.traffic import window_records

    if reference is not None and bundled is not None:
        raise MlrailsError("give the training data once: --reference FILE or --bundled NAME")
    since = datetime.now(UTC) - parse_window(window)
    rails = mlrails.load(artifact)
    kept = rails.reference
    if reference is None and bundled is None:
        if kept is None or kept.inputs is None:
            raise MlrailsError(
                f"{artifact}: the artifact keeps no drift reference (fitted before mlrails "
                "kept one, or with policy drift.reference off); give the training data: "
                "--reference FILE or --bundled NAME"
            )
        ref = kept
        n_ref = kept.inputs.n_rows
    else:
        data = _reference(reference, target, bundled)
        columns = [f.name for f in rails.contract.fields]
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise MlrailsError(f"the reference data lacks the contract's fields: {missing[:5]}")
        ref = TrafficReference(
            inputs=ReferenceProfile.fit(data[columns]),
            outputs=None if kept is None else kept.outputs,
        )
        n_ref = len(data)
    records, shown = window_records(store, since, None)
    check = check_traffic(
        ref,
        records,
        rails.contract,
        task=rails.task,
        since=since,
        config=DriftConfig(alpha=alpha),
    )
    if check.n_rows == 0:
        if check.n_refused:
            raise MlrailsError(
                f"{shown}: every row logged in the last {window} ({check.n_refused}) was "
                "refused by validation; no input to compare"
            )
        raise MlrailsError(f"{shown}: no row was logged in the last {window}")
    table = Table(
        title=f"{check.n_rows} logged rows from {shown} (last {window}) vs {n_ref} reference rows"
    )
    for col in ("field", "test", "statistic", "p (BH)", "effect", "PSI", "alarm"):
        table.add_column(col, justify="left" if col in ("field", "test") else "right")
    reports = [r for r in (check.inputs, check.outputs) if r is not None]
    for i, report in enumerate(reports):
        if i:
            table.add_section()
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
    if check.n_refused:
        sys.stderr.write(
            f"{check.n_refused} row(s) refused by validation ({check.refusal_rate:.1%} of the "
            "window), left out of the input statistics\n"
        )
    for note in check.notes:
        sys.stderr.write(f"note: {note}\n")
    if json_out is not None:
        json_out.write_text(json.dumps(check.to_dict(), indent=2, default=str))
    n_fields = sum(len(r.fields) for r in reports)
    sys.stderr.write(
        f"{len(check.alarming)} of {n_fields} field(s) alarm"
        + (f": {', '.join(check.alarming)}\n" if check.alarming else "\n")
    )
    return check.alarm


def _reference(reference: Path | None, target: str | None, bundled: str | None) -> pd.DataFrame:
    from mlrails.bench.grid import DataConfig
    from mlrails.tabular_io import read_table

    if bundled is not None:
        if bundled not in ("breast_cancer", "wine"):
            raise MlrailsError(f"--bundled {echo(bundled)}: use breast_cancer or wine")
        name: Literal["breast_cancer", "wine"] = (
            "breast_cancer" if bundled == "breast_cancer" else "wine"
        )
        return DataConfig(bundled=name).load()[2]
    assert reference is not None
    frame = read_table(reference)
    if target is not None:
        if target not in frame.columns:
            raise MlrailsError(f"{reference}: no column {echo(target)} (given by --target)")
        frame = frame.drop(columns=[target])
    return frame
