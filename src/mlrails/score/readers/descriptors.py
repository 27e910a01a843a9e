"""The **descriptors** source: a directory of the eight v1.2 descriptors.

Which were read, missing or unreadable, how many values are still ``TO FILL``, the findings of
every mismatch rule (:func:`mlrails.mismatch.check.check_descriptors`), and a few filled-in
facts the rules use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlrails.descriptors.placeholders import filled
from mlrails.mismatch.units import inference_ms
from mlrails.score.facts import DescriptorFacts
from mlrails.score.readers.common import Unusable


def read_descriptors(path: Path) -> DescriptorFacts:
    """Read the descriptor directory and run the mismatch check on it."""
    from mlrails.describe.common import fields_to_fill
    from mlrails.descriptors import DescriptorError, read_descriptor_dir
    from mlrails.mismatch.check import check_descriptors

    try:
        ds = read_descriptor_dir(path)
    except DescriptorError as exc:
        raise Unusable(f"{path}: {exc}") from None
    if not ds.descriptors:
        what = "unreadable" if ds.errors else "missing"
        raise Unusable(f"{path}: no readable descriptor (<kind>.json files {what})")
    report = check_descriptors(ds)
    sc, raw, td, tm = ds.system_context, ds.raw_data, ds.training_data, ds.trained_model
    pe, dp = ds.production_environment, ds.data_pipeline
    goals = sc.goals if sc is not None else []
    return DescriptorFacts(
        directory=str(path),
        present=tuple(ds.descriptors),
        missing=tuple(ds.missing),
        unreadable=tuple(ds.errors),
        to_fill=sum(len(fields_to_fill(d)) for d in ds.descriptors.values()),
        findings={str(k): n for k, n in report.counts().items()},
        finding_rules=tuple(
            sorted({f.rule_id for f in report.findings if f.severity in ("error", "warning")})
        ),
        checked_rules=tuple(report.checked_rules),
        fields_compared=len(report.statistics),
        goals=len(goals),
        goals_with_metric=sum(1 for g in goals if filled(g.metric) and filled(g.baseline)),
        data_rights=_text(sc.data_rights_policies) if sc is not None else None,
        anonymization=_text(raw.anonymization) if raw is not None else None,
        restrictions=_text(raw.restrictions) if raw is not None else None,
        label_distribution=td is not None and bool(td.distribution),
        evaluation_metrics=_metrics(tm.evaluation_metrics) if tm is not None else (),
        test_metrics=_metrics(tm.test_metrics) if tm is not None else (),
        inference_time_ms=_ms(tm.inference_time) if tm is not None else None,
        required_inference_ms=_ms(pe.required_inference_time) if pe is not None else None,
        model_resources=tm is not None and _resources(tm.computing_resource_reqs),
        production_resources=pe is not None and _resources(pe.computing_resources),
        business_metrics=tuple(m.metric for m in tm.business_metrics if filled(m.metric))
        if tm is not None
        else (),
        production_business_metrics=tuple(
            m.metric for m in pe.business_metrics if filled(m.implementation)
        )
        if pe is not None
        else (),
        pipeline_test_cases=sum(1 for t in dp.test_cases if filled(t.test_case_name))
        if dp is not None
        else 0,
    )


def _text(value: str | None) -> str | None:
    return value.strip() if filled(value) and value is not None else None


def _metrics(results: Any) -> tuple[str, ...]:
    return tuple(
        f"{r.other_metric if r.metric == 'Other' else r.metric} = {r.result:g}" for r in results
    )


def _ms(t: Any) -> float | None:
    try:
        ms = inference_ms(t)
    except ValueError:
        return None
    return ms if t.time > 0 else None


def _resources(r: Any) -> bool:
    return bool(r.cpu > 0 or r.gpu > 0) and r.memory > 0
