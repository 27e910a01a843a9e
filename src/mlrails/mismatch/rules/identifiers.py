"""Rules on the identifiers linking descriptors: model → data pipeline and training data,
training data → raw data."""

from __future__ import annotations

from mlrails.descriptors.common import DescriptorKind
from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.mismatch.findings import DS, SE, Finding, field_ref
from mlrails.mismatch.rules.common import finding, require
from mlrails.mismatch.rules.registry import rule


def _link(
    rule_id: str,
    have: str | None,
    want: str,
    have_ref: str,
    want_ref: str,
    kinds: tuple[DescriptorKind, DescriptorKind],
    what: str,
) -> list[Finding]:
    if have is not None and have.strip() == want.strip():
        return []
    missing = have is None or not have.strip()
    return [
        finding(
            rule_id,
            "warning" if missing else "error",
            kinds,
            (have_ref, want_ref),
            (DS, SE),
            f"{what}: {want!r} is referenced but the descriptor "
            + ("gives no identifier" if missing else f"is {have!r}"),
            "Make the identifiers agree, or point at the right descriptor version.",
            referenced=want,
            actual=have,
        )
    ]


@rule("MM-LINK-PIPELINE", "model names its data pipeline", "trained_model", "data_pipeline")
def link_pipeline(ds: DescriptorSet) -> list[Finding]:
    """``trained_model.data_pipeline_identifier`` = ``data_pipeline.pipeline_identifier``
    (exact after trimming; error, warning when the pipeline has no identifier)."""
    tm, dp = require(ds.trained_model), require(ds.data_pipeline)
    return _link(
        "MM-LINK-PIPELINE",
        dp.pipeline_identifier,
        tm.data_pipeline_identifier,
        field_ref("data_pipeline", "$.pipeline_identifier"),
        field_ref("trained_model", "$.data_pipeline_identifier"),
        ("trained_model", "data_pipeline"),
        "data pipeline",
    )


@rule("MM-LINK-TRAINING", "model names its training data", "trained_model", "training_data")
def link_training(ds: DescriptorSet) -> list[Finding]:
    """``trained_model.training_data_identifier`` = ``training_data.dataset_identifier``."""
    tm, td = require(ds.trained_model), require(ds.training_data)
    return _link(
        "MM-LINK-TRAINING",
        td.dataset_identifier,
        tm.training_data_identifier,
        field_ref("training_data", "$.dataset_identifier"),
        field_ref("trained_model", "$.training_data_identifier"),
        ("trained_model", "training_data"),
        "training data",
    )


@rule("MM-LINK-RAW", "training data names its raw data", "training_data", "raw_data")
def link_raw(ds: DescriptorSet) -> list[Finding]:
    """``training_data.raw_data_identifier`` = ``raw_data.dataset_identifier``."""
    td, rd = require(ds.training_data), require(ds.raw_data)
    return _link(
        "MM-LINK-RAW",
        rd.dataset_identifier,
        td.raw_data_identifier,
        field_ref("raw_data", "$.dataset_identifier"),
        field_ref("training_data", "$.raw_data_identifier"),
        ("training_data", "raw_data"),
        "raw data",
    )
