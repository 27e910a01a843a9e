"""``mlrails bench``: grade a model and its rails under perturbations and attacks (``run``,
the default), re-run a recorded benchmark (``verify``) and report a recorded one (``report``).

``mlrails bench CONFIG`` is ``mlrails bench run CONFIG``: :class:`BenchGroup` puts ``run`` in
front of arguments that name no sub-command, so the invocations from before the sub-commands
keep working.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import rich.markup
import typer
from rich.table import Table
from typer.core import TyperGroup, TyperOption

from mlrails.cli.console import console, err_console, fail, progress
from mlrails.errors import MlrailsError, echo

#: where `mlrails bench` writes when neither --out nor the config's `out:` says
BENCH_OUT = Path("bench-results")

#: the sub-command of ``mlrails bench CONFIG``
DEFAULT_COMMAND = "run"


def with_command(
    args: list[str], commands: Mapping[str, Any], default: str, help_names: Iterable[str]
) -> list[str]:
    """``args`` with a sub-command first: the first positional argument when it names one
    (options may come before it, as in ``--store runs.db report RUN_ID``), else ``default``.
    A help option first is left alone: the group's own help."""
    if args and args[0] in help_names:
        return args
    takes_value = {
        name
        for command in commands.values()
        for param in command.params
        if isinstance(param, TyperOption) and not param.is_flag
        for name in param.opts
    }
    i = 0
    while i < len(args) and args[i] != "--":
        if not args[i].startswith("-"):
            if args[i] in commands:
                return [args[i], *args[:i], *args[i + 1 :]]
            break
        i += 2 if args[i] in takes_value else 1
    return [default, *args]


