"""Robustness benchmarks: perturbations and attacks with severities, graded metrics."""

from mlrails.bench.perturbations import (
    SEVERITIES,
    Perturbation,
    PerturbationError,
    available,
    make,
    register,
)

__all__ = ["SEVERITIES", "Perturbation", "PerturbationError", "available", "make", "register"]

from mlrails.bench import image as _image  # noqa: F401
