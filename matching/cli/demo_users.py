"""Sign-in users for `matching demo`, so a person can try the API as a talent
and as a company member instead of as the database owner.

Two seeded talents and the company with the most open jobs get accounts in
`auth.users` with a known password (GoTrue's bcrypt hash in
`encrypted_password`). The password is published, so the demo makes them only
in a database it seeded itself (`run_demo` decides), marks them
(`raw_user_meta_data.demo`), and never touches an account it did not make.

Only the columns the table has are written: the plain-Postgres shim has a
handful, Supabase's GoTrue table many more (its token columns must be empty
strings, not null, and a password sign-in needs an `auth.identities` row), so
one code path serves both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import bcrypt
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from matching.db import queries

DEMO_PASSWORD = "matching-demo"
DEMO_DOMAIN = "demo.example"
# GoTrue scans these as strings: null would break its sign-in
_GOTRUE_EMPTY_STRINGS = (
    "confirmation_token",
    "recovery_token",
    "email_change_token_new",
    "email_change",
)


class DemoUsersError(RuntimeError):
    pass


@dataclass(frozen=True)
class DemoUser:
    email: str
    user_id: uuid.UUID
    kind: Literal["talent", "company"]
    #: the talent profile it owns, or its company's open jobs (up to 3)
    entity_ids: tuple[uuid.UUID, ...]
    #: "talent" or the role and company name ("owner of Acme")
    label: str


def _columns(conn: psycopg.Connection[Any], table: str) -> set[str]:
    rows = conn.execute(
        "select column_name from information_schema.columns"
        " where table_schema = 'auth' and table_name = %s",
        (table,),
    ).fetchall()
    return {r[0] for r in rows}


def _ensure_password_column(conn: psycopg.Connection[Any]) -> set[str]:
    columns = _columns(conn, "users")
    if not columns:
        raise DemoUsersError("the database has no auth.users table; run `matching migrate` first")
    if "encrypted_password" in columns:
        return columns
    # an auth schema shimmed before the column existed: ours to extend
    try:
        with conn.transaction():
            conn.execute("alter table auth.users add column encrypted_password text")
    except psycopg.errors.InsufficientPrivilege as exc:
        raise DemoUsersError(
            "auth.users has no encrypted_password column and this role cannot add it"
        ) from exc
    return columns | {"encrypted_password"}


def _upsert_user(conn: psycopg.Connection[Any], columns: set[str], email: str) -> uuid.UUID:
    hashed = bcrypt.hashpw(DEMO_PASSWORD.encode(), bcrypt.gensalt()).decode()
    found = conn.execute(queries.query("demo_user_by_email"), {"email": email}).fetchone()
    if found is not None:
        user_id: uuid.UUID = found[0]
        if not found[1]:
            raise DemoUsersError(f"{email} is an account the demo did not make; not touching it")
        conn.execute(
            "update auth.users set encrypted_password = %s where id = %s", (hashed, user_id)
        )
        return user_id
    user_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": user_id,
        "email": email,
        "encrypted_password": hashed,
        "raw_app_meta_data": Jsonb({"provider": "email", "providers": ["email"]}),
        "raw_user_meta_data": Jsonb({"demo": True}),
        "aud": "authenticated",
        "role": "authenticated",
        "instance_id": uuid.UUID(int=0),
    }
    values.update(dict.fromkeys(_GOTRUE_EMPTY_STRINGS, ""))
    values = {k: v for k, v in values.items() if k in columns}
    stamps = [c for c in ("email_confirmed_at", "created_at", "updated_at") if c in columns]
    names = [*values, *stamps]
    conn.execute(
        sql.SQL("insert into auth.users ({}) values ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(
                [sql.Placeholder(k) for k in values] + [sql.SQL("now()") for _ in stamps]
            ),
        ),
        values,
    )
    _add_identity(conn, user_id, email)
    return user_id


def _add_identity(conn: psycopg.Connection[Any], user_id: uuid.UUID, email: str) -> None:
    """Supabase's GoTrue signs in through an email identity; the shim has none."""
    columns = _columns(conn, "identities")
    if not columns:
        return
    values: dict[str, Any] = {
        "id": uuid.uuid4() if "provider_id" in columns else str(user_id),
        "provider_id": str(user_id),
        "user_id": user_id,
        "identity_data": Jsonb({"sub": str(user_id), "email": email, "email_verified": True}),
        "provider": "email",
    }
    values = {k: v for k, v in values.items() if k in columns}
    stamps = [c for c in ("last_sign_in_at", "created_at", "updated_at") if c in columns]
    conn.execute(
        sql.SQL("insert into auth.identities ({}) values ({}) on conflict do nothing").format(
            sql.SQL(", ").join(map(sql.Identifier, [*values, *stamps])),
            sql.SQL(", ").join(
                [sql.Placeholder(k) for k in values] + [sql.SQL("now()") for _ in stamps]
            ),
        ),
        values,
    )


