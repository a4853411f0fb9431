"""The two sides of the market, described once.

Talents and jobs are matched symmetrically: a rematch of either reads the
same kinds of things (its row, its embedding, its counterparts' index), so
the code is written once for "a side" and everything that differs by side
lives here: tables and columns, what "still in the market" means, the worker
task that rematches one entity, the ANN index, how its embedding text is
built and how its feature frame is loaded. Before this module those facts
were repeated as `kind == "talent"` branches and talent_/job_ twin functions.

The SQL migrations enqueue the same tasks by name (`matching.enqueue_rematch`);
tests/db/test_task_names.py checks that every name they use is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar
from uuid import UUID

import psycopg
from psycopg import sql

from matching.queues import REMATCH_QUEUE
from matching.retrieval.embedder import job_text, talent_text

if TYPE_CHECKING:
    from matching.features.extraction import JobFrame, TalentFrame

__all__ = [
    "JOB",
    "REMATCH_QUEUE",
    "SIDES",
    "TALENT",
    "TASK_NAMESPACE",
    "Kind",
    "Side",
    "TextParts",
    "side_of",
]

Kind = Literal["talent", "job"]
T = TypeVar("T")

#: procrastinate namespace of every task (app.add_tasks_from(..., namespace=)):
#: the job table says "matching:<task>", as `matching.enqueue_jobs` writes it
TASK_NAMESPACE = "matching"


@dataclass(frozen=True)
class TextParts:
    """The columns an embedding text is built from (one row per entity).

    `company` is null for talents. `in_market` is the side's market
    predicate, read in the same query (it sets the embedding's `matchable`).
    """

    id: UUID
    head: str
    level: str | None
    body: str | None
    in_market: bool
    skills: list[str]
    company: str | None


def _talent_text(parts: TextParts) -> str:
    return talent_text(parts.head, parts.level, parts.skills, parts.body)


def _job_text(parts: TextParts) -> str:
    return job_text(parts.head, parts.level, parts.skills, parts.body, parts.company)


@dataclass(frozen=True)
class Side:
    """One side of the market. Use the instances `TALENT` and `JOB`."""

    kind: Kind
    #: public.<table>
    table: str
    #: the column that names this side's entity in matches, embeddings, marks
    id_column: str
    #: matching.<embeddings>, its partial HNSW index, and the rematch marks
    embeddings: str
    ann_index: str
    marks: str
    #: "still in the market", a boolean SQL expression over `{alias}`: the one
    #: definition the Python side uses (the migrations spell the same test)
    in_market_sql: str
    counterpart_kind: Kind
    #: the procrastinate task (without namespace) that rematches one entity,
    #: its queue, and its argument; locks are "<kind>:<id>" and queueing
    #: locks "<task>:<id>", as `matching.enqueue_jobs` builds them
    task: str
    queue: str
    #: named queries: `TextParts` (store.sql), and (in market, data version)
    #: of one entity, the version being what rematch marks record (pipeline.sql);
    #: the same for many entities (with their ids), and for one entity with its
    #: row(s) share-locked (a bulk re-rank's write checks nothing moved)
    text_query: str
    state_query: str
    states_query: str
    locked_state_query: str
    text: Callable[[TextParts], str]

    @property
    def counterpart(self) -> Side:
        return side_of(self.counterpart_kind)

    @property
    def task_arg(self) -> str:
        """The task's keyword argument carrying the entity id."""
        return self.id_column

    @property
    def task_name(self) -> str:
        """The name procrastinate stores: namespace:task."""
        return f"{TASK_NAMESPACE}:{self.task}"

    def lock(self, entity_id: UUID | str) -> str:
        return f"{self.kind}:{entity_id}"

    def queueing_lock(self, entity_id: UUID | str) -> str:
        return f"{self.task}:{entity_id}"

    def in_market(self, alias: str) -> sql.Composed:
        """The market predicate on the row `alias` (an identifier, not spliced text)."""
        return sql.SQL(self.in_market_sql).format(alias=sql.Identifier(alias))

    def identifiers(self) -> dict[str, sql.Composable]:
        """Every per-side placeholder of the named queries, for `query(...).format(**)`."""
        return {
            "entities": sql.Identifier("public", self.table),
            "id_column": sql.Identifier(self.id_column),
            "embeddings": sql.Identifier("matching", self.embeddings),
            "marks": sql.Identifier("matching", self.marks),
            "other_column": sql.Identifier(self.counterpart.id_column),
            "counterparts": sql.Identifier("public", self.counterpart.table),
            "counterpart_in_market": self.counterpart.in_market("c"),
            "in_market": self.in_market("s"),
        }

    def orient(self, own: T, other: T) -> tuple[T, T]:
        """(talent's, job's) from (this side's, the counterpart's)."""
        return (own, other) if self.kind == "talent" else (other, own)

    def load(
        self,
        conn: psycopg.Connection,
        ids: Sequence[UUID],
        fx_per_usd: dict[str, float],
        rejected: dict[UUID, str] | None = None,
    ) -> TalentFrame | JobFrame:
        """This side's feature frame (`matching.pipeline.loaders`)."""
        # imported here: the loaders' package imports the ranking pipeline,
        # which imports this module
        from matching.pipeline import loaders

        load = loaders.load_talents if self.kind == "talent" else loaders.load_jobs
        return load(conn, ids, fx_per_usd, rejected)


TALENT = Side(
    kind="talent",
    table="talents",
    id_column="talent_id",
    embeddings="talent_embeddings",
    ann_index="talent_embeddings_hnsw_idx",
    marks="talent_rematch_marks",
    in_market_sql="{alias}.open_to_work",
    counterpart_kind="job",
    task="rematch_talent",
    queue=REMATCH_QUEUE,
    text_query="talent_text_parts",
    state_query="talent_state",
    states_query="talent_states",
    locked_state_query="talent_state_locked",
    text=_talent_text,
)

JOB = Side(
    kind="job",
    table="jobs",
    id_column="job_id",
    embeddings="job_embeddings",
    ann_index="job_embeddings_hnsw_idx",
    marks="job_rematch_marks",
    in_market_sql="({alias}.status = 'open')",
    counterpart_kind="talent",
    task="rematch_job",
    queue=REMATCH_QUEUE,
    text_query="job_text_parts",
    state_query="job_state",
    states_query="job_states",
    locked_state_query="job_state_locked",
    text=_job_text,
)

SIDES: dict[str, Side] = {"talent": TALENT, "job": JOB}


def side_of(kind: Side | str) -> Side:
    """The side for a kind ("talent" / "job"); a `Side` is returned as is."""
    if isinstance(kind, Side):
        return kind
    try:
        return SIDES[kind]
    except (KeyError, TypeError):
        raise ValueError(f"kind must be 'talent' or 'job', got {kind!r}") from None
