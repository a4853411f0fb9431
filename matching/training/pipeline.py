"""Training pipelines. Today: the initial model, learned from synthetic pairs.

The initial model imitates the rule-based scorer, text term included, so a
fresh installation ranks sensibly before any feedback exists. Pairs are drawn
from the seeded marketplace: half at random (mostly poor matches, as in real
traffic) and half from each sampled talent's best jobs by the rules (the
matches users would actually see), so the labels span the whole 0-100 range.
Every pair carries its real text similarity: the entities' texts are embedded
with the production model and stored like the worker stores them (a stored
embedding with the same text fingerprint is reused, and the worker later
reuses these), so the model learns what text is worth. Labels are the
`FallbackMatcher` score plus Gaussian noise.

Validation is honest: pairs are split 80/20 by talent, so no talent of the
holdout is seen in training; hyper-parameters are chosen by k-fold
cross-validation (also grouped by talent) inside the 80 %; the holdout is
touched once, to report RMSE/MAE and the baselines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg
from numpy.typing import NDArray
from psycopg.types.json import Jsonb

from matching.features.extraction import N_FEATURES, extract_pair_features
from matching.pipeline.loaders import load_fx_rates, load_jobs, load_talents
from matching.retrieval import store as embedding_store
from matching.retrieval.embedder import DIMENSIONS, TextEmbedder
from matching.scoring import registry
from matching.scoring.fallback import FallbackMatcher
from matching.scoring.model import MatchingModel
from matching.training import gate
from matching.training.feedback_weights import account_caps, examination_weights, feedback_weights

Progress = Callable[[str], None]

#: Small grid; every entry keeps trees x leaves near 1,000, which the
#: explanation budget allows (see benchmarks/model.py).
PARAM_GRID: tuple[dict[str, Any], ...] = (
    {"num_leaves": 7, "max_depth": 4, "learning_rate": 0.1, "num_boost_round": 150},
    {"num_leaves": 5, "max_depth": 3, "learning_rate": 0.1, "num_boost_round": 200},
    {"num_leaves": 15, "max_depth": 5, "learning_rate": 0.15, "num_boost_round": 70},
)
#: Jobs scored per near talent when looking for its best matches.
NEAR_POOL = 2000
#: Entities whose texts are embedded for the synthetic pairs. Embedding runs at
#: ~40 texts/s on two cores, so the sample is bounded; the worker reuses them.
MAX_TEXT_TALENTS = 600
MAX_TEXT_JOBS = 400
#: Share of synthetic pairs whose cosine is drawn uniformly from [0, 1].
WIDENED_SHARE = 0.25
#: The model must beat a random baseline by more than this share of its RMSE...
RANDOM_MARGIN = 0.30
#: ...and the constant-mean baseline by at least this share.
MEAN_MARGIN = 0.20


class TrainingQualityError(RuntimeError):
    """The trained model is not clearly better than the baselines; nothing was activated."""


@dataclass
class SyntheticPairs:
    x: NDArray[np.float32]
    y: NDArray[np.float64]
    talent_group: NDArray[np.int64]  # talent row of each pair, for grouped splits


@dataclass
class TrainingReport:
    version: str
    metrics: dict[str, Any]
    params: dict[str, Any]
    activated: bool
    seconds: float
    cv: list[dict[str, Any]] = field(default_factory=list)


def rmse(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def mae(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    return float(np.mean(np.abs(a - b)))


def synthetic_pairs(
    conn: psycopg.Connection,
    *,
    n_pairs: int = 6000,
    noise: float = 4.0,
    seed: int = 42,
    near_per_talent: int = 5,
    embedder: TextEmbedder | None = None,
    max_talents: int = MAX_TEXT_TALENTS,
    max_jobs: int = MAX_TEXT_JOBS,
    progress: Progress | None = None,
) -> SyntheticPairs:
    """Near and far (talent, job) pairs from the database, labelled by the rules,
    each with the cosine similarity of the two stored embeddings."""
    if n_pairs < 100:
        raise ValueError(f"need at least 100 pairs, got {n_pairs}")
    say = progress or (lambda _msg: None)
    rng = np.random.default_rng(seed)
    talent_ids = [r[0] for r in conn.execute("select id from public.talents order by id")]
    job_ids = [r[0] for r in conn.execute("select id from public.jobs order by id")]
    if len(talent_ids) < 20 or len(job_ids) < 20:
        raise ValueError(
            f"need at least 20 talents and 20 jobs to train, found {len(talent_ids)}"
            f" and {len(job_ids)}; run `matching seed` first"
        )
    talent_ids = _sample(rng, talent_ids, max_talents)
    job_ids = _sample(rng, job_ids, max_jobs)
    say(
        f"embedding the texts of {len(talent_ids):,} talents and {len(job_ids):,} jobs"
        " (stored: the worker reuses them)"
    )
    embedder = embedder or TextEmbedder()
    embedded = embedding_store.ensure_embeddings(conn, embedder, "job", job_ids)
    embedded += embedding_store.ensure_embeddings(conn, embedder, "talent", talent_ids)
    say(f"  {embedded:,} texts embedded, the rest reused")
    tvec = _matrix(embedding_store.talent_vectors(conn, talent_ids), talent_ids)
    jvec = _matrix(embedding_store.job_vectors(conn, job_ids), job_ids)
    fx = load_fx_rates(conn)
    talents = load_talents(conn, talent_ids, fx)
    jobs = load_jobs(conn, job_ids, fx)
    matcher = FallbackMatcher()

    n_near_talents = min(len(talent_ids), max(1, n_pairs // 2 // near_per_talent))
    near_talents = rng.choice(len(talent_ids), n_near_talents, replace=False)
    near_t: list[int] = []
    near_j: list[int] = []
    for t in near_talents:
        # a talent's best jobs among a random pool (bounded, so large
        # marketplaces stay fast); the pool is large enough to hold good ones
        pool = rng.choice(len(job_ids), min(len(job_ids), NEAR_POOL), replace=False)
        scores = matcher.score_pairs(
            talents,
            jobs,
            np.full(len(pool), t, dtype=np.int64),
            pool,
            semantic=jvec[pool] @ tvec[t],
            reasons=False,
        ).score
        best = pool[np.argsort(-scores, kind="stable")[:near_per_talent]]
        near_t += [int(t)] * len(best)
        near_j += best.tolist()
    n_far = n_pairs - len(near_t)
    ti = np.concatenate([near_t, rng.integers(0, len(talent_ids), n_far)]).astype(np.int64)
    ji = np.concatenate([near_j, rng.integers(0, len(job_ids), n_far)]).astype(np.int64)

    semantic = np.einsum("ij,ij->i", tvec[ti], jvec[ji])
    # Synthetic texts reach cosines up to ~0.7; real profiles written for one
    # job reach 0.9. Trees are flat beyond their last split, so a share of the
    # pairs gets a cosine drawn over the whole range the rules score (their
    # label follows): the model then knows the text curve everywhere.
    widened = rng.random(len(semantic)) < WIDENED_SHARE
    semantic[widened] = rng.uniform(0.0, 1.0, int(widened.sum()))
    x = extract_pair_features(talents, jobs, ti, ji, semantic)
    clean = matcher.score_pairs(talents, jobs, ti, ji, semantic=semantic, reasons=False).score
    y = np.clip(clean + rng.normal(0.0, noise, len(clean)), 0.0, 100.0)
    return SyntheticPairs(x=x, y=y, talent_group=ti)


def _sample(rng: np.random.Generator, ids: list[Any], limit: int) -> list[Any]:
    """At most `limit` of the ids, drawn at random, in their original order."""
    if len(ids) <= limit:
        return ids
    return [ids[i] for i in np.sort(rng.choice(len(ids), limit, replace=False))]


def _matrix(vectors: dict[Any, NDArray[np.float32]], ids: list[Any]) -> NDArray[np.float64]:
    """Stored vectors as rows in `ids` order (NaN for a missing one: its pairs
    then read as "no similarity", the neutral value)."""
    out = np.full((len(ids), DIMENSIONS), np.nan)
    for k, i in enumerate(ids):
        if i in vectors:
            out[k] = vectors[i]
    return out


def grouped_split(
    groups: NDArray[np.int64], fraction: float, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Row indices (rest, held_out) with whole groups on one side only."""
    unique = np.unique(groups)
    held = rng.choice(unique, max(1, round(len(unique) * fraction)), replace=False)
    mask = np.isin(groups, held)
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def cross_validate(
    pairs: SyntheticPairs,
    rows: NDArray[np.int64],
    params: dict[str, Any],
    *,
    folds: int,
    seed: int,
) -> tuple[float, float]:
    """Mean and std of RMSE over `folds` talent-grouped folds of `rows`."""
    groups = pairs.talent_group[rows]
    unique = np.unique(groups)
    rng = np.random.default_rng(seed)
    fold_of_group = dict(zip(rng.permutation(unique), np.arange(len(unique)) % folds, strict=True))
    fold = np.array([fold_of_group[g] for g in groups])
    scores = []
    for k in range(folds):
        fit, val = rows[fold != k], rows[fold == k]
        model = MatchingModel.train(
            pairs.x[fit], pairs.y[fit], version="cv", params=params, seed=seed
        )
        scores.append(rmse(model.predict(pairs.x[val]), pairs.y[val]))
    return float(np.mean(scores)), float(np.std(scores))


