"""Bulk re-ranking: a batch of entities of one side per call, equal to rematching
them one by one.

After a model activation every stored score is rescored (`rematch_all`).
Rematching entity by entity costs ~25 round trips and a model and SHAP call
per entity, most of it the same work repeated. A batch does each read once
for all its entities (states, vectors, one LATERAL ANN statement, stored
pairs, fx rates, the counterparts' frames for the union), featurises every
pair in one call and scores them with one `predict`; then, entity by entity
in order, it explains the rows to write (one SHAP call) and writes them with
the per-entity write steps of `matching.pipeline.ranking` (the named
queries upsert_matches, prune_own, prune_pushed, delete_left_market,
rematch_mark), pipelined: two round trips per entity.

Pairs that would be stored unchanged are left alone: a stored pair scored by
the active model from the very features computed now gets the same score
and explanation, so it is neither explained nor rewritten (its computed_at
keeps the time of that earlier write). After an activation the talents are
re-ranked first and rescore every pair they store, so the jobs' batches,
whose lists hold hundreds of pairs, mostly find theirs done.

Equivalence with the per-entity path (tests/db/test_batch_rematch.py). Lists
are bounded, so an earlier entity's write can prune a pair of a later entity
of the same batch (prune_pushed). A write only ever inserts pairs of its own
entity, so a batch entity's stored set at its write is a subset of what it
had when the batch read it: scores and explanations are computed for its
candidates and every pair stored at the start, and the write uses the best
candidates plus the pairs still stored then (read in the write's
transaction), exactly what `rematch` would have read at that moment.
Candidates, features and scores do not depend on the stored pairs.

Races with edits. The batch read each entity's data version when it
started; its write transaction reads the version again with the row
share-locked (queries <kind>_state_locked). If an edit has moved it, the
write is skipped: the edit enqueued its own rematch job, which has run or
will run with the new data (a batch must not overwrite fresher rows with
stale ones). An edit committing while the write runs waits for it, and its
job runs afterwards. Stored pairs the batch did not see (a counterpart's
rematch added one since) and anything the batch cannot handle itself (the
entity's own data cannot be featurised, its vector is missing, no active
model, an unexpected error while computing the batch) go to the per-entity
`rematch` at the entity's turn, so they behave exactly as there: poison
marks that version 'failed' (reported in the result, the batch goes on).

Yields. A batch asked to yield hands back its remaining entities and what
it computed for them (`Carry`); the worker that runs the rest passes it
back, and the rest runs on it when the counterparts it read have not moved,
as if the batch had not stopped (see `Carry`, `_carry_holds`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import numpy as np
import psycopg
import structlog
from psycopg.rows import class_row

from matching.db.connection import is_transient
from matching.db.queries import query
from matching.features.extraction import JobFrame, TalentFrame, extract_pair_features
from matching.pipeline.loaders import load_fx_rates
from matching.pipeline.ranking import (
    EntityState,
    RankingPipeline,
    RematchResult,
    Stopwatch,
    _in_market,
    _mark,
    _remove_from_market,
    match_row,
    rank_order,
    upsert_matches,
)
from matching.retrieval import store as embedding_store
from matching.scoring.explain import MatchExplainer
from matching.scoring.model import MatchingModel
from matching.side import Kind, Side, side_of

log = structlog.get_logger(__name__)


@dataclass
class BatchResult:
    """What a batch did, entity by entity (in the order given)."""

    kind: Kind
    #: one per entity handled (matched, removed or missing), in order
    results: list[RematchResult] = field(default_factory=list)
    #: poison: entity -> error; that data version is marked 'failed'
    failed: dict[UUID, str] = field(default_factory=dict)
    #: edited since the batch read them: left to the edit's own rematch job
    superseded: list[UUID] = field(default_factory=list)
    #: entities handed to the per-entity path (see the module docstring)
    single: int = 0
    #: not written: the batch yielded to a waiting edit before their turn
    deferred: list[UUID] = field(default_factory=list)
    #: stored pairs left as they were (same model, same features)
    unchanged: int = 0
    #: what the batch computed for `deferred`, for the call that runs them
    #: (`rematch_batch(..., resume=carry)`); None when it did not yield
    carry: Carry | None = None
    #: whether this batch ran on a carried plan instead of computing its own
    resumed: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())

    @property
    def entities(self) -> int:
        return len(self.results) + len(self.failed) + len(self.superseded)


@dataclass(frozen=True)
class _StateRow:
    """One row of the `<kind>_states` query."""

    id: UUID
    in_market: bool
    version: Any


@dataclass
class _Planned:
    """One in-market entity's write, computed before any write of the batch
    but for the explanations, which are built at its turn (a batch that
    yields to an edit has not spent them on entities it hands back)."""

    #: counterparts in the order the per-entity path lists them (candidates,
    #: then stored pairs), in the market and featurisable
    order: list[UUID]
    #: the best `stored_matches` candidates
    best: set[UUID]
    #: every stored counterpart when the batch read them (in the market or not)
    stored: set[UUID]
    #: stored pairs already scored by this model from the same features: the
    #: write would store them unchanged, so they are neither explained nor written
    unchanged: set[UUID]
    #: counterpart -> row of the batch's feature matrix, for the pairs to write
    rows: dict[UUID, int]
    candidates: int
    skipped: dict[UUID, str]


@dataclass
class _Plan:
    planned: dict[UUID, _Planned]
    #: entities for the per-entity path
    single: set[UUID]
    model: MatchingModel
    #: the batch's pair features, scores (two decimals) and text similarity
    x: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    scores: np.ndarray = field(default_factory=lambda: np.zeros(0))
    semantic: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: the fx rates the frames were converted with
    fx: dict[str, float] = field(default_factory=dict)
    #: (in market, version) of every counterpart read, taken before their
    #: frames; only when the batch may yield (to validate a carried plan)
    counterparts: dict[UUID, EntityState] | None = None


@dataclass
class Carry:
    """A yielded batch's reads and scores for the entities it handed back.

    A yield throws away the plan of the entities not yet written, often
    most of the batch: a job's batch spends ~0.3 s planning and edits arrive
    every few tenths of a second. The worker that yielded usually runs the
    rest itself right after the edit, and hands this back. The rest then
    runs as the first batch would have gone on had it not yielded: with the
    reads it made at its start. It is used only if nothing it read about the
    counterparts has moved since (see `_carry_holds`); each write still
    re-checks its own entity's version and stored pairs, as always.
    """

    kind: Kind
    ids: list[UUID]
    plan: _Plan
    states: dict[UUID, EntityState]


def _states(conn: psycopg.Connection, own: Side, ids: list[UUID]) -> dict[UUID, EntityState]:
    """(in market, version) of each entity that exists, in one query."""
    with conn.cursor(row_factory=class_row(_StateRow)) as cur:
        cur.execute(query(own.states_query), (ids,))
        return {r.id: EntityState(r.in_market, r.version) for r in cur}


@dataclass(frozen=True)
class _StoredPair:
    """What a stored pair was scored with."""

    model_version: str | None
    features: np.ndarray | None


def _stored_pairs(
    conn: psycopg.Connection, own: Side, ids: list[UUID]
) -> dict[UUID, dict[UUID, _StoredPair]]:
    """Each entity's stored pairs (counterpart -> model, features), in one query."""
    out: dict[UUID, dict[UUID, _StoredPair]] = {i: {} for i in ids}
    if ids:
        statement = query("stored_pairs_of").format(**own.identifiers())
        # binary: ~50 rows of 36 floats per talent, hundreds per job
        for entity_id, other_id, version, features in conn.execute(statement, (ids,), binary=True):
            vector = None if features is None else np.asarray(features, dtype=np.float32)
            out[entity_id][other_id] = _StoredPair(version, vector)
    return out


