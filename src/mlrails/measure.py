"""Measurements of the host and of work done on it, for anyone who records what ran where.

* :class:`PeakMemory` — the peak memory a piece of work needed (MiB);
* :func:`batch_peak_mib` — the peak memory one batch prediction allocates (MiB);
* :func:`file_hash` — SHA-256 of a file's bytes;
* :func:`machine` — the host (name, platform, Python, CPU, memory), a :class:`Machine`;
* :func:`package_versions` — versions of the installed :data:`PACKAGES`.

Benchmarks record these as provenance; ``mlrails describe`` writes them into descriptors.
"""

from __future__ import annotations

import hashlib
import os
import platform
import socket
import sys
import tracemalloc
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from mlrails.errors import MlrailsError

#: distributions whose versions a record keeps (those installed)
PACKAGES = (
    "mlrails",
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "torch",
    "adversarial-robustness-toolbox",
    "ray",
    "shap",
    "skops",
)

_CHUNK = 1 << 20


class ProvenanceError(MlrailsError):
    """An input of a recorded run cannot be hashed, or no longer matches the record."""


class Machine(BaseModel):
    """Where the run happened."""

    model_config = ConfigDict(extra="forbid")

    hostname: str
    platform: str
    python: str
    cpu: str
    cpu_count: int
    memory_gb: float | None = None


class PeakMemory:
    """The peak memory a piece of work needed above what the process held when it began,
    in MiB. On Linux the kernel's peak resident set (``VmHWM``) is reset at the start and
    read at the end — free of overhead; elsewhere Python's allocations are traced
    (``tracemalloc``, which NumPy reports to, at about twice the run time)."""

    def __init__(self) -> None:
        self._rss0 = _rss_kib("VmRSS") if _reset_peak_rss() else None
        self._tracing = False
        if self._rss0 is None:
            self._tracing = not tracemalloc.is_tracing()
            if self._tracing:
                tracemalloc.start()
            else:
                tracemalloc.reset_peak()

    def stop(self) -> float:
        if self._rss0 is not None:
            peak = _rss_kib("VmHWM")
            return max(0.0, ((peak or 0) - self._rss0) / 1024)
        mib = tracemalloc.get_traced_memory()[1] / 2**20
        if self._tracing:
            tracemalloc.stop()
        return float(mib)


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _rss_kib("VmHWM") is not None
    except OSError:
        return False


def _rss_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def batch_peak_mib(predict: Callable[[Any], Any], make_batch: Callable[[], Any]) -> float:
    """Peak memory of one batch prediction above what was held when it began, in MiB: the
    batch ``make_batch`` builds (as a service holds the rows it decoded) and everything the
    model allocates on it, by tracemalloc's peak (NumPy and pandas report their buffers to
    it). The peak resident set would barely move: the allocator reuses freed pages."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        batch = make_batch()
        predict(batch)
        peak = tracemalloc.get_traced_memory()[1]
        del batch
    finally:
        if started:
            tracemalloc.stop()
    return max(0, peak - base) / 2**20


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes; :class:`ProvenanceError` if it cannot be read."""
    h = hashlib.sha256()
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    except OSError as exc:
        raise ProvenanceError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return h.hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of the :data:`PACKAGES` that are installed (others are left out)."""
    out: dict[str, str] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def machine() -> Machine:
    """The host: name, platform, Python, CPU model and count, memory in GiB (if known)."""
    return Machine(
        hostname=socket.gethostname(),
        platform=platform.platform(),
        python=sys.version.split()[0],
        cpu=_cpu_model(),
        cpu_count=os.cpu_count() or 1,
        memory_gb=_memory_gb(),
    )


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Hardware", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _memory_gb() -> float | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if pages <= 0 or size <= 0:
        return None
    return round(pages * size / 2**30, 1)
