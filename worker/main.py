"""`matching worker`: logging, metrics and health, warm-up, stalled-job
recovery, reconciliation, then procrastinate's worker loop, supervised.

Why a supervisor: procrastinate 3.x stops its worker when a side task (the
LISTEN connection, the heartbeat) fails, and the listener fails as soon as
one reconnection attempt does; a failed job fetch ends the worker too. It
then returns normally, so a database restart used to end the process with
status 0 and nothing restarted it. The supervisor keeps one procrastinate
`Worker` running at a time: when it stops without being asked to (or its
loop raises), the supervisor waits with exponential backoff until the
database answers again, releases the jobs the dead loop still held, runs a
reconciliation pass and starts a fresh `Worker`. Only after
`db_reconnect_give_up_seconds` without a working loop does it give up, and
`matching worker` then exits with status 1 and a one-line reason.

procrastinate's own pieces are used where they exist: its pool checks
connections on checkout (`check_connection`), its listener reconnects after
a dropped connection while the server is up, `stalled_worker_timeout`
prunes dead workers, and `get_stalled_jobs`/`retry_job` requeue their jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import procrastinate
import psycopg
import structlog
from procrastinate.worker import Worker

from matching.db.queries import query
from matching.observability import (
    ACTIVE_MODEL,
    DB_CONNECTED,
    DB_OUTAGES,
    EMBEDDING_CACHE_HIT_RATIO,
    FALLBACK_SHARE,
    HEALTH,
    OLDEST_PENDING,
    QUEUE_DEPTH,
    RECONCILE_QUEUED,
    RECONCILE_SECONDS,
    configure_logging,
    serve_metrics,
)
from matching.pipeline.reconcile import reconcile
from matching.queues import QUEUES
from matching.retrieval import store as embedding_store
from matching.settings import Settings
from matching.side import JOB
from worker.app import build_app
from worker.runtime import get_runtime
from worker.tasks import requeue_stalled

log = structlog.get_logger(__name__)

__all__ = ["QUEUES", "Reconciler", "Supervisor", "WorkerGaveUp", "run", "warm_up"]
#: a loop that ran at least this long counts as recovered (resets the backoff)
STABLE_RUN_SECONDS = 10.0
FIRST_RETRY_DELAY = 0.5


class WorkerGaveUp(RuntimeError):
    """The database stayed unreachable past `db_reconnect_give_up_seconds`."""


def one_line(exc: BaseException, limit: int = 300) -> str:
    """An error as one short line (psycopg messages span several)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:limit]


def warm_up() -> None:
    """Load the model and embed the open jobs' texts into the cache, so the
    first rematch after a start is not the slow one."""
    rt = get_runtime()
    started = time.perf_counter()
    with rt.pool.connection() as conn:
        model = rt.active_model.get(conn)
        ids = [r[0] for r in conn.execute(query("market_ids").format(**JOB.identifiers()))]
        texts = embedding_store.texts(conn, JOB, ids)
    rt.embedder.warm(list(texts.values()))
    log.info(
        "worker_warm",
        model_version=model.version if model else None,
        jobs=len(ids),
        seconds=round(time.perf_counter() - started, 2),
    )


def _one(conn: psycopg.Connection, name: str) -> Any:
    """The single value of a one-row named query."""
    row = conn.execute(query(name)).fetchone()
    assert row is not None
    return row[0]


def refresh_metrics_forever(interval: float = 15.0) -> None:
    rt = get_runtime()
    while True:
        try:
            with rt.pool.connection() as conn:
                depths = dict.fromkeys(QUEUES, 0)  # an emptied queue reads 0, not its last depth
                depths.update(conn.execute(query("queue_depth")).fetchall())
                for queue, depth in depths.items():
                    QUEUE_DEPTH.labels(queue).set(depth)
                OLDEST_PENDING.set(float(_one(conn, "oldest_pending")))
                FALLBACK_SHARE.set(float(_one(conn, "fallback_share")))
                model = rt.active_model.get(conn)
            ACTIVE_MODEL.clear()
            if model is not None:
                ACTIVE_MODEL.labels(model.version).set(1)
            EMBEDDING_CACHE_HIT_RATIO.set(rt.embedder.hit_ratio)
        except Exception as exc:  # metrics must never take the worker down
            log.warning("metrics_refresh_failed", error=one_line(exc))
        time.sleep(interval)