def rematch_batch(
    pipeline: RankingPipeline,
    side: Side | Kind,
    ids: list[UUID],
    yield_to: Callable[[psycopg.Connection], bool] | None = None,
    *,
    flushed_later: bool = False,
    resume: Carry | None = None,
) -> BatchResult:
    """Rematch `ids` (of `side`) as `pipeline.rematch` would, one after the other.

    `yield_to(conn)` is asked before each entity's write but the first: when
    it says yes, the batch stops there and lists the rest in
    `BatchResult.deferred` (the caller re-queues them), so an edit waits for
    one entity's write rather than for the whole batch. What it had computed
    for them is `BatchResult.carry`; passed back as `resume` with exactly
    those ids, it spares the rest's batch its reads and scoring when it
    still holds (see `Carry`), and is ignored otherwise.

    `flushed_later`: the caller redoes the whole batch when this call
    raises (the rematch_batch task re-enqueues it). The entities' write
    transactions then commit with `synchronous_commit = off`: they do not
    wait for their WAL to reach disk (~1-3 ms each, by disk). Before the
    batch returns, yielded or not, one synchronous commit on the same
    connection (query flush_commits) flushes them all: a commit flushes the
    WAL up to its own record. If the server crashed and restarted in
    between, that commit fails with the connection, the call raises, and
    the batch is redone; the caller's own later commits (a job's completion,
    on other connections) cannot stand in for it, as they could land on the
    restarted server. Entities handed to the per-entity path commit
    synchronously, as `rematch` always does.
    """
    own = side_of(side)
    wanted = list(dict.fromkeys(ids))
    watch = Stopwatch()
    out = BatchResult(kind=own.kind)
    with pipeline.pool.connection() as conn:
        plan: _Plan | None = None
        if resume is not None and resume.kind == own.kind and resume.ids == wanted:
            with watch.stage("load"):
                if _carry_holds(pipeline, conn, own, resume):
                    plan, states, out.resumed = resume.plan, resume.states, True
        if plan is None:
            with watch.stage("load"):
                model = pipeline.active_model.get(conn)
                states = _states(conn, own, wanted) if model is not None and wanted else {}
        if plan is None and model is not None:
            # without a model the SQL fallback scores: entity by entity
            live = [i for i in wanted if i in states and states[i].in_market]
            try:
                plan = _plan(pipeline, conn, own, live, model, watch, track=yield_to is not None)
            except Exception as exc:
                if is_transient(exc):
                    raise
                # one entity's surprise must not cost the batch: one by one, each
                # entity then fails (or not) on its own, as with per-entity jobs
                log.warning(
                    "rematch_batch_compute_failed",
                    kind=own.kind,
                    entities=len(wanted),
                    error=f"{type(exc).__name__}: {exc}"[:500],
                )
        #: the entities whose writes committed without the flush
        unflushed: list[UUID] = []
        for k, entity_id in enumerate(wanted):
            if k and yield_to is not None and yield_to(conn):
                out.deferred = wanted[k:]
                if plan is not None and plan.counterparts is not None:
                    out.carry = Carry(own.kind, out.deferred, plan, states)
                break
            state = states.get(entity_id)
            if plan is None or entity_id in plan.single:
                with watch.stage("write"):
                    _single(pipeline, conn, own, entity_id, out)
            elif state is None:
                out.results.append(RematchResult(own.kind, entity_id, "missing"))
            elif not state.in_market:
                with watch.stage("write"):
                    _remove(pipeline, conn, own, entity_id, state, out)
            else:
                planned = plan.planned[entity_id]
                try:
                    with watch.stage("explain"):
                        rows = _explained_rows(own, entity_id, planned, plan)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    # as a failure of the batch's compute: this entity one by one
                    log.warning(
                        "rematch_batch_explain_failed",
                        kind=own.kind,
                        entity_id=str(entity_id),
                        error=f"{type(exc).__name__}: {exc}"[:500],
                    )
                    with watch.stage("write"):
                        _single(pipeline, conn, own, entity_id, out)
                    continue
                with watch.stage("write"):
                    wrote = _write(
                        pipeline,
                        conn,
                        own,
                        entity_id,
                        state.version,
                        planned,
                        rows,
                        plan,
                        out,
                        flushed_later=flushed_later,
                    )
                if wrote and flushed_later:
                    unflushed.append(entity_id)
        if unflushed:
            with watch.stage("write"), conn.transaction():
                conn.execute(query("flush_commits").format(**own.identifiers()), (unflushed,))
    out.timings = watch.timings
    _log(pipeline, out)
    return out


