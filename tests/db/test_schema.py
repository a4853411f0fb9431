"""Migrations, history, RLS, indexes, model registry rule, auth shim."""

from __future__ import annotations

import json
import threading
import uuid

import psycopg
import pytest
from psycopg import errors

from matching.db.migrate import discover, migrate

pytestmark = pytest.mark.integration


def test_migrations_apply_twice_second_run_is_noop(fresh_db_url, test_settings):
    # the template already applied everything once
    report = migrate(fresh_db_url, test_settings)
    assert report.applied == []
    assert not report.auth_shim_applied
    assert not report.procrastinate_installed
    assert len(report.already_applied) == len(discover(test_settings.migrations_dir))


def test_migrate_applies_everything_on_an_empty_database(blank_db_url, test_settings):
    messages: list[str] = []
    first = migrate(blank_db_url, test_settings, progress=messages.append)
    second = migrate(blank_db_url, test_settings)
    assert first.auth_shim_applied and first.procrastinate_installed
    assert [m.version for m in discover(test_settings.migrations_dir)] == [
        label.split("_", 1)[0] for label in first.applied
    ]
    assert second.applied == [] and len(second.already_applied) == len(first.applied)
    assert any("applied" in m for m in messages)


def test_history_is_where_the_supabase_cli_looks(conn, test_settings):
    rows = conn.execute(
        "select version, name, statements from supabase_migrations.schema_migrations"
        " order by version"
    ).fetchall()
    expected = discover(test_settings.migrations_dir)
    assert [(r[0], r[1]) for r in rows] == [(m.version, m.name) for m in expected]
    assert all(r[2] for r in rows)


def test_procrastinate_lives_in_its_own_schema(conn):
    tables = conn.execute(
        "select n.nspname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where c.relname = 'procrastinate_jobs'"
    ).fetchall()
    assert tables == [("procrastinate",)]
    for role in ("anon", "authenticated"):
        usage = conn.execute(
            "select has_schema_privilege(%s, 'procrastinate', 'usage')", (role,)
        ).fetchone()[0]
        assert usage is False


def test_rls_is_enabled_on_every_table_in_public_and_matching(conn):
    tables = conn.execute(
        "select n.nspname, c.relname, c.relrowsecurity from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname in ('public', 'matching') and c.relkind in ('r', 'p')"
    ).fetchall()
    assert len(tables) >= 13
    assert [t for t in tables if not t[2]] == []


def test_api_roles_get_nothing_in_internal_schema(conn):
    for role in ("anon", "authenticated"):
        assert (
            conn.execute(
                "select has_schema_privilege(%s, 'matching', 'usage')", (role,)
            ).fetchone()[0]
            is False
        )
    conn.execute("set local role authenticated")
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("select * from matching.model_versions")


def test_without_policies_the_api_roles_see_no_app_rows(conn):
    conn.execute(
        "insert into public.talents (headline, experience_level, years_experience)"
        " values ('x', 'mid', 1)"
    )
    conn.execute("set local role anon")
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("select count(*) from public.talents")


def test_every_foreign_key_is_indexed(conn):
    # An FK is covered when some index starts with exactly its columns.
    unindexed = conn.execute(
        """
        select c.conrelid::regclass::text, c.conname
        from pg_constraint c
        join pg_namespace n on n.oid = c.connamespace
        where c.contype = 'f' and n.nspname in ('public', 'matching')
          and not exists (
            select 1 from pg_index i
            where i.indrelid = c.conrelid
              and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey
          )
        """
    ).fetchall()
    assert unindexed == []


def _register(conn: psycopg.Connection, version: str, active: bool = False) -> None:
    conn.execute(
        "insert into matching.model_versions (version, model_text, feature_names,"
        " training_samples, is_active, activated_at)"
        " values (%s, 'tree\nversion=v4', '{a}', 1, %s, case when %s then now() end)",
        (version, active, active),
    )


def test_at_most_one_active_model_version(conn):
    _register(conn, "m1", active=True)
    with (
        pytest.raises(errors.UniqueViolation, match="model_versions_one_active_idx"),
        conn.transaction(),
    ):
        _register(conn, "m2", active=True)
    _register(conn, "m3", active=False)
    assert (
        conn.execute("select count(*) from matching.model_versions where is_active").fetchone()[0]
        == 1
    )


def test_concurrent_activations_leave_one_active(fresh_db_url):
    with psycopg.connect(fresh_db_url, autocommit=True) as setup:
        for n in range(8):
            _register(setup, f"c{n}")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def activate(n: int) -> None:
        with psycopg.connect(fresh_db_url) as conn:
            barrier.wait()
            try:
                conn.execute(
                    "update matching.model_versions set is_active = true, activated_at = now()"
                    " where version = %s",
                    (f"c{n}",),
                )
                conn.commit()
                outcomes.append("ok")
            except errors.UniqueViolation:
                conn.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=activate, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and outcomes.count("refused") == 7
    with psycopg.connect(fresh_db_url) as conn:
        assert (
            conn.execute("select count(*) from matching.model_versions where is_active").fetchone()[
                0
            ]
            == 1
        )


