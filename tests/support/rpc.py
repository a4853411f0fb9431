"""Helpers that call the RPC API exactly as PostgREST does, and a small world
of users, talents, companies and jobs to call it on; shared by the
tests/db/test_rpc*.py modules."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

SENTINEL = object()


# --------------------------------------------------------------------- the API


@dataclass
class Caller:
    """Who makes a request: a database role, JWT claims and HTTP headers."""

    role: str
    claims: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=lambda: {"x-forwarded-for": "198.51.100.7"})

    @property
    def sub(self) -> str | None:
        return (self.claims or {}).get("sub")


def user(sub: uuid.UUID | str, *, admin: bool = False) -> Caller:
    claims: dict[str, Any] = {"sub": str(sub), "role": "authenticated", "aud": "authenticated"}
    if admin:
        claims["app_metadata"] = {"role": "admin", "provider": "email"}
    return Caller("authenticated", claims)


ANON = Caller("anon", {"role": "anon"})
SERVICE = Caller("service_role", {"role": "service_role"})


def start_request(conn: psycopg.Connection, caller: Caller, method: str = "POST") -> None:
    """What PostgREST runs before the main query of a request."""
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(caller.role)))
    conn.execute(
        "select set_config('request.jwt.claims', %s, true),"
        " set_config('request.headers', %s, true),"
        " set_config('request.method', %s, true)",
        (json.dumps(caller.claims or {}), json.dumps(caller.headers), method),
    )


def end_request(conn: psycopg.Connection) -> None:
    conn.execute("reset role")
    conn.execute(
        "select set_config('request.jwt.claims', '', true), set_config('request.headers', '', true)"
    )


class Api:
    """Calls public functions the way PostgREST's POST /rpc/<fn> does."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._signatures: dict[str, tuple[list[tuple[str, str]], bool]] = {}

    def signature(self, fn: str) -> tuple[list[tuple[str, str]], bool]:
        """(IN argument names and types, returns a set) from the catalog."""
        if fn not in self._signatures:
            row = self.conn.execute(
                """
                select p.proargnames, p.proargmodes,
                       array(select format_type(t, null) from unnest(p.proargtypes) t),
                       p.proretset
                from pg_proc p where p.oid = to_regprocedure(%s)
                """,
                (fn_regprocedure(self.conn, fn),),
            ).fetchone()
            assert row is not None, fn
            names, modes, types, retset = row
            names = names or []
            in_names = [n for i, n in enumerate(names) if modes is None or modes[i] in ("i", "b")]
            self._signatures[fn] = (list(zip(in_names, types, strict=True)), retset)
        return self._signatures[fn]

    def call(
        self,
        fn: str,
        args: dict[str, Any] | None = None,
        caller: Caller = SERVICE,
        *,
        hook: bool = True,
    ) -> Any:
        """One request in a savepoint: an error leaves the test's transaction usable."""
        args = args or {}
        params, retset = self.signature(fn)
        known = dict(params)
        for name in args:
            assert name in known, f"{fn} has no argument {name}"
        used = [(n, t) for n, t in params if n in args]
        record = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in used
        )
        named = sql.SQL(", ").join(
            sql.SQL("{} := a.{}").format(sql.Identifier(n), sql.Identifier(n)) for n, _ in used
        )
        target = sql.SQL("public.{}({})").format(sql.Identifier(fn), named)
        if used:
            source = sql.SQL(
                "(select * from json_to_record(%(body)s::json) as _({}) limit 1) a"
            ).format(record)
        else:
            source = sql.SQL("(select 1) a")
        if retset:
            query = sql.SQL(
                "select coalesce(json_agg(r), '[]') from {} cross join lateral {} r"
            ).format(source, target)
        else:
            query = sql.SQL("select to_json({}) from {}").format(target, source)
        with self.conn.transaction():
            start_request(self.conn, caller)
            if hook:
                self.conn.execute("select public.check_rate_limit()")
            params = {"body": json.dumps(args)} if used else None
            result = self.conn.execute(query, params).fetchone()[0]
            end_request(self.conn)
        return result

    def error(self, fn: str, args: dict[str, Any] | None = None, caller: Caller = SERVICE) -> Any:
        """The error a call raises (fails the test when it succeeds)."""
        with pytest.raises(psycopg.Error) as caught:
            self.call(fn, args, caller)
        return caught.value


