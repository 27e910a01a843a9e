"""The measurement helpers: peak memory, file hashes, the machine, package versions."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from mlrails import measure
from mlrails.measure import ProvenanceError, file_hash, machine, package_versions


@pytest.mark.parametrize("kernel", [True, False])
def test_peak_memory_of_a_piece_of_work(kernel: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not kernel:  # the portable fallback: traced Python/NumPy allocations
        monkeypatch.setattr(measure, "_reset_peak_rss", lambda: False)
    elif not measure._reset_peak_rss():
        pytest.skip("no /proc/self/clear_refs here")
    meter = measure.PeakMemory()
    block = np.ones(50 * 2**20 // 8)  # 50 MiB, touched
    del block
    assert meter.stop() == pytest.approx(50, rel=0.1)
    assert measure.PeakMemory().stop() < 5  # nothing allocated: next to nothing


def test_package_versions() -> None:
    got = package_versions()
    for name in ("mlrails", "numpy", "scipy", "scikit-learn", "pandas"):
        assert got[name] == metadata.version(name)
    assert set(got) <= {
        "mlrails", "numpy", "scipy", "scikit-learn", "pandas", "torch",
        "adversarial-robustness-toolbox", "ray", "shap", "skops",
    }  # fmt: skip


def test_machine() -> None:
    m = machine()
    assert m.hostname and m.platform and m.cpu and m.cpu_count >= 1
    assert m.python.count(".") == 2
    assert m.memory_gb is None or m.memory_gb > 0


def test_file_hash_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    f = tmp_path / "weights.bin"
    data = bytes(range(256)) * 5000  # more than one read chunk
    f.write_bytes(data)
    assert file_hash(f) == hashlib.sha256(data).hexdigest()
    with pytest.raises(ProvenanceError, match="cannot read"):
        file_hash(tmp_path / "missing.bin")


def test_batch_peak_mib_counts_the_batch_and_what_predict_allocates() -> None:
    mib = measure.batch_peak_mib(lambda b: np.ones(10 * 2**20 // 8) + b.sum(), lambda: np.ones(8))
    assert mib == pytest.approx(10, rel=0.2)
