"""Each named SQL query parses against the migrated schema.

Parsing is checked by the server, not by a Python parser: a query that
reads or writes rows is PREPAREd (Postgres parses it, resolves every table,
column, function and operator and infers the parameter types, without
running it); a utility statement (DDL, ANALYZE) cannot be prepared, so it
runs inside a transaction that is rolled back. Queries with identifier
placeholders (`{table}`) are only complete once filled, so for them the test
checks that `.format()` with identifiers composes, not that they parse.
"""

from __future__ import annotations

import re

import psycopg
import pytest
from psycopg import sql

from matching.db import queries

_IDENTIFIER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_PARAM = re.compile(r"%\((?P<name>[a-z_][a-z0-9_]*)\)[sbt]|%[sbt]|%%")
#: statements PREPARE accepts; anything else is a utility statement
_PREPARABLE = {"select", "insert", "update", "delete", "with", "values", "merge"}


def _first_keyword(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return stripped.split()[0].lower()
    return ""


def _numbered(text: str) -> tuple[str, int]:
    """psycopg placeholders as PREPARE's `$n` (a repeated name keeps its number)."""
    numbers: dict[str, int] = {}
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) == "%%":
            return "%"
        key = match.group("name") or f"#{count}"
        if key not in numbers:
            count += 1
            numbers[key] = count
        return f"${numbers[key]}"

    return _PARAM.sub(number, text), count


def test_every_plain_query_parses_in_a_migrated_database(db_url: str) -> None:
    checked: list[str] = []
    with psycopg.connect(db_url) as conn, conn.transaction(force_rollback=True):
        for name in queries.names():
            text = queries.text(name)
            if _IDENTIFIER.search(text):
                continue
            statement, n_params = _numbered(text)
            try:
                with conn.transaction():
                    if _first_keyword(text) in _PREPARABLE:
                        handle = sql.Identifier(f"check_{name}")
                        conn.execute(sql.SQL("prepare {} as ").format(handle) + sql.SQL(statement))
                        conn.execute(sql.SQL("deallocate {}").format(handle))
                    else:
                        assert n_params == 0, f"{name}: a utility statement with parameters"
                        conn.execute(sql.SQL(statement))
            except psycopg.Error as exc:
                pytest.fail(f"query {name} does not parse: {exc}")
            checked.append(name)
    assert checked
