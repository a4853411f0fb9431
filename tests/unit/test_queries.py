"""The named SQL queries load, their names are unique across files, and
identifier placeholders compose. Whether each query parses against the
migrated schema is tests/db/test_query_parsing.py.
"""

from __future__ import annotations

import re
from collections import Counter
from importlib import resources

import pytest
from psycopg import sql

from matching.db import queries

_NAME_LINE = re.compile(r"^-- name: (\S+)\s*$", re.MULTILINE)
_IDENTIFIER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _files() -> dict[str, str]:
    folder = resources.files("matching.db") / "sql"
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    }


def _first_keyword(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return stripped.split()[0].lower()
    return ""


def test_every_query_loads() -> None:
    names = queries.names()
    assert names, "no named queries found"
    for name in names:
        assert _first_keyword(queries.text(name)), f"{name} has no statement"
        assert isinstance(queries.query(name), sql.SQL)


def test_query_names_are_unique_across_files() -> None:
    found = Counter(name for text in _files().values() for name in _NAME_LINE.findall(text))
    assert found, "no `-- name:` lines found"
    assert [name for name, n in found.items() if n > 1] == []
    assert sorted(found) == queries.names()


def test_unknown_query_is_an_error() -> None:
    with pytest.raises(queries.QueryError):
        queries.text("no_such_query")


def test_identifier_placeholders_compose() -> None:
    templated = [n for n in queries.names() if _IDENTIFIER.search(queries.text(n))]
    for name in templated:
        fields = set(_IDENTIFIER.findall(queries.text(name)))
        composed = queries.query(name).format(**{f: sql.Identifier("x", f) for f in fields})
        rendered = composed.as_string(None)
        assert "{" not in rendered, name
        for f in fields:
            assert f'"x"."{f}"' in rendered, (name, f)
