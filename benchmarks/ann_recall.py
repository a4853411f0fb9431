"""Recall and latency of HNSW retrieval (`nearest_jobs`) against exact search.

Runs on a scratch database (never your own): migrates, seeds a synthetic
marketplace (default 10,000 talents / 2,000 jobs), embeds every job and a
sample of talents (default 200: embedding all 12,000 texts on 2 CPU cores
takes several minutes; pass --embed-all-talents to do it anyway), then, for
each sampled talent as the query:

* recall@k of `nearest_jobs` against `exact_nearest_jobs` over the same rows
  (matchable jobs), target >= 0.98, and p50/p95 latency of both;
* the same with the HNSW index forced (`enable_seqscan = off`), in case the
  planner prefers a sequential scan (which is exact) at this size;
* a filtered case: a share of the open jobs is closed (matchable = false, so
  they leave the partial index but stay in the graph as dead entries until
  VACUUM), measured before and after VACUUM.

    python benchmarks/ann_recall.py [--talents 10000] [--jobs 2000] [--queries 200] [--k 50]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import UUID

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database, write_result

from matching import embedding_store as store
from matching.embedding import TextEmbedder
from matching.migrate import migrate
from matching.seed import seed
from matching.settings import get_settings

TARGET = 0.98

Search = Callable[[psycopg.Connection, np.ndarray, int], list[tuple[UUID, float]]]


@contextmanager
def forced_index(conn: psycopg.Connection, force: bool) -> Iterator[None]:
    """Inside one transaction with sequential scans disabled (when `force`)."""
    if not force:
        yield
        return
    with conn.transaction():
        conn.execute("set local enable_seqscan = off")
        yield


def plan_uses_index(conn: psycopg.Connection, query: np.ndarray, k: int, force: bool) -> bool:
    """Whether the planner answers nearest_jobs' inner query with the HNSW index."""
    with conn.transaction():
        if force:
            conn.execute("set local enable_seqscan = off")
        rows = conn.execute(
            "explain select job_id from matching.job_embeddings where matchable"
            " order by embedding operator(extensions.<=>) %s limit %s",
            (query, k),
        ).fetchall()
    return any("job_embeddings_hnsw_idx" in r[0] for r in rows)


def measure(
    conn: psycopg.Connection, queries: list[np.ndarray], k: int, force: bool
) -> dict[str, object]:
    def timed(search: Search, query: np.ndarray) -> tuple[list[tuple[UUID, float]], float]:
        started = time.perf_counter()
        with forced_index(conn, force):
            found = search(conn, query, k)
        return found, (time.perf_counter() - started) * 1000

    approx_ms: list[float] = []
    exact_ms: list[float] = []
    hits = total = short = 0
    per_query: list[float] = []
    for query in queries:
        approx, a_ms = timed(lambda c, q, n: store.nearest_jobs(c, q, n), query)
        exact, e_ms = timed(store.exact_nearest_jobs, query)
        approx_ms.append(a_ms)
        exact_ms.append(e_ms)
        found = len({j for j, _ in approx} & {j for j, _ in exact})
        hits += found
        total += len(exact)
        per_query.append(found / len(exact) if exact else 1.0)
        short += len(approx) < len(exact)
    n_matchable = conn.execute(
        "select count(*) from matching.job_embeddings where matchable"
    ).fetchone()[0]
    return {
        "matchable_jobs": n_matchable,
        "index_scan": plan_uses_index(conn, queries[0], k, force),
        "recall_at_k": round(hits / total, 4),
        # the mean hides the talents who lose part of their true top k: report the tail too
        "worst_query_recall": round(min(per_query), 4),
        "queries_under_target": sum(r < TARGET for r in per_query),
        "share_queries_under_target": round(sum(r < TARGET for r in per_query) / len(per_query), 4),
        "queries_with_fewer_than_k": short,
        "ann_ms_p50": round(float(np.percentile(approx_ms, 50)), 2),
        "ann_ms_p95": round(float(np.percentile(approx_ms, 95)), 2),
        "exact_ms_p50": round(float(np.percentile(exact_ms, 50)), 2),
        "exact_ms_p95": round(float(np.percentile(exact_ms, 95)), 2),
    }


