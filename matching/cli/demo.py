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
from datetime import datetime
from pathlib import Path

import psycopg

from matching.db import embedded
from matching.db.migrate import migrate
from matching.settings import Settings, project_root
from matching.synthetic.seed import existing_counts, seed

Say = Callable[[str], None]
SUB_SCORES = ("skills", "experience", "location", "salary", "culture", "semantic")


class DemoError(RuntimeError):
    pass


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
        active = conn.execute(
            "select version from matching.model_versions where is_active"
        ).fetchone()
    say(
        "marketplace: {talents:,} talents, {jobs:,} jobs, {companies:,} companies,"
        " {skills:,} skills".format(**counts)
    )
    if active:
        say(f"model: {active[0]} is active")
    else:
        say("no active model: training the initial model on synthetic pairs")
        trained = train_initial_model(url, seed=settings.seed, progress=lambda m: say(f"  {m}"))
        say(
            f"model: {trained.version} activated (validation RMSE"
            f" {trained.metrics['holdout_rmse']:.2f}, MAE {trained.metrics['holdout_mae']:.2f})"
        )

    log_dir = project_root() / ".logs"
    log_dir.mkdir(exist_ok=True)
    log_path = log_dir / "worker-demo.log"
    say(f"starting a worker (log: {log_path})")
    proc = _start_worker(url, log_path)
    try:
        with psycopg.connect(url, autocommit=True) as conn:

            def jobs_embedded() -> tuple[bool, str]:
                done, total = conn.execute(
                    "select count(e.job_id), count(*) from public.jobs j"
                    " left join matching.job_embeddings e on e.job_id = j.id"
                    " where j.status = 'open'"
                ).fetchone()
                return done == total, f"{done:,}/{total:,} open jobs embedded"

            _wait(jobs_embedded, 900, "the job embeddings", say, proc, log_path)

            def worker_ready() -> tuple[bool, str]:
                # registered once its job loop runs; warm-up (model, job texts)
                # continues beside it, so on a re-run with nothing to embed the
                # first edit may also wait for the model to load
                ready = conn.execute(
                    "select count(*) > 0 from procrastinate.procrastinate_workers"
                    " where last_heartbeat > now() - interval '30 seconds'"
                ).fetchone()[0]
                return bool(ready), "warming up"

            _wait(worker_ready, 300, "the worker", say, proc, log_path)
            talent, headline = conn.execute(
                "select t.id, t.headline from public.talents t"
                " where t.open_to_work and exists"
                " (select 1 from public.talent_skills s where s.talent_id = t.id)"
                " order by t.id limit 1"
            ).fetchone()
            new_headline = (
                headline.split(" · edited ")[0] + f" · edited {datetime.now():%H:%M:%S}"
            )[:200]
            say(f"editing talent {talent} through SQL:")
            say(f"  update public.talents set headline = '{new_headline}', years_experience + 1")
            edited_at = conn.execute(
                "update public.talents set headline = %s,"
                " years_experience = least(60, years_experience + 1)"
                " where id = %s returning clock_timestamp()",
                (new_headline, talent),
            ).fetchone()[0]
            edit_clock = time.perf_counter()

            def fresh() -> tuple[bool, str]:
                ready = conn.execute(
                    "select count(*) > 0 and bool_and(computed_at > %s) from public.matches"
                    " where talent_id = %s",
                    (edited_at, talent),
                ).fetchone()[0]
                return bool(ready), "worker busy"

            _wait(fresh, 300, "the talent's fresh matches", say, proc, log_path)
            observed = time.perf_counter() - edit_clock
            committed_after = conn.execute(
                "select extract(epoch from max(computed_at) - %s) from public.matches"
                " where talent_id = %s",
                (edited_at, talent),
            ).fetchone()[0]
            _print_matches(conn, talent, say)
            say(
                f"edit -> fresh matches: {observed * 1000:.0f} ms observed"
                f" (worker started writing {float(committed_after) * 1000:.0f} ms after the edit)"
            )
    finally:
        _stop_worker(proc)
    say(f"demo done in {time.perf_counter() - started:.1f} s")
    if not settings.database_url and embedded.status(settings.pgdata).running:
        say("the embedded server keeps running; `matching db stop` stops it")
    say("run `matching worker` to keep matches fresh as profiles change")


def _print_matches(conn: psycopg.Connection, talent: object, say: Say, top: int = 5) -> None:
    rows = conn.execute(
        "select j.title, c.name, m.score, m.source, m.model_version, m.explanation"
        " from public.matches m join public.jobs j on j.id = m.job_id"
        " join public.companies c on c.id = j.company_id"
        " where m.talent_id = %s order by m.score desc limit %s",
        (talent, top),
    ).fetchall()
    say(f"top {len(rows)} matches:")
    for rank, (title, company, score, source, version, explanation) in enumerate(rows, 1):
        say(f"  {rank}. {score:5.1f}  {title} at {company}  [{source} {version or ''}]".rstrip())
        subs = explanation.get("sub_scores", {})
        say("       " + "  ".join(f"{k} {subs[k]:.0f}" for k in SUB_SCORES if k in subs))
        for factor in explanation.get("top_factors", []):
            say(f"       - {factor['sentence']}")
        for failed in explanation.get("failed_constraints", []):
            say(f"       ! {failed}")
