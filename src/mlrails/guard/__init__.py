"""The guard: fit rails around a model and answer every input with a verdict."""

from mlrails.guard.fitting import fit
from mlrails.guard.policy import POLICY_TEMPLATE, Policy, load_policy
from mlrails.guard.rails import FitSummary, Rails
from mlrails.guard.verdict import Confidence, SafeguardResult, Verdict

__all__ = [
    "POLICY_TEMPLATE",
    "Confidence",
    "FitSummary",
    "Policy",
    "Rails",
    "SafeguardResult",
    "Verdict",
    "fit",
    "load_policy",
]
