"""Reconciliation: no edit is lost, whatever happened to its job.

An edit's trigger enqueues a rematch, but a job can still be lost: the
trigger could not enqueue (recorded in matching.enqueue_failures, the user's
write went through), the job failed after its retries while the database
flapped, or the queue was restored from an older backup. Every rematch
records the data version it read (matching.*_rematch_marks, written with its
match rows), so the entities whose current version no rematch has seen can
be found and enqueued again. `matching.reconcile_batch` does one keyset batch
of the primary key in SQL; this module walks both tables.

One pass at a time across all workers (a session advisory lock, released
with the connection if the worker dies): two workers starting together do not
scan twice. Enqueueing coalesces with pending jobs, so a pass that races an
edit's own job costs nothing.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import psycopg
import structlog

from matching.db.queries import query
from matching.side import JOB, TALENT

log = structlog.get_logger(__name__)

#: pg_advisory_lock key of the reconciliation pass (any fixed bigint; "rcnc")
LOCK_KEY = 0x72636E63


@dataclass
class ReconcileReport:
    """What one pass found: per kind, stale entities and jobs actually inserted."""

    ran: bool
    stale: dict[str, int] = field(default_factory=dict)
    queued: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0


def reconcile(conn: psycopg.Connection, batch_size: int = 5000) -> ReconcileReport:
    """Enqueue a rematch for every entity with an edit no rematch has seen.

    `conn` must be in autocommit mode: each batch is its own short
    transaction, so a pass over 100k entities never holds locks or a snapshot
    for long. Returns ran=False when another pass holds the lock.
    """
    if not conn.autocommit:
        raise ValueError("reconcile needs an autocommit connection (one transaction per batch)")
    started = time.perf_counter()
    got = conn.execute(query("reconcile_try_lock"), (LOCK_KEY,)).fetchone()
    if not (got and got[0]):
        return ReconcileReport(ran=False)
    report = ReconcileReport(ran=True)
    try:
        # jobs first: talents' rematches search the job index
        for kind in (JOB.kind, TALENT.kind):
            report.stale[kind] = report.queued[kind] = 0
            after = None
            while True:
                row = conn.execute(query("reconcile_batch"), (kind, after, batch_size)).fetchone()
                assert row is not None
                after, stale, queued = row
                report.batches += 1
                report.stale[kind] += stale
                report.queued[kind] += queued
                if after is None:
                    break
    finally:
        # a lost connection released the lock already
        with contextlib.suppress(psycopg.Error):
            conn.execute(query("reconcile_unlock"), (LOCK_KEY,))
    report.seconds = time.perf_counter() - started
    return report
