"""What a fixed search_path would cost the SQL helpers the Supabase advisor flags.

`supabase db advisors` warns (function_search_path_mutable) about the small
SQL helpers in `matching` that have no `set search_path`. Postgres inlines a
SQL function into the calling query only when it has no SET clause; with one,
every call goes through the function manager and saves/restores the setting.
This measures the fallback scorer and the explanation helpers, per row, as
they are (inlinable) and with `set search_path = pg_catalog, pg_temp` on each
flagged helper (inside a transaction that is rolled back).

Runs on a scratch database seeded with synthetic data (never your own).

    python benchmarks/search_path.py [--talents 2000] [--jobs 3000] [--repeats 3]
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
from matching.synthetic.seed import seed

# The advisor's rule: a function outside the system schemas without a
# search_path setting. Only `matching` has such functions (all SQL helpers).
FLAGGED = """
select p.oid::regprocedure::text
from pg_catalog.pg_proc p
where p.pronamespace = 'matching'::regnamespace
  and not exists (
    select 1 from pg_catalog.unnest(p.proconfig) c where c like 'search_path=%'
  )
order by 1
"""

WORKLOADS = {
    "fallback_scores_for_talent (every open job)": (
        "select count(*) from matching.fallback_scores_for_talent(%s, 100000)",
        "talent",
    ),
    "fallback_scores_for_job (every talent open to work)": (
        "select count(*) from matching.fallback_scores_for_job(%s, 100000)",
        "job",
    ),
    "fallback explanations + company view, per row": (
        "select count(*) from ("
        " select matching.company_sub_scores(fe.sub_scores),"
        " matching.company_reasons(fe.top_reasons)"
        " from matching.fallback_scores_for_talent(%s, 100000) x"
        " cross join lateral matching.fallback_explanation(x.score, x.skills_score,"
        " x.experience_score, x.location_score, x.salary_score, x.culture_score,"
        " x.semantic_score, x.failed_constraints, x.unscored) fe) z",
        "talent",
    ),
}


def _measure(conn: psycopg.Connection, ids: dict[str, list[object]], repeats: int) -> dict:
    out: dict[str, float] = {}
    for label, (query, side) in WORKLOADS.items():
        times = []
        for _ in range(repeats):
            for entity in ids[side]:
                started = time.perf_counter()
                conn.execute(query, (entity,)).fetchone()
                times.append((time.perf_counter() - started) * 1000)
        out[label] = statistics.median(times)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--talents", type=int, default=2_000)
    parser.add_argument("--jobs", type=int, default=3_000)
    parser.add_argument("--entities", type=int, default=8, help="talents and jobs timed")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with scratch_database("bench_search_path") as url:
        migrate(url)
        seed(url, n_talents=args.talents, n_jobs=args.jobs)
        with psycopg.connect(url) as conn:
            ids = {
                "talent": [
                    r[0]
                    for r in conn.execute(
                        "select id from public.talents order by id limit %s", (args.entities,)
                    )
                ],
                "job": [
                    r[0]
                    for r in conn.execute(
                        "select id from public.jobs where status = 'open' order by id limit %s",
                        (args.entities,),
                    )
                ],
            }
            flagged = [r[0] for r in conn.execute(FLAGGED)]
            _measure(conn, ids, 1)  # warm-up
            before = _measure(conn, ids, args.repeats)
            for fn in flagged:
                conn.execute(f"alter function {fn} set search_path = pg_catalog, pg_temp")
            fixed = _measure(conn, ids, args.repeats)
            conn.rollback()
            after = _measure(conn, ids, args.repeats)

    inlinable = {k: min(before[k], after[k]) for k in before}
    result = {
        "params": vars(args),
        "flagged_functions": flagged,
        "median_ms": {
            label: {
                "inlinable": round(inlinable[label], 1),
                "fixed_search_path": round(fixed[label], 1),
                "slowdown": round(fixed[label] / inlinable[label], 2),
            }
            for label in WORKLOADS
        },
    }
    path = write_result("search_path", result)
    print(f"{len(flagged)} helpers without a fixed search_path")
    for label, row in result["median_ms"].items():
        print(
            f"  {label}: {row['inlinable']} ms inlinable, {row['fixed_search_path']} ms with a"
            f" fixed search_path (x{row['slowdown']})"
        )
    print(f"-> {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
