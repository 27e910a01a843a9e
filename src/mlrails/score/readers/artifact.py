"""The **artifact** source: a rails directory, verified without loading the model.

``manifest.json`` is read and every content file, drift reference file and the bundled model
file is checked against its SHA-256 in the manifest, then the artifact hash (as
:func:`mlrails.load` does); ``contract.json`` and ``policy.json`` are parsed. The model is never
loaded (no skops, no pickle): the facts come from the manifest, contract and policy only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from mlrails.score.facts import ArtifactFacts, SafeguardFact
from mlrails.score.readers.common import Unusable, optional_float, optional_time


def read_artifact(path: Path) -> ArtifactFacts:
    """Verify the artifact's file hashes and read its manifest, contract and policy."""
    from pydantic import ValidationError

    from mlrails.artifact.manifest import (
        CONTENT_FILES,
        REFERENCE_FILES,
        artifact_hash,
        read_manifest,
    )
    from mlrails.contract import InputContract
    from mlrails.errors import ArtifactError
    from mlrails.guard.policy import Policy

    try:
        _, manifest = read_manifest(path)
    except ArtifactError as exc:
        raise Unusable(str(exc)) from None
    listed: dict[str, Any] = manifest["files"]
    content = [*CONTENT_FILES, *(f for f in REFERENCE_FILES if f in listed)]
    model_file = manifest.get("model_file") or None
    blobs: dict[str, bytes] = {}
    for name in [*content, *([model_file] if model_file else [])]:
        f = path / name
        if not f.is_file():
            raise Unusable(f"{path}: artifact file {name} is missing")
        blob = f.read_bytes()
        if hashlib.sha256(blob).hexdigest() != listed.get(name):
            raise Unusable(
                f"{path}: {name} does not match its hash in manifest.json (tampered or corrupt)"
            )
        if name in ("contract.json", "policy.json"):
            blobs[name] = blob
    if artifact_hash({k: listed.get(k, "") for k in content}) != manifest.get("artifact_hash"):
        raise Unusable(f"{path}: artifact hash in manifest.json does not match its files")
    try:
        contract = InputContract.model_validate_json(blobs["contract.json"])
        policy = Policy.model_validate_json(blobs["policy.json"])
    except ValidationError as exc:
        raise Unusable(f"{path}: contract.json or policy.json is not valid ({exc.title})") from None
    summary = manifest.get("summary") or {}
    calibration = summary.get("calibration") or {}
    safeguards = tuple(
        SafeguardFact(
            str(s.get("name")),
            str(s.get("mode")),
            optional_float(s.get("target_fpr")),
            optional_float(s.get("realised_fpr")),
        )
        for s in summary.get("safeguards") or []
        if isinstance(s, dict)
    )
    model = manifest.get("model") or {}
    return ArtifactFacts(
        path=str(path),
        hash=str(manifest.get("artifact_hash")),
        created_at=optional_time(manifest.get("created_at")),
        task=str(manifest.get("task")),
        model_class=str(model.get("model_class", "")),
        n_fields=len(contract.fields),
        layout=contract.layout,
        validation_mode=policy.validation.mode,
        ood_mode=policy.ood.mode,
        ood_detector=policy.ood.detector,
        adversarial_mode=policy.adversarial.mode,
        adversarial_detectors=tuple(policy.adversarial.detectors),
        reliability_mode=policy.reliability.mode,
        calibration_method=policy.reliability.calibration,
        coverage_target=policy.reliability.coverage,
        explanation_when=policy.explanation.when,
        safeguards=safeguards,
        ece_before=optional_float(calibration.get("ece_before")),
        ece_after=optional_float(calibration.get("ece_after")),
        nll_before=optional_float(calibration.get("nll_before")),
        nll_after=optional_float(calibration.get("nll_after")),
        conformal_coverage=optional_float(summary.get("conformal_coverage")),
        n_train=int(summary.get("n_train") or 0),
        n_calibration=int(summary.get("n_calibration") or 0),
        drift_reference=tuple(f for f in REFERENCE_FILES if f in listed),
        model_file=model_file,
        libraries={str(k): str(v) for k, v in (manifest.get("libraries") or {}).items()},
    )
