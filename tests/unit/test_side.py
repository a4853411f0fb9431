"""The two sides of the market, as `matching.side` describes them (no database)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from matching.db import queries
from matching.queues import BULK_QUEUE, QUEUES, REMATCH_QUEUE
from matching.retrieval.embedder import job_text, talent_text
from matching.side import JOB, SIDES, TALENT, Side, TextParts, side_of


def test_sides_are_looked_up_by_kind():
    assert side_of("talent") is TALENT
    assert side_of("job") is JOB
    assert side_of(TALENT) is TALENT
    assert SIDES == {"talent": TALENT, "job": JOB}
    for bad in ("company", "", None, 3):
        with pytest.raises(ValueError, match="kind must be"):
            side_of(bad)  # type: ignore[arg-type]


def test_each_side_is_the_others_counterpart():
    assert TALENT.counterpart is JOB
    assert JOB.counterpart is TALENT


def test_orient_puts_the_talents_value_first():
    assert TALENT.orient("mine", "theirs") == ("mine", "theirs")
    assert JOB.orient("mine", "theirs") == ("theirs", "mine")


def test_task_names_and_locks_follow_the_sql_format():
    entity = uuid.UUID(int=7)
    assert TALENT.task_name == "matching:rematch_talent"
    assert JOB.task_name == "matching:rematch_job"
    assert TALENT.lock(entity) == f"talent:{entity}"
    assert TALENT.queueing_lock(entity) == f"rematch_talent:{entity}"
    assert JOB.task_arg == "job_id"


def test_the_worker_registers_each_sides_task_on_its_queue():
    from worker import tasks

    for side, task in ((TALENT, tasks.rematch_talent), (JOB, tasks.rematch_job)):
        assert task.queue == side.queue
        assert task.name.split(":")[-1] == side.task
    assert set(QUEUES) >= {TALENT.queue, JOB.queue}


def test_bulk_batches_have_their_own_queue_so_an_edit_lane_never_runs_one():
    from worker import tasks

    assert tasks.rematch_batch.queue == BULK_QUEUE
    assert BULK_QUEUE in QUEUES and BULK_QUEUE not in {TALENT.queue, JOB.queue}
    params = tasks._batch_params(TALENT, ["00000000-0000-0000-0000-000000000001"])
    assert params["queue"] == BULK_QUEUE
    # the rest of a yielded batch too (it is enqueued through the same path)
    rest = tasks._batch_params(TALENT, ["00000000-0000-0000-0000-000000000002"], priority=-9)
    assert rest["queue"] == BULK_QUEUE


def test_market_predicates_are_the_ones_the_migrations_use():
    assert TALENT.in_market("t").as_string() == '"t".open_to_work'
    assert JOB.in_market("j").as_string() == "(\"j\".status = 'open')"


def test_text_builders_are_the_embedding_templates():
    parts = TextParts(
        id=uuid.UUID(int=1),
        head="Backend Engineer",
        level="senior",
        body="Builds APIs.",
        in_market=True,
        skills=["Python", "SQL"],
        company="Acme",
    )
    assert TALENT.text(parts) == talent_text(
        "Backend Engineer", "senior", ["Python", "SQL"], "Builds APIs."
    )
    assert JOB.text(parts) == job_text(
        "Backend Engineer", "senior", ["Python", "SQL"], "Builds APIs.", "Acme"
    )


_PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
_SQL = Path(__file__).resolve().parents[2] / "matching" / "db" / "sql"


def _hot_path_queries() -> list[str]:
    """The named queries of matching/db/sql/{pipeline,store,worker}.sql."""
    names: list[str] = []
    for file in ("pipeline.sql", "store.sql", "worker.sql"):
        text = (_SQL / file).read_text(encoding="utf-8")
        names += re.findall(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", text, re.MULTILINE)
    return names


def test_the_hot_path_queries_load():
    names = _hot_path_queries()
    assert len(names) > 30
    assert set(names) <= set(queries.names())


@pytest.mark.parametrize("side", [TALENT, JOB], ids=lambda s: s.kind)
def test_every_named_query_fills_with_either_sides_identifiers(side: Side):
    for name in _hot_path_queries():
        text = queries.text(name)
        if not _PLACEHOLDER.search(text):
            continue
        filled = queries.query(name).format(**side.identifiers()).as_string()
        assert not _PLACEHOLDER.search(filled), name
        assert side.embeddings in filled or side.id_column in filled or "public" in filled, name


def test_a_batch_yields_to_edits_only_on_a_worker_that_takes_them():
    from worker.tasks import _takes_edits

    assert _takes_edits(None)  # every queue
    assert _takes_edits(list(QUEUES))
    assert _takes_edits([REMATCH_QUEUE, BULK_QUEUE])
    assert not _takes_edits([BULK_QUEUE])
    assert not _takes_edits([BULK_QUEUE, "maintenance"])
