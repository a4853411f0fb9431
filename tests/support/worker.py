"""A real `matching worker` process for tests, and waiting on what it does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


class Worker:
    """`matching worker` as a subprocess, logging to a file."""

    def __init__(
        self,
        url: str,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
    ) -> None:
        self.log_path = log_path
        env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHING_")}
        env.update(
            DATABASE_URL=url,
            MATCHING_METRICS_PORT="0",
            MATCHING_WORKER_HEARTBEAT_SECONDS="1",
            MATCHING_WORKER_STALLED_SECONDS="3",
            MATCHING_RETRY_BASE_SECONDS="0.2",
        )
        env.update(extra_env or {})  # a test's own settings win
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "matching.cli.main", "worker", *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_for(check: Callable[[], bool], timeout: float, what: str, worker: Worker | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if worker is not None and worker.proc.poll() is not None:
            pytest.fail(f"worker exited while waiting for {what}:\n{worker.log()[-3000:]}")
        time.sleep(0.2)
    tail = worker.log()[-3000:] if worker else ""
    pytest.fail(f"timed out after {timeout} s waiting for {what}\n{tail}")


def one(url: str, query: str, params: tuple = ()):
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchone()[0]


def queue_idle(url: str) -> bool:
    return one(
        url,
        "select count(*) = 0 from procrastinate.procrastinate_jobs"
        " where status = 'doing' or (status = 'todo'"
        " and (scheduled_at is null or scheduled_at <= now()))"
        " and queue_name <> 'retrain'",
    )
