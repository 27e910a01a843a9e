"""The ``mlrails`` command line: a thin shell over the library."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import rich.markup
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from mlrails.errors import MlrailsError, echo

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
console = Console()
err_console = Console(stderr=True)


def _progress() -> Progress:
    """The progress bar of long commands, on stderr, gone when done."""
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def _fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(
        f"[bold red]error:[/] {rich.markup.escape(message)}", highlight=False, soft_wrap=True
    )
    raise typer.Exit(code)


@app.command()
def fit(
    model_file: Annotated[
        Path,
        typer.Argument(
            help="Trained model: .skops, .onnx, XGBoost .ubj/.json, LightGBM .txt "
            "(.pkl/.joblib/.pt only with --trust)."
        ),
    ],
    train_file: Annotated[Path, typer.Argument(help="Training data, .csv or .parquet.")],
    target: Annotated[str, typer.Option("--target", "-t", help="Name of the label column.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Artifact directory to write.")] = Path(
        "rails"
    ),
    calib_file: Annotated[
        Path | None,
        typer.Option(
            "--calib",
            help="Held-out calibration data (same columns). Default: a seeded share "
            "of the training data.",
        ),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", "-p", help="Policy file (.yaml or .toml); see `mlrails policy`."),
    ] = None,
    task: Annotated[
        str | None,
        typer.Option(help="classification or regression (default: inferred from the model)."),
    ] = None,
    trust: Annotated[
        bool,
        typer.Option(
            "--trust",
            help="Allow loading model files that can execute code (pickle, joblib, "
            "torch). Only for files you trust.",
        ),
    ] = False,
    sign_key: Annotated[
        Path | None,
        typer.Option(
            "--sign-key",
            help="Ed25519 private key PEM (see `mlrails keygen`): sign the artifact "
            "(signature.json over manifest.json).",
        ),
    ] = None,
) -> None:
    """Fit rails around a trained model and write the artifact."""
    import mlrails
    from mlrails.guard.policy import Policy
    from mlrails.models import load_model
    from mlrails.tabular_io import read_table

    try:
        adapter = load_model(model_file, trust=trust)
        train = read_table(train_file)
        X, y = _split_target(train, target, train_file)
        Xc = yc = None
        if calib_file is not None:
            Xc, yc = _split_target(read_table(calib_file), target, calib_file)
        pol = Policy.coerce(policy)
        # contract, OOD, each adversarial detector, reliability, saving
        total = 4 + len(pol.adversarial.detectors)
        with _progress() as bar:
            job = bar.add_task("fitting rails", total=total)

            def step(msg: str) -> None:
                bar.update(job, advance=1, description=f"fitting {msg}")

            rails = mlrails.fit(adapter, X, y, Xc, yc, policy=pol, task=task, progress=step)
            bar.update(job, description="saving artifact")
            digest = rails.save(out)
            if sign_key is not None:
                from mlrails.artifact.signing import sign_artifact

                sign_artifact(out, sign_key)
            bar.update(job, completed=total)
    except MlrailsError as exc:
        _fail(str(exc))
    _print_summary(rails)
    console.print(f"[green]artifact written:[/] {out}  (hash {digest[:16]})")
    if sign_key is not None:
        console.print(f"[green]signed with[/] {sign_key}")


@app.command()
def keygen(
    private_key: Annotated[
        Path, typer.Argument(help="Private key PEM to write (mode 0600; keep it secret).")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option("--public", help="Public key PEM to write (default: PRIVATE_KEY.pub)."),
    ] = None,
) -> None:
    """Write an Ed25519 key pair for signing artifacts (`fit --sign-key`, `mlrails sign`)."""
    from mlrails.artifact.signing import generate_keypair

    pub = public_key or private_key.with_name(private_key.name + ".pub")
    for f in (private_key, pub):
        if f.exists():
            _fail(f"{f} exists; not overwriting a key")
    try:
        fingerprint = generate_keypair(private_key, pub)
    except OSError as exc:
        _fail(f"cannot write the key pair: {exc.strerror}")
    console.print(f"private key {private_key}, public key {pub} (sha256 {fingerprint[:16]})")


@app.command()
def sign(
    artifact: Annotated[Path, typer.Argument(help="Artifact directory written by `mlrails fit`.")],
    key: Annotated[Path, typer.Option("--key", help="Ed25519 private key PEM.")],
) -> None:
    """Sign an existing artifact (after verifying its hashes): writes signature.json."""
    from mlrails.artifact.io import verify_files
    from mlrails.artifact.signing import sign_artifact

    try:
        verify_files(artifact)
        out = sign_artifact(artifact, key)
    except MlrailsError as exc:
        _fail(str(exc))
    console.print(f"[green]signed:[/] {out}")


@app.command()
def check(
    artifact: Annotated[Path, typer.Argument(help="Artifact directory written by `mlrails fit`.")],
    input_file: Annotated[Path, typer.Argument(help="Rows to check, .csv or .parquet.")],
    model_file: Annotated[
        Path | None,
        typer.Option("--model", help="Model file, when the artifact does not bundle one."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON verdict per line.")
    ] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Attach SHAP explanations.")] = False,
    trust: Annotated[bool, typer.Option("--trust", help="See `mlrails fit --help`.")] = False,
) -> None:
    """Check every row of a table and print its verdict (status code, problem, prediction)."""
    import mlrails
    from mlrails.models import load_model
    from mlrails.tabular_io import read_table

    try:
        rows = read_table(input_file)  # a bad input file fails before the artifact loads
        model = load_model(model_file, trust=trust) if model_file is not None else None
        rails = mlrails.load(artifact, model=model, trust=trust)
        verdicts = rails.check(rows, explain=explain or None)
    except MlrailsError as exc:
        _fail(str(exc))
    if as_json:
        for v in verdicts:
            sys.stdout.write(json.dumps(v.to_dict(), default=str) + "\n")
        return
    table = Table(title=f"{len(verdicts)} verdicts")
    for col in ("row", "status", "prediction", "confidence", "why"):
        table.add_column(col)
    for v in verdicts:
        conf = "" if v.confidence is None else f"{v.confidence.max_probability:.3f}"
        why = v.title or ""
        if v.detail and v.problem:
            why = f"{v.title}: {v.detail}"
        style = {2: "green", 4: "red", 5: "magenta"}.get(v.status // 100, "")
        table.add_row(
            str(v.row),
            f"[{style}]{v.status}[/]" if style else str(v.status),
            "" if v.prediction is None else str(v.prediction),
            conf,
            why,
        )
    console.print(table)
    counts: dict[int, int] = {}
    for v in verdicts:
        counts[v.status] = counts.get(v.status, 0) + 1
    console.print("status mix: " + ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())))


@app.command()
def inspect(
    artifact: Annotated[Path, typer.Argument(help="Artifact directory.")],
    model_file: Annotated[
        Path | None, typer.Option("--model", help="Model file if not bundled.")
    ] = None,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the input contract as JSON Schema.")
    ] = False,
    trust: Annotated[bool, typer.Option("--trust")] = False,
) -> None:
    """Show an artifact's thresholds, false-alarm rates and calibration (verifies hashes)."""
    import mlrails
    from mlrails.contract import to_json_schema
    from mlrails.models import load_model

    try:
        model = load_model(model_file, trust=trust) if model_file is not None else None
        rails = mlrails.load(artifact, model=model, trust=trust)
    except MlrailsError as exc:
        _fail(str(exc))
    if schema:
        sys.stdout.write(json.dumps(to_json_schema(rails.contract), indent=2) + "\n")
        return
    _print_summary(rails)
    console.print(f"artifact hash: {rails.artifact_hash}")


