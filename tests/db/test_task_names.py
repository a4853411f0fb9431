"""Every task the SQL enqueues is a task the worker registers, on the same queue.

Task names are written twice by nature: the migrations' functions insert
jobs ("matching:<task>") and the worker registers tasks under its namespace.
A rename on one side only would leave jobs that no worker runs. These tests
read the names from the live database (the bodies of the migrated
functions, and the jobs a real edit enqueues) and compare them with the
worker app's registered tasks and with `matching.side`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from matching.side import JOB, SIDES, TALENT, TASK_NAMESPACE
from matching.synthetic.seed import seed

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent

# enqueue_jobs('<task>', '<queue>', ...) / enqueue_task('<task>', '<queue>', ...)
_CALL = re.compile(r"enqueue_(?:jobs|task)\(\s*'([a-z_]+)'\s*,\s*'([a-z_]+)'")
# a direct insert: values ('<queue>', 'matching:<task>', ...)
_INSERT = re.compile(r"\(\s*'([a-z_]+)'\s*,\s*'" + TASK_NAMESPACE + r":([a-z_]+)'")


@pytest.fixture(scope="module")
def registered() -> dict[str, str]:
    """Task name -> queue, as the worker app registers them.

    In a fresh interpreter: building the app renames the blueprint's tasks
    (procrastinate adds the namespace in place), so it is built once.
    """
    code = (
        "import json; from worker.app import build_app;"
        " app = build_app('postgresql:///never-opened');"
        " print(json.dumps({n: t.queue for n, t in app.tasks.items()}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def enqueued(db_url: str) -> set[tuple[str, str]]:
    """(task name, queue) of every literal enqueue in the migrated functions."""
    with psycopg.connect(db_url) as conn:
        bodies = [
            r[0]
            for r in conn.execute(
                "select p.prosrc from pg_catalog.pg_proc p"
                " join pg_catalog.pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname not in ('procrastinate', 'pg_catalog', 'information_schema')"
                "   and (p.prosrc like '%enqueue_%' or p.prosrc like '%procrastinate_jobs%')"
            )
        ]
    found = set()
    for body in bodies:
        found |= {(f"{TASK_NAMESPACE}:{task}", queue) for task, queue in _CALL.findall(body)}
        found |= {(f"{TASK_NAMESPACE}:{task}", queue) for queue, task in _INSERT.findall(body)}
    return found


def test_the_sql_enqueues_the_tasks_it_is_known_to(enqueued):
    # the parser finds something: the rematches, bulk work and retraining
    names = {name for name, _ in enqueued}
    assert {TALENT.task_name, JOB.task_name, "matching:retrain"} <= names, enqueued


def test_every_task_the_sql_enqueues_is_registered_on_its_queue(enqueued, registered):
    for name, queue in sorted(enqueued):
        assert name in registered, f"the SQL enqueues {name!r}, which no worker task handles"
        assert registered[name] == queue, (name, queue, registered[name])


def test_the_sides_tasks_are_registered(registered):
    for side in SIDES.values():
        assert registered[side.task_name] == side.queue


@pytest.fixture(scope="module")
def market(db_url: str) -> str:
    seed(db_url, seed=11, n_talents=20, n_jobs=20)
    return db_url


@pytest.mark.parametrize("side", [TALENT, JOB], ids=lambda s: s.kind)
def test_a_rematch_job_carries_the_sides_task_queue_and_locks(market, side, registered):
    """`matching.enqueue_rematch` is what every trigger and reconciliation calls."""
    with psycopg.connect(market) as conn:
        entity = conn.execute(
            sql.SQL("select id from {} order by id limit 1").format(
                sql.Identifier("public", side.table)
            )
        ).fetchone()[0]
        conn.execute("select matching.enqueue_rematch(%s, array[%s::uuid])", (side.kind, entity))
        row = conn.execute(
            "select task_name, queue_name, lock, queueing_lock, args"
            " from procrastinate.procrastinate_jobs"
            " where status = 'todo' and task_name = %s and args ->> %s = %s",
            (side.task_name, side.task_arg, str(entity)),
        ).fetchone()
        conn.rollback()
    assert row is not None
    task_name, queue, lock, queueing_lock, args = row
    assert registered[task_name] == queue == side.queue
    assert lock == side.lock(entity)
    assert queueing_lock == side.queueing_lock(entity)
    assert args == {side.task_arg: str(entity)}
