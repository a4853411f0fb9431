"""Per-query recall, rows returned, latency and plan of `nearest` at scale.

Why per query: the pipeline retrieves the top K = 200 jobs for a talent and
scores only those, so a talent whose true top 200 is partly missed never sees
those jobs; a mean recall of 0.99 can hide a tail of talents at 0.9. Why at
scale and on varied text: on the ~2,000 template-written synthetic jobs HNSW
is nearly exhaustive and every setting looks perfect.

What it does, on a scratch database (never your own):

* the index holds `--vectors` job vectors (default 24,000): `--synthetic-jobs`
  of them (default 6,000) are the project's own job texts, the rest are
  WordNet glosses (real, varied English; see `_corpus.py`). Jobs are seeded
  synthetically so the rows exist; a gloss's vector is simply stored for a
  job row, which is all retrieval reads. Vectors are cached on disk;
* queries (default 300) are held out of the index: half synthetic talents,
  half WordNet glosses;
* for each share out of the market (default 0%, 50%, 90%, 99.5%; rows set
  matchable = false exactly as the pipeline does) it starts from a freshly
  built index over all rows, closes the share, ANALYZEs (autovacuum is off
  for the table, so "before VACUUM" is what it says) and measures, then
  VACUUMs and measures again;
* for each K (default 50 and 200) it runs every query through
  `nearest` with the default settings on one long-lived connection, and
  `exact_nearest` (sequential scan) as the truth. Reported: mean recall,
  worst query, share of queries under 0.98, rows returned (min and mean),
  p50/p95 latency of both, and whether the HNSW index ran, counted from
  pg_stat_user_indexes.idx_scan / pg_stat_user_tables.seq_scan deltas over the
  ANN queries (not read off EXPLAIN);
* at K = 200 it also sweeps `ann_ef_search_factor` (`--sweep`), to show what
  each setting costs and buys.

    python benchmarks/ann_recall.py [--vectors 24000] [--queries 300] [--k 50 200]
        [--closed 0 0.5 0.9 0.995] [--sweep 1 1.5 2 3] [--m 16 --ef-construction 64]

Point 1 of the target (issue 17): at K = 200, with the default settings, at
least 99% of queries reach recall >= 0.98 (`--target-share`), in every state.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database, write_result
from _corpus import embed_cached, sample_glosses

from matching.db.migrate import migrate
from matching.retrieval import store
from matching.retrieval.embedder import TextEmbedder, text_sha256
from matching.settings import Settings, get_settings
from matching.synthetic.seed import seed

TARGET = 0.98
INDEX = "job_embeddings_hnsw_idx"
Search = Callable[[psycopg.Connection, np.ndarray, int], list[tuple[UUID, float]]]


def scan_counts(conn: psycopg.Connection) -> tuple[int, int]:
    """(HNSW index scans, sequential scans) of matching.job_embeddings so far.

    pg_stat_force_next_flush makes this backend publish its counters when the
    statement ends, so the next statement (a new snapshot) sees them.
    """
    conn.execute("select pg_stat_force_next_flush()")
    row = conn.execute(
        """
        select i.idx_scan, t.seq_scan
        from pg_stat_user_indexes i
        join pg_stat_user_tables t using (relid)
        where i.schemaname = 'matching' and i.indexrelname = %s
        """,
        (INDEX,),
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def timed_batch(
    conn: psycopg.Connection, search: Search, queries: list[np.ndarray], k: int
) -> tuple[list[list[tuple[UUID, float]]], list[float]]:
    out: list[list[tuple[UUID, float]]] = []
    ms: list[float] = []
    for query in queries:
        started = time.perf_counter()
        out.append(search(conn, query, k))
        ms.append((time.perf_counter() - started) * 1000)
    return out, ms


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def exact_jobs(c: psycopg.Connection, q: np.ndarray, n: int) -> list[tuple[UUID, float]]:
    return store.exact_nearest(c, "job", q, n)


def measure(
    conn: psycopg.Connection,
    queries: list[np.ndarray],
    exact: list[list[tuple[UUID, float]]],
    k: int,
    settings: Settings,
) -> dict[str, Any]:
    """`nearest` (jobs) for every query against the exact answers, with scan counts."""

    def search(c: psycopg.Connection, q: np.ndarray, n: int) -> list[tuple[UUID, float]]:
        return store.nearest(c, "job", q, n, settings=settings)

    timed_batch(conn, search, queries[:10], k)  # warm buffers
    idx0, seq0 = scan_counts(conn)
    approx, ms = timed_batch(conn, search, queries, k)
    idx1, seq1 = scan_counts(conn)
    per_query = [
        len({j for j, _ in a} & {j for j, _ in e}) / len(e) if e else 1.0
        for a, e in zip(approx, exact, strict=True)
    ]
    under = sum(r < TARGET for r in per_query)
    returned = [len(a) for a in approx]
    live_share = store.index_live_share(conn, "job")
    ef_search = store.ann_ef_search(k, settings, live_share)
    return {
        "index_live_share": round(live_share, 3),
        "ef_search": "exact" if ef_search is None else ef_search,
        "mean_recall": round(float(np.mean(per_query)), 4),
        "worst_query_recall": round(min(per_query), 4),
        # position in the query list (talents first, then glosses), to look at it again
        "worst_query": int(np.argmin(per_query)),
        "queries_under_target": under,
        "share_under_target": round(under / len(per_query), 4),
        "rows_min": min(returned),
        "rows_mean": round(float(np.mean(returned)), 1),
        "queries_short": sum(len(a) < len(e) for a, e in zip(approx, exact, strict=True)),
        "ann_ms_p50": pct(ms, 50),
        "ann_ms_p95": pct(ms, 95),
        "index_scans": idx1 - idx0,
        "seq_scans": seq1 - seq0,
        "queries": len(queries),
        "index_ran_every_query": idx1 - idx0 == len(queries) and seq1 == seq0,
    }


def reset(
    conn: psycopg.Connection, job_ids: list[UUID], definition: str, m: int | None, efc: int | None
) -> None:
    """Every row matchable, no dead tuples, a freshly built index.

    `definition` is the migration's index (pg_get_indexdef); with `m` or
    `efc` the same index is built with those options instead.
    """
    store.set_matchable(conn, "job", job_ids, True)
    conn.execute(f"drop index if exists matching.{INDEX}")
    conn.execute("vacuum matching.job_embeddings")
    if m is not None or efc is not None:
        options = ", ".join(
            f"{name} = {value}"
            for name, value in (("m", m), ("ef_construction", efc))
            if value is not None
        )
        definition = (
            f"create index {INDEX} on matching.job_embeddings"
            f" using hnsw (embedding extensions.vector_cosine_ops) with ({options}) where matchable"
        )
    conn.execute(definition)
    conn.execute("analyze matching.job_embeddings")


def load(
    conn: psycopg.Connection, job_ids: list[UUID], texts: list[str], vectors: np.ndarray
) -> None:
    """Store one vector per job row (the text's sha256 beside it), in chunks."""
    for start in range(0, len(job_ids), 1000):
        store.upsert_embeddings(
            conn,
            "job",
            (
                (job_ids[i], vectors[i], text_sha256(texts[i]), True)
                for i in range(start, min(start + 1000, len(job_ids)))
            ),
        )


def row_label(r: dict[str, Any]) -> str:
    if r["index_ran_every_query"]:
        ran = "yes"
    elif r["index_scans"] == 0 and r["seq_scans"] == r["queries"]:
        ran = "no: exact scan chosen"
    elif r["index_scans"] == r["queries"]:
        ran = f"yes, then exact for {r['seq_scans']} short lists"
    else:
        ran = "partly"
    return (
        f"| {r['state']} | {r['matchable']:,} | {r['index_live_share']:.2f} | {r['k']}"
        f" | {r['ef_search']}"
        f" | {r['mean_recall']:.4f} | {r['worst_query_recall']:.3f}"
        f" | {r['queries_under_target']} ({r['share_under_target']:.1%})"
        f" | {r['rows_min']} / {r['rows_mean']:.0f}"
        f" | {r['ann_ms_p50']:.1f} / {r['ann_ms_p95']:.1f}"
        f" | {r['exact_ms_p50']:.1f} / {r['exact_ms_p95']:.1f}"
        f" | {ran} ({r['index_scans']} idx, {r['seq_scans']} seq) |"
    )


HEADER = (
    "| state | matchable | live share | K | ef_search | mean recall | worst query | queries < 0.98"
    " | rows min / mean | ANN p50 / p95 ms | exact p50 / p95 ms | HNSW index ran |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vectors", type=int, default=24_000, help="job vectors in the index")
    parser.add_argument("--synthetic-jobs", type=int, default=6_000)
    parser.add_argument("--queries", type=int, default=300, help="half talents, half glosses")
    parser.add_argument("--k", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--closed", type=float, nargs="+", default=[0.0, 0.5, 0.9, 0.995])
    parser.add_argument(
        "--sweep", type=float, nargs="*", default=[1.0, 1.5, 2.0, 3.0],
        help="ann_ef_search_factor values also measured at the largest K",
    )  # fmt: skip
    parser.add_argument("--m", type=int, default=None, help="rebuild the index with this m")
    parser.add_argument("--ef-construction", type=int, default=None)
    parser.add_argument("--target-share", type=float, default=0.99)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    if not 0 < args.synthetic_jobs < args.vectors:
        parser.error("--synthetic-jobs must be between 0 and --vectors")
    settings = get_settings()
    rng = random.Random(args.seed)
    embedder = TextEmbedder(settings)
    n_gloss = args.vectors - args.synthetic_jobs
    n_talent_queries = args.queries // 2
    n_gloss_queries = args.queries - n_talent_queries
    rows: list[dict[str, Any]] = []
    sweep: list[dict[str, Any]] = []

    with scratch_database("bench_ann_recall") as url:
        migrate(url)
        seed(url, seed=args.seed, n_talents=n_talent_queries, n_jobs=args.vectors)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("alter table matching.job_embeddings set (autovacuum_enabled = off)")
            job_ids = [r[0] for r in conn.execute("select id from public.jobs order by id")]
            talent_ids = [r[0] for r in conn.execute("select id from public.talents order by id")]
            synthetic = store.texts(conn, "job", job_ids[: args.synthetic_jobs])
            glosses = sample_glosses(n_gloss + n_gloss_queries, args.seed)
            job_text_list = [synthetic[j] for j in job_ids[: args.synthetic_jobs]]
            job_text_list += glosses[:n_gloss]
            talents = store.texts(conn, "talent", talent_ids)
            query_texts = [talents[t] for t in talent_ids] + glosses[n_gloss:]

            print(f"embedding {len(job_text_list) + len(query_texts):,} texts (cached)", flush=True)
            vectors, n_new, embed_seconds = embed_cached(embedder, job_text_list + query_texts)
            job_vectors, query_vectors = vectors[: args.vectors], vectors[args.vectors :]
            queries = list(query_vectors)
            definition = conn.execute(
                "select pg_get_indexdef(%s::regclass)", (f"matching.{INDEX}",)
            ).fetchone()[0]
            # every state starts from a bulk-built index (reset), so load without it
            conn.execute(f"drop index matching.{INDEX}")
            started = time.perf_counter()
            load(conn, job_ids, job_text_list, job_vectors)
            print(f"loaded {args.vectors:,} vectors in {time.perf_counter() - started:.0f} s")

            for closed_share in args.closed:
                started = time.perf_counter()
                reset(conn, job_ids, definition, args.m, args.ef_construction)
                print(f"index rebuilt in {time.perf_counter() - started:.0f} s", flush=True)
                closed = rng.sample(job_ids, int(len(job_ids) * closed_share))
                store.set_matchable(conn, "job", closed, False)
                conn.execute("analyze matching.job_embeddings")
                phases = ["before VACUUM", "after VACUUM"] if closed else ["all open"]
                for phase in phases:
                    if phase == "after VACUUM":
                        conn.execute("vacuum analyze matching.job_embeddings")
                    matchable = conn.execute(
                        "select count(*) from matching.job_embeddings where matchable"
                    ).fetchone()[0]
                    state = phase if not closed else f"{closed_share * 100:g}% out, {phase}"
                    for k in args.k:
                        timed_batch(conn, exact_jobs, queries[:5], k)
                        exact, exact_ms = timed_batch(conn, exact_jobs, queries, k)
                        result = measure(conn, queries, exact, k, settings)
                        row = {
                            "state": state,
                            "closed_share": closed_share,
                            "vacuumed": phase == "after VACUUM",
                            "matchable": matchable,
                            "k": k,
                            "exact_ms_p50": pct(exact_ms, 50),
                            "exact_ms_p95": pct(exact_ms, 95),
                            **result,
                        }
                        rows.append(row)
                        print(row_label(row), flush=True)
                        if k != max(args.k):
                            continue
                        for factor in args.sweep:
                            varied = settings.model_copy(update={"ann_ef_search_factor": factor})
                            sw = {"state": state, "matchable": matchable, "k": k, "factor": factor}
                            sw |= measure(conn, queries, exact, k, varied)
                            sweep.append(sw)
                            print(
                                f"    sweep factor {factor}: ef {sw['ef_search']}"
                                f" mean {sw['mean_recall']:.4f}"
                                f" worst {sw['worst_query_recall']:.3f}"
                                f" <0.98 {sw['queries_under_target']}"
                                f" p50 {sw['ann_ms_p50']:.1f} p95 {sw['ann_ms_p95']:.1f} ms",
                                flush=True,
                            )

    top_k = max(args.k)
    at_top = [r for r in rows if r["k"] == top_k]
    met = all(r["share_under_target"] <= 1 - args.target_share for r in at_top)
    print()
    print(HEADER)
    for r in rows:
        print(row_label(r))
    print(
        f"\nK={top_k}: {'MET' if met else 'NOT met'} in every state"
        f" (>= {args.target_share:.0%} of queries at recall >= {TARGET}); "
        f"worst share under target {max(r['share_under_target'] for r in at_top):.1%}"
    )
    path = write_result(
        "ann_recall",
        {
            "params": {
                "vectors": args.vectors,
                "synthetic_jobs": args.synthetic_jobs,
                "wordnet_glosses": n_gloss,
                "queries": len(queries),
                "talent_queries": n_talent_queries,
                "gloss_queries": n_gloss_queries,
                "k": args.k,
                "closed": args.closed,
                "ann_ef_search": settings.ann_ef_search,
                "ann_ef_search_factor": settings.ann_ef_search_factor,
                "index_m": args.m,
                "index_ef_construction": args.ef_construction,
                "seed": args.seed,
            },
            "texts_embedded_now": n_new,
            "embed_seconds": round(embed_seconds, 1),
            "target_recall": TARGET,
            "target_share": args.target_share,
            "target_met": met,
            "rows": rows,
            "sweep": sweep,
        },
    )
    print(f"-> {path.name}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
