"""How well a model ranks held-out feedback: the numbers the gate decides on.

Regression error (`rmse`, `mae`) judges the initial model against its noisy
synthetic labels; ranking quality (NDCG@10 per held-out list, from both
sides) judges a retrained candidate against the active model, because users
see ranked lists, not scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from matching.scoring.model import MatchingModel
from matching.training import gate
from matching.training.feedback_weights import account_caps, examination_weights

if TYPE_CHECKING:
    from matching.settings import Settings
    from matching.training.feedback import FeedbackData

__all__ = ["NDCG_K", "Evaluation", "evaluate_lists", "mae", "ndcg_at_k", "rmse"]

NDCG_K = gate.NDCG_K


def rmse(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def mae(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    return float(np.mean(np.abs(a - b)))


def ndcg_at_k(
    groups: NDArray[np.int64],
    y_true: NDArray[np.float64],
    y_score: NDArray[np.float64],
    k: int = NDCG_K,
) -> float:
    """Mean NDCG@k over the lists of `groups` that have at least two items and
    some relevance (unweighted; the gate itself uses `matching.gate`)."""
    scores = []
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        if len(idx) >= 2 and y_true[idx].max() > 0:
            scores.append(gate.list_ndcg(y_true[idx], y_score[idx], k=k))
    return float(np.mean(scores)) if scores else 0.0


@dataclass
class Evaluation:
    """Both models on the same held-out lists, from both sides."""

    lists: gate.RankingLists
    list_weights: NDArray[np.float64]
    candidate: NDArray[np.float64]  # NDCG@10 per list
    active: NDArray[np.float64]
    chance: NDArray[np.float64]  # expected NDCG@10 of a random order

    def summary(self, scores: NDArray[np.float64]) -> dict[str, float | None]:
        w = self.list_weights
        out: dict[str, float | None] = {"ndcg_at_10": _wmean(scores, w)}
        for side in ("talent", "job"):
            mask = self.lists.side == side
            out[f"ndcg_at_10_{side}_lists"] = _wmean(scores[mask], w[mask]) if mask.any() else None
        return out


def _wmean(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    return float((values * weights).sum() / weights.sum()) if weights.sum() > 0 else 0.0


def evaluate_lists(
    candidate: MatchingModel,
    active: MatchingModel | None,
    data: FeedbackData,
    rows: NDArray[np.int64],
    settings: Settings,
) -> Evaluation:
    """NDCG@10 of each usable held-out list (>= 2 rows, >= 2 distinct labels;
    talent lists and job lists), gains weighted by inverse examination
    propensity; each list weighs the account-capped sum of its rows, so one
    account's lists can't carry the verdict."""
    lists = gate.usable_lists(data.talent_group, data.job_group, data.y, rows)
    ips = np.ones(len(data.y))
    ips[rows] = examination_weights(
        [data.shown_rank[i] for i in rows],
        settings.retrain_propensity_eta,
        settings.retrain_max_propensity_weight,
    )
    caps = np.ones(len(data.y))
    caps[rows] = account_caps(
        [data.accounts[i] for i in rows], np.ones(len(rows)), settings.retrain_max_account_share
    )
    list_weights = np.array([caps[lists.members(i)].sum() for i in range(len(lists))])
    cand_scores = np.zeros(len(data.y))
    cand_scores[rows] = candidate.predict(data.x[rows])
    act_scores = np.zeros(len(data.y))
    if active is not None:
        act_scores[rows] = active.predict(data.x[rows])
    return Evaluation(
        lists=lists,
        list_weights=list_weights,
        candidate=gate.per_list_ndcg(lists, data.y, cand_scores, ips),
        active=gate.per_list_ndcg(lists, data.y, act_scores, ips),
        chance=gate.per_list_chance(lists, data.y, ips),
    )
