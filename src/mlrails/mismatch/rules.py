"""Cross-descriptor rules of ``mlrails mismatch``: one small function per rule, registered by id.

Each rule names the descriptors it needs; :func:`mlrails.mismatch.check.check_descriptors`
runs a rule only when all of them were read. Names are compared after normalisation (case,
spaces/underscores/dashes, version specifiers such as ``torch>=2.1``, and a few well-known
aliases: ``torch`` = ``pytorch``, ``sklearn`` = ``scikit-learn``, ``FNR`` = ``false negative
rate``), not as raw strings. Quantities are compared after unit conversion (times to
milliseconds, sizes to bytes) with a relative tolerance of :data:`REL_TOL`.

The statistical training-vs-production rules (``MM-STAT-*``) live in
:mod:`mlrails.mismatch.check`, which registers them here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from mlrails.descriptors.common import ComputingResources, DescriptorKind
from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.descriptors.development_environment import ComponentItem
from mlrails.descriptors.placeholders import filled
from mlrails.descriptors.statistics import DescriptorWithStatistics
from mlrails.descriptors.trained_model import MetricResult, OutputItem
from mlrails.mismatch.findings import (
    DS,
    OPS,
    SE,
    Finding,
    NumberValue,
    Role,
    Severity,
    field_ref,
)
from mlrails.mismatch.units import (
    REL_TOL,
    exceeds,
    inference_ms,
    parse_range,
    parse_rate_per_second,
)

LABEL_SHARE_TOLERANCE_PP = 5.0
"""Raw vs training label shares may differ by this many percentage points (a stratified split
keeps them within a fraction of a point; more means the preparation changed the balance)."""

RuleFn = Callable[[DescriptorSet], list[Finding]]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Rule:
    """A registered rule: id, one-line title, the descriptors it needs, the check itself."""

    rule_id: str
    title: str
    requires: tuple[DescriptorKind, ...]
    fn: RuleFn

    @property
    def doc(self) -> str:
        """The rule function's docstring: what it compares, tolerance and units."""
        return (self.fn.__doc__ or self.title).strip()


RULES: dict[str, Rule] = {}
"""Every rule, by id, in registration order."""


def rule(rule_id: str, title: str, *requires: DescriptorKind) -> Callable[[RuleFn], RuleFn]:
    """Register ``fn`` as rule ``rule_id`` needing the descriptors ``requires``."""

    def register(fn: RuleFn) -> RuleFn:
        if rule_id in RULES and RULES[rule_id].fn is not fn:
            raise ValueError(f"rule {rule_id} registered twice")
        RULES[rule_id] = Rule(rule_id, title, tuple(requires), fn)
        return fn

    return register


# --------------------------------------------------------------------------------------------
# names and types


_ALIASES: dict[str, str] = {
    # frameworks
    "sklearn": "scikit-learn",
    "scikit": "scikit-learn",
    "scikitlearn": "scikit-learn",
    "torch": "pytorch",
    "tf": "tensorflow",
    "tensorflow-gpu": "tensorflow",
    "tf-keras": "keras",
    "xgb": "xgboost",
    "lgbm": "lightgbm",
    "onnxruntime": "onnx-runtime",
    "hf-transformers": "transformers",
    # languages
    "python3": "python",
    "py": "python",
    "c++": "cpp",
    "golang": "go",
    "js": "javascript",
    "ts": "typescript",
    "c#": "csharp",
}

_METRICS: dict[str, str] = {
    "fnr": "false negative rate",
    "miss rate": "false negative rate",
    "false negative rate": "false negative rate",
    "fpr": "false positive rate",
    "fall-out": "false positive rate",
    "false positive rate": "false positive rate",
    "ppv": "positive predictive value",
    "precision": "positive predictive value",
    "positive predictive value": "positive predictive value",
    "npv": "negative predictive value",
    "negative predictive value": "negative predictive value",
    "f1": "f1 score",
    "f1 score": "f1 score",
    "f-score": "f1 score",
    "f1-score": "f1 score",
    "accuracy": "accuracy",
    "acc": "accuracy",
    "recall": "recall",
    "sensitivity": "recall",
    "tpr": "recall",
    "true positive rate": "recall",
    "specificity": "specificity",
    "tnr": "specificity",
    "true negative rate": "specificity",
    "auc": "roc auc",
    "roc auc": "roc auc",
    "auroc": "roc auc",
}
_VERSION_SPEC = re.compile(r"\s*(?:[<>=!~^]=?|==|\s+v?\d).*$")


