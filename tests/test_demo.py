"""The end-to-end demo: in-process (``run_demo`` / ``render_demo``) and as ``mlrails demo``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from mlrails.demo import DemoCase, DemoReport, render_demo, run_demo

pytestmark = pytest.mark.slow

N_ROWS = 100
CASES = ("clean", "malformed", "contract-violating", "out-of-distribution", "noisy", "adversarial")


@pytest.fixture(scope="module")
def report() -> DemoReport:
    return run_demo(n_rows=N_ROWS, seed=0)


def _case(report: DemoReport, name: str) -> DemoCase:
    return next(c for c in report.cases if c.name == name)


def _share(case: DemoCase, *codes: int) -> float:
    return sum(case.status_counts.get(code, 0) for code in codes) / case.n


def test_every_case_is_reported(report: DemoReport) -> None:
    assert [c.name for c in report.cases] == list(CASES)
    for case in report.cases:
        assert case.n == N_ROWS
        assert sum(case.status_counts.values()) == N_ROWS
    assert report.test_accuracy > 0.9
    assert len(report.artifact_hash) == 64


def test_malformed_rows_all_get_400(report: DemoReport) -> None:
    case = _case(report, "malformed")
    assert case.status_counts == {400: N_ROWS}
    assert case.example is not None
    assert case.example["status"] == 400
    assert case.example["errors"]  # per-field evidence in the problem document


def test_contract_violating_rows_mostly_get_400(report: DemoReport) -> None:
    assert _share(_case(report, "contract-violating"), 400) >= 0.9


def test_clean_rows_mostly_get_200(report: DemoReport) -> None:
    case = _case(report, "clean")
    # the demo's policy: a 5% false-alarm budget and a 2% silent-failure budget, whose
    # certified region leaves the least confident clean rows at 203
    assert _share(case, 200) >= 0.7
    assert case.silent_with_rails is not None
    assert case.silent_with_rails <= 0.05 * case.status_counts.get(200, 0) + 2
    assert case.status_counts.get(400, 0) == 0  # held-out rows never violate the contract


def test_adversarial_rows_are_caught(report: DemoReport) -> None:
    case = _case(report, "adversarial")
    assert case.wrong_bare is not None and case.silent_with_rails is not None
    assert case.wrong_bare >= 0.6 * case.n  # the attack works on the bare model
    assert case.silent_with_rails <= 0.2 * case.wrong_bare  # with rails few go out as 200
    assert case.caught == case.wrong_bare - case.silent_with_rails


def test_rails_never_add_silent_failures(report: DemoReport) -> None:
    for case in report.cases:
        if case.wrong_bare is not None:
            assert case.silent_with_rails is not None
            assert 0 <= case.silent_with_rails <= case.wrong_bare


def test_render_demo_prints_every_case(report: DemoReport) -> None:
    buf = io.StringIO()
    render_demo(report, Console(file=buf, width=200, color_system=None))
    out = buf.getvalue()
    for name in CASES:
        assert name in out
    assert "silent failures" in out
    assert report.artifact_hash[:12] in out


def test_mlrails_demo_command() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"})
    start = time.perf_counter()
    res = subprocess.run(
        [str(Path(sys.executable).with_name("mlrails")), "demo", "--rows", "50"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - start
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Traceback" not in res.stdout + res.stderr
    assert "silent failures" in res.stdout
    assert elapsed < 60


def test_drift_alarms_on_moved_populations_only(report: DemoReport) -> None:
    drift = {d.name: d for d in report.drift}
    assert set(drift) == {c.name for c in report.cases if c.name != "malformed"}
    assert drift["clean"].alarming == []
    # shuffling keeps every input's marginal distribution: only the model's side moves
    # (refusals show as missing predictions, confidence drops)
    assert set(drift["out-of-distribution"].alarming) <= {"prediction", "confidence"}
    assert drift["out-of-distribution"].alarming
    assert len(drift["adversarial"].alarming) >= 5
    assert drift["noisy"].alarming
