"""Rules between the trained model and the development environment: languages, frameworks,
compute resources, and the model outputs feeding downstream components."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mlrails.descriptors.common import ComputingResources, DescriptorKind
from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.descriptors.trained_model import OutputItem
from mlrails.mismatch.findings import DS, OPS, SE, Finding, Role, Severity, field_ref
from mlrails.mismatch.rules.common import (
    component_items,
    finding,
    range_finding,
    require,
    type_findings,
)
from mlrails.mismatch.rules.names import norm_name
from mlrails.mismatch.rules.registry import rule
from mlrails.mismatch.units import exceeds, parse_range


def _subset_rule(
    rule_id: str,
    needed: Sequence[tuple[str, str]],
    available: Sequence[str],
    need_kind: DescriptorKind,
    have_kind: DescriptorKind,
    have_path: str,
    what: str,
    norm: Callable[[str], str],
    severity: Severity,
    roles: Sequence[Role],
    fix_hint: str,
) -> list[Finding]:
    """One finding per needed (name, path) whose normalised name is not available."""
    have = {norm(a) for a in available}
    out = []
    for name, path in needed:
        if norm(name) not in have:
            out.append(
                finding(
                    rule_id,
                    severity,
                    (need_kind, have_kind),
                    (field_ref(need_kind, path), field_ref(have_kind, have_path)),
                    roles,
                    f"{what} {name!r} is not in {have_kind} {have_path} "
                    f"({', '.join(map(repr, available)) or 'empty'})",
                    fix_hint,
                    name=name,
                    normalized=norm(name),
                )
            )
    return out


@rule(
    "MM-LANGUAGE",
    "model languages are supported by the development environment",
    "trained_model",
    "development_environment",
)
def language(ds: DescriptorSet) -> list[Finding]:
    """Every model component's programming language ⊆ the development environment's languages.

    Normalised names (``Python3`` = ``python``, version suffix dropped). Severity error.
    """
    tm, de = require(ds.trained_model), require(ds.development_environment)
    needed = [
        (lang, f"$.model_components[{i}].programming_languages[{j}]")
        for i, c in enumerate(tm.model_components)
        for j, lang in enumerate(c.programming_languages)
    ]
    return _subset_rule(
        "MM-LANGUAGE",
        needed,
        de.programming_languages,
        "trained_model",
        "development_environment",
        "$.programming_languages",
        "programming language",
        norm_name,
        "error",
        (DS, SE),
        "Add the language to the development environment, or port the model component.",
    )


@rule(
    "MM-FRAMEWORK",
    "model frameworks are supported by the development environment",
    "trained_model",
    "development_environment",
)
def framework(ds: DescriptorSet) -> list[Finding]:
    """The model's ML frameworks ⊆ the development environment's frameworks.

    Normalised names (``torch`` = ``PyTorch``, ``sklearn`` = ``scikit-learn``, ``>=1.6`` and
    other version specifiers dropped). Severity error.
    """
    tm, de = require(ds.trained_model), require(ds.development_environment)
    needed = [(f, f"$.ml_frameworks[{j}]") for j, f in enumerate(tm.ml_frameworks)]
    return _subset_rule(
        "MM-FRAMEWORK",
        needed,
        de.ml_frameworks,
        "trained_model",
        "development_environment",
        "$.ml_frameworks",
        "ML framework",
        norm_name,
        "error",
        (DS, SE),
        "Install the framework in the development environment, or export the model to a "
        "supported runtime (e.g. ONNX) and list that.",
    )


def _resources(
    rule_id: str,
    ds: DescriptorSet,
    env_kind: DescriptorKind,
    available: ComputingResources,
    roles: Sequence[Role],
) -> list[Finding]:
    tm = require(ds.trained_model)
    need = tm.computing_resource_reqs
    out = []
    for name, unit in (("gpu", "count"), ("cpu", "count"), ("memory", "GB"), ("storage", "GB")):
        req, have = float(getattr(need, name)), float(getattr(available, name))
        if exceeds(req, have):
            out.append(
                finding(
                    rule_id,
                    "error",
                    ("trained_model", env_kind),
                    (
                        field_ref("trained_model", f"$.computing_resource_reqs.{name}"),
                        field_ref(env_kind, f"$.computing_resources.{name}"),
                    ),
                    roles,
                    f"the model needs {name} {req:g} {unit}, the {env_kind.replace('_', ' ')} "
                    f"has {have:g} {unit}",
                    f"Provision more {name} in the {env_kind.replace('_', ' ')}, or reduce the "
                    "model's needs (smaller model, quantisation, batching).",
                    resource=name,
                    required=req,
                    available=have,
                    unit=unit,
                )
            )
    return out


@rule(
    "MM-RESOURCES-DEV",
    "model compute needs fit the development environment",
    "trained_model",
    "development_environment",
)
def resources_dev(ds: DescriptorSet) -> list[Finding]:
    """Required GPU and CPU counts, memory and storage (GB, decimal, as the v1.2 format says)
    ≤ what the development environment has, within :data:`REL_TOL`. Severity error."""
    de = require(ds.development_environment)
    return _resources(
        "MM-RESOURCES-DEV", ds, "development_environment", de.computing_resources, (DS, SE)
    )


@rule(
    "MM-RESOURCES-PROD",
    "model compute needs fit the production environment",
    "trained_model",
    "production_environment",
)
def resources_prod(ds: DescriptorSet) -> list[Finding]:
    """Required GPU and CPU counts, memory and storage (GB) ≤ what the production environment
    has, within :data:`REL_TOL`. Severity error."""
    pe = require(ds.production_environment)
    return _resources(
        "MM-RESOURCES-PROD", ds, "production_environment", pe.computing_resources, (DS, OPS)
    )


def _outputs(ds: DescriptorSet) -> tuple[list[OutputItem], str]:
    tm = require(ds.trained_model)
    if tm.post_processing:
        return list(tm.final_output_spec), "final_output_spec"
    return list(tm.output_spec), "output_spec"


@rule(
    "MM-OUTPUT-MAP",
    "model outputs map to downstream inputs, every downstream input is fed",
    "trained_model",
    "development_environment",
)
def output_map(ds: DescriptorSet) -> list[Finding]:
    """Each model output (``final_output_spec`` when ``post_processing``) must map to a
    downstream component and an input item of it that exist (error); each downstream input item
    should be fed by some output (warning). Names compared exactly after trimming spaces."""
    de = require(ds.development_environment)
    outputs, key = _outputs(ds)
    comps = component_items([(c.component_name, c.input_spec) for c in de.downstream_components])
    out = []
    used: set[tuple[str, str]] = set()
    for i, o in enumerate(outputs):
        comp, item = o.component_mapping.component.strip(), o.component_mapping.data_item.strip()
        path = field_ref("trained_model", f"$.{key}[{i}].component_mapping")
        if comp not in comps:
            out.append(
                finding(
                    "MM-OUTPUT-MAP",
                    "error",
                    ("trained_model", "development_environment"),
                    (path, field_ref("development_environment", "$.downstream_components")),
                    (DS, SE),
                    f"output {o.item_name!r} maps to downstream component {comp!r}, which the "
                    f"development environment does not define (has: {sorted(comps)})",
                    "Name an existing downstream component in component_mapping, or describe "
                    "the component in the development environment.",
                    output=o.item_name,
                    component=comp,
                )
            )
        elif item not in comps[comp]:
            out.append(
                finding(
                    "MM-OUTPUT-MAP",
                    "error",
                    ("trained_model", "development_environment"),
                    (path, field_ref("development_environment", "$.downstream_components")),
                    (DS, SE),
                    f"output {o.item_name!r} maps to {comp}.{item}, but {comp!r} has no input "
                    f"{item!r} (has: {sorted(comps[comp])})",
                    "Fix data_item in component_mapping, or add the input to the component.",
                    output=o.item_name,
                    component=comp,
                    data_item=item,
                )
            )
        else:
            used.add((comp, item))
    for comp, items in comps.items():
        for item, (ci, ii, _) in items.items():
            if (comp, item) not in used:
                out.append(
                    finding(
                        "MM-OUTPUT-MAP",
                        "warning",
                        ("development_environment", "trained_model"),
                        (
                            field_ref(
                                "development_environment",
                                f"$.downstream_components[{ci}].input_spec[{ii}]",
                            ),
                            field_ref("trained_model", f"$.{key}"),
                        ),
                        (DS, SE),
                        f"downstream input {comp}.{item} is not fed by any model output",
                        "Map a model output to it, or document where it comes from.",
                        component=comp,
                        data_item=item,
                    )
                )
    return out


@rule(
    "MM-OUTPUT-TYPE",
    "model output types and ranges suit the downstream inputs",
    "trained_model",
    "development_environment",
)
def output_type(ds: DescriptorSet) -> list[Finding]:
    """For each output mapped to an existing downstream input: type families must agree
    (string into number is an error, float into integer a warning); a numeric output range
    (``item_specification`` min/max) must lie within the input's ``expected_values`` when that
    parses as a range (``[0, 1]``, ``0-1``, ``0 to 1``), tolerance :data:`REL_TOL` (warning)."""
    de = require(ds.development_environment)
    outputs, key = _outputs(ds)
    comps = component_items([(c.component_name, c.input_spec) for c in de.downstream_components])
    out: list[Finding] = []
    kinds: tuple[DescriptorKind, DescriptorKind] = ("trained_model", "development_environment")
    for i, o in enumerate(outputs):
        comp, item = o.component_mapping.component.strip(), o.component_mapping.data_item.strip()
        hit = comps.get(comp, {}).get(item)
        if hit is None:
            continue
        ci, ii, target = hit
        paths = (
            field_ref("trained_model", f"$.{key}[{i}].item_type"),
            field_ref(
                "development_environment",
                f"$.downstream_components[{ci}].input_spec[{ii}].item_type",
            ),
        )
        what = f"output {o.item_name!r} → {comp}.{item}"
        out += type_findings(
            "MM-OUTPUT-TYPE", o.item_type, target.item_type, paths, kinds, what, (DS, SE)
        )
        allowed = parse_range(target.expected_values)
        spec = o.item_specification
        if allowed is not None and spec is not None and o.item_type in ("Integer", "Float"):
            out += range_finding(
                "MM-OUTPUT-TYPE",
                (spec.min_value, spec.max_value),
                allowed,
                (
                    field_ref("trained_model", f"$.{key}[{i}].item_specification"),
                    field_ref(
                        "development_environment",
                        f"$.downstream_components[{ci}].input_spec[{ii}].expected_values",
                    ),
                ),
                kinds,
                f"{what}: output range",
                (DS, SE),
                "Clip or rescale the output (post-processing), or widen what the downstream "
                "component accepts.",
            )
    return out
