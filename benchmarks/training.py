"""Retraining cost: time and peak memory for 10,000 and 100,000 feedback rows.

Each size runs in its own process (so peak RSS is its own): a scratch
database with a synthetic marketplace and the initial model, N feedback rows
on random pairs whose feature snapshots are computed by the real extractor
and whose labels follow a hidden preference (remote jobs liked), then one
forced `TrainingPipeline.run_training`: read feedback -> time split -> train
-> evaluate candidate and active model -> register/activate -> record.

    python benchmarks/training.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database, write_result

from matching.features import FEATURE_INDEX, extract_pair_features
from matching.loaders import load_fx_rates, load_jobs, load_talents
from matching.migrate import migrate
from matching.seed import seed
from matching.training import TrainingPipeline, train_initial_model


def one_size(n_rows: int) -> dict:
    rng = np.random.default_rng(11)
    with scratch_database(f"bench_training_{n_rows}") as url:
        migrate(url)
        seed(url, n_talents=max(2000, n_rows // 20), n_jobs=1000)
        train_initial_model(url, n_pairs=3000, folds=2)
        with psycopg.connect(url) as conn:
            talent_ids = [r[0] for r in conn.execute("select id from public.talents order by id")]
            job_ids = [r[0] for r in conn.execute("select id from public.jobs order by id")]
            fx = load_fx_rates(conn)
            talents = load_talents(conn, talent_ids, fx)
            jobs = load_jobs(conn, job_ids, fx)
            codes = rng.choice(len(talent_ids) * len(job_ids), n_rows, replace=False)
            ti, ji = (
                (codes // len(job_ids)).astype(np.int64),
                (codes % len(job_ids)).astype(np.int64),
            )
            x = extract_pair_features(talents, jobs, ti, ji, rng.uniform(-0.2, 0.9, n_rows))
            remote = x[:, FEATURE_INDEX["remote_compatibility"]] > 0.9
            likes = np.where(rng.random(n_rows) < 0.9, remote, ~remote)
            start = datetime.now(UTC) - timedelta(days=30)
            with (
                conn.cursor() as cur,
                cur.copy(
                    "copy public.match_feedback (talent_id, job_id, feedback_type, actor, features,"
                    " created_at) from stdin"
                ) as out,
            ):
                for k in range(n_rows):
                    out.write_row(
                        (
                            talent_ids[ti[k]],
                            job_ids[ji[k]],
                            "applied" if likes[k] else "dismissed",
                            "talent",
                            [float(v) for v in x[k]],
                            start + timedelta(seconds=int(k)),
                        )
                    )
            conn.commit()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        report = TrainingPipeline(url).run_training(force=True, trigger="cli")
        seconds = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "feedback_rows": n_rows,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(rss_after / 1024, 1),
        "peak_rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        "status": report.status,
        "candidate_ndcg_at_10": report.metrics.get("candidate", {}).get("ndcg_at_10"),
        "active_ndcg_at_10": (report.metrics.get("active") or {}).get("ndcg_at_10"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one)))
        return 0
    results = []
    for size in args.sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"{size:>7,} feedback rows: {result['seconds']:.1f} s, peak RSS"
            f" {result['peak_rss_mb']:.0f} MB (+{result['peak_rss_growth_mb']:.0f} MB while"
            f" training), {result['status']}; NDCG@10 candidate"
            f" {result['candidate_ndcg_at_10']:.3f} vs active {result['active_ndcg_at_10']:.3f}"
        )
    path = write_result("training", {"sizes": results})
    print(f"-> {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
