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
from uuid import UUID

import numpy as np
import psycopg

from matching.features.extraction import (
    JobFrame,
    SkillMatrix,
    TalentFrame,
    salary_usd,
    utc_offset_hours,
)


def load_fx_rates(conn: psycopg.Connection) -> dict[str, float]:
    """Units per USD by currency, from matching.fx_rates."""
    return dict(conn.execute("select currency, units_per_usd from matching.fx_rates").fetchall())


def _bitmask_sql(column: str, enum_type: str) -> str:
    return (
        f"(select coalesce(bit_or(1::bigint << (array_position(enum_range(null::{enum_type}), x)"
        f" - 1)), 0) from unnest({column}) x)"
    )


def _ordinal_sql(column: str, enum_type: str) -> str:
    return f"array_position(enum_range(null::{enum_type}), {column}) - 1"


_TALENTS_SQL = f"""
    select t.id,
           {_ordinal_sql("t.experience_level", "public.experience_level")},
           t.years_experience::float8, t.latitude, t.longitude, t.timezone,
           {_ordinal_sql("t.remote_preference", "public.remote_preference")},
           t.salary_min, t.salary_max, t.salary_currency,
           {_bitmask_sql("t.preferred_industries", "public.industry")},
           {_bitmask_sql("t.preferred_company_sizes", "public.company_size")},
           {_bitmask_sql("t.work_styles", "public.work_style")}
    from unnest(%s::uuid[]) with ordinality as i (id, ord)
    join public.talents t on t.id = i.id
    order by i.ord
"""

_TALENT_SKILLS_SQL = """
    select i.ord - 1, ts.skill_id, ts.proficiency::float8, ts.years::float8
    from unnest(%s::uuid[]) with ordinality as i (id, ord)
    join public.talent_skills ts on ts.talent_id = i.id
    order by i.ord, ts.skill_id
"""

_JOBS_SQL = f"""
    select j.id,
           {_ordinal_sql("j.experience_level", "public.experience_level")},
           j.min_years::float8, j.max_years::float8, j.latitude, j.longitude, j.timezone,
           {_ordinal_sql("j.remote_policy", "public.remote_policy")},
           j.salary_min, j.salary_max, j.salary_currency,
           {_ordinal_sql("c.industry", "public.industry")},
           {_ordinal_sql("c.size", "public.company_size")},
           {_bitmask_sql("c.work_styles", "public.work_style")}
    from unnest(%s::uuid[]) with ordinality as i (id, ord)
    join public.jobs j on j.id = i.id
    join public.companies c on c.id = j.company_id
    order by i.ord
"""

_JOB_SKILLS_SQL = """
    select i.ord - 1, js.skill_id, js.min_proficiency::float8,
           case when js.required then 1.0 else 0.0 end
    from unnest(%s::uuid[]) with ordinality as i (id, ord)
    join public.job_skills js on js.job_id = i.id
    order by i.ord, js.skill_id
"""


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
    rows: list[tuple],
    convert: Callable[[tuple], tuple],
    rejected: dict[UUID, str] | None,
) -> tuple[list[tuple], list[tuple]]:
    """Rows whose Python conversions succeed, with their converted values.

    A failing row raises BadEntityDataError, or with `rejected` given is
    recorded there (id -> reason) and dropped.
    """
    kept: list[tuple] = []
    converted: list[tuple] = []
    for row in rows:
        try:
            values = convert(row)
        except ValueError as exc:
            if rejected is None:
                raise BadEntityDataError(kind, row[0], str(exc)) from None
            rejected[row[0]] = str(exc)
            continue
        kept.append(row)
        converted.append(values)
    return kept, converted


def _column(rows: list[tuple], k: int, dtype: type, none: float = np.nan) -> np.ndarray:
    return np.array([none if r[k] is None else r[k] for r in rows], dtype=dtype)


def _skills(conn: psycopg.Connection, query: str, ids: list[UUID], n: int) -> SkillMatrix:
    rows = conn.execute(query, (ids,)).fetchall()
    owner = np.array([r[0] for r in rows], dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n), out=indptr[1:])
    return SkillMatrix(
        indptr,
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=np.float64),
        np.array([r[3] for r in rows], dtype=np.float64),
    )


def _check_found(kind: str, wanted: list[UUID], rows: list[tuple]) -> None:
    if len(rows) != len(wanted):
        found = {r[0] for r in rows}
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
    rows = conn.execute(_TALENTS_SQL, (wanted,)).fetchall()
    _check_found("talent", wanted, rows)
    rows, converted = _convert(
        "talent",
        rows,
        lambda r: (_tz_offset(r[5]), salary_usd(r[7], r[8], r[9], fx_per_usd)),
        rejected,
    )
    wanted = [r[0] for r in rows]
    salaries = [c[1] for c in converted]
    return TalentFrame(
        ids=[r[0] for r in rows],
        level=_column(rows, 1, np.int64),
        years=_column(rows, 2, np.float64),
        lat=_column(rows, 3, np.float64),
        lon=_column(rows, 4, np.float64),
        tz_offset=np.array([c[0] for c in converted], dtype=np.float64),
        remote_preference=_column(rows, 6, np.int64),
        salary_min_usd=np.array([s[0] for s in salaries], dtype=np.float64),
        salary_max_usd=np.array([s[1] for s in salaries], dtype=np.float64),
        preferred_industries=_column(rows, 10, np.int64),
        preferred_sizes=_column(rows, 11, np.int64),
        work_styles=_column(rows, 12, np.int64),
        skills=_skills(conn, _TALENT_SKILLS_SQL, wanted, len(rows)),
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
    rows = conn.execute(_JOBS_SQL, (wanted,)).fetchall()
    _check_found("job", wanted, rows)
    rows, converted = _convert(
        "job",
        rows,
        lambda r: (_tz_offset(r[6]), salary_usd(r[8], r[9], r[10], fx_per_usd)),
        rejected,
    )
    wanted = [r[0] for r in rows]
    salaries = [c[1] for c in converted]
    return JobFrame(
        ids=[r[0] for r in rows],
        level=_column(rows, 1, np.int64),
        min_years=_column(rows, 2, np.float64),
        max_years=_column(rows, 3, np.float64),
        lat=_column(rows, 4, np.float64),
        lon=_column(rows, 5, np.float64),
        tz_offset=np.array([c[0] for c in converted], dtype=np.float64),
        remote_policy=_column(rows, 7, np.int64),
        salary_min_usd=np.array([s[0] for s in salaries], dtype=np.float64),
        salary_max_usd=np.array([s[1] for s in salaries], dtype=np.float64),
        industry=_column(rows, 11, np.int64),
        company_size=_column(rows, 12, np.int64),
        work_styles=_column(rows, 13, np.int64),
        skills=_skills(conn, _JOB_SKILLS_SQL, wanted, len(rows)),
    )
