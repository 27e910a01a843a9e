"""Ed25519 signatures over an artifact's manifest: origin, not only integrity.

Hashes show an artifact is intact, not who made it: anyone can edit it and re-hash. A signature
over ``manifest.json``'s exact bytes (which hold every file hash and the ``manifest_hash``)
shows it was written by the holder of the private key. ``signature.json`` sits next to the
manifest (it cannot be covered by it); loading with a public key refuses an artifact whose
signature is missing, malformed or made by another key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from pydantic import BaseModel, ConfigDict, ValidationError

from mlrails.artifact.manifest import SIGNATURE_FILE
from mlrails.artifact.reading import MAX_MANIFEST_BYTES, parse_json, read_bounded
from mlrails.errors import ArtifactError


class Signature(BaseModel):
    """``signature.json``: the algorithm, the signing key's fingerprint, the signature."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: Literal["ed25519"]
    key_sha256: str
    signature: str


def generate_keypair(private_path: Path, public_path: Path) -> str:
    """Write a new Ed25519 key pair as PEM (private file mode 0600); returns the fingerprint."""
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private_pem)
    public_path.write_bytes(_public_pem(key.public_key()))
    return _fingerprint(key.public_key())


def sign_artifact(path: str | Path, private_key: str | Path | bytes) -> Path:
    """Sign the artifact at ``path`` with an Ed25519 private key PEM (or its path)."""
    p = Path(path)
    pem = _pem_bytes(private_key, "private key")
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ArtifactError(f"cannot read the signing key: {_line(exc)}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ArtifactError("the signing key is not an Ed25519 private key")
    manifest = read_bounded(p, "manifest.json", MAX_MANIFEST_BYTES)
    sig = Signature(
        algorithm="ed25519",
        key_sha256=_fingerprint(key.public_key()),
        signature=base64.b64encode(key.sign(manifest)).decode("ascii"),
    )
    out = p / SIGNATURE_FILE
    out.write_text(json.dumps(sig.model_dump(), indent=2, sort_keys=True) + "\n")
    return out


def verify_artifact(p: Path, manifest: bytes, public_key: str | Path | bytes) -> None:
    """Refuse (one ArtifactError line) unless ``p/signature.json`` signs ``manifest`` with the
    private key matching ``public_key`` (PEM bytes or a path to them)."""
    key = load_public_key(public_key)
    if not (p / SIGNATURE_FILE).exists() and not (p / SIGNATURE_FILE).is_symlink():
        raise ArtifactError(f"{p}: artifact is not signed ({SIGNATURE_FILE} is missing)")
    raw = parse_json(p, SIGNATURE_FILE, read_bounded(p, SIGNATURE_FILE, 64 * 1024))
    try:
        sig = Signature.model_validate(raw)
        blob = base64.b64decode(sig.signature, validate=True)
    except (ValidationError, binascii.Error, ValueError):
        raise ArtifactError(f"{p}: {SIGNATURE_FILE} is malformed") from None
    if sig.key_sha256 != _fingerprint(key):
        raise ArtifactError(f"{p}: artifact is signed by another key ({sig.key_sha256[:16]}…)")
    try:
        key.verify(blob, manifest)
    except InvalidSignature:
        raise ArtifactError(
            f"{p}: signature does not match manifest.json (tampered, or signed by another key)"
        ) from None


def load_public_key(public_key: str | Path | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM bytes or a PEM file; ArtifactError otherwise."""
    pem = _pem_bytes(public_key, "public key")
    try:
        key = load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise ArtifactError(f"cannot read the public key: {_line(exc)}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ArtifactError("the public key is not an Ed25519 public key")
    return key


def _pem_bytes(key: str | Path | bytes, what: str) -> bytes:
    if isinstance(key, bytes):
        return key
    try:
        data = Path(key).read_bytes()
    except OSError as exc:
        raise ArtifactError(f"cannot read the {what} file {key}: {exc.strerror}") from None
    if len(data) > 64 * 1024:
        raise ArtifactError(f"the {what} file {key} is too large to be a key")
    return data


def _public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
