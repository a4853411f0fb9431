"""The `matching` command as a user runs it: a real subprocess, a real database."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import bcrypt
import psycopg
import pytest

from matching.cli.demo_users import DEMO_PASSWORD

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict[str, str] | None = None, timeout: int = 300):
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "matching.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=base | (env or {}),
        check=False,
    )


def test_embedded_server_lifecycle(tmp_path):
    env = {"MATCHING_PGDATA": str(tmp_path / "pgdata")}
    down = run("db", "status", env=env)
    assert down.returncode == 3 and "not running" in down.stdout
    assert run("db", "url", env=env).returncode == 1
    try:
        up = run("db", "start", env=env)
        assert up.returncode == 0, up.stderr
        assert "running" in up.stdout
        again = run("db", "start", env=env)
        assert again.returncode == 0, again.stderr
        url = run("db", "url", env=env).stdout.strip()
        with psycopg.connect(url) as conn:
            assert conn.execute("select current_database()").fetchone()[0] == "matching"
            assert (
                conn.execute(
                    "select count(*) from pg_available_extensions where name = 'vector'"
                ).fetchone()[0]
                == 1
            )
        assert run("db", "status", env=env).returncode == 0
    finally:
        stopped = run("db", "stop", env=env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert run("db", "status", env=env).returncode == 3


def test_db_start_refuses_when_database_url_is_set(blank_db_url):
    done = run("db", "start", env={"DATABASE_URL": blank_db_url})
    assert done.returncode == 1
    assert "DATABASE_URL is set" in done.stderr


def test_demo_twice_is_safe(blank_db_url):
    env = {"DATABASE_URL": blank_db_url}
    first = run("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "applied the plain-Postgres auth shim" in first.stdout
    assert "marketplace: 1,500 talents, 300 jobs" in first.stdout
    assert "activated (validation RMSE" in first.stdout
    for out in (first.stdout,):
        assert "top 5 matches:" in out
        assert "edit -> fresh matches:" in out
        assert " points: " in out  # the reasons are printed
    second = run("demo", env=env)
    assert second.returncode == 0, second.stderr
    assert "migrations: 0 applied" in second.stdout
    assert "not seeding" in second.stdout
    assert "is active" in second.stdout and "training the initial model" not in second.stdout
    assert "marketplace: 1,500 talents, 300 jobs" in second.stdout
    assert "edit -> fresh matches:" in second.stdout
    assert_demo_users_can_sign_in_and_call(blank_db_url, first.stdout, second.stdout)


def assert_demo_users_can_sign_in_and_call(url: str, first: str, second: str) -> None:
    """The printed users exist once (a re-run reuses them), their password is the
    printed one, and the printed psql call works as the first talent."""
    assert f"demo users (password: {DEMO_PASSWORD}):" in first
    emails = re.findall(r"^  (\S+@demo\.example) ", first, flags=re.M)
    assert emails == [
        "talent1@demo.example",
        "talent2@demo.example",
        "owner@demo.example",
        "recruiter@demo.example",
    ]
    assert re.findall(r"^  (\S+@demo\.example) .*$", first, flags=re.M) == re.findall(
        r"^  (\S+@demo\.example) .*$", second, flags=re.M
    )
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "select u.email, u.encrypted_password, t.id from auth.users u"
            " left join public.talents t on t.user_id = u.id where u.email like '%%@demo.example'"
            " order by u.email"
        ).fetchall()
        assert len(rows) == 4
        for email, hashed, _ in rows:
            assert bcrypt.checkpw(DEMO_PASSWORD.encode(), hashed.encode()), email
        talent_of = {email: talent for email, _, talent in rows}
        assert talent_of["talent1@demo.example"] is not None
        assert talent_of["owner@demo.example"] is None
    psql_line = next(line for line in first.splitlines() if line.strip().startswith("psql "))
    if shutil.which("psql"):
        done = subprocess.run(
            psql_line.strip(),
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
            # a URL with a password is printed as "$DATABASE_URL"
            env=os.environ | {"DATABASE_URL": url},
        )
        assert done.returncode == 0, done.stderr
        assert "(5 rows)" in done.stdout, done.stdout
    else:  # the same statements without the client
        statements = psql_line.split(' -c "', 1)[1].rsplit('"', 1)[0].replace('\\"', '"')
        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(statements)
            while cur.nextset():
                pass
            assert len(cur.fetchall()) == 5


def test_seed_refuses_non_empty_database_then_replaces(fresh_db_url):
    env = {"DATABASE_URL": fresh_db_url}
    first = run("seed", "--talents", "40", "--jobs", "10", "--seed", "7", env=env)
    assert first.returncode == 0, first.stderr
    assert "wall time" in first.stdout
    refused = run("seed", "--talents", "40", "--jobs", "10", env=env)
    assert refused.returncode == 1
    assert "--replace" in refused.stderr
    replaced = run("seed", "--talents", "30", "--jobs", "5", "--replace", env=env)
    assert replaced.returncode == 0, replaced.stderr
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select count(*) from public.talents").fetchone()[0] == 30
        assert conn.execute("select count(*) from public.jobs").fetchone()[0] == 5


@pytest.mark.parametrize(
    "args",
    [
        ("seed", "--talents", "-1"),
        ("seed", "--jobs", "many"),
        ("db", "restart"),
        ("worker", "--queue", "edits"),
        (),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args):
    done = run(*args)
    assert done.returncode == 2
    assert "error" in done.stderr


def test_unreachable_database_is_a_clear_error():
    done = run("migrate", env={"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert done.returncode == 1
    assert "cannot reach the database" in done.stderr


def test_supabase_seed_sql_fits_the_schema(fresh_db_url):
    seed_sql = (ROOT / "supabase" / "seed.sql").read_text()
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(seed_sql)
        conn.execute(seed_sql)  # idempotent, like `supabase db reset` expects
        counts = conn.execute(
            "select (select count(*) from public.talents), (select count(*) from public.jobs),"
            " (select count(*) from public.job_skills), (select count(*) from public.talent_skills)"
        ).fetchone()
    assert counts == (3, 3, 8, 7)


def test_supabase_project_layout():
    assert (ROOT / "supabase" / "migrations").resolve() == (ROOT / "migrations").resolve()
    config = (ROOT / "supabase" / "config.toml").read_text()
    import tomllib

    parsed = tomllib.loads(config)
    assert parsed["db"]["major_version"] >= 15
    assert "matching" not in parsed["api"]["schemas"]
    assert parsed["db"]["seed"]["sql_paths"] == ["./seed.sql"]


def test_train_synthetic_and_manage_models(fresh_db_url):
    env = {"DATABASE_URL": fresh_db_url}
    assert run("seed", "--talents", "600", "--jobs", "150", env=env).returncode == 0
    first = run("train", "--synthetic", "--pairs", "1500", "--folds", "2", env=env)
    assert first.returncode == 0, first.stderr
    assert "validation RMSE" in first.stdout and "mean baseline" in first.stdout
    assert "registered and activated" in first.stdout
    version = first.stdout.rsplit("model ", 1)[1].split()[0]

    listed = run("models", "list", env=env)
    assert listed.returncode == 0 and f"* {version}" in listed.stdout

    nothing_to_roll_back = run("models", "rollback", env=env)
    assert nothing_to_roll_back.returncode == 1
    assert "[MT404]" in nothing_to_roll_back.stderr

    unknown = run("models", "activate", "no-such-version", env=env)
    assert unknown.returncode == 1 and "[MT404]" in unknown.stderr

    second = run("train", "--synthetic", "--pairs", "1500", "--folds", "2", "--seed", "9", env=env)
    assert second.returncode == 0, second.stderr
    rolled = run("models", "rollback", env=env)
    assert rolled.returncode == 0 and version in rolled.stdout


def test_train_from_feedback_with_too_few_samples_is_skipped(fresh_db_url):
    done = run("train", env={"DATABASE_URL": fresh_db_url})
    assert done.returncode == 1
    assert "skipped" in done.stdout and "too few feedback samples: 0 pairs" in done.stdout
