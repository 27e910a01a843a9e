"""End-to-end tests of the ``mlrails`` console script, run in a subprocess on real files.

One random forest is trained on scikit-learn's bundled breast-cancer data and saved as
``.skops`` (and as a pickle); ``mlrails fit`` runs once per module and every other test
reads or copies that artifact.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import joblib
import pandas as pd
import pytest
import skops.io as sio
import yaml
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier

pytestmark = pytest.mark.slow

MLRAILS = Path(sys.executable).with_name("mlrails")
INVALID_INPUT = "https://mlrails.dev/problems/invalid-input"
TEXT_FIELD = "mean texture"  # gets "abc" in the malformed row
UNIT_FIELD = "mean area"  # multiplied by 1000 in the contract-violating row


def run_cli(
    *args: object, columns: int = 200, timeout: float = 120, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real console script; a wide terminal so Rich does not truncate table cells."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "CLICOLOR_FORCE")}
    env.update({"COLUMNS": str(columns), "NO_COLOR": "1", "TERM": "dumb"})
    return subprocess.run(
        [str(MLRAILS), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
        check=False,
    )


def assert_one_line_error(res: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The documented error contract: exit code 2, one line on stderr, no traceback."""
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    line = lines[0]
    for needle in needles:
        assert needle.lower() in line.lower(), (needle, line)
    return line


