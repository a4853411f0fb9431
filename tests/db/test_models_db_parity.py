"""matching/models.py mirrors the database: enum values and limits agree."""

from __future__ import annotations

import re

import pytest

from matching.models import ARRAY_LIMITS, NUMBER_RANGES, PG_ENUMS, TEXT_LIMITS

pytestmark = pytest.mark.integration


def test_every_public_enum_is_mirrored_in_order(conn):
    rows = conn.execute(
        "select n.nspname || '.' || t.typname, array_agg(e.enumlabel order by e.enumsortorder)"
        " from pg_type t join pg_namespace n on n.oid = t.typnamespace"
        " join pg_enum e on e.enumtypid = t.oid group by 1"
    ).fetchall()
    in_db = {name: labels for name, labels in rows if name.startswith("public.")}
    assert set(in_db) == set(PG_ENUMS)
    for name, enum in PG_ENUMS.items():
        assert [m.value for m in enum] == in_db[name], name


def _checks(conn, table: str) -> list[str]:
    return [
        row[0]
        for row in conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint"
            " where conrelid = %s::regclass and contype = 'c'",
            (f"public.{table}",),
        )
    ]


def _bounds(conn, key: str, wrapper: str | None) -> tuple[float | None, float | None]:
    table, column = key.split(".")
    target = f"{wrapper}({column})" if wrapper else column
    pattern = re.compile(rf"{re.escape(target)}\)?(?:::numeric)?\s*(>=|<=)\s*[('\s]*(-?[\d.]+)")
    low = high = None
    for definition in _checks(conn, table):
        definition = definition.replace('"', "")
        for op, number in pattern.findall(definition):
            if op == ">=":
                low = float(number)
            else:
                high = float(number)
    return low, high


@pytest.mark.parametrize("key", sorted(TEXT_LIMITS))
def test_text_limits_match(conn, key):
    assert _bounds(conn, key, "char_length")[1] == TEXT_LIMITS[key]


@pytest.mark.parametrize("key", sorted(k for k in ARRAY_LIMITS if k != "companies.values"))
def test_array_limits_match(conn, key):
    assert _bounds(conn, key, "cardinality")[1] == ARRAY_LIMITS[key]


def test_company_values_limit_matches(conn):
    definitions = " ".join(_checks(conn, "companies"))
    assert f'cardinality("values") <= {ARRAY_LIMITS["companies.values"]}' in definitions


@pytest.mark.parametrize("key", sorted(NUMBER_RANGES))
def test_number_ranges_match(conn, key):
    assert _bounds(conn, key, None) == tuple(float(v) for v in NUMBER_RANGES[key])
