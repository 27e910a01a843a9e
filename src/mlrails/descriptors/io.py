"""Reading and writing single descriptor documents in the public v1.2 JSON format.

Which descriptor a document is (the format has no ``kind`` field) is decided in this order:

1. the ``kind`` argument, when given;
2. the file name: ``<kind>.json``, e.g. ``trained_model.json`` (case and ``-``/``_`` ignored);
3. the document's top-level field names: the kind whose v1.2 field names overlap most with them
   (Jaccard index at least 0.5, and strictly better than any other kind).

Versions: ``1.2`` is read as is. ``1.0`` and ``1.1`` are upgraded *structurally*: mlrails does
not know what changed between those versions, so the upgrade sets ``version`` to ``1.2``, keeps
every field that exists in 1.2 and drops the others with a warning each (they were renamed or
removed); a field 1.2 requires that the old document lacks is an error. Any other version is an
error.

Unknown fields in a 1.2 document are dropped with a warning too: the format defines no
extension mechanism, and a warning surfaces typos that silently keeping them would hide.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from mlrails.descriptors.common import (
    DESCRIPTOR_KINDS,
    FORMAT_VERSION,
    READABLE_VERSIONS,
    Descriptor,
    DescriptorKind,
)
from mlrails.descriptors.data_pipeline import DataPipeline
from mlrails.descriptors.development_environment import DevelopmentEnvironment
from mlrails.descriptors.errors import (
    DescriptorError,
    DescriptorIssue,
    DescriptorWarning,
    json_path,
)
from mlrails.descriptors.production_data import ProductionData
from mlrails.descriptors.production_environment import ProductionEnvironment
from mlrails.descriptors.raw_data import RawData
from mlrails.descriptors.system_context import SystemContext
from mlrails.descriptors.trained_model import TrainedModel
from mlrails.descriptors.training_data import TrainingData

IN_MEMORY = "<document>"

DESCRIPTOR_TYPES: dict[DescriptorKind, type[Descriptor]] = {
    cls.kind: cls
    for cls in (
        SystemContext,
        RawData,
        DataPipeline,
        TrainingData,
        TrainedModel,
        DevelopmentEnvironment,
        ProductionEnvironment,
        ProductionData,
    )
}
"""The model class of each of the eight kinds."""

_MIN_KIND_SCORE = 0.5


@dataclass(frozen=True)
class LoadedDescriptor:
    """A descriptor as read: the model, its kind, the version it was written in, and warnings."""

    descriptor: Descriptor
    kind: DescriptorKind
    source_version: str
    file: str = IN_MEMORY
    warnings: list[DescriptorIssue] = field(default_factory=list)

    @property
    def upgraded(self) -> bool:
        """True when the document was written in an older format version."""
        return self.source_version != FORMAT_VERSION


def field_names(kind: DescriptorKind) -> frozenset[str]:
    """Top-level field names of a kind's v1.2 document (``version`` excluded)."""
    fields = DESCRIPTOR_TYPES[kind].model_fields
    return frozenset(f.alias or name for name, f in fields.items() if name != "version")


def kind_from_filename(path: str | Path) -> DescriptorKind | None:
    """The kind named by a file ``<kind>.json`` (case and ``-``/``_`` ignored), else ``None``."""
    stem = Path(path).stem.lower().replace("-", "_")
    return next((k for k in DESCRIPTOR_KINDS if k == stem), None)


def guess_kind(document: Mapping[str, Any]) -> DescriptorKind | None:
    """The kind whose field names best match the document's top-level keys, if clear enough."""
    keys = set(document) - {"version"}
    if not keys:
        return None
    scores = []
    for kind in DESCRIPTOR_KINDS:
        names = field_names(kind)
        scores.append((len(keys & names) / len(keys | names), kind))
    scores.sort(reverse=True)
    (best, kind), (second, _) = scores[0], scores[1]
    return kind if best >= _MIN_KIND_SCORE and best > second else None


