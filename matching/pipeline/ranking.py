"""The ranking pipeline: one entity in, its match rows written.

For a talent (a job is symmetric):

    load -> embed (only if the text fingerprint changed) -> retrieve top-K open
    jobs by cosine from the HNSW index -> features for all candidates at once
    -> model scores -> SHAP explanations for the rows that will be stored ->
    write in one transaction

Lists are bounded: a pair is stored while it is in at least one side's best
`stored_matches`. A rematch stores the entity's best candidates and rescores
every pair already stored for it; of those, the ones now in neither side's
best list are deleted (the other side's list is read from what it has
stored). Pairs with a closed job or a talent who left the market are deleted
too. A pair has one row whichever side wrote it, and the same score from
either side (same features, same model).

Order, here and in every read: score (two decimals, as stored), then text
similarity, then a stable hash of the pair (`pair_tiebreak`), never an id.

Without an active model the scores come from the SQL fallback scorer, which
also writes the reasons, and the rows say source = 'fallback'.

Every rematch records, in the transaction that writes its rows, the data
version it read (a "rematch mark": the entity's updated_at; for a job the
later of its own and its company's). Reconciliation compares marks with the
current versions to find edits no rematch has seen. A counterpart whose
stored data cannot be featurised is left out of the rematch (logged and
counted); when the entity itself cannot be, the rematch fails and marks that
version 'failed', so it is reported once and not retried until the next edit.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import numpy as np
import psycopg
import structlog
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from matching.db.connection import is_transient
from matching.db.float4 import Float4Rows, register_float4_rows
from matching.db.queries import query
from matching.features.extraction import (
    JobFrame,
    TalentFrame,
    extract_pair_features,
)
from matching.models import MatchExplanation, ScoreCategory, TopFactor
from matching.observability import COUNTERPARTS_SKIPPED
from matching.pipeline.loaders import load_fx_rates
from matching.retrieval import store as embedding_store
from matching.retrieval.embedder import TextEmbedder
from matching.scoring.explain import MatchExplainer
from matching.scoring.registry import ActiveModel
from matching.settings import Settings, get_settings
from matching.side import JOB, TALENT, Kind, Side, side_of

if TYPE_CHECKING:
    from matching.pipeline.batch import BatchResult, Carry

log = structlog.get_logger(__name__)

STAGES = ("load", "embed", "retrieve", "featurise", "predict", "explain", "write")


@dataclass
class RematchResult:
    kind: Kind
    entity_id: UUID
    outcome: Literal["matched", "removed", "missing"]
    source: str | None = None
    model_version: str | None = None
    candidates: int = 0
    stored: int = 0
    deleted: int = 0
    #: counterparts left out because their stored data cannot be featurised
    skipped: dict[UUID, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


class Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - started


class RankingPipeline:
    """Rematches entities; one instance per worker process (thread-safe).

    The pool's connections are in autocommit mode: reads see the latest
    committed data, and every write is an explicit transaction.
    """

    def __init__(
        self,
        pool: ConnectionPool,
        embedder: TextEmbedder,
        active_model: ActiveModel,
        settings: Settings | None = None,
    ) -> None:
        self.pool = pool
        self.embedder = embedder
        self.active_model = active_model
        self.settings = settings or get_settings()

    # -- public entry points --------------------------------------------

    def rematch_talent(self, talent_id: UUID) -> RematchResult:
        return self.rematch(TALENT, talent_id)

    def rematch_job(self, job_id: UUID) -> RematchResult:
        return self.rematch(JOB, job_id)

    # -- the pipeline ------------------------------------------------------

    def rematch(self, side: Side | Kind, entity_id: UUID) -> RematchResult:
        """Rematch one entity of `side` (see the module docstring)."""
        with self.pool.connection() as conn:
            return self.rematch_on(conn, side, entity_id)

    def rematch_on(
        self, conn: psycopg.Connection, side: Side | Kind, entity_id: UUID
    ) -> RematchResult:
        """`rematch` on a connection the caller holds (autocommit, idle): a bulk
        batch hands it the entities it cannot handle itself without taking a
        second connection from the pool."""
        own = side_of(side)
        watch = Stopwatch()
        result = RematchResult(kind=own.kind, entity_id=entity_id, outcome="matched")
        with watch.stage("load"):
            state = _entity_state(conn, own, entity_id)
        if state is None:
            result.outcome = "missing"  # deleted since the job was queued
        elif not state.in_market:
            with watch.stage("write"):
                result.deleted = _remove_from_market(conn, own, entity_id, state.version)
            result.outcome = "removed"
        else:
            try:
                self._match(conn, own, entity_id, state.version, watch, result)
            except Exception as exc:
                if not is_transient(exc):
                    # poison: this version of the entity fails once, visibly
                    _mark_failed(conn, own, entity_id, state.version, exc)
                raise
        result.timings = watch.timings
        self._log(result)
        return result

    def rematch_batch(
        self,
        side: Side | Kind,
        ids: Sequence[UUID],
        yield_to: Callable[[psycopg.Connection], bool] | None = None,
        *,
        flushed_later: bool = False,
        resume: Carry | None = None,
    ) -> BatchResult:
        """Rematch many entities of `side`, as `rematch` would one after the
        other, with each read, model and SHAP call done once for the batch
        (the bulk re-rank after a model activation; see
        `matching.pipeline.batch`, also for `flushed_later` and `resume`)."""
        # imported here: the batch module builds on this one's helpers
        from matching.pipeline.batch import rematch_batch

        return rematch_batch(
            self, side, list(ids), yield_to, flushed_later=flushed_later, resume=resume
        )

    def _match(
        self,
        conn: psycopg.Connection,
        own: Side,
        entity_id: UUID,
        version: object,
        watch: Stopwatch,
        result: RematchResult,
    ) -> None:
        s = self.settings
        other = own.counterpart
        with watch.stage("embed"):
            # the vector just embedded (or the stored one) comes back: no read-back
            vector = embedding_store.ensure_vectors(conn, self.embedder, own, [entity_id])[
                entity_id
            ]
        with watch.stage("retrieve"):
            nearest = embedding_store.nearest(conn, other, vector, k=s.candidates_k, settings=s)
            existing = [
                r[0]
                for r in conn.execute(
                    query("stored_counterparts").format(**own.identifiers()), (entity_id,)
                )
            ]
        similarity = dict(nearest)
        candidates = [o for o, _ in nearest]
        others = list(dict.fromkeys(candidates + existing))
        result.candidates = len(candidates)

        with watch.stage("featurise"):
            fx = load_fx_rates(conn)
            open_others = _in_market(conn, other, others)
            # a stored counterpart outside the candidates: computed as retrieval
            # computes it (see `embedding_store.similarities`)
            missing_sim = [o for o in open_others if o not in similarity]
            found = embedding_store.similarities(
                conn, other, [vector], [(0, o) for o in missing_sim]
            )
            similarity.update(
                (o, value) for o, value in zip(missing_sim, found, strict=True) if value is not None
            )
            # the entity's own bad data raises; a bad counterpart is left out
            skipped: dict[UUID, str] = {}
            own_frame = own.load(conn, [entity_id], fx)
            other_frame = other.load(conn, open_others, fx, rejected=skipped)
            if skipped:
                self._skipped(own, entity_id, skipped)
                result.skipped = skipped
                open_others = [o for o in open_others if o not in skipped]
            talents, jobs = own.orient(own_frame, other_frame)
            assert isinstance(talents, TalentFrame) and isinstance(jobs, JobFrame)
            t_rows, j_rows = own.orient(
                np.zeros(len(open_others), dtype=np.int64),
                np.arange(len(open_others), dtype=np.int64),
            )
            semantic = np.array([similarity.get(o, np.nan) for o in open_others])
            x = extract_pair_features(talents, jobs, t_rows, j_rows, semantic)

        with watch.stage("predict"):
            model = self.active_model.get(conn)
            if model is not None:
                scores = model.predict(x)
            else:
                fallback = _fallback_scores(conn, own, entity_id, open_others)
                scores = np.array([float(fallback[o].score) for o in open_others])
            # stored (and served) with two decimals: rank what is stored
            scores = np.round(scores, 2)
        # the best candidates, plus every pair already stored for this entity
        candidate_set = set(candidates)
        existing_set = set(existing)
        pairs = [own.orient(entity_id, o) for o in open_others]
        order = rank_order(scores, semantic, pairs)
        best = [int(i) for i in order if open_others[i] in candidate_set][: s.stored_matches]
        keep = sorted(set(best) | {i for i, o in enumerate(open_others) if o in existing_set})

        with watch.stage("explain"):
            contributions: np.ndarray | None = None
            if model is not None:
                explanations, contributions = MatchExplainer(model).explain_for_storage(x[keep])
            else:
                explanations = [fallback[open_others[i]].explanation() for i in keep]

        with watch.stage("write"):
            rows = [
                match_row(
                    pairs[i],
                    float(scores[i]),
                    model.version if model is not None else None,
                    explanations[pos],
                    x[i],
                    float(semantic[i]),
                    None if contributions is None else contributions[pos],
                )
                for pos, i in enumerate(keep)
            ]
            written = [open_others[i] for i in keep]
            result.deleted = _write_matches(
                conn, own, entity_id, rows, written, s.stored_matches, version
            )
        result.stored = len(rows)
        result.source = "ml" if model is not None else "fallback"
        result.model_version = model.version if model is not None else None

    def _skipped(self, own: Side, entity_id: UUID, skipped: dict[UUID, str]) -> None:
        other = own.counterpart_kind
        COUNTERPARTS_SKIPPED.labels(other).inc(len(skipped))
        for other_id, reason in list(skipped.items())[:20]:
            log.warning(
                "counterpart_skipped",
                kind=own.kind,
                entity_id=str(entity_id),
                counterpart_kind=other,
                counterpart_id=str(other_id),
                reason=reason,
            )

    def _log(self, result: RematchResult) -> None:
        fields = {
            "kind": result.kind,
            "entity_id": str(result.entity_id),
            "outcome": result.outcome,
            "source": result.source,
            "model_version": result.model_version,
            "candidates": result.candidates,
            "stored": result.stored,
            "deleted": result.deleted,
            "skipped": len(result.skipped),
            "seconds": round(result.seconds, 4),
            **{f"{k}_ms": round(v * 1000, 2) for k, v in result.timings.items()},
        }
        if result.seconds > self.settings.slow_rematch_seconds:
            log.warning("rematch_slow", **fields)
        else:
            log.info("rematch", **fields)


# -- SQL helpers -----------------------------------------------------------


@dataclass(frozen=True)
class EntityState:
    """Whether the entity is in the market, and the data version a rematch reads.

    The version is what reconciliation compares (see the module docstring):
    the talent's updated_at, or the later of the job's and its company's.
    """

    in_market: bool
    version: Any


def _entity_state(conn: psycopg.Connection, own: Side, entity_id: UUID) -> EntityState | None:
    """None: gone."""
    with conn.cursor(row_factory=class_row(EntityState)) as cur:
        cur.execute(query(own.state_query), (entity_id,))
        return cur.fetchone()


def _mark(
    conn: psycopg.Connection,
    own: Side,
    entity_id: UUID,
    version: object,
    outcome: str,
    error: str | None = None,
) -> None:
    """Record the data version a rematch read (call inside its write transaction)."""
    conn.execute(
        query("rematch_mark").format(**own.identifiers()), (entity_id, version, outcome, error)
    )


def _mark_failed(
    conn: psycopg.Connection, own: Side, entity_id: UUID, version: object, exc: BaseException
) -> None:
    """Mark a poison version failed; never let the bookkeeping hide the real error."""
    try:
        _mark(conn, own, entity_id, version, "failed", f"{type(exc).__name__}: {exc}"[:2000])
    except Exception as mark_exc:
        log.warning(
            "rematch_mark_failed", kind=own.kind, entity_id=str(entity_id), error=str(mark_exc)
        )


def _in_market(conn: psycopg.Connection, side: Side, ids: list[UUID]) -> list[UUID]:
    """The ids (order kept) whose entity is still in the market."""
    if not ids:
        return []
    alive = {r[0] for r in conn.execute(query("in_market_of").format(**side.identifiers()), (ids,))}
    return [i for i in ids if i in alive]


def _remove_from_market(
    conn: psycopg.Connection, own: Side, entity_id: UUID, version: object
) -> int:
    """A closed job or a talent who left: out of the ANN index and every list."""
    with conn.transaction():
        _mark(conn, own, entity_id, version, "removed")
        deleted = conn.execute(
            query("delete_entity_matches").format(**own.identifiers()), (entity_id,)
        ).rowcount
        embedding_store.set_matchable(conn, own, [entity_id], False)
    return deleted


def pair_tiebreak(talent_id: UUID, job_id: UUID) -> int:
    """The stable hash that orders pairs tied on score and similarity: the first
    64 bits of md5(talent_id || job_id), signed, as `matching.pair_tiebreak`."""
    digest = hashlib.md5(f"{talent_id}{job_id}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _same(sorted_keys: np.ndarray) -> np.ndarray:
    """Whether each key equals the one before it (NaN equal to NaN, as a
    sort puts them together)."""
    a, b = sorted_keys[1:], sorted_keys[:-1]
    same: np.ndarray = (a == b) | (np.isnan(a) & np.isnan(b))
    return same


def rank_order(
    scores: np.ndarray, similarity: np.ndarray, pairs: Sequence[tuple[UUID, UUID]]
) -> np.ndarray:
    """Row indices best first: score, then text similarity (unknown last), then
    the pair's hash, the order the read functions serve."""
    sim = np.where(np.isnan(similarity), -np.inf, similarity)
    # float32 like the stored columns (real), so the order here is the order served
    by_score, by_sim = -scores.astype(np.float32), -sim.astype(np.float32)
    order = np.lexsort((by_sim, by_score))
    # the pair's hash (an md5 each) only where it decides something: for the
    # pairs tied with a neighbour on score and similarity
    tied = _same(by_score[order]) & _same(by_sim[order])
    if not tied.any():
        return order
    ties = np.zeros(len(pairs), dtype=np.int64)
    for k in np.union1d(order[1:][tied], order[:-1][tied]).tolist():
        ties[k] = pair_tiebreak(*pairs[k])
    return np.lexsort((ties, by_sim, by_score))


