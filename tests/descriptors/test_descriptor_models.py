"""The eight descriptor models against the public v1.2 reference schemas."""

from __future__ import annotations

import json
import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from mlrails.descriptors import (
    DESCRIPTOR_KINDS,
    DESCRIPTOR_TYPES,
    Descriptor,
    DescriptorKind,
    TrainedModel,
    TrainingData,
    load_descriptor,
    read_descriptor,
    schema_file,
    validate_against_schema,
    write_descriptor,
)


def _schema(schemas_dir: Path, kind: DescriptorKind) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_file(schemas_dir, kind).read_text("utf-8"))
    return loaded


@pytest.mark.parametrize("kind", DESCRIPTOR_KINDS)
def test_written_document_reads_back_equal(
    kind: DescriptorKind, descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path
) -> None:
    descriptor = descriptors[kind]
    path = write_descriptor(descriptor, tmp_path)

    assert path == tmp_path / f"{kind}.json"
    document = json.loads(path.read_text("utf-8"))
    assert document["version"] == "1.2"
    loaded = load_descriptor(path)
    assert loaded.kind == kind
    assert loaded.warnings == []
    assert not loaded.upgraded
    assert loaded.descriptor == descriptor
    assert read_descriptor(path).to_document() == document


@pytest.mark.parametrize("kind", DESCRIPTOR_KINDS)
def test_written_document_validates_against_reference_schema(
    kind: DescriptorKind,
    descriptors: dict[DescriptorKind, Descriptor],
    schemas_dir: Path,
    tmp_path: Path,
) -> None:
    path = write_descriptor(descriptors[kind], tmp_path)
    document = json.loads(path.read_text("utf-8"))
    assert validate_against_schema(document, schema_file(schemas_dir, kind)) == []


def test_trained_model_always_writes_error_handling(
    descriptors: dict[DescriptorKind, Descriptor], schemas_dir: Path
) -> None:
    # The schema requires error_handling without defining it: mlrails writes it in every case.
    model = descriptors["trained_model"]
    assert isinstance(model, TrainedModel)
    schema = _schema(schemas_dir, "trained_model")
    assert "error_handling" in schema["required"]
    assert "error_handling" not in schema["properties"]

    for value in ("", None, {"on_error": "HTTP 500"}):
        document = model.model_copy(update={"error_handling": value}).to_document()
        assert "error_handling" in document
        assert document["error_handling"] == value
        assert validate_against_schema(document, schema_file(schemas_dir, "trained_model")) == []


def test_training_statistics_are_written_as_format_rows(
    descriptors: dict[DescriptorKind, Descriptor],
) -> None:
    training = descriptors["training_data"]
    assert isinstance(training, TrainingData)
    rows = training.to_document()["statistics"]
    assert all(set(row) == {"property", "field", "value"} for row in rows)
    assert all(isinstance(row["value"], str) for row in rows)
    mean_radius = training.statistics_for("mean radius")
    assert mean_radius is not None
    assert {"property": "mean", "field": "mean radius", "value": repr(mean_radius.mean)} in rows


# --- the models mirror the schemas: names, required fields, enums, descriptions ---------------


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, is_list) of ``X``, ``X | None``, ``list[X]``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else (annotation, False)
    if origin is list:
        return typing.get_args(annotation)[0], True
    return annotation, False


def _compare(
    model: type[BaseModel], node: dict[str, Any], where: str, exempt: frozenset[str] = frozenset()
) -> list[str]:
    """Differences between a pydantic model and a schema object node, recursively."""
    problems: list[str] = []
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    properties: dict[str, Any] = node.get("properties", {})
    required = set(node.get("required", []))
    if set(fields) != set(properties) | (required - set(properties)):
        problems.append(f"{where}: fields {sorted(fields)} != schema {sorted(properties)}")
    ours_required = {n for n, f in fields.items() if f.is_required()}
    expected_required = required - exempt
    if ours_required != expected_required:
        problems.append(f"{where}: required {sorted(ours_required)} != {sorted(expected_required)}")
    for name, info in fields.items():
        if name not in properties or name == "statistics":
            continue
        prop = properties[name]
        inner, is_list = _unwrap(info.annotation)
        if is_list:
            prop = prop["items"]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            problems.extend(_compare(inner, prop, f"{where}.{name}"))
        elif (
            typing.get_origin(inner) is typing.Literal
            and "enum" in prop
            and set(typing.get_args(inner)) != set(prop["enum"])
        ):
            problems.append(f"{where}.{name}: enum differs")
    return problems


@pytest.mark.parametrize("kind", DESCRIPTOR_KINDS)
def test_model_fields_match_reference_schema(kind: DescriptorKind, schemas_dir: Path) -> None:
    schema = _schema(schemas_dir, kind)
    # version has a default (always 1.2); error_handling is the schema's undefined field
    exempt = frozenset({"version", "error_handling"})
    assert _compare(DESCRIPTOR_TYPES[kind], schema, "$", exempt) == []


@pytest.mark.parametrize("kind", DESCRIPTOR_KINDS)
def test_top_level_descriptions_are_the_schema_descriptions(
    kind: DescriptorKind, schemas_dir: Path
) -> None:
    properties = _schema(schemas_dir, kind)["properties"]
    for name, info in DESCRIPTOR_TYPES[kind].model_fields.items():
        key = info.alias or name
        assert info.description, f"{kind}.{key} has no description"
        if key in properties and "description" in properties[key]:
            assert info.description == properties[key]["description"], f"{kind}.{key}"
