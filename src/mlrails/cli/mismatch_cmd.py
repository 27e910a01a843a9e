"""``mlrails mismatch DIR``: every cross-descriptor check on a directory of descriptors."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mlrails.cli.console import console, fail


class FailOnChoice(StrEnum):
    error = "error"
    warning = "warning"
    never = "never"


def mismatch(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Directory holding <kind>.json descriptors (system_context.json, "
            "trained_model.json, ...); missing ones only skip the rules that need them.",
            show_default=False,
        ),
    ],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the full report as JSON here.")
    ] = None,
    html_out: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a self-contained HTML report here."),
    ] = None,
    fail_on: Annotated[
        FailOnChoice,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding is at least this severe (an unreadable descriptor "
            "counts as an error); 'never' always exits 0.",
        ),
    ] = FailOnChoice.error,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show info findings in the table too.")
    ] = False,
) -> None:
    """Find mismatches between the ML-system descriptors in DIR.

    Checks goals against model metrics, model languages/frameworks and compute needs against
    the environments, model outputs against downstream inputs and pipeline inputs against
    upstream outputs (types, ranges, mappings), inference time (units converted), metrics,
    logs and feedback expected in production, training vs production schemas, raw vs
    training data, missing information, and compares training vs production statistics per
    field (chi-square, KS, PSI, Wasserstein; Benjamini–Hochberg; an alarm needs significance
    and a non-negligible effect). Unreadable files are reported (file, JSON path, problem) and
    the rest is still checked.

    Exit codes: 0 ok, 1 findings at/above --fail-on (or an unreadable descriptor), 2 bad usage.

    Examples:

      mlrails mismatch descriptors/

      mlrails mismatch descriptors/ --json mismatch.json --html mismatch.html

      mlrails mismatch descriptors/ --fail-on warning   # stricter CI gate
    """
    from mlrails.descriptors import DescriptorError, read_descriptor_dir
    from mlrails.mismatch.check import check_descriptors
    from mlrails.mismatch.render import print_report, to_html, to_json

    try:
        ds = read_descriptor_dir(directory)
    except DescriptorError as exc:
        fail(f"{directory}: {exc.problem}")
    report = check_descriptors(ds)
    print_report(report, console, verbose=verbose)
    outputs = [(json_out, to_json), (html_out, to_html)]
    for path, render in outputs:
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(render(report), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {path}: {exc.strerror or exc}")
        console.print(f"report written to {path}", highlight=False)
    raise typer.Exit(report.exit_code(fail_on.value))
