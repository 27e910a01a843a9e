"""Provenance of a benchmark run: what exactly was measured, with what, where.

These functions fill the provenance part of a :class:`~mlrails.bench.record.RunRecord` —
hashes of the config, the data, every artifact and model, package versions, the git commit
and the machine — so that ``mlrails bench verify`` can tell "the numbers changed" apart from
"the inputs changed", and a regression gate knows what it compares.

Hash conventions (all SHA-256, hex):

* **config**: canonical JSON (sorted keys, no whitespace) of the config as measured. Paths
  under ``base`` (the config's directory) are written relative to it, others absolute, so
  moving a project directory with its config does not change the hash. ``workers`` and
  ``executor`` are left out: they decide where cells run, not what they measure (every cell
  is seeded by its own spec, so the numbers do not depend on them).
* **data**: :func:`~mlrails.bench.cell.rows_hash` of the loaded rows (and labels), so the
  same table read from CSV or Parquet hashes alike.
* **artifact**: over the sorted ``(relative path, file SHA-256)`` of every file in the
  artifact directory — any byte changed, added or removed changes it (re-saving the same
  rails changes it too, as the manifest records the time of saving).
* **model**: the model file's bytes; without one, the artifact's bundled model file; for an
  artifact without a bundled model, the artifact hash of its manifest (which covers the
  model's predictions on the probe rows).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlrails.artifact.manifest import read_manifest
from mlrails.bench.cell import rows_hash
from mlrails.bench.record import PairRecord
from mlrails.measure import ProvenanceError, file_hash

if TYPE_CHECKING:
    from mlrails.bench.grid import GridConfig, PairConfig
    from mlrails.guard.rails import Rails

#: config keys that decide where cells run or their results go, not what they measure
_SCHEDULING = ("workers", "executor", "ray_address", "out")

#: where paths live in a dumped GridConfig (``*``: any list index)
_PATHS = frozenset(
    {
        ("artifact",),
        ("data", "test"),
        ("data", "reference"),
        ("models", "*", "artifact"),
        ("models", "*", "model"),
    }
)


def config_hash(config: GridConfig, base: Path | None = None) -> str:
    """SHA-256 of the canonical JSON of ``config`` (see the module docstring): paths under
    ``base`` relative to it, the scheduling keys of :data:`_SCHEDULING` left out."""
    return canonical_hash(config.model_dump(mode="json"), base)


def canonical_hash(config: dict[str, Any], base: Path | None = None) -> str:
    """:func:`config_hash` of a config already dumped to JSON form (as a record keeps it)."""
    norm = {k: v for k, v in config.items() if k not in _SCHEDULING}
    norm = _normalise(norm, (), _PATHS, base)
    text = json.dumps(norm, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _normalise(
    value: Any, where: tuple[str, ...], paths: frozenset[tuple[str, ...]], base: Path | None
) -> Any:
    if isinstance(value, dict):
        return {str(k): _normalise(v, (*where, str(k)), paths, base) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, (*where, "*"), paths, base) for v in value]
    if isinstance(value, str) and where in paths:
        return _portable_path(value, base)
    return value


def _portable_path(text: str, base: Path | None) -> str:
    p = Path(os.path.normpath(text))
    if base is not None and p.is_absolute():
        try:
            return p.relative_to(Path(os.path.normpath(base.resolve()))).as_posix()
        except ValueError:
            pass
    return p.as_posix()


def data_hashes(X: Any, y: Any, reference: Any = None) -> dict[str, str]:
    """``{"test": hash of X and y, "reference": hash of the reference rows}`` (the reference
    entry only when one is given)."""
    out = {"test": rows_hash(X, y)}
    if reference is not None:
        out["reference"] = rows_hash(reference)
    return out


def directory_hash(path: Path) -> str:
    """SHA-256 over the sorted ``(relative path, file SHA-256)`` of every file under the
    artifact directory ``path``."""
    if not path.is_dir():
        raise ProvenanceError(f"{path}: not an artifact directory (does not exist or is a file)")
    files = sorted((f.relative_to(path).as_posix(), f) for f in path.rglob("*") if f.is_file())
    h = hashlib.sha256()
    for rel, f in files:
        h.update(f"{rel}:{file_hash(f)}\n".encode())
    return h.hexdigest()


def model_hash(pair: PairConfig) -> str:
    """SHA-256 of the pair's model file, else of the artifact's bundled model file, else the
    artifact hash written in its manifest (it covers the model's probe predictions).
    :class:`~mlrails.errors.ArtifactError` if the artifact has no readable manifest."""
    if pair.model is not None:
        return file_hash(Path(pair.model))
    _, manifest = read_manifest(Path(pair.artifact))
    bundled = manifest.get("model_file")
    if isinstance(bundled, str) and bundled:
        return file_hash(Path(pair.artifact) / bundled)
    fingerprint = manifest.get("artifact_hash")
    if not isinstance(fingerprint, str):
        raise ProvenanceError(f"{pair.artifact}: manifest.json has no artifact_hash")
    return fingerprint


def pair_record(pair: PairConfig, rails: Rails) -> PairRecord:
    """The hashes that pin a (model, artifact) pair, and what its model is."""
    info = rails.adapter.info()
    return PairRecord(
        name=pair.name,
        artifact=str(pair.artifact),
        artifact_hash=directory_hash(Path(pair.artifact)),
        model=None if pair.model is None else str(pair.model),
        model_hash=model_hash(pair),
        model_class=info.model_class,
        task=str(info.task),
    )


def git_commit(cwd: str | Path) -> str | None:
    """``HEAD``'s commit of the git work tree holding ``cwd``, with ``+dirty`` when tracked
    files differ from it (untracked files are ignored); ``None`` outside a work tree or
    without git. Read-only: no index refresh, no lock taken."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    base = ["git", "--no-optional-locks", "-C", str(cwd)]
    try:
        head = subprocess.run(
            [*base, "rev-parse", "--verify", "-q", "HEAD"],
            capture_output=True, text=True, timeout=10, env=env, check=False,
        )  # fmt: skip
        if head.returncode != 0 or not head.stdout.strip():
            return None
        status = subprocess.run(
            [*base, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=30, env=env, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    dirty = status.returncode != 0 or bool(status.stdout.strip())
    return commit + "+dirty" if dirty else commit