def norm_name(name: str) -> str:
    """Lower case, version specifier dropped, ``_``/spaces as ``-``, known aliases resolved."""
    s = _VERSION_SPEC.sub("", name.strip().lower())
    s = re.sub(r"[\s_]+", "-", s).strip("-")
    return _ALIASES.get(s, s)


def norm_text(name: str) -> str:
    """Lower case with runs of spaces, ``_`` and ``-`` as one space (metric/log/feedback names)."""
    return re.sub(r"[\s_\-]+", " ", name.strip().lower()).strip()


def canonical_metric(text: str) -> str:
    """The canonical name of a performance metric in ``text`` (whole text, else a known metric
    named inside it, e.g. ``"FNR below 2%"``), else the normalised text."""
    t = norm_text(text)
    if t in _METRICS:
        return _METRICS[t]
    for alias in sorted(_METRICS, key=len, reverse=True):
        if re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", t):
            return _METRICS[alias]
    return t


def metric_result_name(m: MetricResult) -> str:
    """A model metric's name: ``other_metric`` when the metric is ``Other``."""
    return m.other_metric if m.metric == "Other" else m.metric


_TYPE_FAMILY: dict[str, str] = {}
for _family, _names in {
    "integer": ("int", "integer", "int8", "int16", "int32", "int64", "long", "short", "uint8"),
    "float": ("float", "double", "real", "decimal", "float16", "float32", "float64"),
    "number": ("number", "numeric", "num"),
    "string": ("string", "str", "text", "varchar", "char", "category", "categorical", "enum"),
    "boolean": ("bool", "boolean", "binary flag"),
    "datetime": ("date", "datetime", "timestamp", "time", "date-time"),
    "image": ("image", "img", "picture"),
}.items():
    for _n in _names:
        _TYPE_FAMILY[_n] = _family

TypeVerdict = str  # "ok" | "lossy" | "incompatible" | "unknown"


def type_family(type_name: str) -> str | None:
    """The type family of a free-text type (integer, float, number, string, boolean,
    datetime, image), or ``None`` when unknown or ``Other``/``any``."""
    return _TYPE_FAMILY.get(norm_text(type_name))


def type_compatibility(produced: str, consumed: str) -> TypeVerdict:
    """Can values of type ``produced`` feed a consumer of type ``consumed``?

    ``ok``: same family, or integer/float into number/float; ``lossy``: float into integer,
    boolean into a number and back; ``incompatible``: anything else across families (e.g.
    string into integer); ``unknown``: a side is untyped (``Other``, ``any``, unrecognised).
    """
    a, b = type_family(produced), type_family(consumed)
    if a is None or b is None:
        return "unknown"
    if a == b:
        return "ok"
    numeric = {"integer", "float", "number"}
    if a in numeric and b in numeric:
        return "lossy" if b == "integer" else "ok"
    if {a, b} <= numeric | {"boolean"}:
        return "lossy"
    return "incompatible"


# --------------------------------------------------------------------------------------------
# helpers


def _req(value: _T | None) -> _T:
    if value is None:  # pragma: no cover - the runner only calls rules whose inputs exist
        raise RuntimeError("rule called without its descriptor")
    return value


