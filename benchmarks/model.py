"""What scoring and explaining cost, by model size, and what accuracy each size buys.

For each model size: validation RMSE on a talent-grouped holdout of
synthetic pairs, and the latency of the ranking hot path for one talent:
features for 200 candidates -> model scores for all 200 -> TreeSHAP
explanations (sub-scores, top-3 sentences) for the 50 that would be stored.
Budget: < 15 ms on 2 cores.

    python benchmarks/model.py [--repeats 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database, write_result

from matching.db.migrate import migrate
from matching.features.extraction import extract_features
from matching.pipeline.loaders import load_fx_rates, load_jobs, load_talents
from matching.scoring.explain import MatchExplainer
from matching.scoring.model import MatchingModel
from matching.synthetic.seed import seed
from matching.training.evaluation import rmse
from matching.training.initial import PARAM_GRID, grouped_split, synthetic_pairs

BUDGET_MS = 15.0
CANDIDATES = 200
STORED = 50

SIZES = [
    {
        "label": "300 trees x 31 leaves",
        "num_boost_round": 300,
        "num_leaves": 31,
        "max_depth": -1,
        "learning_rate": 0.05,
    },
    {
        "label": "150 trees x 15 leaves",
        "num_boost_round": 150,
        "num_leaves": 15,
        "max_depth": 6,
        "learning_rate": 0.1,
    },
    *(
        {"label": f"grid: {p['num_boost_round']} trees x {p['num_leaves']} leaves", **p}
        for p in PARAM_GRID
    ),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=6000)
    args = parser.parse_args()

    with scratch_database("bench_model") as url:
        migrate(url)
        seed(url, n_talents=1500, n_jobs=CANDIDATES + 100)
        with psycopg.connect(url) as conn:
            pairs = synthetic_pairs(conn, n_pairs=args.pairs)
            fx = load_fx_rates(conn)
            talent_ids = [
                r[0]
                for r in conn.execute(
                    "select id from public.talents order by id limit %s", (args.repeats,)
                )
            ]
            job_ids = [
                r[0]
                for r in conn.execute(
                    "select id from public.jobs order by id limit %s", (CANDIDATES,)
                )
            ]
            talents = load_talents(conn, talent_ids, fx)
            jobs = load_jobs(conn, job_ids, fx)

    rng = np.random.default_rng(42)
    fit, holdout = grouped_split(pairs.talent_group, 0.2, rng)
    results = []
    for size in SIZES:
        params = {k: v for k, v in size.items() if k != "label"}
        model = MatchingModel.train(pairs.x[fit], pairs.y[fit], version="bench", params=params)
        explainer = MatchExplainer(model)
        val_rmse = rmse(model.predict(pairs.x[holdout]), pairs.y[holdout])
        timings, shap_rows = [], []
        for k in range(len(talents)):
            one = talents.take(np.array([k]))
            started = time.perf_counter()
            x = extract_features(one, jobs)
            scores = model.predict(x)
            top = np.argsort(-scores, kind="stable")[:STORED]
            shap_started = time.perf_counter()
            explanations = explainer.explain(x[top])
            done = time.perf_counter()
            assert len(explanations) == STORED
            timings.append((done - started) * 1000)
            shap_rows.append((done - shap_started) * 1000 / STORED)
        median = statistics.median(timings)
        results.append(
            {
                "model": size["label"],
                "trees": model.n_trees,
                "num_leaves": params["num_leaves"],
                "validation_rmse": round(val_rmse, 3),
                "hot_path_median_ms": round(median, 2),
                "hot_path_p95_ms": round(float(np.percentile(timings, 95)), 2),
                "explain_ms_per_row": round(statistics.median(shap_rows), 3),
                "within_budget": median < BUDGET_MS,
            }
        )

    path = write_result(
        "model",
        {
            "params": {
                "candidates": CANDIDATES,
                "stored": STORED,
                "budget_ms": BUDGET_MS,
                "repeats": args.repeats,
                "pairs": args.pairs,
            },
            "sizes": results,
        },
    )
    print(
        f"features + score {CANDIDATES} candidates + explain {STORED} (budget {BUDGET_MS:.0f} ms):"
    )
    for r in results:
        print(
            f"  {r['model']:<32} {r['trees']:>4} trees  RMSE {r['validation_rmse']:>6.2f}"
            f"  {r['hot_path_median_ms']:>6.2f} ms median (p95 {r['hot_path_p95_ms']:.2f})"
            f"  SHAP {r['explain_ms_per_row']:.3f} ms/row"
            f"  {'ok' if r['within_budget'] else 'OVER BUDGET'}"
        )
    print(f"-> {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