@app.command()
def policy(
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Write the template here instead of printing it."),
    ] = None,
) -> None:
    """Print (or write) a commented policy template with the defaults."""
    from mlrails.guard.policy import POLICY_TEMPLATE

    if out is None:
        sys.stdout.write(POLICY_TEMPLATE)
    else:
        out.write_text(POLICY_TEMPLATE, encoding="utf-8")
        console.print(f"policy template written to {out}")


@app.command()
def demo(
    rows: Annotated[int, typer.Option(help="Rows per kind of input sent through the guard.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train a model on bundled data, fit rails, and send good and bad inputs through them."""
    from mlrails.demo import render_demo, run_demo

    try:
        report = run_demo(n_rows=rows, seed=seed, progress=lambda m: console.log(m))
    except MlrailsError as exc:
        _fail(str(exc))
    render_demo(report, console)


def _split_target(frame: Any, target: str, path: Path) -> tuple[Any, Any]:
    if target not in frame.columns:
        _fail(f"{path}: no column {echo(target)} (columns: {', '.join(map(str, frame.columns))})")
    if len(frame) == 0:
        _fail(f"{path}: the table has a header but no rows")
    return frame.drop(columns=[target]), frame[target].to_numpy()


def _print_summary(rails: Any) -> None:
    s = rails.summary
    table = Table(
        title=f"rails for a {s.task} model — {s.n_train} training rows, "
        f"{s.n_calibration} calibration rows"
    )
    for col in ("safeguard", "mode", "threshold", "target FPR", "realised FPR", "n calib"):
        table.add_column(col)
    table.add_row("validation", rails.policy.validation.mode, "contract", "-", "-", "-")
    for g in s.safeguards:
        table.add_row(
            g.name,
            g.mode,
            _fmt(g.threshold),
            _pct(g.target_fpr),
            _pct(g.realised_fpr),
            str(g.n_calibration),
        )
    console.print(table)
    if s.calibration is not None:
        c = s.calibration
        console.print(
            f"calibration ({c.method}): ECE {_fmt(c.ece_before)} → {_fmt(c.ece_after)}, "
            f"NLL {_fmt(c.nll_before)} → {_fmt(c.nll_after)} (on the calibration split)"
        )
    if s.conformal_coverage is not None:
        console.print(f"conformal coverage target: {s.conformal_coverage:.0%}")
    for note in s.notes:
        console.print(f"note: {note}")


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2%}"


def main() -> None:  # pragma: no cover - console entry point
    app()


# -- the HTTP service, its API keys and its decision log ----------------------------------
class Switch(StrEnum):
    """An on/off command-line choice."""

    on = "on"
    off = "off"


class LogModeOption(StrEnum):
    """When ``mlrails serve`` answers relative to committing the decision."""

    sync = "sync"
    async_ = "async"


def _pydantic_message(exc: ValueError) -> str:
    """Each problem of a pydantic validation error as ``field: message``, else the message."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


class UpstreamProtocol(StrEnum):
    """How ``mlrails serve --upstream`` talks to the model served elsewhere."""

    oip = "oip"
    json = "json"


class LogFormat(StrEnum):
    """Formats of ``mlrails log export``."""

    csv = "csv"
    parquet = "parquet"


DEFAULT_STORE = "mlrails.db"
StoreOption = Annotated[
    str,
    typer.Option(
        "--store",
        help="Decision log and key store: a SQLite file path or a PostgreSQL URL "
        "(postgresql://user:pass@host/db; the postgres extra).",
    ),
]

keys_app = typer.Typer(
    help="Manage the API keys of `mlrails serve` (tokens are shown once, stored hashed).",
    no_args_is_help=True,
)
log_app = typer.Typer(help="Read the decision log of `mlrails serve`.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(log_app, name="log")


def _open_store(target: str, *, create: bool = False) -> Any:
    try:
        from mlrails.store import open_store
    except ModuleNotFoundError as exc:
        _fail(f"this command needs the serve extra: pip install 'mlrails[serve]' ({exc.name})")
    try:
        return open_store(target, create=create)
    except MlrailsError as exc:
        _fail(str(exc))


class FailOn(StrEnum):
    regression = "regression"
    never = "never"


@app.command()
def bench(
    target: Annotated[
        str | None,
        typer.Argument(
            help="A config (YAML), or `verify RECORD` / `report RECORD`.", show_default=False
        ),
    ] = None,
    record_ref: Annotated[
        str | None,
        typer.Argument(help="With verify/report: a record JSON file or a run id in --store."),
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
    store: Annotated[
        str | None,
        typer.Option(
            help="Database to record the run in, or to look a run id up in (SQLite path or "
            "postgresql:// URL). Default: none (the record is the JSON file in --out).",
            show_default=False,
        ),
    ] = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not use a database (the default).")
    ] = False,
    executor: Annotated[
        str | None, typer.Option(help="local or ray (default: the config's).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Parallel workers (default: the config's).")
    ] = None,
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
    from mlrails.bench.grid import EXAMPLE_CONFIG

    if init:
        sys.stdout.write(EXAMPLE_CONFIG)
        return
    if target is None:
        _fail("give a config file (mlrails bench --init writes an example)")
    store_target = None if no_store else store
    if target in ("verify", "report"):
        if record_ref is None:
            _fail(f"mlrails bench {target} RECORD: give a record file or run id")
        try:
            _bench_record_command(
                target, record_ref, store_target, out or BENCH_OUT, executor, workers
            )
        except MlrailsError as exc:
            _fail(str(exc))
        return
    if record_ref is not None:
        _fail(f"unexpected argument {echo(record_ref)} (only verify/report take a record)")
    try:
        _bench_run(
            Path(target), out, store_target, executor, workers, baseline, fail_on, alpha, markdown
        )
    except MlrailsError as exc:
        _fail(str(exc))


def _bench_executor(name: str | None, workers: int | None, cfg: Any) -> Any:
    from mlrails.bench.executors import get_executor

    if name is not None and name not in ("local", "ray"):
        raise MlrailsError(f"--executor: unknown executor {echo(name)}; use 'local' or 'ray'")
    chosen = name or cfg.executor
    options = {"address": cfg.ray_address} if chosen == "ray" and cfg.ray_address else {}
    return get_executor(chosen, workers or cfg.workers, **options)


#: where `mlrails bench` writes when neither --out nor the config's `out:` says
BENCH_OUT = Path("bench-results")


def _bench_run(
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
    ex = _bench_executor(executor, workers, cfg)
    with _progress() as bar:
        task = bar.add_task(f"benchmark cells ({ex.name})", total=len(cfg.cells()))
        record = run_benchmark(
            cfg, progress=lambda r: bar.advance(task), executor=ex, config_dir=config.parent
        )
    comparisons, notes = compare_pairs(record, alpha=alpha)
    gate = None if base is None else compare_to_baseline(record, base, alpha=alpha)
    out.mkdir(parents=True, exist_ok=True)
    record.write(out / "record.json")
    html_path, md_path = write_report(record, out, comparisons=comparisons, gate=gate, power=notes)
    stored = _bench_store(record, store_target)
    if markdown:
        sys.stdout.write(render_markdown(record, comparisons=comparisons, gate=gate, power=notes))
    else:
        _bench_table(record, comparisons, notes)
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


def _bench_store(record: Any, store_target: str | None) -> str | None:
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


def _bench_table(record: Any, comparisons: Any, notes: Any) -> None:
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


def _bench_record_command(
    what: str,
    ref: str,
    store_target: str | None,
    out: Path,
    executor: str | None,
    workers: int | None,
) -> None:
    from mlrails.bench.archive import load_record
    from mlrails.bench.compare import compare_pairs
    from mlrails.bench.grid import GridConfig
    from mlrails.bench.report import write_report
    from mlrails.bench.runner import verify_record

    record = load_record(ref, store_target)
    if what == "report":
        comparisons, notes = compare_pairs(record)
        html_path, md_path = write_report(record, out, comparisons=comparisons, power=notes)
        console.print(f"{html_path}\n{md_path}", highlight=False)
        return
    cfg = GridConfig.model_validate(record.config)
    ex = _bench_executor(executor, workers, cfg)
    with _progress() as bar:
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


@app.command()
def serve(
    artifact: Annotated[Path, typer.Argument(help="Artifact directory written by `mlrails fit`.")],
    model_file: Annotated[
        Path | None,
        typer.Option("--model", help="Model file, when the artifact does not bundle one."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8000,
    store: StoreOption = DEFAULT_STORE,
    auth: Annotated[
        Switch, typer.Option(help="Require API keys ('off' only for local use).")
    ] = Switch.on,
    rate_limit: Annotated[
        float, typer.Option(help="Requests per second per key (0: no limit).")
    ] = 100.0,
    model_timeout: Annotated[
        float, typer.Option(help="Time limit of one guard call in seconds (504 beyond).")
    ] = 10.0,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body (413 beyond).")] = (
        1 << 20
    ),
    max_batch_rows: Annotated[int, typer.Option(help="Most rows per request (413 beyond).")] = (
        10_000
    ),
    header_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a connection has, in total, to send a request's line and headers; "
            "then it is closed (slow or stalled clients cannot hold connections)."
        ),
    ] = 10.0,
    keep_alive: Annotated[
        int, typer.Option(help="Seconds after which an idle kept-alive connection is closed.")
    ] = 5,
    max_connections: Annotated[
        int,
        typer.Option(
            help="Open connections per worker; requests beyond get 503 with a plain-text body."
        ),
    ] = 1000,
    max_header_bytes: Annotated[
        int, typer.Option(help="Largest request line plus headers (plain-text 400 beyond).")
    ] = 16 * 1024,
    ui: Annotated[
        Switch, typer.Option(help="Web UI at /ui (sign-in with an API key when auth is on).")
    ] = Switch.on,
    docs: Annotated[
        bool,
        typer.Option(
            "--docs",
            help="Serve an HTML reference of the OpenAPI document at /docs (no script, strict "
            "Content-Security-Policy; public like /openapi.json). Off: /docs is 404.",
        ),
    ] = False,
    model_name: Annotated[
        str, typer.Option(help="Model name in the Open Inference Protocol paths /v2/models/NAME.")
    ] = "mlrails",
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    trust: Annotated[bool, typer.Option("--trust", help="See `mlrails fit --help`.")] = False,
    require_signature: Annotated[
        Path | None,
        typer.Option(
            "--require-signature",
            help="Ed25519 public key PEM: refuse to start unless the artifact is signed by "
            "its private key.",
        ),
    ] = None,
    upstream: Annotated[
        str | None,
        typer.Option(help="Proxy mode: guard the model served at this http(s) URL (no --model)."),
    ] = None,
    upstream_protocol: Annotated[
        UpstreamProtocol, typer.Option(help="oip (Open Inference Protocol v2) or json.")
    ] = UpstreamProtocol.oip,
    upstream_model: Annotated[
        str | None,
        typer.Option(help="OIP model name (default: the URL's last path segment, or 'model')."),
    ] = None,
    upstream_timeout: Annotated[
        float, typer.Option(help="Time limit of each upstream call phase in seconds (504).")
    ] = 5.0,
    upstream_output: Annotated[
        str | None,
        typer.Option(
            help="OIP output tensor to request and read (default: predict_proba for a "
            "classifier, predict for a regressor, as MLServer names them)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes sharing the port and the decision log (rate limits are "
            "per worker)."
        ),
    ] = 1,
    batch_max_rows: Annotated[
        int,
        typer.Option(help="Micro-batching: most rows of concurrent requests per guard call."),
    ] = 64,
    batch_max_wait_ms: Annotated[
        float,
        typer.Option(
            help="Micro-batching: how long a batch may wait for requests already arriving "
            "(a lone request never waits; 0: never wait)."
        ),
    ] = 2.0,
    log_mode: Annotated[
        LogModeOption,
        typer.Option(
            help="sync: answer only once the decision is committed (nothing answered is ever "
            "lost); async: answer first, commit within milliseconds (a crash loses at most "
            "--log-max-pending records)."
        ),
    ] = LogModeOption.sync,
    log_max_pending: Annotated[
        int, typer.Option(help="async log: most records waiting for their commit.")
    ] = 10_000,
    drift_every: Annotated[
        str,
        typer.Option(
            help="How often the service compares logged traffic with the artifact's reference "
            "profile (gauges on /metrics, page /ui/drift); 'off' for never."
        ),
    ] = "5m",
    drift_window: Annotated[
        str, typer.Option(help="How far back each drift check looks (30m, 1h, 1d).")
    ] = "1h",
    drift_webhook: Annotated[
        str | None,
        typer.Option(help="http(s) URL that gets a JSON POST with the findings on a drift alarm."),
    ] = None,
    descriptors: Annotated[
        Path | None,
        typer.Option(
            help="Directory of mismatch descriptors (v1.2 JSON) to view, edit and check in the "
            "web UI (/ui/descriptors, /ui/mismatch)."
        ),
    ] = None,
    print_settings: Annotated[
        bool,
        typer.Option(
            "--print-settings",
            help="Print the settings these options give as JSON and exit (evidence for "
            "`mlrails score --serve-settings`).",
        ),
    ] = False,
) -> None:
    """Serve the guard over HTTP: POST /v1/predict, GET /v1/contract, /metrics, /ui ...

    Every decision is committed to the decision log (--store: a SQLite file or a
    postgresql:// URL) before it is answered. Concurrent requests are checked together in
    micro-batches, so a guarded server outruns one that calls the model once per request.

    Examples:

      mlrails keys create --name app --store decisions.db
      mlrails serve rails/ --store decisions.db --port 8000
      mlrails serve rails/ --store postgresql://mlrails:pw@db/mlrails --workers 4
      mlrails serve rails/ --upstream http://models:8080 --upstream-model cancer
      mlrails serve rails/ --descriptors desc/ --drift-webhook https://hooks.example/x

    Every --drift-every the service compares the last --drift-window of its log with the
    reference kept in the artifact: GET /v1/drift, gauges mlrails_drift_* on /metrics, page
    /ui/drift, and a webhook POST when an alarm starts, changes or clears.
    """
    try:
        from mlrails.cli.describe_cmd import parse_window
        from mlrails.serve.launch import ServeSpec, load_rails, run_workers
        from mlrails.serve.server import bind_socket, run_server
        from mlrails.serve.settings import ServeSettings
    except ModuleNotFoundError as exc:
        _fail(f"mlrails serve needs the serve extra: pip install 'mlrails[serve]' ({exc.name})")
    try:
        settings = ServeSettings(
            host=host,
            port=port,
            auth=auth is Switch.on,
            rate_limit_rps=rate_limit if rate_limit > 0 else None,
            model_timeout_s=model_timeout,
            max_body_bytes=max_body_bytes,
            max_batch_rows=max_batch_rows,
            header_timeout_s=header_timeout,
            keep_alive_s=keep_alive,
            max_connections=max_connections,
            max_header_bytes=max_header_bytes,
            ui=ui is Switch.on,
            docs=docs,
            model_name=model_name,
            log_level=log_level,
            batch_max_rows=batch_max_rows,
            batch_max_wait_ms=batch_max_wait_ms,
            log_mode=log_mode.value,
            log_max_pending=log_max_pending,
            drift_every_s=None
            if drift_every == "off"
            else parse_window(drift_every, "--drift-every").total_seconds(),
            drift_window_s=parse_window(drift_window, "--drift-window").total_seconds(),
            drift_webhook=drift_webhook,
            descriptors_dir=None if descriptors is None else str(descriptors),
        )
        spec = ServeSpec(
            artifact=artifact,
            store=store,
            settings=settings,
            model_file=model_file,
            trust=trust,
            require_signature=require_signature,
            upstream=upstream,
            upstream_protocol=upstream_protocol.value,
            upstream_model=upstream_model,
            upstream_timeout_s=upstream_timeout,
            upstream_output=upstream_output,
            workers=workers,
        )
    except ValueError as exc:
        _fail(f"invalid option: {_pydantic_message(exc)}")
    except MlrailsError as exc:
        _fail(str(exc))
    if print_settings:
        typer.echo(settings.model_dump_json(indent=2))
        raise typer.Exit(0)
    if descriptors is not None and not descriptors.is_dir():
        _fail(f"--descriptors {descriptors}: not a directory")
    try:
        rails = load_rails(spec)
    except MlrailsError as exc:
        _fail(str(exc))
    log_store = _open_store(store, create=True)
    from mlrails.store import display_url  # the URL without its password

    shown = display_url(store)
    try:
        sock = bind_socket(host, port)
        if settings.auth and not any(k.active for k in log_store.list_keys()):
            err_console.print(
                "[yellow]warning:[/] no active API key in the store: every request will get "
                f"401; create one with `mlrails keys create --name NAME --store {shown}`",
                highlight=False,
            )
        bound = int(sock.getsockname()[1])
        mode = f"{workers} workers, " if workers > 1 else ""
        err_console.print(
            f"serving artifact {rails.artifact_hash[:16]} on http://{host}:{bound} "
            f"({mode}auth {auth.value}, decision log {shown}, log {log_mode.value})",
            highlight=False,
        )
        if workers > 1:
            log_store.close()  # each worker loads the rails and opens the store itself
            del rails
            run_workers(spec, sock)
        else:
            from mlrails.serve.app import create_app

            app_ = create_app(rails, log_store, settings)
            run_server(app_, host, port, log_level=log_level, sock=sock, settings=settings)
    except MlrailsError as exc:
        _fail(str(exc))
    finally:
        log_store.close()


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="Who or what the key is for.")],
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Create an API key and print its token (shown once; only its hash is stored)."""
    from mlrails.serve.keys import KeyRing

    with _open_store(store, create=True) as s:
        try:
            issued = KeyRing(s).create(name)
        except MlrailsError as exc:
            _fail(str(exc))
    err_console.print(
        f"API key {issued.record.id} ({issued.record.name}) created; the token below is "
        "shown only now:",
        highlight=False,
    )
    sys.stdout.write(issued.token + "\n")


@keys_app.command("list")
def keys_list(store: StoreOption = DEFAULT_STORE) -> None:
    """List API keys (id, name, created, revoked); never the tokens."""
    from mlrails.serve.keys import KeyRing

    with _open_store(store) as s:
        try:
            records = KeyRing(s).list()
        except MlrailsError as exc:
            _fail(str(exc))
    table = Table(title=f"{len(records)} API keys")
    for col in ("id", "name", "created (UTC)", "revoked (UTC)"):
        table.add_column(col)
    for r in records:
        revoked = "" if r.revoked_at is None else r.revoked_at.strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(r.id, r.name, r.created_at.strftime("%Y-%m-%d %H:%M:%S"), revoked)
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `mlrails keys list`).")],
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """Revoke an API key: requests with it get 401 from then on."""
    from mlrails.serve.keys import KeyRing

    with _open_store(store) as s:
        try:
            record = KeyRing(s).revoke(key_id)
        except MlrailsError as exc:
            _fail(str(exc))
    console.print(f"API key {record.id} ({record.name}) revoked", highlight=False)


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
    from datetime import UTC, datetime

    from mlrails.store import export_decisions

    start = None
    if since is not None:
        try:
            start = datetime.fromisoformat(since)
        except ValueError:
            _fail(f"--since {echo(since)}: not an ISO 8601 time (e.g. 2025-01-31T12:00:00Z)")
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
    with _open_store(store) as s:
        try:
            n = export_decisions(s, out, fmt=fmt.value, since=start)
        except MlrailsError as exc:
            _fail(str(exc))
    console.print(f"{n} decisions written to {out}", highlight=False)


from mlrails.cli.describe_cmd import describe as _describe  # noqa: E402

app.command(name="describe")(_describe)

from mlrails.cli.mismatch_cmd import mismatch as _mismatch  # noqa: E402

app.command(name="mismatch")(_mismatch)

from mlrails.cli.drift_cmd import drift as _drift  # noqa: E402

app.command(name="drift")(_drift)

from mlrails.cli.score_cmd import score as _score  # noqa: E402

app.command(name="score")(_score)
