"""Structured logs, Prometheus metrics and the health endpoint of the worker.

One module so metric names are defined once. Logs are JSON lines (one
event per rematch with per-stage timings); metrics (`/metrics`) and the
health check (`/healthz`) are served by the worker on `settings.metrics_port`.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

TASKS = Counter("matching_tasks_total", "Tasks run by the worker.", ["task", "outcome"])
STAGE_SECONDS = Histogram(
    "matching_stage_seconds",
    "Time per ranking pipeline stage.",
    ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REMATCH_SECONDS = Histogram(
    "matching_rematch_seconds",
    "Time of a whole rematch, load to write.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REMATCH_BATCH_SECONDS = Histogram(
    "matching_rematch_batch_seconds",
    "Time of a whole bulk re-rank batch (rematch_batch), load to last write.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
EMBEDDING_CACHE_HIT_RATIO = Gauge(
    "matching_embedding_cache_hit_ratio", "Share of embedding requests served from the cache."
)
ACTIVE_MODEL = Gauge(
    "matching_active_model_info", "The model version in use (value 1).", ["version"]
)
FALLBACK_SHARE = Gauge(
    "matching_fallback_share", "Share of match rows written in the last hour by the fallback."
)
QUEUE_DEPTH = Gauge("matching_queue_depth", "Jobs waiting (todo) per queue.", ["queue"])
OLDEST_PENDING = Gauge(
    "matching_oldest_pending_seconds", "Age of the oldest job waiting to run (0 when none)."
)
COUNTERPARTS_SKIPPED = Counter(
    "matching_counterparts_skipped_total",
    "Counterparts left out of a rematch because their stored data cannot be featurised.",
    ["kind"],
)
RECONCILE_QUEUED = Counter(
    "matching_reconcile_queued_total",
    "Rematch jobs enqueued by reconciliation (edits whose own job was lost).",
    ["kind"],
)
RECONCILE_SECONDS = Histogram(
    "matching_reconcile_seconds",
    "Time of one reconciliation pass over both entity tables.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
DB_OUTAGES = Counter(
    "matching_db_outages_total",
    "Times the worker lost the database and restarted its loop after reconnecting.",
)
DB_CONNECTED = Gauge(
    "matching_db_connected", "1 while the worker's job loop runs against the database, else 0."
)


def configure_logging(level: str = "INFO") -> None:
    """JSON logs on stderr, for the worker and anything it calls."""
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


class Health:
    """What `/healthz` answers: the worker's own view of whether it is working.

    The worker loop calls `ok()` whenever it has just talked to the database
    (a probe every heartbeat) and `down(reason)` while it is reconnecting.
    Healthy = the last `ok()` is younger than `max_age` seconds.
    """

    def __init__(self, max_age: float = 30.0) -> None:
        self.max_age = max_age
        self._lock = threading.Lock()
        self._last_ok: float | None = None
        self._reason = "starting"

    def ok(self) -> None:
        with self._lock:
            self._last_ok = time.monotonic()
            self._reason = ""

    def down(self, reason: str) -> None:
        with self._lock:
            self._reason = reason

    def status(self) -> tuple[bool, str]:
        with self._lock:
            if self._reason:
                return False, self._reason
            if self._last_ok is None:
                return False, "starting"
            age = time.monotonic() - self._last_ok
            if age > self.max_age:
                return False, f"no database contact for {age:.0f} s"
            return True, "ok"


HEALTH = Health()


def _handler(health: Callable[[], tuple[bool, str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                healthy, reason = health()
                body = json.dumps({"healthy": healthy, "reason": reason}).encode()
                self._send(200 if healthy else 503, "application/json", body)
            elif path in ("/metrics", "/"):
                self._send(200, CONTENT_TYPE_LATEST, generate_latest())
            else:
                self._send(404, "text/plain", b"not found\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # health checks every few seconds would flood the log

    return Handler


def serve_metrics(port: int, health: Health | None = None) -> bool:
    """Serve /metrics and /healthz on `port` in a daemon thread; False when disabled (0)."""
    if port <= 0:
        return False
    server = ThreadingHTTPServer(("", port), _handler((health or HEALTH).status))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    return True
