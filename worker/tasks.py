"""The worker's tasks. Thin: each one calls into `matching`.

Registered on the app under the namespace "matching" (`TASK_NAMESPACE`),
so the SQL that enqueues them (matching.enqueue_jobs / enqueue_task) names
them "matching:<task>". Every task name and queue is a constant here or a
field of `matching.side.Side` (the rematch tasks), used both to register the
task and to enqueue it; tests/db/test_task_names.py checks that the names the
migrations enqueue are registered.

Retries and queueing locks are designed together. Rematch jobs carry a
queueing lock per entity, and procrastinate's own retry would put a failed
job back to `todo`, colliding with a newer pending job for the same entity
(upstream #1543/#1446: the job then stays stuck). So a transient failure
(connection lost, deadlock, serialization failure, pool timeout) does not
retry the job itself: it enqueues a fresh one with a backoff delay through
the same ON CONFLICT DO NOTHING path, which coalesces with any newer job,
and the current job ends successfully. After `retry_max_attempts` it fails
and stays visible. Any other error (poison input) fails the job at once.

Bulk re-ranks (`rematch_all`, after a model activation or a backfill) run as
`rematch_batch` jobs of `rematch_batch_size` entities on their own queue
(BULK_QUEUE) at BULK_PRIORITY. A worker on every queue (the default) fetches
by priority across them, so edits (priority 0, the rematch queue) come
first, and it takes batches when no edit waits. A running batch checks
before each entity's write whether an edit is waiting (query edits_waiting)
and if so hands its remaining entities back as a new batch (at
REST_PRIORITY, with the plan it computed for them kept in this worker) and
ends, so an edit waits for one entity's write, not for a whole batch. It
still waits for the batch's planning (a tenth to half a second): a worker
started on the rematch queue alone (an edit lane) takes edits at once, as
it never runs a batch. A batch cannot hold the per-entity
locks ("<kind>:<id>") of its entities: procrastinate locks one string per
job. Its lock names the batch instead, so batches run in parallel with each
other and with edits, and the race with an edit is settled in the database
(`matching.pipeline.batch`): each entity's write re-reads its data version
with the row share-locked and is skipped when an edit has moved it since the
batch read it (the edit's own job rematches it with the new data), and an
edit committing during the write waits for it, its job running afterwards. A
rematch mark is written only for the version actually read, so
reconciliation still sees any edit no rematch has. Retries work as for the
per-entity jobs: a transient failure re-enqueues the same batch with a
backoff; entities whose own data is poison are marked failed one by one and
the batch goes on.

When the connection is lost, the re-enqueue itself needs the database: it
waits for it (pool connections are checked on checkout, attempts back off)
up to `db_reconnect_give_up_seconds`, so an outage never turns a user's edit
into a failed job. If the process dies first, the job is left `doing` and
stalled-job recovery requeues it; if it fails anyway, reconciliation finds
the edit (its data version was never marked).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

import procrastinate
import psycopg
import structlog
from procrastinate import exceptions as pexc
from procrastinate.jobs import Status
from psycopg import sql

from matching.db.connection import TRANSIENT_ERRORS
from matching.db.queries import query
from matching.observability import REMATCH_BATCH_SECONDS, REMATCH_SECONDS, STAGE_SECONDS, TASKS
from matching.pipeline.batch import Carry
from matching.pipeline.ranking import RematchResult
from matching.queues import BULK_QUEUE, MAINTENANCE_QUEUE, REMATCH_QUEUE, RETRAIN_QUEUE
from matching.retrieval import store as embedding_store
from matching.side import JOB, TALENT, Kind, Side, side_of
from worker.runtime import get_runtime

log = structlog.get_logger(__name__)

blueprint = procrastinate.Blueprint()

BATCH = 500
#: entities embedded per backfill job: small, so an edit waits ~1 s at most
BACKFILL_BATCH = 64
#: bulk work yields to edits (procrastinate runs higher priorities first)
BULK_PRIORITY = -10
#: the rest of a batch that yielded to an edit: after the edits, before the
#: other bulk batches, so it runs right after them, usually on the same
#: worker and on the plan it carried (below the other bulk batches it would
#: wait behind the whole re-rank, its plan long gone)
REST_PRIORITY = BULK_PRIORITY + 1


#: task names besides the rematch tasks (`Side.task`)
BACKFILL = "backfill"
REMATCH_ALL = "rematch_all"
#: a bulk re-rank batch (on `BULK_QUEUE`)
REMATCH_BATCH = "rematch_batch"
PURGE_API_COUNTERS = "purge_api_counters"
RECOVER_STALLED_JOBS = "recover_stalled_jobs"
RETRAIN = "retrain"
WEEKLY_RETRAIN = "weekly_retrain"


def _market_batch(
    conn: psycopg.Connection, side: Side, after: str | None, limit: int
) -> list[UUID]:
    """The next `limit` ids (by id, after the cursor) of entities in the market."""
    return [
        r[0]
        for r in conn.execute(
            query("market_batch").format(**side.identifiers()), {"after": after, "limit": limit}
        )
    ]


def _enqueue_task(conn: psycopg.Connection, task: str, args: dict[str, object]) -> None:
    """One bulk job (its queueing lock is its name: at most one pending)."""
    conn.execute(
        query("enqueue_task"),
        {
            "task": task,
            "queue": MAINTENANCE_QUEUE,
            "args": psycopg.types.json.Jsonb(args),
            "priority": BULK_PRIORITY,
        },
    )


def _side(kind: str) -> Side:
    """The side a bulk task's `kind` argument names."""
    try:
        return side_of(kind)
    except ValueError:
        raise ValueError(f"kind must be job or talent, got {kind!r}") from None


