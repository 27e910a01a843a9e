"""Signing artifacts: ``mlrails keygen`` writes an Ed25519 key pair, ``mlrails sign`` signs an
artifact with it (``fit --sign-key`` and ``serve --require-signature`` use the same keys)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mlrails.cli.console import console, fail
from mlrails.errors import MlrailsError


def keygen(
    private_key: Annotated[
        Path, typer.Argument(help="Private key PEM to write (mode 0600; keep it secret).")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option("--public", help="Public key PEM to write (default: PRIVATE_KEY.pub)."),
    ] = None,
) -> None:
    """Write an Ed25519 key pair for signing artifacts (`fit --sign-key`, `mlrails sign`)."""
    from mlrails.artifact.signing import generate_keypair

    pub = public_key or private_key.with_name(private_key.name + ".pub")
    for f in (private_key, pub):
        if f.exists():
            fail(f"{f} exists; not overwriting a key")
    try:
        fingerprint = generate_keypair(private_key, pub)
    except OSError as exc:
        fail(f"cannot write the key pair: {exc.strerror}")
    console.print(f"private key {private_key}, public key {pub} (sha256 {fingerprint[:16]})")


def sign(
    artifact: Annotated[Path, typer.Argument(help="Artifact directory written by `mlrails fit`.")],
    key: Annotated[Path, typer.Option("--key", help="Ed25519 private key PEM.")],
) -> None:
    """Sign an existing artifact (after verifying its hashes): writes signature.json."""
    from mlrails.artifact.io import verify_files
    from mlrails.artifact.signing import sign_artifact

    try:
        verify_files(artifact)
        out = sign_artifact(artifact, key)
    except MlrailsError as exc:
        fail(str(exc))
    console.print(f"[green]signed:[/] {out}")
