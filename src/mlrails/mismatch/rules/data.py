"""Rules between raw, training and production data: types, label shares, schema and label
mappings, and the observed ranges against the pipeline's input contract."""

from __future__ import annotations

from mlrails.descriptors.common import DescriptorKind
from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.descriptors.statistics import DescriptorWithStatistics
from mlrails.mismatch.findings import DS, OPS, SE, Finding, field_ref
from mlrails.mismatch.rules.common import (
    finding,
    production_field_for,
    range_finding,
    require,
    type_findings,
)
from mlrails.mismatch.rules.names import norm_text
from mlrails.mismatch.rules.registry import rule

LABEL_SHARE_TOLERANCE_PP = 5.0
"""Raw vs training label shares may differ by this many percentage points (a stratified split
keeps them within a fraction of a point; more means the preparation changed the balance)."""


@rule(
    "MM-RAW-TRAINING",
    "training data is consistent with its raw data",
    "raw_data",
    "training_data",
)
def raw_training(ds: DescriptorSet) -> list[Finding]:
    """Training fields present in the raw schema must have compatible types (warning); training
    feature fields absent from raw data are listed (info: derived, check the preparation
    process); label shares of raw ``labels_distribution`` and training ``distribution`` may
    differ by at most :data:`LABEL_SHARE_TOLERANCE_PP` percentage points (warning), and a label
    on one side only is a warning."""
    rd, td = require(ds.raw_data), require(ds.training_data)
    raw = {f.field_name: (i, f) for i, f in enumerate(rd.data_schema)}
    kinds: tuple[DescriptorKind, DescriptorKind] = ("raw_data", "training_data")
    out: list[Finding] = []
    derived = []
    for j, f in enumerate(td.data_schema):
        hit = raw.get(f.field_name)
        if hit is None:
            if not f.label_field:
                derived.append(f.field_name)
            continue
        i, r = hit
        out += type_findings(
            "MM-RAW-TRAINING",
            r.field_type,
            f.field_type,
            (
                field_ref("raw_data", f"$.schema[{i}].field_type"),
                field_ref("training_data", f"$.schema[{j}].field_type"),
            ),
            kinds,
            f"raw field {r.field_name!r} → training field",
            (DS,),
        )
    if derived:
        out.append(
            finding(
                "MM-RAW-TRAINING",
                "info",
                kinds,
                (field_ref("training_data", "$.schema"), field_ref("raw_data", "$.schema")),
                (DS,),
                f"{len(derived)} training field(s) are not in the raw data (derived?): "
                f"{', '.join(derived[:10])}{' …' if len(derived) > 10 else ''}",
                "Describe how they are derived in preparation_process.",
                n_fields=len(derived),
            )
        )
    raw_share = {norm_text(s.label): s.percentage for s in rd.labels_distribution}
    train_share = {norm_text(s.label): s.percentage for s in td.distribution}
    if raw_share and train_share:
        for label in sorted(set(raw_share) | set(train_share)):
            a, b = raw_share.get(label), train_share.get(label)
            if a is None or b is None or abs(a - b) > LABEL_SHARE_TOLERANCE_PP:
                out.append(
                    finding(
                        "MM-RAW-TRAINING",
                        "warning",
                        kinds,
                        (
                            field_ref("raw_data", "$.labels_distribution"),
                            field_ref("training_data", "$.distribution"),
                        ),
                        (DS,),
                        f"label {label!r}: raw share "
                        f"{'absent' if a is None else f'{a:g}%'}, training share "
                        f"{'absent' if b is None else f'{b:g}%'}",
                        "Check the split/sampling in the preparation process, or update the "
                        "distributions.",
                        label=label,
                        raw_percent=a,
                        training_percent=b,
                        tolerance_pp=LABEL_SHARE_TOLERANCE_PP,
                    )
                )
    return out


@rule(
    "MM-SCHEMA-MAP",
    "training fields map to production fields",
    "training_data",
    "production_data",
)
def schema_map(ds: DescriptorSet) -> list[Finding]:
    """Each training feature field (``label_field`` false) must map (``mapping_production_data``,
    else its own name) to a field of the production schema (error); production fields no
    training field maps to are listed (info: the model never saw them). Exact names."""
    td, pdd = require(ds.training_data), require(ds.production_data)
    prod = {f.field_name for f in pdd.data_schema}
    mapped: set[str] = set()
    kinds: tuple[DescriptorKind, DescriptorKind] = ("training_data", "production_data")
    out = []
    for j, f in enumerate(td.data_schema):
        target = production_field_for(f.field_name, f.mapping_production_data)
        mapped.add(target)
        if f.label_field or target in prod:
            continue
        out.append(
            finding(
                "MM-SCHEMA-MAP",
                "error",
                kinds,
                (
                    field_ref("training_data", f"$.schema[{j}].mapping_production_data"),
                    field_ref("production_data", "$.schema"),
                ),
                (DS, SE),
                f"training field {f.field_name!r} maps to production field {target!r}, which "
                "the production data does not have",
                "Fix mapping_production_data, or add the field to production data.",
                field=f.field_name,
                production_field=target,
            )
        )
    extra = [f.field_name for f in pdd.data_schema if f.field_name not in mapped]
    if extra:
        out.append(
            finding(
                "MM-SCHEMA-MAP",
                "info",
                ("production_data", "training_data"),
                (field_ref("production_data", "$.schema"),),
                (DS,),
                f"{len(extra)} production field(s) have no training counterpart: "
                f"{', '.join(extra[:10])}{' …' if len(extra) > 10 else ''}",
                "Nothing to fix if the model ignores them.",
                n_fields=len(extra),
            )
        )
    return out