class Reconciler:
    """Runs reconciliation passes in a thread: when asked (start, reconnect)
    and every `interval` seconds (never periodically when 0)."""

    def __init__(self, interval: float, batch_size: int) -> None:
        self.interval = interval
        self.batch_size = batch_size
        self._wake = threading.Event()

    def request(self) -> None:
        self._wake.set()

    def start(self) -> None:
        threading.Thread(target=self._forever, name="reconcile", daemon=True).start()

    def _forever(self) -> None:
        while True:
            self._wake.wait(self.interval or None)
            self._wake.clear()
            self.run_once()

    def run_once(self) -> None:
        rt = get_runtime()
        try:
            with rt.pool.connection() as conn:
                report = reconcile(conn, self.batch_size)
        except Exception as exc:  # the next pass (or reconnect) tries again
            log.warning("reconcile_failed", error=one_line(exc))
            return
        if not report.ran:
            log.info("reconcile_skipped", reason="another pass is running")
            return
        RECONCILE_SECONDS.observe(report.seconds)
        for kind, queued in report.queued.items():
            RECONCILE_QUEUED.labels(kind).inc(queued)
        log_event = log.warning if sum(report.queued.values()) else log.info
        log_event(
            "reconcile",
            stale=report.stale,
            queued=report.queued,
            batches=report.batches,
            seconds=round(report.seconds, 3),
        )


