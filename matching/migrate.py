"""Apply the SQL migrations in order and record them where the Supabase CLI does.

`migrations/<14-digit UTC timestamp>_<name>.sql` files are applied one per
transaction and recorded in `supabase_migrations.schema_migrations`, so
`supabase db push` and `matching migrate` agree about what is applied. Before
them, on plain Postgres only, the auth shim stands in for Supabase's auth
schema; after them, procrastinate's schema is installed once in its own schema.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import procrastinate
import psycopg
from procrastinate.schema import SchemaManager
from psycopg import sql

from matching.settings import Settings, get_settings

MIGRATION_NAME = re.compile(r"^(?P<version>\d{14})_(?P<name>[a-z0-9_]+)\.sql$")
#: procrastinate's tables live here. Fixed, because SQL in the migrations
#: (the enqueue function) names it.
PROCRASTINATE_SCHEMA = "procrastinate"
# One lock for every migrating process: concurrent `matching migrate` runs
# (several worker containers starting at once) take turns.
ADVISORY_LOCK_KEY = 0x6D61_7463  # "matc"

Progress = Callable[[str], None]


class MigrationError(RuntimeError):
    """A migration file is malformed or failed to apply (nothing of it remains)."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass
class MigrateReport:
    applied: list[str] = field(default_factory=list)
    already_applied: list[str] = field(default_factory=list)
    auth_shim_applied: bool = False
    procrastinate_installed: bool = False


def discover(directory: Path) -> list[Migration]:
    """Migrations in version order; refuses stray or duplicate names loudly."""
    if not directory.is_dir():
        raise MigrationError(f"migrations directory not found: {directory}")
    found: dict[str, Migration] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix != ".sql":
            continue
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(
                f"{path.name}: migration files must be named <YYYYMMDDHHMMSS>_<name>.sql"
            )
        version = match["version"]
        if version in found:
            raise MigrationError(f"{path.name}: version {version} is used twice")
        found[version] = Migration(version=version, name=match["name"], path=path)
    return [found[v] for v in sorted(found)]


def migrate(
    url: str, settings: Settings | None = None, *, progress: Progress | None = None
) -> MigrateReport:
    """Bring the database at `url` up to date; safe to run any number of times."""
    settings = settings or get_settings()
    say = progress or (lambda _msg: None)
    migrations = discover(settings.migrations_dir)
    report = MigrateReport()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        try:
            if _apply_auth_shim_if_missing(conn, settings.auth_shim):
                report.auth_shim_applied = True
                say("applied the plain-Postgres auth shim (no auth schema was present)")
            _ensure_history_table(conn)
            applied = {
                row[0]
                for row in conn.execute("select version from supabase_migrations.schema_migrations")
            }
            for migration in migrations:
                label = f"{migration.version}_{migration.name}"
                if migration.version in applied:
                    report.already_applied.append(label)
                    continue
                started = time.perf_counter()
                _apply(conn, migration)
                report.applied.append(label)
                say(f"applied {label} ({(time.perf_counter() - started) * 1000:.0f} ms)")
            if _install_procrastinate_if_missing(conn, PROCRASTINATE_SCHEMA):
                report.procrastinate_installed = True
                say(
                    f"installed procrastinate {procrastinate.__version__} "
                    f"in schema {PROCRASTINATE_SCHEMA}"
                )
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    return report


def _apply_auth_shim_if_missing(conn: psycopg.Connection, shim: Path) -> bool:
    has_auth = conn.execute("select 1 from pg_namespace where nspname = 'auth'").fetchone()
    if has_auth:
        return False
    if not shim.is_file():
        raise MigrationError(f"no auth schema in the database and no auth shim at {shim}")
    try:
        with conn.transaction():
            conn.execute(shim.read_text(encoding="utf-8"))
    except psycopg.Error as exc:
        raise MigrationError(f"auth shim failed: {exc}") from exc
    return True


def _ensure_history_table(conn: psycopg.Connection) -> None:
    # Same shape the Supabase CLI creates; it adds columns the same way.
    with conn.transaction():
        conn.execute("create schema if not exists supabase_migrations")
        conn.execute(
            "create table if not exists supabase_migrations.schema_migrations"
            " (version text not null primary key)"
        )
        conn.execute(
            "alter table supabase_migrations.schema_migrations"
            " add column if not exists statements text[],"
            " add column if not exists name text"
        )


def _apply(conn: psycopg.Connection, migration: Migration) -> None:
    text = migration.sql
    try:
        with conn.transaction():
            conn.execute(text)
            conn.execute(
                "insert into supabase_migrations.schema_migrations (version, statements, name)"
                " values (%s, %s, %s)",
                (migration.version, [text], migration.name),
            )
    except psycopg.Error as exc:
        raise MigrationError(
            f"{migration.path.name} failed and was rolled back: {exc.sqlstate or ''} {exc}"
        ) from exc


def _install_procrastinate_if_missing(conn: psycopg.Connection, schema: str) -> bool:
    """procrastinate's tables live in their own schema, never exposed through the API.

    Its SQL is unqualified, so it is applied with search_path set to that
    schema; every connection of the worker sets the same search_path.
    """
    exists = conn.execute(
        "select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relname = 'procrastinate_jobs'",
        (schema,),
    ).fetchone()
    if exists:
        return False
    ident = sql.Identifier(schema)
    with conn.transaction():
        conn.execute(sql.SQL("create schema if not exists {}").format(ident))
        conn.execute("select set_config('search_path', %s, true)", (schema,))
        conn.execute(SchemaManager.get_schema())
        conn.execute(sql.SQL("revoke all on schema {} from public").format(ident))
        conn.execute(
            sql.SQL("revoke execute on all functions in schema {} from public").format(ident)
        )
        for role in ("anon", "authenticated"):
            has_role = conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone()
            if has_role:
                conn.execute(
                    sql.SQL("revoke all on schema {} from {}").format(ident, sql.Identifier(role))
                )
        conn.execute(
            sql.SQL("comment on schema {} is {}").format(
                ident,
                sql.Literal(f"procrastinate {procrastinate.__version__} job queue (internal)"),
            )
        )
    return True
