"""Retraining cost and the gate's false-accept rate.

Time and peak memory of a retrain (bootstrap gate included) at 10,000 and
100,000 feedback rows, and the share of candidates trained on permuted labels
that the gate would activate (at least 20, on the smallest size).

Each size runs in its own process (so peak RSS is its own): a scratch
database with a synthetic marketplace and the initial model, N feedback rows
on random pairs whose feature snapshots are computed by the real extractor,
written by the talents' own accounts at a random shown rank (1-50), and whose
labels follow a hidden preference (remote jobs liked), then one forced
`TrainingPipeline.run_training`: read feedback -> time split -> weight ->
train -> evaluate both models on both sides' lists -> paired bootstrap ->
drift guard -> register/activate -> record. Then `--noise` candidates trained
on permuted labels face the same gate against the model now active.

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

from matching.db.migrate import migrate
from matching.features.extraction import FEATURE_INDEX, extract_pair_features
from matching.pipeline.loaders import load_fx_rates, load_jobs, load_talents
from matching.scoring import registry
from matching.scoring.model import MatchingModel
from matching.scoring.registry import new_version
from matching.settings import Settings
from matching.synthetic.seed import seed
from matching.training.feedback import feedback_training_data, time_split, training_weights
from matching.training.initial import train_initial_model
from matching.training.retrain import TrainingPipeline


def false_accepts(url: str, n: int) -> dict:
    """How many of `n` candidates fit to permuted labels the gate activates."""
    settings = Settings()
    pipeline = TrainingPipeline(url, settings)
    accepted = 0
    with psycopg.connect(url, autocommit=True) as conn:
        before = registry.active_version(conn)
        data = feedback_training_data(conn)
        split = time_split(data)
        weights = training_weights(data, split.train, settings)
        for k in range(n):
            labels = np.random.default_rng(1000 + k).permutation(data.y[split.train])
            candidate = MatchingModel.train(
                data.x[split.train],
                labels,
                version=new_version(f"noise{k}"),
                weight=weights,
                seed=k,
            )
            run_id = conn.execute(
                "insert into matching.training_runs (trigger) values ('cli') returning id"
            ).fetchone()[0]
            report = pipeline.evaluate_and_decide(conn, run_id, candidate, data, split)
            if report.status == "activated":
                accepted += 1
                registry.activate(conn, before, reason="rollback")
    return {"noise_candidates": n, "noise_accepted": accepted, "false_accept_rate": accepted / n}


def one_size(n_rows: int, noise: int = 0) -> dict:
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
            ranks = rng.integers(1, 51, n_rows)
            start = datetime.now(UTC) - timedelta(days=30)
            # every talent acts through its own account (the gate needs many)
            conn.execute("insert into auth.users (id) select id from public.talents")
            with (
                conn.cursor() as cur,
                cur.copy(
                    "copy public.match_feedback (talent_id, job_id, feedback_type, actor,"
                    " actor_user_id, shown_rank, features, created_at) from stdin"
                ) as out,
            ):
                for k in range(n_rows):
                    out.write_row(
                        (
                            talent_ids[ti[k]],
                            job_ids[ji[k]],
                            "applied" if likes[k] else "dismissed",
                            "talent",
                            talent_ids[ti[k]],
                            int(ranks[k]),
                            [float(v) for v in x[k]],
                            start + timedelta(seconds=int(k) * 25),
                        )
                    )
            conn.commit()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        report = TrainingPipeline(url).run_training(force=True, trigger="cli")
        seconds = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        noise_result = false_accepts(url, noise) if noise else {}
    return {
        **noise_result,
        "feedback_rows": n_rows,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(rss_after / 1024, 1),
        "peak_rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        "status": report.status,
        "reason": report.reason,
        "gain": report.metrics.get("gain"),
        "gain_lower_bound": report.metrics.get("gain_lower_bound"),
        "lists": report.metrics.get("lists"),
        "drift": report.metrics.get("drift"),
        "candidate_ndcg_at_10": report.metrics.get("candidate", {}).get("ndcg_at_10"),
        "active_ndcg_at_10": (report.metrics.get("active") or {}).get("ndcg_at_10"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--noise", type=int, default=20, help="noise-trained candidates (on the smallest size)"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one-noise", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, args.one_noise), default=str))
        return 0
    results = []
    for size in args.sizes:
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(size),
                "--one-noise",
                str(args.noise if size == min(args.sizes) else 0),
            ],
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
            f" {result['candidate_ndcg_at_10']:.3f} vs active {result['active_ndcg_at_10']:.3f};"
            f" gain {result['gain']} (lower bound {result['gain_lower_bound']}), lists"
            f" {result['lists']}"
        )
        if "noise_candidates" in result:
            print(
                f"  gate: {result['noise_accepted']} of {result['noise_candidates']}"
                f" noise-trained candidates accepted ({result['false_accept_rate']:.0%})"
            )
    path = write_result("training", {"sizes": results})
    print(f"-> {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
