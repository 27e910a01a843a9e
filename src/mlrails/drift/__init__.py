"""Drift of production traffic against the training reference, field by field.

:mod:`~mlrails.drift.profile` is the reference side (what training looked like),
:mod:`~mlrails.drift.statistics` the exact two-sample statistics (with the bucketing of
:mod:`~mlrails.drift.kernels`), :mod:`~mlrails.drift.detect` the per-field tests, FDR control
and alarm rule, :mod:`~mlrails.drift.traffic` the logged window read as a table, and
:mod:`~mlrails.drift.monitor` the check of a logged window against an artifact's reference.
"""

from mlrails.drift.detect import DriftConfig, DriftReport, FieldDrift, compare, drift
from mlrails.drift.profile import (
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