def json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@dataclass
class Workspace:
    root: Path
    model: Path  # model.skops
    pickle: Path  # the same model as model.pkl
    train: Path  # training table with a "target" column
    features: list[str]
    X: pd.DataFrame
    rails: Path  # artifact written by `mlrails fit`
    fit_result: subprocess.CompletedProcess[str]

    def write(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.root / name
        frame.to_csv(path, index=False)
        return path

    def copy_rails(self, name: str) -> Path:
        dest = self.root / name
        shutil.copytree(self.rails, dest)
        return dest


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("cli")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = RandomForestClassifier(n_estimators=50, random_state=0).fit(X, y)
    sio.dump(model, root / "model.skops")
    joblib.dump(model, root / "model.pkl")
    train = X.assign(target=y)
    train.to_csv(root / "train.csv", index=False)
    rails = root / "rails"
    res = run_cli(
        "fit", root / "model.skops", root / "train.csv", "--target", "target", "--out", rails
    )
    return Workspace(
        root=root,
        model=root / "model.skops",
        pickle=root / "model.pkl",
        train=root / "train.csv",
        features=list(X.columns),
        X=X,
        rails=rails,
        fit_result=res,
    )


# -- help ----------------------------------------------------------------------------------
def test_help_lists_the_commands() -> None:
    res = run_cli("--help")
    assert res.returncode == 0, res.stderr
    for command in ("fit", "check", "inspect", "policy", "demo"):
        assert command in res.stdout
    assert "verdict" in res.stdout


def test_fit_help_describes_the_options() -> None:
    res = run_cli("fit", "--help")
    assert res.returncode == 0, res.stderr
    for option in ("--target", "--out", "--calib", "--policy", "--task", "--trust"):
        assert option in res.stdout
    assert ".skops" in res.stdout


# -- fit -------------------------------------------------------------------------------------
def test_fit_prints_summary_and_writes_artifact(ws: Workspace) -> None:
    res = ws.fit_result
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    out = res.stdout
    for name in ("validation", "ood", "adversarial:", "reliability"):
        assert name in out
    assert "realised FPR" in out
    assert "1.00%" in out  # the default 1% false-alarm target
    assert "artifact written" in out

    manifest = json.loads((ws.rails / "manifest.json").read_text())
    assert len(manifest["artifact_hash"]) == 64
    int(manifest["artifact_hash"], 16)
    assert manifest["artifact_hash"][:16] in out
    assert manifest["task"] == "classification"
    assert manifest["model_file"] == "model.skops"
    bundled = ws.rails / "model.skops"
    assert bundled.is_file()
    assert manifest["files"]["model.skops"] == hashlib.sha256(bundled.read_bytes()).hexdigest()
    for name in ("contract.json", "policy.json", "state.json", "arrays.npz"):
        assert (ws.rails / name).is_file()
        digest = hashlib.sha256((ws.rails / name).read_bytes()).hexdigest()
        assert manifest["files"][name] == digest
    summary = manifest["summary"]
    # without --calib, every training row calibrates out-of-fold (cross-fitting)
    assert summary["budget"]["calibration_method"] == "crossfit"
    assert summary["n_train"] == summary["n_calibration"] == len(ws.X)


def test_fit_with_trusted_pickle(ws: Workspace) -> None:
    out = ws.root / "rails_pkl"
    res = run_cli("fit", ws.pickle, ws.train, "--target", "target", "--out", out, "--trust")
    assert res.returncode == 0, res.stderr
    assert (out / "manifest.json").is_file()
    rows = ws.write("pkl_rows.csv", ws.X.head(2))
    res = run_cli("check", out, rows, "--json")
    assert res.returncode == 0, res.stderr
    assert [v["status"] for v in json_lines(res.stdout)] == [200, 200]


# -- check -----------------------------------------------------------------------------------
def test_check_json_clean_and_contract_violating_rows(ws: Workspace) -> None:
    rows = ws.X.iloc[[0, 1, 2]].copy()
    rows.loc[rows.index[1], UNIT_FIELD] *= 1000
    res = run_cli("check", ws.rails, ws.write("numeric_rows.csv", rows), "--json")
    assert res.returncode == 0, res.stderr
    verdicts = json_lines(res.stdout)
    assert len(verdicts) == 3
    assert [v["row"] for v in verdicts] == [0, 1, 2]
    for v in verdicts:
        assert {"status", "problem", "prediction", "errors"} <= v.keys()

    for v in (verdicts[0], verdicts[2]):
        assert v["status"] in (200, 203), v
        assert v["prediction"] in (0, 1)
        assert v["errors"] == []
    assert verdicts[0]["problem"] is None or verdicts[0]["status"] == 203

    bad = verdicts[1]
    assert bad["status"] == 400
    assert bad["problem"] == INVALID_INPUT
    assert bad["prediction"] is None
    assert [e["field"] for e in bad["errors"]] == [UNIT_FIELD]  # type: ignore[union-attr]
    assert bad["errors"][0]["code"] == "out_of_range"  # type: ignore[index]


def _mixed_rows(ws: Workspace) -> pd.DataFrame:
    """A clean row, a row with text in a numeric field, a row with a value x1000."""
    rows = ws.X.iloc[[0, 1, 2]].astype(object)
    rows.loc[rows.index[1], TEXT_FIELD] = "abc"
    rows.loc[rows.index[2], UNIT_FIELD] = float(ws.X.iloc[2][UNIT_FIELD]) * 1000
    return rows


def test_check_json_rejects_text_and_unit_rows(ws: Workspace) -> None:
    res = run_cli("check", ws.rails, ws.write("rows.csv", _mixed_rows(ws)), "--json")
    assert res.returncode == 0, res.stderr
    verdicts = json_lines(res.stdout)
    assert len(verdicts) == 3
    text_row, unit_row = verdicts[1], verdicts[2]
    for v in (text_row, unit_row):
        assert v["status"] == 400
        assert v["problem"] == INVALID_INPUT
        assert v["prediction"] is None
    text_errors = {e["field"]: e for e in text_row["errors"]}  # type: ignore[union-attr]
    assert text_errors[TEXT_FIELD]["code"] == "wrong_type"
    assert text_errors[TEXT_FIELD]["value"] == "abc"
    unit_fields = {e["field"] for e in unit_row["errors"]}  # type: ignore[union-attr]
    assert UNIT_FIELD in unit_fields


def test_check_text_cell_does_not_poison_the_clean_rows(ws: Workspace) -> None:
    res = run_cli("check", ws.rails, ws.write("rows_mixed.csv", _mixed_rows(ws)), "--json")
    assert res.returncode == 0, res.stderr
    verdicts = json_lines(res.stdout)
    assert verdicts[0]["status"] in (200, 203), verdicts[0]
    assert verdicts[0]["prediction"] in (0, 1)
    assert [e["field"] for e in verdicts[1]["errors"]] == [TEXT_FIELD]  # type: ignore[union-attr]
    assert [e["field"] for e in verdicts[2]["errors"]] == [UNIT_FIELD]  # type: ignore[union-attr]


def test_check_a_boolean_column_in_a_numeric_field_is_wrong_type(ws: Workspace) -> None:
    """CSV reads a column of True/False as booleans (Parquet stores them): a boolean in a
    numeric field is that row's ``wrong_type``, not 1.0; the other fields pass."""
    rows = ws.X.iloc[[0, 1, 2]].astype(object)
    rows[TEXT_FIELD] = [True, False, True]  # the whole column: pandas reads it as bool
    rows[UNIT_FIELD] = [True, *rows[UNIT_FIELD].iloc[1:]]  # one cell among numbers
    flag = (TEXT_FIELD, "wrong_type")
    stored = ws.X.iloc[[0, 1, 2]].assign(**{TEXT_FIELD: [True, False, True]})
    stored.to_parquet(ws.root / "flags.parquet")
    for path, want in (
        (ws.write("flags.csv", rows), [{flag, (UNIT_FIELD, "wrong_type")}, {flag}, {flag}]),
        (ws.root / "flags.parquet", [{flag}] * 3),
    ):
        res = run_cli("check", ws.rails, path, "--json")
        assert res.returncode == 0, res.stderr
        verdicts = json_lines(res.stdout)
        assert [v["status"] for v in verdicts] == [400, 400, 400], path
        errors = [v["errors"] for v in verdicts]
        assert [{(e["field"], e["code"]) for e in err} for err in errors] == want, path  # type: ignore[union-attr]


def test_check_table_output_shows_status_mix(ws: Workspace) -> None:
    rows = ws.X.iloc[[0, 1, 2]].copy()
    rows.loc[rows.index[2], UNIT_FIELD] *= 1000
    res = run_cli("check", ws.rails, ws.write("table_rows.csv", rows))
    assert res.returncode == 0, res.stderr
    assert "3 verdicts" in res.stdout
    mix = [line for line in res.stdout.splitlines() if line.startswith("status mix:")]
    assert len(mix) == 1, res.stdout
    assert "400: 1" in mix[0]
    ok = sum(
        int(n)
        for code, n in (p.split(": ") for p in mix[0][12:].split(", "))
        if code in ("200", "203")
    )
    assert ok == 2, mix[0]
    assert UNIT_FIELD in res.stdout  # the "why" column names the violated field


def test_check_wrong_columns_is_a_verdict_not_an_error(ws: Workspace) -> None:
    res = run_cli(
        "check", ws.rails, ws.write("wrong_cols.csv", pd.DataFrame({"a": [1.0]})), "--json"
    )
    assert res.returncode == 0, res.stderr
    (v,) = json_lines(res.stdout)
    assert v["status"] == 400
    fields = {e["field"] for e in v["errors"]}  # type: ignore[union-attr]
    assert set(ws.features) <= fields


# -- inspect ---------------------------------------------------------------------------------
def test_inspect_schema_requires_the_training_columns(ws: Workspace) -> None:
    res = run_cli("inspect", ws.rails, "--schema")
    assert res.returncode == 0, res.stderr
    schema = json.loads(res.stdout)
    assert schema["type"] == "object"
    assert schema["required"] == ws.features
    assert list(schema["properties"]) == ws.features
    assert schema["properties"][UNIT_FIELD]["type"] == "number"


def test_inspect_prints_summary_and_hash(ws: Workspace) -> None:
    res = run_cli("inspect", ws.rails)
    assert res.returncode == 0, res.stderr
    manifest = json.loads((ws.rails / "manifest.json").read_text())
    assert f"artifact hash: {manifest['artifact_hash']}" in res.stdout
    assert "realised FPR" in res.stdout


# -- policy ----------------------------------------------------------------------------------
def test_policy_prints_the_template() -> None:
    from mlrails.guard.policy import POLICY_TEMPLATE, Policy

    res = run_cli("policy")
    assert res.returncode == 0, res.stderr
    assert res.stdout == POLICY_TEMPLATE
    assert Policy.model_validate(yaml.safe_load(res.stdout)) == Policy()


def test_policy_file_changes_the_fit(ws: Workspace) -> None:
    from mlrails.guard.policy import POLICY_TEMPLATE

    path = ws.root / "p.yaml"
    res = run_cli("policy", "-o", path)
    assert res.returncode == 0, res.stderr
    assert path.read_text() == POLICY_TEMPLATE

    text = path.read_text()
    assert "ood:\n  mode: block" in text
    path.write_text(text.replace("ood:\n  mode: block", "ood:\n  mode: warn"))
    out = ws.root / "rails_warn"
    res = run_cli("fit", ws.model, ws.train, "--target", "target", "--out", out, "--policy", path)
    assert res.returncode == 0, res.stderr
    policy = json.loads((out / "policy.json").read_text())
    assert policy["ood"]["mode"] == "warn"
    assert policy["adversarial"]["mode"] == "block"
    ood_rows = [line for line in res.stdout.splitlines() if "│ ood " in line]
    assert len(ood_rows) == 1 and "warn" in ood_rows[0], res.stdout


# -- bad inputs: exit code 2, one line naming the file, no traceback -------------------------
@dataclass(frozen=True)
class ErrorCase:
    args: tuple[object, ...]
    needles: tuple[str, ...]  # each must appear in the error line (case-insensitive)
    any_of: tuple[str, ...] = ()  # at least one of these must appear too
    must_not_exist: Path | None = None  # output that a failed command must not write


BAD_POLICIES = {
    "invalid_yaml.yaml": ("ood: [unclosed\n", "YAML"),
    "unknown_key.yaml": ("oood:\n  mode: warn\n", "oood"),
    "wrong_value.yaml": ("ood:\n  mode: sometimes\n", "ood.mode"),
    "out_of_range.yaml": ("ood:\n  target_fpr: 2\n", "target_fpr"),
    "not_a_mapping.yaml": ("just a string\n", "mapping"),
    "invalid.toml": ("x = [\n", "TOML"),
}

BAD_CSVS = {
    "garbage.csv": bytes(range(256)) * 4,
    "unterminated.csv": b'a,b\n1,2\n"never closed\n',
    "empty.csv": b"",
}

ERROR_CASE_IDS = [
    *(f"policy-{name}" for name in sorted(BAD_POLICIES)),
    "policy-missing-file",
    "model-missing",
    "model-pickle-without-trust",
    "model-skops-random-bytes",
    "model-skops-truncated",
    "train-csv-missing",
    "train-unknown-target",
    "artifact-tampered-state-check",
    "artifact-tampered-state-inspect",
    "artifact-tampered-model",
    "artifact-missing-dir",
    *(f"check-csv-{name}" for name in sorted(BAD_CSVS)),
    "check-csv-missing",
]


def _tamper(path: Path) -> None:
    """Change one byte of ``path``."""
    data = bytearray(path.read_bytes())
    if path.suffix == ".json":
        i = next(i for i, b in enumerate(data) if chr(b).isdigit())
        data[i] = ord("1") if data[i] != ord("1") else ord("2")
    else:
        data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _error_cases(ws: Workspace) -> dict[str, ErrorCase]:
    d = ws.root / "errors"
    d.mkdir()
    fit = ("fit", ws.model, ws.train, "--target", "target")
    cases: dict[str, ErrorCase] = {}
    for name, (text, needle) in BAD_POLICIES.items():
        (d / name).write_text(text)
        out = d / f"rails_{name}"
        cases[f"policy-{name}"] = ErrorCase(
            (*fit, "--out", out, "--policy", d / name), (name, needle), must_not_exist=out
        )
    cases["policy-missing-file"] = ErrorCase((*fit, "-p", d / "nope.yaml"), ("nope.yaml",))

    cases["model-missing"] = ErrorCase(
        ("fit", d / "missing.skops", ws.train, "-t", "target"), ("missing.skops", "not found")
    )
    out = d / "rails_untrusted"
    cases["model-pickle-without-trust"] = ErrorCase(
        ("fit", ws.pickle, ws.train, "-t", "target", "-o", out),
        ("model.pkl", "--trust"),
        must_not_exist=out,
    )
    (d / "random.skops").write_bytes(bytes(range(256)) * 2)
    cases["model-skops-random-bytes"] = ErrorCase(
        ("fit", d / "random.skops", ws.train, "-t", "target"), ("random.skops", "skops")
    )
    (d / "truncated.skops").write_bytes(ws.model.read_bytes()[: ws.model.stat().st_size // 2])
    cases["model-skops-truncated"] = ErrorCase(
        ("fit", d / "truncated.skops", ws.train, "-t", "target"), ("truncated.skops", "skops")
    )
    cases["train-csv-missing"] = ErrorCase(
        ("fit", ws.model, d / "missing_train.csv", "-t", "target"), ("missing_train.csv",)
    )
    # the message names the file, the missing column and the columns that do exist
    cases["train-unknown-target"] = ErrorCase(
        ("fit", ws.model, ws.train, "--target", "label"), ("train.csv", "'label'", "mean radius")
    )

    rows = d / "rows.csv"
    ws.X.head(2).to_csv(rows, index=False)
    for command in ("check", "inspect"):
        rails = d / f"rails_tampered_{command}"
        shutil.copytree(ws.rails, rails)
        _tamper(rails / "state.json")
        args = (command, rails, rows) if command == "check" else (command, rails)
        cases[f"artifact-tampered-state-{command}"] = ErrorCase(
            args, (rails.name, "state.json"), any_of=("tampered", "hash")
        )
    rails = d / "rails_tampered_model"
    shutil.copytree(ws.rails, rails)
    _tamper(rails / "model.skops")
    cases["artifact-tampered-model"] = ErrorCase(
        ("check", rails, rows), (rails.name, "model.skops"), any_of=("tampered", "hash")
    )
    cases["artifact-missing-dir"] = ErrorCase(
        ("check", d / "no_such_rails", rows), ("no_such_rails",)
    )

    for name, content in BAD_CSVS.items():
        (d / name).write_bytes(content)
        cases[f"check-csv-{name}"] = ErrorCase(("check", ws.rails, d / name), (name,))
    cases["check-csv-missing"] = ErrorCase(
        ("check", ws.rails, d / "missing_rows.csv"), ("missing_rows.csv",)
    )
    return cases


@pytest.fixture(scope="module")
def error_runs(
    ws: Workspace,
) -> dict[str, tuple[ErrorCase, subprocess.CompletedProcess[str]]]:
    """Run every error case once, a few at a time (each run is mostly interpreter start-up)."""
    cases = _error_cases(ws)
    cwd = ws.root / "errors"  # where a default `--out rails` would land
    assert sorted(cases) == sorted(ERROR_CASE_IDS)
    # a narrow terminal: the one-line contract must hold whatever the width
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        futures = {k: pool.submit(run_cli, *c.args, columns=60, cwd=cwd) for k, c in cases.items()}
        return {k: (cases[k], f.result()) for k, f in futures.items()}


@pytest.mark.parametrize("case_id", ERROR_CASE_IDS)
def test_bad_input_is_a_one_line_error(
    error_runs: dict[str, tuple[ErrorCase, subprocess.CompletedProcess[str]]], case_id: str
) -> None:
    case, res = error_runs[case_id]
    line = assert_one_line_error(res, *case.needles)
    if case.any_of:
        assert any(word in line.lower() for word in case.any_of), line
    if case.must_not_exist is not None:
        assert not (case.must_not_exist / "manifest.json").exists()