def _parse_uuid(value: str, name: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ValueError(f"{name} is not a UUID: {value!r}") from None


def _rematch(
    side: Side, entity_id: str, attempt: int, run: Callable[[UUID], RematchResult]
) -> None:
    task, kind = side.task, side.kind
    ident = _parse_uuid(entity_id, side.task_arg)
    rt = get_runtime()
    try:
        result = run(ident)
    except TRANSIENT_ERRORS as exc:
        if attempt + 1 >= rt.settings.retry_max_attempts:
            TASKS.labels(task, "failed").inc()
            raise
        delay = rt.settings.retry_base_seconds * 2**attempt
        _enqueue_retry(side, ident, delay, attempt + 1)
        TASKS.labels(task, "retry_scheduled").inc()
        log.warning(
            "rematch_retry_scheduled",
            kind=kind,
            entity_id=entity_id,
            attempt=attempt + 1,
            delay_seconds=delay,
            error=str(exc),
        )
        return
    except Exception:
        TASKS.labels(task, "failed").inc()
        raise
    TASKS.labels(task, result.outcome).inc()
    REMATCH_SECONDS.observe(result.seconds)
    for stage, seconds in result.timings.items():
        STAGE_SECONDS.labels(stage).observe(seconds)


def _enqueue_retry(side: Side, ident: UUID, delay: float, attempt: int) -> None:
    """Enqueue the retry, waiting for the database if it is gone (see the module
    docstring); raises the last error after `db_reconnect_give_up_seconds`."""
    params = {
        "task": side.task,
        "queue": side.queue,
        "id": ident,
        "lock_prefix": side.kind,
        "arg": side.task_arg,
        "delay": delay,
        "attempt": attempt,
    }
    _execute_waiting(query("enqueue_rematch_later"), params, kind=side.kind, entity_id=str(ident))


def _execute_waiting(statement: sql.SQL, params: dict[str, Any], **about: object) -> None:
    """Run one enqueue statement, waiting for the database if it is gone (see
    the module docstring); raises the last error after
    `db_reconnect_give_up_seconds`. `about` goes into the log lines."""
    rt = get_runtime()
    give_up = rt.settings.db_reconnect_give_up_seconds
    deadline = time.monotonic() + give_up if give_up else float("inf")
    wait = 0.25
    first = True
    while True:
        try:
            if first:
                # briefly: after a lost connection the pool has nothing to give
                with rt.pool.connection(timeout=1.0) as conn:
                    conn.execute(statement, params)
            else:
                # after a failure, a connection of its own on our own capped
                # backoff: the pool may be waiting out a long reconnect delay
                with psycopg.connect(rt.conninfo, autocommit=True, connect_timeout=5) as c:
                    c.execute(statement, params)
            return
        except TRANSIENT_ERRORS as exc:
            first = False
            if time.monotonic() + wait > deadline:
                raise
            log.warning(
                "rematch_retry_waiting_for_database",
                **about,
                retry_in_seconds=wait,
                error=" ".join(str(exc).split())[:200],
            )
            time.sleep(wait)
            wait = min(wait * 2, rt.settings.db_reconnect_max_delay_seconds)


@blueprint.task(name=TALENT.task, queue=TALENT.queue)
def rematch_talent(talent_id: str, attempt: int = 0) -> None:
    """Re-embed (if its text changed) and rematch one talent."""
    _rematch(TALENT, talent_id, attempt, get_runtime().pipeline.rematch_talent)


@blueprint.task(name=JOB.task, queue=JOB.queue)
def rematch_job(job_id: str, attempt: int = 0) -> None:
    """Re-embed (if its text changed) and rematch one job."""
    _rematch(JOB, job_id, attempt, get_runtime().pipeline.rematch_job)


@blueprint.task(name=BACKFILL, queue=MAINTENANCE_QUEUE)
def backfill(kind: str = "job", after: str | None = None, then_rematch: bool = True) -> None:
    """Embed every entity whose embedding is missing or stale, one batch per job.

    Jobs first (talent matching searches the job index), then talents; each
    batch re-enqueues the task with a cursor, so the queue stays responsive.
    At the end it starts `rematch_all` unless told not to.
    """
    side = _side(kind)
    rt = get_runtime()
    started = time.perf_counter()
    with rt.pool.connection() as conn:
        ids = _market_batch(conn, side, after, BACKFILL_BATCH)
        embedded = embedding_store.ensure_embeddings(conn, rt.embedder, side, ids) if ids else 0
        nxt: dict[str, object] | None
        if len(ids) == BACKFILL_BATCH:
            nxt = {"kind": kind, "after": str(ids[-1]), "then_rematch": then_rematch}
        elif side is JOB:
            nxt = {"kind": TALENT.kind, "after": None, "then_rematch": then_rematch}
        else:
            nxt = None
        if nxt is not None:
            _enqueue_task(conn, BACKFILL, nxt)
        elif then_rematch:
            _enqueue_task(conn, REMATCH_ALL, {"kind": TALENT.kind})
    TASKS.labels(BACKFILL, "ok").inc()
    log.info(
        "backfill_batch",
        kind=kind,
        entities=len(ids),
        embedded=embedded,
        seconds=round(time.perf_counter() - started, 3),
    )


def _batch_params(
    side: Side,
    ids: list[UUID] | list[str],
    delay: float = 0.0,
    attempt: int = 0,
    priority: int = BULK_PRIORITY,
) -> dict[str, Any]:
    """enqueue_batch's parameters for one batch. Its lock names the first entity
    (for people reading the queue) and a digest of all of them: only a batch of
    exactly the same entities coalesces with a pending one. A lock naming the
    first entity alone let a yielded batch's remainder coalesce into an
    unrelated pending batch starting with the same entity, and be lost."""
    names = [str(i) for i in ids]
    digest = hashlib.blake2b("\n".join(names).encode(), digest_size=6).hexdigest()
    args: dict[str, object] = {"kind": side.kind, "ids": names}
    if attempt:
        args["attempt"] = attempt
    return {
        "task": REMATCH_BATCH,
        "queue": BULK_QUEUE,
        "lock": f"{REMATCH_BATCH}:{side.kind}:{names[0]}:{digest}",
        "args": psycopg.types.json.Jsonb(args),
        "delay": delay,
        "priority": priority,
    }


def enqueue_batches(
    conn: psycopg.Connection,
    side: Side,
    ids: list[UUID],
    size: int,
    priority: int = BULK_PRIORITY,
) -> int:
    """Enqueue `rematch_batch` jobs for `ids` (in order), `size` entities each;
    returns how many jobs were enqueued (a pending batch with the same first
    entity, from an earlier re-rank, is kept instead: it runs with the newest
    model anyway)."""
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    if not chunks:
        return 0
    queued = 0
    with conn.cursor() as cur:
        cur.executemany(
            query("enqueue_batch"),
            [_batch_params(side, c, priority=priority) for c in chunks],
            returning=True,
        )
        while True:
            row = cur.fetchone()
            if row is not None and row[0] is not None:
                queued += 1
            if not cur.nextset():
                break
    return queued


@blueprint.task(name=REMATCH_ALL, queue=MAINTENANCE_QUEUE)
def rematch_all(kind: str = "talent", after: str | None = None) -> None:
    """Enqueue the re-rank of every entity in the market: `BATCH` entities
    per job of this task, as `rematch_batch` jobs of `rematch_batch_size`.

    Used after a model change: reads keep serving the stored scores until
    each pair is rescored, and edits keep priority: they are fetched before
    these jobs (a higher priority), and an edit lane never takes them.
    """
    side = _side(kind)
    rt = get_runtime()
    with rt.pool.connection() as conn:
        ids = _market_batch(conn, side, after, BATCH)
        queued = enqueue_batches(conn, side, ids, rt.settings.bulk_batch_size(side.kind))
        nxt: dict[str, object] | None
        if len(ids) == BATCH:
            nxt = {"kind": kind, "after": str(ids[-1])}
        elif side is TALENT:
            nxt = {"kind": JOB.kind, "after": None}
        else:
            nxt = None
        if nxt is not None:
            _enqueue_task(conn, REMATCH_ALL, nxt)
    TASKS.labels(REMATCH_ALL, "ok").inc()
    log.info("rematch_all_batch", kind=kind, entities=len(ids), batches_queued=queued)


#: plans of batches this worker handed back, by (kind, ids): the worker that
#: yielded usually runs the rest itself, right after the edit (another
#: worker taking it recomputes it). A few, for a minute at most.
_CARRIED: dict[tuple[str, tuple[UUID, ...]], tuple[float, Carry]] = {}
_CARRIED_LOCK = threading.Lock()
CARRY_SECONDS = 60.0
CARRY_MAX = 4


def _keep_carry(carry: Carry) -> None:
    now = time.monotonic()
    with _CARRIED_LOCK:
        for key, (at, _) in list(_CARRIED.items()):
            if now - at > CARRY_SECONDS:
                del _CARRIED[key]
        while len(_CARRIED) >= CARRY_MAX:
            del _CARRIED[next(iter(_CARRIED))]  # the oldest
        _CARRIED[(carry.kind, tuple(carry.ids))] = (now, carry)


def _take_carry(kind: str, ids: list[UUID]) -> Carry | None:
    with _CARRIED_LOCK:
        found = _CARRIED.pop((kind, tuple(ids)), None)
    if found is None or time.monotonic() - found[0] > CARRY_SECONDS:
        return None
    return found[1]


def _edits_waiting(conn: psycopg.Connection) -> bool:
    """Whether an edit's rematch waits on the rematch queue (query edits_waiting)."""
    row = conn.execute(
        # above the rests' priority: edits, not another batch's rest
        query("edits_waiting"),
        {"queue": REMATCH_QUEUE, "priority": REST_PRIORITY},
    ).fetchone()
    return bool(row and row[0])


def _takes_edits(worker_queues: Iterable[str] | None) -> bool:
    """Whether this worker fetches edits (None: every queue). Only then does
    a batch yield to a waiting edit: a worker on the bulk queue alone would
    hand its rest back, fetch it again and write one entity per fetch while
    the edit waits for another worker anyway."""
    return worker_queues is None or REMATCH_QUEUE in worker_queues


@blueprint.task(name=REMATCH_BATCH, queue=BULK_QUEUE, pass_context=True)
def rematch_batch(
    context: procrastinate.JobContext, kind: Kind, ids: list[str], attempt: int = 0
) -> None:
    """Re-rank a batch of entities of one kind (`RankingPipeline.rematch_batch`).

    A transient failure re-enqueues the same batch with a backoff (its
    entities already written are simply rewritten); poison entities are
    marked failed one by one and counted, the batch goes on.
    """
    side = _side(kind)
    idents = [_parse_uuid(i, "ids") for i in ids]
    rt = get_runtime()
    try:
        # flushed_later: this job's completion (or the re-enqueue of a retry
        # or of a yielded rest) commits durably after the batch, and a job
        # whose completion is lost is requeued as stalled
        result = rt.pipeline.rematch_batch(
            side,
            idents,
            yield_to=_edits_waiting if _takes_edits(context.worker_queues) else None,
            flushed_later=True,
            resume=_take_carry(side.kind, idents),
        )
    except TRANSIENT_ERRORS as exc:
        if attempt + 1 >= rt.settings.retry_max_attempts:
            TASKS.labels(REMATCH_BATCH, "failed").inc()
            raise
        delay = rt.settings.retry_base_seconds * 2**attempt
        params = _batch_params(side, idents, delay, attempt + 1)
        _execute_waiting(query("enqueue_batch"), params, kind=side.kind, batch=str(idents[0]))
        TASKS.labels(REMATCH_BATCH, "retry_scheduled").inc()
        log.warning(
            "rematch_batch_retry_scheduled",
            kind=kind,
            entities=len(idents),
            attempt=attempt + 1,
            delay_seconds=delay,
            error=str(exc),
        )
        return
    except Exception:
        TASKS.labels(REMATCH_BATCH, "failed").inc()
        raise
    if result.deferred:
        # handed back behind the waiting edit(s), ahead of the other batches
        with rt.pool.connection() as conn:
            enqueue_batches(
                conn, side, result.deferred, len(result.deferred), priority=REST_PRIORITY
            )
        if result.carry is not None:
            _keep_carry(result.carry)
        log.info("rematch_batch_yielded", kind=kind, deferred=len(result.deferred))
    TASKS.labels(REMATCH_BATCH, "ok").inc()
    outcomes: dict[str, int] = {}
    for r in result.results:
        outcomes[r.outcome] = outcomes.get(r.outcome, 0) + 1
    outcomes["entity_failed"] = len(result.failed)
    outcomes["superseded"] = len(result.superseded)
    outcomes["deferred"] = len(result.deferred)
    for outcome, count in outcomes.items():
        if count:
            TASKS.labels(f"{REMATCH_BATCH}_entity", outcome).inc(count)
    REMATCH_BATCH_SECONDS.observe(result.seconds)


@blueprint.periodic(cron="17 * * * *", periodic_id=PURGE_API_COUNTERS)
@blueprint.task(name=PURGE_API_COUNTERS, queue=MAINTENANCE_QUEUE)
def purge_api_counters(timestamp: int) -> None:
    """Hourly: drop expired rate-limit windows and old serving statistics."""
    with get_runtime().pool.connection() as conn:
        row = conn.execute(query("purge_api_counters")).fetchone()
        purged = row[0] if row is not None else None
    log.info("api_counters_purged", rows=purged)


@blueprint.periodic(cron="* * * * *", periodic_id=RECOVER_STALLED_JOBS)
@blueprint.task(name=RECOVER_STALLED_JOBS, queue=MAINTENANCE_QUEUE, pass_context=True)
async def recover_stalled_jobs(context: procrastinate.JobContext, timestamp: int) -> None:
    """Requeue jobs left `doing` by a worker that died (procrastinate doesn't).

    A stalled job whose entity already has a newer pending job is not
    requeued (that would collide with the queueing lock): it is marked
    aborted instead (not failed: nothing is wrong with the edit), and the
    pending job does the work.
    """
    await requeue_stalled(context.app)


async def requeue_stalled(app: procrastinate.App, seconds: float | None = None) -> dict[str, int]:
    rt = get_runtime()
    manager = app.job_manager
    stalled = await manager.get_stalled_jobs(
        seconds_since_heartbeat=seconds or rt.settings.worker_stalled_seconds
    )
    counts = {"requeued": 0, "superseded": 0}
    for job in stalled:
        try:
            await manager.retry_job(job)
            counts["requeued"] += 1
        except pexc.ConnectorException:
            # a newer job for the same entity is pending: let it do the work
            await manager.finish_job(job, status=Status.ABORTED, delete_job=False)
            counts["superseded"] += 1
    if stalled:
        log.warning("stalled_jobs_recovered", **counts)
    return counts


@blueprint.task(name=RETRAIN, queue=RETRAIN_QUEUE)
def retrain(force: bool = False, trigger: str = "admin") -> None:
    """Retrain from feedback behind the evaluation gate (enqueued by
    `matching.request_retrain`; at most one pending)."""
    from matching.training.retrain import TrainingPipeline

    if trigger not in ("admin", "schedule", "cli"):
        raise ValueError(f"unknown trigger {trigger!r}")
    rt = get_runtime()
    report = TrainingPipeline(rt.conninfo, rt.settings).run_training(
        force=bool(force), trigger=trigger
    )
    TASKS.labels(RETRAIN, report.status).inc()
    log.info(
        "retrain",
        status=report.status,
        reason=report.reason,
        candidate=report.candidate_version,
        previous=report.previous_version,
        seconds=round(report.seconds, 2),
    )


@blueprint.periodic(cron="0 3 * * 1", periodic_id=WEEKLY_RETRAIN)
@blueprint.task(name=WEEKLY_RETRAIN, queue=RETRAIN_QUEUE)
def weekly_retrain(timestamp: int) -> None:
    """Mondays 03:00: retrain if a week has passed since the last training."""
    retrain(force=False, trigger="schedule")