def parse_descriptor(
    document: object, *, source: str = IN_MEMORY, kind: DescriptorKind | None = None
) -> LoadedDescriptor:
    """Validate a parsed JSON document as a descriptor (upgrading 1.0/1.1), or raise.

    Raises :class:`DescriptorError` naming ``source``, the JSON path and the problem for every
    problem found; dropped fields and upgrades are returned as ``warnings``.
    """
    if not isinstance(document, dict):
        raise DescriptorError.single(
            source, "$", f"expected a JSON object (a descriptor), got {_json_type(document)}"
        )
    if kind is None:
        kind = guess_kind(document)
        if kind is None:
            raise DescriptorError.single(
                source,
                "$",
                "cannot tell which of the eight descriptors this is; name the file "
                "<kind>.json (one of " + ", ".join(DESCRIPTOR_KINDS) + ") or pass kind",
            )
    version = _check_version(document, source)
    try:  # a private copy, made of plain JSON values only
        copy: dict[str, Any] = json.loads(json.dumps(document, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise DescriptorError.single(source, "$", f"not a JSON document: {exc}") from None
    warnings: list[DescriptorIssue] = []
    if version != FORMAT_VERSION:
        copy["version"] = FORMAT_VERSION
        warnings.append(
            DescriptorIssue(
                source,
                "$.version",
                f"upgraded from {version} to {FORMAT_VERSION}: a structural upgrade only; "
                f"fields that exist in {FORMAT_VERSION} are kept as they are, others dropped",
            )
        )
    looks_like = guess_kind(copy)
    descriptor = _validate(copy, kind, source, version, warnings, looks_like)
    return LoadedDescriptor(descriptor, kind, version, source, warnings)


def load_descriptor(path: str | Path, *, kind: DescriptorKind | None = None) -> LoadedDescriptor:
    """Read a descriptor file with its kind, source version and warnings (see module doc)."""
    path = Path(path)
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DescriptorError.single(source, "$", f"cannot read file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DescriptorError.single(
            source, "$", f"not UTF-8 text (byte {exc.start}): not a JSON descriptor"
        ) from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise DescriptorError.single(
            source, "$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise DescriptorError.single(source, "$", f"not valid JSON: {exc}") from None
    return parse_descriptor(document, source=source, kind=kind or kind_from_filename(path))


def read_descriptor(path: str | Path, *, kind: DescriptorKind | None = None) -> Descriptor:
    """Read a descriptor file; each warning is issued as a :class:`DescriptorWarning`."""
    import warnings

    loaded = load_descriptor(path, kind=kind)
    for issue in loaded.warnings:
        warnings.warn(str(issue), DescriptorWarning, stacklevel=2)
    return loaded.descriptor


def descriptor_json(descriptor: Descriptor) -> str:
    """The descriptor as v1.2 JSON text (indented, UTF-8, ending in a newline)."""
    document = descriptor.to_document()
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_descriptor(descriptor: Descriptor, path: str | Path) -> Path:
    """Write a descriptor as v1.2 JSON, atomically; a directory gets ``<kind>.json`` inside.

    Returns the path of the written file.
    """
    path = Path(path)
    if path.is_dir():
        path = path / f"{descriptor.kind}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = descriptor_json(descriptor)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _check_version(document: Mapping[str, Any], source: str) -> str:
    if "version" not in document:
        _raise(source, "$.version", 'required field is missing (format version, e.g. "1.2")')
    version = document["version"]
    if not isinstance(version, str):
        _raise(
            source,
            "$.version",
            f'version must be a string such as "1.2", got {_json_type(version)} {version!r}',
        )
    if version not in READABLE_VERSIONS:
        _raise(
            source,
            "$.version",
            f"unknown descriptor format version {version!r}; mlrails reads "
            + ", ".join(READABLE_VERSIONS),
        )
    return version


def _validate(
    document: dict[str, Any],
    kind: DescriptorKind,
    source: str,
    version: str,
    warnings: list[DescriptorIssue],
    looks_like: DescriptorKind | None,
) -> Descriptor:
    """Validate strictly; unknown fields are dropped (with a warning) and validation repeated."""
    model = DESCRIPTOR_TYPES[kind]
    while True:
        try:
            return model.model_validate_json(json.dumps(document), strict=True)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
        dropped = [
            e for e in errors if e["type"] == "extra_forbidden" and _drop(document, e["loc"])
        ]
        warnings.extend(
            DescriptorIssue(source, json_path(e["loc"]), _dropped(model, version)) for e in dropped
        )
        problems = [e for e in errors if not any(e is d for d in dropped)]
        if problems:
            issues = [DescriptorIssue(source, json_path(e["loc"]), _problem(e)) for e in problems]
            if looks_like is not None and looks_like != kind:
                hint = f"this looks like a {looks_like} descriptor, not {kind}"
                issues.insert(0, DescriptorIssue(source, "$", hint))
            raise DescriptorError(issues)


def _drop(document: Any, loc: Sequence[str | int]) -> bool:
    """Delete the field at ``loc`` from the document; False when there is no such field."""
    target = document
    for part in loc[:-1]:
        try:
            target = target[part]
        except (KeyError, IndexError, TypeError):
            return False
    if not loc or not isinstance(target, dict) or loc[-1] not in target:
        return False
    del target[loc[-1]]
    return True


def _dropped(model: type[Descriptor], version: str) -> str:
    if version == FORMAT_VERSION:
        return f"unknown field, not part of the v{FORMAT_VERSION} {model.title} format; ignored"
    return (
        f"not a v{FORMAT_VERSION} {model.title} field (renamed or removed after {version}?); "
        "dropped by the upgrade"
    )


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    message = error["msg"]
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    if kind == "descriptor_statistic":
        return message
    return f"{message} (got {_short(error.get('input'))})"


def _short(value: object, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if _is_json(value) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_json(value: object) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if value is None:
        return "null"
    return type(value).__name__


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _raise(source: str, path: str, problem: str) -> NoReturn:
    raise DescriptorError.single(source, path, problem)
