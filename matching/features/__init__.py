"""Feature registry and vectorised extraction: the one list of model inputs."""

from __future__ import annotations

from matching.features.extraction import (
    FEATURES,
    Feature,
    JobFrame,
    SkillMatrix,
    TalentFrame,
    extract_features,
    extract_pair_features,
)

__all__ = [
    "FEATURES",
    "Feature",
    "JobFrame",
    "SkillMatrix",
    "TalentFrame",
    "extract_features",
    "extract_pair_features",
]
