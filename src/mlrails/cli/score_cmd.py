"""``mlrails score``: the ML System Robustness Score and the ML Test Score from evidence."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from mlrails.cli.console import console, fail, open_store
from mlrails.errors import MlrailsError
from mlrails.score.rubrics import MLTEST_MAX, ROBUSTNESS_MAX

if TYPE_CHECKING:
    from mlrails.score.history import ScoreHistoryEntry
    from mlrails.score.report import ScoreReport


#: the most robustness points, as the help and the messages print it
_TOTAL = f"{ROBUSTNESS_MAX:g}"

#: the help of ``mlrails score`` (its docstring): the total comes from the rubrics
HELP = f"""Score production readiness: the ML System Robustness Score (22 items, 0-4 each, out of
    {_TOTAL}; below 25 not ready, 25-40 adequate, 40+ robust, above 60 best in class) and the ML
    Test Score (28 tests, 0 / 0.5 manual / 1 automated; final = minimum of the four section
    sums).

    Evidence first: every item mlrails can check is scored from the artifact, descriptors,
    bench records, service settings, the store and the project's CI files; the other items
    come from the answers file. Each item shows its evidence, the rule that scored it and the
    next step to raise it. Missing or corrupt sources and bad answers are listed as gaps; the
    score is still computed from what is valid.

    Examples:

      mlrails score --init > answers.yaml        # then fill in what evidence cannot show

      mlrails score --artifact rails/ --bench bench-results/record.json --answers answers.yaml

      mlrails score --artifact rails/ --store mlrails.db --html score.html --min 40

      mlrails score --store mlrails.db --history  # the stored scores and their trend

    --min N gates the robustness total (out of {_TOTAL}), --min-mltest N the ML Test Score final.

    Exit codes: 0 ok, 1 below --min or --min-mltest, 2 bad usage.
