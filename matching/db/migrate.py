"""Apply the SQL migrations in order and record them where the Supabase CLI does.

The file rules are the Supabase CLI's, so a file `supabase migration new`
creates is applied by both tools and a file the CLI skips is skipped here too
(with a warning): `<digits>_<anything>.sql`, in file-name order, one
transaction each, recorded in `supabase_migrations.schema_migrations`. So
`supabase db push` and `matching migrate` agree about what is applied. Before
them, on plain Postgres only, the auth shim stands in for Supabase's auth
schema (hosted Supabase refuses objects in `auth`, so it is not a migration).
procrastinate's job queue is a migration of its own
(`matching.procrastinate_schema` renders it), so either tool installs it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import scalar_row

from matching.db import procrastinate_schema, queries
from matching.settings import Settings, get_settings

#: the Supabase CLI's own rule (pkg/migration: `^([0-9]+)_(.*)\.sql$`)
MIGRATION_NAME = re.compile(r"^(?P<version>[0-9]+)_(?P<name>.*)\.sql$")
# The CLI skips a first file `<timestamp>_init.sql` older than this (the
# initial schema of CLI versions from before 2021-12-09); so do we.
_LEGACY_INIT = re.compile(r"([0-9]{14})_init\.sql")
_LEGACY_INIT_BEFORE = 20211209000000
#: procrastinate's tables live here (the worker's connections search it)
PROCRASTINATE_SCHEMA = procrastinate_schema.SCHEMA
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
    #: files the Supabase CLI would not apply either, with the reason
    skipped: list[str] = field(default_factory=list)
    #: applied although older than the newest version applied before them
    #: (`supabase db push` needs --include-all for those)
    out_of_order: list[str] = field(default_factory=list)
    auth_shim_applied: bool = False
    procrastinate_installed: bool = False


def discover(directory: Path, skipped: list[str] | None = None) -> list[Migration]:
    """Migrations in file-name order, as the Supabase CLI lists them.

    Files the CLI skips (not `<digits>_<name>.sql`, or a legacy first
    `_init.sql`) are left out and described in `skipped`; two files with one
    version are refused, since the history table could record only one.
    """
    if not directory.is_dir():
        raise MigrationError(f"migrations directory not found: {directory}")
    found: dict[str, Migration] = {}
    ordered: list[Migration] = []
    for index, path in enumerate(sorted(directory.iterdir(), key=lambda p: p.name)):
        if path.is_dir():
            continue
        legacy = _LEGACY_INIT.match(path.name)
        if index == 0 and legacy and int(legacy[1]) < _LEGACY_INIT_BEFORE:
            if skipped is not None:
                skipped.append(f"{path.name}: a legacy initial schema, skipped as the CLI does")
            continue
        match = MIGRATION_NAME.match(path.name)
        if not match:
            if skipped is not None:
                skipped.append(
                    f"{path.name}: not named <timestamp>_<name>.sql, so neither the"
                    " Supabase CLI nor matching applies it"
                )
            continue
        version = match["version"]
        if version in found:
            raise MigrationError(
                f"{path.name}: version {version} is used twice ({found[version].path.name})"
            )
        migration = Migration(version=version, name=match["name"], path=path)
        found[version] = migration
        ordered.append(migration)
    return ordered


def pending_migrations(conn: psycopg.Connection[Any], migrations_dir: Path) -> list[str]:
    """Migration files in `migrations_dir` the database has not applied."""
    with conn.cursor() as cur:
        row = cur.execute(
            queries.query("relation_exists"), {"name": "supabase_migrations.schema_migrations"}
        ).fetchone()
        applied: set[str] = set()
        if row and row[0]:
            applied = {r[0] for r in cur.execute(queries.query("applied_migration_versions"))}
    return [f"{m.version}_{m.name}" for m in discover(migrations_dir) if m.version not in applied]


def migrate(
    url: str, settings: Settings | None = None, *, progress: Progress | None = None
) -> MigrateReport:
    """Bring the database at `url` up to date; safe to run any number of times."""
    settings = settings or get_settings()
    say = progress or (lambda _msg: None)
    report = MigrateReport()
    migrations = discover(settings.migrations_dir, report.skipped)
    for reason in report.skipped:
        say(f"warning: skipped {reason}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(queries.query("migrate_lock"), {"key": ADVISORY_LOCK_KEY})
        try:
            if apply_auth_shim_if_missing(conn, settings.auth_shim):
                report.auth_shim_applied = True
                say("applied the plain-Postgres auth shim (no auth schema was present)")
            _ensure_history_table(conn)
            with conn.cursor(row_factory=scalar_row) as cur:
                applied: set[str] = set(
                    cur.execute(queries.query("applied_migration_versions")).fetchall()
                )
            newest = max(applied, default="")
            had_queue = _has_queue(conn)
            for migration in migrations:
                label = f"{migration.version}_{migration.name}"
                if migration.version in applied:
                    report.already_applied.append(label)
                    continue
                started = time.perf_counter()
                _apply(conn, migration)
                report.applied.append(label)
                say(f"applied {label} ({(time.perf_counter() - started) * 1000:.0f} ms)")
                # the CLI compares versions as strings, and so do we
                if migration.version < newest:
                    report.out_of_order.append(label)
                    say(
                        f"warning: {label} is older than {newest}, applied before it;"
                        " `supabase db push` applies such a file only with --include-all"
                    )
            if not had_queue and _has_queue(conn):
                report.procrastinate_installed = True
                say(f"installed the job queue (procrastinate) in schema {PROCRASTINATE_SCHEMA}")
        finally:
            conn.execute(queries.query("migrate_unlock"), {"key": ADVISORY_LOCK_KEY})
    return report


def _has_queue(conn: psycopg.Connection[Any]) -> bool:
    return _flag(conn, "relation_exists", {"name": f"{PROCRASTINATE_SCHEMA}.procrastinate_jobs"})


def _flag(conn: psycopg.Connection[Any], name: str, params: dict[str, Any] | None = None) -> bool:
    """The boolean a one-row check query answers (no row reads as false)."""
    with conn.cursor(row_factory=scalar_row) as cur:
        return bool(cur.execute(queries.query(name), params).fetchone())


def apply_auth_shim_if_missing(conn: psycopg.Connection[Any], shim: Path) -> bool:
    """Stand in for Supabase's auth schema on plain Postgres; True when applied.

    `supabase db push` on plain Postgres needs it first (`matching db shim`),
    since the migrations grant to Supabase's roles and policies call auth.uid().
    """
    if _flag(conn, "auth_schema_exists"):
        return False
    if not shim.is_file():
        raise MigrationError(f"no auth schema in the database and no auth shim at {shim}")
    try:
        with conn.transaction():
            conn.execute(shim.read_text(encoding="utf-8"))
    except psycopg.Error as exc:
        raise MigrationError(f"auth shim failed: {exc}") from exc
    return True


def _ensure_history_table(conn: psycopg.Connection[Any]) -> None:
    # Same shape the Supabase CLI creates; it adds columns the same way.
    with conn.transaction():
        conn.execute(queries.query("create_history_schema"))
        conn.execute(queries.query("create_history_table"))
        conn.execute(queries.query("extend_history_table"))


def _apply(conn: psycopg.Connection[Any], migration: Migration) -> None:
    text = migration.sql
    try:
        with conn.transaction():
            conn.execute(text)
            conn.execute(
                queries.query("record_migration"),
                {"version": migration.version, "statements": [text], "name": migration.name},
            )
    except psycopg.Error as exc:
        raise MigrationError(
            f"{migration.path.name} failed and was rolled back: {exc.sqlstate or ''} {exc}"
        ) from exc