def _plan(
    pipeline: RankingPipeline,
    conn: psycopg.Connection,
    own: Side,
    live: list[UUID],
    model: MatchingModel,
    watch: Stopwatch,
    *,
    track: bool = False,
) -> _Plan:
    """Everything but the writes, for the in-market entities `live` (see the
    module docstring): the steps of `RankingPipeline._match`, each once.
    `track`: also read the counterparts' versions, which a `Carry` of this
    plan is checked against."""
    s = pipeline.settings
    other = own.counterpart
    single: set[UUID] = set()
    with watch.stage("embed"):
        vectors = embedding_store.ensure_vectors(conn, pipeline.embedder, own, live)
    # no vector (deleted meanwhile): the per-entity path says what happens
    single.update(i for i in live if i not in vectors)
    live = [i for i in live if i in vectors]
    if not live:
        return _Plan(planned={}, single=single, model=model)
    with watch.stage("retrieve"):
        nearest = embedding_store.nearest_many(
            conn, other, [vectors[i] for i in live], k=s.candidates_k, settings=s
        )
        stored_pairs = _stored_pairs(conn, own, live)
        existing = {i: list(stored_pairs[i]) for i in live}

    with watch.stage("featurise"):
        fx = load_fx_rates(conn)
        candidates_of = {i: [o for o, _ in nearest[n]] for n, i in enumerate(live)}
        similarity = {i: dict(nearest[n]) for n, i in enumerate(live)}
        others_of = {i: list(dict.fromkeys(candidates_of[i] + existing[i])) for i in live}
        union = list(dict.fromkeys(o for i in live for o in others_of[i]))
        counterparts: dict[UUID, EntityState] | None = None
        if track:
            # before the frames: a change after this read shows as a new
            # version; the states say who is in the market too (the same
            # predicate as in_market_of), so no second read
            counterparts = _states(conn, other, union)
            open_set = {o for o in union if o in counterparts and counterparts[o].in_market}
        else:
            open_set = set(_in_market(conn, other, union))
        # a stored counterpart outside the candidates: computed as retrieval
        # computes it, as `_match` does (see `embedding_store.similarities`)
        missing = [
            (n, o)
            for n, i in enumerate(live)
            for o in others_of[i]
            if o in open_set and o not in similarity[i]
        ]
        found = embedding_store.similarities(conn, other, [vectors[i] for i in live], missing)
        for (n, o), value in zip(missing, found, strict=True):
            if value is not None:
                similarity[live[n]][o] = value
        own_rejected: dict[UUID, str] = {}
        own_frame = own.load(conn, live, fx, rejected=own_rejected)
        # the entity's own bad data: `rematch` marks that version failed and raises
        single.update(own_rejected)
        live = [i for i in live if i not in own_rejected]
        skipped: dict[UUID, str] = {}
        other_frame = other.load(conn, [o for o in union if o in open_set], fx, rejected=skipped)
        own_row = {i: n for n, i in enumerate(own_frame.ids)}
        other_row = {o: n for n, o in enumerate(other_frame.ids)}
        orders: dict[UUID, list[UUID]] = {}
        starts: dict[UUID, int] = {}
        own_rows: list[np.ndarray] = []
        other_rows: list[np.ndarray] = []
        semantic_parts: list[np.ndarray] = []
        start = 0
        for i in live:
            order = [o for o in others_of[i] if o in open_set and o not in skipped]
            orders[i], starts[i] = order, start
            start += len(order)
            own_rows.append(np.full(len(order), own_row[i], dtype=np.int64))
            other_rows.append(np.array([other_row[o] for o in order], dtype=np.int64))
            semantic_parts.append(np.array([similarity[i].get(o, np.nan) for o in order]))
        talents, jobs = own.orient(own_frame, other_frame)
        assert isinstance(talents, TalentFrame) and isinstance(jobs, JobFrame)
        t_rows, j_rows = own.orient(_concat(own_rows, np.int64), _concat(other_rows, np.int64))
        semantic = _concat(semantic_parts, np.float64)
        x = extract_pair_features(talents, jobs, t_rows, j_rows, semantic)

    with watch.stage("predict"):
        # stored (and served) with two decimals: rank what is stored
        scores = np.round(model.predict(x), 2)
        planned: dict[UUID, _Planned] = {}
        for i in live:
            order, start = orders[i], starts[i]
            end = start + len(order)
            candidate_set, stored = set(candidates_of[i]), stored_pairs[i]
            pairs = [own.orient(i, o) for o in order]
            ranked = rank_order(scores[start:end], semantic[start:end], pairs)
            best = [int(k) for k in ranked if order[k] in candidate_set][: s.stored_matches]
            # the best candidates, plus every pair stored at the start
            keep = sorted(set(best) | {k for k, o in enumerate(order) if o in stored})
            unchanged = {
                order[k] for k in keep if _unchanged(stored.get(order[k]), model, x[start + k])
            }
            planned[i] = _Planned(
                order=order,
                best={order[k] for k in best},
                stored=set(stored),
                unchanged=unchanged,
                rows={order[k]: start + k for k in keep if order[k] not in unchanged},
                candidates=len(candidates_of[i]),
                skipped={o: skipped[o] for o in others_of[i] if o in skipped},
            )
    return _Plan(
        planned=planned,
        single=single,
        model=model,
        x=x,
        scores=scores,
        semantic=semantic,
        fx=fx,
        counterparts=counterparts,
    )


