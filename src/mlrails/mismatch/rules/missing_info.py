"""The rule on missing information: fields another role depends on, left empty."""

from __future__ import annotations

from collections.abc import Sequence

from mlrails.descriptors.common import DescriptorKind
from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.descriptors.placeholders import filled
from mlrails.mismatch.findings import DS, OPS, SE, Finding, Role, field_ref
from mlrails.mismatch.rules.common import finding
from mlrails.mismatch.rules.registry import rule


@rule("MM-MISSING-INFO", "information other roles depend on is filled in")
def missing_info(ds: DescriptorSet) -> list[Finding]:
    """Fields another role needs, left empty (or ``TBD``/``unknown``): goal metric and baseline,
    false-positive/negative risks, ``Other`` without its name, model output interpretation,
    default output and error handling, ``final_output_spec`` when post-processing, deployment
    platform/mechanism, production data rates. Severity warning (info for documentation
    niceties). Runs on whichever descriptors are present."""
    out: list[Finding] = []

    def add(kind: DescriptorKind, path: str, what: str, roles: Sequence[Role], hint: str) -> None:
        out.append(
            finding(
                "MM-MISSING-INFO",
                "warning",
                (kind,),
                (field_ref(kind, path),),
                roles,
                f"{what} is not given",
                hint,
            )
        )

    sc = ds.system_context
    if sc is not None:
        for i, g in enumerate(sc.goals):
            if not filled(g.metric):
                add(
                    "system_context",
                    f"$.goals[{i}].metric",
                    f"goal {g.id!r} metric",
                    (DS,),
                    "Say how the goal is measured.",
                )
            if not filled(g.baseline):
                add(
                    "system_context",
                    f"$.goals[{i}].baseline",
                    f"goal {g.id!r} baseline",
                    (DS,),
                    "Give the value the model must beat and why.",
                )
        for key in ("risk_fp", "risk_fn"):
            if not filled(getattr(sc.risks, key)):
                add(
                    "system_context",
                    f"$.risks.{key}",
                    key.replace("_", " "),
                    (DS, OPS),
                    "Describe the cost of this error; it sets the decision threshold.",
                )
        if sc.ml_problem_type.ml_problem == "Other" and not filled(
            sc.ml_problem_type.other_problem
        ):
            add(
                "system_context",
                "$.ml_problem_type.other_problem",
                "the 'Other' ML problem",
                (DS,),
                "Name the problem type.",
            )
    tm = ds.trained_model
    if tm is not None:
        for key, what in (
            ("model_output_interpretation", "model output interpretation"),
            ("default_model_output", "default model output"),
        ):
            if not filled(getattr(tm, key)):
                add(
                    "trained_model",
                    f"$.{key}",
                    what,
                    (DS, SE),
                    "Software engineers need it to handle the output and failures.",
                )
        if tm.error_handling is None or (
            isinstance(tm.error_handling, str) and not filled(tm.error_handling)
        ):
            add(
                "trained_model",
                "$.error_handling",
                "model error handling",
                (DS, SE),
                "Say how the model reports errors (exception, code, default output).",
            )
        if tm.post_processing and not tm.final_output_spec:
            add(
                "trained_model",
                "$.final_output_spec",
                "final output specification (the model post-processes its output)",
                (DS, SE),
                "Specify the post-processed output the downstream components receive.",
            )
        for key in ("evaluation_metrics", "test_metrics"):
            for i, m in enumerate(getattr(tm, key)):
                if m.metric == "Other" and not filled(m.other_metric):
                    add(
                        "trained_model",
                        f"$.{key}[{i}].other_metric",
                        "an 'Other' metric name",
                        (DS,),
                        "Name the metric.",
                    )
        for i, c in enumerate(tm.model_components):
            la = c.learning_algorithm
            if la.algorithm == "Other" and not filled(la.other_algorithm):
                add(
                    "trained_model",
                    f"$.model_components[{i}].learning_algorithm.other_algorithm",
                    "an 'Other' algorithm name",
                    (DS,),
                    "Name the algorithm.",
                )
    pe = ds.production_environment
    if pe is not None:
        for key in ("deployment_platform", "deployment_mechanism"):
            if not filled(getattr(pe, key)):
                add(
                    "production_environment",
                    f"$.{key}",
                    key.replace("_", " "),
                    (SE, OPS),
                    "Say where and how the model will run.",
                )
    pdd = ds.production_data
    if pdd is not None and not filled(pdd.data_rates):
        add(
            "production_data",
            "$.data_rates",
            "production data rate",
            (OPS,),
            "Give the expected load, e.g. '200 requests per second'.",
        )
    return out
