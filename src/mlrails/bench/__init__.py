"""Robustness benchmarks: perturbations and attacks with severities, graded metrics,
provenance records, reports and a CI gate (``mlrails bench``)."""

from mlrails.bench.attacks import (
    Attack,
    AttackError,
    available_attacks,
    make_attack,
    register_attack,
)
from mlrails.bench.perturbations import (
    SEVERITIES,
    Perturbation,
    PerturbationError,
    available,
    make,
    register,
)

__all__ = [
    "SEVERITIES",
    "Attack",
    "AttackError",
    "Perturbation",
    "PerturbationError",
    "available",
    "available_attacks",
    "make",
    "make_attack",
    "register",
    "register_attack",
]

from mlrails.bench import image as _image  # noqa: F401
