"""The re-rank after a model activation: throughput with 1, 2, 3 workers, the
freshness of edits made while it runs, and what the database holds.

1. A scratch database with --talents / --jobs (the issue's size is 20,000 /
   4,000), embedded once: vectors come from the on-disk cache of
   `_corpus.embed_cached` (benchmarks/.cache/, keyed by model and text), so
   only the first run at a size pays for the embedding model.
2. Model A (trained on synthetic pairs) matches the whole market in
   process, and model B is trained but not activated. Sizes of the HNSW
   indexes, the embeddings and matches tables are recorded (for the README's
   sizing of a larger market).
3. In process, one connection: B is activated, then `--sample` talents are
   rematched entity by entity (`RankingPipeline.rematch`) and as many other
   talents through the batch path (`RankingPipeline.rematch_batch`, batches
   of `rematch_batch_size`), interleaved batch by batch: entities/s of each
   and milliseconds per stage, nothing re-embedded.
4. For each worker count (--workers, default 1 2 3): that many `matching
   worker` processes are started and warmed up, then a model trained for
   this run is activated (no stored pair has its scores, so every pair is
   rescored, as after a real retraining), which
   enqueues `rematch_all`; timed from the activation to the last bulk job
   done: entities (in the market) per second. Meanwhile, edits of random
   talents (headline and years, so re-embedded, as benchmarks/freshness.py
   does), one after the other, --edit-gap seconds apart: for each, the time
   from the committed UPDATE to the talent's new matches being committed
   (polled every 5 ms); p50/p95 over the edits made during the re-rank. The
   server connections the workers hold are counted while they run.
   With --edit-lanes 1 each run also starts one `matching worker --queue
   rematch` with MATCHING_EMBEDDING_THREADS=1 (an edit lane: it takes edits,
   never a bulk batch); "per worker"
   counts the bulk workers only. --edit-lanes 0 1 runs each worker count
   both ways, one after the other.
   Target: >= 100 entities/s per worker, edits p95 < 150 ms.

    python benchmarks/rerank.py [--talents 20000] [--jobs 4000] [--workers 1 2 3]
        [--edit-lanes 0 1] [--sample 300] [--batch-size N] [--edit-gap 0.3]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import structlog
from psycopg_pool import ConnectionPool

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database, write_result
from _corpus import embed_cached

from matching.db.migrate import migrate
from matching.pipeline.ranking import RankingPipeline
from matching.retrieval import store
from matching.retrieval.embedder import TextEmbedder, text_sha256
from matching.scoring import registry
from matching.scoring.registry import ActiveModel
from matching.settings import Settings, get_settings
from matching.side import JOB, TALENT
from matching.synthetic.seed import seed
from matching.training.initial import train_initial_model

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_WORKER = 100.0
TARGET_P95_MS = 150.0
BULK_TASKS = ("matching:rematch_all", "matching:rematch_batch")


def one(conn: psycopg.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row[0]


def clear_jobs(conn: psycopg.Connection) -> None:
    with conn.transaction():
        # procrastinate's delete trigger calls its functions unqualified
        conn.execute("select set_config('search_path', 'procrastinate', true)")
        conn.execute("delete from procrastinate.procrastinate_jobs")


def embed_market(url: str, embedder: TextEmbedder) -> dict[str, float]:
    """Store a vector for every talent and job, from the cache where possible."""
    out: dict[str, float] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for side in (JOB, TALENT):
            ids = [r[0] for r in conn.execute(f"select id from public.{side.table} order by id")]
            texts = store.texts(conn, side, ids)
            in_market = {
                r[0]: r[1]
                for r in conn.execute(
                    f"select s.id, {side.in_market_sql.format(alias='s')}"
                    f" from public.{side.table} s"
                )
            }
            wanted = [i for i in ids if i in texts]
            vectors, embedded, seconds = embed_cached(embedder, [texts[i] for i in wanted])
            store.upsert_embeddings(
                conn,
                side,
                (
                    (i, vectors[n], text_sha256(texts[i]), bool(in_market[i]))
                    for n, i in enumerate(wanted)
                ),
            )
            out[f"{side.kind}_embedded_now"] = embedded
            out[f"{side.kind}_embedding_seconds"] = round(seconds, 1)
            print(f"  {side.kind}s: {len(wanted):,} vectors ({embedded:,} embedded now)")
        conn.execute("analyze matching.talent_embeddings, matching.job_embeddings")
    return out


def in_process(url: str, settings: Settings, version_b: str, sample: int) -> dict[str, Any]:
    """Entities/s of the per-entity path and of the batch path in one process,
    and where their time goes."""
    with ConnectionPool(
        url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=True
    ) as pool:
        pipeline = RankingPipeline(pool, TextEmbedder(settings), ActiveModel(), settings)
        with pool.connection() as conn:
            registry.activate(conn, version_b)
            clear_jobs(conn)  # the activation's own re-rank: the workers' part
            talents = [
                r[0]
                for r in conn.execute(
                    "select id from public.talents where open_to_work order by md5(id::text)"
                )
            ]
            pipeline.active_model.get(conn)  # load the model outside the timings
        size = settings.rematch_batch_size
        n = max(size, min(sample, len(talents) // 2) // size * size)
        single_ids, batch_ids = talents[:n], talents[n : 2 * n]
        # interleaved, one batch's worth each: a machine shared with other
        # work slows both paths alike instead of whichever ran second
        seconds = {"single": 0.0, "batch": 0.0}
        stages: dict[str, dict[str, float]] = {"single": {}, "batch": {}}
        for start in range(0, n, size):
            started = time.perf_counter()
            for t in single_ids[start : start + size]:
                result = pipeline.rematch_talent(t)
                for stage, s in result.timings.items():
                    stages["single"][stage] = stages["single"].get(stage, 0.0) + s
            seconds["single"] += time.perf_counter() - started
            started = time.perf_counter()
            batch = pipeline.rematch_batch(TALENT, batch_ids[start : start + size])
            seconds["batch"] += time.perf_counter() - started
            for stage, s in batch.timings.items():
                stages["batch"][stage] = stages["batch"].get(stage, 0.0) + s
    out: dict[str, Any] = {
        "talents_each": n,
        "batch_size": size,
        "per_entity_per_second": round(n / seconds["single"], 1),
        "batch_per_second": round(n / seconds["batch"], 1),
        "speedup": round(seconds["single"] / seconds["batch"], 2),
        "stage_ms_per_entity": {
            path: {k: round(v * 1000 / n, 2) for k, v in by_stage.items()}
            for path, by_stage in stages.items()
        },
    }
    print(
        f"in process, {n} talents each: per entity {out['per_entity_per_second']}/s,"
        f" batches of {size} {out['batch_per_second']}/s (x{out['speedup']})"
    )
    for path, by_stage in out["stage_ms_per_entity"].items():
        print(f"  {path}: ms/entity by stage {by_stage}")
    return out


def sizes(conn: psycopg.Connection) -> dict[str, Any]:
    """What the market occupies on the server (bytes), for sizing a larger one."""
    relations = {
        "talent_embeddings_table": "matching.talent_embeddings",
        "talent_hnsw_index": "matching.talent_embeddings_hnsw_idx",
        "job_embeddings_table": "matching.job_embeddings",
        "job_hnsw_index": "matching.job_embeddings_hnsw_idx",
        "matches_table": "public.matches",
    }
    out: dict[str, Any] = {
        name: one(conn, "select pg_total_relation_size(%s::regclass)", (rel,))
        if name.endswith("_table")
        else one(conn, "select pg_relation_size(%s::regclass)", (rel,))
        for name, rel in relations.items()
    }
    out["matches_heap"] = one(conn, "select pg_relation_size('public.matches'::regclass)")
    out["matchable_talents"] = one(
        conn, "select count(*) from matching.talent_embeddings where matchable"
    )
    out["database"] = one(conn, "select pg_database_size(current_database())")
    mib = {k: f"{v / 2**20:.1f} MiB" for k, v in out.items() if k != "matchable_talents"}
    print(f"  sizes: {mib}")
    return out


def connections(conn: psycopg.Connection) -> int:
    """Client backends on this database other than the benchmark's own."""
    return int(
        one(
            conn,
            "select count(*) from pg_stat_activity where datname = current_database()"
            " and backend_type = 'client backend' and pid <> pg_backend_pid()",
        )
    )