def _finding(
    rule_id: str,
    severity: Severity,
    descriptors: Sequence[DescriptorKind],
    fields: Iterable[str],
    roles: Sequence[Role],
    message: str,
    fix_hint: str,
    **numbers: NumberValue,
) -> Finding:
    return Finding(
        rule_id=rule_id,
        severity=severity,
        descriptors=tuple(descriptors),
        fields=tuple(fields),
        numbers=numbers,
        roles=tuple(roles),
        message=message,
        fix_hint=fix_hint,
    )


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
                _finding(
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


# --------------------------------------------------------------------------------------------
# system context ↔ trained model


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
    sc, tm = _req(ds.system_context), _req(ds.trained_model)
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
            _finding(
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
    sc, tm = _req(ds.system_context), _req(ds.trained_model)
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
                    _finding(
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
            _finding(
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


# --------------------------------------------------------------------------------------------
# trained model ↔ development environment


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
    tm, de = _req(ds.trained_model), _req(ds.development_environment)
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
    tm, de = _req(ds.trained_model), _req(ds.development_environment)
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
    tm = _req(ds.trained_model)
    need = tm.computing_resource_reqs
    out = []
    for name, unit in (("gpu", "count"), ("cpu", "count"), ("memory", "GB"), ("storage", "GB")):
        req, have = float(getattr(need, name)), float(getattr(available, name))
        if exceeds(req, have):
            out.append(
                _finding(
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
    de = _req(ds.development_environment)
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
    pe = _req(ds.production_environment)
    return _resources(
        "MM-RESOURCES-PROD", ds, "production_environment", pe.computing_resources, (DS, OPS)
    )


def _outputs(ds: DescriptorSet) -> tuple[list[OutputItem], str]:
    tm = _req(ds.trained_model)
    if tm.post_processing:
        return list(tm.final_output_spec), "final_output_spec"
    return list(tm.output_spec), "output_spec"


def _component_items(
    components: Sequence[tuple[str, Sequence[ComponentItem]]],
) -> dict[str, dict[str, tuple[int, int, ComponentItem]]]:
    """component name → item name → (component index, item index, item)."""
    out: dict[str, dict[str, tuple[int, int, ComponentItem]]] = {}
    for ci, (name, items) in enumerate(components):
        slot = out.setdefault(name.strip(), {})
        for ii, item in enumerate(items):
            slot.setdefault(item.item_name.strip(), (ci, ii, item))
    return out


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
    de = _req(ds.development_environment)
    outputs, key = _outputs(ds)
    comps = _component_items([(c.component_name, c.input_spec) for c in de.downstream_components])
    out = []
    used: set[tuple[str, str]] = set()
    for i, o in enumerate(outputs):
        comp, item = o.component_mapping.component.strip(), o.component_mapping.data_item.strip()
        path = field_ref("trained_model", f"$.{key}[{i}].component_mapping")
        if comp not in comps:
            out.append(
                _finding(
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
                _finding(
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
                    _finding(
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


def _type_findings(
    rule_id: str,
    produced: str,
    consumed: str,
    paths: tuple[str, str],
    kinds: tuple[DescriptorKind, DescriptorKind],
    what: str,
    roles: Sequence[Role],
) -> list[Finding]:
    verdict = type_compatibility(produced, consumed)
    if verdict in ("ok", "unknown"):
        return []
    severity: Severity = "error" if verdict == "incompatible" else "warning"
    return [
        _finding(
            rule_id,
            severity,
            kinds,
            paths,
            roles,
            f"{what}: {produced!r} values feed a {consumed!r} consumer ({verdict})",
            "Agree on one type on both sides, or add an explicit, tested conversion step.",
            produced_type=produced,
            consumed_type=consumed,
            verdict=verdict,
        )
    ]


def _range_finding(
    rule_id: str,
    inner: tuple[float, float],
    outer: tuple[float, float],
    paths: tuple[str, ...],
    kinds: tuple[DescriptorKind, ...],
    what: str,
    roles: Sequence[Role],
    fix_hint: str,
    severity: Severity = "warning",
) -> list[Finding]:
    """A finding when ``inner`` is not inside ``outer`` (within REL_TOL)."""
    lo_out = inner[0] < outer[0] and not math.isclose(inner[0], outer[0], rel_tol=REL_TOL)
    hi_out = exceeds(inner[1], outer[1])
    if not (lo_out or hi_out):
        return []
    return [
        _finding(
            rule_id,
            severity,
            kinds,
            paths,
            roles,
            f"{what}: [{inner[0]:g}, {inner[1]:g}] is not within [{outer[0]:g}, {outer[1]:g}]",
            fix_hint,
            low=inner[0],
            high=inner[1],
            allowed_low=outer[0],
            allowed_high=outer[1],
        )
    ]


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
    de = _req(ds.development_environment)
    outputs, key = _outputs(ds)
    comps = _component_items([(c.component_name, c.input_spec) for c in de.downstream_components])
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
        out += _type_findings(
            "MM-OUTPUT-TYPE", o.item_type, target.item_type, paths, kinds, what, (DS, SE)
        )
        allowed = parse_range(target.expected_values)
        spec = o.item_specification
        if allowed is not None and spec is not None and o.item_type in ("Integer", "Float"):
            out += _range_finding(
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


# --------------------------------------------------------------------------------------------
# data pipeline ↔ development environment


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
    dp, de = _req(ds.data_pipeline), _req(ds.development_environment)
    comps = _component_items([(c.component_name, c.output_spec) for c in de.upstream_components])
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
                _finding(
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
                _finding(
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
    dp, de = _req(ds.data_pipeline), _req(ds.development_environment)
    comps = _component_items([(c.component_name, c.output_spec) for c in de.upstream_components])
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
        out += _type_findings(
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
        out += _range_finding(
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
            _finding(
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


# --------------------------------------------------------------------------------------------
# trained model ↔ production environment


@rule(
    "MM-INFERENCE-TIME",
    "observed inference time meets the production requirement",
    "trained_model",
    "production_environment",
)
def inference_time(ds: DescriptorSet) -> list[Finding]:
    """Observed inference time (trained model) ≤ required (production environment), both
    converted to milliseconds; tolerance :data:`REL_TOL`. Severity error."""
    tm, pe = _req(ds.trained_model), _req(ds.production_environment)
    observed, required = inference_ms(tm.inference_time), inference_ms(pe.required_inference_time)
    if not exceeds(observed, required):
        return []
    return [
        _finding(
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
    tm, pe, pd_ = _req(ds.trained_model), _req(ds.production_environment), _req(ds.production_data)
    rate = parse_rate_per_second(pd_.data_rates)
    kinds: tuple[DescriptorKind, ...] = (
        "production_data",
        "trained_model",
        "production_environment",
    )
    if rate is None:
        return [
            _finding(
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
        _finding(
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
            _finding(
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
    tm, pe = _req(ds.trained_model), _req(ds.production_environment)
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
    tm, pe = _req(ds.trained_model), _req(ds.production_environment)
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
    tm, pe = _req(ds.trained_model), _req(ds.production_environment)
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


# --------------------------------------------------------------------------------------------
# identifiers linking descriptors


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
        _finding(
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
    tm, dp = _req(ds.trained_model), _req(ds.data_pipeline)
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
    tm, td = _req(ds.trained_model), _req(ds.training_data)
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
    td, rd = _req(ds.training_data), _req(ds.raw_data)
    return _link(
        "MM-LINK-RAW",
        rd.dataset_identifier,
        td.raw_data_identifier,
        field_ref("raw_data", "$.dataset_identifier"),
        field_ref("training_data", "$.raw_data_identifier"),
        ("training_data", "raw_data"),
        "raw data",
    )


# --------------------------------------------------------------------------------------------
# raw ↔ training ↔ production data


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
    rd, td = _req(ds.raw_data), _req(ds.training_data)
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
        out += _type_findings(
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
            _finding(
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
                    _finding(
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


def production_field_for(name: str, mapping: str) -> str:
    """The production field a training field maps to: ``mapping_production_data`` or its own
    name when the mapping is empty."""
    return mapping.strip() or name


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
    td, pdd = _req(ds.training_data), _req(ds.production_data)
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
            _finding(
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
            _finding(
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
    td, pdd = _req(ds.training_data), _req(ds.production_data)
    prod = {f.field_name: (i, f) for i, f in enumerate(pdd.data_schema)}
    out: list[Finding] = []
    for j, f in enumerate(td.data_schema):
        hit = prod.get(production_field_for(f.field_name, f.mapping_production_data))
        if hit is None:
            continue
        i, p = hit
        out += _type_findings(
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
    td, pdd = _req(ds.training_data), _req(ds.production_data)
    if not pdd.distribution:
        return []
    prod = {norm_text(s.label) for s in pdd.distribution}
    out = []
    for j, s in enumerate(td.distribution):
        target = production_field_for(s.label, s.mapping_production_data)
        if norm_text(target) not in prod:
            out.append(
                _finding(
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
    dp = _req(ds.data_pipeline)
    data: DescriptorWithStatistics = _req(
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
        out += _range_finding(
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


# --------------------------------------------------------------------------------------------
# missing information


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
            _finding(
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
