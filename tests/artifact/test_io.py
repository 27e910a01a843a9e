"""The rails artifact: pickle-free, hashed, verified on load, reproducible."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

import mlrails
from mlrails.artifact.manifest import FORMAT_VERSION


@pytest.fixture
def saved(tmp_path: Path, cancer_rails: Any) -> Path:
    cancer_rails.save(tmp_path / "rails")
    return tmp_path / "rails"


def _scores(verdicts: list[Any]) -> list[float]:
    return [s.score for v in verdicts for s in v.safeguards if s.score is not None]


def test_round_trip_gives_identical_verdicts(
    saved: Path, cancer: Any, cancer_forest: Any, cancer_rails: Any
) -> None:
    loaded = mlrails.load(saved, model=cancer_forest)
    X = cancer.X_test
    a, b = cancer_rails.check(X), loaded.check(X)
    assert [v.status for v in a] == [v.status for v in b]
    assert _scores(a) == pytest.approx(_scores(b))
    assert loaded.artifact_hash == cancer_rails.artifact_hash == a[0].artifact_hash
    assert loaded.contract == cancer_rails.contract and loaded.policy == cancer_rails.policy


def test_layout_is_json_and_npz_without_pickle(saved: Path) -> None:
    names = sorted(p.name for p in saved.iterdir())
    assert names == [
        "arrays.npz",
        "contract.json",
        "manifest.json",
        "model.skops",
        "policy.json",
        "reference_inputs.npz",
        "reference_outputs.npz",
        "state.json",
    ]
    with np.load(saved / "arrays.npz", allow_pickle=False) as npz:  # raises on object arrays
        assert all(npz[k].dtype != object for k in npz.files)
    with zipfile.ZipFile(saved / "arrays.npz") as z:
        assert all(n.endswith(".npy") for n in z.namelist())
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert set(manifest["files"]) == {
        "arrays.npz",
        "contract.json",
        "policy.json",
        "state.json",
        "model.skops",
        "reference_inputs.npz",
        "reference_outputs.npz",
    }
    assert manifest["model"]["framework"] == "scikit-learn"
    assert manifest["libraries"]["numpy"] == np.__version__


def test_bundled_model_loads_without_passing_it(
    saved: Path, cancer: Any, cancer_rails: Any
) -> None:
    loaded = mlrails.load(saved)
    X = cancer.X_test.head(20)
    assert [v.status for v in loaded.check(X)] == [v.status for v in cancer_rails.check(X)]


def test_fitting_is_deterministic(tmp_path: Path, cancer: Any, cancer_forest: Any) -> None:
    policy = {"calibration_fraction": 0.3}
    h1 = mlrails.fit(cancer_forest, cancer.X_train, cancer.y_train, policy=policy).save(
        tmp_path / "a"
    )
    h2 = mlrails.fit(cancer_forest, cancer.X_train, cancer.y_train, policy=policy).save(
        tmp_path / "b"
    )
    assert h1 == h2
    other = mlrails.fit(
        cancer_forest, cancer.X_train, cancer.y_train, policy={**policy, "seed": 1}
    ).save(tmp_path / "c")
    assert other != h1


@pytest.mark.parametrize(
    "name",
    [
        "state.json",
        "arrays.npz",
        "contract.json",
        "policy.json",
        "model.skops",
        "reference_inputs.npz",
        "reference_outputs.npz",
    ],
)
def test_tampered_file_is_refused(saved: Path, cancer_forest: Any, name: str) -> None:
    f = saved / name
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x01
    f.write_bytes(bytes(data))
    with pytest.raises(mlrails.ArtifactError, match="tampered|hash"):
        mlrails.load(saved, model=cancer_forest)


def test_missing_or_foreign_artifacts_are_refused(
    saved: Path, tmp_path: Path, cancer_forest: Any
) -> None:
    with pytest.raises(mlrails.ArtifactError, match="not an artifact directory"):
        mlrails.load(tmp_path / "nowhere", model=cancer_forest)
    (saved / "state.json").unlink()
    with pytest.raises(mlrails.ArtifactError, match="missing"):
        mlrails.load(saved, model=cancer_forest)
    (tmp_path / "empty").mkdir()
    with pytest.raises(mlrails.ArtifactError, match="manifest.json is missing"):
        mlrails.load(tmp_path / "empty", model=cancer_forest)


def test_incompatible_format_version_is_refused(saved: Path, cancer_forest: Any) -> None:
    m = json.loads((saved / "manifest.json").read_text())
    m["format_version"] = FORMAT_VERSION + 1
    (saved / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(mlrails.ArtifactError, match="format version"):
        mlrails.load(saved, model=cancer_forest)


def test_a_different_model_is_refused(saved: Path, cancer: Any) -> None:
    other = RandomForestClassifier(n_estimators=50, random_state=1).fit(
        cancer.X_train, cancer.y_train
    )
    with pytest.raises(mlrails.ArtifactError, match="not the model"):
        mlrails.load(saved, model=other)
    three = LogisticRegression(max_iter=5000).fit(
        cancer.X_train, np.arange(len(cancer.y_train)) % 3
    )
    with pytest.raises(mlrails.ArtifactError, match="classes"):
        mlrails.load(saved, model=three)


def test_verdicts_carry_the_artifact_hash_before_saving(
    tmp_path: Path, cancer: Any, cancer_rails: Any
) -> None:
    before = cancer_rails.check(cancer.X_test.head(1))[0].artifact_hash
    assert len(before) == 64
    assert cancer_rails.save(tmp_path / "r") == before