def _carry_holds(
    pipeline: RankingPipeline, conn: psycopg.Connection, own: Side, carry: Carry
) -> bool:
    """Whether a carried plan still stands for what it read: the same active
    model, the same fx rates, and every counterpart it read still there with
    the same version and market status (an edit, a closed job, a changed
    company or skill all move the version). Candidates found by ANN are kept
    as the first batch found them, as they are between any batch's reads and
    its writes."""
    plan = carry.plan
    if plan.counterparts is None:
        return False
    model = pipeline.active_model.get(conn)
    if model is None or model.version != plan.model.version:
        return False
    if load_fx_rates(conn) != plan.fx:
        return False
    return _states(conn, own.counterpart, list(plan.counterparts)) == plan.counterparts


def _unchanged(stored: _StoredPair | None, model: MatchingModel, features: np.ndarray) -> bool:
    """Whether a stored pair was scored by this model from these very features:
    same model, same features, so the same score, similarity and explanation
    (scoring is deterministic). After an activation the side re-ranked second
    finds most of its pairs rescored by the first side's batches already."""
    return (
        stored is not None
        and stored.model_version == model.version
        and stored.features is not None
        and np.array_equal(stored.features, np.asarray(features, dtype=np.float32))
    )


def _explained_rows(
    own: Side, entity_id: UUID, planned: _Planned, plan: _Plan
) -> dict[UUID, tuple[Any, ...]]:
    """The upsert_matches rows of the pairs to write, explained now (one SHAP call)."""
    others = list(planned.rows)
    index = [planned.rows[o] for o in others]
    if not index:
        return {}
    explanations, contributions = MatchExplainer(plan.model).explain_for_storage(plan.x[index])
    return {
        o: match_row(
            own.orient(entity_id, o),
            float(plan.scores[g]),
            plan.model.version,
            explanation,
            plan.x[g],
            float(plan.semantic[g]),
            contributions[pos],
        )
        for pos, (o, g, explanation) in enumerate(zip(others, index, explanations, strict=True))
    }


