"""`matching demo`: the whole loop on one machine, narrated.

database -> migrate -> seed (if empty) -> initial model (if none) -> start a
worker -> edit one talent through SQL -> wait for the worker -> print the
talent's top matches with scores, sub-scores and reasons, and how long the
edit took to turn into fresh matches. Safe to run again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import class_row, scalar_row

from matching.cli.demo_users import DemoUsersError, demo_users_for, print_how_to_call
from matching.db import embedded, queries
from matching.db.migrate import migrate
from matching.scoring import registry
from matching.settings import Settings, project_root
from matching.synthetic.seed import existing_counts, seed

Say = Callable[[str], None]
SUB_SCORES = ("skills", "experience", "location", "salary", "culture", "semantic")


class DemoError(RuntimeError):
    pass


@dataclass(frozen=True)
class _Progress:
    embedded: int
    total: int


@dataclass(frozen=True)
class _Talent:
    id: Any
    headline: str


@dataclass(frozen=True)
class _Match:
    title: str
    company: str
    score: float
    source: str
    model_version: str | None
    explanation: dict[str, Any]


def _scalar(conn: psycopg.Connection[Any], name: str, params: dict[str, Any] | None = None) -> Any:
    """The one value a one-row, one-column demo query returns."""
    with conn.cursor(row_factory=scalar_row) as cur:
        row = cur.execute(queries.query(name), params).fetchone()
    if row is None:
        raise DemoError(f"query {name} returned no row")
    return row


def _start_worker(url: str, log_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DATABASE_URL=url, MATCHING_METRICS_PORT="0")
    log = log_path.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "matching.cli.main", "worker"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait(
    check: Callable[[], tuple[bool, str]],
    timeout: float,
    what: str,
    say: Say,
    proc: subprocess.Popen[bytes],
    log_path: Path,
) -> None:
    deadline = time.monotonic() + timeout
    last = 0.0
    while time.monotonic() < deadline:
        done, status = check()
        if done:
            return
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise DemoError(f"the worker stopped while waiting for {what}:\n{tail}")
        if time.monotonic() - last > 5:
            say(f"  waiting for {what}: {status}")
            last = time.monotonic()
        time.sleep(0.1)
    raise DemoError(f"timed out after {timeout:.0f} s waiting for {what} (see {log_path})")


def run_demo(url: str, settings: Settings, say: Say) -> None:
    from matching.training.initial import train_initial_model

    started = time.perf_counter()
    report = migrate(url, settings, progress=lambda m: say(f"  {m}"))
    say(f"migrations: {len(report.applied)} applied, {len(report.already_applied)} earlier")
    seeded = seed(url, seed=settings.seed, if_empty=True, progress=lambda m: say(f"  {m}"))
    if not seeded.skipped:
        say(f"seeded synthetic data in {seeded.total_seconds:.1f} s")
    with psycopg.connect(url, autocommit=True) as conn:
        counts = existing_counts(conn)
        active = registry.active_version(conn)
    say(
        "marketplace: {talents:,} talents, {jobs:,} jobs, {companies:,} companies,"
        " {skills:,} skills".format(**counts)
    )
    if active:
        say(f"model: {active} is active")
    else:
        say("no active model: training the initial model on synthetic pairs")
        trained = train_initial_model(url, seed=settings.seed, progress=lambda m: say(f"  {m}"))
        say(
            f"model: {trained.version} activated (validation RMSE"
            f" {trained.metrics['holdout_rmse']:.2f}, MAE {trained.metrics['holdout_mae']:.2f})"
        )

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            users = demo_users_for(conn, seeded_now=not seeded.skipped)
    except DemoUsersError as exc:
        raise DemoError(str(exc)) from exc
    if users:
        say(f"sign-in users: {', '.join(u.email for u in users)}")
    else:
        say(
            "sign-in users: none made (the database held data before the demo;"
            " its people may be real)"
        )

    log_dir = project_root() / ".logs"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / "worker-demo.log"
    say(f"starting a worker (log: {log_path})")
    proc = _start_worker(url, log_path)
    try:
        with psycopg.connect(url, autocommit=True) as conn:

            def jobs_embedded() -> tuple[bool, str]:
                with conn.cursor(row_factory=class_row(_Progress)) as cur:
                    p = cur.execute(queries.query("demo_open_jobs_embedded")).fetchone()
                assert p is not None, "an aggregate returns one row"
                return p.embedded == p.total, f"{p.embedded:,}/{p.total:,} open jobs embedded"

            _wait(jobs_embedded, 900, "the job embeddings", say, proc, log_path)

            def worker_ready() -> tuple[bool, str]:
                # registered once its job loop runs; warm-up (model, job texts)
                # continues beside it, so on a re-run with nothing to embed the
                # first edit may also wait for the model to load
                ready = _scalar(conn, "demo_worker_alive")
                return bool(ready), "warming up"

            _wait(worker_ready, 300, "the worker", say, proc, log_path)
            with conn.cursor(row_factory=class_row(_Talent)) as tcur:
                picked = tcur.execute(queries.query("demo_pick_talent")).fetchone()
            if picked is None:
                raise DemoError("no open-to-work talent with skills to edit")
            talent = picked.id
            new_headline = (
                picked.headline.split(" · edited ")[0] + f" · edited {datetime.now():%H:%M:%S}"
            )[:200]
            say(f"editing talent {talent} through SQL:")
            say(f"  update public.talents set headline = '{new_headline}', years_experience + 1")
            edited_at: datetime = _scalar(
                conn, "demo_edit_talent", {"headline": new_headline, "talent_id": talent}
            )
            edit_clock = time.perf_counter()

            def fresh() -> tuple[bool, str]:
                ready = _scalar(
                    conn, "demo_matches_fresh", {"edited_at": edited_at, "talent_id": talent}
                )
                return bool(ready), "worker busy"

            _wait(fresh, 300, "the talent's fresh matches", say, proc, log_path)
            observed = time.perf_counter() - edit_clock
            committed_after: Decimal = _scalar(
                conn, "demo_write_delay", {"edited_at": edited_at, "talent_id": talent}
            )
            _print_matches(conn, talent, say)
            say(
                f"edit -> fresh matches: {observed * 1000:.0f} ms observed"
                f" (worker started writing {float(committed_after) * 1000:.0f} ms after the edit)"
            )
    finally:
        _stop_worker(proc)
    if users:
        print_how_to_call(url, users, say)
    say(f"demo done in {time.perf_counter() - started:.1f} s")
    if not settings.database_url and embedded.status(settings.pgdata).running:
        say("the embedded server keeps running; `matching db stop` stops it")
    say("run `matching worker` to keep matches fresh as profiles change")


def _print_matches(conn: psycopg.Connection[Any], talent: object, say: Say, top: int = 5) -> None:
    with conn.cursor(row_factory=class_row(_Match)) as cur:
        rows = cur.execute(
            queries.query("demo_top_matches"), {"talent_id": talent, "top": top}
        ).fetchall()
    say(f"top {len(rows)} matches:")
    for rank, m in enumerate(rows, 1):
        source = f"[{m.source} {m.model_version or ''}]"
        say(f"  {rank}. {m.score:5.1f}  {m.title} at {m.company}  {source}".rstrip())
        subs = m.explanation.get("sub_scores", {})
        say("       " + "  ".join(f"{k} {subs[k]:.0f}" for k in SUB_SCORES if k in subs))
        for factor in m.explanation.get("top_factors", []):
            say(f"       - {factor['sentence']}")
        for failed in m.explanation.get("failed_constraints", []):
            say(f"       ! {failed}")