class Workers:
    """`matching worker` processes, logging to files."""

    def __init__(self, url: str, n: int, env: dict[str, str], lanes: int = 0) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="rerank_"))
        self.procs: list[subprocess.Popen[bytes]] = []
        for k in range(n + lanes):
            # the first n on every queue, then the edit lanes, configured as
            # the README (and docker-compose.yml) say: one torch thread
            lane = k >= n
            queues = ["--queue", "rematch"] if lane else []
            threads = {"MATCHING_EMBEDDING_THREADS": "1"} if lane else {}
            with (self.dir / f"worker{k}.log").open("wb") as out:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "matching.cli.main", "worker", *queues],
                        cwd=ROOT,
                        env={**os.environ, **env, **threads, "DATABASE_URL": url},
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )

    def logs(self) -> list[str]:
        return [p.read_text(errors="replace") for p in sorted(self.dir.glob("worker*.log"))]

    def check(self) -> None:
        for p in self.procs:
            if p.poll() is not None:
                raise SystemExit(f"a worker exited; logs in {self.dir}")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def wait(check: Callable[[], bool], timeout: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        workers.check()
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def rerank_run(
    url: str,
    n_workers: int,
    version: str,
    env: dict[str, str],
    edit_gap: float,
    seed_: int,
    lanes: int = 0,
) -> dict[str, Any]:
    """Activate `version` with `n_workers` workers (and `lanes` edit lanes)
    running; time the re-rank and the freshness of edits made meanwhile."""
    rng = np.random.default_rng(seed_)
    workers = Workers(url, n_workers, env, lanes)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            clear_jobs(conn)
            wait(
                lambda: all("worker_warm" in log for log in workers.logs()),
                1800,
                "the workers' warm-up",
                workers,
            )
            talents = [
                r[0]
                for r in conn.execute(
                    "select id from public.talents where open_to_work order by id"
                )
            ]
            entities = len(talents) + one(
                conn, "select count(*) from public.jobs where status = 'open'"
            )

            def pending() -> int:
                return int(
                    one(
                        conn,
                        "select count(*) from procrastinate.procrastinate_jobs"
                        " where status in ('todo', 'doing') and task_name = any(%s)",
                        (list(BULK_TASKS),),
                    )
                )

            held = connections(conn)
            registry.activate(conn, version)
            started = time.perf_counter()
            latencies: list[float] = []
            while pending():
                held = max(held, connections(conn))
                workers.check()
                talent = talents[int(rng.integers(len(talents)))]
                edited_at = one(
                    conn,
                    "update public.talents set headline = %s,"
                    " years_experience = least(60, years_experience + 0.5)"
                    " where id = %s returning now()",
                    (f"Edited during the re-rank {len(latencies)}", talent),
                )
                committed = time.perf_counter()
                deadline = committed + 60
                while not one(
                    conn,
                    "select count(*) > 0 and bool_and(computed_at > %s)"
                    " from public.matches where talent_id = %s",
                    (edited_at, talent),
                ):
                    if time.perf_counter() > deadline:
                        raise SystemExit("an edit was not rematched within 60 s")
                    time.sleep(0.005)
                latencies.append((time.perf_counter() - committed) * 1000)
                time.sleep(edit_gap)
            seconds = time.perf_counter() - started
            failed = one(
                conn,
                "select count(*) from procrastinate.procrastinate_jobs where status = 'failed'",
            )
            stale = one(
                conn,
                "select count(*) from public.matches where model_version is distinct from %s",
                (version,),
            )
    finally:
        workers.stop()
    # the last bulk job ends up to one edit (and its gap) before it is noticed
    rate = entities / seconds
    out: dict[str, Any] = {
        "workers": n_workers,
        "edit_lanes": lanes,
        "entities": entities,
        "seconds": round(seconds, 1),
        "entities_per_second": round(rate, 1),
        "per_worker": round(rate / n_workers, 1),
        "server_connections": held,
        "failed_jobs": failed,
        "rows_not_rescored": stale,
        "edits": len(latencies),
    }
    if latencies:
        out["freshness_ms"] = {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(float(np.percentile(latencies, 95)), 1),
            "max": round(max(latencies), 1),
        }
    fresh = out.get("freshness_ms", {})
    lane = f" + {lanes} edit lane" if lanes else ""
    print(
        f"{n_workers} worker(s){lane}: {entities:,} entities in {seconds:.1f} s ="
        f" {rate:.1f}/s ({rate / n_workers:.1f}/s per worker), {held} connections,"
        f" {failed} failed jobs, {stale} rows not rescored; {len(latencies)} edits during it:"
        f" p50 {fresh.get('p50')} ms, p95 {fresh.get('p95')} ms"
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--talents", type=int, default=20_000)
    parser.add_argument("--jobs", type=int, default=4_000, help="~85%% of them are open")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2, 3])
    parser.add_argument(
        "--edit-lanes",
        type=int,
        nargs="*",
        default=[0],
        choices=(0, 1),
        help="edit-lane workers beside the bulk ones, per run (0 1: both)",
    )
    parser.add_argument(
        "--sample", type=int, default=300, help="talents per path rematched in process"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="rematch_batch_size")
    parser.add_argument("--job-batch-size", type=int, default=None, help="rematch_job_batch_size")
    parser.add_argument("--edit-gap", type=float, default=0.3, help="seconds between edits")
    parser.add_argument("--training-pairs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    # a short summary, not one log line per in-process rematch
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    env = {"MATCHING_METRICS_PORT": "0", "MATCHING_RECONCILE_INTERVAL_SECONDS": "0"}
    if args.batch_size is not None:
        env["MATCHING_REMATCH_BATCH_SIZE"] = str(args.batch_size)
        settings = Settings(rematch_batch_size=args.batch_size)
    else:
        settings = get_settings()
    if args.job_batch_size is not None:
        env["MATCHING_REMATCH_JOB_BATCH_SIZE"] = str(args.job_batch_size)
    result: dict[str, Any] = {"params": vars(args), "batch_size": settings.rematch_batch_size}
    with scratch_database("bench_rerank") as url:
        migrate(url)
        print(f"seeding {args.talents:,} talents / {args.jobs:,} jobs")
        seed(url, seed=args.seed, n_talents=args.talents, n_jobs=args.jobs)
        with psycopg.connect(url, autocommit=True) as conn:
            clear_jobs(conn)  # the seed's backfill: vectors come from the cache
        print("embedding (cached)")
        result["embedding"] = embed_market(url, TextEmbedder(settings))
        print("training models A and B")
        train_initial_model(url, n_pairs=args.training_pairs, folds=2, seed=args.seed)
        b = train_initial_model(
            url, n_pairs=args.training_pairs, folds=2, seed=args.seed + 1, activate=False
        ).version
        print("matching the market with model A (batch path, in process)")
        with ConnectionPool(
            url, min_size=1, max_size=2, kwargs={"autocommit": True}, open=True
        ) as pool:
            pipeline = RankingPipeline(pool, TextEmbedder(settings), ActiveModel(), settings)
            started = time.perf_counter()
            for side in (TALENT, JOB):
                with pool.connection() as conn:
                    ids = [
                        r[0]
                        for r in conn.execute(
                            f"select s.id from public.{side.table} s"
                            f" where {side.in_market_sql.format(alias='s')} order by s.id"
                        )
                    ]
                for start in range(0, len(ids), 64):
                    pipeline.rematch_batch(side, ids[start : start + 64])
                    if (start // 64 + 1) % 16 == 0:
                        print(f"  {side.kind}s: {start + 64:,} / {len(ids):,}")
            print(f"  done in {time.perf_counter() - started:.0f} s")
        with psycopg.connect(url, autocommit=True) as conn:
            result["open_talents"] = one(
                conn, "select count(*) from public.talents where open_to_work"
            )
            result["open_jobs"] = one(
                conn, "select count(*) from public.jobs where status = 'open'"
            )
            result["stored_matches"] = one(conn, "select count(*) from public.matches")
            conn.execute("vacuum analyze public.matches")
            result["sizes"] = sizes(conn)
        result["in_process"] = in_process(url, settings, b, args.sample)
        runs = []
        plans = [(n, lanes) for n in args.workers for lanes in args.edit_lanes]
        for k, (n, lanes) in enumerate(plans):
            # a model no stored pair was scored with, as after a real retraining:
            # re-activating A would find the pairs it scored still stored
            # (unchanged, so not rewritten) and flatter the run
            version = train_initial_model(
                url, n_pairs=args.training_pairs, folds=2, seed=args.seed + 2 + k, activate=False
            ).version
            runs.append(rerank_run(url, n, version, env, args.edit_gap, args.seed + k, lanes))
        result["runs"] = runs

    result["target"] = {
        "entities_per_second_per_worker": TARGET_PER_WORKER,
        "freshness_p95_ms": TARGET_P95_MS,
    }
    path = write_result("rerank", result)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
