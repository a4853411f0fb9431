"""The LightGBM matching model: train, predict 0-100, serialise as text.

Models are stored in LightGBM's own text format plus JSON metadata, never
pickled: loading a model parses numbers and tree structure, it never runs
code. A model whose feature list differs from the registry's is refused, so
a stored model can never silently read the wrong columns.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray

from matching.features.extraction import FEATURE_NAMES, FEATURES, INTERACTION_GROUPS, N_FEATURES

#: Defaults sized for the explanation budget: TreeSHAP cost grows with
#: trees x leaves, and 200 candidates must be scored and 50 explained in
#: < 15 ms (benchmarks/model.py: 150 trees x 7 leaves takes ~10 ms with the
#: same validation RMSE as 15 or 31 leaves, which take 19 and 68 ms).
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "regression",
    "learning_rate": 0.1,
    "num_leaves": 7,
    "max_depth": 4,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.9,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_boost_round": 150,
}
EARLY_STOPPING_ROUNDS = 20


class ModelMismatchError(ValueError):
    """A stored model does not read the registry's features in the registry's order."""


@dataclass(frozen=True)
class ModelMetadata:
    version: str
    feature_names: tuple[str, ...]
    params: dict[str, Any]
    metrics: dict[str, Any] = field(default_factory=dict)
    training_samples: int = 0
    trained_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    library_versions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "feature_names": list(self.feature_names),
            "params": self.params,
            "metrics": self.metrics,
            "training_samples": self.training_samples,
            "trained_at": self.trained_at,
            "library_versions": self.library_versions,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelMetadata:
        return cls(
            version=str(data["version"]),
            feature_names=tuple(data["feature_names"]),
            params=dict(data.get("params", {})),
            metrics=dict(data.get("metrics", {})),
            training_samples=int(data.get("training_samples", 0)),
            trained_at=str(data.get("trained_at", "")),
            library_versions=dict(data.get("library_versions", {})),
        )


def library_versions() -> dict[str, str]:
    return {
        "lightgbm": lgb.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def _booster_params(params: dict[str, Any], seed: int) -> dict[str, Any]:
    out = {k: v for k, v in params.items() if k != "num_boost_round"}
    # The registry's monotone priors (more coverage, closer text never lower a
    # score): the model then orders ties of everything else by text similarity
    # exactly as cosine does, and feedback can't learn "worse skills win".
    out.setdefault("monotone_constraints", [f.monotone for f in FEATURES])
    out.setdefault("interaction_constraints", [list(g) for g in INTERACTION_GROUPS])
    # Same data, same seed, same result: fixed threads and deterministic mode.
    out.update(
        seed=seed,
        deterministic=True,
        force_row_wise=True,
        num_threads=1,
        verbosity=-1,
    )
    return out


class MatchingModel:
    """A trained booster plus the metadata that says what it reads."""

    def __init__(self, booster: lgb.Booster, metadata: ModelMetadata) -> None:
        names = tuple(booster.feature_name())
        if names != tuple(FEATURE_NAMES) or metadata.feature_names != tuple(FEATURE_NAMES):
            raise ModelMismatchError(
                "model features differ from the feature registry: "
                f"model has {len(names)} ({', '.join(names[:4])}...), registry has"
                f" {N_FEATURES}; retrain the model for this version of the code"
            )
        self.booster = booster
        self.metadata = metadata

    @property
    def version(self) -> str:
        return self.metadata.version

    # -- training ---------------------------------------------------------

    @classmethod
    def train(
        cls,
        x: NDArray[np.floating[Any]],
        y: NDArray[np.floating[Any]],
        *,
        version: str,
        params: dict[str, Any] | None = None,
        valid_fraction: float = 0.15,
        seed: int = 42,
        weight: NDArray[np.floating[Any]] | None = None,
    ) -> MatchingModel:
        """Fit on (x, y), holding `valid_fraction` out for early stopping.

        `weight` is a per-row weight (feedback is weighted per account and by
        its inverse examination propensity); it weighs the early-stopping
        rows too, so the stopping point follows the same objective."""
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != N_FEATURES:
            raise ValueError(f"x must be (n, {N_FEATURES}), got {x.shape}")
        if len(y) != len(x):
            raise ValueError(f"x has {len(x)} rows but y has {len(y)}")
        if len(x) < 20:
            raise ValueError(f"need at least 20 training rows, got {len(x)}")
        if not np.all(np.isfinite(y)):
            raise ValueError("labels must be finite")
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float64)
            if weight.shape != y.shape or not np.all(np.isfinite(weight)) or weight.min() < 0:
                raise ValueError("weight must be one finite, non-negative value per row")
        merged = {**DEFAULT_PARAMS, **(params or {})}
        rounds = int(merged.get("num_boost_round", 150))
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(x))
        n_valid = max(1, int(len(x) * valid_fraction))
        valid, fit = order[:n_valid], order[n_valid:]
        train_set = lgb.Dataset(
            x[fit],
            y[fit],
            weight=None if weight is None else weight[fit],
            feature_name=list(FEATURE_NAMES),
            free_raw_data=True,
        )
        valid_set = lgb.Dataset(
            x[valid],
            y[valid],
            weight=None if weight is None else weight[valid],
            reference=train_set,
        )
        booster = lgb.train(
            _booster_params(merged, seed),
            train_set,
            num_boost_round=rounds,
            valid_sets=[valid_set],
            callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
        )
        # Keep only the trees up to the best iteration: smaller model, cheaper SHAP.
        best = booster.best_iteration or booster.current_iteration()
        booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
        metadata = ModelMetadata(
            version=version,
            feature_names=tuple(FEATURE_NAMES),
            params={**merged, "num_boost_round": rounds, "best_iteration": best},
            training_samples=len(x),
            library_versions=library_versions(),
        )
        return cls(booster, metadata)

    def with_metrics(self, metrics: dict[str, Any]) -> MatchingModel:
        meta = self.metadata
        return MatchingModel(
            self.booster,
            ModelMetadata(
                version=meta.version,
                feature_names=meta.feature_names,
                params=meta.params,
                metrics={**meta.metrics, **metrics},
                training_samples=meta.training_samples,
                trained_at=meta.trained_at,
                library_versions=meta.library_versions,
            ),
        )

    # -- inference --------------------------------------------------------

    def predict_raw(self, x: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """The model output before clipping (what SHAP contributions add up to)."""
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != N_FEATURES:
            raise ValueError(f"x must be (n, {N_FEATURES}), got {x.shape}")
        if len(x) == 0:
            return np.zeros(0)
        return np.asarray(self.booster.predict(x, num_threads=1), dtype=np.float64)

    def predict(self, x: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Scores on 0-100."""
        return np.clip(self.predict_raw(x), 0.0, 100.0)

    def feature_importance(self) -> dict[str, dict[str, float]]:
        """Gain and split importance per feature, in registry order."""
        gain = self.booster.feature_importance(importance_type="gain")
        split = self.booster.feature_importance(importance_type="split")
        return {
            name: {"gain": float(g), "split": float(s)}
            for name, g, s in zip(FEATURE_NAMES, gain, split, strict=True)
        }

    @property
    def n_trees(self) -> int:
        return self.booster.num_trees()

    # -- serialisation ----------------------------------------------------

    def to_text(self) -> str:
        return self.booster.model_to_string()

    @classmethod
    def from_text(cls, text: str, metadata: dict[str, Any]) -> MatchingModel:
        """Parse a stored model (LightGBM text, no code execution)."""
        if not text.startswith("tree"):
            raise ModelMismatchError("not a LightGBM text model")
        return cls(lgb.Booster(model_str=text), ModelMetadata.from_json(metadata))
