"""SHAP explanations of individual predictions (tree, linear or model-agnostic)."""

from mlrails.explain.shap_explainer import Explainer, Explanation, FeatureContribution

__all__ = ["Explainer", "Explanation", "FeatureContribution"]
