"""Provenance of a run: stable config hash, data/artifact/model hashes, versions, git, host."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlrails.bench.cell import rows_hash
from mlrails.bench.grid import GridConfig, PairConfig
from mlrails.bench.provenance import (
    ProvenanceError,
    config_hash,
    data_hashes,
    directory_hash,
    git_commit,
    model_hash,
    pair_record,
)

DATA = {"bundled": "breast_cancer"}
NOISE = [{"name": "gaussian_noise", "severities": [1, 5]}]


@pytest.fixture(scope="module")
def artifact(cancer_rails: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prov") / "rails"
    cancer_rails.save(path)
    return path


def test_config_hash_is_canonical_and_ignores_scheduling(tmp_path: Path) -> None:
    cfg = GridConfig(artifact=tmp_path / "rails", data=DATA, perturbations=NOISE, seeds=[0, 1])
    h = config_hash(cfg)
    assert re.fullmatch(r"[0-9a-f]{64}", h) and config_hash(cfg) == h
    # the same config written differently, or scheduled differently: the same hash
    same = GridConfig.model_validate(
        {"seeds": [0, 1], "perturbations": NOISE, "data": DATA, "artifact": str(tmp_path / "rails")}
    )
    assert config_hash(same) == h
    assert config_hash(cfg.model_copy(update={"workers": 4, "executor": "ray"})) == h
    # anything measured changes it
    for change in ({"seeds": [0, 2]}, {"n_resamples": 200}, {"repeats": 2}):
        assert config_hash(cfg.model_copy(update=change)) != h, change
    assert config_hash(cfg.model_copy(update={"artifact": tmp_path / "other"})) != h


def test_config_hash_takes_paths_relative_to_the_config_dir(tmp_path: Path) -> None:
    def at(root: Path) -> str:
        cfg = GridConfig(
            models=[
                PairConfig(name="a", artifact=root / "rails", model=root / "m" / "model.skops"),
                PairConfig(name="b", artifact=root / "sub" / ".." / "rails2"),
            ],
            data={"test": root / "test.csv", "target": "y"},
            perturbations=NOISE,
        )
        return config_hash(cfg, root)

    here, there = tmp_path / "one", tmp_path / "two"
    assert at(here) == at(there)  # a project moved with its config
    outside = GridConfig(artifact=Path("/elsewhere/rails"), data=DATA, perturbations=NOISE)
    assert config_hash(outside, here) == config_hash(outside, there)  # absolute, kept as is
    plain = GridConfig(artifact=here / "rails", data=DATA, perturbations=NOISE)
    assert config_hash(plain) != config_hash(plain, here)


def test_data_hashes_are_row_hashes(cancer: Any) -> None:
    got = data_hashes(cancer.X_test, cancer.y_test, cancer.X_train)
    assert got == {
        "test": rows_hash(cancer.X_test, cancer.y_test),
        "reference": rows_hash(cancer.X_train),
    }
    assert data_hashes(cancer.X_test, cancer.y_test) == {"test": got["test"]}
    flipped = cancer.y_test.copy()
    flipped[0] = 1 - flipped[0]
    assert data_hashes(cancer.X_test, flipped)["test"] != got["test"]


def test_artifact_hash_covers_every_file_and_not_the_location(
    artifact: Path, tmp_path: Path
) -> None:
    h = directory_hash(artifact)
    files = sorted(p.name for p in artifact.iterdir())
    expected = hashlib.sha256()
    for name in files:
        digest = hashlib.sha256((artifact / name).read_bytes()).hexdigest()
        expected.update(f"{name}:{digest}\n".encode())
    assert h == expected.hexdigest()
    copy = tmp_path / "elsewhere" / "rails"
    shutil.copytree(artifact, copy)
    assert directory_hash(copy) == h
    with (copy / "policy.json").open("ab") as f:
        f.write(b"\n")
    changed = directory_hash(copy)
    assert changed != h
    (copy / "notes.txt").write_text("x")
    assert directory_hash(copy) not in (h, changed)
    with pytest.raises(ProvenanceError, match="not an artifact directory"):
        directory_hash(tmp_path / "missing")


def test_model_hash_and_pair_record(artifact: Path, cancer_rails: Any, tmp_path: Path) -> None:
    bundled = artifact / "model.skops"
    assert bundled.is_file()
    pair = PairConfig(name="forest", artifact=artifact)
    assert model_hash(pair) == hashlib.sha256(bundled.read_bytes()).hexdigest()
    own = tmp_path / "model.bin"
    own.write_bytes(b"weights")
    with_model = PairConfig(name="forest", artifact=artifact, model=own)
    assert model_hash(with_model) == hashlib.sha256(b"weights").hexdigest()
    rec = pair_record(pair, cancer_rails)
    assert rec.name == "forest" and rec.artifact == str(artifact) and rec.model is None
    assert rec.artifact_hash == directory_hash(artifact)
    assert rec.model_hash == model_hash(pair)
    assert (rec.model_class, rec.task) == (
        "sklearn.ensemble._forest.RandomForestClassifier",
        "classification",
    )
    assert pair_record(with_model, cancer_rails).model == str(own)
    with pytest.raises(ProvenanceError, match="cannot read"):
        model_hash(PairConfig(name="x", artifact=artifact, model=tmp_path / "nope.skops"))


def _git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    ident = ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", *ident, "-C", str(repo), *args], check=True, env=env,
                   capture_output=True)  # fmt: skip


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_of_a_scratch_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # even if /tmp is in a repo
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git_commit(outside) is None
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    assert git_commit(repo) is None  # no commit yet
    (repo / "config.yaml").write_text("seeds: [0]\n")
    _git(repo, "add", "config.yaml")
    _git(repo, "commit", "-q", "-m", "one")
    head = git_commit(repo)
    assert head is not None and re.fullmatch(r"[0-9a-f]{40}", head)
    (repo / "scratch.txt").write_text("untracked files do not count")
    assert git_commit(repo) == head
    (repo / "config.yaml").write_text("seeds: [1]\n")
    assert git_commit(repo) == head + "+dirty"
    assert git_commit(tmp_path / "does-not-exist") is None
