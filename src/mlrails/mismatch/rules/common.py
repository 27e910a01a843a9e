"""What several rule themes share: building a finding, the descriptor a rule requires, type and
range findings, component items by name, the production field a training field maps to."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TypeVar

from mlrails.descriptors.common import DescriptorKind
from mlrails.descriptors.development_environment import ComponentItem
from mlrails.mismatch.findings import Finding, NumberValue, Role, Severity
from mlrails.mismatch.rules.names import type_compatibility
from mlrails.mismatch.units import REL_TOL, exceeds

_T = TypeVar("_T")


def require(value: _T | None) -> _T:
    """A descriptor the rule requires (the runner only calls a rule when it was read)."""
    if value is None:  # pragma: no cover - the runner only calls rules whose inputs exist
        raise RuntimeError("rule called without its descriptor")
    return value


def finding(
    rule_id: str,
    severity: Severity,
    descriptors: Sequence[DescriptorKind],
    fields: Iterable[str],
    roles: Sequence[Role],
    message: str,
    fix_hint: str,
    **numbers: NumberValue,
) -> Finding:
    """A :class:`Finding` of ``rule_id``; ``numbers`` are its named numbers."""
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


def component_items(
    components: Sequence[tuple[str, Sequence[ComponentItem]]],
) -> dict[str, dict[str, tuple[int, int, ComponentItem]]]:
    """component name → item name → (component index, item index, item)."""
    out: dict[str, dict[str, tuple[int, int, ComponentItem]]] = {}
    for ci, (name, items) in enumerate(components):
        slot = out.setdefault(name.strip(), {})
        for ii, item in enumerate(items):
            slot.setdefault(item.item_name.strip(), (ci, ii, item))
    return out


def type_findings(
    rule_id: str,
    produced: str,
    consumed: str,
    paths: tuple[str, str],
    kinds: tuple[DescriptorKind, DescriptorKind],
    what: str,
    roles: Sequence[Role],
) -> list[Finding]:
    """A finding when ``produced`` values cannot feed a ``consumed`` consumer (error when
    incompatible, warning when lossy: :func:`~.names.type_compatibility`)."""
    verdict = type_compatibility(produced, consumed)
    if verdict in ("ok", "unknown"):
        return []
    severity: Severity = "error" if verdict == "incompatible" else "warning"
    return [
        finding(
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


def range_finding(
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
        finding(
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


def production_field_for(name: str, mapping: str) -> str:
    """The production field a training field maps to: ``mapping_production_data`` or its own
    name when the mapping is empty."""
    return mapping.strip() or name
