"""``mlrails log``: read the decision log of ``mlrails serve`` (``log export``)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlrails.cli.console import console, fail, open_store
from mlrails.cli.options import DEFAULT_STORE, StoreOption, time_option
from mlrails.errors import MlrailsError


class LogFormat(StrEnum):
    """Formats of ``mlrails log export``."""

    csv = "csv"
    parquet = "parquet"


log_app = typer.Typer(help="Read the decision log of `mlrails serve`.", no_args_is_help=True)


@log_app.command("export")
def log_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")],
    store: StoreOption = DEFAULT_STORE,
    since: Annotated[
        str | None,
        typer.Option(help="Only decisions at or after this ISO 8601 time (naive = UTC)."),
    ] = None,
    fmt: Annotated[LogFormat, typer.Option("--format", help="csv or parquet.")] = LogFormat.csv,
) -> None:
    """Export logged decisions (input, verdict, scores, status, trace id, key id, time)."""
    from mlrails.store import export_decisions

    try:
        start = time_option(since, "--since")
    except MlrailsError as exc:
        fail(str(exc))
    with open_store(store) as s:
        try:
            n = export_decisions(s, out, fmt=fmt.value, since=start)
        except MlrailsError as exc:
            fail(str(exc))
    console.print(f"{n} decisions written to {out}", highlight=False)
