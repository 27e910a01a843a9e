"""Export an :class:`InputContract` as a JSON Schema (draft 2020-12) for one input row."""

from __future__ import annotations

from typing import Any

from mlrails.contract.spec import FieldSpec, InputContract

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def to_json_schema(contract: InputContract) -> dict[str, Any]:
    """JSON Schema of one row: an object for tables, a nested array for image-like inputs."""
    if contract.layout == "image":
        spec = contract.image
        assert spec is not None
        item: dict[str, Any] = {"type": "number", "minimum": spec.lower, "maximum": spec.upper}
        for size in reversed(spec.shape):
            item = {"type": "array", "items": item, "minItems": size, "maxItems": size}
        return {"$schema": DRAFT, "title": "mlrails input sample", **item}
    return {
        "$schema": DRAFT,
        "title": "mlrails input row",
        "type": "object",
        "properties": {f.name: _field_schema(f) for f in contract.fields},
        "required": [f.name for f in contract.fields],
        "additionalProperties": contract.allow_extra_columns,
        "x-column-order": contract.columns,
    }


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    schema: dict[str, Any]
    if spec.kind == "categorical":
        schema = {"enum": list(spec.categories or [])}
    elif spec.kind == "boolean":
        schema = {"type": "boolean"}
    else:
        schema = {"type": "integer" if spec.kind == "integer" else "number"}
        if spec.lower is not None:
            schema["minimum"] = spec.lower
        if spec.upper is not None:
            schema["maximum"] = spec.upper
    if spec.nullable:
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        else:
            schema["type"] = [schema["type"], "null"]
    schema["x-training-range"] = [spec.minimum, spec.maximum] if spec.minimum is not None else None
    schema["x-missing-rate"] = spec.missing_rate
    return schema


#: the JSON type of each field kind (a category is matched as text)
_JSON_TYPES = {"numeric": "number", "integer": "integer", "boolean": "boolean"}
PUBLIC_DESCRIPTION = (
    "Field names, order and JSON types only. The accepted ranges, categories and training "
    "statistics are the contract, served with an API key at GET /v1/contract."
)


def to_public_json_schema(contract: InputContract) -> dict[str, Any]:
    """What may be published without a key: the row's field names, order, JSON types,
    nullability and (for image-like inputs) shape. No accepted range, training range,
    missing rate or vocabulary: those tell a caller how to pass validation and what the
    training data looked like, so they stay in :func:`to_json_schema`, behind the key."""
    if contract.layout == "image":
        spec = contract.image
        assert spec is not None
        item: dict[str, Any] = {"type": "number"}
        for size in reversed(spec.shape):
            item = {"type": "array", "items": item, "minItems": size, "maxItems": size}
        return {
            "$schema": DRAFT,
            "title": "mlrails input sample",
            "description": PUBLIC_DESCRIPTION,
            **item,
        }
    return {
        "$schema": DRAFT,
        "title": "mlrails input row",
        "description": PUBLIC_DESCRIPTION,
        "type": "object",
        "properties": {f.name: _public_field_schema(f) for f in contract.fields},
        "required": [f.name for f in contract.fields],
        "additionalProperties": contract.allow_extra_columns,
        "x-column-order": contract.columns,
    }


def _public_field_schema(spec: FieldSpec) -> dict[str, Any]:
    kind = _JSON_TYPES.get(spec.kind, "string")
    return {"type": [kind, "null"] if spec.nullable else kind}