def _as_user(conn: psycopg.Connection, claims: dict) -> None:
    conn.execute("set local role authenticated")
    conn.execute("select set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))


def test_auth_uid_is_the_sub_of_the_jwt_claims(conn):
    user = uuid.uuid4()
    _as_user(conn, {"sub": str(user), "role": "authenticated", "app_metadata": {"role": "admin"}})
    uid, role, jwt = conn.execute("select auth.uid(), auth.role(), auth.jwt()").fetchone()
    assert uid == user
    assert role == "authenticated"
    assert jwt["app_metadata"]["role"] == "admin"


def test_auth_uid_is_null_without_claims_and_after_the_transaction(db_url):
    with psycopg.connect(db_url) as conn:
        assert conn.execute("select auth.uid()").fetchone()[0] is None
        _as_user(conn, {"sub": str(uuid.uuid4())})
        conn.commit()
        # a local setting reads as '' (not NULL) once its transaction ended
        setting = conn.execute("select current_setting('request.jwt.claims', true)").fetchone()
        assert setting[0] == ""
        assert conn.execute("select auth.uid()").fetchone()[0] is None


def test_api_roles_do_not_inherit(conn):
    rows = conn.execute(
        "select rolname, rolinherit from pg_roles"
        " where rolname in ('anon', 'authenticated', 'service_role')"
    ).fetchall()
    assert sorted(rows) == [("anon", False), ("authenticated", False), ("service_role", False)]


def test_failed_migration_leaves_nothing_behind(fresh_db_url, test_settings, tmp_path):
    from matching.db.migrate import MigrationError

    for m in discover(test_settings.migrations_dir):
        (tmp_path / m.path.name).write_text(m.sql)
    (tmp_path / "29990101000000_good.sql").write_text("create table public.good_one (id int);")
    (tmp_path / "29990101000001_broken.sql").write_text(
        "create table public.half_done (id int);\nselect no_such_function();"
    )
    settings = test_settings.model_copy(update={"migrations_dir": tmp_path})
    with pytest.raises(MigrationError, match=r"29990101000001_broken\.sql failed"):
        migrate(fresh_db_url, settings)
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select to_regclass('public.good_one')").fetchone()[0] is not None
        assert conn.execute("select to_regclass('public.half_done')").fetchone()[0] is None
        versions = {
            r[0] for r in conn.execute("select version from supabase_migrations.schema_migrations")
        }
    assert "29990101000000" in versions and "29990101000001" not in versions


@pytest.mark.parametrize(
    "name",
    [
        "20261203120000_AddProfiles.sql",  # what `supabase migration new AddProfiles` writes
        "20261203120000_add-profiles.sql",
        "20261203120000_add profiles.sql",
        "7_short_version.sql",
    ],
)
def test_every_name_the_supabase_cli_applies_is_applied(tmp_path, name):
    (tmp_path / name).write_text("select 1;")
    skipped: list[str] = []
    found = discover(tmp_path, skipped)
    version, rest = name.split("_", 1)
    assert [(m.version, m.name) for m in found] == [(version, rest.removesuffix(".sql"))]
    assert skipped == []


@pytest.mark.parametrize(
    "name", ["notes.sql", "20261126050000-dash.sql", "README.md", "20261126050000_x.SQL"]
)
def test_files_the_supabase_cli_skips_are_skipped_with_a_warning(
    blank_db_url, test_settings, tmp_path, name
):
    for m in discover(test_settings.migrations_dir):
        (tmp_path / m.path.name).write_text(m.sql)
    (tmp_path / name).write_text("select no_such_function();")
    settings = test_settings.model_copy(update={"migrations_dir": tmp_path})
    messages: list[str] = []
    report = migrate(blank_db_url, settings, progress=messages.append)
    assert len(report.applied) == len(discover(test_settings.migrations_dir))
    assert len(report.skipped) == 1 and report.skipped[0].startswith(name)
    assert any(m.startswith(f"warning: skipped {name}") for m in messages)


def test_a_legacy_first_init_file_is_skipped_like_the_cli_does(tmp_path):
    (tmp_path / "20211001000000_init.sql").write_text("select 1;")
    (tmp_path / "20211001000001_next.sql").write_text("select 1;")
    skipped: list[str] = []
    assert [m.version for m in discover(tmp_path, skipped)] == ["20211001000001"]
    assert len(skipped) == 1


def test_two_files_with_one_version_are_refused(tmp_path):
    from matching.db.migrate import MigrationError

    (tmp_path / "20261203120000_a.sql").write_text("select 1;")
    (tmp_path / "20261203120000_b.sql").write_text("select 1;")
    with pytest.raises(MigrationError, match="used twice"):
        discover(tmp_path)


def test_an_older_file_is_applied_with_a_warning(fresh_db_url, test_settings, tmp_path):
    """`matching migrate` applies a file older than the newest applied one (a branch merged
    late) and says that `supabase db push` needs --include-all for it."""
    for m in discover(test_settings.migrations_dir):
        (tmp_path / m.path.name).write_text(m.sql)
    (tmp_path / "20200101000000_late_branch.sql").write_text("select 1;")
    settings = test_settings.model_copy(update={"migrations_dir": tmp_path})
    messages: list[str] = []
    report = migrate(fresh_db_url, settings, progress=messages.append)
    assert report.applied == report.out_of_order == ["20200101000000_late_branch"]
    assert any("--include-all" in m for m in messages)
