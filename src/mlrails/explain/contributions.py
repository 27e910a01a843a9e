"""What an explanation holds: each feature's SHAP value, and the explained prediction.

:class:`Explanation` is what :meth:`Explainer.explain <mlrails.explain.Explainer.explain>`
returns per row and what verdicts serve (``to_dict``); :class:`FeatureContribution` is one
feature's share, also used by the OOD attributions of the guard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlrails.explain.plain import plain_value


@dataclass(frozen=True)
class FeatureContribution:
    """One feature's SHAP value for one row: its input ``value`` and ``contribution``."""

    feature: str
    value: Any
    contribution: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "value": plain_value(self.value),
            "contribution": float(self.contribution),
        }


@dataclass(frozen=True)
class Explanation:
    """SHAP explanation of one prediction.

    ``contributions`` holds the ``top_k`` features by ``|contribution|`` (descending);
    ``remainder`` is the summed contribution of the features left out, so that
    ``base_value + sum(c.contribution) + remainder == output``, the model output in
    ``output_space`` (``"probability"``, ``"margin"`` i.e. log-odds / logit, or ``"value"``
    for regression). ``explains`` says in words which output that is (e.g. ``"calibrated
    log-odds of class 'malignant'"``) and ``served`` whether it is (a link of) the
    probability or value the verdict serves. ``probability``: the probability of the explained class
    that ``output`` stands for (``sigmoid(output)`` for binary log-odds), None when ``output`` is
    not one the verdict serves. ``class_index`` / ``class_label``: the explained class.
    """

    method: str
    base_value: float
    contributions: list[FeatureContribution]
    output: float = float("nan")
    output_space: str = "value"
    class_index: int | None = None
    class_label: Any = None
    remainder: float = 0.0
    n_features: int = 0
    explains: str = ""
    served: bool = False
    probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "explains": self.explains,
            "served": self.served,
            "base_value": float(self.base_value),
            "output": float(self.output),
            "output_space": self.output_space,
            "probability": None if self.probability is None else float(self.probability),
            "class_index": self.class_index,
            "class_label": plain_value(self.class_label),
            "contributions": [c.to_dict() for c in self.contributions],
            "remainder": float(self.remainder),
            "n_features": self.n_features,
        }