def new_version(prefix: str) -> str:
    return f"{prefix}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"[:64]


def train_initial_model(
    url: str,
    *,
    n_pairs: int = 6000,
    folds: int = 5,
    seed: int = 42,
    activate: bool = True,
    progress: Progress | None = None,
) -> TrainingReport:
    """Train on synthetic pairs, check against baselines, register and activate."""
    say = progress or (lambda _msg: None)
    started = time.perf_counter()
    run_started = datetime.now(UTC)
    rng = np.random.default_rng(seed)
    with psycopg.connect(url) as conn:
        say(f"sampling {n_pairs:,} synthetic pairs (near and far)")
        pairs = synthetic_pairs(conn, n_pairs=n_pairs, seed=seed, progress=say)
    assert pairs.x.shape[1] == N_FEATURES
    train_rows, holdout = grouped_split(pairs.talent_group, 0.2, rng)
    say(
        f"labels: mean {pairs.y.mean():.1f}, std {pairs.y.std():.1f},"
        f" {np.mean(pairs.y >= 50):.0%} at 50 or above;"
        f" {len(train_rows):,} train / {len(holdout):,} holdout pairs (split by talent)"
    )

    cv: list[dict[str, Any]] = []
    for params in PARAM_GRID:
        mean, std = cross_validate(pairs, train_rows, params, folds=folds, seed=seed)
        cv.append({"params": params, "cv_rmse": mean, "cv_rmse_std": std})
        say(f"  {folds}-fold CV {params}: RMSE {mean:.2f} ± {std:.2f}")
    best = min(cv, key=lambda c: c["cv_rmse"])

    version = new_version("synthetic")
    model = MatchingModel.train(
        pairs.x[train_rows],
        pairs.y[train_rows],
        version=version,
        params=best["params"],
        seed=seed,
    )
    y_true = pairs.y[holdout]
    predicted = model.predict(pairs.x[holdout])
    mean_pred = np.full(len(holdout), pairs.y[train_rows].mean())
    random_pred = rng.permutation(pairs.y[train_rows])[: len(holdout)]
    metrics: dict[str, Any] = {
        "holdout_rmse": rmse(predicted, y_true),
        "holdout_mae": mae(predicted, y_true),
        "cv_rmse": best["cv_rmse"],
        "cv_rmse_std": best["cv_rmse_std"],
        "baseline_mean_rmse": rmse(mean_pred, y_true),
        "baseline_random_rmse": rmse(random_pred, y_true),
        "n_pairs": len(pairs.y),
        "n_train": len(train_rows),
        "n_holdout": len(holdout),
        "label_mean": float(pairs.y.mean()),
        "label_std": float(pairs.y.std()),
        "n_trees": model.n_trees,
        "source": "synthetic",
    }
    model = model.with_metrics(metrics)
    say(
        f"holdout: RMSE {metrics['holdout_rmse']:.2f}, MAE {metrics['holdout_mae']:.2f};"
        f" baselines: mean RMSE {metrics['baseline_mean_rmse']:.2f},"
        f" random RMSE {metrics['baseline_random_rmse']:.2f}; {model.n_trees} trees"
    )
    good = (
        metrics["holdout_rmse"] < (1 - RANDOM_MARGIN) * metrics["baseline_random_rmse"]
        and metrics["holdout_rmse"] < (1 - MEAN_MARGIN) * metrics["baseline_mean_rmse"]
    )
    with psycopg.connect(url) as conn, conn.transaction():
        registry.register(conn, model)
        status = "rejected"
        reason = "model is not clearly better than the baselines"
        if good and activate:
            registry.activate(conn, version, reason="training")
            status, reason = "activated", "initial synthetic model"
        elif good:
            status, reason = "rejected", "activation not requested"
        conn.execute(
            "insert into matching.training_runs (trigger, status, reason, sample_count,"
            " candidate_version, details, started_at, finished_at)"
            " values ('synthetic', %s, %s, %s, %s, %s, %s, now())",
            (
                status,
                reason,
                len(pairs.y),
                version,
                Jsonb({"metrics": metrics, "cv": cv, "params": best["params"]}),
                run_started,
            ),
        )
    if not good:
        raise TrainingQualityError(
            f"holdout RMSE {metrics['holdout_rmse']:.2f} vs random"
            f" {metrics['baseline_random_rmse']:.2f} and mean {metrics['baseline_mean_rmse']:.2f}:"
            " not clearly better; registered but not activated"
        )
    return TrainingReport(
        version=version,
        metrics=metrics,
        params=best["params"],
        activated=status == "activated",
        seconds=time.perf_counter() - started,
        cv=cv,
    )