def _concat(parts: list[np.ndarray], dtype: type[np.generic]) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def _locked_state(conn: psycopg.Connection, own: Side, entity_id: UUID) -> EntityState | None:
    with conn.cursor(row_factory=class_row(EntityState)) as cur:
        cur.execute(query(own.locked_state_query), (entity_id,))
        return cur.fetchone()


def _write(
    pipeline: RankingPipeline,
    conn: psycopg.Connection,
    own: Side,
    entity_id: UUID,
    version: Any,
    planned: _Planned,
    rows: dict[UUID, tuple[Any, ...]],
    plan: _Plan,
    out: BatchResult,
    *,
    flushed_later: bool,
) -> bool:
    """One entity's write: `_write_matches` with the rows `_match` would write
    now, behind the version check (see the module docstring). Pipelined: the
    check and the stored pairs in one round trip, the write and COMMIT in another.

    Pairs left unchanged (same model, same features) are not rewritten and
    not checked for a row they pushed out of their counterpart's list: an
    unchanged row moves nothing, and before this write every stored pair was
    in one side's best (the bounded-list rule every write keeps), so the
    stored rows end as `_write_matches` would leave them; only `computed_at`
    of those pairs stays at the earlier write's time. Returns whether it wrote
    (committed this entity's rows and mark).
    """
    ids = own.identifiers()
    n = pipeline.settings.stored_matches
    verdict = "matched"
    written: list[UUID] = []
    counted: list[psycopg.Cursor[Any]] = []
    with conn.pipeline(), conn.transaction():
        if flushed_later:
            conn.execute(query("commit_without_flush"))
        state_cur = conn.cursor(row_factory=class_row(EntityState))
        state_cur.execute(query(own.locked_state_query), (entity_id,))
        stored_cur = conn.execute(query("stored_counterparts").format(**ids), (entity_id,))
        current = state_cur.fetchone()
        stored_now = {r[0] for r in stored_cur.fetchall()}
        if current is None:
            verdict = "missing"  # deleted since the batch read it
        elif current.version != version:
            verdict = "superseded"
        elif stored_now - planned.stored:
            verdict = "single"  # a pair the batch did not read: `rematch` reads it
        elif any(o in planned.best and o not in stored_now for o in planned.unchanged):
            # an earlier write pruned a pair this one stores again: `rematch`
            # would insert it, with an explanation the batch did not build
            verdict = "single"
        if verdict != "matched":
            raise psycopg.Rollback()
        written = [o for o in planned.order if o in planned.best or o in stored_now]
        changed = [o for o in written if o not in planned.unchanged]
        _mark(conn, own, entity_id, version, "matched")
        upsert_matches(conn, [rows[o] for o in changed])
        bounds = {"entity": entity_id, "others": changed, "n": n}
        counted.append(conn.execute(query("prune_own").format(**ids), bounds))
        counted.append(conn.execute(query("prune_pushed").format(**ids), bounds))
        counted.append(conn.execute(query("delete_left_market").format(**ids), (entity_id,)))
    if verdict == "missing":
        out.results.append(RematchResult(own.kind, entity_id, "missing"))
    elif verdict == "superseded":
        out.superseded.append(entity_id)
    elif verdict == "single":
        _single(pipeline, conn, own, entity_id, out)
    else:
        out.unchanged += len(written) - len(changed)
        if planned.skipped:
            pipeline._skipped(own, entity_id, planned.skipped)
        result = RematchResult(
            own.kind,
            entity_id,
            "matched",
            source="ml",
            model_version=plan.model.version,
            candidates=planned.candidates,
            stored=len(written),
            deleted=sum(max(c.rowcount, 0) for c in counted),
            skipped=planned.skipped,
        )
        # one "rematch" event per entity, as the per-entity path logs (stage
        # timings are the batch's, in its own "rematch_batch" event)
        pipeline._log(result)
        out.results.append(result)
    return verdict == "matched"


