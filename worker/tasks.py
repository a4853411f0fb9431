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

When the connection is lost, the re-enqueue itself needs the database: it
waits for it (pool connections are checked on checkout, attempts back off)
up to `db_reconnect_give_up_seconds`, so an outage never turns a user's edit
into a failed job. If the process dies first, the job is left `doing` and
stalled-job recovery requeues it; if it fails anyway, reconciliation finds
the edit (its data version was never marked).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

import procrastinate
import psycopg
import structlog
from procrastinate import exceptions as pexc
from procrastinate.jobs import Status

from matching.db.connection import TRANSIENT_ERRORS
from matching.db.queries import query
from matching.observability import REMATCH_SECONDS, STAGE_SECONDS, TASKS
from matching.pipeline.ranking import RematchResult
from matching.retrieval import store as embedding_store
from matching.side import JOB, REMATCH_QUEUE, TALENT, Side, side_of
from worker.runtime import get_runtime

log = structlog.get_logger(__name__)

blueprint = procrastinate.Blueprint()

BATCH = 500
#: entities embedded per backfill job: small, so an edit waits ~1 s at most
BACKFILL_BATCH = 64
#: bulk work yields to edits (procrastinate runs higher priorities first)
BULK_PRIORITY = -10

#: queues besides `REMATCH_QUEUE` (the rematch tasks' own, see `Side.queue`)
MAINTENANCE_QUEUE = "maintenance"
RETRAIN_QUEUE = "retrain"
QUEUES = (REMATCH_QUEUE, MAINTENANCE_QUEUE, RETRAIN_QUEUE)

#: task names besides the rematch tasks (`Side.task`)
BACKFILL = "backfill"
REMATCH_ALL = "rematch_all"
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
    rt = get_runtime()
    give_up = rt.settings.db_reconnect_give_up_seconds
    deadline = time.monotonic() + give_up if give_up else float("inf")
    wait = 0.25
    statement = query("enqueue_rematch_later")
    params = {
        "task": side.task,
        "queue": side.queue,
        "id": ident,
        "lock_prefix": side.kind,
        "arg": side.task_arg,
        "delay": delay,
        "attempt": attempt,
    }
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
                kind=side.kind,
                entity_id=str(ident),
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


@blueprint.task(name=REMATCH_ALL, queue=MAINTENANCE_QUEUE)
def rematch_all(kind: str = "talent", after: str | None = None) -> None:
    """Enqueue a rematch for every entity in the market, a batch per job.

    Used after a model change: reads keep serving the stored scores until
    each pair is rescored, and edits keep priority since they share the
    rematch queue with these jobs one batch at a time.
    """
    side = _side(kind)
    rt = get_runtime()
    with rt.pool.connection() as conn:
        ids = _market_batch(conn, side, after, BATCH)
        queued = 0
        if ids:
            row = conn.execute(query("enqueue_rematch"), (kind, ids, BULK_PRIORITY)).fetchone()
            queued = row[0] if row is not None else 0
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
    log.info("rematch_all_batch", kind=kind, entities=len(ids), queued=queued)


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
