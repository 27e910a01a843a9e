"""Hostile and corrupt artifacts: always one clean ArtifactError line, or a load that verifies.

A real artifact is saved once; each case edits a copy on disk (bytes, structure, paths,
symlinks) and loads it. Edited manifests are re-sealed (file hashes, artifact hash, manifest
hash recomputed) where the point is to get past the hashes to the parser behind them.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import mlrails

FILES = (
    "manifest.json",
    "contract.json",
    "policy.json",
    "state.json",
    "arrays.npz",
    "reference_inputs.npz",
    "reference_outputs.npz",
    "model.skops",
)


@pytest.fixture(scope="module")
def small() -> tuple[Any, Any, Path, list[str]]:
    """A small real artifact (bundled skops model), the model, the rows, their verdicts."""
    import tempfile

    X, y = make_classification(n_samples=300, n_features=4, random_state=0)
    model = LogisticRegression().fit(X, y)
    rails = mlrails.fit(model, X, y, policy={"calibration_fraction": 0.3})
    art = Path(tempfile.mkdtemp()) / "rails"
    rails.save(art)
    return model, X[:20], art, _statuses(rails, X[:20])


def _statuses(rails: Any, X: Any) -> list[str]:
    return [f"{v.status}:{v.prediction}" for v in rails.check(X)]


def _copy(src: Path, tmp: Path) -> Path:
    dst = tmp / "copy"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True).encode("utf-8")


def _seal(art: Path, manifest: dict[str, Any]) -> None:
    """Re-hash every listed file and the manifest, as a careful forger would."""
    _rehash_files(art, manifest)
    _seal_manifest(art, manifest)


def _rehash_files(art: Path, manifest: dict[str, Any]) -> None:
    files = manifest.get("files")
    if isinstance(files, dict):
        for name in list(files):
            f = art / str(name)
            if f.is_file():
                files[name] = hashlib.sha256(f.read_bytes()).hexdigest()
        content = {
            k: v for k, v in files.items() if k not in ("model.skops",) and isinstance(v, str)
        }
        h = hashlib.sha256()
        for name in sorted(content):
            h.update(f"{name}:{content[name]}\n".encode())
        manifest["artifact_hash"] = h.hexdigest()


def _seal_manifest(art: Path, manifest: dict[str, Any]) -> None:
    body = {k: v for k, v in manifest.items() if k != "manifest_hash"}
    manifest["manifest_hash"] = hashlib.sha256(_json_bytes(body)).hexdigest()
    (art / "manifest.json").write_bytes(_json_bytes(manifest))


def _outcome(art: Path, model: Any, X: Any, want: list[str]) -> None:
    """Either a one-line ArtifactError naming the artifact, or identical verdicts."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loaded = mlrails.load(art, model=model)
    except mlrails.ArtifactError as exc:
        msg = str(exc)
        assert "\n" not in msg and msg.startswith(str(art)), msg
        return
    assert _statuses(loaded, X) == want


EDIT = st.sampled_from(["substitute", "insert", "delete", "truncate"])


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(name=st.sampled_from(FILES), edit=EDIT, where=st.floats(0, 1), byte=st.integers(0, 255))
def test_byte_edits_of_any_file_give_a_clean_error_or_identical_verdicts(
    small: Any,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    edit: str,
    where: float,
    byte: int,
) -> None:
    model, X, src, want = small
    art = _copy(src, tmp_path_factory.mktemp("edit"))
    data = bytearray((art / name).read_bytes())
    i = min(int(where * len(data)), len(data) - 1)
    if edit == "substitute":
        data[i] = byte if data[i] != byte else (byte + 1) % 256
    elif edit == "insert":
        data.insert(i, byte)
    elif edit == "delete":
        del data[i]
    else:
        del data[i:]
    (art / name).write_bytes(bytes(data))
    _outcome(art, model, X, want)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(where=st.floats(0, 1), byte=st.integers(0, 255))
def test_single_byte_edits_of_the_manifest_never_crash(
    small: Any, tmp_path_factory: pytest.TempPathFactory, where: float, byte: int
) -> None:
    model, X, src, want = small
    art = _copy(src, tmp_path_factory.mktemp("manifest"))
    data = bytearray((art / "manifest.json").read_bytes())
    i = min(int(where * len(data)), len(data) - 1)
    data[i] = byte if data[i] != byte else (byte + 1) % 256
    (art / "manifest.json").write_bytes(bytes(data))
    _outcome(art, model, X, want)


def _deep(n: int) -> Any:
    out: Any = 0
    for _ in range(n):
        out = [out]
    return out


STRUCTURAL: list[tuple[str, Any]] = [
    ("summary.n_train", "x"),
    ("summary", "a string"),
    ("summary.safeguards", [{"name": 1}]),
    ("surprise", 1),
    ("summary.surprise", 1),
    ("model_file", ["model.skops"]),
    ("model_file", 3),
    ("files", ["contract.json"]),
    ("files.contract.json", 5),
    ("classes", {"a": 1}),
    ("task", ["classification"]),
    ("model", "skops"),
    ("artifact_hash", 12),
    ("format_version", "1"),
    ("summary.notes", _deep(200)),
]


@pytest.mark.parametrize(("field", "value"), STRUCTURAL, ids=[f for f, _ in STRUCTURAL])
def test_structural_manifest_edits_are_one_line_errors(
    small: Any, tmp_path: Path, field: str, value: Any
) -> None:
    model, _, src, _ = small
    art = _copy(src, tmp_path)
    manifest = json.loads((art / "manifest.json").read_text())
    _rehash_files(art, manifest)
    if field.startswith("files."):
        manifest["files"][field.removeprefix("files.")] = value
    else:
        *parents, leaf = field.split(".")
        node = manifest
        for k in parents:
            node = node[k]
        node[leaf] = value
    _seal_manifest(art, manifest)
    with pytest.raises(mlrails.ArtifactError) as err:
        mlrails.load(art, model=model)
    assert "\n" not in str(err.value) and "manifest.json" in str(err.value)


