"""Rules between the system context and the trained model: goals are measured and monitored."""

from __future__ import annotations

from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.descriptors.placeholders import filled
from mlrails.mismatch.findings import DS, OPS, SE, Finding, field_ref
from mlrails.mismatch.rules.common import finding, require
from mlrails.mismatch.rules.names import canonical_metric, metric_result_name
from mlrails.mismatch.rules.registry import rule


def production_monitored(ds: DescriptorSet) -> dict[str, str]:
    """Canonical metric → metric as written, for every metric the production environment
    captures (algorithm, business and other metrics); empty without that descriptor."""
    pe = ds.production_environment
    if pe is None:
        return {}
    return {
        canonical_metric(m.metric): m.metric
        for m in [*pe.algorithm_metrics, *pe.business_metrics, *pe.other_metrics]
        if filled(m.metric)
    }


def model_monitored(ds: DescriptorSet) -> set[str]:
    """Canonical names of the trained model's algorithm and business metrics."""
    tm = ds.trained_model
    if tm is None:
        return set()
    return {
        canonical_metric(m.metric)
        for m in [*tm.algorithm_metrics, *tm.business_metrics]
        if filled(m.metric)
    }


@rule("MM-GOAL-METRIC", "goal metrics are measured by the model", "system_context", "trained_model")
def goal_metric(ds: DescriptorSet) -> list[Finding]:
    """Every goal's ``metric`` must be evaluated: among the model's evaluation or test metrics
    (offline), or among the metrics the production environment captures (algorithm, business
    or other metrics, when that descriptor is present: a business goal such as "reviews per
    day" is measured in production, not on a test set).

    Names compared as canonical metrics (``FNR`` = ``false negative rate``, ``precision`` =
    ``PPV``; a known metric named inside longer text counts; otherwise case, spaces, ``_`` and
    ``-`` ignored). Severity warning.
    """
    sc, tm = require(ds.system_context), require(ds.trained_model)
    measured = {
        canonical_metric(metric_result_name(m)) for m in [*tm.evaluation_metrics, *tm.test_metrics]
    }
    in_production = production_monitored(ds)
    out = []
    for i, g in enumerate(sc.goals):
        if not g.metric.strip():
            continue  # reported by MM-MISSING-INFO
        metric = canonical_metric(g.metric)
        if metric in measured or metric in in_production:
            continue
        fields = [
            field_ref("system_context", f"$.goals[{i}].metric"),
            field_ref("trained_model", "$.evaluation_metrics"),
            field_ref("trained_model", "$.test_metrics"),
        ]
        if ds.production_environment is not None:
            fields.append(field_ref("production_environment", "$.business_metrics"))
            where = (
                "nor does production capture it (production metrics: "
                f"{', '.join(sorted(in_production.values())) or 'none'})"
            )
        else:
            where = "and no production environment descriptor says production captures it"
        out.append(
            finding(
                "MM-GOAL-METRIC",
                "warning",
                ("system_context", "trained_model"),
                fields,
                (DS, SE),
                f"goal {g.id!r} is judged by {g.metric!r}, which the model was neither "
                f"evaluated nor tested on (measured: {', '.join(sorted(measured))}), {where}",
                "Evaluate the model on the goal's metric (and record it in evaluation_metrics"
                " or test_metrics), capture it in production (production environment metrics),"
                " or correct the goal's metric.",
                goal=g.id,
                metric=metric,
            )
        )
    return out


@rule(
    "MM-GOAL-MONITOR",
    "monitored metrics map to existing goals, every goal is monitored",
    "system_context",
    "trained_model",
)
def goal_monitor(ds: DescriptorSet) -> list[Finding]:
    """Each algorithm/business metric's ``goal_mapping`` must name a goal ``id`` of the system
    context (error: a reference to a field that does not exist); every goal should be covered
    (warning otherwise): mapped by a monitored metric's ``goal_mapping``, or its own metric is
    one the model monitors or the production environment captures (canonical metric names, as
    in ``MM-GOAL-METRIC``). Ids compared exactly after trimming spaces."""
    sc, tm = require(ds.system_context), require(ds.trained_model)
    ids = {g.id.strip() for g in sc.goals}
    mapped: set[str] = set()
    monitored = model_monitored(ds) | set(production_monitored(ds))
    out = []
    for key in ("algorithm_metrics", "business_metrics"):
        for i, m in enumerate(getattr(tm, key)):
            gid = m.goal_mapping.strip()
            mapped.add(gid)
            if gid not in ids:
                out.append(
                    finding(
                        "MM-GOAL-MONITOR",
                        "error",
                        ("trained_model", "system_context"),
                        (
                            field_ref("trained_model", f"$.{key}[{i}].goal_mapping"),
                            field_ref("system_context", "$.goals"),
                        ),
                        (DS, SE),
                        f"{key[:-1].replace('_', ' ')} {m.metric!r} maps to goal {gid!r}, "
                        f"which the system context does not define (goals: {sorted(ids)})",
                        "Use the id of an existing goal in goal_mapping, or add the goal.",
                        goal=gid,
                    )
                )
    for i, g in enumerate(sc.goals):
        if g.id.strip() in mapped:
            continue
        if g.metric.strip() and canonical_metric(g.metric) in monitored:
            continue
        out.append(
            finding(
                "MM-GOAL-MONITOR",
                "warning",
                ("system_context", "trained_model"),
                (
                    field_ref("system_context", f"$.goals[{i}].id"),
                    field_ref("trained_model", "$.business_metrics"),
                ),
                (DS, OPS),
                f"goal {g.id!r} ({g.goal}) is not monitored by any algorithm or business metric",
                "Add a business or algorithm metric with goal_mapping set to this goal.",
                goal=g.id,
            )
        )
    return out
