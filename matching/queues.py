"""The procrastinate queues, by name: the worker listens on them, the tasks
and the SQL that enqueues jobs (`matching.enqueue_jobs`, query enqueue_batch)
put jobs on them, and `matching worker --queue` accepts only these.

Kept apart from the worker so the command line can check a name without
loading the model stack.
"""

from __future__ import annotations

#: per-entity rematches: edits, reconciliation, their retries
REMATCH_QUEUE = "rematch"
#: bulk re-rank batches (`rematch_batch`). Apart from `REMATCH_QUEUE` so a
#: worker started with `--queue rematch` is an edit lane: it never starts a
#: batch, so an edit never waits behind one's planning. A worker on every
#: queue (the default) still takes edits first: procrastinate fetches by
#: priority across the queues it listens on.
BULK_QUEUE = "rematch_bulk"
#: backfill, `rematch_all`, periodic housekeeping
MAINTENANCE_QUEUE = "maintenance"
#: retraining (long: a worker can be kept off it)
RETRAIN_QUEUE = "retrain"
#: every queue, the default of `matching worker`
QUEUES = (REMATCH_QUEUE, BULK_QUEUE, MAINTENANCE_QUEUE, RETRAIN_QUEUE)
