"""The artifact's manifest: format constants, the typed ``manifest.json``, its hashes.

``manifest.json`` holds the format and versions, the model block, the SHA-256 of every file,
the artifact hash over the content files (:func:`artifact_hash`) and, from format 2, the
``manifest_hash`` over the rest of the manifest (:func:`manifest_digest`). :func:`read_manifest`
is the one reader (bounded, format and version checked) for the loader and anyone who only needs
the task, classes or hashes of an artifact.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from mlrails.artifact.reading import MAX_MANIFEST_BYTES, SAFE_NAME, parse_json, read_bounded
from mlrails.errors import ArtifactError

FORMAT = "mlrails-artifact"
#: 2: the manifest carries ``manifest_hash`` (covers summary, task, classes, model block);
#: format 1 artifacts still load, with an :class:`UnverifiedManifestWarning`
FORMAT_VERSION = 2
SUPPORTED_VERSIONS = (1, 2)
CONTENT_FILES = ("contract.json", "policy.json", "state.json", "arrays.npz")
#: content files present when the rails keep a drift reference (hashed like the others)
REFERENCE_FILES = ("reference_inputs.npz", "reference_outputs.npz")
#: the detached signature written by ``fit --sign-key`` / ``mlrails sign`` (never hashed)
SIGNATURE_FILE = "signature.json"

SafeName = Annotated[str, StringConstraints(pattern=SAFE_NAME.pattern, max_length=1024)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelBlock(_Strict):
    framework: str
    framework_version: str
    model_class: str
    task: Literal["classification", "regression"]
    n_classes: int | None = None


class SafeguardBlock(_Strict):
    name: str
    mode: str
    threshold: float | None
    target_fpr: float | None
    realised_fpr: float | None
    n_calibration: int | None


class CalibrationBlock(_Strict):
    method: str
    ece_before: float | None
    ece_after: float | None
    nll_before: float | None = None
    nll_after: float | None = None


class TradeoffBlock(_Strict):
    alpha: float
    coverage: float
    certified_coverage: float


class BudgetBlock(_Strict):
    calibration_method: str
    false_alarm_rate: float | None
    realised_false_alarm: float | None
    silent_failure_rate: float | None
    confidence: float
    tolerance: float | None = None
    action: str = "low_confidence"
    threshold: float | None = None
    certified_coverage: float | None = None
    certified_error: float | None = None
    upper_bound: float | None = None
    n_certifying: int = 0
    error_score: str = ""
    error_auroc: float | None = None
    baseline_auroc: float | None = None
    tradeoff: list[TradeoffBlock] = []
    guarantee: str = ""


class SummaryBlock(_Strict):
    task: str = ""
    n_train: int = 0
    n_calibration: int = 0
    safeguards: list[SafeguardBlock] = []
    calibration: CalibrationBlock | None = None
    conformal_coverage: float | None = None
    calibration_accuracy: float | None = None
    notes: list[str] = []
    budget: BudgetBlock | None = None


class Manifest(_Strict):
    """``manifest.json``: every key the loader reads, typed; anything else is refused."""

    format: Literal["mlrails-artifact"]
    format_version: int
    mlrails_version: str
    created_at: str
    python: str
    platform: str
    libraries: dict[str, str]
    task: Literal["classification", "regression"]
    model: ModelBlock
    classes: list[str | int | float | bool] | None
    files: dict[SafeName, Sha256]
    model_file: SafeName | None
    artifact_hash: Sha256
    summary: SummaryBlock | None = None
    #: SHA-256 of the canonical manifest without this key (format 2 on): covers summary, task,
    #: classes and the model block, which the artifact hash does not
    manifest_hash: Sha256 | None = None


def validate_manifest(where: Path, raw: Any) -> Manifest:
    """``raw`` (parsed manifest.json) as a :class:`Manifest`, or one ArtifactError line."""
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(x) for x in err["loc"]) or "(top level)"
        raise ArtifactError(
            f"{where}: manifest.json field {field}: {err['msg']} ({exc.error_count()} error(s))"
        ) from None


def manifest_digest(raw: dict[str, Any]) -> str:
    """The ``manifest_hash`` of a manifest: SHA-256 of its canonical JSON without that key."""
    body = {k: v for k, v in raw.items() if k != "manifest_hash"}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def canonical_json(obj: Any) -> bytes:
    """The artifact's canonical JSON bytes: sorted keys (an object's key order never survives
    a save), 2-space indent."""
    return json.dumps(obj, indent=2, sort_keys=True, default=plain_scalar).encode("utf-8")


def plain_scalar(value: Any) -> Any:
    """What :func:`json.dumps` cannot write, as a JSON value: NumPy scalars and arrays as
    Python ones, anything else as its text."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def artifact_hash(hashes: dict[str, str]) -> str:
    """SHA-256 over the sorted ``name:sha256`` lines of the content files' hashes."""
    h = hashlib.sha256()
    for name in sorted(hashes):
        h.update(f"{name}:{hashes[name]}\n".encode())
    return h.hexdigest()


def read_manifest(p: Path) -> tuple[bytes, dict[str, Any]]:
    """manifest.json's bytes and parsed object, bounded; format and version checked."""
    if not p.is_dir():
        raise ArtifactError(f"{p}: not an artifact directory (does not exist or is a file)")
    if not (p / "manifest.json").exists() and not (p / "manifest.json").is_symlink():
        raise ArtifactError(f"{p}: manifest.json is missing; not an mlrails artifact")
    data = read_bounded(p, "manifest.json", MAX_MANIFEST_BYTES)
    manifest = parse_json(p, "manifest.json", data)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArtifactError(f"{p}: manifest.json is not an mlrails artifact manifest")
    version = manifest.get("format_version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise ArtifactError(
            f"{p}: manifest.json format version {str(version)[:20]!r} is not supported by "
            "this mlrails "
            f"(supports {', '.join(map(str, SUPPORTED_VERSIONS))}); "
            "re-fit the rails or install a matching mlrails"
        )
    if not isinstance(manifest.get("files"), dict):
        raise ArtifactError(f"{p}: manifest.json lists no file hashes")
    return data, manifest


class UnverifiedManifestWarning(UserWarning):
    """A format 1 artifact: its summary, task and classes are not covered by any hash."""


def check_manifest_hash(p: Path, m: Manifest, raw: dict[str, Any]) -> None:
    """Format 2 on: ``manifest_hash`` must match; format 1 loads, with a warning."""
    if m.format_version == 1:
        warnings.warn(
            f"{p}: format 1 artifact; its summary, task and classes are not covered by its "
            "hashes (re-fit or re-save to cover them)",
            UnverifiedManifestWarning,
            stacklevel=3,
        )
        return
    if m.manifest_hash is None:
        raise ArtifactError(f"{p}: manifest.json has no manifest_hash (format {m.format_version})")
    if manifest_digest(raw) != m.manifest_hash:
        raise ArtifactError(
            f"{p}: manifest.json does not match its manifest_hash (tampered or corrupt)"
        )
