"""Cost of reconciliation (no lost edit) and of the pending-edit health figures.

Seeds 100,000 talents and 20,000 jobs into a scratch database, then times
`matching.reconcile.reconcile` (keyset batches of `matching.reconcile_batch`)
in three states:

- steady: every entity has a rematch mark for its current data (the normal
  case: the pass finds nothing);
- gaps: 1,000 talents and 100 jobs edited with their jobs lost (the trigger
  skipped), so the pass must find and enqueue exactly those;
- no marks: the first pass after installing on a database with data and no
  rematch history (the whole market is enqueued once).

It also times `matching.pending_edits()` (what `matching_health()` adds) in
the steady state, and prints the plan of one batch to show it is index-driven.

    python benchmarks/reconcile.py [--talents 100000] [--jobs 20000] [--batch 5000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database, write_result

from matching.db.migrate import migrate
from matching.pipeline.reconcile import reconcile
from matching.settings import Settings
from matching.synthetic.seed import seed

MARK_ALL = (
    "insert into matching.talent_rematch_marks (talent_id, source_updated_at, outcome)"
    " select id, updated_at, 'matched' from public.talents"
    " on conflict (talent_id) do update set source_updated_at = excluded.source_updated_at",
    "insert into matching.job_rematch_marks (job_id, source_updated_at, outcome)"
    " select j.id, greatest(j.updated_at, c.updated_at), 'matched'"
    " from public.jobs j join public.companies c on c.id = j.company_id"
    " on conflict (job_id) do update set source_updated_at = excluded.source_updated_at",
)


def clear_queue(conn: psycopg.Connection) -> None:
    with conn.transaction():
        # procrastinate's own triggers resolve its functions unqualified
        conn.execute("set local search_path = procrastinate, public")
        conn.execute("delete from procrastinate.procrastinate_jobs")


def timed_passes(conn: psycopg.Connection, batch: int, runs: int) -> tuple[list[float], dict]:
    seconds, last = [], {}
    for _ in range(runs):
        report = reconcile(conn, batch)
        seconds.append(report.seconds)
        last = {"stale": report.stale, "queued": report.queued, "batches": report.batches}
    return seconds, last


def batch_plan(conn: psycopg.Connection, batch: int) -> str:
    """The plan of the query inside one stale_entities call (auto_explain of
    nested statements, sent to this client as LOG messages)."""
    lines: list[str] = []
    conn.add_notice_handler(lambda diag: lines.append(diag.message_primary or ""))
    with conn.transaction():
        conn.execute("load 'auto_explain'")
        conn.execute("set local auto_explain.log_min_duration = 0")
        conn.execute("set local auto_explain.log_nested_statements = on")
        conn.execute("set local auto_explain.log_analyze = on")
        conn.execute("set local auto_explain.log_timing = off")
        conn.execute("set local client_min_messages = log")
        conn.execute(
            "select count(*) from matching.stale_entities('talent',"
            " (select id from public.talents order by id offset %s limit 1), %s)",
            (batch, batch),
        )
    nested = [m for m in lines if "batch as" in m]
    return nested[0] if nested else "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--talents", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with scratch_database("bench_reconcile") as url:
        started = time.perf_counter()
        migrate(url, Settings(_env_file=None))  # type: ignore[call-arg]
        seed(url, seed=7, n_talents=args.talents, n_jobs=args.jobs)
        setup_s = time.perf_counter() - started
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("vacuum analyze")
            clear_queue(conn)  # the seed's backfill job

            # 1. no marks at all: the first pass after an install on existing data
            first = reconcile(conn, args.batch)
            first_queued = sum(first.queued.values())
            clear_queue(conn)

            # 2. steady state: everything rematched
            for statement in MARK_ALL:
                conn.execute(statement)
            conn.execute("vacuum analyze matching.talent_rematch_marks, matching.job_rematch_marks")
            steady, steady_last = timed_passes(conn, args.batch, args.runs)
            health = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                pending = conn.execute("select pending from matching.pending_edits()").fetchone()[0]
                health.append(time.perf_counter() - t0)
            assert pending == 0, pending
            plan = batch_plan(conn, args.batch)

            # 3. gaps: edits whose jobs were lost
            with conn.transaction():
                conn.execute("set local matching.skip_enqueue = on")
                conn.execute(
                    "update public.talents set years_experience = years_experience where id in"
                    " (select id from public.talents where open_to_work order by md5(id::text)"
                    " limit 1000)"
                )
                conn.execute(
                    "update public.jobs set min_years = min_years where id in"
                    " (select id from public.jobs where status = 'open' order by md5(id::text)"
                    " limit 100)"
                )
            gap = reconcile(conn, args.batch)
            assert gap.queued == {"job": 100, "talent": 1000}, gap.queued
            t0 = time.perf_counter()
            pending_gap = conn.execute("select pending from matching.pending_edits()").fetchone()[0]
            health_gap_s = time.perf_counter() - t0
            assert pending_gap == 1100, pending_gap

    result = {
        "talents": args.talents,
        "jobs": args.jobs,
        "batch_size": args.batch,
        "setup_seconds": round(setup_s, 1),
        "steady_pass_ms": {
            "median": round(statistics.median(steady) * 1000, 1),
            "max": round(max(steady) * 1000, 1),
            "runs": len(steady),
        },
        "steady_pass_found": steady_last,
        "gaps_pass_ms": round(gap.seconds * 1000, 1),
        "gaps_pass_queued": gap.queued,
        "no_marks_pass_ms": round(first.seconds * 1000, 1),
        "no_marks_pass_queued": first_queued,
        "pending_edits_ms": {
            "steady_median": round(statistics.median(health) * 1000, 1),
            "with_1100_gaps": round(health_gap_s * 1000, 1),
        },
        "batch_plan": plan,
    }
    path = write_result("reconcile", result)
    print(f"reconciliation over {args.talents:,} talents and {args.jobs:,} jobs")
    print(
        f"  steady state (nothing to do): median {result['steady_pass_ms']['median']} ms,"
        f" max {result['steady_pass_ms']['max']} ms over {len(steady)} passes"
        f" ({steady_last['batches']} batches of {args.batch})"
    )
    print(f"  1,100 lost edits: {result['gaps_pass_ms']} ms, queued {gap.queued}")
    print(f"  first pass without marks: {result['no_marks_pass_ms']} ms, queued {first_queued:,}")
    print(
        f"  matching.pending_edits(): median {result['pending_edits_ms']['steady_median']} ms"
        f" (with 1,100 pending: {result['pending_edits_ms']['with_1100_gaps']} ms)"
    )
    print("  plan of one batch:\n    " + plan.replace("\n", "\n    "))
    print(f"  -> benchmarks/results/{path.name}")


if __name__ == "__main__":
    main()