def report(label: str, r: dict[str, object], k: int) -> None:
    met = "met" if r["recall_at_k"] >= TARGET else "NOT met"
    print(
        f"{label:<32} {r['matchable_jobs']:>6,} jobs  recall@{k} {r['recall_at_k']:.4f}"
        f" (target {TARGET}: {met}) worst {r['worst_query_recall']:.3f}"
        f" <{TARGET}: {r['queries_under_target']}"
        f"  ANN p50 {r['ann_ms_p50']:.2f} / p95 {r['ann_ms_p95']:.2f} ms"
        f"  exact p50 {r['exact_ms_p50']:.2f} / p95 {r['exact_ms_p95']:.2f} ms"
        f"  [{'hnsw index' if r['index_scan'] else 'seq scan'}]"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--talents", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=200, help="talents used as queries")
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--close-fraction", type=float, default=0.5)
    parser.add_argument("--embed-all-talents", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    settings = get_settings()
    rng = random.Random(args.seed)
    embedder = TextEmbedder(settings)
    results: dict[str, object] = {}

    with scratch_database("bench_ann_recall") as url:
        migrate(url)
        seed(url, seed=args.seed, n_talents=args.talents, n_jobs=args.jobs)
        with psycopg.connect(url, autocommit=True) as conn:
            job_ids = [r[0] for r in conn.execute("select id from public.jobs order by id")]
            talent_ids = [r[0] for r in conn.execute("select id from public.talents order by id")]
            sample = rng.sample(talent_ids, min(args.queries, len(talent_ids)))
            to_embed = talent_ids if args.embed_all_talents else sample

            started = time.perf_counter()
            embedder.warm()
            n_jobs = store.ensure_embeddings(conn, embedder, "job", job_ids)
            n_talents = store.ensure_embeddings(conn, embedder, "talent", to_embed)
            embed_seconds = time.perf_counter() - started
            conn.execute("analyze matching.job_embeddings, matching.talent_embeddings")
            print(
                f"embedded {n_jobs:,} jobs + {n_talents:,} talents in {embed_seconds:.1f} s"
                f" ({(n_jobs + n_talents) / embed_seconds:.1f} texts/s, incl. model load)"
            )
            vectors = store.talent_vectors(conn, sample)
            queries = [vectors[t] for t in sample]

            for query in queries[:5]:  # warm the buffer cache and the plan cache
                store.nearest_jobs(conn, query, args.k)
                store.exact_nearest_jobs(conn, query, args.k)

            results["unfiltered"] = measure(conn, queries, args.k, force=False)
            report("all open jobs", results["unfiltered"], args.k)
            results["unfiltered_index_forced"] = measure(conn, queries, args.k, force=True)
            report("all open jobs, index forced", results["unfiltered_index_forced"], args.k)

            open_ids = [
                r[0]
                for r in conn.execute(
                    "select job_id from matching.job_embeddings where matchable order by job_id"
                )
            ]
            closed = rng.sample(open_ids, int(len(open_ids) * args.close_fraction))
            conn.execute("update public.jobs set status = 'closed' where id = any(%s)", (closed,))
            assert store.ensure_embeddings(conn, embedder, "job", closed) == 0
            results["filtered"] = measure(conn, queries, args.k, force=False)
            report(f"{args.close_fraction:.0%} closed", results["filtered"], args.k)
            results["filtered_index_forced"] = measure(conn, queries, args.k, force=True)
            report(
                f"{args.close_fraction:.0%} closed, index forced",
                results["filtered_index_forced"],
                args.k,
            )
            conn.execute("vacuum analyze matching.job_embeddings")
            results["filtered_vacuumed_index_forced"] = measure(conn, queries, args.k, force=True)
            report(
                f"{args.close_fraction:.0%} closed, vacuumed, forced",
                results["filtered_vacuumed_index_forced"],
                args.k,
            )

    worst = min(
        r["recall_at_k"]  # type: ignore[index]
        for r in results.values()
    )
    path = write_result(
        "ann_recall",
        {
            "params": {
                "talents": args.talents,
                "jobs": args.jobs,
                "queries": len(queries),
                "k": args.k,
                "close_fraction": args.close_fraction,
                "ann_ef_search": settings.ann_ef_search,
                "ef_search_used": min(max(args.k, settings.ann_ef_search), store.EF_SEARCH_MAX),
                "embedded_talents": n_talents,
                "seed": args.seed,
            },
            "embed_seconds": round(embed_seconds, 1),
            "target_recall": TARGET,
            "target_met": worst >= TARGET,
            **results,
        },
    )
    verdict = "met" if worst >= TARGET else "NOT met"
    print(f"worst recall@{args.k} {worst:.4f}: target {TARGET} {verdict} -> {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