# ---------------------------------------------------------------------------
# Retraining from feedback.
# ---------------------------------------------------------------------------

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
NDCG_K = gate.NDCG_K


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


# One pair, one label. Conflicts resolve by a fixed rule: a company signal
# outranks a talent signal (it is the later, stronger step of the funnel), and
# within the same side the latest feedback wins.
_FEEDBACK_SQL = """
    select distinct on (f.talent_id, f.job_id)
        f.talent_id, f.job_id, f.feedback_type::text, f.created_at, f.features,
        f.actor_user_id, f.shown_rank
    from public.match_feedback f
    order by f.talent_id, f.job_id, (f.actor = 'company') desc, f.created_at desc, f.id desc
"""


def feedback_training_data(conn: psycopg.Connection) -> FeedbackData:
    """Labels from feedback; features from the snapshot the user saw, recomputed
    only when a row has none (or one from an older feature list)."""
    rows = conn.execute(_FEEDBACK_SQL).fetchall()
    rows.sort(key=lambda r: (r[3], str(r[0]), str(r[1])))
    n = len(rows)
    x = np.zeros((n, N_FEATURES), dtype=np.float32)
    missing: list[int] = []
    for k, row in enumerate(rows):
        snapshot = row[4]
        if snapshot is not None and len(snapshot) == N_FEATURES:
            x[k] = np.asarray(snapshot, dtype=np.float32)
        else:
            missing.append(k)
    if missing:
        x[missing] = _recompute_features(conn, [(rows[k][0], rows[k][1]) for k in missing])
    return FeedbackData(
        x=x,
        y=np.array([FEEDBACK_LABELS[r[2]] for r in rows], dtype=np.float64),
        talent_group=_group_index([r[0] for r in rows]),
        job_group=_group_index([r[1] for r in rows]),
        accounts=[r[5] for r in rows],
        shown_rank=[r[6] for r in rows],
        decided_at=[r[3] for r in rows],
        from_snapshot=n - len(missing),
        recomputed=len(missing),
    )