_REGPROC: dict[str, str] = {}


def fn_regprocedure(conn: psycopg.Connection, fn: str) -> str:
    if fn not in _REGPROC:
        rows = conn.execute(
            "select p.oid::regprocedure::text from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace"
            " where n.nspname = 'public' and p.proname = %s",
            (fn,),
        ).fetchall()
        assert len(rows) == 1, f"public.{fn} must not be overloaded (PostgREST): {rows}"
        _REGPROC[fn] = rows[0][0]
    return _REGPROC[fn]


def constraint_names(conn: psycopg.Connection) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "select c.conname from pg_constraint c join pg_namespace n on n.oid = c.connamespace"
            " where n.nspname in ('public', 'matching', 'auth') and c.contype <> 'n'"
        )
    ]


def assert_clean(conn: psycopg.Connection, exc: psycopg.Error, codes: set[str] | str) -> None:
    """A stable, expected code and a message that names no constraint."""
    expected = {codes} if isinstance(codes, str) else codes
    assert exc.sqlstate in expected, (exc.sqlstate, str(exc))
    assert exc.sqlstate != "XX000"
    text = " ".join(
        filter(None, [str(exc), exc.diag.message_detail, exc.diag.message_hint])
    ).lower()
    leaked = [name for name in constraint_names(conn) if re.search(rf"\b{name}\b", text)]
    assert leaked == [], f"error names constraints {leaked}: {exc}"
    assert exc.diag.constraint_name is None


# ------------------------------------------------------------------- the world

MODEL = "rpc-test-1"


@dataclass
class World:
    users: dict[str, uuid.UUID]
    talents: dict[str, uuid.UUID]
    companies: dict[str, uuid.UUID]
    jobs: dict[str, uuid.UUID]
    skills: dict[str, int]

    def caller(self, name: str, *, admin: bool = False) -> Caller:
        return user(self.users[name], admin=admin)


def ml_explanation(skills: float, location: float) -> dict[str, Any]:
    return {
        "sub_scores": {"skills": skills, "location": location, "semantic": 50.0},
        "top_factors": [
            {"feature": "required_coverage", "contribution": 6.1, "sentence": "+6.1 points: a"},
            {"feature": "distance_km", "contribution": -3.2, "sentence": "-3.2 points: b"},
            {"feature": "salary_ratio", "contribution": 1.0, "sentence": "+1.0 points: c"},
            {"feature": "tz_overlap", "contribution": 0.5, "sentence": "+0.5 points: d"},
        ],
        "base_value": 50.0,
        "raw_score": 54.4,
        # the form rows written before matches.contributions existed still
        # have: the API must serve none of it
        "contributions": {"required_coverage": 6.1},
    }


@pytest.fixture
def world(conn: psycopg.Connection) -> World:
    """The small world below, in the test's rolled-back transaction."""
    return build_world(conn)


@pytest.fixture
def api(conn: psycopg.Connection) -> Api:
    return Api(conn)


