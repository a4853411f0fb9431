"""Embedding throughput: all-MiniLM-L6-v2 on the CPU over seeded talent and job texts.

Runs on a scratch database (never your own): migrates, seeds a synthetic
marketplace, builds the embedding texts from it (matching.embedding_store) and
times, per kind:

* cold: the cache is empty, every text goes through the model;
* warm: the same texts again, every one a cache hit;
* ensure: `ensure_embeddings` with a warm cache, i.e. the database side only
  (texts from SQL, fingerprint check, upsert of the vectors).

    python benchmarks/embedding.py [--texts 2000] [--batch-size 64] [--threads 2]
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
from matching.retrieval import store
from matching.retrieval.embedder import TextEmbedder
from matching.settings import Settings
from matching.synthetic.seed import seed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=2_000, help="texts per kind")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    overrides = {}
    if args.batch_size:
        overrides["embedding_batch_size"] = args.batch_size
    if args.threads:
        overrides["embedding_threads"] = args.threads
    settings = Settings(**overrides)
    embedder = TextEmbedder(settings)

    started = time.perf_counter()
    embedder.warm()
    load_seconds = time.perf_counter() - started
    tokenizer = embedder._load().tokenizer  # only to report how long the texts are

    results: dict[str, dict[str, float]] = {}
    with scratch_database("bench_embedding") as url:
        migrate(url)
        seed(url, seed=args.seed, n_talents=args.texts, n_jobs=args.texts)
        with psycopg.connect(url, autocommit=True) as conn:
            for kind in ("talent", "job"):
                table = "public.talents" if kind == "talent" else "public.jobs"
                ids = [r[0] for r in conn.execute(f"select id from {table} order by id")]
                started = time.perf_counter()
                texts = list(store.texts(conn, kind, ids).values())
                text_seconds = time.perf_counter() - started

                embedder.clear_cache()
                started = time.perf_counter()
                embedder.embed(texts)
                cold = time.perf_counter() - started
                started = time.perf_counter()
                embedder.embed(texts)
                warm = time.perf_counter() - started
                assert embedder.cache_misses == len(set(texts))

                started = time.perf_counter()
                written = store.ensure_embeddings(conn, embedder, kind, ids)
                ensure = time.perf_counter() - started
                assert written == len(ids)

                tokens = [len(t) for t in tokenizer(texts, truncation=False)["input_ids"]]
                chars = [len(t) for t in texts]
                limit = embedder._load().max_seq_length
                over = sum(t > limit for t in tokens) / len(tokens)
                results[kind] = {
                    "texts": len(texts),
                    "mean_chars": round(statistics.fmean(chars), 1),
                    "mean_tokens": round(statistics.fmean(tokens), 1),
                    "share_over_token_limit": round(over, 4),
                    "build_texts_seconds": round(text_seconds, 3),
                    "cold_seconds": round(cold, 2),
                    "cold_texts_per_second": round(len(texts) / cold, 1),
                    "warm_seconds": round(warm, 4),
                    "warm_texts_per_second": round(len(texts) / warm),
                    "ensure_cached_seconds": round(ensure, 2),
                    "ensure_cached_rows_per_second": round(len(ids) / ensure),
                }
                r = results[kind]
                print(
                    f"{kind:>6}: {r['texts']:,} texts, ~{r['mean_tokens']:.0f} tokens"
                    f" ({r['share_over_token_limit']:.0%} over {limit});"
                    f" cold {r['cold_texts_per_second']:,.1f} texts/s ({cold:.1f} s),"
                    f" warm {r['warm_texts_per_second']:,} texts/s,"
                    f" ensure_embeddings with warm cache {r['ensure_cached_rows_per_second']:,}"
                    f" rows/s (DB side)"
                )

    path = write_result(
        "embedding",
        {
            "params": {
                "texts_per_kind": args.texts,
                "batch_size": settings.embedding_batch_size,
                "torch_threads": settings.embedding_threads,
                "seed": args.seed,
            },
            "model_load_seconds": round(load_seconds, 2),
            "results": results,
        },
    )
    print(f"model load {load_seconds:.1f} s -> {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
