"""Database access: connections, the embedded server, migrations and named queries."""

from __future__ import annotations

from matching.db.connection import (
    TRANSIENT_ERRORS,
    connect,
    drop_database,
    ensure_database,
    is_transient,
    resolve_url,
    with_database,
)

__all__ = [
    "TRANSIENT_ERRORS",
    "connect",
    "drop_database",
    "ensure_database",
    "is_transient",
    "resolve_url",
    "with_database",
]