def build_world(conn: psycopg.Connection) -> World:
    """Two talents with accounts, one without; two companies with open and draft
    jobs; stored ML matches for talent `ann` and job `x_open`; nothing stored
    for `bob` or `y_open` (they take the fallback path). Inserted by the owner;
    the matches are computed in the same transaction, so none is stale."""
    users = {name: uuid.uuid4() for name in ("ann", "bob", "xena", "xavier", "yuri", "admin")}
    for name, uid in users.items():
        conn.execute(
            "insert into auth.users (id, email) values (%s, %s)", (uid, f"{name}@example.test")
        )
    skill_ids = {}
    for name, category in (("Python", "software"), ("PostgreSQL", "data"), ("Go", "software")):
        skill_ids[name] = conn.execute(
            "insert into public.skills (name, category) values (%s || '-' || %s, %s) returning id",
            (name, uuid.uuid4().hex[:6], category),
        ).fetchone()[0]
    companies = {}
    for key, name in (("x", "Xylo"), ("y", "Yarn")):
        companies[key] = conn.execute(
            "insert into public.companies (name, industry, size, work_styles)"
            " values (%s, 'software', 'small', '{async,remote_first}') returning id",
            (name,),
        ).fetchone()[0]
    conn.execute(
        "insert into public.company_members (company_id, user_id, role) values"
        " (%s, %s, 'owner'), (%s, %s, 'recruiter'), (%s, %s, 'owner')",
        (
            companies["x"],
            users["xena"],
            companies["x"],
            users["xavier"],
            companies["y"],
            users["yuri"],
        ),
    )
    jobs = {}
    for key, company, status in (
        ("x_open", "x", "open"),
        ("x_other", "x", "open"),
        ("x_draft", "x", "draft"),
        ("y_open", "y", "open"),
        ("y_draft", "y", "draft"),
    ):
        jobs[key] = conn.execute(
            "insert into public.jobs (company_id, title, experience_level, remote_policy, status,"
            " salary_min, salary_max, salary_currency, updated_at)"
            " values (%s, %s, 'mid', 'remote', %s, 60000, 90000, 'EUR',"
            " now() - interval '2 hours') returning id",
            (companies[company], f"Engineer {key}", status),
        ).fetchone()[0]
    talents = {}
    for key, owner, open_to_work in (
        ("ann", users["ann"], True),
        ("bob", users["bob"], True),
        ("nobody", None, True),
        ("hidden", None, False),
    ):
        talents[key] = conn.execute(
            "insert into public.talents (user_id, headline, experience_level, years_experience,"
            " open_to_work, remote_preference, salary_min, salary_max, salary_currency,"
            " updated_at) values (%s, %s, 'mid', 4, %s, 'remote', 50000, 70000, 'EUR',"
            " now() - interval '2 hours') returning id",
            (owner, f"Engineer {key}", open_to_work),
        ).fetchone()[0]
    for talent in talents.values():
        conn.execute(
            "insert into public.talent_skills (talent_id, skill_id, proficiency, years)"
            " values (%s, %s, 4, 3), (%s, %s, 3, 2)",
            (talent, skill_ids["Python"], talent, skill_ids["PostgreSQL"]),
        )
    for job in jobs.values():
        conn.execute(
            "insert into public.job_skills (job_id, skill_id, required, min_proficiency)"
            " values (%s, %s, true, 3), (%s, %s, false, 2)",
            (job, skill_ids["Python"], job, skill_ids["Go"]),
        )
    conn.execute(
        "insert into matching.model_versions (version, model_text, feature_names,"
        " training_samples) values (%s, 'tree\nversion=v4', '{a,b,c}', 10)",
        (MODEL,),
    )
    stored = [
        ("ann", "x_open", 85.5, ml_explanation(90.0, 70.0)),
        ("ann", "x_other", 62.25, ml_explanation(55.0, 80.0)),
        ("ann", "x_draft", 99.0, ml_explanation(99.0, 99.0)),  # draft: never shown to ann
        ("ann", "y_draft", 98.0, ml_explanation(99.0, 99.0)),
        ("nobody", "x_open", 91.0, ml_explanation(40.0, 95.0)),
        ("hidden", "x_open", 95.0, ml_explanation(95.0, 95.0)),  # not open to work
    ]
    for talent, job, score, explanation in stored:
        conn.execute(
            "insert into public.matches (talent_id, job_id, score, source, model_version,"
            " explanation, features, computed_at)"
            " values (%s, %s, %s, 'ml', %s, %s, '{0.5,1,2}', now())",
            (talents[talent], jobs[job], score, MODEL, Jsonb(explanation)),
        )
    return World(users, talents, companies, jobs, skill_ids)
