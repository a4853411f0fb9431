"""Scoring a pair: LightGBM model, SHAP explanations, rules fallback, model registry."""

from __future__ import annotations

from matching.scoring.explain import MatchExplainer, build_explanation
from matching.scoring.fallback import FallbackMatcher, FallbackScores
from matching.scoring.model import MatchingModel, ModelMetadata, ModelMismatchError

__all__ = [
    "FallbackMatcher",
    "FallbackScores",
    "MatchExplainer",
    "MatchingModel",
    "ModelMetadata",
    "ModelMismatchError",
    "build_explanation",
]
