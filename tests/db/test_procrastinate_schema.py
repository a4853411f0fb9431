"""procrastinate's job queue is a migration: rendered from the pinned version, equal to what
procrastinate's own installer creates, safe on databases that got the queue the old way, and
catching up on writes made while there was no queue."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import procrastinate
import psycopg
import pytest
from procrastinate.schema import SchemaManager
from psycopg import sql

from matching.db import procrastinate_schema
from matching.db.migrate import MigrationError, discover, migrate
from matching.db.scratch import temporary_database
from matching.settings import Settings

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _queue_migrations(directory: Path) -> list[Path]:
    return [m.path for m in discover(directory) if m.sql.startswith(procrastinate_schema.MARKER)]


def _install_migration(directory: Path) -> Path:
    installs = [p for p in _queue_migrations(directory) if "(upgrade from" not in p.read_text()]
    assert len(installs) == 1, installs
    return installs[0]


def test_the_install_migration_is_what_the_pinned_procrastinate_renders(test_settings):
    path = _install_migration(test_settings.migrations_dir)
    first_line = path.read_text().splitlines()[0]
    if f"procrastinate {procrastinate.__version__}:" not in first_line:
        # After a version bump the install file stays as it was; the catalog test
        # below is then what proves an upgrade migration brings the queue along.
        pytest.skip(f"{path.name} was rendered from another version: {first_line}")
    assert path.read_text() == procrastinate_schema.render_install(), (
        f"{path.name} is stale: regenerate it with `python -m matching.db.procrastinate_schema`"
    )
    assert procrastinate_schema.main(["--check", str(path)]) == 0


def _catalog(url: str) -> dict[str, Any]:
    """Everything procrastinate's schema defines, as text, minus what our migration adds on
    purpose (a function search_path, privileges and the schema comment)."""
    queries = {
        "relations": """
            select c.relname, c.relkind::text,
                   coalesce(pg_catalog.string_agg(
                     a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                     || case when a.attnotnull then ' not null' else '' end
                     || coalesce(' default ' || pg_catalog.pg_get_expr(d.adbin, d.adrelid), '')
                     || case when a.attidentity <> ''
                             then ' identity ' || a.attidentity::text else '' end,
                     ', ' order by a.attnum), '')
            from pg_catalog.pg_class c
            left join pg_catalog.pg_attribute a
              on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            left join pg_catalog.pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
            where c.relnamespace = 'procrastinate'::regnamespace
            group by c.relname, c.relkind order by 1""",
        "indexes": """
            select indexname, indexdef from pg_catalog.pg_indexes
            where schemaname = 'procrastinate' order by 1""",
        "constraints": """
            select cl.relname, co.conname, pg_catalog.pg_get_constraintdef(co.oid)
            from pg_catalog.pg_constraint co
            join pg_catalog.pg_class cl on cl.oid = co.conrelid
            where co.connamespace = 'procrastinate'::regnamespace order by 1, 2""",
        "types": """
            select t.typname, t.typtype::text,
                   (select pg_catalog.array_agg(e.enumlabel::text order by e.enumsortorder)
                    from pg_catalog.pg_enum e where e.enumtypid = t.oid)
            from pg_catalog.pg_type t
            where t.typnamespace = 'procrastinate'::regnamespace and t.typtype in ('e', 'c', 'd')
            order by 1""",
        "routines": """
            select p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
                   pg_catalog.pg_get_function_result(p.oid), p.prokind::text,
                   p.provolatile::text, p.prosecdef, l.lanname, p.prosrc
            from pg_catalog.pg_proc p join pg_catalog.pg_language l on l.oid = p.prolang
            where p.pronamespace = 'procrastinate'::regnamespace order by 1, 2""",
        "triggers": """
            select c.relname, t.tgname, pg_catalog.pg_get_triggerdef(t.oid)
            from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid
            where c.relnamespace = 'procrastinate'::regnamespace and not t.tgisinternal
            order by 1, 2""",
    }
    with psycopg.connect(url) as conn:
        return {name: conn.execute(q).fetchall() for name, q in queries.items()}


def test_the_migrated_queue_is_what_procrastinates_own_installer_creates(pg_admin_url, db_url):
    """Compares the catalog of a database migrated by our files with one where
    procrastinate's SchemaManager installed its schema (as `procrastinate schema --apply`
    does, in a connection whose search_path is the schema)."""
    with temporary_database(pg_admin_url, "procrastinate_own") as own_url:
        with psycopg.connect(own_url, autocommit=True) as conn:
            conn.execute("create schema procrastinate")
            conn.execute("set search_path = procrastinate")
            conn.execute(SchemaManager.get_schema())
        ours, theirs = _catalog(db_url), _catalog(own_url)
    assert theirs["relations"] and theirs["routines"] and theirs["triggers"]
    for part in theirs:
        assert ours[part] == theirs[part], f"{part} differ from procrastinate's own schema"


def test_every_queue_function_has_a_fixed_search_path_and_api_roles_get_nothing(conn):
    rows = conn.execute(
        "select p.oid::regprocedure::text, p.proconfig from pg_catalog.pg_proc p"
        " where p.pronamespace = 'procrastinate'::regnamespace"
    ).fetchall()
    assert rows
    expected = f"search_path={procrastinate_schema.FUNCTION_SEARCH_PATH}"
    assert [name for name, config in rows if expected not in (config or [])] == []
    for role in ("anon", "authenticated"):
        for name, _config in rows:
            assert not conn.execute(
                "select has_function_privilege(%s, %s, 'execute')", (role, name)
            ).fetchone()[0], (role, name)
    comment = conn.execute(
        "select obj_description('procrastinate'::regnamespace, 'pg_namespace')"
    ).fetchone()[0]
    assert comment == procrastinate_schema.comment_for(procrastinate.__version__)


def _settings_without_queue(test_settings: Settings, tmp_path: Path) -> Settings:
    """The migrations as they were before the queue was one of them."""
    queue = _install_migration(test_settings.migrations_dir)
    older = tmp_path / "older"
    older.mkdir()
    for m in discover(test_settings.migrations_dir):
        if m.version < queue.name.split("_", 1)[0]:
            shutil.copy(m.path, older / m.path.name)
    return test_settings.model_copy(update={"migrations_dir": older})


def test_a_queue_installed_the_old_way_is_kept(blank_db_url, test_settings, tmp_path):
    """`matching migrate` used to install the queue after the migrations; such a database
    applies the queue migration as a no-op, keeps its jobs and stays in step."""
    migrate(blank_db_url, _settings_without_queue(test_settings, tmp_path))
    with psycopg.connect(blank_db_url, autocommit=True) as conn:
        with conn.transaction():
            conn.execute("create schema procrastinate")
            conn.execute("select set_config('search_path', 'procrastinate', true)")
            conn.execute(SchemaManager.get_schema())
            conn.execute(
                sql.SQL("comment on schema procrastinate is {}").format(
                    sql.Literal(procrastinate_schema.comment_for(procrastinate.__version__))
                )
            )
        conn.execute("select matching.enqueue_task('backfill', 'maintenance', 'kept')")
    report = migrate(blank_db_url, test_settings)
    assert not report.procrastinate_installed
    assert any("procrastinate_queue" in label for label in report.applied)
    with psycopg.connect(blank_db_url) as conn:
        assert (
            conn.execute(
                "select count(*) from procrastinate.procrastinate_jobs where queueing_lock = 'kept'"
            ).fetchone()[0]
            == 1
        )
        unset = conn.execute(
            "select count(*) from pg_proc where pronamespace = 'procrastinate'::regnamespace"
            " and proconfig is null"
        ).fetchone()[0]
    assert unset == 0


def test_a_queue_of_another_version_is_refused(blank_db_url, test_settings, tmp_path):
    migrate(blank_db_url, _settings_without_queue(test_settings, tmp_path))
    with psycopg.connect(blank_db_url, autocommit=True) as conn:
        conn.execute(
            "create schema procrastinate;"
            " create table procrastinate.procrastinate_jobs (id bigint);"
            " comment on schema procrastinate is 'procrastinate 0.1.0 job queue (internal)'"
        )
    with pytest.raises(MigrationError, match=r"MT040.*procrastinate 0\.1\.0"):
        migrate(blank_db_url, test_settings)


def test_writes_made_before_the_queue_existed_are_caught_up(blank_db_url, test_settings, tmp_path):
    """A database migrated by `supabase db push` before the queue was a migration had no
    queue: its edits ended in matching.enqueue_failures. Installing the queue queues one
    backfill, which embeds what is stale and then rematches every entity."""
    migrate(blank_db_url, _settings_without_queue(test_settings, tmp_path))
    with psycopg.connect(blank_db_url, autocommit=True) as conn:
        conn.execute(
            "insert into public.talents (headline, experience_level, years_experience)"
            " values ('Engineer', 'mid', 3)"
        )
        failures = conn.execute("select count(*) from matching.enqueue_failures").fetchone()[0]
    assert failures == 1  # the write went through; its job had nowhere to go
    report = migrate(blank_db_url, test_settings)
    assert report.procrastinate_installed
    with psycopg.connect(blank_db_url) as conn:
        jobs = conn.execute(
            "select task_name, args, status from procrastinate.procrastinate_jobs"
        ).fetchall()
    assert jobs == [("matching:backfill", {"kind": "job"}, "todo")]


def test_a_fresh_install_queues_no_backfill(blank_db_url, test_settings):
    migrate(blank_db_url, test_settings)
    with psycopg.connect(blank_db_url) as conn:
        assert (
            conn.execute("select count(*) from procrastinate.procrastinate_jobs").fetchone()[0] == 0
        )


def test_upgrade_scripts_are_procrastinates_own_in_order():
    scripts = procrastinate_schema.upgrade_scripts("3.3.0", "3.4.0")
    assert [p.name for p in scripts] == sorted(
        p.name
        for p in Path(SchemaManager.get_migrations_path()).iterdir()
        if p.name.startswith("03.04.00_")
    )
    assert scripts
    text = procrastinate_schema.render_upgrade("3.3.0", "3.4.0")
    assert text.startswith(procrastinate_schema.MARKER)
    assert all(p.read_text().strip() in text for p in scripts)
    with pytest.raises(ValueError, match="not older"):
        procrastinate_schema.upgrade_scripts(procrastinate.__version__)
