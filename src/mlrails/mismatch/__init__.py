"""Training/production mismatch: per-field drift of production data against a reference."""

from mlrails.mismatch.drift import DriftConfig, DriftReport, FieldDrift, compare, drift
from mlrails.mismatch.profile import (
    CategoricalReference,
    NumericReference,
    ReferenceProfile,
)

__all__ = [
    "CategoricalReference",
    "DriftConfig",
    "DriftReport",
    "FieldDrift",
    "NumericReference",
    "ReferenceProfile",
    "compare",
    "drift",
]
