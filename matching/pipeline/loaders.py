"""Read talents and jobs from Postgres into the columnar frames features need.

Enum ordinals and bitmasks are computed by Postgres (it knows the enum
order); time zones and currencies are converted in Python by the same
functions the pydantic path uses, so the fallback parity test also covers
them.

Stored data is validated when written (the time-zone rule is
`matching.is_valid_timezone`), but rows written before a rule existed, or a
zone Postgres knows and this Python's tzdata does not, can still hold a value
Python cannot convert. Such a row raises `BadEntityDataError` (code MT041)
naming the entity, or, when the caller passes `rejected`, is left out of the
frame and reported there: one bad counterpart must not fail another entity's
rematch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import numpy as np
import psycopg
from psycopg.rows import class_row

from matching.db.queries import query
from matching.features.extraction import (
    JobFrame,
    SkillMatrix,
    TalentFrame,
    salary_usd,
    utc_offset_hours,
)

R = TypeVar("R", "TalentRow", "JobRow")


def load_fx_rates(conn: psycopg.Connection) -> dict[str, float]:
    """Units per USD by currency, from matching.fx_rates."""
    return dict(conn.execute(query("fx_rates")).fetchall())


@dataclass(frozen=True)
class TalentRow:
    """One row of the `talent_frame` query (ordinals and bitmasks from SQL)."""

    id: UUID
    level: int | None
    years: float | None
    lat: float | None
    lon: float | None
    timezone: str | None
    remote_preference: int | None
    salary_min: int | None
    salary_max: int | None
    salary_currency: str | None
    preferred_industries: int
    preferred_sizes: int
    work_styles: int


@dataclass(frozen=True)
class JobRow:
    """One row of the `job_frame` query (with its company's culture fields)."""

    id: UUID
    level: int | None
    min_years: float | None
    max_years: float | None
    lat: float | None
    lon: float | None
    timezone: str | None
    remote_policy: int | None
    salary_min: int | None
    salary_max: int | None
    salary_currency: str | None
    industry: int | None
    company_size: int | None
    work_styles: int


class UnknownEntityError(LookupError):
    """Some requested ids do not exist."""


class BadEntityDataError(ValueError):
    """An entity's stored data cannot be turned into features (stable code MT041)."""

    code = "MT041"

    def __init__(self, kind: str, entity_id: UUID, reason: str) -> None:
        self.kind = kind
        self.entity_id = entity_id
        self.reason = reason
        super().__init__(f"[{self.code}] {kind} {entity_id} cannot be featurised: {reason}")


def _tz_offset(tz: str | None) -> float:
    """`utc_offset_hours`, with every failure as a ValueError that says which value."""
    try:
        return utc_offset_hours(tz)
    except (KeyError, ValueError, OSError, IndexError) as exc:
        # ZoneInfoNotFoundError is a KeyError; malformed keys raise ValueError
        raise ValueError(f"time zone {tz!r} cannot be loaded ({type(exc).__name__})") from None


def _convert(
    kind: str,
    rows: list[R],
    convert: Callable[[R], tuple[float, tuple[float, float]]],
    rejected: dict[UUID, str] | None,
) -> tuple[list[R], list[tuple[float, tuple[float, float]]]]:
    """Rows whose Python conversions succeed, with their converted values
    (UTC offset, salary range in USD).

    A failing row raises BadEntityDataError, or with `rejected` given is
    recorded there (id -> reason) and dropped.
    """
    kept: list[R] = []
    converted: list[tuple[float, tuple[float, float]]] = []
    for row in rows:
        try:
            values = convert(row)
        except ValueError as exc:
            if rejected is None:
                raise BadEntityDataError(kind, row.id, str(exc)) from None
            rejected[row.id] = str(exc)
            continue
        kept.append(row)
        converted.append(values)
    return kept, converted


def _column(rows: Sequence[Any], name: str, dtype: type, none: float = np.nan) -> np.ndarray:
    values = [getattr(r, name) for r in rows]
    return np.array([none if v is None else v for v in values], dtype=dtype)


def _skills(conn: psycopg.Connection, query_name: str, ids: list[UUID], n: int) -> SkillMatrix:
    """CSR skills of the entities at positions 0..n-1 of `ids`."""
    rows = conn.execute(query(query_name), (ids,)).fetchall()
    owners, skill_ids, a, b = zip(*rows, strict=True) if rows else ((), (), (), ())
    owner = np.array(owners, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=indptr[1:])
    return SkillMatrix(
        indptr,
        np.array(skill_ids, dtype=np.int64),
        np.array(a, dtype=np.float64),
        np.array(b, dtype=np.float64),
    )


def _rows(conn: psycopg.Connection, query_name: str, row: type[R], ids: list[UUID]) -> list[R]:
    with conn.cursor(row_factory=class_row(row)) as cur:
        cur.execute(query(query_name), (ids,))
        return cur.fetchall()


def _check_found(kind: str, wanted: list[UUID], rows: Sequence[TalentRow | JobRow]) -> None:
    if len(rows) != len(wanted):
        found = {r.id for r in rows}
        missing = [str(i) for i in wanted if i not in found][:5]
        raise UnknownEntityError(f"unknown {kind} id(s): {', '.join(missing)}")


def load_talents(
    conn: psycopg.Connection,
    ids: Sequence[UUID],
    fx_per_usd: dict[str, float],
    rejected: dict[UUID, str] | None = None,
) -> TalentFrame:
    """Talents in the order of `ids` (which must be distinct and exist).

    A talent whose data cannot be converted raises BadEntityDataError, or is
    left out and recorded in `rejected` when that is given.
    """
    wanted = list(ids)
    rows = _rows(conn, "talent_frame", TalentRow, wanted)
    _check_found("talent", wanted, rows)
    rows, converted = _convert(
        "talent",
        rows,
        lambda r: (
            _tz_offset(r.timezone),
            salary_usd(r.salary_min, r.salary_max, r.salary_currency, fx_per_usd),
        ),
        rejected,
    )
    wanted = [r.id for r in rows]
    salaries = [c[1] for c in converted]
    return TalentFrame(
        ids=[r.id for r in rows],
        level=_column(rows, "level", np.int64),
        years=_column(rows, "years", np.float64),
        lat=_column(rows, "lat", np.float64),
        lon=_column(rows, "lon", np.float64),
        tz_offset=np.array([c[0] for c in converted], dtype=np.float64),
        remote_preference=_column(rows, "remote_preference", np.int64),
        salary_min_usd=np.array([s[0] for s in salaries], dtype=np.float64),
        salary_max_usd=np.array([s[1] for s in salaries], dtype=np.float64),
        preferred_industries=_column(rows, "preferred_industries", np.int64),
        preferred_sizes=_column(rows, "preferred_sizes", np.int64),
        work_styles=_column(rows, "work_styles", np.int64),
        skills=_skills(conn, "talent_skill_rows", wanted, len(rows)),
    )


def load_jobs(
    conn: psycopg.Connection,
    ids: Sequence[UUID],
    fx_per_usd: dict[str, float],
    rejected: dict[UUID, str] | None = None,
) -> JobFrame:
    """Jobs (with their company's culture fields) in the order of `ids`.

    A job whose data cannot be converted raises BadEntityDataError, or is
    left out and recorded in `rejected` when that is given.
    """
    wanted = list(ids)
    rows = _rows(conn, "job_frame", JobRow, wanted)
    _check_found("job", wanted, rows)
    rows, converted = _convert(
        "job",
        rows,
        lambda r: (
            _tz_offset(r.timezone),
            salary_usd(r.salary_min, r.salary_max, r.salary_currency, fx_per_usd),
        ),
        rejected,
    )
    wanted = [r.id for r in rows]
    salaries = [c[1] for c in converted]
    return JobFrame(
        ids=[r.id for r in rows],
        level=_column(rows, "level", np.int64),
        min_years=_column(rows, "min_years", np.float64),
        max_years=_column(rows, "max_years", np.float64),
        lat=_column(rows, "lat", np.float64),
        lon=_column(rows, "lon", np.float64),
        tz_offset=np.array([c[0] for c in converted], dtype=np.float64),
        remote_policy=_column(rows, "remote_policy", np.int64),
        salary_min_usd=np.array([s[0] for s in salaries], dtype=np.float64),
        salary_max_usd=np.array([s[1] for s in salaries], dtype=np.float64),
        industry=_column(rows, "industry", np.int64),
        company_size=_column(rows, "company_size", np.int64),
        work_styles=_column(rows, "work_styles", np.int64),
        skills=_skills(conn, "job_skill_rows", wanted, len(rows)),
    )