class BenchGroup(TyperGroup):
    """The ``bench`` sub-commands, ``run`` when the arguments name none."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # ctx: the Click context of the click Typer vendors (no public name to annotate it)
        args = with_command(args, self.commands, DEFAULT_COMMAND, ctx.help_option_names)
        return super().parse_args(ctx, args)


bench_app = typer.Typer(
    cls=BenchGroup, no_args_is_help=False, subcommand_metavar="[CONFIG | COMMAND] [ARGS]..."
)


class FailOn(StrEnum):
    regression = "regression"
    never = "never"


StoreTarget = Annotated[
    str | None,
    typer.Option(
        help="Database to record the run in, or to look a run id up in (SQLite path or "
        "postgresql:// URL). Default: none (the record is the JSON file in --out).",
        show_default=False,
    ),
]
NoStore = Annotated[bool, typer.Option("--no-store", help="Do not use a database (the default).")]
Executor = Annotated[str | None, typer.Option(help="local or ray (default: the config's).")]
Workers = Annotated[
    int | None, typer.Option(min=1, help="Parallel workers (default: the config's).")
]
RecordRef = Annotated[
    str | None,
    typer.Argument(help="A record JSON file or a run id in --store.", show_default=False),
]


@bench_app.callback()
def bench() -> None:
    """Grade the model and its rails under seeded perturbations and attacks.

    Every cell (pair × perturbation or attack × severity × seed × repeat) reports the
    model's accuracy, F1 and calibration (RMSE/MAE for a regressor) with bootstrap
    intervals, and how the rails treated its wrong answers: silent failures (wrong, yet
    200), false alarms (right, yet flagged), the status mix and each safeguard's detection
    AUROC. Pairs are compared with exact tests, Holm-corrected. The run is recorded with its
    provenance (hashes, seeds, versions, git commit, machine) in OUT/record.json (and in
    the database --store names, if given); OUT/report.html and OUT/summary.md hold the
    report. OUT: --out, else the config's `out:`, else bench-results.

    Examples:

      mlrails bench --init > bench.yaml      # edit: artifact(s), data, perturbations, attacks
      mlrails bench bench.yaml               # progress bar, table, bench-results/report.html
      mlrails bench verify bench-results/record.json   # re-run: bit-identical metrics?
      mlrails bench bench.yaml --baseline main.json    # exit 1 on a significant regression
      mlrails bench bench.yaml --store runs.db         # also record the run in a database
      mlrails bench report RUN_ID --store runs.db --out old/   # report of a stored run

    Exit codes: 0 done, 1 regression (or verify mismatch), 2 bad input.
    """


@bench_app.command(DEFAULT_COMMAND, context_settings={"allow_extra_args": True})
def run(
    ctx: typer.Context,
    config: Annotated[
        str | None, typer.Argument(help="A config (YAML).", show_default=False)
    ] = None,
    init: Annotated[
        bool, typer.Option("--init", help="Print a commented example config and exit.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Directory for record.json, report.html and summary.md "
            "(default: the config's `out:`, else bench-results).",
            show_default=False,
        ),
    ] = None,
    store: StoreTarget = None,
    no_store: NoStore = False,
    executor: Executor = None,
    workers: Workers = None,
    baseline: Annotated[
        str | None,
        typer.Option(help="Earlier record (file or run id) to compare against, for CI."),
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option(help="Exit 1 on a significant regression against --baseline.")
    ] = FailOn.regression,
    alpha: Annotated[
        float, typer.Option(min=1e-6, max=0.5, help="Significance level (Holm-adjusted).")
    ] = 0.05,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the Markdown summary instead of a table.")
    ] = False,
) -> None:
    """Run the benchmark a config describes (the default: `mlrails bench CONFIG`).

    The record goes to OUT/record.json (and to the database --store names, if given), the
    report to OUT/report.html and OUT/summary.md. OUT: --out, else the config's `out:`, else
    bench-results. With --baseline, a significant regression exits 1 (see --fail-on).

    Exit codes: 0 done, 1 regression, 2 bad input.
    """
    from mlrails.bench.grid import EXAMPLE_CONFIG

    if init:
        sys.stdout.write(EXAMPLE_CONFIG)
        return
    if config is None:
        fail("give a config file (mlrails bench --init writes an example)")
    if ctx.args:  # `bench CONFIG RECORD`: a record goes with verify or report
        fail(f"unexpected argument {echo(ctx.args[0])} (only verify/report take a record)")
    try:
        _run(
            Path(config),
            out,
            None if no_store else store,
            executor,
            workers,
            baseline,
            fail_on,
            alpha,
            markdown,
        )
    except MlrailsError as exc:
        fail(str(exc))


@bench_app.command()
def verify(
    record: RecordRef = None,
    store: StoreTarget = None,
    no_store: NoStore = False,
    executor: Executor = None,
    workers: Workers = None,
) -> None:
    """Re-run a recorded benchmark: are its metrics bit-identical?

    The hashes of the artifacts and data are checked first; a record file gets the outcome
    kept beside it (evidence for `mlrails score`).

    Exit codes: 0 identical, 1 a cell differs, 2 bad input.
    """
    if record is None:
        fail("mlrails bench verify RECORD: give a record file or run id")
    try:
        _verify(record, None if no_store else store, executor, workers)
    except MlrailsError as exc:
        fail(str(exc))


@bench_app.command()
def report(
    record: RecordRef = None,
    store: StoreTarget = None,
    no_store: NoStore = False,
    out: Annotated[
        Path, typer.Option(help="Directory for report.html and summary.md.")
    ] = BENCH_OUT,
) -> None:
    """Write the report of a recorded run (report.html, summary.md) into --out."""
    if record is None:
        fail("mlrails bench report RECORD: give a record file or run id")
    try:
        _report(record, None if no_store else store, out)
    except MlrailsError as exc:
        fail(str(exc))


def _executor(name: str | None, workers: int | None, cfg: Any) -> Any:
    from mlrails.bench.executors import get_executor

    if name is not None and name not in ("local", "ray"):
        raise MlrailsError(f"--executor: unknown executor {echo(name)}; use 'local' or 'ray'")
    chosen = name or cfg.executor
    options = {"address": cfg.ray_address} if chosen == "ray" and cfg.ray_address else {}
    return get_executor(chosen, workers or cfg.workers, **options)


def _run(
    config: Path,
    out_flag: Path | None,
    store_target: str | None,
    executor: str | None,
    workers: int | None,
    baseline: str | None,
    fail_on: FailOn,
    alpha: float,
    markdown: bool,
) -> None:
    from mlrails.bench.archive import load_record
    from mlrails.bench.compare import compare_pairs
    from mlrails.bench.gate import compare_to_baseline
    from mlrails.bench.grid import read_config
    from mlrails.bench.report import render_markdown, write_report
    from mlrails.bench.runner import run_benchmark

    cfg = read_config(config)
    out = out_flag or cfg.out or BENCH_OUT
    base = None if baseline is None else load_record(baseline, store_target)
    ex = _executor(executor, workers, cfg)
    with progress() as bar:
        task = bar.add_task(f"benchmark cells ({ex.name})", total=len(cfg.cells()))
        record = run_benchmark(
            cfg, progress=lambda r: bar.advance(task), executor=ex, config_dir=config.parent
        )
    comparisons, notes = compare_pairs(record, alpha=alpha)
    gate = None if base is None else compare_to_baseline(record, base, alpha=alpha)
    out.mkdir(parents=True, exist_ok=True)
    record.write(out / "record.json")
    html_path, md_path = write_report(record, out, comparisons=comparisons, gate=gate, power=notes)
    stored = _store(record, store_target)
    if markdown:
        sys.stdout.write(render_markdown(record, comparisons=comparisons, gate=gate, power=notes))
    else:
        _table(record, comparisons, notes)
    err_console.print(
        f"run {record.run_id}: {len(record.cells)} cells in {record.wall_s:.1f} s → "
        f"{out / 'record.json'}, {html_path}, {md_path}"
        + (f"; stored in {stored}" if stored else ""),
        highlight=False,
        soft_wrap=True,
    )
    failed = sum(c.error is not None for c in record.cells)
    if failed:
        err_console.print(f"[yellow]{failed} cell(s) failed[/]; the others completed")
    if gate is not None:
        if gate.ok:
            err_console.print(f"[green]no significant regression against {baseline}[/]")
        else:
            for t in gate.regressions:
                err_console.print(
                    f"[red]regression[/] {rich.markup.escape(t.key)} {t.metric}: "
                    f"{t.baseline} → {t.current} (p_holm {t.p_holm:.3g})",
                    highlight=False,
                )
            for key in gate.failed:
                err_console.print(f"[red]regression[/] {rich.markup.escape(key)}: cell failed")
            if fail_on is FailOn.regression:
                raise typer.Exit(1)


def _store(record: Any, store_target: str | None) -> str | None:
    if store_target is None:
        return None
    try:
        from mlrails.bench.archive import save_record
        from mlrails.store import display_url
    except ModuleNotFoundError as exc:
        err_console.print(
            "[yellow]not recorded in a database[/]: "
            f"needs pip install 'mlrails[serve]' ({exc.name})"
        )
        return None
    save_record(record, store_target)
    return str(display_url(store_target))


def _table(record: Any, comparisons: Any, notes: Any) -> None:
    console.print(bench_cells_table(record))
    significant = [c for c in comparisons if c.significant]
    if significant:
        t = Table(title="significant differences between pairs (Holm-adjusted)")
        for col in ("condition", "metric", "pairs", "difference", "p (Holm)"):
            t.add_column(col)
        for c in significant:
            t.add_row(
                c.condition, c.metric, f"{c.pair_b} − {c.pair_a}", f"{c.difference:+.3f}",
                f"{c.p_holm:.3g}",
            )  # fmt: skip
        console.print(t)
    resolvable = [n for n in notes if n.replicates_needed is not None]
    if resolvable:
        t = Table(title="power: seed × repeat replicates a paired t-test needs (80 %)")
        for col in ("condition", "pairs", "replicates", "sd of difference", "to resolve", "needs"):
            t.add_column(col)
        for n in resolvable:
            t.add_row(
                f"{n.name}/s{n.severity}", f"{n.pair_b} − {n.pair_a}", str(n.replicates),
                f"{n.sd:.4f}", f"±{n.target:.3f}", str(n.replicates_needed),
            )  # fmt: skip
        console.print(t)


def bench_cells_table(record: Any) -> Table:
    """One row per cell, its full name first (never cut: it folds onto a second line only
    when even a compact table does not fit); values that belong together share a column on
    two lines, so that the table fits 80 columns."""
    import rich.box

    table = Table(
        title=f"{len(record.cells)} cells; 95 % bootstrap intervals",
        caption="ECE: first line the model's raw probabilities, second line the calibrated\n"
        "ones the rails serve",
        box=rich.box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    keys = [rich.markup.escape(c.key) for c in record.cells]
    width = max((len(c.key) for c in record.cells), default=4)
    table.add_column("cell", min_width=width, max_width=width, overflow="fold")
    for col in ("accuracy\n95 % CI", "ECE\nmodel\nrails", "silent\nfailures", "false\nalarms"):
        table.add_column(col, justify="right")
    table.add_column("200\nshare", justify="right")
    for key, c in zip(keys, record.cells, strict=True):
        if c.error is not None:  # its message under its name, in the widest column
            table.add_row(f"{key}\n[red]failed: {rich.markup.escape(c.error)}[/]", *"-----")
            continue
        m = c.metrics
        main = "accuracy" if "accuracy" in m else "rmse"
        lo_hi = c.intervals.get(main)
        sf, fa = m.get("silent_failure_rate"), m.get("false_alarm_rate")
        ece = [m.get("ece_model"), m.get("ece_rails")]
        table.add_row(
            key,
            f"{m[main]:.3f}"
            + ("" if main == "accuracy" else " RMSE")
            + ("" if lo_hi is None else f"\n{lo_hi[0]:.3f}–{lo_hi[1]:.3f}"),
            "-" if ece[0] is None else "\n".join("-" if e is None else f"{e:.3f}" for e in ece),
            "-" if sf is None else f"{sf:.1%}",
            "-" if fa is None else f"{fa:.1%}",
            f"{c.status_mix.get('200', 0.0):.1%}",
        )
    return table


def _report(ref: str, store_target: str | None, out: Path) -> None:
    from mlrails.bench.archive import load_record
    from mlrails.bench.compare import compare_pairs
    from mlrails.bench.report import write_report

    record = load_record(ref, store_target)
    comparisons, notes = compare_pairs(record)
    html_path, md_path = write_report(record, out, comparisons=comparisons, power=notes)
    console.print(f"{html_path}\n{md_path}", highlight=False)


def _verify(ref: str, store_target: str | None, executor: str | None, workers: int | None) -> None:
    from mlrails.bench.archive import load_record
    from mlrails.bench.grid import GridConfig
    from mlrails.bench.runner import verify_record

    record = load_record(ref, store_target)
    cfg = GridConfig.model_validate(record.config)
    ex = _executor(executor, workers, cfg)
    with progress() as bar:
        task = bar.add_task(f"re-running {record.run_id}", total=len(record.cells))
        result = verify_record(record, executor=ex, progress=lambda r: bar.advance(task))
    if Path(ref).is_file():  # kept beside the record: evidence for `mlrails score`
        from mlrails.bench.verification import Verification, write_verification

        kept = write_verification(
            ref,
            Verification.of(
                record.run_id, result.identical, result.n_cells, len(result.mismatches)
            ),
        )
        err_console.print(f"verification written to {kept}", highlight=False)
    if result.identical:
        console.print(
            f"[green]identical[/]: all {result.n_cells} cells of run {record.run_id} "
            "reproduced bit for bit",
            highlight=False,
        )
        return
    for m in result.mismatches[:20]:
        console.print(
            f"[red]differs[/] {rich.markup.escape(m.key)} {m.field}: "
            f"recorded {m.recorded!r}, now {m.now!r}",
            highlight=False,
        )
    more = len(result.mismatches) - 20
    if more > 0:
        console.print(f"... and {more} more")
    raise typer.Exit(1)