# Bounded lists. A pair may stay while it ranks in the top n of its talent's
# stored list or of its job's (score, similarity, hash: the order the reads
# serve). A write can break that only for the entity's own rows and, in each
# counterpart's list, for the row it pushed from rank n to n + 1; both are
# checked (queries prune_own and prune_pushed), so after every rematch every
# stored pair is in one side's best.


def _write_matches(
    conn: psycopg.Connection,
    own: Side,
    entity_id: UUID,
    rows: list[tuple[Any, ...]],
    others: list[UUID],
    stored_matches: int,
    version: object,
) -> int:
    """Upsert the entity's rows (`others`: their counterparts, in order), drop
    the pairs that are in neither side's best list and those with a
    counterpart that left, in one transaction (a crash leaves the previous
    set intact)."""
    ids = own.identifiers()
    with conn.transaction():
        _mark(conn, own, entity_id, version, "matched")
        upsert_matches(conn, rows)
        bounds = {"entity": entity_id, "others": others, "n": stored_matches}
        pruned = conn.execute(query("prune_own").format(**ids), bounds).rowcount
        pruned += conn.execute(query("prune_pushed").format(**ids), bounds).rowcount
        deleted = conn.execute(query("delete_left_market").format(**ids), (entity_id,)).rowcount
    return deleted + pruned


