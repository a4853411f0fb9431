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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal
from uuid import UUID

import numpy as np
import psycopg
import structlog
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from matching.db.connection import is_transient
from matching.features.extraction import extract_pair_features
from matching.models import MatchExplanation, TopFactor
from matching.observability import COUNTERPARTS_SKIPPED
from matching.pipeline.loaders import load_fx_rates, load_jobs, load_talents
from matching.retrieval import store as embedding_store
from matching.retrieval.embedder import TextEmbedder
from matching.scoring.explain import MatchExplainer
from matching.scoring.registry import ActiveModel
from matching.settings import Settings, get_settings

log = structlog.get_logger(__name__)

Kind = Literal["talent", "job"]
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
        return self._rematch("talent", talent_id)

    def rematch_job(self, job_id: UUID) -> RematchResult:
        return self._rematch("job", job_id)

    # -- the pipeline ------------------------------------------------------

    def _rematch(self, kind: Kind, entity_id: UUID) -> RematchResult:
        watch = Stopwatch()
        result = RematchResult(kind=kind, entity_id=entity_id, outcome="matched")
        with self.pool.connection() as conn:
            with watch.stage("load"):
                state = _entity_state(conn, kind, entity_id)
            if state is None:
                result.outcome = "missing"  # deleted since the job was queued
            elif not state[0]:
                with watch.stage("write"):
                    result.deleted = _remove_from_market(conn, kind, entity_id, state[1])
                result.outcome = "removed"
            else:
                try:
                    self._match(conn, kind, entity_id, state[1], watch, result)
                except Exception as exc:
                    if not is_transient(exc):
                        # poison: this version of the entity fails once, visibly
                        _mark_failed(conn, kind, entity_id, state[1], exc)
                    raise
        result.timings = watch.timings
        self._log(result)
        return result

    def _match(
        self,
        conn: psycopg.Connection,
        kind: Kind,
        entity_id: UUID,
        version: object,
        watch: Stopwatch,
        result: RematchResult,
    ) -> None:
        s = self.settings
        with watch.stage("embed"):
            embedding_store.ensure_embeddings(conn, self.embedder, kind, [entity_id])
            vectors = (
                embedding_store.talent_vectors(conn, [entity_id])
                if kind == "talent"
                else embedding_store.job_vectors(conn, [entity_id])
            )
            vector = vectors[entity_id]
        with watch.stage("retrieve"):
            if kind == "talent":
                nearest = embedding_store.nearest_jobs(conn, vector, k=s.candidates_k)
            else:
                nearest = embedding_store.nearest_talents(conn, vector, k=s.candidates_k)
            other_col = "job_id" if kind == "talent" else "talent_id"
            own_col = "talent_id" if kind == "talent" else "job_id"
            existing = [
                r[0]
                for r in conn.execute(
                    f"select {other_col} from public.matches where {own_col} = %s",
                    (entity_id,),
                )
            ]
        similarity = dict(nearest)
        candidates = [other for other, _ in nearest]
        others = list(dict.fromkeys(candidates + existing))
        result.candidates = len(candidates)

        with watch.stage("featurise"):
            fx = load_fx_rates(conn)
            open_others = _open_counterparts(conn, kind, others)
            missing_sim = [o for o in open_others if o not in similarity]
            if missing_sim:
                other_vectors = (
                    embedding_store.job_vectors(conn, missing_sim)
                    if kind == "talent"
                    else embedding_store.talent_vectors(conn, missing_sim)
                )
                for other, vec in other_vectors.items():
                    similarity[other] = float(np.dot(vec, vector))
            # the entity's own bad data raises; a bad counterpart is left out
            skipped: dict[UUID, str] = {}
            if kind == "talent":
                talents = load_talents(conn, [entity_id], fx)
                jobs = load_jobs(conn, open_others, fx, rejected=skipped)
            else:
                talents = load_talents(conn, open_others, fx, rejected=skipped)
                jobs = load_jobs(conn, [entity_id], fx)
            if skipped:
                self._skipped(kind, entity_id, skipped)
                result.skipped = skipped
                open_others = [o for o in open_others if o not in skipped]
            if kind == "talent":
                t_rows = np.zeros(len(open_others), dtype=np.int64)
                j_rows = np.arange(len(open_others), dtype=np.int64)
            else:
                t_rows = np.arange(len(open_others), dtype=np.int64)
                j_rows = np.zeros(len(open_others), dtype=np.int64)
            semantic = np.array([similarity.get(o, np.nan) for o in open_others])
            x = extract_pair_features(talents, jobs, t_rows, j_rows, semantic)

        with watch.stage("predict"):
            model = self.active_model.get(conn)
            if model is not None:
                scores = model.predict(x)
            else:
                fallback = _fallback_scores(conn, kind, entity_id, open_others)
                scores = np.array([fallback[o][0] for o in open_others])
            # stored (and served) with two decimals: rank what is stored
            scores = np.round(scores, 2)
        # the best candidates, plus every pair already stored for this entity
        candidate_set = set(candidates)
        existing_set = set(existing)
        pairs = [(entity_id, o) if kind == "talent" else (o, entity_id) for o in open_others]
        order = rank_order(scores, semantic, pairs)
        best = [int(i) for i in order if open_others[i] in candidate_set][: s.stored_matches]
        keep = sorted(set(best) | {i for i, o in enumerate(open_others) if o in existing_set})

        with watch.stage("explain"):
            if model is not None:
                explanations = MatchExplainer(model).explain(x[keep])
            else:
                explanations = [
                    MatchExplanation(
                        sub_scores=fallback[open_others[i]][1],
                        failed_constraints=fallback[open_others[i]][2],
                        top_factors=fallback[open_others[i]][3],
                    )
                    for i in keep
                ]

        with watch.stage("write"):
            rows = []
            for pos, i in enumerate(keep):
                other = open_others[i]
                talent_id, job_id = (entity_id, other) if kind == "talent" else (other, entity_id)
                rows.append(
                    (
                        talent_id,
                        job_id,
                        float(scores[i]),
                        "ml" if model is not None else "fallback",
                        model.version if model is not None else None,
                        Jsonb(explanations[pos].model_dump(mode="json", exclude_defaults=True)),
                        [float(v) for v in x[i]],
                        None if math.isnan(semantic[i]) else float(semantic[i]),
                    )
                )
            result.deleted = _write_matches(conn, kind, entity_id, rows, s.stored_matches, version)
        result.stored = len(rows)
        result.source = "ml" if model is not None else "fallback"
        result.model_version = model.version if model is not None else None

    def _skipped(self, kind: Kind, entity_id: UUID, skipped: dict[UUID, str]) -> None:
        other: Kind = "job" if kind == "talent" else "talent"
        COUNTERPARTS_SKIPPED.labels(other).inc(len(skipped))
        for other_id, reason in list(skipped.items())[:20]:
            log.warning(
                "counterpart_skipped",
                kind=kind,
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


def _entity_state(
    conn: psycopg.Connection, kind: Kind, entity_id: UUID
) -> tuple[bool, object] | None:
    """None: gone; else (in the market, data version read).

    The version is what reconciliation compares (see the module docstring):
    the talent's updated_at, or the later of the job's and its company's.
    """
    query = (
        "select open_to_work, updated_at from public.talents where id = %s"
        if kind == "talent"
        else "select j.status = 'open', greatest(j.updated_at, c.updated_at)"
        " from public.jobs j join public.companies c on c.id = j.company_id where j.id = %s"
    )
    row = conn.execute(query, (entity_id,)).fetchone()
    return None if row is None else (bool(row[0]), row[1])


_MARK_SQL = """
    insert into matching.{kind}_rematch_marks
      ({kind}_id, source_updated_at, outcome, error, marked_at)
    values (%s, %s, %s, %s, now())
    on conflict ({kind}_id) do update set
      source_updated_at = excluded.source_updated_at, outcome = excluded.outcome,
      error = excluded.error, marked_at = excluded.marked_at
"""


def _mark(
    conn: psycopg.Connection,
    kind: Kind,
    entity_id: UUID,
    version: object,
    outcome: str,
    error: str | None = None,
) -> None:
    """Record the data version a rematch read (call inside its write transaction)."""
    conn.execute(_MARK_SQL.format(kind=kind), (entity_id, version, outcome, error))


def _mark_failed(
    conn: psycopg.Connection, kind: Kind, entity_id: UUID, version: object, exc: BaseException
) -> None:
    """Mark a poison version failed; never let the bookkeeping hide the real error."""
    try:
        _mark(conn, kind, entity_id, version, "failed", f"{type(exc).__name__}: {exc}"[:2000])
    except Exception as mark_exc:
        log.warning("rematch_mark_failed", kind=kind, entity_id=str(entity_id), error=str(mark_exc))


def _open_counterparts(conn: psycopg.Connection, kind: Kind, ids: list[UUID]) -> list[UUID]:
    """The ids (order kept) whose entity is still in the market."""
    if not ids:
        return []
    query = (
        "select id from public.jobs where id = any(%s) and status = 'open'"
        if kind == "talent"
        else "select id from public.talents where id = any(%s) and open_to_work"
    )
    alive = {r[0] for r in conn.execute(query, (ids,))}
    return [i for i in ids if i in alive]


def _remove_from_market(
    conn: psycopg.Connection, kind: Kind, entity_id: UUID, version: object
) -> int:
    """A closed job or a talent who left: out of the ANN index and every list."""
    col = "talent_id" if kind == "talent" else "job_id"
    with conn.transaction():
        _mark(conn, kind, entity_id, version, "removed")
        deleted = conn.execute(
            f"delete from public.matches where {col} = %s",
            (entity_id,),
        ).rowcount
        if kind == "talent":
            embedding_store.set_talent_matchable(conn, [entity_id], False)
        else:
            embedding_store.set_job_matchable(conn, [entity_id], False)
    return deleted


def pair_tiebreak(talent_id: UUID, job_id: UUID) -> int:
    """The stable hash that orders pairs tied on score and similarity: the first
    64 bits of md5(talent_id || job_id), signed, as `matching.pair_tiebreak`."""
    digest = hashlib.md5(f"{talent_id}{job_id}".encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def rank_order(
    scores: np.ndarray, similarity: np.ndarray, pairs: Sequence[tuple[UUID, UUID]]
) -> np.ndarray:
    """Row indices best first: score, then text similarity (unknown last), then
    the pair's hash, the order the read functions serve."""
    sim = np.where(np.isnan(similarity), -np.inf, similarity)
    ties = np.array([pair_tiebreak(t, j) for t, j in pairs], dtype=np.int64)
    # float32 like the stored columns (real), so the order here is the order served
    return np.lexsort((ties, -sim.astype(np.float32), -scores.astype(np.float32)))


# Bounded lists. A pair may stay while it ranks in the top %(n)s of its
# talent's stored list or of its job's (score, similarity, hash: the order the
# reads serve). A write can break that only for the entity's own rows and, in
# each counterpart's list, for the row it pushed from rank n to n + 1; both
# are checked, so after every rematch every stored pair is in one side's best.
_BETTER = (
    "(o.score, coalesce(o.similarity, -2), -o.tiebreak)"
    " > (m.score, coalesce(m.similarity, -2), -m.tiebreak)"
)
_PRUNE_OWN_SQL = f"""
    delete from public.matches m
    using (
      -- the entity's rows below its own top n, ranked in one index scan
      select l.talent_id, l.job_id
      from public.matches l
      where l.{{own}} = %(entity)s
      order by l.score desc, l.similarity desc nulls last, l.tiebreak
      offset %(n)s
    ) low
    where m.talent_id = low.talent_id and m.job_id = low.job_id
      and (select count(*) from public.matches o
           where o.{{other}} = m.{{other}} and {_BETTER}) >= %(n)s
"""
_PRUNE_PUSHED_SQL = f"""
    delete from public.matches m
    using (
      select x.talent_id, x.job_id
      from unnest(%(others)s::uuid[]) c (id)
      cross join lateral (
        select l.talent_id, l.job_id from public.matches l
        where l.{{other}} = c.id
        order by l.score desc, l.similarity desc nulls last, l.tiebreak
        offset %(n)s limit 1
      ) x
    ) pushed
    where m.talent_id = pushed.talent_id and m.job_id = pushed.job_id
      and (select count(*) from public.matches o
           where o.{{own}} = m.{{own}} and {_BETTER}) >= %(n)s
"""


def _write_matches(
    conn: psycopg.Connection,
    kind: Kind,
    entity_id: UUID,
    rows: list[tuple],
    stored_matches: int,
    version: object,
) -> int:
    """Upsert the entity's rows, drop the pairs that are in neither side's best
    list and those with a counterpart that left, in one transaction (a crash
    leaves the previous set intact)."""
    own, other = ("talent_id", "job_id") if kind == "talent" else ("job_id", "talent_id")
    with conn.transaction():
        _mark(conn, kind, entity_id, version, "matched")
        with conn.cursor() as cur:
            cur.executemany(
                "insert into public.matches (talent_id, job_id, score, source, model_version,"
                " explanation, features, similarity, computed_at)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, now())"
                " on conflict (talent_id, job_id) do update set"
                " score = excluded.score, source = excluded.source,"
                " model_version = excluded.model_version, explanation = excluded.explanation,"
                " features = excluded.features, similarity = excluded.similarity,"
                " computed_at = excluded.computed_at",
                rows,
            )
        others = [r[1] if kind == "talent" else r[0] for r in rows]
        bounds = {"entity": entity_id, "others": others, "n": stored_matches}
        pruned = conn.execute(_PRUNE_OWN_SQL.format(own=own, other=other), bounds).rowcount
        pruned += conn.execute(_PRUNE_PUSHED_SQL.format(own=own, other=other), bounds).rowcount
        if kind == "talent":
            deleted = conn.execute(
                "delete from public.matches m using public.jobs j"
                " where m.talent_id = %s and j.id = m.job_id and j.status <> 'open'",
                (entity_id,),
            ).rowcount
        else:
            deleted = conn.execute(
                "delete from public.matches m using public.talents t"
                " where m.job_id = %s and t.id = m.talent_id and not t.open_to_work",
                (entity_id,),
            ).rowcount
    return deleted + pruned


FallbackRow = tuple[float, dict[str, float], list[str], list[TopFactor]]


def _fallback_scores(
    conn: psycopg.Connection, kind: Kind, entity_id: UUID, others: list[UUID]
) -> dict[UUID, FallbackRow]:
    """Rule-based scores from SQL (no model active): score, sub-scores, failed
    constraints and the reasons `matching.fallback_explanation` gives (the
    same the read functions serve on the fly)."""
    if not others:
        return {}
    talents = [entity_id] * len(others) if kind == "talent" else others
    jobs = others if kind == "talent" else [entity_id] * len(others)
    rows = conn.execute(
        "select f.talent_id, f.job_id, f.score, f.skills_score, f.experience_score,"
        " f.location_score, f.salary_score, f.culture_score, f.semantic_score,"
        " f.failed_constraints, e.top_reasons"
        " from matching.fallback_score_pairs(%s::uuid[], %s::uuid[]) f"
        " cross join lateral matching.fallback_explanation(f.score, f.skills_score,"
        " f.experience_score, f.location_score, f.salary_score, f.culture_score,"
        " f.semantic_score, f.failed_constraints, f.unscored) e",
        (talents, jobs),
    ).fetchall()
    out = {}
    for t, j, score, sk, ex, lo, sa, cu, se, failed, reasons in rows:
        other = j if kind == "talent" else t
        out[other] = (
            float(score),
            {
                "skills": sk,
                "experience": ex,
                "location": lo,
                "salary": sa,
                "culture": cu,
                "semantic": se,
            },
            list(failed),
            [
                TopFactor(
                    feature=r["feature"],
                    contribution=float(r["contribution"]),
                    sentence=r["sentence"],
                )
                for r in reasons
            ],
        )
    return out
