"""``mlrails feedback``: file the true labels of logged decisions from a CSV or Parquet file."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from mlrails.cli.console import console, fail, open_store
from mlrails.cli.options import DEFAULT_STORE, StoreOption
from mlrails.errors import MlrailsError


def feedback(
    labels: Annotated[
        Path, typer.Argument(help="Labels: a CSV or Parquet file, one label a line.")
    ],
    store: StoreOption = DEFAULT_STORE,
    trace_id_column: Annotated[
        str, typer.Option(help="Column of the trace id the prediction's answer carried.")
    ] = "trace_id",
    row_column: Annotated[
        str | None,
        typer.Option(
            help="Column of the row's index in its request's batch [default: row; a file "
            "without one labels single-row requests, row 0]."
        ),
    ] = None,
    label_column: Annotated[str, typer.Option(help="Column of the true label.")] = "label",
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the counts as one JSON object.")
    ] = False,
) -> None:
    """Join labels that arrive later to the decision log (the same as POST /v1/feedback).

    Each line names a logged decision row by its trace id (the X-Trace-Id of the
    prediction's answer) and its row in that batch, and gives its true label. A label of a
    row already labelled with the same value is a duplicate (sending a file again is safe);
    another value replaces it (changed); a label no logged row matches is unknown and not
    stored.

    Examples:

      mlrails feedback labels.csv --store decisions.db

      mlrails feedback truth.parquet --store postgresql://u:p@db/log --label-column truth
    """
    from mlrails.store import read_labels

    try:
        batch = read_labels(
            labels,
            trace_id_column=trace_id_column,
            row_column=row_column,
            label_column=label_column,
        )
    except MlrailsError as exc:
        fail(str(exc))
    with open_store(store) as s:
        try:
            counts = s.record_labels(batch)
        except MlrailsError as exc:
            fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(counts.to_dict()) + "\n")
        return
    table = Table(title=f"{counts.total} labels from {labels}")
    table.add_column("outcome")
    table.add_column("labels", justify="right")
    for outcome, n in counts.to_dict().items():
        table.add_row(outcome, str(n))
    console.print(table)
