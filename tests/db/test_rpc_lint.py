"""A database linter: the checks of Supabase's linter that apply here.

Runs on the migrated database (procrastinate installed) and fails when
- a table or view in an exposed schema lacks row-level security
  (rls_disabled_in_public, security_definer_view);
- a SECURITY DEFINER function has a mutable search_path, or a function in an
  exposed schema has none (function_search_path_mutable);
- an internal function is executable, or an internal table readable, by
  anon/authenticated, outside the explicit allow-list below;
- a foreign key has no index starting with its columns (unindexed_foreign_keys);
- a policy calls auth.uid()/auth.jwt() or a helper per row instead of once
  (auth_rls_initplan), or two permissive policies overlap (multiple_permissive_policies).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import psycopg
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
API_ROLES = ("anon", "authenticated")
INTERNAL_SCHEMAS = ("matching", "procrastinate")
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

# Internal functions API roles may execute, and why. Each is executed *by*
# the database on the caller's behalf (a CHECK or a policy references it by
# OID); API roles still have no USAGE on `matching`, so none is callable by
# name, through PostgREST or otherwise.
ALLOWED_INTERNAL_EXECUTE = {
    "matching.is_valid_timezone(text)": "talents/jobs CHECK constraints call it as the writer",
    "matching.text_items_ok(text[],integer)": "companies CHECK constraint calls it as the writer",
    "matching.current_talent_id()": "RLS policies: the caller's talent id (SECURITY DEFINER)",
    "matching.current_company_ids()": "RLS policies: the caller's companies (SECURITY DEFINER)",
    "matching.has_company_role(uuid,public.member_role[])": "RLS policies: the caller's role"
    " in a company (SECURITY DEFINER)",
    "matching.talent_in_market(uuid)": "RLS policy on matches: is a talent open to work"
    " (SECURITY DEFINER; members cannot read talents' rows)",
}

# Functions of the exposed schema anonymous callers may execute.
ALLOWED_ANON_EXECUTE = {
    "public.check_rate_limit()": "PostgREST's db-pre-request hook runs for every request",
}


@pytest.fixture(autouse=True)
def _qualified_names(conn: psycopg.Connection) -> None:
    # an empty search_path makes regprocedure/regclass print schema-qualified names
    conn.execute("set local search_path = ''")


def exposed_schemas() -> list[str]:
    config = tomllib.loads((ROOT / "supabase" / "config.toml").read_text())
    return list(config["api"]["schemas"])


def test_internal_schemas_are_not_exposed():
    assert not set(exposed_schemas()) & set(INTERNAL_SCHEMAS)
    assert "public" in exposed_schemas()


def test_every_table_in_an_exposed_schema_has_rls(conn):
    missing = conn.execute(
        "select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = any (%s) and c.relkind in ('r', 'p') and not c.relrowsecurity",
        (exposed_schemas(),),
    ).fetchall()
    assert missing == []


def test_views_in_an_exposed_schema_run_as_the_caller(conn):
    definer_views = conn.execute(
        "select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = any (%s) and c.relkind in ('v', 'm')"
        " and not coalesce('security_invoker=true' = any (c.reloptions), false)",
        (exposed_schemas(),),
    ).fetchall()
    assert definer_views == []


def our_functions(conn: psycopg.Connection) -> list[tuple[str, str, bool, list[str] | None]]:
    """(signature, schema, security definer, proconfig) of every function not
    owned by an extension, outside the system schemas."""
    return conn.execute(
        """
        select p.oid::regprocedure::text, n.nspname, p.prosecdef, p.proconfig
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname <> all (%s) and n.nspname !~ '^pg_temp'
          and not exists (select 1 from pg_depend d
                          where d.objid = p.oid and d.deptype = 'e')
        """,
        (list(SYSTEM_SCHEMAS),),
    ).fetchall()


def search_path_of(config: list[str] | None) -> list[str] | None:
    for item in config or []:
        if item.startswith("search_path="):
            value = item.split("=", 1)[1]
            return [s.strip().strip('"') for s in value.split(",") if s.strip().strip('"')]
    return None


def test_security_definer_functions_have_a_fixed_safe_search_path(conn):
    # Schemas an API role (or PUBLIC) may create objects in would let a caller
    # shadow what the function resolves: they must not be on the path.
    writable = {
        r[0]
        for r in conn.execute(
            "select n.nspname from pg_namespace n where "
            + " or ".join(f"has_schema_privilege('{r}', n.oid, 'create')" for r in API_ROLES)
            + " or has_schema_privilege('public', n.oid, 'create')"
        )
    }
    bad = []
    for signature, schema, definer, config in our_functions(conn):
        path = search_path_of(config)
        if not definer:
            continue
        if path is None:
            bad.append(f"{signature}: SECURITY DEFINER without search_path")
        elif set(path) & writable:
            bad.append(f"{signature}: search_path {path} has a schema API roles can write")
        elif schema in exposed_schemas() and path != ["pg_catalog", "pg_temp"]:
            bad.append(f"{signature}: exposed SECURITY DEFINER must use pg_catalog, pg_temp")
        elif path not in (["pg_catalog", "pg_temp"], ["pg_catalog", "procrastinate", "pg_temp"]):
            # pg_catalog, pg_temp everywhere (issue 12: without pg_temp named
            # last, temp tables and types are resolved first); the one
            # exception: code that inserts into procrastinate's tables, whose
            # triggers name its objects unqualified
            bad.append(
                f"{signature}: search_path must be pg_catalog, [procrastinate,] pg_temp; got {path}"
            )
    assert bad == []


def test_functions_in_an_exposed_schema_fix_their_search_path(conn):
    mutable = [
        signature
        for signature, schema, _, config in our_functions(conn)
        if schema in exposed_schemas() and search_path_of(config) is None
    ]
    assert mutable == []


def test_internal_functions_are_not_executable_by_api_roles(conn):
    executable = {
        signature
        for signature, schema, _, _ in our_functions(conn)
        if schema == "matching"
        and any(
            conn.execute(
                "select has_function_privilege(%s, %s::regprocedure, 'execute')", (role, signature)
            ).fetchone()[0]
            for role in API_ROLES
        )
    }
    assert executable == set(ALLOWED_INTERNAL_EXECUTE), (
        "internal functions executable by anon/authenticated that are not allow-listed (or"
        f" allow-listed ones that are gone): {executable ^ set(ALLOWED_INTERNAL_EXECUTE)}"
    )
    # policy helpers reveal only the caller's own memberships and are SECURITY DEFINER
    for signature in ALLOWED_INTERNAL_EXECUTE:
        assert not conn.execute(
            "select has_function_privilege('anon', %s::regprocedure, 'execute')", (signature,)
        ).fetchone()[0] or signature.startswith(("matching.is_valid", "matching.text_items"))


def test_procrastinate_is_out_of_reach_of_api_roles(conn):
    # procrastinate installs its functions with PUBLIC's default EXECUTE; what
    # keeps API roles out is the schema (no USAGE) and its tables (no grants)
    for role in API_ROLES:
        assert not conn.execute(
            "select has_schema_privilege(%s, 'procrastinate', 'usage')", (role,)
        ).fetchone()[0]
    reachable = conn.execute(
        """
        select p.oid::regprocedure::text, r.role
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace,
             unnest(%s::text[]) r (role)
        where n.nspname = 'procrastinate'
          and has_schema_privilege(r.role, n.oid, 'usage')
          and has_function_privilege(r.role, p.oid, 'execute')
        """,
        (list(API_ROLES),),
    ).fetchall()
    assert reachable == []


def test_internal_tables_grant_nothing_to_api_roles(conn):
    granted = conn.execute(
        """
        select c.oid::regclass::text, r.role
        from pg_class c join pg_namespace n on n.oid = c.relnamespace,
             unnest(%s::text[]) r (role)
        where n.nspname = any (%s) and c.relkind in ('r', 'p', 'v', 'm', 'S')
          and (has_table_privilege(r.role, c.oid, 'select, insert, update, delete, truncate')
               or (c.relkind = 'S' and has_sequence_privilege(r.role, c.oid, 'usage, select')))
        """,
        (list(API_ROLES), list(INTERNAL_SCHEMAS)),
    ).fetchall()
    assert granted == []


def test_anonymous_callers_execute_only_the_rate_limit_hook(conn):
    executable = {
        signature
        for signature, schema, _, _ in our_functions(conn)
        if schema in exposed_schemas()
        and conn.execute(
            "select has_function_privilege('anon', %s::regprocedure, 'execute')", (signature,)
        ).fetchone()[0]
    }
    assert executable == set(ALLOWED_ANON_EXECUTE)


def test_anonymous_callers_get_nothing_on_exposed_tables(conn):
    granted = conn.execute(
        "select c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = any (%s) and c.relkind in ('r', 'p', 'v', 'm')"
        " and has_table_privilege('anon', c.oid, 'select, insert, update, delete, truncate')",
        (exposed_schemas(),),
    ).fetchall()
    assert granted == []


@pytest.mark.parametrize("schemas", [("public", "matching"), ("procrastinate",)])
def test_every_foreign_key_has_a_covering_index(conn, schemas):
    # Covered: a valid, non-partial index whose leading columns are the FK's
    # (deletes and updates of the referenced row can then find referencing rows).
    unindexed = conn.execute(
        """
        select c.conrelid::regclass::text, c.conname
        from pg_constraint c join pg_namespace n on n.oid = c.connamespace
        where c.contype = 'f' and n.nspname = any (%s)
          and not exists (
            select 1 from pg_index i
            where i.indrelid = c.conrelid and i.indisvalid and i.indpred is null
              and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] = c.conkey
          )
        """,
        (list(schemas),),
    ).fetchall()
    if schemas == ("procrastinate",):
        # procrastinate's own schema: its partial index on worker_id only serves
        # jobs in progress; report it, it is upstream's to fix
        assert {name for _, name in unindexed} <= {"procrastinate_jobs_worker_id_fkey"}
    else:
        assert unindexed == []


def policies(conn: psycopg.Connection) -> list[tuple[str, str, str, str, list[str], str, str]]:
    return conn.execute(
        "select schemaname, tablename, policyname, cmd, roles::text[], permissive,"
        " coalesce(qual, '') || ' ' || coalesce(with_check, '')"
        " from pg_policies where schemaname = any (%s)",
        (exposed_schemas(),),
    ).fetchall()


def test_policies_evaluate_auth_functions_once_per_statement(conn):
    found = policies(conn)
    assert len(found) >= 20
    per_row = []
    for schema, table, name, *_, expression in found:
        # `(select f())` becomes an InitPlan, evaluated once; a bare call runs per row
        unwrapped = re.sub(r"SELECT [\w.]+\(\)", "", expression)
        calls = re.findall(r"\b(?:auth|matching)\.\w+\(\)", unwrapped)
        if calls:
            per_row.append(f"{schema}.{table}.{name}: {calls}")
    assert per_row == []


def test_no_two_permissive_policies_overlap(conn):
    seen: dict[tuple[str, str, str], str] = {}
    overlapping = []
    for schema, table, name, cmd, roles, permissive, _ in policies(conn):
        if permissive != "PERMISSIVE":
            continue
        actions = ["SELECT", "INSERT", "UPDATE", "DELETE"] if cmd == "ALL" else [cmd]
        for role in roles:
            for action in actions:
                key = (f"{schema}.{table}", role, action)
                if key in seen:
                    overlapping.append(f"{key}: {seen[key]} and {name}")
                seen[key] = name
    assert overlapping == []


def test_every_exposed_table_has_policies_for_authenticated(conn):
    tables = {
        r[0]
        for r in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'p')"
            " and has_table_privilege('authenticated', c.oid, 'select')"
        )
    }
    with_policies = {
        table for _, table, _, _, roles, _, _ in policies(conn) if "authenticated" in roles
    }
    assert tables and tables <= with_policies


# The linter itself: each check fails on the mistake it is there to catch.
MISTAKES = [
    (
        "create table public.lint_open (id int)",
        test_every_table_in_an_exposed_schema_has_rls,
    ),
    (
        "create view public.lint_view as select 1 as x",
        test_views_in_an_exposed_schema_run_as_the_caller,
    ),
    (
        "create function public.lint_definer() returns int language sql security definer"
        " as 'select 1'",
        test_security_definer_functions_have_a_fixed_safe_search_path,
    ),
    (
        "create function matching.lint_definer() returns int language sql security definer"
        " set search_path = public as 'select 1'",
        test_security_definer_functions_have_a_fixed_safe_search_path,
    ),
    (
        # '' leaves pg_temp implicitly first (issue 12)
        "create function matching.lint_definer() returns int language sql security definer"
        " set search_path = '' as 'select 1'",
        test_security_definer_functions_have_a_fixed_safe_search_path,
    ),
    (
        "create function public.lint_mutable() returns int language sql as 'select 1';"
        " revoke all on function public.lint_mutable() from public",
        test_functions_in_an_exposed_schema_fix_their_search_path,
    ),
    (
        "grant execute on function matching.fallback_score(uuid, uuid) to authenticated",
        test_internal_functions_are_not_executable_by_api_roles,
    ),
    (
        "grant select on matching.model_versions to anon",
        test_internal_tables_grant_nothing_to_api_roles,
    ),
    (
        "create function public.lint_anon() returns int language sql set search_path = ''"
        " as 'select 1'",
        test_anonymous_callers_execute_only_the_rate_limit_hook,
    ),
    (
        "create table public.lint_child (id int, skill_id int references public.skills (id));"
        " alter table public.lint_child enable row level security",
        lambda conn: test_every_foreign_key_has_a_covering_index(conn, ("public", "matching")),
    ),
    (
        "create policy lint_per_row on public.jobs for select to authenticated"
        " using (company_id = auth.uid())",
        test_policies_evaluate_auth_functions_once_per_statement,
    ),
    (
        "create policy lint_twice on public.talents for select to authenticated using (false)",
        test_no_two_permissive_policies_overlap,
    ),
]


@pytest.mark.parametrize(("ddl", "check"), MISTAKES, ids=[m[1].__name__ for m in MISTAKES])
def test_the_linter_catches_each_mistake(conn, ddl, check):
    check(conn)  # clean before
    conn.execute(ddl)
    with pytest.raises(AssertionError):
        check(conn)
