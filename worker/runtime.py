"""What a worker process holds: a connection pool, the embedder, the active
model and the ranking pipeline. Built once, on first use, per process.

The pool checks each connection when it is handed out: after a database
restart every pooled connection is dead, and without the check the first
query on each (a task's write, or the retry bookkeeping after it) would fail.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from psycopg_pool import ConnectionPool

from matching.db.connection import resolve_url
from matching.pipeline.ranking import RankingPipeline
from matching.retrieval.embedder import TextEmbedder
from matching.scoring.registry import ActiveModel
from matching.settings import Settings, get_settings


@dataclass
class Runtime:
    settings: Settings
    pool: ConnectionPool
    embedder: TextEmbedder
    active_model: ActiveModel
    pipeline: RankingPipeline

    @property
    def conninfo(self) -> str:
        """The pool's connection string, for connections of their own."""
        info = self.pool.conninfo
        return info if isinstance(info, str) else info()


#: seconds a caller waits for a pooled connection before PoolTimeout (transient)
POOL_TIMEOUT = 10.0

_lock = threading.Lock()
_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    global _runtime
    with _lock:
        if _runtime is None:
            settings = get_settings()
            pool = ConnectionPool(
                resolve_url(settings),
                min_size=1,
                max_size=settings.db_pool_size,
                kwargs={"autocommit": True, "connect_timeout": 10},
                open=True,
                name="matching-worker",
                # a connection the server dropped (restart, failover, idle
                # timeout) is replaced on checkout instead of failing the
                # next query; the pool reconnects in the background with
                # its own backoff
                check=ConnectionPool.check_connection,
                reconnect_timeout=settings.pool_reconnect_timeout,
                timeout=POOL_TIMEOUT,
            )
            embedder = TextEmbedder()
            active = ActiveModel()
            _runtime = Runtime(
                settings=settings,
                pool=pool,
                embedder=embedder,
                active_model=active,
                pipeline=RankingPipeline(pool, embedder, active, settings),
            )
        return _runtime
