"""`mlrails keygen`, `fit --sign-key`, `sign` and `serve --require-signature` as real
subprocesses: serve refuses to start (one line, exit code 2) on an unsigned or forged artifact."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
import skops.io as sio
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from runcli import MLRAILS, run_cli


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("signcli")
    X, y = make_classification(n_samples=300, n_features=4, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(4)])
    sio.dump(LogisticRegression().fit(frame, y), root / "model.skops")
    frame.assign(target=y).to_csv(root / "train.csv", index=False)
    res = run_cli("keygen", root / "key")
    assert res.returncode == 0, res.stderr
    return root


def _fit(root: Path, out: str, *extra: object) -> None:
    res = run_cli(
        "fit", root / "model.skops", root / "train.csv", "-t", "target", "-o", root / out, *extra
    )
    assert res.returncode == 0, res.stderr


def _serve(root: Path, art: str, key: Path) -> tuple[int, str]:
    res = run_cli(
        "serve",
        root / art,
        "--port",
        "0",
        "--auth",
        "off",
        "--store",
        f"sqlite:///{root / (art + '.db')}",
        "--require-signature",
        key,
        timeout=120,
    )
    return res.returncode, res.stderr.strip()


def test_keygen_writes_a_private_0600_key_and_a_public_key(root: Path) -> None:
    assert stat.S_IMODE(os.stat(root / "key").st_mode) == 0o600
    assert b"PUBLIC KEY" in (root / "key.pub").read_bytes()
    again = run_cli("keygen", root / "key")
    assert again.returncode != 0 and "exists" in again.stderr


def test_fit_sign_key_writes_a_signature_that_check_accepts(root: Path) -> None:
    _fit(root, "signed", "--sign-key", root / "key")
    assert (root / "signed" / "signature.json").is_file()


def test_serve_refuses_an_unsigned_artifact_in_one_line(root: Path) -> None:
    _fit(root, "unsigned")
    code, err = _serve(root, "unsigned", root / "key.pub")
    assert code == 2 and "not signed" in err and len(err.splitlines()) == 1, err


def test_serve_refuses_a_signature_by_another_key(root: Path) -> None:
    _fit(root, "signed2", "--sign-key", root / "key")
    assert run_cli("keygen", root / "other").returncode == 0
    code, err = _serve(root, "signed2", root / "other.pub")
    assert code == 2 and "another key" in err and len(err.splitlines()) == 1, err


def test_sign_signs_an_existing_artifact_and_refuses_a_tampered_one(root: Path) -> None:
    _fit(root, "later")
    res = run_cli("sign", root / "later", "--key", root / "key")
    assert res.returncode == 0, res.stderr
    assert (root / "later" / "signature.json").is_file()
    (root / "later" / "policy.json").write_text("{}")
    res = run_cli("sign", root / "later", "--key", root / "key")
    assert res.returncode == 2 and "policy.json" in res.stderr


def test_serve_starts_on_an_artifact_signed_by_the_required_key(root: Path) -> None:
    _fit(root, "served", "--sign-key", root / "key")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [str(MLRAILS), "serve", str(root / "served"), "--port", str(port), "--auth", "off"]
    argv += ["--store", f"sqlite:///{root / 'served.db'}", "--require-signature"]
    argv += [str(root / "key.pub"), "--log-level", "warning"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
