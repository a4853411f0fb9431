"""How long `matching seed` takes at benchmark scale (default 100,000 talents, 20,000 jobs).

Runs against a scratch database (never your own), migrates it, then generates
and COPY-loads the synthetic marketplace, timing each part.

    python benchmarks/seed.py [--talents N] [--jobs N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import scratch_database, write_result

from matching.db.migrate import migrate
from matching.synthetic.seed import seed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--talents", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    with scratch_database("bench_seed") as url:
        migrate(url)
        started = time.perf_counter()
        report = seed(url, seed=args.seed, n_talents=args.talents, n_jobs=args.jobs, progress=print)
        wall = time.perf_counter() - started

    rows = sum(report.counts.values())
    result = {
        "params": {"talents": args.talents, "jobs": args.jobs, "seed": args.seed},
        "wall_seconds": round(wall, 2),
        "generate_seconds": round(report.generate_seconds, 2),
        "load_seconds": round(report.load_seconds, 2),
        "rows": report.counts,
        "rows_per_second": round(rows / wall),
    }
    path = write_result("seed", result)
    print(
        f"seed {args.talents:,} talents / {args.jobs:,} jobs: {wall:.1f} s wall"
        f" (generate {report.generate_seconds:.1f} s, COPY {report.load_seconds:.1f} s),"
        f" {rows:,} rows, {rows / wall:,.0f} rows/s -> {path.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
