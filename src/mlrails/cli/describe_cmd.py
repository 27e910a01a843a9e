"""``mlrails describe``: write the descriptors that can be measured, list what the team owes."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from mlrails.cli.console import console, fail, progress, pydantic_message
from mlrails.cli.options import parse_window, time_option
from mlrails.errors import MlrailsError, echo

if TYPE_CHECKING:
    import pandas as pd

    from mlrails.descriptors import Descriptor, DescriptorKind
    from mlrails.serve.settings import ServeSettings


class Bundled(StrEnum):
    """scikit-learn data sets ``mlrails describe --bundled`` can use (as ``mlrails bench``)."""

    breast_cancer = "breast_cancer"
    wine = "wine"


def describe(
    artifact: Annotated[
        Path | None,
        typer.Argument(help="Artifact directory written by `mlrails fit` (for the trained model)."),
    ] = None,
    init: Annotated[
        bool,
        typer.Option("--init", help="Print a commented system-context template (YAML) and exit."),
    ] = False,
    train: Annotated[
        Path | None,
        typer.Option("--train", help="Training data, .csv or .parquet (needs --target)."),
    ] = None,
    target: Annotated[
        str | None, typer.Option("--target", "-t", help="Name of the label column.")
    ] = None,
    bundled: Annotated[
        Bundled | None,
        typer.Option(
            help="Use scikit-learn's bundled data instead of files: 70% training rows, 30% "
            "evaluation rows (stratified, seed 0), as `mlrails bench` splits them."
        ),
    ] = None,
    eval_file: Annotated[
        Path | None,
        typer.Option(
            "--eval", help="Held-out test data with the --target column: the test metrics."
        ),
    ] = None,
    context: Annotated[
        Path | None,
        typer.Option(help="System context YAML filled by the team (start: --init)."),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            help="Decision log of `mlrails serve` (SQLite path or postgresql:// URL): the "
            "production data."
        ),
    ] = None,
    window: Annotated[
        str | None,
        typer.Option(help="Production data of the last WINDOW only: 30m, 1h, 7d, 2w."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Production data at or after this ISO 8601 time.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Production data before this ISO 8601 time.")
    ] = None,
    serve_config: Annotated[
        Path | None,
        typer.Option(
            help="Settings of `mlrails serve` (YAML/JSON: host, port, model_timeout_s, ...) "
            "for the production environment; default: serve's defaults."
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Directory for the <kind>.json descriptors.")
    ] = Path("descriptors"),
    model_file: Annotated[
        Path | None,
        typer.Option("--model", help="Model file, when the artifact does not bundle one."),
    ] = None,
    trust: Annotated[bool, typer.Option("--trust", help="See `mlrails fit --help`.")] = False,
    repeats: Annotated[
        int, typer.Option(min=1, help="Timed predictions for the inference-time percentiles.")
    ] = 30,
    timing_rows: Annotated[
        int, typer.Option(min=1, help="Rows of the timed batch predictions.")
    ] = 256,
) -> None:
    """Measure the ML-enabled-system descriptors (format v1.2) instead of typing them.

    From the data: training data (schema, statistics, label distribution). From the
    artifact: trained model (framework, version, file hash, outputs, metrics on the
    calibration split and on --eval, inference time p50/p99, peak memory, CPUs). From this
    machine: development environment (Python, libraries, CPUs, GPUs, memory) and production
    environment (with --serve-config). From the decision log (--store, --window): production
    data, binned like the training data so they compare. The system context is the team's:
    a YAML file started with --init. Required fields nobody can measure are written as
    "TO FILL"; the summary counts them. Raw data and data pipeline are left to the team.

    Examples:

      mlrails describe --init > context.yaml                # fill it in

      mlrails describe rails/ --train train.csv --target label --eval test.csv \\
          --context context.yaml --store decisions.db --window 7d --out descriptors/

      mlrails describe rails/ --bundled breast_cancer       # no files needed

    Exit codes: 0 written, 2 bad input.
    """
    from mlrails.describe import SYSTEM_CONTEXT_TEMPLATE

    if init:
        sys.stdout.write(SYSTEM_CONTEXT_TEMPLATE)
        return
    try:
        written, notes = _describe(
            artifact=artifact,
            train=train,
            target=target,
            bundled=bundled,
            eval_file=eval_file,
            context=context,
            store=store,
            window=window,
            since=since,
            until=until,
            serve_config=serve_config,
            out=out,
            model_file=model_file,
            trust=trust,
            repeats=repeats,
            timing_rows=timing_rows,
        )
    except MlrailsError as exc:
        fail(str(exc))
    except ValidationError as exc:  # a measured value the format refuses: say which
        fail(f"cannot build a descriptor: {pydantic_message(exc)}")
    _summary(written, notes, out)


def _describe(
    *,
    artifact: Path | None,
    train: Path | None,
    target: str | None,
    bundled: Bundled | None,
    eval_file: Path | None,
    context: Path | None,
    store: str | None,
    window: str | None,
    since: str | None,
    until: str | None,
    serve_config: Path | None,
    out: Path,
    model_file: Path | None,
    trust: bool,
    repeats: int,
    timing_rows: int,
) -> tuple[dict[DescriptorKind, Descriptor], dict[DescriptorKind, str]]:
    """Measure what the options allow; the descriptors and, per kind, where it came from."""
    from mlrails import describe as d
    from mlrails.descriptors import write_descriptor_dir

    if train is not None and bundled is not None:
        raise MlrailsError("give either --train or --bundled, not both")
    if train is not None and not target:
        raise MlrailsError("--train needs --target (the label column)")
    if window is not None and since is not None:
        raise MlrailsError("give either --window or --since, not both")
    if store is None and (window or since or until):
        raise MlrailsError("--window/--since/--until select production data: give --store")
    start = datetime.now(UTC) - parse_window(window) if window else time_option(since, "--since")
    end = time_option(until, "--until")
    settings = _settings(serve_config) if serve_config is not None else None
    system_context = d.system_context_from_yaml(context) if context is not None else None

    descriptors: dict[DescriptorKind, Descriptor] = {}
    notes: dict[DescriptorKind, str] = {}
    steps = 2 + (artifact is not None) + (train is not None or bundled is not None)
    steps += (store is not None) + (system_context is not None)
    with progress() as bar:
        job = bar.add_task("describing", total=steps)

        def step(message: str) -> None:
            bar.update(job, description=message)

        X_train = y_train = X_test = y_test = None
        data_name = ""
        if bundled is not None:
            X_train, y_train, X_test, y_test = _bundled(bundled)
            data_name, target = f"{bundled.value} (scikit-learn, 70% split)", "target"
        elif train is not None:
            X_train, y_train = _read(train, str(target))
            data_name = train.name
        if eval_file is not None:
            X_test, y_test = _read(eval_file, str(target or "target"))
        training = None
        if X_train is not None:
            step("describing the training data")
            training = d.describe_training_data(
                X_train, y_train, name=data_name, target=str(target)
            )
            descriptors["training_data"] = training
            notes["training_data"] = f"{len(X_train)} rows of {data_name}"
            bar.advance(job)
        rails = None
        if artifact is not None:
            import mlrails

            step("loading the artifact")
            rails = mlrails.load(artifact, model_file, trust=trust)
            cal = d.calibration_split(rails, X_train, y_train) if X_train is not None else None
            descriptors["trained_model"] = d.describe_trained_model(
                artifact,
                *(cal if cal is not None else (None, None)),
                X_test=X_test,
                y_test=y_test,
                eval_name="calibration split"
                + (" (re-drawn from the training data)" if cal else " (as recorded)"),
                test_name=_test_name(eval_file, bundled),
                test_file=None if eval_file is None else eval_file.resolve().as_uri(),
                training_data_identifier=training.dataset_identifier if training else None,
                rails=rails,
                timing_rows=timing_rows,
                repeats=repeats,
                progress=step,
            )
            notes["trained_model"] = (
                "metrics on the calibration split "
                + ("(re-drawn)" if cal else "(recorded in the artifact)")
                + (", test metrics on the evaluation rows" if X_test is not None else "")
            )
            bar.advance(job)
        step("describing this machine")
        descriptors["development_environment"] = d.describe_development_environment(out.parent)
        notes["development_environment"] = "this machine"
        bar.advance(job)
        descriptors["production_environment"] = d.describe_production_environment(
            settings, store=store, path=out.parent
        )
        notes["production_environment"] = (
            f"{serve_config} on this machine" if serve_config else "serve defaults, this machine"
        )
        bar.advance(job)
        if store is not None:
            step("reading the decision log")
            descriptors["production_data"] = d.describe_production_data(
                store,
                since=start,
                until=end,
                contract=rails.contract if rails is not None else None,
                training=training,
            )
            notes["production_data"] = f"decision log {store}" + (
                f", last {window}" if window else ""
            )
            bar.advance(job)
        if system_context is not None:
            descriptors["system_context"] = system_context
            notes["system_context"] = str(context)
            bar.advance(job)
        step("writing the descriptors")
        write_descriptor_dir(descriptors.values(), out)
    return descriptors, notes


def _summary(
    written: dict[DescriptorKind, Descriptor], notes: dict[DescriptorKind, str], out: Path
) -> None:
    from mlrails.describe import fields_to_fill
    from mlrails.descriptors import DESCRIPTOR_KINDS, descriptor_filename

    hints: dict[str, str] = {
        "system_context": "the team: mlrails describe --init > context.yaml, then --context",
        "raw_data": "the team (sources, collection, rights)",
        "data_pipeline": "the team (inputs, steps, error handling)",
        "training_data": "give --train/--target or --bundled",
        "trained_model": "give the ARTIFACT directory",
        "production_data": "give --store (and --window)",
    }
    table = Table(title=f"descriptors in {out}")
    for column in ("descriptor", "file", "measured from", "fields TO FILL"):
        table.add_column(column)
    for kind in DESCRIPTOR_KINDS:
        descriptor = written.get(kind)
        if descriptor is None:
            table.add_row(kind, "[yellow]not written[/]", hints.get(kind, ""), "-")
            continue
        todo = len(fields_to_fill(descriptor))
        table.add_row(
            kind,
            descriptor_filename(kind),
            notes.get(kind, ""),
            f"[yellow]{todo}[/]" if todo else "0",
        )
    console.print(table)
    model = written.get("trained_model")
    if model is not None:
        first = getattr(model, "decisions_assumptions", [""])[0]
        console.print(first, highlight=False)
    console.print(
        f'[green]{len(written)} descriptors written to {out}[/]; replace every "TO FILL" '
        "(mlrails mismatch reads them)",
        highlight=False,
    )


def _test_name(eval_file: Path | None, bundled: Bundled | None) -> str | None:
    if eval_file is not None:
        return eval_file.name
    return None if bundled is None else f"{bundled.value} 30% test split (seed 0)"


def _read(path: Path, target: str) -> tuple[pd.DataFrame, Any]:
    from mlrails.tabular_io import read_table

    frame = read_table(path)
    if target not in frame.columns:
        raise MlrailsError(
            f"{path}: no column {echo(target)} (columns: {', '.join(map(str, frame.columns))})"
        )
    if len(frame) == 0:
        raise MlrailsError(f"{path}: the table has a header but no rows")
    return frame.drop(columns=[target]), frame[target].to_numpy()


def _bundled(name: Bundled) -> tuple[pd.DataFrame, Any, pd.DataFrame, Any]:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    loader = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}
    data = loader[name.value](as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        data.data, data.target.to_numpy(), test_size=0.3, random_state=0, stratify=data.target
    )
    return X_tr.reset_index(drop=True), y_tr, X_te.reset_index(drop=True), y_te


def _settings(path: Path) -> ServeSettings:
    import yaml

    from mlrails.serve.settings import ServeSettings

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MlrailsError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise MlrailsError(f"{path}: not valid YAML/JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise MlrailsError(f"{path}: expected a mapping of serve settings (host, port, ...)")
    try:
        return ServeSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MlrailsError(f"{path}: {problems}") from None
