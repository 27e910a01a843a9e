"""``mlrails bench CONFIG`` stays ``mlrails bench run CONFIG``; verify/report are sub-commands
wherever they come among the options."""

from __future__ import annotations

import pytest
import typer

from mlrails.cli.bench_cmd import DEFAULT_COMMAND, bench_app, with_command

COMMANDS = typer.main.get_command(bench_app).commands  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ["run"]),
        (["bench.yaml"], ["run", "bench.yaml"]),
        (["--init"], ["run", "--init"]),
        (["bench.yaml", "--out", "verify"], ["run", "bench.yaml", "--out", "verify"]),
        (["--out", "report", "bench.yaml"], ["run", "--out", "report", "bench.yaml"]),
        (["verify", "rec.json"], ["verify", "rec.json"]),
        (["--store", "runs.db", "report", "ID"], ["report", "--store", "runs.db", "ID"]),
        (["--no-store", "verify", "x.json"], ["verify", "--no-store", "x.json"]),
        (["--", "verify"], ["run", "--", "verify"]),
        (["--help"], ["--help"]),
    ],
)
def test_the_sub_command_comes_first(args: list[str], expected: list[str]) -> None:
    assert with_command(args, COMMANDS, DEFAULT_COMMAND, ["--help"]) == expected
