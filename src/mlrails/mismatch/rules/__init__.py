"""Cross-descriptor rules of ``mlrails mismatch``: one small function per rule, registered by id.

Each rule names the descriptors it needs; :func:`mlrails.mismatch.check.check_descriptors`
runs a rule only when all of them were read. Names are compared after normalisation (case,
spaces/underscores/dashes, version specifiers such as ``torch>=2.1``, and a few well-known
aliases: ``torch`` = ``pytorch``, ``sklearn`` = ``scikit-learn``, ``FNR`` = ``false negative
rate``), not as raw strings. Quantities are compared after unit conversion (times to
milliseconds, sizes to bytes) with a relative tolerance of :data:`~mlrails.mismatch.units.REL_TOL`.

:mod:`~.registry` holds :data:`RULES` and the :func:`rule` decorator, :mod:`~.names` the name
and type normalisation, :mod:`~.common` what the themes share; one module per theme holds its
rules (importing this package registers them all, in the order below). The statistical
training-vs-production rules (``MM-STAT-*``) live in :mod:`mlrails.mismatch.check`, which
registers them here.
"""

from __future__ import annotations

from mlrails.mismatch.rules.common import production_field_for
from mlrails.mismatch.rules.names import (
    TypeVerdict,
    canonical_metric,
    metric_result_name,
    norm_name,
    norm_text,
    type_compatibility,
    type_family,
)
from mlrails.mismatch.rules.registry import RULES, Rule, RuleFn, rule

# isort: off
# the themes register their rules on import, in this order (the order of RULES)
from mlrails.mismatch.rules import context_model
from mlrails.mismatch.rules import model_environment
from mlrails.mismatch.rules import pipeline_environment
from mlrails.mismatch.rules import model_production
from mlrails.mismatch.rules import identifiers
from mlrails.mismatch.rules import data
from mlrails.mismatch.rules import missing_info

# isort: on
from mlrails.mismatch.rules.data import LABEL_SHARE_TOLERANCE_PP

__all__ = [
    "LABEL_SHARE_TOLERANCE_PP",
    "RULES",
    "Rule",
    "RuleFn",
    "TypeVerdict",
    "canonical_metric",
    "context_model",
    "data",
    "identifiers",
    "metric_result_name",
    "missing_info",
    "model_environment",
    "model_production",
    "norm_name",
    "norm_text",
    "pipeline_environment",
    "production_field_for",
    "rule",
    "type_compatibility",
    "type_family",
]