def test_a_10000_deep_manifest_is_a_one_line_error(small: Any, tmp_path: Path) -> None:
    model, _, src, _ = small
    art = _copy(src, tmp_path)
    (art / "manifest.json").write_text("[" * 10_000 + "]" * 10_000)
    with pytest.raises(mlrails.ArtifactError, match="manifest.json"):
        mlrails.load(art, model=model)


def test_a_deep_state_json_is_a_one_line_error(small: Any, tmp_path: Path) -> None:
    model, _, src, _ = small
    art = _copy(src, tmp_path)
    state = json.loads((art / "state.json").read_text())
    state["min_confidence"] = "DEEP"
    deep = "[" * 10_000 + "]" * 10_000
    (art / "state.json").write_text(json.dumps(state).replace('"DEEP"', deep))
    _seal(art, json.loads((art / "manifest.json").read_text()))
    with pytest.raises(mlrails.ArtifactError, match="state.json"):
        mlrails.load(art, model=model)


def _npy_header_claiming(shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": shape}
    )
    return buf.getvalue() + b"\0" * 64


def test_an_npz_claiming_10_to_the_11_elements_is_refused_without_allocating(
    small: Any, tmp_path: Path
) -> None:
    model, _, src, _ = small
    art = _copy(src, tmp_path)
    with zipfile.ZipFile(art / "arrays.npz") as z:
        members = {n: z.read(n) for n in z.namelist()}
    first = sorted(members)[0]
    members[first] = _npy_header_claiming((10**11,))
    with zipfile.ZipFile(art / "arrays.npz", "w", zipfile.ZIP_DEFLATED) as z:
        for n, b in members.items():
            z.writestr(n, b)
    _seal(art, json.loads((art / "manifest.json").read_text()))
    with pytest.raises(mlrails.ArtifactError, match="arrays.npz"):
        mlrails.load(art, model=model)


@pytest.mark.parametrize("name", ["arrays.npz", "reference_inputs.npz"])
def test_an_empty_npz_is_refused(small: Any, tmp_path: Path, name: str) -> None:
    model, _, src, _ = small
    art = _copy(src, tmp_path)
    with zipfile.ZipFile(art / name, "w"):
        pass
    _seal(art, json.loads((art / "manifest.json").read_text()))
    with pytest.raises(mlrails.ArtifactError, match=name):
        mlrails.load(art, model=model)


def test_an_object_dtype_member_is_refused(small: Any, tmp_path: Path) -> None:
    model, _, src, _ = small
    art = _copy(src, tmp_path)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "|O", "fortran_order": False, "shape": (1,)}
    )
    with zipfile.ZipFile(art / "arrays.npz", "a") as z:
        z.writestr("evil.npy", buf.getvalue() + b"\0" * 16)
    _seal(art, json.loads((art / "manifest.json").read_text()))
    with pytest.raises(mlrails.ArtifactError, match="arrays.npz"):
        mlrails.load(art, model=model)


# -- paths: nothing outside the artifact, no symlinks -----------------------------------------
@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_a_model_file_outside_the_artifact_is_refused(
    small: Any, tmp_path: Path, where: str
) -> None:
    _, _, src, _ = small
    art = _copy(src, tmp_path / "inside")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(art / "model.skops", elsewhere / "model.skops")
    name = "../../elsewhere/model.skops" if where == "relative" else str(elsewhere / "model.skops")
    manifest = json.loads((art / "manifest.json").read_text())
    manifest["files"][name] = manifest["files"].pop("model.skops")
    manifest["model_file"] = name
    (art / "model.skops").unlink()
    _seal(art, manifest)
    with pytest.raises(mlrails.ArtifactError, match="not a safe name"):
        mlrails.load(art)


@pytest.mark.parametrize("name", ["contract.json", "model.skops", "manifest.json"])
def test_a_symlink_inside_the_artifact_is_refused(small: Any, tmp_path: Path, name: str) -> None:
    model, _, src, _ = small
    art = _copy(src, tmp_path)
    outside = tmp_path / f"outside-{name}"
    shutil.move(art / name, outside)  # same bytes, same hash: only the link is wrong
    (art / name).symlink_to(outside)
    with pytest.raises(mlrails.ArtifactError, match="symlink"):
        mlrails.load(art, model=model)


def test_an_edited_summary_is_detected(small: Any, tmp_path: Path) -> None:
    model, _, src, _ = small
    art = _copy(src, tmp_path)
    manifest = json.loads((art / "manifest.json").read_text())
    manifest["summary"]["n_train"] = 1_000_000
    (art / "manifest.json").write_bytes(_json_bytes(manifest))
    with pytest.raises(mlrails.ArtifactError, match="manifest_hash"):
        mlrails.load(art, model=model)


def test_a_format_1_artifact_loads_with_a_warning(small: Any, tmp_path: Path) -> None:
    from mlrails.artifact.manifest import UnverifiedManifestWarning

    model, X, src, want = small
    art = _copy(src, tmp_path)
    manifest = json.loads((art / "manifest.json").read_text())
    manifest.pop("manifest_hash")
    manifest["format_version"] = 1
    (art / "manifest.json").write_bytes(_json_bytes(manifest))
    with pytest.warns(UnverifiedManifestWarning, match="summary"):
        loaded = mlrails.load(art, model=model)
    assert _statuses(loaded, X) == want