def _remove(
    pipeline: RankingPipeline,
    conn: psycopg.Connection,
    own: Side,
    entity_id: UUID,
    state: EntityState,
    out: BatchResult,
) -> None:
    """`_remove_from_market` behind the version check."""
    with conn.transaction():
        current = _locked_state(conn, own, entity_id)
        if current is None:
            out.results.append(RematchResult(own.kind, entity_id, "missing"))
            return
        if current.version != state.version:
            out.superseded.append(entity_id)
            return
        deleted = _remove_from_market(conn, own, entity_id, state.version)
    result = RematchResult(own.kind, entity_id, "removed", deleted=deleted)
    pipeline._log(result)
    out.results.append(result)


def _single(
    pipeline: RankingPipeline,
    conn: psycopg.Connection,
    own: Side,
    entity_id: UUID,
    out: BatchResult,
) -> None:
    """The per-entity path for one entity; poison is recorded, the batch goes on."""
    out.single += 1
    try:
        out.results.append(pipeline.rematch_on(conn, own, entity_id))
    except Exception as exc:
        if is_transient(exc):
            raise
        out.failed[entity_id] = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning(
            "rematch_batch_entity_failed",
            kind=own.kind,
            entity_id=str(entity_id),
            error=out.failed[entity_id][:300],
        )


def _log(pipeline: RankingPipeline, out: BatchResult) -> None:
    outcomes: dict[str, int] = {}
    for r in out.results:
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    fields: dict[str, Any] = {
        "kind": out.kind,
        "entities": out.entities,
        **outcomes,
        "failed": len(out.failed),
        "superseded": len(out.superseded),
        "single": out.single,
        "deferred": len(out.deferred),
        "resumed": out.resumed,
        "unchanged": out.unchanged,
        "seconds": round(out.seconds, 4),
        **{f"{k}_ms": round(v * 1000, 2) for k, v in out.timings.items()},
    }
    log.info("rematch_batch", **fields)