"""


def score(
    artifact: Annotated[
        Path | None,
        typer.Option(help="Artifact directory written by `mlrails fit` (contract, calibration)."),
    ] = None,
    descriptors: Annotated[
        Path | None,
        typer.Option(help="Directory of ML-system descriptors (`mlrails describe`)."),
    ] = None,
    bench: Annotated[
        list[Path] | None,
        typer.Option(
            "--bench", help="Benchmark record (record.json of `mlrails bench`); repeatable."
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            help="Database of `mlrails serve` / `mlrails bench` (SQLite path or postgresql:// "
            "URL): read as evidence, and every score is saved there for --history."
        ),
    ] = None,
    serve_settings: Annotated[
        Path | None,
        typer.Option(help="The service's settings (JSON or YAML with ServeSettings fields)."),
    ] = None,
    project: Annotated[
        Path,
        typer.Option(help="Repository root, scanned for CI configuration, containers, tests."),
    ] = Path("."),
    answers: Annotated[
        Path | None,
        typer.Option(help="YAML answers for the items evidence cannot score (see --init)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the report as JSON here.")
    ] = None,
    html_out: Annotated[
        Path | None,
        typer.Option("--html", help="Also write a self-contained HTML report here."),
    ] = None,
    min_robustness: Annotated[
        float | None,
        typer.Option(
            "--min",
            help=f"Exit 1 when the robustness total (out of {_TOTAL}) is below this (for CI).",
        ),
    ] = None,
    min_mltest: Annotated[
        float | None,
        typer.Option(
            "--min-mltest",
            help="Exit 1 when the ML Test Score final (minimum of the section sums) is below.",
        ),
    ] = None,
    history: Annotated[
        bool,
        typer.Option("--history", help="Show the scores stored in --store and their trend."),
    ] = False,
    limit: Annotated[
        int, typer.Option(help="How many stored scores --history and --html show.")
    ] = 20,
    no_save: Annotated[
        bool, typer.Option("--no-save", help="Do not save this score in --store.")
    ] = False,
    init: Annotated[
        bool,
        typer.Option("--init", help="Print a commented answers template (every item) and exit."),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Rubric totals only, without the items table.")
    ] = False,
) -> None:
    if min_robustness is not None and not 0 <= min_robustness <= ROBUSTNESS_MAX:
        fail(f"--min {min_robustness:g}: the robustness total is between 0 and {_TOTAL}")
    if min_mltest is not None and not 0 <= min_mltest <= MLTEST_MAX:
        fail(f"--min-mltest {min_mltest:g}: the ML Test Score is between 0 and {MLTEST_MAX:g}")
    if limit < 1:
        fail(f"--limit {limit}: give at least 1")
    if init:
        if history:
            fail("--init and --history do not go together")
        sys.stdout.write(_template())
        return
    if history:
        if store is None:
            fail("--history needs --store (the database the scores were saved in)")
        _show_history(store, limit)
        return
    for out in (json_out, html_out):
        if out is not None and not out.parent.is_dir():
            fail(f"{out}: directory {out.parent} does not exist")
        if out is not None and out.is_dir():
            fail(f"{out}: is a directory")
    if not project.is_dir():
        fail(f"--project {project}: not a directory")
    try:
        report = _score(
            artifact, descriptors, tuple(bench or ()), store, serve_settings, project, answers
        )
    except MlrailsError as exc:
        fail(str(exc))
    from mlrails.score import render

    trend: list[ScoreHistoryEntry] = []
    if store is not None and not no_save:
        trend = _save(store, report, limit)
    elif store is not None and html_out is not None:
        trend = _load_history(store, limit, quiet_missing=True)
    render.print_report(report, console, items=not quiet, history=trend)
    try:
        if json_out is not None:
            json_out.write_text(render.to_json(report), encoding="utf-8")
            sys.stderr.write(f"JSON report written to {json_out}\n")
        if html_out is not None:
            html_out.write_text(render.to_html(report, trend), encoding="utf-8")
            sys.stderr.write(f"HTML report written to {html_out}\n")
    except OSError as exc:
        fail(f"cannot write the report: {exc.strerror or exc}")
    below = []
    if min_robustness is not None and report.robustness.score < min_robustness:
        below.append(
            f"robustness total {report.robustness.score:g}/{_TOTAL} < --min {min_robustness:g}"
        )
    if min_mltest is not None and report.mltest.score < min_mltest:
        below.append(f"ML Test Score {report.mltest.score:g} < --min-mltest {min_mltest:g}")
    if below:
        sys.stderr.write("below the threshold: " + "; ".join(below) + "\n")
        raise typer.Exit(1)


score.__doc__ = HELP


def _template() -> str:
    from mlrails.score.answers import init_template

    return init_template(_automatic())


def _automatic() -> set[str]:
    """The ids of the items a rule can score from evidence (empty if the rules do not say)."""
    try:
        from mlrails.score import rules
    except ImportError:
        return set()
    ids = getattr(rules, "AUTOMATIC", None)
    if ids is None:
        table = getattr(rules, "RULES", None)
        ids = table.keys() if isinstance(table, dict) else ()
    return {str(i) for i in ids}


def _score(
    artifact: Path | None,
    descriptors: Path | None,
    bench: tuple[Path, ...],
    store: str | None,
    serve_settings: Path | None,
    project: Path,
    answers: Path | None,
) -> ScoreReport:
    from mlrails.score import answers as answers_mod
    from mlrails.score import engine, evidence, rules
    from mlrails.score.sources import EvidenceSources

    sources = EvidenceSources(
        artifact=artifact,
        descriptors=descriptors,
        bench=bench,
        store=store,
        serve_settings=serve_settings,
        project=project,
    )
    sys.stderr.write("collecting evidence...\n")
    facts = evidence.collect(sources)
    results = rules.evaluate(facts)
    given, answer_gaps = answers_mod.read_answers(answers)
    gaps = (*facts.gaps, *answer_gaps)
    return engine.combine(results, given, gaps, sources.to_dict())


def _save(target: str, report: ScoreReport, limit: int) -> list[ScoreHistoryEntry]:
    """Save ``report`` in the store; the stored history, this score last."""
    from mlrails.score import history

    with open_store(target, create=True) as s:
        try:
            score_id = history.save(s, report)
            entries = history.load(s, limit)
        except MlrailsError as exc:
            fail(str(exc))
        shown = s.display if "://" in target else target
        sys.stderr.write(f"score saved as #{score_id} in {shown}\n")
    return entries


def _load_history(target: str, limit: int, *, quiet_missing: bool) -> list[ScoreHistoryEntry]:
    from mlrails.score import history

    if quiet_missing and "://" not in target and not Path(target).expanduser().is_file():
        return []
    with open_store(target, create=False) as s:
        try:
            return history.load(s, limit)
        except MlrailsError as exc:
            fail(str(exc))


def _show_history(target: str, limit: int) -> None:
    from mlrails.score import render

    entries = _load_history(target, limit, quiet_missing=False)
    if not entries:
        console.print(f"no scores stored in {target} yet", highlight=False)
        return
    render.print_history(entries, console)
