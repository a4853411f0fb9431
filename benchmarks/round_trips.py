"""SQL round trips of one rematch, counted on the client.

A rematch's latency on a remote database (Supabase) is dominated by round
trips, not by the statements' own cost, so this counts them: every
statement a connection sends (`execute`, `executemany`, `copy`) and every
transaction command psycopg sends for `conn.transaction()` (BEGIN, COMMIT,
SAVEPOINT, RELEASE). The pool's checkout probe counts too: it is a round
trip the task pays.

Seeds a small marketplace into a scratch database, trains and activates the
initial model (which embeds every text), then for one talent:

- text edit: its headline changes (the trigger enqueues `rematch_talent`),
  so the rematch re-embeds it;
- data edit: its salary changes, the text does not (no embedding);

and runs the worker's `rematch_talent` task on a pool whose connections
count, once per scenario after an untimed first run (so the per-connection
type lookup and the model load are not counted; both happen once per worker
process). The first run's count is reported separately.

    python benchmarks/round_trips.py [--talents 200] [--jobs 120]

Measured when it was written: 31 (text edit) and 28 (data edit) before the
pipeline kept the vector it embedded and skipped no-op transactions, 25 and
24 after (the write transaction, seven of them, is the largest share left).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database, write_result

from matching.db.migrate import migrate
from matching.retrieval.embedder import TextEmbedder
from matching.scoring.registry import ActiveModel
from matching.settings import get_settings
from matching.synthetic.seed import seed
from matching.training import train_initial_model


@dataclass
class Tally:
    """What the counting connections sent, in order."""

    kinds: Counter[str] = field(default_factory=Counter)
    statements: list[str] = field(default_factory=list)

    def add(self, kind: str, statement: object) -> None:
        self.kinds[kind] += 1
        text = statement if isinstance(statement, str | bytes) else repr(statement)
        if isinstance(text, bytes):
            text = text.decode()
        # the named queries start with comment lines: show the statement
        lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("--")]
        self.statements.append(f"{kind}: {' '.join(' '.join(lines).split())[:90]}")

    @property
    def total(self) -> int:
        return sum(self.kinds.values())

    def reset(self) -> None:
        self.kinds.clear()
        self.statements.clear()


TALLY = Tally()


class CountingCursor(psycopg.Cursor[Any]):
    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> CountingCursor:  # type: ignore[override]
        TALLY.add("execute", _sql_text(query, self))
        super().execute(query, params, **kwargs)
        return self

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:  # type: ignore[override]
        rows = list(params_seq)
        TALLY.add("executemany", f"[{len(rows)} rows] {_sql_text(query, self)}")
        super().executemany(query, rows, **kwargs)

    def copy(self, statement: Any, params: Any = None, **kwargs: Any) -> Any:  # type: ignore[override]
        TALLY.add("copy", _sql_text(statement, self))
        return super().copy(statement, params, **kwargs)


class CountingConnection(psycopg.Connection[Any]):
    """A connection whose cursors count, and whose transaction commands count."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_factory = CountingCursor

    def _exec_command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        # BEGIN / COMMIT / SAVEPOINT / RELEASE of conn.transaction()
        TALLY.add("transaction", _sql_text(command, self))
        return super()._exec_command(command, *args, **kwargs)


def _sql_text(query: Any, ctx: Any) -> str:
    if isinstance(query, bytes):
        return query.decode()
    if isinstance(query, str):
        return query
    try:
        return str(query.as_string(ctx))
    except Exception:
        return repr(query)


def _edit(url: str, talent: Any, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement, (talent,))


def _count(task: Any, talent: Any) -> dict[str, Any]:
    TALLY.reset()
    task(str(talent))
    return {
        "round_trips": TALLY.total,
        "by_kind": dict(sorted(TALLY.kinds.items())),
        "statements": list(TALLY.statements),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--talents", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from worker import runtime, tasks

    with scratch_database("bench_round_trips") as url:
        migrate(url)
        seed(url, seed=args.seed, n_talents=args.talents, n_jobs=args.jobs)
        train_initial_model(url, n_pairs=800, folds=2, seed=args.seed)
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "select id from public.talents where open_to_work order by id limit 1"
            ).fetchone()
        assert row is not None
        talent = row[0]
        settings = get_settings()
        with ConnectionPool(
            url,
            min_size=1,
            max_size=1,
            kwargs={"autocommit": True},
            connection_class=CountingConnection,
            check=ConnectionPool.check_connection,
            open=True,
        ) as pool:
            embedder = TextEmbedder()
            active = ActiveModel()
            from matching.pipeline.ranking import RankingPipeline

            runtime._runtime = runtime.Runtime(
                settings=settings,
                pool=pool,
                embedder=embedder,
                active_model=active,
                pipeline=RankingPipeline(pool, embedder, active, settings),
            )
            task = tasks.rematch_talent
            first = _count(task, talent)  # type lookup, model load: once per process
            _edit(
                url,
                talent,
                "update public.talents set headline = headline || ' (edited)' where id = %s",
            )
            text_edit = _count(task, talent)
            _edit(
                url,
                talent,
                "update public.talents set salary_min = salary_min + 1000,"
                " salary_max = salary_max + 1000 where id = %s",
            )
            data_edit = _count(task, talent)
            runtime._runtime = None

    result = {
        "params": {"talents": args.talents, "jobs": args.jobs, "seed": args.seed},
        "first_rematch_of_a_process": first,
        "text_edit": text_edit,
        "data_edit": data_edit,
    }
    path = write_result("round_trips", result)
    print(
        "round trips of one rematch_talent task:"
        f" text edit (re-embeds) {text_edit['round_trips']},"
        f" data edit {data_edit['round_trips']},"
        f" first of a process {first['round_trips']} -> {path.name}"
    )
    for name, counted in (("text edit", text_edit), ("data edit", data_edit)):
        print(f"\n{name}: {counted['by_kind']}")
        for line in counted["statements"]:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
