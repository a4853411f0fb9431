"""Named SQL queries, kept in `matching/db/sql/*.sql` rather than in Python strings.

The pattern is procrastinate's: every statement the library runs is a named
block in a `.sql` file, so the SQL can be read, reviewed and linted as SQL,
and a Python module says *which* query it runs, not how. A block starts with
a line `-- name: <query_name>`; the comment lines right after it say why the
query exists. Names are unique across all files; a duplicate or an unknown
name is an error at the first lookup, not a silent fallback.

Identifiers are never spliced in with f-strings: a query that is the same for
both sides of the market takes `{table}`-style placeholders filled with
`psycopg.sql.Identifier` through `query(name).format(...)`.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from psycopg import sql

__all__ = ["QueryError", "names", "query", "text"]

_NAME = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


class QueryError(LookupError):
    """A named query is missing or defined twice."""


@functools.cache
def _load() -> dict[str, str]:
    found: dict[str, str] = {}
    folder = resources.files("matching.db") / "sql"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        content = entry.read_text(encoding="utf-8")
        marks = list(_NAME.finditer(content))
        for i, mark in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(content)
            body = content[mark.end() : end].strip()
            name = mark.group(1)
            if name in found:
                raise QueryError(f"query {name!r} is defined twice (again in {entry.name})")
            if not body:
                raise QueryError(f"query {name!r} in {entry.name} is empty")
            found[name] = body
    return found


def names() -> list[str]:
    """Every query name, sorted (for tests that check each one parses)."""
    return sorted(_load())


def text(name: str) -> str:
    """The SQL of one query, leading comments included."""
    try:
        return _load()[name]
    except KeyError:
        raise QueryError(f"no SQL query named {name!r} in matching/db/sql/") from None


def query(name: str) -> sql.SQL:
    """One query as a composable `psycopg.sql.SQL` (call `.format()` to fill identifiers).

    The leading comment lines stay in the file: the server gets the statement
    itself, so pg_stat_activity and the logs show it first, not its comment.
    """
    lines = text(name).splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    return sql.SQL("\n".join(lines))  # trusted: the text ships in the package