def ensure_demo_users(conn: psycopg.Connection[Any]) -> list[DemoUser]:
    """Create (or reuse, resetting the password) the demo's sign-in users, in
    one transaction: either all of them exist afterwards or none changed."""
    users: list[DemoUser] = []
    with conn.transaction():
        columns = _ensure_password_column(conn)
        talent_emails = [f"talent{n}@{DEMO_DOMAIN}" for n in (1, 2)]
        with conn.cursor(row_factory=dict_row) as cur:
            picked = cur.execute(
                queries.query("demo_users_pick"),
                {"owner_email": f"owner@{DEMO_DOMAIN}"},
            ).fetchone()
        if picked is None or picked["company_id"] is None:
            raise DemoUsersError("the marketplace has no open jobs")
        fresh = list(picked["talent_ids"])
        for email in talent_emails:
            owned = conn.execute(queries.query("demo_owned_talent"), {"email": email}).fetchone()
            if owned is None and not fresh:
                raise DemoUsersError(
                    "the marketplace has no open-to-work talent left to sign in as"
                )
            talent_id = owned[0] if owned is not None else fresh.pop(0)
            user_id = _upsert_user(conn, columns, email)
            linked = conn.execute(
                queries.query("demo_link_talent"), {"user_id": user_id, "talent_id": talent_id}
            ).fetchone()
            if linked is None:
                raise DemoUsersError(f"talent {talent_id} belongs to another account")
            users.append(DemoUser(email, user_id, "talent", (talent_id,), "talent"))
        with conn.cursor(row_factory=dict_row) as cur:
            company = cur.execute(
                queries.query("demo_company_jobs"), {"company_id": picked["company_id"]}
            ).fetchone()
        assert company is not None, "the company was just picked"
        for role in ("owner", "recruiter"):
            email = f"{role}@{DEMO_DOMAIN}"
            user_id = _upsert_user(conn, columns, email)
            conn.execute(
                queries.query("demo_add_member"),
                {"company_id": picked["company_id"], "user_id": user_id, "role": role},
            )
            label = f"{role} of {company['name']}"
            users.append(DemoUser(email, user_id, "company", tuple(company["job_ids"]), label))
    return users


def demo_users_for(conn: psycopg.Connection[Any], *, seeded_now: bool) -> list[DemoUser]:
    """The demo's sign-in users, made only in a database the demo seeded (now,
    or on an earlier run that made them): in a database that held data before,
    the people may be real, and a published password must not open them."""
    if not seeded_now and not demo_users_exist(conn):
        return []
    return ensure_demo_users(conn)


def demo_users_exist(conn: psycopg.Connection[Any]) -> bool:
    """Whether an earlier demo run made its sign-in users here."""
    if not _columns(conn, "users"):
        return False
    row = conn.execute(
        queries.query("demo_users_exist"), {"pattern": f"%@{DEMO_DOMAIN}"}
    ).fetchone()
    return bool(row and row[0])


def _psql_target(url: str) -> str:
    """The URL for the printout, unless it holds a password: then the variable."""
    try:
        has_password = bool(conninfo_to_dict(url).get("password"))
    except psycopg.ProgrammingError:
        has_password = True
    return '"$DATABASE_URL"' if has_password else f"'{url}'"


def print_how_to_call(url: str, users: list[DemoUser], say: Callable[[str], None]) -> None:
    """The printout: who to sign in as, and one call each from psql and supabase-js."""
    say(f"demo users (password: {DEMO_PASSWORD}):")
    for u in users:
        ids = ", ".join(str(i) for i in u.entity_ids)
        what = "talent" if u.kind == "talent" else "jobs"
        say(f"  {u.email:<26} {u.label}; {what} {ids}")
    talent = next(u for u in users if u.kind == "talent")
    member = next(u for u in users if u.kind == "company")
    # inside the shell's double quotes below
    claims = json.dumps({"sub": str(talent.user_id), "role": "authenticated"}).replace('"', '\\"')
    say("call the API as the first talent from psql (what PostgREST does per request):")
    say(
        f'  psql {_psql_target(url)} -c "set role authenticated;'
        f" select set_config('request.jwt.claims', '{claims}', false);"
        f" select title, score, source from public.get_talent_matches('{talent.entity_ids[0]}',"
        ' 5);"'
    )
    say("or from supabase-js, against `supabase start` (or any PostgREST + GoTrue):")
    say(
        f"  await supabase.auth.signInWithPassword({{ email: '{member.email}',"
        f" password: '{DEMO_PASSWORD}' }})"
    )
    if member.entity_ids:
        say(
            f"  const {{ data, error }} = await supabase.rpc('get_job_matches',"
            f" {{ p_job_id: '{member.entity_ids[0]}' }})"
        )
    say("  (the example dashboards in clients/typescript/example do exactly this)")
