"""What every benchmark shares: a scratch database and a JSON result file."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from matching.db.scratch import temporary_database, temporary_server

RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def scratch_database(label: str) -> Iterator[str]:
    """A migrated-nothing database on DATABASE_URL's server, else on a temporary embedded one.

    Benchmarks never touch the user's own database or the project's .pgdata.
    """
    if os.environ.get("DATABASE_URL"):
        with temporary_database(os.environ["DATABASE_URL"], label) as url:
            yield url
    else:
        with temporary_server() as admin, temporary_database(admin, label) as url:
            yield url


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        **result,
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
