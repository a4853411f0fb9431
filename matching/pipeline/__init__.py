"""The rematch flow: load -> retrieve -> featurise -> score -> explain -> write."""

from __future__ import annotations

from matching.pipeline.loaders import BadEntityDataError, UnknownEntityError
from matching.pipeline.ranking import RankingPipeline, RematchResult
from matching.pipeline.reconcile import ReconcileReport, reconcile

__all__ = [
    "BadEntityDataError",
    "RankingPipeline",
    "ReconcileReport",
    "RematchResult",
    "UnknownEntityError",
    "reconcile",
]
