"""Training: the initial synthetic model, retraining from feedback and the activation gate."""

from __future__ import annotations

from matching.training.pipeline import (
    RetrainReport,
    TrainingPipeline,
    TrainingQualityError,
    TrainingReport,
    train_initial_model,
)

__all__ = [
    "RetrainReport",
    "TrainingPipeline",
    "TrainingQualityError",
    "TrainingReport",
    "train_initial_model",
]
