"""Save and load a rails artifact: a directory of JSON files and one ``.npz``, hashed.

Layout::

    manifest.json   format, versions, model info, file hashes, artifact hash, fit summary
    contract.json   the input contract
    policy.json     the guard policy
    state.json      JSON metadata of every fitted component
    arrays.npz      NumPy arrays of every fitted component (loaded with allow_pickle=False)
    reference_inputs.npz, reference_outputs.npz
                    drift reference: training inputs and calibration-split outputs
                    (:class:`mlrails.drift.monitor.TrafficReference`; absent in artifacts
                    written before it existed, which still load, without it)

The JSON files are written with sorted keys (canonical bytes, so equal rails hash equal);
hence no saved state carries meaning in the order of an object's keys: whatever is ordered
(one-hot vocabularies, columns, detectors) is saved as a list.

The artifact hash covers the content files; the model enters it through the
predictions stored for the probe rows (its fingerprint), because a bundled ``model.skops`` is
not byte-reproducible (skops names its entries by object id). The bundled model file (and, for
an XGBoost / LightGBM model stored natively, its booster and pipeline parts, see
:mod:`mlrails.models.native`) is still verified against its own hash in the manifest.
Nothing in an artifact can execute code when loaded. Loading verifies every file's SHA-256
and the artifact hash, the format version, and that the model handed in reproduces the
predictions stored for the probe rows, and refuses anything else with :class:`ArtifactError`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import platform
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mlrails._state import State, flatten_states, unflatten_states
from mlrails.artifact.manifest import (
    CONTENT_FILES,
    FORMAT,
    FORMAT_VERSION,
    REFERENCE_FILES,
    SIGNATURE_FILE,
    Manifest,
    artifact_hash,
    canonical_json,
    check_manifest_hash,
    manifest_digest,
    plain_scalar,
    read_manifest,
    validate_manifest,
)
from mlrails.artifact.reading import check_npz, parse_json, read_bounded, safe_path
from mlrails.contract import InputContract
from mlrails.detectors import detector_from_state
from mlrails.detectors.threshold import Threshold
from mlrails.drift.batch import BatchShiftTest
from mlrails.drift.monitor import TrafficReference
from mlrails.drift.profile import ReferenceProfile
from mlrails.errors import ArtifactError, MlrailsError, ModelUnavailable
from mlrails.guard.policy import Policy
from mlrails.guard.rails import FitSummary, Rails
from mlrails.models import SklearnAdapter, as_adapter, load_model
from mlrails.models.native import dump_native, is_native_model
from mlrails.reliability import calibrator_from_state, conformal_from_state
from mlrails.reliability.error_score import ErrorScorer
from mlrails.reliability.risk import RiskCertificate
from mlrails.version import __version__

LIBRARIES = ("numpy", "scipy", "scikit-learn", "pandas", "shap", "skops", "pydantic")


def content_blobs(rails: Rails) -> dict[str, bytes]:
    """The four content files of the artifact, as bytes (deterministic for equal rails)."""
    states: dict[str, State] = {}
    if rails.ood is not None:
        states["ood"] = rails.ood.get_state()
    for det in rails.adversarial:
        states[f"adversarial.{det.name}"] = det.get_state()
    if rails.calibrator is not None:
        states["calibrator"] = _wrap(rails.calibrator)
    if rails.conformal is not None:
        states["conformal"] = _wrap(rails.conformal)
    if rails.error_scorer is not None:
        states["error_score"] = rails.error_scorer.get_state()
    if rails.batch_shift is not None:
        states["batch_shift"] = rails.batch_shift.get_state()
    states["background"] = _table_state(rails.background)
    probe = _model_output(rails, rails.background)
    states["probe"] = State(meta={}, arrays={"output": probe})
    meta, arrays = flatten_states(states)
    meta["min_confidence"] = (
        None if rails.min_confidence is None else rails.min_confidence.to_dict()
    )
    # the order the detectors run in (and are reported in): a list, not the keys' order
    meta["adversarial_order"] = [det.name for det in rails.adversarial]
    meta["certificate"] = None if rails.certificate is None else rails.certificate.to_dict()
    meta["error_inputs"] = list(rails.error_inputs)

    blobs = {
        "contract.json": canonical_json(rails.contract.model_dump(mode="json")),
        "policy.json": canonical_json(rails.policy.model_dump(mode="json")),
        "state.json": canonical_json(meta),
        "arrays.npz": _npz_bytes(arrays),
    }
    ref = rails.reference
    if ref is not None:
        if ref.inputs is not None:
            blobs["reference_inputs.npz"] = ref.inputs.to_bytes()
        if ref.outputs is not None:
            blobs["reference_outputs.npz"] = ref.outputs.to_bytes()
    return blobs


def content_hash(rails: Rails) -> str:
    """The artifact hash ``rails`` will have when saved (the model enters via its probe
    predictions)."""
    blobs = content_blobs(rails)
    return artifact_hash({k: hashlib.sha256(b).hexdigest() for k, b in blobs.items()})


def save_artifact(rails: Rails, path: Path) -> str:
    """Write ``rails`` to the directory ``path`` (created or overwritten); returns its hash."""

    blobs = content_blobs(rails)
    content = list(blobs)
    path.mkdir(parents=True, exist_ok=True)
    for stale in REFERENCE_FILES:  # an overwritten artifact keeps no old reference
        if stale not in blobs:
            (path / stale).unlink(missing_ok=True)
    bundled = _bundle_model(rails.adapter)
    if bundled is not None:
        blobs.update(bundled[1])
    hashes = {name: hashlib.sha256(b).hexdigest() for name, b in blobs.items()}
    fingerprint = artifact_hash({k: hashes[k] for k in content})
    info = rails.adapter.info()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "mlrails_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": _library_versions(),
        "task": rails.task,
        "model": asdict(info),
        "classes": None
        if rails.adapter.classes_ is None
        else [plain_scalar(c) for c in np.asarray(rails.adapter.classes_)],
        "files": hashes,
        "model_file": None if bundled is None else bundled[0],
        "artifact_hash": fingerprint,
        "summary": asdict(rails.summary),
    }
    manifest = json.loads(canonical_json(manifest))  # as it will read back (plain JSON values)
    manifest["manifest_hash"] = manifest_digest(manifest)
    (path / SIGNATURE_FILE).unlink(missing_ok=True)  # a re-save is not what was signed
    for name, b in blobs.items():
        (path / name).write_bytes(b)
    (path / "manifest.json").write_bytes(canonical_json(manifest))
    rails.manifest = manifest
    return fingerprint


def load_artifact(
    path: str | Path,
    model: Any = None,
    *,
    task: str | None = None,
    check_model: bool = True,
    trust: bool = False,
    public_key: str | Path | bytes | None = None,
) -> Rails:
    """Load and verify an artifact around ``model`` (the trained model it was fitted on).

    Without ``model``, the model file bundled in the artifact is loaded (safe formats only,
    unless ``trust``). With ``public_key`` (an Ed25519 public key PEM, or its path) the
    artifact must carry a valid ``signature.json`` by the matching private key.

    Order: manifest.json read bounded → signature (if required) → schema → manifest hash →
    file names → file hashes → content parsed with bounds → objects built; each step's failure
    is one :class:`ArtifactError` line naming the file.
    """
    p = Path(path)
    m, manifest, blobs = verify_files(p, public_key)
    content_names = [n for n in blobs]
    for name in ("contract.json", "policy.json"):
        parse_json(p, name, blobs[name])  # bounded depth before pydantic sees it
    meta = parse_json(p, "state.json", blobs["state.json"])
    for name in content_names:
        if name.endswith(".npz"):
            check_npz(p, name, blobs[name])
    if not isinstance(meta, dict):
        raise ArtifactError(f"{p}: state.json is not a JSON object")
    try:
        contract = InputContract.model_validate_json(blobs["contract.json"])
        policy = Policy.model_validate_json(blobs["policy.json"])
        with np.load(io.BytesIO(blobs["arrays.npz"]), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, TypeError, OSError) as exc:
        kind = type(exc).__name__
        raise ArtifactError(f"{p}: cannot read artifact ({kind}: {_line(exc)})") from None
    try:
        return _build(
            p, m, manifest, blobs, meta, arrays, contract, policy, model, task, check_model, trust
        )
    except MlrailsError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError) as exc:
        # the files verified, but their content does not fit together
        raise ArtifactError(
            f"{p}: fitted state is incomplete or incompatible ({type(exc).__name__}: {_line(exc)})"
        ) from None


def verify_files(
    p: Path, public_key: str | Path | bytes | None = None
) -> tuple[Manifest, dict[str, Any], dict[str, bytes]]:
    """Check everything but the content's meaning: manifest.json read bounded, its signature
    (with ``public_key``), its schema and ``manifest_hash``, every file name, every file's
    hash and the artifact hash. Returns the manifest (typed and raw) and the content files."""
    manifest_bytes, manifest = read_manifest(p)
    if public_key is not None:
        from mlrails.artifact.signing import verify_artifact

        verify_artifact(p, manifest_bytes, public_key)
    m = validate_manifest(p, manifest)
    check_manifest_hash(p, m, manifest)
    blobs: dict[str, bytes] = {}
    listed = dict(m.files)
    for name in listed:
        safe_path(p, name)
    if m.model_file is not None:
        safe_path(p, m.model_file)
    content_names = [*CONTENT_FILES, *(f for f in REFERENCE_FILES if f in listed)]
    for name in content_names:
        if name not in listed:
            raise ArtifactError(f"{p}: manifest.json lists no hash for {name}")
        blobs[name] = read_bounded(p, name)
        if hashlib.sha256(blobs[name]).hexdigest() != listed[name]:
            raise ArtifactError(
                f"{p}: {name} does not match its hash in manifest.json (tampered or corrupt)"
            )
    content = {k: listed[k] for k in content_names}
    if artifact_hash(content) != m.artifact_hash:
        raise ArtifactError(f"{p}: artifact hash in manifest.json does not match its files")
    if m.model_file:  # the model file and its parts (a native booster, pipeline steps)
        for name in [m.model_file, *(f for f in listed if f not in content_names)]:
            if name not in listed:
                raise ArtifactError(f"{p}: manifest.json lists no hash for {name}")
            if hashlib.sha256(read_bounded(p, name)).hexdigest() != listed[name]:
                raise ArtifactError(f"{p}: bundled model {name} is missing or tampered with")
    return m, manifest, blobs


def _build(
    p: Path,
    m: Manifest,
    manifest: dict[str, Any],
    blobs: dict[str, bytes],
    meta: dict[str, Any],
    arrays: dict[str, NDArray[Any]],
    contract: InputContract,
    policy: Policy,
    model: Any,
    task: str | None,
    check_model: bool,
    trust: bool,
) -> Rails:
    """The rails from verified, parsed files (errors that do not fit become ArtifactError at
    the call site)."""

    model_file = m.model_file
    if model is None:
        if not model_file:
            raise ArtifactError(
                f"{p}: the artifact bundles no model (it was fitted on a model that cannot be "
                "saved safely); pass the model explicitly"
            )

        model = load_model(p / model_file, trust=trust)
    adapter = as_adapter(model, task=task or m.task)
    if adapter.task != m.task:
        raise ArtifactError(f"{p}: artifact was fitted for a {m.task} model, got {adapter.task}")
    if m.classes is not None and adapter.classes_ is None:
        adapter.classes_ = np.asarray(m.classes)  # a model that names no classes
    elif m.classes is not None and adapter.classes_ is not None:
        got_classes = [plain_scalar(c) for c in np.asarray(adapter.classes_)]
        if got_classes != m.classes:
            raise ArtifactError(
                f"{p}: model classes {got_classes} differ from the artifact's {m.classes}"
            )
    min_conf = meta.pop("min_confidence", None)
    adversarial_order = meta.pop("adversarial_order", None)
    certificate = meta.pop("certificate", None)
    error_inputs = meta.pop("error_inputs", None)
    states = unflatten_states(meta, arrays)
    try:
        ood = detector_from_state(states["ood"]) if "ood" in states else None
        adversarial = [
            detector_from_state(states[f"adversarial.{name}"], model=adapter)
            for name in _adversarial_order(states, adversarial_order, policy)
        ]
        calibrator = (
            calibrator_from_state(_unwrap(states["calibrator"])) if "calibrator" in states else None
        )
        conformal = (
            conformal_from_state(_unwrap(states["conformal"])) if "conformal" in states else None
        )
        background = _table_from_state(states["background"])
        scorer = ErrorScorer.from_state(states["error_score"]) if "error_score" in states else None
        batch_shift = (
            BatchShiftTest.from_state(states["batch_shift"]) if "batch_shift" in states else None
        )
        reference = _reference_from_blobs(blobs)
    except MlrailsError:
        raise
    except (KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(f"{p}: fitted state is incomplete or incompatible ({exc})") from None
    summary = (
        FitSummary.from_dict(m.summary.model_dump())
        if m.summary is not None
        else FitSummary(task=adapter.task, n_train=0, n_calibration=0)
    )
    rails = Rails(
        adapter=adapter,
        contract=contract,
        policy=policy,
        ood=ood,
        adversarial=adversarial,
        calibrator=calibrator,
        conformal=conformal,
        min_confidence=None if min_conf is None else Threshold.from_dict(min_conf),
        background=background,
        summary=summary,
        artifact_hash=m.artifact_hash,
        manifest=manifest,
        reference=reference,
        error_scorer=scorer,
        certificate=None if certificate is None else RiskCertificate.from_dict(certificate),
        error_inputs=error_inputs,
        batch_shift=batch_shift,
    )
    if check_model:
        expected = states["probe"].array("output")
        try:
            probe_out = _model_output(rails, background)
        except ModelUnavailable as exc:  # an upstream that cannot answer: say so, not "wrong model"
            raise ModelUnavailable(
                f"{p}: cannot check the model on the artifact's probe rows: {exc.detail}",
                timeout=exc.timeout,
            ) from None
        except Exception as exc:
            raise ArtifactError(
                f"{p}: the model given fails on the artifact's probe rows "
                f"({type(exc).__name__}); is it the model the rails were fitted on?"
            ) from None
        if probe_out.shape != expected.shape or not np.allclose(
            probe_out, expected, rtol=1e-5, atol=1e-6
        ):
            raise ArtifactError(
                f"{p}: the model given does not reproduce the predictions stored in the "
                "artifact; it is not the model these rails were fitted on"
            )
    return rails


# -- helpers -----------------------------------------------------------------------------
def _reference_from_blobs(blobs: dict[str, bytes]) -> Any:
    """The drift reference kept in the artifact, or None (written before it existed)."""
    if not any(f in blobs for f in REFERENCE_FILES):
        return None

    raw_in, raw_out = (blobs.get(f) for f in REFERENCE_FILES)
    return TrafficReference(
        inputs=None if raw_in is None else ReferenceProfile.from_bytes(raw_in),
        outputs=None if raw_out is None else ReferenceProfile.from_bytes(raw_out),
    )


def _adversarial_order(states: dict[str, State], saved: Any, policy: Policy) -> list[str]:
    """Names of the saved adversarial detectors in the order they were fitted and run.

    Artifacts written before the order was saved get it back from the policy: fitting runs
    the policy's detectors in its order and appends any it adds itself (feature squeezing).
    """
    names = [k.removeprefix("adversarial.") for k in states if k.startswith("adversarial.")]
    if saved is not None:
        order = [str(n) for n in saved]
        if sorted(order) != sorted(names):
            raise ArtifactError("saved adversarial detector order does not match their states")
        return order
    listed = list(policy.adversarial.detectors)
    return sorted(names, key=lambda n: (listed.index(n) if n in listed else len(listed), n))


def _bundle_model(adapter: Any) -> tuple[str, dict[str, bytes]] | None:
    """The model as safe files, if possible: (the manifest's ``model_file``, {name: bytes}).

    XGBoost / LightGBM wrappers (alone or as a Pipeline's last step) in their own formats
    (:mod:`mlrails.models.native`), other scikit-learn models as skops, ONNX as its bytes.
    """

    if isinstance(adapter, SklearnAdapter):
        if is_native_model(adapter.native):
            try:
                return dump_native(adapter.native)
            except Exception:  # e.g. a custom objective: fall back to skops (needs trust)
                pass
        try:
            import skops.io as sio

            return "model.skops", {"model.skops": bytes(sio.dumps(adapter.native))}
        except Exception:
            return None
    onnx_bytes = getattr(adapter, "model_bytes", None)
    if isinstance(onnx_bytes, bytes):
        return "model.onnx", {"model.onnx": onnx_bytes}
    return None


def _line(exc: BaseException) -> str:
    """An exception's message on one short line."""
    return " ".join(str(exc).split())[:200]


def _npz_bytes(arrays: dict[str, NDArray[Any]]) -> bytes:
    buf = io.BytesIO()
    for k, v in arrays.items():
        if np.asarray(v).dtype == object:
            raise ArtifactError(f"array {k!r} has object dtype and cannot be saved safely")
    np.savez(buf, allow_pickle=False, **arrays)
    return buf.getvalue()


def _wrap(component: Any) -> State:
    inner = component.get_state()
    return State(meta={"class": type(component).__name__, "state": inner.meta}, arrays=inner.arrays)


def _unwrap(state: State) -> State:
    return State(meta={"class": state.meta["class"], **state.meta["state"]}, arrays=state.arrays)


def _table_state(X: Any) -> State:
    """The explanation background / probe rows as JSON: values, column order and dtypes.

    Column order is the ``order`` list (never a JSON object's key order); a pandas
    Categorical keeps its categories and their order; missing values stay ``null`` (None,
    ``pd.NA``, ``NaT``) or NaN, and the saved dtype puts each column back as it was.
    """
    if isinstance(X, pd.DataFrame):
        cols = {str(c): [_cell(v) for v in X[c].tolist()] for c in X.columns}
        dtypes = {str(c): str(X[c].dtype) for c in X.columns}
        categorical = {
            str(c): {
                "categories": [_cell(v) for v in X[c].cat.categories.tolist()],
                "ordered": bool(X[c].cat.ordered),
            }
            for c in X.columns
            if isinstance(X[c].dtype, pd.CategoricalDtype)
        }
        return State(
            meta={
                "kind": "frame",
                "order": [str(c) for c in X.columns],
                "columns": cols,
                "dtypes": dtypes,
                "categorical": categorical,
            }
        )
    arr = np.asarray(X)
    if arr.dtype == object:
        return State(meta={"kind": "object_array", "rows": arr.tolist()})
    return State(meta={"kind": "array"}, arrays={"rows": arr})


def _cell(value: Any) -> Any:
    """One table value as JSON: missing markers become None, NumPy scalars Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return plain_scalar(value)


def _table_from_state(state: State) -> Any:
    kind = state.meta.get("kind")
    if kind == "frame":
        order = state.meta.get("order") or list(state.meta["columns"])
        frame = pd.DataFrame({c: state.meta["columns"][c] for c in order}, columns=order)
        categorical = state.meta.get("categorical") or {}
        for c, d in (state.meta.get("dtypes") or {}).items():
            if c not in frame.columns:
                continue
            if c in categorical:
                cats = categorical[c]
                frame[c] = pd.Categorical(
                    frame[c], categories=cats["categories"], ordered=bool(cats["ordered"])
                )
                continue
            try:
                frame[c] = frame[c].astype(d)
            except (TypeError, ValueError):
                continue  # a dtype this pandas cannot build from the values: keep them as read
        return frame
    if kind == "object_array":
        return np.asarray(state.meta["rows"], dtype=object)
    return state.array("rows")


def _model_output(rails: Rails, X: Any) -> NDArray[np.float64]:
    if rails.task == "classification":
        return rails.adapter.predict_proba(X)
    return rails.adapter.predict_values(X)


def _library_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            continue
    return out
