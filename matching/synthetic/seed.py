"""Load synthetic data with COPY.

Seeding fills an empty marketplace; it never mixes synthetic rows into real
ones. On a database that already holds talents or jobs it does nothing unless
asked to `replace`, which empties the application tables first. Everything
happens in one transaction: a failed seed leaves the database as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from matching.db import queries
from matching.synthetic import generator as synthetic

Progress = Callable[[str], None]

# Truncated by `replace`, children first is not needed with cascade, but the
# list is explicit so nothing outside the marketplace data is ever touched.
APP_TABLES: tuple[tuple[str, str], ...] = (
    ("public", "match_feedback"),
    ("public", "matches"),
    ("public", "job_skills"),
    ("public", "talent_skills"),
    ("public", "jobs"),
    ("public", "company_members"),
    ("public", "companies"),
    ("public", "talents"),
    ("public", "skills"),
    ("matching", "talent_embeddings"),
    ("matching", "job_embeddings"),
)


class SeedError(RuntimeError):
    """The database already holds data and replacing it was not requested."""


@dataclass
class SeedReport:
    counts: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    generate_seconds: float = 0.0
    load_seconds: float = 0.0

    @property
    def total_seconds(self) -> float:
        return self.generate_seconds + self.load_seconds


@dataclass(frozen=True)
class _Counts:
    talents: int
    jobs: int
    companies: int
    skills: int


def existing_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    with conn.cursor(row_factory=class_row(_Counts)) as cur:
        row = cur.execute(queries.query("marketplace_counts")).fetchone()
    assert row is not None
    return asdict(row)


def seed(
    url: str,
    *,
    seed: int = 42,
    n_talents: int = 1500,
    n_jobs: int = 300,
    n_companies: int | None = None,
    replace: bool = False,
    if_empty: bool = False,
    progress: Progress | None = None,
) -> SeedReport:
    """Generate and load a synthetic marketplace.

    `if_empty` makes a non-empty database a no-op (the demo runs twice safely);
    otherwise a non-empty database is an error unless `replace` is set.
    """
    say = progress or (lambda _msg: None)
    report = SeedReport()
    with psycopg.connect(url) as conn:
        counts = existing_counts(conn)
        if counts["talents"] or counts["jobs"] or counts["skills"]:
            if if_empty and not replace:
                report.skipped = True
                report.counts = counts
                say(
                    "database already holds data ({talents} talents, {jobs} jobs);"
                    " not seeding".format(**counts)
                )
                return report
            if not replace:
                raise SeedError(
                    "the database already holds talents, jobs or skills;"
                    " pass --replace to empty the marketplace tables and reseed"
                )
        conn.rollback()

        started = time.perf_counter()
        say(f"generating {n_talents} talents, {n_jobs} jobs (seed {seed})")
        data = synthetic.generate(
            seed=seed, n_talents=n_talents, n_jobs=n_jobs, n_companies=n_companies
        )
        report.generate_seconds = time.perf_counter() - started

        started = time.perf_counter()
        with conn.transaction():
            # One backfill job after the load instead of a rematch job per row.
            conn.execute(queries.query("seed_skip_enqueue"))
            if replace:
                conn.execute(
                    queries.query("seed_truncate").format(
                        tables=sql.SQL(", ").join(sql.Identifier(*t) for t in APP_TABLES)
                    )
                )
            for table, columns, rows in data.tables():
                table_started = time.perf_counter()
                copy = queries.query("seed_copy").format(
                    table=sql.Identifier(*table.split(".")),
                    columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
                )
                with conn.cursor() as cur, cur.copy(copy) as out:
                    for row in rows:
                        out.write_row(row)
                name = table.split(".")[-1]
                report.counts[name] = len(rows)
                say(
                    f"  {name:<14} {len(rows):>9,} rows"
                    f" ({time.perf_counter() - table_started:.2f} s)"
                )
            # Ids were brought along; later inserts must not collide with them.
            conn.execute(queries.query("seed_skills_sequence"))
            # the worker embeds everything, then rematches everyone, in batches
            conn.execute(queries.query("seed_enqueue_backfill"), {"args": Jsonb({"kind": "job"})})
        report.load_seconds = time.perf_counter() - started
        conn.execute(queries.query("seed_analyze"))
    return report