def match_row(
    pair: tuple[UUID, UUID],
    score: float,
    model_version: str | None,
    explanation: MatchExplanation,
    features: np.ndarray,
    similarity: float,
    contributions: np.ndarray | None,
) -> tuple[Any, ...]:
    """One stored pair as `upsert_matches` takes it: (talent, job, score,
    source, model version, explanation as JSON text, features, contributions
    or None, similarity or None when unknown).

    The JSON is text, because adapting a nested dict parameter by parameter
    cost more than the statement: pydantic writes it (the values `model_dump`
    gives). Features and `contributions` (the model's SHAP values, registry
    order, as `MatchExplainer.explain_for_storage` gives them) are sent as
    float32 (`matching.db.float4`), the precision of the `real[]` columns.
    Contributions go to their own column, not into the explanation's JSON
    (see the migration match_contributions_column); fallback scores have none.
    """
    return (
        pair[0],
        pair[1],
        score,
        "ml" if model_version is not None else "fallback",
        model_version,
        explanation.model_dump_json(exclude_defaults=True, exclude=_NOT_IN_JSON),
        features,
        contributions,
        None if math.isnan(similarity) else similarity,
    )


#: explanation fields stored in columns of their own
_NOT_IN_JSON = {"contributions"}


def upsert_matches(conn: psycopg.Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Upsert `match_row` rows in one statement (query `upsert_matches`)."""
    if not rows:
        return
    t, j, scores, sources, versions, explanations, features, contributions, similarity = zip(
        *rows, strict=True
    )
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"features must be (n, width), got {x.shape}")
    has = [c is not None for c in contributions]
    if any(has):
        # a placeholder row where there are none (the query stores null there)
        placeholder = np.zeros(x.shape[1], dtype=np.float32)
        c = np.asarray([placeholder if c is None else c for c in contributions], np.float32)
    else:
        c = np.zeros((0, x.shape[1]), dtype=np.float32)  # never read
    if any(has) and c.shape != x.shape:
        # the query slices both arrays by one width
        raise ValueError(f"features {x.shape} and contributions {c.shape} differ in shape")
    register_float4_rows(conn)
    conn.execute(
        query("upsert_matches"),
        {
            "talent_ids": list(t),
            "job_ids": list(j),
            "scores": list(scores),
            "sources": list(sources),
            "versions": list(versions),
            # bytes: sent in binary (see the query)
            "explanations": [e.encode() for e in explanations],
            "features": Float4Rows(x),
            "contributions": Float4Rows(c),
            "width": x.shape[1],
            "has_contributions": has,
            "similarities": list(similarity),
        },
    )


@dataclass(frozen=True)
class FallbackScore:
    """One row of the `fallback_scores` query: the rule-based score of a pair."""

    talent_id: UUID
    job_id: UUID
    score: float
    skills_score: float
    experience_score: float
    location_score: float
    salary_score: float
    culture_score: float
    semantic_score: float
    failed_constraints: list[str]
    top_reasons: list[dict[str, Any]]

    def explanation(self) -> MatchExplanation:
        """The stored explanation: sub-scores, failed constraints, reasons."""
        return MatchExplanation(
            sub_scores={
                ScoreCategory.SKILLS: self.skills_score,
                ScoreCategory.EXPERIENCE: self.experience_score,
                ScoreCategory.LOCATION: self.location_score,
                ScoreCategory.SALARY: self.salary_score,
                ScoreCategory.CULTURE: self.culture_score,
                ScoreCategory.SEMANTIC: self.semantic_score,
            },
            failed_constraints=list(self.failed_constraints),
            top_factors=[
                TopFactor(
                    feature=r["feature"],
                    contribution=float(r["contribution"]),
                    sentence=r["sentence"],
                )
                for r in self.top_reasons
            ],
        )


def _fallback_scores(
    conn: psycopg.Connection, own: Side, entity_id: UUID, others: list[UUID]
) -> dict[UUID, FallbackScore]:
    """Rule-based scores from SQL (no model active), by counterpart: score,
    sub-scores, failed constraints and the reasons `matching.fallback_explanation`
    gives (the same the read functions serve on the fly)."""
    if not others:
        return {}
    talents, jobs = own.orient([entity_id] * len(others), others)
    with conn.cursor(row_factory=class_row(FallbackScore)) as cur:
        cur.execute(query("fallback_scores"), (talents, jobs))
        return {getattr(r, own.counterpart.id_column): r for r in cur}
