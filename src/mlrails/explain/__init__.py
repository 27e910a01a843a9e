"""SHAP explanations of individual predictions (tree, linear or model-agnostic).

:class:`Explainer` (:mod:`~mlrails.explain.shap_explainer`) picks the algorithm by model
family (:mod:`~mlrails.explain.families`, :mod:`~mlrails.explain.pipelines`), works on a
background sample (:mod:`~mlrails.explain.background`, :mod:`~mlrails.explain.codec`), reads
SHAP's output (:mod:`~mlrails.explain.outputs`) and returns :class:`Explanation` objects
(:mod:`~mlrails.explain.contributions`, JSON values by :mod:`~mlrails.explain.plain`).
"""

from mlrails.explain.contributions import Explanation, FeatureContribution
from mlrails.explain.shap_explainer import Explainer

__all__ = ["Explainer", "Explanation", "FeatureContribution"]
