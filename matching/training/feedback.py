"""Training data from user feedback: one graded label per (talent, job) pair.

Labels come from what users did (`FEEDBACK_LABELS`); features come from the
snapshot stored with the feedback, i.e. what the user saw, and are recomputed
only for rows without one. Rows are ordered by when their label was decided,
so `time_split` validates on the newest feedback, as deployment would meet it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from psycopg.rows import class_row

from matching.db import queries
from matching.features.extraction import N_FEATURES, extract_pair_features
from matching.pipeline.loaders import load_fx_rates, load_jobs, load_talents
from matching.retrieval import store as embedding_store
from matching.training.feedback_weights import feedback_weights

if TYPE_CHECKING:
    from matching.settings import Settings

__all__ = [
    "FEEDBACK_LABELS",
    "FeedbackData",
    "TimeSplit",
    "feedback_training_data",
    "time_split",
    "training_weights",
]

#: Graded labels on 0-100, by feedback type (what a user's action says about
#: the match). Positive: shortlisted > applied > contacted > interested;
#: negative: dismissed > rejected.
FEEDBACK_LABELS: dict[str, float] = {
    "shortlisted": 95.0,
    "applied": 90.0,
    "contacted": 85.0,
    "interested": 75.0,
    "dismissed": 10.0,
    "rejected": 5.0,
}


@dataclass
class FeedbackData:
    """One row per (talent, job) pair, ordered by when its label was decided.

    Each row keeps who decided its label (`accounts`, None when the writer had
    no account, e.g. the service role) and the rank at which that side was
    last shown the pair (`shown_rank`, None when unknown)."""

    x: NDArray[np.float32]
    y: NDArray[np.float64]
    talent_group: NDArray[np.int64]
    job_group: NDArray[np.int64]
    accounts: list[Any]
    shown_rank: list[int | None]
    decided_at: list[datetime]
    from_snapshot: int
    recomputed: int

    @property
    def distinct_accounts(self) -> int:
        return len({a for a in self.accounts if a is not None})


@dataclass(frozen=True)
class _FeedbackRow:
    """One pair's deciding feedback row (query `feedback_labels`)."""

    talent_id: Any
    job_id: Any
    feedback_type: str
    created_at: datetime
    features: list[float] | None
    actor_user_id: Any
    shown_rank: int | None


def feedback_training_data(conn: psycopg.Connection[Any]) -> FeedbackData:
    """Labels from feedback; features from the snapshot the user saw, recomputed
    only when a row has none (or one from an older feature list)."""
    with conn.cursor(row_factory=class_row(_FeedbackRow)) as cur:
        rows = cur.execute(queries.query("feedback_labels")).fetchall()
    rows.sort(key=lambda r: (r.created_at, str(r.talent_id), str(r.job_id)))
    n = len(rows)
    x = np.zeros((n, N_FEATURES), dtype=np.float32)
    missing: list[int] = []
    for k, row in enumerate(rows):
        snapshot = row.features
        if snapshot is not None and len(snapshot) == N_FEATURES:
            x[k] = np.asarray(snapshot, dtype=np.float32)
        else:
            missing.append(k)
    if missing:
        x[missing] = _recompute_features(
            conn, [(rows[k].talent_id, rows[k].job_id) for k in missing]
        )
    return FeedbackData(
        x=x,
        y=np.array([FEEDBACK_LABELS[r.feedback_type] for r in rows], dtype=np.float64),
        talent_group=_group_index([r.talent_id for r in rows]),
        job_group=_group_index([r.job_id for r in rows]),
        accounts=[r.actor_user_id for r in rows],
        shown_rank=[r.shown_rank for r in rows],
        decided_at=[r.created_at for r in rows],
        from_snapshot=n - len(missing),
        recomputed=len(missing),
    )


def _group_index(keys: list[Any]) -> NDArray[np.int64]:
    index: dict[Any, int] = {}
    return np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.int64)


def _recompute_features(
    conn: psycopg.Connection[Any], pairs: list[tuple[Any, Any]]
) -> NDArray[np.float32]:
    talent_ids = list(dict.fromkeys(p[0] for p in pairs))
    job_ids = list(dict.fromkeys(p[1] for p in pairs))
    fx = load_fx_rates(conn)
    talents = load_talents(conn, talent_ids, fx)
    jobs = load_jobs(conn, job_ids, fx)
    t_index = {t: i for i, t in enumerate(talent_ids)}
    j_index = {j: i for i, j in enumerate(job_ids)}
    tv = embedding_store.talent_vectors(conn, talent_ids)
    jv = embedding_store.job_vectors(conn, job_ids)
    semantic = np.array(
        [float(np.dot(tv[t], jv[j])) if t in tv and j in jv else np.nan for t, j in pairs]
    )
    return extract_pair_features(
        talents,
        jobs,
        np.array([t_index[t] for t, _ in pairs], dtype=np.int64),
        np.array([j_index[j] for _, j in pairs], dtype=np.int64),
        semantic,
    )


@dataclass
class TimeSplit:
    train: NDArray[np.int64]
    validation: NDArray[np.int64]


def time_split(data: FeedbackData, fraction: float = 0.2) -> TimeSplit:
    """Train on the older feedback, validate on the newest `fraction`."""
    n = len(data.y)
    cut = n - max(1, round(n * fraction))
    order = np.arange(n)  # rows are already ordered by decision time
    return TimeSplit(train=order[:cut], validation=order[cut:])


def training_weights(
    data: FeedbackData, rows: NDArray[np.int64], settings: Settings
) -> NDArray[np.float64]:
    """Per-row weights of `rows`: account share capped, position bias corrected."""
    return feedback_weights(
        [data.accounts[i] for i in rows],
        [data.shown_rank[i] for i in rows],
        max_share=settings.retrain_max_account_share,
        eta=settings.retrain_propensity_eta,
        max_weight=settings.retrain_max_propensity_weight,
    )
