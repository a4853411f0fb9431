"""Which bulk re-rank batches coalesce in the queue: only identical ones.

A batch that yields to an edit hands its remaining entities back as a new
batch. It must not disappear into a pending batch that merely starts with
the same entity (an overlapping re-rank's), or those entities are never
re-ranked by it.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from matching.side import TALENT
from worker.tasks import REMATCH_BATCH, enqueue_batches

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def pending(conn: psycopg.Connection) -> list[list[str]]:
    rows = conn.execute(
        "select args -> 'ids' from procrastinate.procrastinate_jobs"
        " where task_name like %s and status = 'todo' order by id",
        (f"%{REMATCH_BATCH}",),
    ).fetchall()
    return [r[0] for r in rows]


def test_a_batch_with_the_same_first_entity_but_other_entities_is_kept(
    conn: psycopg.Connection,
) -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    assert enqueue_batches(conn, TALENT, [a, b, c], 3) == 1
    # a yielded remainder starting with the same entity
    assert enqueue_batches(conn, TALENT, [a, d], 2) == 1
    assert pending(conn) == [[str(a), str(b), str(c)], [str(a), str(d)]]


def test_an_identical_pending_batch_is_not_queued_twice(conn: psycopg.Connection) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    assert enqueue_batches(conn, TALENT, [a, b], 2) == 1
    assert enqueue_batches(conn, TALENT, [a, b], 2) == 0
    assert pending(conn) == [[str(a), str(b)]]


def test_batches_queued_on_the_rematch_queue_before_the_bulk_queue_are_moved(
    conn: psycopg.Connection,
) -> None:
    """migrations/20261203130000_bulk_queue.sql: a batch still waiting on the
    rematch queue (as enqueued before batches had their own) would be run by
    an edit lane; the migration moves it, and leaves edits where they are."""
    from matching.db.queries import query
    from matching.queues import BULK_QUEUE, REMATCH_QUEUE
    from worker.tasks import _batch_params

    old = _batch_params(TALENT, [uuid.uuid4(), uuid.uuid4()]) | {"queue": REMATCH_QUEUE}
    batch = conn.execute(query("enqueue_batch"), old).fetchone()[0]
    edit = conn.execute(
        "select matching.enqueue_task('rematch_talent', %s, %s, %s::jsonb)",
        (REMATCH_QUEUE, f"edit-{uuid.uuid4()}", '{"talent_id": "x"}'),
    ).fetchone()[0]
    conn.execute((ROOT / "migrations" / "20261203130000_bulk_queue.sql").read_text())
    queues = dict(
        conn.execute(
            "select id, queue_name from procrastinate.procrastinate_jobs where id = any(%s)",
            ([batch, edit],),
        ).fetchall()
    )
    assert queues == {batch: BULK_QUEUE, edit: REMATCH_QUEUE}
