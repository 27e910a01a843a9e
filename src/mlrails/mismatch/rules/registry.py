"""The registry of cross-descriptor rules: :class:`Rule`, :data:`RULES` and the :func:`rule`
decorator every rule module registers with (the theme modules of this package,
:mod:`mlrails.mismatch.check` and :mod:`mlrails.mismatch.labels`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mlrails.descriptors.common import DescriptorKind
from mlrails.descriptors.descriptor_set import DescriptorSet
from mlrails.mismatch.findings import Finding
from mlrails.registry import Registry

RuleFn = Callable[[DescriptorSet], list[Finding]]


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


RULES: Registry[Rule] = Registry("rule")
"""Every rule, by id, in registration order."""


def rule(rule_id: str, title: str, *requires: DescriptorKind) -> Callable[[RuleFn], RuleFn]:
    """Register ``fn`` as rule ``rule_id`` needing the descriptors ``requires``; another
    function under a taken id is a ``ValueError``."""

    def register(fn: RuleFn) -> RuleFn:
        if rule_id not in RULES or RULES[rule_id].fn is not fn:
            RULES.add(rule_id, Rule(rule_id, title, tuple(requires), fn))
        return fn

    return register
