"""Which database, and how to connect to it: one rule for CLI, worker and tests.

DATABASE_URL wins when set (Supabase, docker compose, any Postgres 15+ with
pgvector). Otherwise the embedded PostgreSQL under the project is started and
its `matching` database is used.
"""

from __future__ import annotations

from typing import Any

import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import scalar_row

from matching.db import embedded, queries
from matching.settings import Settings, get_settings

#: Errors that say nothing about the data: the connection was lost or refused
#: (server restart, failover, too many clients), the pool had no connection
#: in time, or the transaction lost a race. The same work can succeed later.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg.errors.SerializationFailure,
    psycopg.errors.DeadlockDetected,
    psycopg.errors.LockNotAvailable,
    psycopg_pool.PoolTimeout,
)


def is_transient(exc: BaseException) -> bool:
    """True when `exc` (or an error it was raised `from`) is a TRANSIENT_ERRORS error."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, TRANSIENT_ERRORS):
            return True
        seen.add(id(current))
        current = current.__cause__
    return False


def resolve_url(settings: Settings | None = None) -> str:
    """The database URL to use, starting the embedded server when needed."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    server = embedded.start(settings.pgdata)
    ensure_database(server.url("postgres"), settings.embedded_database)
    return server.url(settings.embedded_database)


def with_database(url: str, dbname: str) -> str:
    """Same server and credentials, another database."""
    return make_conninfo(url, dbname=dbname)


def database_name(url: str) -> str:
    return str(conninfo_to_dict(url).get("dbname") or "postgres")


def ensure_database(admin_url: str, name: str, *, template: str | None = None) -> bool:
    """Create database `name` unless it exists; True when it was created."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        with conn.cursor(row_factory=scalar_row) as cur:
            exists = cur.execute(queries.query("database_exists"), {"name": name}).fetchone()
        if exists:
            return False
        if template:
            query = queries.query("create_database_from_template").format(
                name=sql.Identifier(name), template=sql.Identifier(template)
            )
        else:
            query = queries.query("create_database").format(name=sql.Identifier(name))
        conn.execute(query)
        return True


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(queries.query("drop_database").format(name=sql.Identifier(name)))


def connect(url: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
    """A plain psycopg connection (the CLI's short-lived commands use these)."""
    return psycopg.connect(url or resolve_url(), **kwargs)
