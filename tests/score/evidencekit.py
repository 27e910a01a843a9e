"""Real evidence for the score tests: an artifact, descriptors, a bench record, a store with
decisions and keys, serve settings and a project with a CI workflow, all under one folder."""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from mlrails.bench.grid import GridConfig
from mlrails.bench.runner import run_benchmark
from mlrails.descriptors import write_descriptor_dir
from mlrails.score.sources import EvidenceSources
from mlrails.serve.keys import KeyRing
from mlrails.store import DecisionRecord, open_store

CI_TESTS_AND_BENCH = """\
name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pip install -e .
      - run: pytest -q
      - run: mlrails bench bench.yaml --out bench-results   # no baseline yet
"""


def mismatch_system() -> ModuleType:
    """tests/mismatch/mismatch_system.py: a small, consistent set of the eight descriptors."""
    folder = str(Path(__file__).resolve().parents[1] / "mismatch")
    if folder not in sys.path:
        sys.path.append(folder)
    return importlib.import_module("mismatch_system")


@dataclass
class World:
    """Paths of every evidence source built for a test module."""

    root: Path
    artifact: Path
    descriptors: Path
    record: Path
    store: Path
    settings: Path
    project: Path

    def sources(self, **override: Any) -> EvidenceSources:
        kw: dict[str, Any] = {
            "artifact": self.artifact,
            "descriptors": self.descriptors,
            "bench": (self.record,),
            "store": str(self.store),
            "serve_settings": self.settings,
            "project": self.project,
        }
        kw.update(override)
        return EvidenceSources(**kw)


def build_world(root: Path, rails: Any) -> World:
    artifact = root / "rails"
    rails.save(artifact)
    descriptors = root / "descriptors"
    write_descriptor_dir(mismatch_system().consistent().values(), descriptors)
    record = run_benchmark(
        GridConfig(
            artifact=artifact,
            data={"bundled": "breast_cancer"},
            perturbations=[{"name": "gaussian_noise", "severities": [1]}],
            seeds=[0],
            n_resamples=100,
        )
    ).write(root / "bench" / "record.json")
    store = root / "decisions.db"
    write_store(store, rails.artifact_hash, ok=5, invalid=2)
    settings = root / "serve.json"
    settings.write_text(
        json.dumps({"auth": True, "drift_every_s": 300, "drift_webhook": "https://hooks.x/y"})
    )
    project = root / "project"
    write_project(project, CI_TESTS_AND_BENCH)
    return World(root, artifact, descriptors, record, store, settings, project)


def write_store(path: Path, artifact_hash: str, *, ok: int, invalid: int) -> None:
    """A store with one active key, one revoked key and keyed decisions (200s and 400s)."""
    with open_store(path) as store:
        ring = KeyRing(store)
        key = ring.create("app").record
        ring.revoke(ring.create("old").record.id)
        t0 = datetime.now(UTC) - timedelta(hours=1)
        rows = [
            DecisionRecord(
                time=t0 + timedelta(seconds=i),
                trace_id=f"t{i}",
                key_id=key.id,
                artifact_hash=artifact_hash,
                row_index=0,
                status=200 if i < ok else 400,
                problem=None if i < ok else "invalid-input",
                input={"x": i},
                output={},
                scores={"ood": 0.1},
                latency_ms=2.0,
            )
            for i in range(ok + invalid)
        ]
        store.write_decisions(rows)


def write_project(path: Path, ci: str) -> None:
    (path / ".github" / "workflows").mkdir(parents=True, exist_ok=True)
    (path / ".github" / "workflows" / "ci.yml").write_text(ci)
    (path / "tests").mkdir(exist_ok=True)
    (path / "tests" / "test_model.py").write_text("def test_ok():\n    assert True\n")
    (path / "Dockerfile").write_text("FROM python:3.11\nCMD mlrails serve rails/\n")
    (path / "uv.lock").write_text("version = 1\n")
