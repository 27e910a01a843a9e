"""``mlrails describe``: fill the descriptors from what can be measured, not typed.

* training data (schema, statistics, label distribution): :func:`describe_training_data`;
* trained model (framework, file hash, outputs, metrics, inference time, memory):
  :func:`describe_trained_model`;
* development environment (Python, libraries, CPUs, GPUs, memory):
  :func:`describe_development_environment`;
* production environment (serve settings, the machine): :func:`describe_production_environment`;
* production data (the decision log over a time window): :func:`describe_production_data`;
* system context (task, goals, risks, usage, data rights) is the team's: a YAML file started
  from :data:`SYSTEM_CONTEXT_TEMPLATE`, read with :func:`system_context_from_yaml`.

Required fields that cannot be measured are written as :data:`TO_FILL`;
:func:`fields_to_fill` lists where.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from mlrails.describe.common import TO_FILL, fields_to_fill
from mlrails.describe.data import describe_production_data, describe_training_data
from mlrails.describe.environment import (
    describe_development_environment,
    describe_production_environment,
)
from mlrails.describe.model import (
    InferenceTiming,
    calibration_split,
    describe_trained_model,
    measure_inference,
    model_metrics,
)
from mlrails.descriptors.errors import json_path
from mlrails.descriptors.system_context import SystemContext
from mlrails.errors import MlrailsError

SYSTEM_CONTEXT_TEMPLATE = """\
# System context of an ML-enabled system (descriptor format v1.2).
# `mlrails describe` measures the other descriptors; this one is what only the team knows.
# Replace every TO FILL, then: mlrails describe ARTIFACT --context context.yaml ...

# The well-defined task the model performs, or the problem it solves.
#   e.g. "Classify a breast mass as malignant or benign from a fine-needle aspirate image"
task: "TO FILL"

# The kind of ML problem. ml_problem is one of: Alert, Benchmarking, Classification,
# Clustering, Content Generation, Detection, Forecasting, Goals, Summarization, Trend, Other.
# other_problem names it when ml_problem is Other (else leave "").
ml_problem_type:
  ml_problem: Classification
  other_problem: ""

# Business or mission goals the model helps satisfy (at least one). For each:
#   id:       a short identifier other descriptors refer to (e.g. G1)
#   goal:     what the goal is
#   metric:   the performance metric that shows the model meets it (e.g. False Negative Rate)
#   baseline: the value to reach and why (human parity, a paper, a system requirement)
goals:
  - id: G1
    goal: "TO FILL"
    metric: "TO FILL"
    baseline: "TO FILL"

# What data is available to solve the problem (sources, size, labels).
available_data: "TO FILL"

# How results are used, by whom, inside which larger system.
usage_context: "TO FILL"

# Data rights, legal, privacy and other policies the model and data must meet
# (licences, consent, retention, where the data may be stored).
data_rights_policies: "TO FILL"

# Risks of an incorrect result.
risks:
  risk_fp: "TO FILL"     # what a false positive costs
  risk_fn: "TO FILL"     # what a false negative costs
  risk_other: "TO FILL"  # other wrong results (out-of-distribution inputs, drift, misuse)

# Links to supporting documents (may stay empty). Each: description and location (a URI).
documentation: []
#  - description: "Design document"
#    location: "https://example.org/design"
"""
"""A commented YAML template with every system-context field (``mlrails describe --init``)."""


def system_context_from_yaml(path: str | Path) -> SystemContext:
    """The System Context descriptor in the YAML file at ``path``.

    Raises :class:`~mlrails.errors.MlrailsError` naming the file, and for each invalid or
    missing value its path (``$.risks.risk_fn``) and what is wrong.
    """
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MlrailsError(f"{p}: cannot read the system context ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise MlrailsError(f"{p}: not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise MlrailsError(
            f"{p}: expected a mapping of system-context fields (mlrails describe --init "
            "writes a template)"
        )
    data = {k: v for k, v in data.items() if not (k == "version" and str(v) == "1.2")}
    try:
        return SystemContext.model_validate(data)
    except ValidationError as exc:
        raise MlrailsError(f"{p}: {_problems(exc)}") from None


def _problems(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        loc = [part for part in error["loc"] if isinstance(part, str | int)]
        message = "missing" if error["type"] == "missing" else error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field (not in the v1.2 system context)"
        problems.append(f"{json_path(loc)}: {message}")
    return "; ".join(problems)


__all__ = [
    "SYSTEM_CONTEXT_TEMPLATE",
    "TO_FILL",
    "InferenceTiming",
    "calibration_split",
    "describe_development_environment",
    "describe_production_data",
    "describe_production_environment",
    "describe_trained_model",
    "describe_training_data",
    "fields_to_fill",
    "measure_inference",
    "model_metrics",
    "system_context_from_yaml",
]
