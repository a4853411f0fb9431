"""The worker's tasks. Thin: each one calls into `matching`.

Registered on the app under the namespace "matching", so the SQL that
enqueues them (matching.enqueue_jobs / enqueue_task) names them
"matching:<task>".

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
from matching.observability import REMATCH_SECONDS, STAGE_SECONDS, TASKS
from matching.pipeline.ranking import RematchResult
from matching.retrieval import store as embedding_store
from worker.runtime import get_runtime

log = structlog.get_logger(__name__)

blueprint = procrastinate.Blueprint()

BATCH = 500
#: entities embedded per backfill job: small, so an edit waits ~1 s at most
BACKFILL_BATCH = 64
#: bulk work yields to edits (procrastinate runs higher priorities first)
BULK_PRIORITY = -10
#: table and "still in the market" condition per entity kind (fixed strings)
MARKET = {
    "job": ("public.jobs", "status = 'open'"),
    "talent": ("public.talents", "open_to_work"),
}


def _market_batch(conn: psycopg.Connection, kind: str, after: str | None, limit: int) -> list:
    """The next `limit` ids (by id, after the cursor) of entities in the market."""
    table, alive = MARKET[kind]
    return [
        r[0]
        for r in conn.execute(
            f"select id from {table} where {alive} and (%s::uuid is null or id > %s::uuid)"
            " order by id limit %s",
            (after, after, limit),
        )
    ]


def _parse_uuid(value: str, name: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ValueError(f"{name} is not a UUID: {value!r}") from None


def _rematch(kind: str, entity_id: str, attempt: int, run: Callable[[UUID], RematchResult]) -> None:
    task = f"rematch_{kind}"
    ident = _parse_uuid(entity_id, f"{kind}_id")
    rt = get_runtime()
    try:
        result = run(ident)
    except TRANSIENT_ERRORS as exc:
        if attempt + 1 >= rt.settings.retry_max_attempts:
            TASKS.labels(task, "failed").inc()
            raise
        delay = rt.settings.retry_base_seconds * 2**attempt
        _enqueue_retry(task, kind, ident, delay, attempt + 1)
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


def _enqueue_retry(task: str, kind: str, ident: UUID, delay: float, attempt: int) -> None:
    """Enqueue the retry, waiting for the database if it is gone (see the module
    docstring); raises the last error after `db_reconnect_give_up_seconds`."""
    rt = get_runtime()
    give_up = rt.settings.db_reconnect_give_up_seconds
    deadline = time.monotonic() + give_up if give_up else float("inf")
    wait = 0.25
    query = (
        "select matching.enqueue_jobs(%s, 'rematch', array[%s::uuid], %s, %s,"
        " now() + make_interval(secs => %s), jsonb_build_object('attempt', %s))"
    )
    params = (task, ident, kind, f"{kind}_id", delay, attempt)
    first = True
    while True:
        try:
            if first:
                # briefly: after a lost connection the pool has nothing to give
                with rt.pool.connection(timeout=1.0) as conn:
                    conn.execute(query, params)
            else:
                # after a failure, a connection of its own on our own capped
                # backoff: the pool may be waiting out a long reconnect delay
                with psycopg.connect(rt.pool.conninfo, autocommit=True, connect_timeout=5) as c:
                    c.execute(query, params)
            return
        except TRANSIENT_ERRORS as exc:
            first = False
            if time.monotonic() + wait > deadline:
                raise
            log.warning(
                "rematch_retry_waiting_for_database",
                kind=kind,
                entity_id=str(ident),
                retry_in_seconds=wait,
                error=" ".join(str(exc).split())[:200],
            )
            time.sleep(wait)
            wait = min(wait * 2, rt.settings.db_reconnect_max_delay_seconds)


@blueprint.task(name="rematch_talent", queue="rematch")
def rematch_talent(talent_id: str, attempt: int = 0) -> None:
    """Re-embed (if its text changed) and rematch one talent."""
    _rematch("talent", talent_id, attempt, get_runtime().pipeline.rematch_talent)


@blueprint.task(name="rematch_job", queue="rematch")
def rematch_job(job_id: str, attempt: int = 0) -> None:
    """Re-embed (if its text changed) and rematch one job."""
    _rematch("job", job_id, attempt, get_runtime().pipeline.rematch_job)


@blueprint.task(name="backfill", queue="maintenance")
def backfill(kind: str = "job", after: str | None = None, then_rematch: bool = True) -> None:
    """Embed every entity whose embedding is missing or stale, one batch per job.

    Jobs first (talent matching searches the job index), then talents; each
    batch re-enqueues the task with a cursor, so the queue stays responsive.
    At the end it starts `rematch_all` unless told not to.
    """
    if kind not in ("job", "talent"):
        raise ValueError(f"kind must be job or talent, got {kind!r}")
    rt = get_runtime()
    started = time.perf_counter()
    with rt.pool.connection() as conn:
        ids = _market_batch(conn, kind, after, BACKFILL_BATCH)
        embedded = embedding_store.ensure_embeddings(conn, rt.embedder, kind, ids) if ids else 0
        if len(ids) == BACKFILL_BATCH:
            nxt = {"kind": kind, "after": str(ids[-1]), "then_rematch": then_rematch}
        elif kind == "job":
            nxt = {"kind": "talent", "after": None, "then_rematch": then_rematch}
        else:
            nxt = None
        if nxt is not None:
            conn.execute(
                "select matching.enqueue_task('backfill', 'maintenance', 'backfill', %s, null, %s)",
                (psycopg.types.json.Jsonb(nxt), BULK_PRIORITY),
            )
        elif then_rematch:
            conn.execute(
                "select matching.enqueue_task('rematch_all', 'maintenance', 'rematch_all',"
                " %s, null, %s)",
                (psycopg.types.json.Jsonb({"kind": "talent"}), BULK_PRIORITY),
            )
    TASKS.labels("backfill", "ok").inc()
    log.info(
        "backfill_batch",
        kind=kind,
        entities=len(ids),
        embedded=embedded,
        seconds=round(time.perf_counter() - started, 3),
    )


@blueprint.task(name="rematch_all", queue="maintenance")
def rematch_all(kind: str = "talent", after: str | None = None) -> None:
    """Enqueue a rematch for every entity in the market, a batch per job.

    Used after a model change: reads keep serving the stored scores until
    each pair is rescored, and edits keep priority since they share the
    rematch queue with these jobs one batch at a time.
    """
    if kind not in ("job", "talent"):
        raise ValueError(f"kind must be job or talent, got {kind!r}")
    rt = get_runtime()
    with rt.pool.connection() as conn:
        ids = _market_batch(conn, kind, after, BATCH)
        queued = (
            conn.execute(
                "select matching.enqueue_rematch(%s, %s, %s)", (kind, ids, BULK_PRIORITY)
            ).fetchone()[0]
            if ids
            else 0
        )
        if len(ids) == BATCH:
            nxt = {"kind": kind, "after": str(ids[-1])}
        elif kind == "talent":
            nxt = {"kind": "job", "after": None}
        else:
            nxt = None
        if nxt is not None:
            conn.execute(
                "select matching.enqueue_task('rematch_all', 'maintenance', 'rematch_all', %s,"
                " null, %s)",
                (psycopg.types.json.Jsonb(nxt), BULK_PRIORITY),
            )
    TASKS.labels("rematch_all", "ok").inc()
    log.info("rematch_all_batch", kind=kind, entities=len(ids), queued=queued)


@blueprint.periodic(cron="17 * * * *", periodic_id="purge_api_counters")
@blueprint.task(name="purge_api_counters", queue="maintenance")
def purge_api_counters(timestamp: int) -> None:
    """Hourly: drop expired rate-limit windows and old serving statistics."""
    with get_runtime().pool.connection() as conn:
        purged = conn.execute("select matching.purge_api_counters()").fetchone()[0]
    log.info("api_counters_purged", rows=purged)


@blueprint.periodic(cron="* * * * *", periodic_id="recover_stalled_jobs")
@blueprint.task(name="recover_stalled_jobs", queue="maintenance", pass_context=True)
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


@blueprint.task(name="retrain", queue="retrain")
def retrain(force: bool = False, trigger: str = "admin") -> None:
    """Retrain from feedback behind the evaluation gate (enqueued by
    `matching.request_retrain`; at most one pending)."""
    from matching.training.retrain import TrainingPipeline

    if trigger not in ("admin", "schedule", "cli"):
        raise ValueError(f"unknown trigger {trigger!r}")
    rt = get_runtime()
    report = TrainingPipeline(rt.pool.conninfo, rt.settings).run_training(
        force=bool(force), trigger=trigger
    )
    TASKS.labels("retrain", report.status).inc()
    log.info(
        "retrain",
        status=report.status,
        reason=report.reason,
        candidate=report.candidate_version,
        previous=report.previous_version,
        seconds=round(report.seconds, 2),
    )


@blueprint.periodic(cron="0 3 * * 1", periodic_id="weekly_retrain")
@blueprint.task(name="weekly_retrain", queue="retrain")
def weekly_retrain(timestamp: int) -> None:
    """Mondays 03:00: retrain if a week has passed since the last training."""
    retrain(force=False, trigger="schedule")
