"""Reading descriptor files: bad input gets a message naming file, JSON path and problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlrails.descriptors import (
    Descriptor,
    DescriptorError,
    DescriptorKind,
    DescriptorWarning,
    ProductionData,
    TrainedModel,
    guess_kind,
    kind_from_filename,
    load_descriptor,
    parse_descriptor,
    read_descriptor,
    write_descriptor,
)
from mlrails.errors import MlrailsError


def _document(descriptors: dict[DescriptorKind, Descriptor], kind: DescriptorKind) -> Any:
    return descriptors[kind].to_document()


def _write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _error(path: Path, **kwargs: Any) -> DescriptorError:
    with pytest.raises(DescriptorError) as info:
        load_descriptor(path, **kwargs)
    assert isinstance(info.value, MlrailsError)
    return info.value


def test_not_json(tmp_path: Path) -> None:
    path = tmp_path / "trained_model.json"
    path.write_text('{"version": "1.2",\n  "model_name": oops}', encoding="utf-8")
    error = _error(path)
    assert error.file == str(path)
    assert error.path == "$"
    assert "not valid JSON" in error.problem and "line 2" in error.problem
    assert str(error).startswith(f"{path}: $: not valid JSON")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"version": NaN}', "NaN is not allowed"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "expected a JSON object (a descriptor), got an array"),
        (b"", "not valid JSON"),
    ],
)
def test_other_unreadable_content(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "raw_data.json"
    path.write_bytes(content)
    assert problem in _error(path).problem


def test_missing_file(tmp_path: Path) -> None:
    error = _error(tmp_path / "raw_data.json")
    assert "cannot read file" in error.problem


def test_schema_violation_names_the_path(
    descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path
) -> None:
    document = _document(descriptors, "trained_model")
    document["model_components"][0]["learning_algorithm"]["algorithm"] = "Deep Forest"
    path = _write(tmp_path / "trained_model.json", document)

    error = _error(path)
    assert error.path == "$.model_components[0].learning_algorithm.algorithm"
    assert "'Random Forest'" in error.problem and '"Deep Forest"' in error.problem
    assert str(error).startswith(
        f"{path}: $.model_components[0].learning_algorithm.algorithm: Input should be"
    )


def test_every_problem_is_listed_and_types_are_strict(
    descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path
) -> None:
    document = _document(descriptors, "production_environment")
    del document["model_logs"]
    document["computing_resources"]["cpu"] = "2"  # the schema wants an integer, not text
    document["required_inference_time"]["unit"] = "Days"
    path = _write(tmp_path / "production_environment.json", document)

    error = _error(path)
    found = {(i.path, i.problem.split(" (got")[0]) for i in error.issues}
    assert ("$.model_logs", "required field is missing") in found
    assert ("$.computing_resources.cpu", "Input should be a valid integer") in found
    assert any(p == "$.required_inference_time.unit" for p, _ in found)
    assert str(error).startswith(f"{path}: 3 problems: ")


def test_bad_statistic_value_and_unknown_field_reference(
    descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path
) -> None:
    document = _document(descriptors, "training_data")
    rows = document["statistics"]
    mean_at = next(i for i, r in enumerate(rows) if r["property"] == "mean")
    rows[mean_at]["value"] = "fourteen"
    rows.append({"property": "mean", "field": "tumour colour", "value": "1.0"})
    path = _write(tmp_path / "training_data.json", document)

    error = _error(path)
    assert [i.path for i in error.issues] == [
        f"$.statistics[{mean_at}].value",
        f"$.statistics[{len(rows) - 1}].field",
    ]
    assert "mean 'fourteen' is not a number" in error.issues[0].problem
    assert error.issues[1].problem == "no field 'tumour colour' in $.schema"


def test_typed_statistics_must_name_schema_fields(
    descriptors: dict[DescriptorKind, Descriptor],
) -> None:
    production = descriptors["production_data"]
    assert isinstance(production, ProductionData)
    with pytest.raises(ValueError, match="not listed in schema"):
        ProductionData(
            **production.model_dump(exclude={"statistics", "data_schema"}),
            schema=production.data_schema[:1],
            statistics=production.statistics,
        )
    # Read from rows, the problem is reported once per unknown field, at its first row.
    document = production.to_document()
    document["schema"] = document["schema"][:29]
    with pytest.raises(DescriptorError) as info:
        parse_descriptor(document)
    (issue,) = info.value.issues
    assert issue.problem == "no field 'worst fractal dimension' in $.schema"


@pytest.mark.parametrize(
    ("version", "problem"),
    [
        ("3.0", "unknown descriptor format version '3.0'; mlrails reads 1.0, 1.1, 1.2"),
        (1.2, 'version must be a string such as "1.2", got a number 1.2'),
        (None, "required field is missing"),
    ],
)
def test_version_problems(
    descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path, version: Any, problem: str
) -> None:
    document = _document(descriptors, "system_context")
    if version is None:
        del document["version"]
    else:
        document["version"] = version
    error = _error(_write(tmp_path / "system_context.json", document))
    assert error.path == "$.version"
    assert problem in error.problem


def test_version_1_1_is_upgraded_with_a_warning_per_dropped_field(
    descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path
) -> None:
    original = descriptors["trained_model"]
    document = original.to_document()
    document["version"] = "1.1"
    document["model_owner"] = "radiology AI team"  # not a v1.2 field
    document["inference_time"]["percentile"] = 95  # nor is this one
    path = _write(tmp_path / "trained_model.json", document)

    loaded = load_descriptor(path)
    assert loaded.upgraded and loaded.source_version == "1.1"
    assert loaded.descriptor == original
    assert loaded.warnings[0].path == "$.version"
    assert {w.path for w in loaded.warnings[1:]} == {"$.model_owner", "$.inference_time.percentile"}
    assert "upgraded from 1.1 to 1.2" in loaded.warnings[0].problem
    assert "structural" in loaded.warnings[0].problem
    assert all("dropped by the upgrade" in w.problem for w in loaded.warnings[1:])

    with pytest.warns(DescriptorWarning) as record:
        assert read_descriptor(path) == original
    assert [str(w.message) for w in record] == [str(w) for w in loaded.warnings]
    assert any(f"{path}: $.model_owner: not a v1.2" in str(w.message) for w in record)
    rewritten = write_descriptor(loaded.descriptor, tmp_path / "out" / "trained_model.json")
    assert json.loads(rewritten.read_text("utf-8")) == original.to_document()  # version 1.2


def test_unknown_fields_in_a_1_2_document_are_dropped_with_a_warning(
    descriptors: dict[DescriptorKind, Descriptor],
) -> None:
    document = _document(descriptors, "training_data")
    document["statistics"][0]["unit"] = "mm"
    loaded = parse_descriptor(document, kind="training_data")
    assert loaded.descriptor == descriptors["training_data"]
    (warning,) = loaded.warnings
    assert (warning.file, warning.path) == ("<document>", "$.statistics[0].unit")
    assert "unknown field" in warning.problem


def test_kind_detection(descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path) -> None:
    assert kind_from_filename("descriptors/Trained-Model.json") == "trained_model"
    assert kind_from_filename("model.json") is None
    for kind, descriptor in descriptors.items():
        assert guess_kind(descriptor.to_document()) == kind
    assert guess_kind({"version": "1.2", "documentation": []}) is None

    # A file with another name is recognised by its fields.
    path = _write(tmp_path / "wdbc.json", _document(descriptors, "raw_data"))
    assert load_descriptor(path).kind == "raw_data"

    # Nothing to go by.
    error = _error(_write(tmp_path / "notes.json", {"version": "1.2", "task": "x"}))
    assert "cannot tell which of the eight descriptors" in error.problem

    # The name says one kind, the content another: the error says so first.
    path = _write(tmp_path / "trained_model.json", _document(descriptors, "training_data"))
    error = _error(path)
    assert (error.path, error.problem) == (
        "$",
        "this looks like a training_data descriptor, not trained_model",
    )
    # An explicit kind wins over the file name.
    assert load_descriptor(path, kind="training_data").descriptor == descriptors["training_data"]


def test_trained_model_without_error_handling_reads(
    descriptors: dict[DescriptorKind, Descriptor],
) -> None:
    document = _document(descriptors, "trained_model")
    del document["error_handling"]
    loaded = parse_descriptor(document)
    assert isinstance(loaded.descriptor, TrainedModel)
    assert loaded.descriptor.error_handling == ""
    assert loaded.descriptor.to_document()["error_handling"] == ""

    document["error_handling"] = {"on_error": "HTTP 500", "retry": False}
    model = parse_descriptor(document).descriptor
    assert model.to_document()["error_handling"] == {"on_error": "HTTP 500", "retry": False}


def test_write_is_atomic_and_creates_folders(
    descriptors: dict[DescriptorKind, Descriptor], tmp_path: Path
) -> None:
    target = tmp_path / "a" / "b" / "ctx.json"
    written = write_descriptor(descriptors["system_context"], target)
    assert written == target
    assert [p.name for p in target.parent.iterdir()] == ["ctx.json"]
    assert target.read_text("utf-8").endswith("}\n")