def _group_index(keys: list[Any]) -> NDArray[np.int64]:
    index: dict[Any, int] = {}
    return np.array([index.setdefault(k, len(index)) for k in keys], dtype=np.int64)


def _recompute_features(
    conn: psycopg.Connection, pairs: list[tuple[Any, Any]]
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
class RetrainReport:
    run_id: int
    status: str
    reason: str
    candidate_version: str | None = None
    previous_version: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


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
    data: FeedbackData, rows: NDArray[np.int64], settings: Any
) -> NDArray[np.float64]:
    """Per-row weights of `rows`: account share capped, position bias corrected."""
    return feedback_weights(
        [data.accounts[i] for i in rows],
        [data.shown_rank[i] for i in rows],
        max_share=settings.retrain_max_account_share,
        eta=settings.retrain_propensity_eta,
        max_weight=settings.retrain_max_propensity_weight,
    )


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
    settings: Any,
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


class TrainingPipeline:
    """Retrain from feedback, behind an evaluation gate; every run is recorded."""

    def __init__(self, url: str, settings: Any | None = None) -> None:
        from matching.settings import get_settings

        self.url = url
        self.settings = settings or get_settings()

    def run_training(
        self, force: bool = False, trigger: str = "cli", progress: Progress | None = None
    ) -> RetrainReport:
        say = progress or (lambda _msg: None)
        started = time.perf_counter()
        with psycopg.connect(self.url, autocommit=True) as conn:
            run_id = conn.execute(
                "insert into matching.training_runs (trigger) values (%s) returning id", (trigger,)
            ).fetchone()[0]
            try:
                report = self._run(conn, run_id, force, say)
            except Exception as exc:
                self._finish(conn, run_id, "failed", f"{type(exc).__name__}: {exc}"[:2000], {})
                raise
        report.seconds = time.perf_counter() - started
        return report

    def _run(
        self, conn: psycopg.Connection, run_id: int, force: bool, say: Progress
    ) -> RetrainReport:
        s = self.settings
        if not force:
            last = conn.execute(
                "select max(finished_at) from matching.training_runs"
                " where status in ('activated', 'rejected') and trigger <> 'synthetic'"
            ).fetchone()[0]
            if last is not None and (datetime.now(UTC) - last).days < s.retrain_interval_days:
                reason = (
                    f"not due: last training {last:%Y-%m-%d %H:%M} UTC, schedule is every"
                    f" {s.retrain_interval_days} days (force to train now)"
                )
                return self._finish(conn, run_id, "skipped", reason, {})
        data = feedback_training_data(conn)
        n = len(data.y)
        say(
            f"{n:,} feedback pairs ({data.from_snapshot:,} from snapshots,"
            f" {data.recomputed:,} recomputed) from {data.distinct_accounts:,} accounts"
        )
        if n < s.retrain_min_samples:
            reason = f"too few feedback samples: {n} pairs, need at least {s.retrain_min_samples}"
            return self._finish(conn, run_id, "skipped", reason, {"sample_count": n})
        if data.distinct_accounts < s.retrain_min_accounts:
            reason = (
                f"too few distinct accounts: {data.distinct_accounts} gave feedback, need at"
                f" least {s.retrain_min_accounts} (one account's feedback can't decide a model)"
            )
            return self._finish(
                conn,
                run_id,
                "skipped",
                reason,
                {"sample_count": n, "accounts": data.distinct_accounts},
            )

        split = time_split(data)
        skipped = self._too_little_evidence(data, split)
        if skipped is not None:
            return self._finish(conn, run_id, "skipped", skipped, {"sample_count": n})
        active = registry.load_active(conn)
        version = new_version("feedback")
        params = dict(active.metadata.params) if active is not None else {}
        params = {k: v for k, v in params.items() if k != "best_iteration"}
        candidate = MatchingModel.train(
            data.x[split.train],
            data.y[split.train],
            version=version,
            params=params,
            weight=training_weights(data, split.train, s),
        )
        return self.evaluate_and_decide(conn, run_id, candidate, data, split, say)

    def _too_little_evidence(self, data: FeedbackData, split: TimeSplit) -> str | None:
        """Why the held-out feedback can't judge a candidate, or None."""
        s = self.settings
        lists = gate.usable_lists(data.talent_group, data.job_group, data.y, split.validation)
        if len(lists) < s.retrain_min_lists:
            return (
                f"too few usable held-out lists: {len(lists)} (talent or job lists with >= 2"
                f" rows and >= 2 distinct labels among the newest {len(split.validation)}"
                f" pairs), need at least {s.retrain_min_lists}"
            )
        accounts = {data.accounts[i] for i in split.validation} - {None}
        if len(accounts) < min(s.retrain_min_accounts, 2):
            return f"held-out feedback comes from {len(accounts)} account(s): not evidence"
        return None

    def _reference_pairs(self, conn: psycopg.Connection, data: FeedbackData) -> NDArray[np.float32]:
        """Feature rows of a fixed sample of current pairs (stored matches in
        `tiebreak` order, a pseudo-random but stable order); the held-out
        feedback stands in on a database with no stored features yet."""
        rows = conn.execute(
            "select m.features from public.matches m"
            " where m.features is not null and pg_catalog.cardinality(m.features) = %s"
            " order by m.tiebreak limit %s",
            (N_FEATURES, self.settings.retrain_reference_pairs),
        ).fetchall()
        if len(rows) >= 10:
            return np.asarray([r[0] for r in rows], dtype=np.float32)
        return data.x

    def evaluate_and_decide(
        self,
        conn: psycopg.Connection,
        run_id: int,
        candidate: MatchingModel,
        data: FeedbackData,
        split: TimeSplit,
        say: Progress | None = None,
    ) -> RetrainReport:
        """The gate. On the same held-out lists from both sides, the lower
        one-sided confidence bound of the candidate's NDCG@10 gain (paired
        bootstrap over lists) must be strictly above the margin, raised when
        the candidate drifts far from the active model's scores."""
        say = say or (lambda _msg: None)
        s = self.settings
        skipped = self._too_little_evidence(data, split)
        if skipped is not None:
            return self._finish(conn, run_id, "skipped", skipped, {"sample_count": len(data.y)})
        active = registry.load_active(conn)
        ev = evaluate_lists(candidate, active, data, split.validation, s)
        val = split.validation
        cand_metrics: dict[str, Any] = {
            **ev.summary(ev.candidate),
            "rmse": rmse(candidate.predict(data.x[val]), data.y[val]),
        }
        metrics: dict[str, Any] = {
            "candidate": cand_metrics,
            "active": None,
            "n_train": len(split.train),
            "n_validation": len(val),
            "validation_from": data.decided_at[int(val[0])].isoformat(),
            "lists": {
                "talent": int((ev.lists.side == "talent").sum()),
                "job": int((ev.lists.side == "job").sum()),
            },
            "accounts": data.distinct_accounts,
            "from_snapshot": data.from_snapshot,
            "recomputed": data.recomputed,
            "labels": FEEDBACK_LABELS,
            "margin": s.retrain_margin,
            "confidence": s.retrain_confidence,
            "max_account_share": s.retrain_max_account_share,
            "propensity_eta": s.retrain_propensity_eta,
        }
        # the candidate must beat chance with evidence, whatever the active model
        over_chance, chance_lower = gate.paired_bootstrap_lower(
            ev.candidate - ev.chance,
            ev.list_weights,
            confidence=s.retrain_confidence,
            samples=s.retrain_bootstrap_samples,
            seed=run_id + 1,
        )
        metrics.update(
            chance_ndcg_at_10=ev.summary(ev.chance)["ndcg_at_10"],
            gain_over_chance=round(over_chance, 5),
            gain_over_chance_lower_bound=round(chance_lower, 5),
        )
        if active is None:
            required = s.retrain_margin
            activate = chance_lower > required
            reason = (
                f"no active model; NDCG@10 {over_chance:+.4f} over chance on {len(ev.lists)}"
                f" held-out lists, {s.retrain_confidence:.0%} lower bound {chance_lower:+.4f}"
                f" {'>' if activate else '<='} required {required:.4f}"
            )
        else:
            metrics["active"] = {
                **ev.summary(ev.active),
                "rmse": rmse(active.predict(data.x[val]), data.y[val]),
            }
            gain, lower = gate.paired_bootstrap_lower(
                ev.candidate - ev.active,
                ev.list_weights,
                confidence=s.retrain_confidence,
                samples=s.retrain_bootstrap_samples,
                seed=run_id,
            )
            reference = self._reference_pairs(conn, data)
            shift = gate.drift(
                candidate.predict(reference),
                active.predict(reference),
                min_rank_correlation=s.retrain_drift_min_rank_correlation,
                max_mean_shift=s.retrain_drift_max_mean_shift,
            )
            required = s.retrain_margin + (s.retrain_drift_extra_margin if shift.exceeded else 0.0)
            metrics.update(
                gain=round(gain, 5),
                gain_lower_bound=round(lower, 5),
                required_gain=required,
                drift=shift.as_dict(),
            )
            activate = lower > required and chance_lower > required
            evidence = (
                f"NDCG@10 gain {gain:+.4f} over {len(ev.lists)} held-out lists"
                f" ({metrics['lists']['talent']} talent, {metrics['lists']['job']} job),"
                f" {s.retrain_confidence:.0%} lower bound {lower:+.4f}"
                f" {'>' if lower > required else '<='} required {required:.4f};"
                f" over chance {over_chance:+.4f}, lower bound {chance_lower:+.4f}"
                f" {'>' if chance_lower > required else '<='} required"
            )
            if shift.exceeded:
                evidence += (
                    f" (drift: rank correlation {shift.rank_correlation:.2f}, mean shift"
                    f" {shift.mean_shift:+.1f} points, so +{s.retrain_drift_extra_margin} required)"
                )
            reason = evidence if activate else f"{evidence}: kept the active model"
        say(reason)
        candidate = candidate.with_metrics(
            {
                "source": "feedback",
                **{f"validation_{k}": v for k, v in cand_metrics.items() if v is not None},
            }
        )
        with conn.transaction():
            registry.register(conn, candidate)
            if activate:
                # activation queues the re-rank of every stored match (rematch_all)
                registry.activate(conn, candidate.version, reason="training")
        return self._finish(
            conn,
            run_id,
            "activated" if activate else "rejected",
            reason,
            {"sample_count": len(data.y), "metrics": metrics},
            candidate=candidate.version,
            previous=active.version if active is not None else None,
        )

    @staticmethod
    def _finish(
        conn: psycopg.Connection,
        run_id: int,
        status: str,
        reason: str,
        details: dict[str, Any],
        candidate: str | None = None,
        previous: str | None = None,
    ) -> RetrainReport:
        conn.execute(
            "update matching.training_runs set status = %s, reason = %s, sample_count = %s,"
            " candidate_version = %s, previous_version = %s, details = %s,"
            " finished_at = clock_timestamp() where id = %s",
            (
                status,
                reason,
                details.get("sample_count"),
                candidate,
                previous,
                Jsonb(details),
                run_id,
            ),
        )
        return RetrainReport(
            run_id=run_id,
            status=status,
            reason=reason,
            candidate_version=candidate,
            previous_version=previous,
            metrics=details.get("metrics", {}),
        )
