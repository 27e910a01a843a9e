"""``mlrails mismatch`` as a real subprocess on descriptor directories."""

from __future__ import annotations

import json
import re
from pathlib import Path

from mismatch_system import consistent, development_environment, trained_model

from mlrails.descriptors import write_descriptor_dir
from runcli import run_cli


def test_consistent_directory_passes_and_writes_reports(tmp_path: Path) -> None:
    write_descriptor_dir(consistent().values(), tmp_path / "d")
    r = run_cli("mismatch", "d", "--json", "out/m.json", "--html", "out/m.html", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 error(s)" in r.stdout
    data = json.loads((tmp_path / "out" / "m.json").read_text())
    assert data["format"] == "mlrails-mismatch-report" and data["summary"]["error"] == 0
    html = (tmp_path / "out" / "m.html").read_text()
    assert not re.search(r"https?://|<script", html)


def test_mismatch_fails_ci_and_broken_file_is_named(tmp_path: Path) -> None:
    d = consistent()
    d["trained_model"] = trained_model(frameworks=("torch",))
    d["development_environment"] = development_environment(frameworks=("scikit-learn",))
    write_descriptor_dir(d.values(), tmp_path / "d")
    (tmp_path / "d" / "raw_data.json").write_text("[1, 2", encoding="utf-8")
    r = run_cli("mismatch", "d", "--json", "m.json", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "MM-FRAMEWORK" in r.stdout and "raw_data.json" in r.stdout
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["descriptor_problems"][0]["file"].endswith("raw_data.json")
    assert data["descriptor_problems"][0]["path"].startswith("$")
    assert any(s["rule_id"] == "MM-LINK-RAW" for s in data["skipped_rules"])
    assert run_cli("mismatch", "d", "--fail-on", "never", cwd=tmp_path).returncode == 0


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    r = run_cli("mismatch", "nowhere", cwd=tmp_path)
    assert r.returncode == 2 and "not a directory" in r.stderr
    assert run_cli("mismatch", ".", "--fail-on", "sometimes", cwd=tmp_path).returncode == 2
    h = run_cli("mismatch", "--help", cwd=tmp_path)
    assert h.returncode == 0 and "--fail-on" in h.stdout and "Examples" in h.stdout
