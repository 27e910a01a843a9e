"""The ``mlrails`` command line: a thin shell over the library.

This module only assembles :data:`app` (the console script ``mlrails``) from the command
families, one module each; the commands keep the order of ``mlrails --help``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from mlrails.cli.artifact_cmd import keygen, sign
from mlrails.cli.bench_cmd import bench_app
from mlrails.cli.describe_cmd import describe
from mlrails.cli.drift_cmd import drift
from mlrails.cli.feedback_cmd import feedback
from mlrails.cli.fit_cmd import check, demo, fit, inspect, policy
from mlrails.cli.log_cmd import log_app
from mlrails.cli.mismatch_cmd import mismatch
from mlrails.cli.score_cmd import score
from mlrails.cli.serve_cmd import keys_app, serve

app = typer.Typer(
    name="mlrails",
    help=(
        "Put a trained ML model on rails: fit safeguards once, then every input gets a "
        "verdict with an HTTP status code instead of a silently wrong prediction.\n\n"
        "Typical flow:\n\n"
        "  mlrails fit model.skops train.csv --target label --out rails/\n\n"
        "  mlrails check rails/ new_rows.csv\n\n"
        "Try it on bundled data: mlrails demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _commands(*functions: Callable[..., Any]) -> typer.Typer:
    """``functions`` as commands, merged into :data:`app` where it adds them (Typer lists an
    app's own commands before its groups; merged ones keep their place among the groups)."""
    commands = typer.Typer()
    for function in functions:
        commands.command()(function)
    return commands


app.add_typer(_commands(fit, keygen, sign, check, inspect, policy, demo))
app.add_typer(bench_app, name="bench")
app.add_typer(_commands(serve, describe, mismatch, drift, feedback, score))
app.add_typer(keys_app, name="keys")
app.add_typer(log_app, name="log")
