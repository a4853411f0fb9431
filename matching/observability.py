"""Structured logs and Prometheus metrics of the worker.

One module so metric names are defined once. Logs are JSON lines (one
event per rematch with per-stage timings); metrics are served by the worker
on `settings.metrics_port`.
"""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import Counter, Gauge, Histogram, start_http_server

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


def serve_metrics(port: int) -> bool:
    """Start the /metrics endpoint; False when disabled (port 0)."""
    if port <= 0:
        return False
    start_http_server(port)
    return True
