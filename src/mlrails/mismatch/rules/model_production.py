"""Rules between the trained model and the production environment: inference time, throughput,
and the metrics, logs and feedback production must capture."""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlrails.descriptors.common import DescriptorKind
from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.descriptors.placeholders import filled
from mlrails.mismatch.findings import DS, OPS, Finding, field_ref
from mlrails.mismatch.rules.common import finding, require
from mlrails.mismatch.rules.names import norm_text
from mlrails.mismatch.rules.registry import rule
from mlrails.mismatch.units import exceeds, inference_ms, parse_rate_per_second


@rule(
    "MM-INFERENCE-TIME",
    "observed inference time meets the production requirement",
    "trained_model",
    "production_environment",
)
def inference_time(ds: DescriptorSet) -> list[Finding]:
    """Observed inference time (trained model) ≤ required (production environment), both
    converted to milliseconds; tolerance :data:`REL_TOL`. Severity error."""
    tm, pe = require(ds.trained_model), require(ds.production_environment)
    observed, required = inference_ms(tm.inference_time), inference_ms(pe.required_inference_time)
    if not exceeds(observed, required):
        return []
    return [
        finding(
            "MM-INFERENCE-TIME",
            "error",
            ("trained_model", "production_environment"),
            (
                field_ref("trained_model", "$.inference_time"),
                field_ref("production_environment", "$.required_inference_time"),
            ),
            (DS, OPS),
            f"observed inference time {tm.inference_time.time} {tm.inference_time.unit} "
            f"({observed:g} ms) exceeds the required {pe.required_inference_time.time} "
            f"{pe.required_inference_time.unit} ({required:g} ms) by {observed / required:.3g}×",
            "Speed the model up (smaller model, compiled runtime, GPU) or renegotiate the "
            "latency requirement; measure on production-like hardware.",
            observed_ms=observed,
            required_ms=required,
            ratio=observed / required if required else None,
        )
    ]


@rule(
    "MM-THROUGHPUT",
    "production data rate is served by the inference time and CPUs",
    "trained_model",
    "production_environment",
    "production_data",
)
def throughput(ds: DescriptorSet) -> list[Finding]:
    """Production ``data_rates`` (parsed from text such as ``200 per second``, converted to
    items/s) ≤ capacity = production CPUs / observed inference time (one inference per CPU at
    a time, no batching: an estimate). Warning when exceeded; info when the rate has no
    number and unit."""
    tm, pe, pd_ = (
        require(ds.trained_model),
        require(ds.production_environment),
        require(ds.production_data),
    )
    rate = parse_rate_per_second(pd_.data_rates)
    kinds: tuple[DescriptorKind, ...] = (
        "production_data",
        "trained_model",
        "production_environment",
    )
    if rate is None:
        return [
            finding(
                "MM-THROUGHPUT",
                "info",
                kinds,
                (field_ref("production_data", "$.data_rates"),),
                (OPS,),
                f"data rate {pd_.data_rates!r} has no number per time unit; load cannot be "
                "checked against the inference time",
                "Write the rate as e.g. '200 requests per second'.",
            )
        ]
    seconds = inference_ms(tm.inference_time) / 1e3
    workers = max(pe.computing_resources.cpu, 1)
    capacity = workers / seconds if seconds > 0 else math.inf
    if not exceeds(rate, capacity):
        return []
    return [
        finding(
            "MM-THROUGHPUT",
            "warning",
            kinds,
            (
                field_ref("production_data", "$.data_rates"),
                field_ref("trained_model", "$.inference_time"),
                field_ref("production_environment", "$.computing_resources.cpu"),
            ),
            (DS, OPS),
            f"production sends {rate:.4g} items/s but {workers} CPU(s) at "
            f"{seconds * 1e3:g} ms each serve about {capacity:.4g}/s",
            "Add workers or batching, speed the model up, or buffer the input.",
            rate_per_s=rate,
            capacity_per_s=capacity,
            cpu=workers,
            inference_ms=seconds * 1e3,
        )
    ]


