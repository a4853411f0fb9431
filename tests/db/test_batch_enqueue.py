"""Which bulk re-rank batches coalesce in the queue: only identical ones.

A batch that yields to an edit hands its remaining entities back as a new
batch. It must not disappear into a pending batch that merely starts with
the same entity (an overlapping re-rank's), or those entities are never
re-ranked by it.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest

from matching.side import TALENT
from worker.tasks import REMATCH_BATCH, enqueue_batches

pytestmark = pytest.mark.integration


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
