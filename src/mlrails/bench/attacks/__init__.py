"""Adversarial attacks for the robustness benchmark: the budget ε is the severity.

:mod:`~mlrails.bench.attacks.base`: the :class:`Attack` base class (budgets in feature
standard deviations, validation) and the registry (:func:`register_attack`,
:func:`make_attack`, :func:`available_attacks`);
:mod:`~mlrails.bench.attacks.gradient`: the white-box ``fgsm`` and ``pgd`` (PyTorch);
:mod:`~mlrails.bench.attacks.art`: the black-box ``hopskipjump``, ``boundary`` and ``zoo``
(the Adversarial Robustness Toolbox, optional: imported only when one runs).
"""

from mlrails.bench.attacks import art as art
from mlrails.bench.attacks import gradient as gradient
from mlrails.bench.attacks.base import (
    ATTACKS,
    Access,
    Attack,
    AttackError,
    available_attacks,
    make_attack,
    register_attack,
)

__all__ = [
    "ATTACKS",
    "Access",
    "Attack",
    "AttackError",
    "available_attacks",
    "make_attack",
    "register_attack",
]
