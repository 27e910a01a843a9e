"""``mlrails score`` as a real subprocess: the template, thresholds, reports, saved history
and one-line usage errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlrails.score.answers import parse_answers
from mlrails.score.rubrics import ITEMS
from runcli import run_cli


def _ok(*args: object, cwd: Path) -> str:
    r = run_cli("score", *args, cwd=cwd)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def _usage_error(*args: object, cwd: Path, says: str) -> None:
    r = run_cli("score", *args, cwd=cwd)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert says in r.stderr, r.stderr


def _answers(path: Path, scores: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"answers": scores}), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "project"
    p.mkdir()
    return p


def _score_json(tmp_path: Path, project: Path, *args: object) -> dict[str, Any]:
    out = tmp_path / "score.json"
    _ok("--project", project, "--json", out, *args, cwd=tmp_path)
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_init_prints_a_template_that_parses_back(tmp_path: Path) -> None:
    text = _ok("--init", cwd=tmp_path)
    assert parse_answers(text, "stdout") == ({}, [])
    assert list(yaml.safe_load(text)["answers"]) == list(ITEMS)
    for item in ITEMS.values():
        assert f"  {item.id}:\n" in text


def test_help_has_examples_and_exit_codes(tmp_path: Path) -> None:
    out = _ok("--help", cwd=tmp_path)
    for needle in ("--init", "--min-mltest", "--history", "--no-save", "Examples", "Exit codes"):
        assert needle in out


def test_usage_errors_are_one_line(tmp_path: Path, project: Path) -> None:
    _usage_error("--history", cwd=tmp_path, says="--history needs --store")
    _usage_error("--history", "--store", tmp_path / "nope.db", cwd=tmp_path, says="no such store")
    _usage_error("--init", "--history", cwd=tmp_path, says="do not go together")
    _usage_error(
        "--project", project, "--json", tmp_path / "no" / "dir" / "s.json",
        cwd=tmp_path, says="does not exist",
    )  # fmt: skip
    _usage_error("--project", tmp_path / "missing", cwd=tmp_path, says="not a directory")
    _usage_error("--min", "100", cwd=tmp_path, says="--min 100: the robustness total is between")
    _usage_error("--min-mltest", "7.5", cwd=tmp_path, says="ML Test Score is between 0 and 7")


def test_scores_with_bad_answers_and_writes_reports(tmp_path: Path, project: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "answers:\n"
        '  robustness.data.privacy: {score: 3, note: "<script>alert(1)</script>"}\n'
        "  robustness.data.privasy: 2\n"
        "  mltest.model.2: 0.7\n",
        encoding="utf-8",
    )
    html = tmp_path / "score.html"
    data = _score_json(tmp_path, project, "--answers", answers, "--html", html)
    privacy = next(i for i in data["items"] if i["id"] == "robustness.data.privacy")
    assert privacy["source"] in ("answer", "evidence")
    if privacy["source"] == "answer":
        assert privacy["score"] == 3
    problems = [g["problem"] for g in data["gaps"] if g["source"] == str(answers)]
    assert problems == [
        "line 3: robustness.data.privasy: unknown item id; did you mean robustness.data.privacy?",
        "line 4: mltest.model.2: score 0.7 is not on the item's scale: use one of 0, 0.5, 1",
    ]
    total = sum(i["score"] for i in data["items"] if i["rubric"] == "robustness")
    assert data["robustness"]["score"] == total
    sums = [s["score"] for s in data["mltest"]["sections"]]
    assert data["mltest"]["score"] == min(sums)
    page = html.read_text(encoding="utf-8")
    assert "<script" not in page and all(f'<tr id="{i}">' in page for i in ITEMS)
    # the terminal shows the totals and the gaps
    r = run_cli("score", "--project", project, "--answers", answers, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"robustness total {data['robustness']['score']:g}/88" in r.stdout
    assert "did you mean robustness.data.privacy?" in r.stdout
    assert "Traceback" not in r.stderr


def test_min_and_min_mltest_exit_codes(tmp_path: Path, project: Path) -> None:
    answers = _answers(
        tmp_path / "a.yaml",
        {
            **{i: 2 for i in ITEMS if i.startswith("robustness.")},
            **{i: 0.5 for i in ITEMS if i.startswith("mltest.")},
        },
    )
    data = _score_json(tmp_path, project, "--answers", answers)
    robustness, mltest = data["robustness"]["score"], data["mltest"]["score"]
    assert robustness < 88 and mltest < 7

    def code(*args: object) -> int:
        r = run_cli("score", "--project", project, "--answers", answers, *args, cwd=tmp_path)
        return r.returncode

    assert code("--min", robustness) == 0
    assert code("--min", robustness + 0.5) == 1
    assert code("--min-mltest", mltest) == 0
    assert code("--min-mltest", mltest + 0.5) == 1
    assert code("--min", robustness, "--min-mltest", mltest + 0.5) == 1
    r = run_cli(
        "score", "--project", project, "--answers", answers, "--min", robustness + 1, cwd=tmp_path
    )
    assert r.returncode == 1
    assert re.search(r"below the threshold: robustness total [\d.]+/88 < --min", r.stderr)


def test_history_lists_stored_runs_in_order(tmp_path: Path, project: Path) -> None:
    db = tmp_path / "scores.db"
    low = _answers(tmp_path / "low.yaml", {i: 0 for i in ITEMS})
    high = _answers(tmp_path / "high.yaml", {i: ITEMS[i].max_score for i in ITEMS})
    r = run_cli("score", "--history", "--store", db, cwd=tmp_path)
    assert r.returncode == 2  # nothing stored yet: no database
    first = _score_json(tmp_path, project, "--answers", low, "--store", db)
    second = _score_json(tmp_path, project, "--answers", high, "--store", db)
    _ok("--project", project, "--answers", high, "--store", db, "--no-save", cwd=tmp_path)
    assert first["robustness"]["score"] < second["robustness"]["score"]
    out = _ok("--history", "--store", db, cwd=tmp_path)
    rows = [ln for ln in out.splitlines() if re.match(r"\s*│\s*\d+\s*│", ln)]
    assert len(rows) == 2, out  # --no-save added nothing
    for row, data in zip(rows, (first, second), strict=True):
        cells = [c.strip() for c in row.strip().strip("│").split("│")]
        assert float(cells[2]) == data["robustness"]["score"]
        assert float(cells[4]) == data["mltest"]["score"]
    r1, r2 = first["robustness"]["score"], second["robustness"]["score"]
    assert f"robustness {r1:g} → {r2:g}/88 (+{r2 - r1:g}" in out
    html = tmp_path / "h.html"
    _ok("--project", project, "--store", db, "--html", html, "--no-save", cwd=tmp_path)
    assert 'id="trend"' in html.read_text(encoding="utf-8")


def test_serve_print_settings_is_evidence_for_the_score(tmp_path: Path, project: Path) -> None:
    """`mlrails serve --print-settings` writes what `score --serve-settings` reads: turning the
    drift job and the webhook on raises the monitoring item by exactly those two points."""

    def monitoring(*serve_args: str) -> dict[str, Any]:
        r = run_cli("serve", "rails", "--print-settings", *serve_args, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        (tmp_path / "serve.json").write_text(r.stdout)
        _ok(
            "--serve-settings",
            "serve.json",
            "--project",
            str(project),
            "--json",
            "s.json",
            cwd=tmp_path,
        )
        doc = json.loads((tmp_path / "s.json").read_text())
        return next(i for i in doc["items"] if i["id"] == "robustness.deployment.monitoring")

    off = monitoring("--drift-every", "off")
    on = monitoring("--drift-every", "5m", "--drift-webhook", "https://hooks.example/x")
    assert on["source"] == off["source"] == "evidence"
    assert on["score"] - off["score"] == 2
    assert any("serve.json" in e for e in on["evidence"])
