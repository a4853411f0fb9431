"""Row-level security and input validation on the tables PostgREST exposes.

Each request is made as PostgREST makes it (`set local role`, JWT claims,
headers); the world of tests/db/test_rpc.py (two companies, talents with and
without accounts, stored matches) is built in the rolled-back transaction.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql
from support.rpc import ANON, SERVICE, Caller, assert_clean, end_request
from support.rpc import start_request as begin

pytestmark = pytest.mark.integration

PUBLIC_TABLES = [
    "skills",
    "companies",
    "company_members",
    "talents",
    "jobs",
    "talent_skills",
    "job_skills",
    "matches",
    "match_feedback",
]


def rows(conn: psycopg.Connection, caller: Caller, query: str, params: Any = None) -> list[tuple]:
    with conn.transaction():
        begin(conn, caller)
        result = conn.execute(query, params).fetchall()
        end_request(conn)
    return result


def run(conn: psycopg.Connection, caller: Caller, query: str, params: Any = None) -> int:
    """Rows a write touched."""
    with conn.transaction():
        begin(conn, caller)
        count = conn.execute(query, params).rowcount
        end_request(conn)
    return count


def fails(conn: psycopg.Connection, caller: Caller, query: str, params: Any = None) -> Any:
    with pytest.raises(psycopg.Error) as caught, conn.transaction():
        begin(conn, caller)
        conn.execute(query, params)
    return caught.value


def ids(result: list[tuple]) -> set:
    return {r[0] for r in result}


# ------------------------------------------------------------------- anonymous


@pytest.mark.parametrize("table", PUBLIC_TABLES)
def test_anonymous_callers_see_and_write_nothing(conn, world, table):
    for statement in (
        f"select * from public.{table} limit 1",
        f"insert into public.{table} default values",
        f"delete from public.{table}",
    ):
        exc = fails(conn, ANON, statement)
        assert exc.sqlstate == "42501", statement


def test_service_role_bypasses_rls(conn, world):
    counts = {
        table: rows(conn, SERVICE, f"select count(*) from public.{table}")[0][0]
        for table in PUBLIC_TABLES
    }
    assert counts["talents"] == 4 and counts["jobs"] == 5 and counts["matches"] == 6
    assert all(n > 0 for t, n in counts.items() if t != "match_feedback")


# --------------------------------------------------------------------- talents


def test_a_talent_reads_and_edits_only_their_own_profile(conn, world):
    ann = world.caller("ann")
    assert ids(rows(conn, ann, "select id from public.talents")) == {world.talents["ann"]}
    assert run(conn, ann, "update public.talents set headline = 'Staff engineer'") == 1
    assert (
        run(
            conn,
            ann,
            "update public.talents set headline = 'x' where id = %s",
            (world.talents["bob"],),
        )
        == 0
    )
    assert run(conn, ann, "delete from public.talents where id = %s", (world.talents["bob"],)) == 0
    # a profile for somebody else, or a second one for oneself
    exc = fails(
        conn,
        ann,
        "insert into public.talents (user_id, headline, experience_level, years_experience)"
        " values (%s, 'Sneaky', 'mid', 1)",
        (world.users["bob"],),
    )
    assert exc.sqlstate == "42501"
    # one profile per user: the unique index answers (23505, HTTP 409)
    exc = fails(
        conn,
        ann,
        "insert into public.talents (user_id, headline, experience_level, years_experience)"
        " values (%s, 'Second', 'mid', 1)",
        (world.users["ann"],),
    )
    assert exc.sqlstate == "23505"
    # the owner of a profile is not editable
    exc = fails(conn, ann, "update public.talents set user_id = %s", (world.users["ann"],))
    assert exc.sqlstate == "42501"


def test_a_new_user_creates_a_profile_and_its_skills(conn, world):
    newcomer = uuid.uuid4()
    conn.execute("insert into auth.users (id) values (%s)", (newcomer,))
    me = Caller("authenticated", {"sub": str(newcomer), "role": "authenticated"})
    with conn.transaction():
        begin(conn, me)
        talent = conn.execute(
            "insert into public.talents (user_id, headline, experience_level, years_experience,"
            " timezone, salary_min, salary_max, salary_currency)"
            " values (%s, 'New here', 'junior', 0.5, 'Europe/Berlin', 30000, 40000, 'EUR')"
            " returning id",
            (newcomer,),
        ).fetchone()[0]
        conn.execute(
            "insert into public.talent_skills (talent_id, skill_id, proficiency, years)"
            " values (%s, %s, 2, 0.5)",
            (talent, world.skills["Go"]),
        )
        # PostgREST's upsert (Prefer: resolution=merge-duplicates)
        conn.execute(
            "insert into public.talent_skills (talent_id, skill_id, proficiency, years)"
            " values (%s, %s, 3, 1) on conflict (talent_id, skill_id) do update"
            " set talent_id = excluded.talent_id, skill_id = excluded.skill_id,"
            " proficiency = excluded.proficiency, years = excluded.years",
            (talent, world.skills["Go"]),
        )
        end_request(conn)
    assert rows(conn, me, "select skill_id, proficiency from public.talent_skills") == [
        (world.skills["Go"], 3)
    ]


def test_talent_skills_are_private_to_their_talent(conn, world):
    ann = world.caller("ann")
    seen = rows(conn, ann, "select distinct talent_id from public.talent_skills")
    assert ids(seen) == {world.talents["ann"]}
    exc = fails(
        conn,
        ann,
        "insert into public.talent_skills (talent_id, skill_id, proficiency) values (%s, %s, 3)",
        (world.talents["bob"], world.skills["Go"]),
    )
    assert exc.sqlstate == "42501"
    assert (
        run(
            conn,
            ann,
            "delete from public.talent_skills where talent_id <> %s",
            (world.talents["ann"],),
        )
        == 0
    )
    # company members do not read talent skills directly (get_job_matches shows them)
    assert rows(conn, world.caller("xena"), "select * from public.talent_skills") == []


def test_columns_the_database_maintains_are_not_writable(conn, world):
    ann = world.caller("ann")
    for column, value in (("updated_at", "2000-01-01"), ("created_at", "2000-01-01")):
        exc = fails(
            conn,
            ann,
            sql.SQL("update public.talents set {} = %s").format(sql.Identifier(column)),
            (value,),
        )
        assert exc.sqlstate == "42501"


# ------------------------------------------------------------- companies, jobs


def test_jobs_open_to_everyone_drafts_to_the_company(conn, world):
    open_jobs = {world.jobs[k] for k in ("x_open", "x_other", "y_open")}
    assert ids(rows(conn, world.caller("ann"), "select id from public.jobs")) == open_jobs
    assert ids(rows(conn, world.caller("xavier"), "select id from public.jobs")) == open_jobs | {
        world.jobs["x_draft"]
    }
    assert ids(rows(conn, world.caller("yuri"), "select id from public.jobs")) == open_jobs | {
        world.jobs["y_draft"]
    }


def test_members_manage_their_companys_jobs_only(conn, world):
    xavier = world.caller("xavier")  # a recruiter
    with conn.transaction():
        begin(conn, xavier)
        job = conn.execute(
            "insert into public.jobs (company_id, title, experience_level, remote_policy)"
            " values (%s, 'Data engineer', 'senior', 'remote') returning id",
            (world.companies["x"],),
        ).fetchone()[0]
        conn.execute(
            "insert into public.job_skills (job_id, skill_id) values (%s, %s)",
            (job, world.skills["PostgreSQL"]),
        )
        conn.execute("update public.jobs set status = 'open' where id = %s", (job,))
        end_request(conn)
    exc = fails(
        conn,
        xavier,
        "insert into public.jobs (company_id, title, experience_level, remote_policy)"
        " values (%s, 'Spy', 'mid', 'remote')",
        (world.companies["y"],),
    )
    assert exc.sqlstate == "42501"
    for statement in (
        "update public.jobs set title = 'Hijacked' where id = %s",
        "delete from public.jobs where id = %s",
        "delete from public.job_skills where job_id = %s",
    ):
        assert run(conn, xavier, statement, (world.jobs["y_open"],)) == 0
    exc = fails(
        conn,
        xavier,
        "insert into public.job_skills (job_id, skill_id) values (%s, %s)",
        (world.jobs["y_open"], world.skills["PostgreSQL"]),
    )
    assert exc.sqlstate == "42501"
    # moving a job to another company is not an edit members may make
    exc = fails(
        conn,
        xavier,
        "update public.jobs set company_id = %s where id = %s",
        (world.companies["y"], world.jobs["x_open"]),
    )
    assert exc.sqlstate == "42501"
    # talents do not post jobs
    exc = fails(
        conn,
        world.caller("ann"),
        "insert into public.jobs (company_id, title, experience_level, remote_policy)"
        " values (%s, 'Mine', 'mid', 'remote')",
        (world.companies["x"],),
    )
    assert exc.sqlstate == "42501"


def test_companies_and_memberships(conn, world):
    # a company with an open job is visible to everyone signed in
    assert ids(rows(conn, world.caller("ann"), "select id from public.companies")) == set(
        world.companies.values()
    )
    # owners edit their company; recruiters and others do not
    assert (
        run(
            conn,
            world.caller("xena"),
            "update public.companies set description = 'Hi' where id = %s",
            (world.companies["x"],),
        )
        == 1
    )
    assert (
        run(
            conn,
            world.caller("xavier"),
            "update public.companies set description = 'Hi' where id = %s",
            (world.companies["x"],),
        )
        == 0
    )
    assert (
        run(
            conn,
            world.caller("yuri"),
            "update public.companies set description = 'Hi' where id = %s",
            (world.companies["x"],),
        )
        == 0
    )
    # members see their colleagues only
    seen = rows(conn, world.caller("xavier"), "select user_id from public.company_members")
    assert ids(seen) == {world.users["xena"], world.users["xavier"]}
    assert rows(conn, world.caller("ann"), "select * from public.company_members") == []
    # only owners add members, and a recruiter cannot promote themselves
    exc = fails(
        conn,
        world.caller("xavier"),
        "insert into public.company_members (company_id, user_id) values (%s, %s)",
        (world.companies["x"], world.users["ann"]),
    )
    assert exc.sqlstate == "42501"
    assert (
        run(
            conn,
            world.caller("xavier"),
            "update public.company_members set role = 'owner' where user_id = %s",
            (world.users["xavier"],),
        )
        == 0
    )
    assert (
        run(
            conn,
            world.caller("xena"),
            "insert into public.company_members (company_id, user_id) values (%s, %s)",
            (world.companies["x"], world.users["ann"]),
        )
        == 1
    )
    exc = fails(
        conn,
        world.caller("xena"),
        "insert into public.company_members (company_id, user_id) values (%s, %s)",
        (world.companies["x"], uuid.uuid4()),
    )
    assert_clean(conn, exc, "MT404")
    # anyone may leave
    assert (
        run(
            conn,
            world.caller("xavier"),
            "delete from public.company_members where user_id = %s",
            (world.users["xavier"],),
        )
        == 1
    )


def test_skills_are_read_only_vocabulary(conn, world):
    ann = world.caller("ann")
    assert len(rows(conn, ann, "select id from public.skills")) >= 3
    exc = fails(conn, ann, "insert into public.skills (name, category) values ('X', 'software')")
    assert exc.sqlstate == "42501"


# ------------------------------------------------------------ matches, feedback


def test_a_talent_sees_only_their_own_matches(conn, world):
    seen = rows(conn, world.caller("ann"), "select talent_id from public.matches")
    assert ids(seen) == {world.talents["ann"]}
    assert rows(conn, world.caller("bob"), "select talent_id, job_id from public.matches") == []
    # scores are served by the RPC functions only (issue 12)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        rows(conn, world.caller("ann"), "select score from public.matches")


@pytest.mark.parametrize("who", ["ann", "xena"])
@pytest.mark.parametrize(
    "query",
    [
        "select features from public.matches",
        "select explanation from public.matches",
        # one per feature, distance's among them: as telling as the snapshot
        "select contributions from public.matches",
        "select actor_user_id from public.match_feedback",
        "select features from public.match_feedback",
    ],
)
def test_snapshots_explanations_and_actor_ids_are_not_readable_directly(conn, world, who, query):
    # the feature snapshot holds distance_km: readable, it would locate a talent
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        rows(conn, world.caller(who), query)


def test_members_see_matches_of_their_companys_jobs_only(conn, world):
    seen = rows(conn, world.caller("xena"), "select job_id from public.matches")
    x_jobs = {world.jobs[k] for k in ("x_open", "x_other", "x_draft")}
    assert ids(seen) == x_jobs
    seen = rows(conn, world.caller("yuri"), "select job_id from public.matches")
    assert ids(seen) == {world.jobs["y_draft"]}


@pytest.mark.parametrize("who", ["ann", "xena"])
def test_nobody_writes_matches_or_feedback_directly(conn, world, who):
    caller = world.caller(who)
    for statement in (
        "update public.matches set score = 100",
        "delete from public.matches",
        "insert into public.match_feedback (talent_id, job_id, feedback_type, actor)"
        f" values ('{world.talents['ann']}', '{world.jobs['x_open']}', 'applied', 'talent')",
        "delete from public.match_feedback",
    ):
        assert fails(conn, caller, statement).sqlstate == "42501", statement


def test_feedback_visibility(conn, world):
    for kind, actor in (("applied", "talent"), ("dismissed", "talent"), ("shortlisted", "company")):
        conn.execute(
            "insert into public.match_feedback (talent_id, job_id, feedback_type, actor)"
            " values (%s, %s, %s, %s)",
            (world.talents["ann"], world.jobs["x_open"], kind, actor),
        )
    kinds = "select feedback_type::text from public.match_feedback order by 1"
    # the talent sees what they recorded, not the company's notes
    assert rows(conn, world.caller("ann"), kinds) == [("applied",), ("dismissed",)]
    # the company sees its notes and applications, not what the talent dismissed
    assert rows(conn, world.caller("xavier"), kinds) == [("applied",), ("shortlisted",)]
    assert rows(conn, world.caller("yuri"), kinds) == []
    assert rows(conn, world.caller("bob"), kinds) == []


# ------------------------------------------------------------------- validation

TALENT_INSERT = (
    "insert into public.talents (user_id, headline, experience_level, years_experience)"
    " values (%(user)s, 'Valid', 'mid', 3)"
)

# (column set on ann's profile, value, code)
TALENT_BAD = [
    ("headline", "x" * 201, "MT020"),
    ("headline", "", "MT020"),
    ("headline", "two\nlines", "MT020"),
    ("headline", None, "MT020"),
    ("bio", "b" * 5001, "MT020"),
    ("years_experience", 61, "MT021"),
    ("years_experience", -1, "MT021"),
    ("city", "", "MT020"),
    ("city", "c" * 101, "MT020"),
    ("country_code", "deu", "MT020"),
    ("latitude", 91, "MT021"),
    ("latitude", 45, "MT022"),  # without a longitude
    ("longitude", float("nan"), "MT021"),
    ("timezone", "Mars/Olympus_Mons", "MT020"),
    ("timezone", "+15:00", "MT020"),
    ("timezone", "'; drop table public.talents; --", "MT020"),
    ("salary_min", 80000, "MT022"),  # above salary_max
    ("salary_max", -5, "MT021"),
    ("salary_currency", "XXX", "MT020"),
    ("salary_currency", None, "MT022"),  # a salary needs a currency
    ("work_styles", "{" + ",".join(["async"] * 9) + "}", "MT021"),
    ("preferred_company_sizes", "{" + ",".join(["small"] * 6) + "}", "MT021"),
    ("open_to_work", None, "MT021"),
]


@pytest.mark.parametrize(
    ("column", "value", "code"),
    TALENT_BAD,
    ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(TALENT_BAD)],
)
def test_profile_edits_are_validated_with_stable_codes(conn, world, column, value, code):
    exc = fails(
        conn,
        world.caller("ann"),
        sql.SQL("update public.talents set {} = %s where id = %s").format(sql.Identifier(column)),
        (value, world.talents["ann"]),
    )
    assert_clean(conn, exc, code)
    assert column in (exc.diag.message_detail or "") or code == "MT022"


# (job column, value, code)
JOB_BAD = [
    ("title", "t" * 201, "MT020"),
    ("title", "tab\tinside", "MT020"),
    ("description", "d" * 10001, "MT020"),
    ("min_years", 70, "MT021"),
    ("max_years", 1, "MT022"),  # below min_years
    ("remote_policy", "onsite", "MT022"),  # on-site needs a location
    ("salary_currency", "euro", "MT020"),
    ("status", None, "MT021"),
]


@pytest.mark.parametrize(
    ("column", "value", "code"), JOB_BAD, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(JOB_BAD)]
)
def test_job_edits_are_validated_with_stable_codes(conn, world, column, value, code):
    conn.execute("update public.jobs set min_years = 2 where id = %s", (world.jobs["x_open"],))
    exc = fails(
        conn,
        world.caller("xena"),
        sql.SQL("update public.jobs set {} = %s where id = %s").format(sql.Identifier(column)),
        (value, world.jobs["x_open"]),
    )
    assert_clean(conn, exc, code)


@pytest.mark.parametrize(
    ("column", "value", "code"),
    [
        ("name", "", "MT020"),
        ("description", "d" * 5001, "MT020"),
        ("website", "javascript:alert(1)", "MT020"),
        ("values", ["ok", "v" * 41], "MT020"),
        ("values", ["v"] * 11, "MT021"),
    ],
)
def test_company_edits_are_validated(conn, world, column, value, code):
    exc = fails(
        conn,
        world.caller("xena"),
        sql.SQL("update public.companies set {} = %s where id = %s").format(sql.Identifier(column)),
        (value, world.companies["x"]),
    )
    assert_clean(conn, exc, code)


@pytest.mark.parametrize(
    ("skill", "proficiency", "years", "code"),
    [
        ("unknown", 3, 1, "MT404"),
        ("Go", 6, 1, "MT021"),
        ("Go", 0, 1, "MT021"),
        ("Go", 3, 61, "MT021"),
    ],
)
def test_skill_edits_are_validated(conn, world, skill, proficiency, years, code):
    skill_id = 2_000_000_000 if skill == "unknown" else world.skills[skill]
    exc = fails(
        conn,
        world.caller("ann"),
        "insert into public.talent_skills (talent_id, skill_id, proficiency, years)"
        " values (%s, %s, %s, %s)",
        (world.talents["ann"], skill_id, proficiency, years),
    )
    assert_clean(conn, exc, code)


def test_a_profile_holds_at_most_100_skills(conn, world):
    conn.execute(
        "insert into public.skills (name, category)"
        " select 'bulk-' || g || '-' || %s, 'software' from generate_series(1, 100) g",
        (uuid.uuid4().hex[:6],),
    )
    exc = fails(
        conn,
        world.caller("ann"),
        "insert into public.talent_skills (talent_id, skill_id, proficiency)"
        " select %s, s.id, 3 from public.skills s where s.name like 'bulk-%%'",
        (world.talents["ann"],),
    )
    assert_clean(conn, exc, "MT021")


def test_a_legacy_value_does_not_block_an_unrelated_edit(conn, world):
    # imported by the owner: a currency the fx table does not know
    conn.execute(
        "update public.talents set salary_currency = 'XAU' where id = %s", (world.talents["ann"],)
    )
    assert run(conn, world.caller("ann"), "update public.talents set headline = 'Still me'") == 1


def test_the_owner_and_service_role_get_the_plain_constraints(conn, world):
    # validation triggers are for API callers; the CHECKs hold for everyone
    for caller in (None, SERVICE):
        with pytest.raises(errors.CheckViolation), conn.transaction():
            if caller:
                begin(conn, caller)
            conn.execute(
                "update public.talents set headline = '' where id = %s", (world.talents["ann"],)
            )


def test_one_request_inserts_at_most_100_jobs(conn, world):
    xavier = world.caller("xavier")
    statement = (
        "insert into public.jobs (company_id, title, experience_level, remote_policy)"
        " select %s, 'Bulk ' || g, 'mid', 'remote' from generate_series(1, %s) g"
    )
    assert run(conn, xavier, statement, (world.companies["x"], 100)) == 100
    exc = fails(conn, xavier, statement, (world.companies["x"], 101))
    assert exc.sqlstate == "MT021"


def test_a_company_keeps_at_least_one_owner(conn, world):
    xena = world.caller("xena")  # the only owner of company x
    for statement in (
        "update public.company_members set role = 'recruiter' where user_id = %s",
        "delete from public.company_members where user_id = %s",
    ):
        exc = fails(conn, xena, statement, (world.users["xena"],))
        assert exc.sqlstate == "MT022" and "owner" in exc.diag.message_primary
    # a recruiter may still leave
    assert (
        run(
            conn,
            world.caller("xavier"),
            "delete from public.company_members where user_id = %s",
            (world.users["xavier"],),
        )
        == 1
    )