class Supervisor:
    """Keeps one procrastinate Worker running through database outages."""

    def __init__(
        self,
        app: procrastinate.App,
        settings: Settings,
        queues: list[str],
        concurrency: int,
        reconciler: Reconciler,
    ) -> None:
        self.app = app
        self.settings = settings
        self.queues = queues
        self.concurrency = concurrency
        self.reconciler = reconciler
        self.stopping = False
        self._stop_event = asyncio.Event()
        self._current: Worker | None = None
        self._dead_worker_id: int | None = None
        self._opened = False
        self._warmed = threading.Event()
        self._warming: threading.Thread | None = None

    def request_stop(self) -> None:
        """SIGTERM/SIGINT: finish the running jobs, then exit 0."""
        if not self.stopping:
            log.info("worker_stop_requested")
        self.stopping = True
        self._stop_event.set()
        if self._current is not None:
            stop: Callable[[], None] = self._current.stop  # unannotated upstream
            stop()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.request_stop)
        try:
            await self._supervise()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            if self._opened:
                try:
                    await asyncio.wait_for(self.app.close_async(), 10)
                except Exception as exc:
                    log.warning("worker_close_failed", error=one_line(exc))

    async def _supervise(self) -> None:
        s = self.settings
        outage_since: float | None = None
        delay = FIRST_RETRY_DELAY
        while not self.stopping:
            started = time.monotonic()
            try:
                await self._connect()
                if outage_since is not None:
                    DB_OUTAGES.inc()
                    log.warning(
                        "worker_reconnected",
                        down_seconds=round(time.monotonic() - outage_since, 1),
                    )
                self.reconciler.request()
                await self._run_worker()
                if self.stopping:
                    break
                error = "the job loop stopped on its own (a side task lost the database)"
            except Exception as exc:
                if self.stopping:
                    break
                error = one_line(exc)
            DB_CONNECTED.set(0)
            now = time.monotonic()
            if outage_since is None or now - started >= STABLE_RUN_SECONDS:
                # a new outage: until now the loop was working (or never ran);
                # short-lived loops (a flapping server) keep the clock running
                outage_since, delay = now, FIRST_RETRY_DELAY
            down_for = now - outage_since
            HEALTH.down(f"reconnecting to the database for {down_for:.0f} s: {error}")
            give_up = s.db_reconnect_give_up_seconds
            if give_up and down_for >= give_up:
                raise WorkerGaveUp(
                    f"database unusable for {down_for:.0f} s"
                    f" (db_reconnect_give_up_seconds={give_up:g}); last error: {error}"
                )
            log.warning(
                "worker_reconnecting",
                error=error,
                down_seconds=round(down_for, 1),
                retry_in_seconds=round(delay, 2),
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_event.wait(), delay)
            delay = min(delay * 2, s.db_reconnect_max_delay_seconds)

    async def _connect(self) -> None:
        """Everything a fresh job loop needs, in order; raises while the
        database is unusable."""
        # a direct probe first: opening procrastinate's pool against a dead
        # server would wait its full timeout
        conninfo = get_runtime().conninfo
        probe = await psycopg.AsyncConnection.connect(conninfo, connect_timeout=5, autocommit=True)
        async with probe:
            await probe.execute(query("probe"))
        if not self._opened:
            try:
                await self.app.open_async()
            except BaseException:
                # a pool that failed to fill is closed: forget it, retry later
                await self.app.close_async()
                raise
            self._opened = True
        self._warm_up_in_background()
        if self._dead_worker_id is not None:
            # the previous loop could not unregister: do it now, which
            # detaches its jobs (worker_id set null) so they read as stalled
            await self.app.job_manager.unregister_worker(self._dead_worker_id)
            log.warning("dead_worker_unregistered", worker_id=self._dead_worker_id)
            self._dead_worker_id = None
        await requeue_stalled(self.app)

    def _warm_up_in_background(self) -> None:
        """Warm-up (model, job-text cache) beside the job loop, not before it:
        after a crash or a restart, edits that need no new embedding are
        served at once instead of after the model has loaded."""
        if self._warmed.is_set() or (self._warming is not None and self._warming.is_alive()):
            return

        def warm() -> None:
            try:
                warm_up()
                self._warmed.set()
            except Exception as exc:  # the next (re)connect tries again
                log.warning("worker_warm_failed", error=one_line(exc))

        self._warming = threading.Thread(target=warm, name="warm-up", daemon=True)
        self._warming.start()

    async def _run_worker(self) -> None:
        s = self.settings
        options: dict[str, Any] = {
            **self.app.worker_defaults,
            "queues": self.queues,
            "concurrency": self.concurrency,
            "name": "matching-worker",
            # the supervisor owns SIGTERM/SIGINT: a signal must end the
            # process, a lost database must not
            "install_signal_handlers": False,
        }
        worker = Worker(app=self.app, **options)
        self._current = worker
        probe = asyncio.create_task(self._probe_forever(s.worker_heartbeat_seconds))
        # A worker that died just before this start (SIGKILL, OOM, a restart
        # by the container runtime) still looks alive until its heartbeat is
        # `worker_stalled_seconds` old; look again then instead of waiting for
        # the minutely recovery task.
        later = asyncio.create_task(
            self._requeue_stalled_later(s.worker_stalled_seconds + s.worker_heartbeat_seconds)
        )
        try:
            if self.stopping:  # a signal arrived while connecting
                return
            log.info("worker_loop_starting", queues=self.queues, concurrency=self.concurrency)
            # no await between the check and run(): a signal handler runs only
            # at an await, and run() resets its stop flag before its first one
            run: Callable[[], Awaitable[None]] = worker.run  # unannotated upstream
            await run()
        finally:
            probe.cancel()
            later.cancel()
            self._current = None
            # still set when the loop ended without unregistering (database gone)
            self._dead_worker_id = worker.worker_id

    async def _requeue_stalled_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            await requeue_stalled(self.app)
        except Exception as exc:  # the periodic recovery task tries again
            log.warning("stalled_jobs_recovery_failed", error=one_line(exc))

    async def _probe_forever(self, interval: float) -> None:
        """Feeds /healthz: healthy while the loop runs and the database answers."""
        while True:
            try:
                # bounded: a pool waiting for a dead server must read as down
                await asyncio.wait_for(
                    self.app.connector.execute_query_one_async(query("probe").as_string()),
                    max(2.0, 2 * interval),
                )
                HEALTH.ok()
                DB_CONNECTED.set(1)
            except Exception as exc:
                HEALTH.down(f"database probe failed: {one_line(exc)}")
                DB_CONNECTED.set(0)
            await asyncio.sleep(interval)


def run(settings: Settings, queues: list[str] | None, concurrency: int) -> None:
    """Run the supervised worker until SIGTERM/SIGINT (returns) or until the
    database stays unusable past the give-up time (raises WorkerGaveUp)."""
    configure_logging(settings.log_level)
    HEALTH.max_age = max(3 * settings.worker_heartbeat_seconds, 15.0)
    if serve_metrics(settings.metrics_port):
        log.info("metrics_serving", port=settings.metrics_port, health="/healthz")
    rt = get_runtime()
    app = build_app(rt.conninfo, settings)
    threading.Thread(target=refresh_metrics_forever, name="metrics", daemon=True).start()
    reconciler = Reconciler(settings.reconcile_interval_seconds, settings.reconcile_batch_size)
    reconciler.start()
    chosen = queues or list(QUEUES)
    log.info("worker_starting", queues=chosen, concurrency=concurrency)
    supervisor = Supervisor(app, settings, chosen, concurrency, reconciler)
    asyncio.run(supervisor.run())
    log.info("worker_stopped")
