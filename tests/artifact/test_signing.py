"""Signed artifacts: Ed25519 over manifest.json; a re-hashed forgery, another key, a missing
or malformed signature are each refused with one line when a public key is required."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import mlrails
from mlrails.artifact.signing import generate_keypair, sign_artifact


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path, Path]:
    """(model, a signed artifact, its private key, its public key)."""
    root = tmp_path_factory.mktemp("signed")
    X, y = make_classification(n_samples=300, n_features=4, random_state=0)
    model = LogisticRegression().fit(X, y)
    art = root / "rails"
    mlrails.fit(model, X, y, policy={"calibration_fraction": 0.3}).save(art)
    generate_keypair(root / "key", root / "key.pub")
    sign_artifact(art, root / "key")
    return model, art, root / "key", root / "key.pub"


def _copy(src: Path, tmp: Path) -> Path:
    shutil.copytree(src, tmp / "copy")
    return tmp / "copy"


def test_a_signed_artifact_loads_with_its_public_key(signed: Any) -> None:
    model, art, _, pub = signed
    assert mlrails.load(art, model=model, public_key=pub).artifact_hash
    assert mlrails.load(art, model=model, public_key=pub.read_bytes()).artifact_hash


def test_the_private_key_is_private(signed: Any) -> None:
    _, _, key, pub = signed
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert b"PUBLIC KEY" in pub.read_bytes()


def test_a_rehashed_forgery_keeps_loading_without_a_key_but_not_with_one(
    signed: Any, tmp_path: Path
) -> None:
    model, src, _, pub = signed
    art = _copy(src, tmp_path)
    policy = json.loads((art / "policy.json").read_text())
    policy["ood"]["mode"] = "off"  # switch a safeguard off ...
    (art / "policy.json").write_text(json.dumps(policy, indent=2, sort_keys=True))
    manifest = json.loads((art / "manifest.json").read_text())  # ... and re-hash everything
    digest = hashlib.sha256((art / "policy.json").read_bytes()).hexdigest()
    manifest["files"]["policy.json"] = digest
    content = {k: v for k, v in manifest["files"].items() if k != manifest["model_file"]}
    h = hashlib.sha256()
    for name in sorted(content):
        h.update(f"{name}:{content[name]}\n".encode())
    manifest["artifact_hash"] = h.hexdigest()
    body = {k: v for k, v in manifest.items() if k != "manifest_hash"}
    manifest["manifest_hash"] = hashlib.sha256(
        json.dumps(body, indent=2, sort_keys=True).encode()
    ).hexdigest()
    (art / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    mlrails.load(art, model=model)  # integrity alone cannot tell
    with pytest.raises(mlrails.ArtifactError, match="signature does not match") as err:
        mlrails.load(art, model=model, public_key=pub)
    assert "\n" not in str(err.value)


def test_another_key_is_refused(signed: Any, tmp_path: Path) -> None:
    model, art, _, _ = signed
    generate_keypair(tmp_path / "other", tmp_path / "other.pub")
    with pytest.raises(mlrails.ArtifactError, match="another key"):
        mlrails.load(art, model=model, public_key=tmp_path / "other.pub")


def test_a_signature_by_another_key_claiming_ours_is_refused(signed: Any, tmp_path: Path) -> None:
    model, src, _, pub = signed
    art = _copy(src, tmp_path)
    generate_keypair(tmp_path / "other", tmp_path / "other.pub")
    ours = json.loads((art / "signature.json").read_text())["key_sha256"]
    sign_artifact(art, tmp_path / "other")
    sig = json.loads((art / "signature.json").read_text())
    sig["key_sha256"] = ours
    (art / "signature.json").write_text(json.dumps(sig))
    with pytest.raises(mlrails.ArtifactError, match="signature does not match"):
        mlrails.load(art, model=model, public_key=pub)


def test_a_missing_signature_is_refused(signed: Any, tmp_path: Path) -> None:
    model, src, _, pub = signed
    art = _copy(src, tmp_path)
    (art / "signature.json").unlink()
    with pytest.raises(mlrails.ArtifactError, match="not signed"):
        mlrails.load(art, model=model, public_key=pub)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        '{"algorithm": "rsa"}',
        '{"algorithm": "ed25519", "key_sha256": "x", "signature": "%%"}',
    ],
)
def test_a_malformed_signature_is_refused(signed: Any, tmp_path: Path, text: str) -> None:
    model, src, _, pub = signed
    art = _copy(src, tmp_path)
    (art / "signature.json").write_text(text)
    with pytest.raises(mlrails.ArtifactError, match="signature.json") as err:
        mlrails.load(art, model=model, public_key=pub)
    assert "\n" not in str(err.value)


def test_a_public_key_that_is_not_one_is_refused(signed: Any, tmp_path: Path) -> None:
    model, art, key, _ = signed
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(mlrails.ArtifactError, match="public key"):
        mlrails.load(art, model=model, public_key=tmp_path / "junk.pem")
    with pytest.raises(mlrails.ArtifactError, match="public key"):
        mlrails.load(art, model=model, public_key=key)  # the private key is no public key


def test_re_saving_drops_the_old_signature(signed: Any, tmp_path: Path) -> None:
    model, src, _, pub = signed
    art = _copy(src, tmp_path)
    rails = mlrails.load(art, model=model)
    rails.save(art)
    assert not (art / "signature.json").exists()
    with pytest.raises(mlrails.ArtifactError, match="not signed"):
        mlrails.load(art, model=model, public_key=pub)
