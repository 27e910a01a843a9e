"""``mlrails fit`` and what uses its artifact from the command line: ``check``, ``inspect``,
plus the ``policy`` template that ``fit --policy`` reads and the bundled ``demo``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mlrails.cli.console import console, fail, progress
from mlrails.errors import MlrailsError, echo


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
            help="Held-out calibration data (same columns). Default: cross-fitted on the "
            "training data (out-of-fold scores; scikit-learn models are refitted per fold).",
        ),
    ] = None,
    silent_failure_rate: Annotated[
        float | None,
        typer.Option(
            "--silent-failure-rate",
            help="Certify at most this share of wrong answers among 200s (e.g. 0.05); rows "
            "outside the certified region answer 203. Overrides the policy's budget.",
        ),
    ] = None,
    false_alarm_rate: Annotated[
        float | None,
        typer.Option(
            "--false-alarm-rate",
            help="Share of normal rows OOD and adversarial detection together may refuse "
            "(default 0.01). Overrides the policy's budget.",
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
        budget = {
            k: v
            for k, v in (
                ("silent_failure_rate", silent_failure_rate),
                ("false_alarm_rate", false_alarm_rate),
            )
            if v is not None
        }
        if budget:
            pol = Policy.coerce(
                {**pol.model_dump(), "budget": {**pol.budget.model_dump(), **budget}}
            )
        # contract, folds, detectors, reliability, error budget, drift reference, saving
        total = 6 + pol.cross_fit.fold_count(len(X))
        with progress() as bar:
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
        fail(str(exc))
    _print_summary(rails)
    console.print(f"[green]artifact written:[/] {out}  (hash {digest[:16]})")
    if sign_key is not None:
        console.print(f"[green]signed with[/] {sign_key}")


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
        fail(str(exc))
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
        fail(str(exc))
    if schema:
        sys.stdout.write(json.dumps(to_json_schema(rails.contract), indent=2) + "\n")
        return
    _print_summary(rails)
    console.print(f"artifact hash: {rails.artifact_hash}")


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


def demo(
    rows: Annotated[int, typer.Option(help="Rows per kind of input sent through the guard.")] = 200,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train a model on bundled data, fit rails, and send good and bad inputs through them."""
    from mlrails.demo import render_demo, run_demo

    try:
        report = run_demo(n_rows=rows, seed=seed, progress=lambda m: console.log(m))
    except MlrailsError as exc:
        fail(str(exc))
    render_demo(report, console)


def _split_target(frame: Any, target: str, path: Path) -> tuple[Any, Any]:
    if target not in frame.columns:
        fail(f"{path}: no column {echo(target)} (columns: {', '.join(map(str, frame.columns))})")
    if len(frame) == 0:
        fail(f"{path}: the table has a header but no rows")
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
    if s.budget is not None:
        _print_budget(s.budget)
    for note in s.notes:
        console.print(f"note: {note}")


def _print_budget(b: Any) -> None:
    """The budgets and the trade-off they were chosen from (``rails.summary.budget``)."""
    console.print(f"calibration rows: {b.calibration_method}")
    if b.false_alarm_rate is not None:
        console.print(
            f"false-alarm budget (OOD + adversarial together): {_pct(b.false_alarm_rate)}, "
            f"realised on calibration rows {_pct(b.realised_false_alarm)}"
        )
    if b.tradeoff:
        table = Table(
            title=f"silent failures vs coverage on {b.n_certifying} certifying rows "
            f"(error score: {b.error_score})"
        )
        for col in ("wrong among 200s ≤", "coverage (measured)", f"certified ({b.confidence:.0%})"):
            table.add_column(col)
        for t in b.tradeoff:
            table.add_row(_pct(t.alpha), _pct(t.coverage), _pct(t.certified_coverage))
        console.print(table)
    if b.error_auroc is not None:
        console.print(
            f"error detection AUROC: {b.error_score} {_fmt(b.error_auroc)} vs max probability "
            f"{_fmt(b.baseline_auroc)}"
        )
    if b.silent_failure_rate is None:
        console.print(
            "silent-failure budget: not set (policy budget.silent_failure_rate, e.g. 0.05, "
            "answers 203 outside the certified region)"
        )
        return
    console.print(
        f"silent-failure budget: at most {_pct(b.silent_failure_rate)} wrong among 200s at "
        f"{b.confidence:.0%} confidence → certified coverage {_pct(b.certified_coverage)} "
        f"(error there {_pct(b.certified_error)}, upper bound {_pct(b.upper_bound)})"
    )
    if b.guarantee:
        console.print(f"guarantee: {b.guarantee}")


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.2%}"
