"""Rules between the data pipeline and the development environment: pipeline inputs map to
upstream outputs of suitable type and range."""

from __future__ import annotations

from mlrails.descriptors.common import DescriptorKind
from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.mismatch.findings import DS, SE, Finding, field_ref
from mlrails.mismatch.rules.common import (
    component_items,
    finding,
    range_finding,
    require,
    type_findings,
)
from mlrails.mismatch.rules.registry import rule
from mlrails.mismatch.units import parse_range


@rule(
    "MM-INPUT-MAP",
    "pipeline inputs map to upstream outputs",
    "data_pipeline",
    "development_environment",
)
def input_map(ds: DescriptorSet) -> list[Finding]:
    """Each pipeline input must map to an upstream component and an output item of it that
    exist (error); upstream outputs no input consumes are listed (info). Exact names after
    trimming spaces."""
    dp, de = require(ds.data_pipeline), require(ds.development_environment)
    comps = component_items([(c.component_name, c.output_spec) for c in de.upstream_components])
    out = []
    used: set[tuple[str, str]] = set()
    for i, p in enumerate(dp.input_spec):
        comp, item = p.component_mapping.component.strip(), p.component_mapping.data_item.strip()
        path = field_ref("data_pipeline", f"$.input_spec[{i}].component_mapping")
        if comp not in comps or item not in comps[comp]:
            where = (
                f"component {comp!r}, which the development environment does not define "
                f"(has: {sorted(comps)})"
                if comp not in comps
                else f"{comp}.{item}, but {comp!r} outputs no {item!r}"
            )
            out.append(
                finding(
                    "MM-INPUT-MAP",
                    "error",
                    ("data_pipeline", "development_environment"),
                    (path, field_ref("development_environment", "$.upstream_components")),
                    (DS, SE),
                    f"pipeline input {p.item_name!r} maps to {where}",
                    "Point component_mapping at an existing upstream output, or describe the "
                    "upstream component's output.",
                    input=p.item_name,
                    component=comp,
                    data_item=item,
                )
            )
        else:
            used.add((comp, item))
    for comp, items in comps.items():
        unused = [name for name in items if (comp, name) not in used]
        if unused:
            ci = next(iter(items.values()))[0]
            out.append(
                finding(
                    "MM-INPUT-MAP",
                    "info",
                    ("development_environment", "data_pipeline"),
                    (
                        field_ref("development_environment", f"$.upstream_components[{ci}]"),
                        field_ref("data_pipeline", "$.input_spec"),
                    ),
                    (DS, SE),
                    f"upstream {comp!r} outputs {len(unused)} item(s) no pipeline input uses: "
                    f"{', '.join(unused[:10])}{' …' if len(unused) > 10 else ''}",
                    "Nothing to fix if intended; otherwise map them or stop producing them.",
                    component=comp,
                    unused=len(unused),
                )
            )
    return out


@rule(
    "MM-INPUT-TYPE",
    "upstream output types and ranges suit the pipeline input contract",
    "data_pipeline",
    "development_environment",
)
def input_type(ds: DescriptorSet) -> list[Finding]:
    """For each pipeline input mapped to an existing upstream output: type families must agree
    (upstream produces, pipeline consumes); the upstream ``expected_values`` range, when it
    parses, must lie within the pipeline's contract ``[min_value, max_value]`` (warning: values
    outside it are refused). Upstream items with no parseable range are listed once per
    component (info: the contract cannot be checked)."""
    dp, de = require(ds.data_pipeline), require(ds.development_environment)
    comps = component_items([(c.component_name, c.output_spec) for c in de.upstream_components])
    out: list[Finding] = []
    unranged: dict[str, list[str]] = {}
    kinds: tuple[DescriptorKind, DescriptorKind] = ("development_environment", "data_pipeline")
    for i, p in enumerate(dp.input_spec):
        comp, item = p.component_mapping.component.strip(), p.component_mapping.data_item.strip()
        hit = comps.get(comp, {}).get(item)
        if hit is None:
            continue
        ci, ii, src = hit
        src_path = f"$.upstream_components[{ci}].output_spec[{ii}]"
        what = f"{comp}.{item} → pipeline input {p.item_name!r}"
        out += type_findings(
            "MM-INPUT-TYPE",
            src.item_type,
            p.item_type,
            (
                field_ref("development_environment", f"{src_path}.item_type"),
                field_ref("data_pipeline", f"$.input_spec[{i}].item_type"),
            ),
            kinds,
            what,
            (DS, SE),
        )
        if p.item_type not in ("Integer", "Float"):
            continue
        sent = parse_range(src.expected_values)
        if sent is None:
            unranged.setdefault(comp, []).append(item)
            continue
        spec = p.item_specification
        out += range_finding(
            "MM-INPUT-TYPE",
            sent,
            (spec.min_value, spec.max_value),
            (
                field_ref("development_environment", f"{src_path}.expected_values"),
                field_ref("data_pipeline", f"$.input_spec[{i}].item_specification"),
            ),
            kinds,
            f"{what}: upstream range vs input contract",
            (DS, SE),
            "Widen the pipeline's contract if the model handles such values, or have the "
            "upstream component clip/validate them.",
        )
    for comp, items in unranged.items():
        out.append(
            finding(
                "MM-INPUT-TYPE",
                "info",
                kinds,
                (field_ref("development_environment", "$.upstream_components"),),
                (DS, SE),
                f"upstream {comp!r} gives no numeric range for {len(items)} numeric input(s) "
                f"({', '.join(items[:5])}{' …' if len(items) > 5 else ''}); the input contract "
                "cannot be checked against it",
                "Write expected_values as a range, e.g. '[0, 1]'.",
                component=comp,
                items=len(items),
            )
        )
    return out
