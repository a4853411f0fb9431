"""Training: the initial synthetic model, retraining from feedback and the activation gate.

One idea per module: `initial` (synthetic pairs, grouped CV, the first
model), `feedback` (labels and features from user feedback, the time split,
row weights), `evaluation` (error and NDCG on held-out lists), `retrain`
(the recorded, gated retraining run), `gate` and `feedback_weights` (the
statistics those rely on).
"""

from __future__ import annotations

from matching.training.initial import TrainingQualityError, TrainingReport, train_initial_model
from matching.training.retrain import RetrainReport, TrainingPipeline

__all__ = [
    "RetrainReport",
    "TrainingPipeline",
    "TrainingQualityError",
    "TrainingReport",
    "train_initial_model",
]
