"""A directory of descriptors: all eight read, bad files collected instead of stopping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlrails.descriptors import (
    DESCRIPTOR_KINDS,
    Descriptor,
    DescriptorError,
    DescriptorKind,
    TrainedModel,
    read_descriptor_dir,
    validate_against_schema,
    write_descriptor_dir,
)


def test_all_eight_round_trip(
    descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path, schemas_dir: Path
) -> None:
    paths = write_descriptor_dir(descriptors.values(), tmp_path / "descriptors")
    assert sorted(p.name for p in paths) == sorted(f"{k}.json" for k in DESCRIPTOR_KINDS)
    for path in paths:
        document = json.loads(path.read_text("utf-8"))
        schema = schemas_dir / f"{path.stem}_schema.json"
        assert validate_against_schema(document, schema) == []

    found = read_descriptor_dir(tmp_path / "descriptors")
    assert found.complete
    assert found.descriptors == descriptors
    assert (found.errors, found.warnings, found.missing, found.ignored) == ({}, [], [], [])
    assert found.trained_model == descriptors["trained_model"]
    assert isinstance(found.trained_model, TrainedModel)
    assert found.production_data is not None and found.production_data.statistics


def test_errors_are_collected_per_file(
    descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path
) -> None:
    write_descriptor_dir(descriptors.values(), tmp_path)
    (tmp_path / "raw_data.json").write_text("{ not json", encoding="utf-8")
    document = descriptors["trained_model"].to_document()
    document["version"] = "2.0"
    (tmp_path / "trained_model.json").write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "production_data.json").unlink()
    (tmp_path / "notes.json").write_text("{}", encoding="utf-8")

    found = read_descriptor_dir(tmp_path)
    assert not found.complete
    assert sorted(found.errors) == ["raw_data", "trained_model"]
    assert found.errors["raw_data"].file == str(tmp_path / "raw_data.json")
    assert "not valid JSON" in found.errors["raw_data"].problem
    assert found.errors["trained_model"].path == "$.version"
    assert found.missing == ["production_data"]
    assert found.ignored == [tmp_path / "notes.json"]
    assert found.trained_model is None and found.raw_data is None
    assert len(found.descriptors) == 5
    assert found.training_data == descriptors["training_data"]
    assert {i.file for i in found.problems()} == {
        str(tmp_path / "raw_data.json"),
        str(tmp_path / "trained_model.json"),
    }


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(DescriptorError, match="not a directory"):
        read_descriptor_dir(tmp_path / "nowhere")


def test_duplicate_kinds_are_refused(
    descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="more than one"):
        write_descriptor_dir([descriptors["raw_data"], descriptors["raw_data"]], tmp_path)
