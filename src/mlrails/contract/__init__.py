"""Input contract: inferred from training data, exported as JSON Schema, validated per row."""

from mlrails.contract.infer import infer_contract
from mlrails.contract.jsonschema import to_json_schema
from mlrails.contract.spec import FieldSpec, ImageSpec, InputContract
from mlrails.contract.validate import ValidationResult, Violation, validate

__all__ = [
    "FieldSpec",
    "ImageSpec",
    "InputContract",
    "ValidationResult",
    "Violation",
    "infer_contract",
    "to_json_schema",
    "validate",
]