def _expected_in_prod(
    rule_id: str,
    needed: Sequence[tuple[str, str]],
    primary: Sequence[str],
    primary_path: str,
    secondary: Sequence[str],
    secondary_path: str,
    what: str,
    fix_hint: str,
) -> list[Finding]:
    """Warning for each needed name absent from production; info when only under ``other``."""
    main = {norm_text(n) for n in primary}
    other = {norm_text(n) for n in secondary}
    out = []
    for name, path in needed:
        key = norm_text(name)
        if key in main or not filled(name):  # a placeholder is MM-MISSING-INFO's to report
            continue
        found_elsewhere = key in other
        out.append(
            finding(
                rule_id,
                "info" if found_elsewhere else "warning",
                ("trained_model", "production_environment"),
                (
                    field_ref("trained_model", path),
                    field_ref(
                        "production_environment",
                        secondary_path if found_elsewhere else primary_path,
                    ),
                ),
                (DS, OPS),
                f"{what} {name!r} is "
                + (
                    f"captured in production only under {secondary_path}"
                    if found_elsewhere
                    else f"not captured by the production environment ({primary_path})"
                ),
                fix_hint,
                name=name,
            )
        )
    return out


@rule(
    "MM-METRICS-PROD",
    "model algorithm and business metrics are captured in production",
    "trained_model",
    "production_environment",
)
def metrics_prod(ds: DescriptorSet) -> list[Finding]:
    """Each algorithm (business) metric of the model must be in the production environment's
    ``algorithm_metrics`` (``business_metrics``); warning when absent, info when only under
    another list. Names compared case-, space- and dash-insensitively."""
    tm, pe = require(ds.trained_model), require(ds.production_environment)
    out = []
    for key in ("algorithm_metrics", "business_metrics"):
        other_key = "business_metrics" if key == "algorithm_metrics" else "algorithm_metrics"
        out += _expected_in_prod(
            "MM-METRICS-PROD",
            [(m.metric, f"$.{key}[{i}].metric") for i, m in enumerate(getattr(tm, key))],
            [m.metric for m in getattr(pe, key)],
            f"$.{key}",
            [m.metric for m in [*getattr(pe, other_key), *pe.other_metrics]],
            f"$.{other_key} / $.other_metrics",
            key[:-1].replace("_", " "),
            "Implement capturing the metric in production (and its alert threshold).",
        )
    return out


@rule(
    "MM-LOGS-PROD",
    "model log data is captured in production",
    "trained_model",
    "production_environment",
)
def logs_prod(ds: DescriptorSet) -> list[Finding]:
    """Each ``log_data[].log`` of the model must be among production ``model_logs`` (warning;
    info when only under ``other_logs``). Names compared case/space/dash-insensitively."""
    tm, pe = require(ds.trained_model), require(ds.production_environment)
    return _expected_in_prod(
        "MM-LOGS-PROD",
        [(lg.log, f"$.log_data[{i}].log") for i, lg in enumerate(tm.log_data)],
        [lg.log for lg in pe.model_logs],
        "$.model_logs",
        [lg.log for lg in pe.other_logs],
        "$.other_logs",
        "log",
        "Capture the log in production with the format and history the model needs.",
    )


@rule(
    "MM-FEEDBACK-PROD",
    "user/system feedback is captured in production",
    "trained_model",
    "production_environment",
)
def feedback_prod(ds: DescriptorSet) -> list[Finding]:
    """Each ``user_system_feedback[].short_name`` of the model must be among the production
    environment's ``user_system_feedback[].feedback`` (warning). Case/space/dash-insensitive."""
    tm, pe = require(ds.trained_model), require(ds.production_environment)
    return _expected_in_prod(
        "MM-FEEDBACK-PROD",
        [
            (f.short_name, f"$.user_system_feedback[{i}].short_name")
            for i, f in enumerate(tm.user_system_feedback)
        ],
        [f.feedback for f in pe.user_system_feedback],
        "$.user_system_feedback",
        [],
        "$.user_system_feedback",
        "feedback",
        "Implement collecting the feedback in production (who provides it, how it is stored).",
    )
