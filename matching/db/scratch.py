"""Throw-away servers and databases for tests and benchmarks.

Kept in the library (not in tests/) so the test suite and the benchmark
scripts create scratch databases the same way.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from matching.db import embedded
from matching.db.connection import drop_database, ensure_database, with_database


@contextmanager
def temporary_server() -> Iterator[str]:
    """An embedded PostgreSQL in a temporary directory; yields its admin URL."""
    pgdata = Path(tempfile.mkdtemp(prefix="matching-pg-"))
    try:
        server = embedded.start(pgdata)
        yield server.url("postgres")
    finally:
        embedded.stop(pgdata)
        shutil.rmtree(pgdata, ignore_errors=True)


def scratch_name(label: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower())[-30:].strip("_")
    return f"matching_t_{slug}_{uuid.uuid4().hex[:8]}"


@contextmanager
def temporary_database(admin_url: str, label: str, *, template: str | None = None) -> Iterator[str]:
    """A new database on the server at `admin_url` (a clone of `template`), dropped after."""
    name = scratch_name(label)
    ensure_database(admin_url, name, template=template)
    try:
        yield with_database(admin_url, name)
    finally:
        drop_database(admin_url, name)