@rule(
    "MM-SCHEMA-TYPE",
    "production field types match training field types",
    "training_data",
    "production_data",
)
def schema_type(ds: DescriptorSet) -> list[Finding]:
    """For each mapped field pair: the production type must be compatible with the training
    type (production produces, model consumes): string vs integer is an error, float into an
    integer training field a warning; unrecognised types are not judged."""
    td, pdd = require(ds.training_data), require(ds.production_data)
    prod = {f.field_name: (i, f) for i, f in enumerate(pdd.data_schema)}
    out: list[Finding] = []
    for j, f in enumerate(td.data_schema):
        hit = prod.get(production_field_for(f.field_name, f.mapping_production_data))
        if hit is None:
            continue
        i, p = hit
        out += type_findings(
            "MM-SCHEMA-TYPE",
            p.field_type,
            f.field_type,
            (
                field_ref("production_data", f"$.schema[{i}].field_type"),
                field_ref("training_data", f"$.schema[{j}].field_type"),
            ),
            ("production_data", "training_data"),
            f"production field {p.field_name!r} → training field {f.field_name!r}",
            (DS, SE),
        )
    return out


@rule(
    "MM-LABEL-MAP",
    "training labels map to production labels",
    "training_data",
    "production_data",
)
def label_map(ds: DescriptorSet) -> list[Finding]:
    """Each training ``distribution[].mapping_production_data`` (else the label) must be a label
    of the production ``distribution`` when that is given (warning). Case-insensitive."""
    td, pdd = require(ds.training_data), require(ds.production_data)
    if not pdd.distribution:
        return []
    prod = {norm_text(s.label) for s in pdd.distribution}
    out = []
    for j, s in enumerate(td.distribution):
        target = production_field_for(s.label, s.mapping_production_data)
        if norm_text(target) not in prod:
            out.append(
                finding(
                    "MM-LABEL-MAP",
                    "warning",
                    ("training_data", "production_data"),
                    (
                        field_ref("training_data", f"$.distribution[{j}].mapping_production_data"),
                        field_ref("production_data", "$.distribution"),
                    ),
                    (DS, OPS),
                    f"training label {s.label!r} maps to {target!r}, which is not a production "
                    f"label ({', '.join(sorted(prod))})",
                    "Fix mapping_production_data so every training label names a production label.",
                    label=s.label,
                    production_label=target,
                )
            )
    return out


def _contract(rule_id: str, ds: DescriptorSet, kind: DescriptorKind) -> list[Finding]:
    dp = require(ds.data_pipeline)
    data: DescriptorWithStatistics = require(
        ds.training_data if kind == "training_data" else ds.production_data
    )
    mapping: dict[str, str] = {}
    if kind == "production_data" and ds.training_data is not None:
        mapping = {
            f.field_name: production_field_for(f.field_name, f.mapping_production_data)
            for f in ds.training_data.data_schema
        }
    out: list[Finding] = []
    for i, p in enumerate(dp.input_spec):
        if p.item_type not in ("Integer", "Float"):
            continue
        name = mapping.get(p.item_name, p.item_name)
        stats = data.statistics_for(name)
        if stats is None or stats.minimum is None or stats.maximum is None:
            continue
        spec = p.item_specification
        out += range_finding(
            rule_id,
            (stats.minimum, stats.maximum),
            (spec.min_value, spec.max_value),
            (
                field_ref(kind, "$.statistics"),
                field_ref("data_pipeline", f"$.input_spec[{i}].item_specification"),
            ),
            (kind, "data_pipeline"),
            f"{kind.replace('_', ' ')} field {name!r} observed range vs input contract",
            (DS, SE, OPS) if kind == "production_data" else (DS, SE),
            "Values outside the contract are refused by the pipeline: widen the contract if "
            "the model is valid there, or fix the data source.",
        )
    return out


@rule(
    "MM-CONTRACT-TRAINING",
    "training data lies within the pipeline's input contract",
    "data_pipeline",
    "training_data",
)
def contract_training(ds: DescriptorSet) -> list[Finding]:
    """For numeric pipeline inputs: the training statistics' [minimum, maximum] of the field of
    the same name must lie within the contract [min_value, max_value] (warning)."""
    return _contract("MM-CONTRACT-TRAINING", ds, "training_data")


@rule(
    "MM-CONTRACT-PRODUCTION",
    "production data lies within the pipeline's input contract",
    "data_pipeline",
    "production_data",
)
def contract_production(ds: DescriptorSet) -> list[Finding]:
    """For numeric pipeline inputs: the production statistics' [minimum, maximum] (field mapped
    through the training schema when present) must lie within the contract (warning: such
    production values are being refused)."""
    return _contract("MM-CONTRACT-PRODUCTION", ds, "production_data")
