"""`matching worker`: logging, metrics, warm-up, stalled-job recovery, then
procrastinate's worker loop."""

from __future__ import annotations

import asyncio
import threading
import time

import structlog

from matching import embedding_store
from matching.observability import (
    ACTIVE_MODEL,
    EMBEDDING_CACHE_HIT_RATIO,
    FALLBACK_SHARE,
    OLDEST_PENDING,
    QUEUE_DEPTH,
    configure_logging,
    serve_metrics,
)
from matching.settings import Settings
from worker.app import build_app
from worker.runtime import get_runtime
from worker.tasks import requeue_stalled

log = structlog.get_logger(__name__)

QUEUES = ("rematch", "maintenance", "retrain")
# age of the oldest runnable job, from procrastinate's 'deferred' events
OLDEST_PENDING_SQL = """
    select coalesce(extract(epoch from now() - min(e.at)), 0)
    from procrastinate.procrastinate_jobs j
    join procrastinate.procrastinate_events e on e.job_id = j.id and e.type = 'deferred'
    where j.status = 'todo' and (j.scheduled_at is null or j.scheduled_at <= now())
"""


def warm_up() -> None:
    """Load the model and embed the open jobs' texts into the cache, so the
    first rematch after a start is not the slow one."""
    rt = get_runtime()
    started = time.perf_counter()
    with rt.pool.connection() as conn:
        model = rt.active_model.get(conn)
        ids = [r[0] for r in conn.execute("select id from public.jobs where status = 'open'")]
        texts = embedding_store.job_texts(conn, ids)
    rt.embedder.warm(list(texts.values()))
    log.info(
        "worker_warm",
        model_version=model.version if model else None,
        jobs=len(ids),
        seconds=round(time.perf_counter() - started, 2),
    )


def refresh_metrics_forever(interval: float = 15.0) -> None:
    rt = get_runtime()
    while True:
        try:
            with rt.pool.connection() as conn:
                for queue, depth in conn.execute(
                    "select queue_name, count(*) from procrastinate.procrastinate_jobs"
                    " where status = 'todo' group by queue_name"
                ):
                    QUEUE_DEPTH.labels(queue).set(depth)
                oldest = conn.execute(OLDEST_PENDING_SQL).fetchone()[0]
                OLDEST_PENDING.set(float(oldest))
                share = conn.execute(
                    "select coalesce(avg((source = 'fallback')::int), 0) from public.matches"
                    " where computed_at > now() - interval '1 hour'"
                ).fetchone()[0]
                FALLBACK_SHARE.set(float(share))
                model = rt.active_model.get(conn)
            ACTIVE_MODEL.clear()
            if model is not None:
                ACTIVE_MODEL.labels(model.version).set(1)
            EMBEDDING_CACHE_HIT_RATIO.set(rt.embedder.hit_ratio)
        except Exception as exc:  # metrics must never take the worker down
            log.warning("metrics_refresh_failed", error=str(exc))
        time.sleep(interval)


def run(settings: Settings, queues: list[str] | None, concurrency: int) -> None:
    configure_logging(settings.log_level)
    if serve_metrics(settings.metrics_port):
        log.info("metrics_serving", port=settings.metrics_port)
    rt = get_runtime()
    app = build_app(rt.pool.conninfo, settings)
    warm_up()
    threading.Thread(target=refresh_metrics_forever, name="metrics", daemon=True).start()

    async def main() -> None:
        async with app.open_async():
            await requeue_stalled(app)
            await app.run_worker_async(
                queues=queues or list(QUEUES),
                concurrency=concurrency,
                name="matching-worker",
            )

    log.info("worker_starting", queues=queues or list(QUEUES), concurrency=concurrency)
    asyncio.run(main())
