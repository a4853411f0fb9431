"""Privacy by construction (issue 12), as attacks shaped like PostgREST
requests: one transaction, `set local role`, request.jwt.claims and headers,
the pre-request hook (tests/support/rpc.py).

Classes: location probing (a ring of probe jobs, exact / rounded / reason
scores), preference probing through a company's own attributes, one score
surface per audience (feedback, direct reads, drafts, open_to_work),
SECURITY DEFINER hygiene and temp-object shadowing, per-request caps,
time-zone validation, and a fuzzer over every RPC parameter."""

from __future__ import annotations

import math
import random
import uuid
import zoneinfo
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb
from support.rpc import (
    ANON,
    SERVICE,
    Api,
    Caller,
    World,
    build_world,
    constraint_names,
    end_request,
)
from support.rpc import start_request as begin

from matching.models import is_valid_timezone


def fails(conn: psycopg.Connection, caller: Caller, query: str, params: Any = None) -> Any:
    with pytest.raises(psycopg.Error) as caught, conn.transaction():
        begin(conn, caller)
        conn.execute(query, params)
    return caught.value


def run(conn: psycopg.Connection, caller: Caller, query: str, params: Any = None) -> list[tuple]:
    with conn.transaction():
        begin(conn, caller)
        cur = conn.execute(query, params)
        result = cur.fetchall() if cur.description else []
        end_request(conn)
    return result


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def offset(lat: float, lon: float, dist_km: float, bearing_deg: float) -> tuple[float, float]:
    b = math.radians(bearing_deg)
    dlat = dist_km * math.cos(b) / 111.2
    dlon = dist_km * math.sin(b) / (111.2 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


# =========================================================== 1. location

PARIS = (48.8566, 2.3522)
# same 0.2-degree cell as PARIS, ~8.6 km away
PARIS_NEIGHBOUR = (48.90, 2.45)
# another cell, ~25 km away
ELSEWHERE = (49.08, 2.35)


def add_talent(conn: psycopg.Connection, lat: float, lon: float, **extra: Any) -> uuid.UUID:
    return conn.execute(
        "insert into public.talents (headline, experience_level, years_experience, open_to_work,"
        " remote_preference, latitude, longitude, timezone)"
        " values ('Engineer', 'mid', 4, true, 'onsite', %s, %s, 'Europe/Paris') returning id",
        (lat, lon),
    ).fetchone()[0]


def probe_jobs(conn: psycopg.Connection, company: uuid.UUID, centre: tuple[float, float]) -> list:
    """The measured attack: one on-site job at the centre, rings at 22 km and
    at the on-site rule's 100 km boundary (binary-search probes)."""
    points = [centre]
    points += [offset(*centre, 22.0, b) for b in range(0, 360, 72)]
    points += [offset(*centre, d, b) for b in (0, 90, 180, 270) for d in (95.0, 99.0, 101.0, 105.0)]
    ids = []
    for lat, lon in points:
        ids.append(
            conn.execute(
                "insert into public.jobs (company_id, title, experience_level, remote_policy,"
                " status, latitude, longitude)"
                " values (%s, 'Probe', 'mid', 'onsite', 'draft', %s, %s)"
                " returning id",
                (company, lat, lon),
            ).fetchone()[0]
        )
    return ids


def fallback_scores(conn: psycopg.Connection, talent: uuid.UUID, jobs: list) -> list[tuple]:
    return conn.execute(
        "select f.job_id, to_jsonb(f) - 'talent_id', f.failed_constraints"
        " from matching.fallback_score_pairs(array_fill(%s::uuid, array[%s]), %s::uuid[]) f"
        " order by f.job_id",
        (talent, len(jobs), jobs),
    ).fetchall()


def test_stored_talent_location_is_the_cell_centre(conn):
    talent = add_talent(conn, *PARIS)
    lat, lon = conn.execute(
        "select latitude, longitude from public.talents where id = %s", (talent,)
    ).fetchone()
    assert (lat, lon) != PARIS
    assert lat == pytest.approx(48.9) and 2.3356 < lon < 2.6401
    # the best estimate an attacker can reach is the centre: the talent is ~5 km away from it
    assert km(lat, lon, *PARIS) > 4.0


def test_coarsening_is_idempotent_and_cells_are_at_least_20_km(conn):
    rng = random.Random(12)
    points = [(rng.uniform(-85, 85), rng.uniform(-180, 180)) for _ in range(300)]
    points += [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0), (89.99, 179.99)]
    for lat, lon in points:
        clat, clon, again_lat, again_lon = conn.execute(
            "select matching.coarse_latitude(%(a)s), matching.coarse_longitude(%(a)s, %(o)s),"
            " matching.coarse_latitude(matching.coarse_latitude(%(a)s)),"
            " matching.coarse_longitude(matching.coarse_latitude(%(a)s),"
            "   matching.coarse_longitude(%(a)s, %(o)s))",
            {"a": lat, "o": lon},
        ).fetchone()
        assert -90 <= clat <= 90 and -180 <= clon <= 180
        assert (again_lat, again_lon) == pytest.approx((clat, clon), abs=1e-9)
        assert abs(clat - lat) <= 0.1 + 1e-9
    # a cell is 0.2 deg of latitude high and ~22 km wide on its centre line
    for lat in (0.0, 30.0, 48.9, 60.0, 70.0):
        c = conn.execute("select matching.coarse_latitude(%s)", (lat,)).fetchone()[0]
        width = km(c, 0, c, 0.2 / math.cos(math.radians(c)))
        assert width >= 20.0
        assert km(c - 0.1, 0, c + 0.1, 0) >= 20.0


@pytest.mark.parametrize("writer", ["owner", "service_role", "authenticated"])
def test_every_writer_is_coarsened(conn, world, writer):
    if writer == "owner":
        conn.execute(
            "update public.talents set latitude = %s, longitude = %s where id = %s",
            (*PARIS, world.talents["ann"]),
        )
    else:
        caller = SERVICE if writer == "service_role" else world.caller("ann")
        run(
            conn,
            caller,
            "update public.talents set latitude = %s, longitude = %s where id = %s",
            (*PARIS, world.talents["ann"]),
        )
    lat, _lon = conn.execute(
        "select latitude, longitude from public.talents where id = %s", (world.talents["ann"],)
    ).fetchone()
    assert lat == pytest.approx(48.9)


def test_ring_of_probe_jobs_cannot_tell_two_talents_in_one_cell_apart(conn, world):
    """Exact, rounded and reason-derived scores are functions of the cell: two
    talents 8.6 km apart in one cell get identical answers to every probe, so
    no estimator places either closer than the cell allows."""
    a = add_talent(conn, *PARIS)
    b = add_talent(conn, *PARIS_NEIGHBOUR)
    c = add_talent(conn, *ELSEWHERE)
    assert km(*PARIS, *PARIS_NEIGHBOUR) > 8.0
    jobs = probe_jobs(conn, world.companies["x"], PARIS)
    sa, sb, sc = (fallback_scores(conn, t, jobs) for t in (a, b, c))
    assert sa == sb
    # the probes are sensitive: a talent one cell away answers differently
    assert sa != sc
    # and the boundary rule cannot be binary-searched inside the cell
    assert [r[2] for r in sa] == [r[2] for r in sb]
    assert any(r[2] for r in sa) and not all(r[2] for r in sa)


def test_company_view_of_probe_jobs_is_the_same_for_two_talents_in_one_cell(conn, world, api):
    a = add_talent(conn, *PARIS)
    b = add_talent(conn, *PARIS_NEIGHBOUR)
    jobs = probe_jobs(conn, world.companies["x"], PARIS)
    xena = world.caller("xena")
    for job in jobs[:6]:
        rows = api.call("get_job_matches", {"p_job_id": str(job), "p_limit": 100}, xena)
        by_talent = {r["talent_id"]: r for r in rows}
        ra, rb = by_talent[str(a)], by_talent[str(b)]
        for key in ("score", "sub_scores", "reasons"):
            if key in ra:
                assert ra[key] == rb[key], key


# ======================================================== 2. preferences


def test_company_view_has_no_culture_sub_score_or_reason(conn, world, api):
    rows = api.call(
        "get_job_matches", {"p_job_id": str(world.jobs["x_open"])}, world.caller("xena")
    )
    assert rows
    reasons_seen = 0
    for r in rows:
        assert "culture" not in (r["sub_scores"] or {})
        for reason in r["top_reasons"] or []:
            reasons_seen += 1
            assert reason["feature"] not in (
                "culture",
                "industry_match",
                "company_size_match",
                "work_style_alignment",
            )
    assert reasons_seen, "no reasons served: the check above saw nothing"
    # the talent still sees their own culture fit (no privacy issue there)
    own = conn.execute(
        "select culture_score from matching.fallback_score(%s, %s)",
        (world.talents["bob"], world.jobs["x_open"]),
    ).fetchone()[0]
    assert own is not None


COMPANY_VIEW_EXPLANATIONS = [
    {},
    {"sub_scores": "skills"},
    {"sub_scores": {}, "top_factors": {}},
    {
        "sub_scores": {
            "skills": 61.26,
            "experience": 49.95,
            "location": 87.5,
            "salary": "70",
            "culture": 12.3,
            "semantic": 100,
            "mood": 99,
        },
        "top_factors": [
            {"feature": "distance_km", "contribution": -2.0, "sentence": "-2.0 points: 12 km away"},
            {"feature": "required_coverage", "contribution": 6.1, "sentence": "+6.1: skills"},
            "not an object",
            {"feature": "salary_ratio", "contribution": 1.1, "sentence": "+1.1 points: salary"},
        ],
    },
    {
        "sub_scores": {"location": 12.49, "salary": 0, "culture": None},
        "top_factors": [
            {"feature": "culture", "sentence": "+1.0 points: culture"},
            {"feature": "x", "sentence": "+0.5 points: near the OFFICE"},
            {"sentence": "+0.2 points: work style"},
        ],
    },
    {"sub_scores": {"location": 37.55, "experience": 1e3}, "top_factors": []},
]


@pytest.mark.parametrize("explanation", COMPANY_VIEW_EXPLANATIONS)
def test_the_inlined_company_view_equals_the_company_helpers(conn, explanation):
    # get_job_matches reads stored explanations through matching.company_view;
    # it must say exactly what the two privacy helpers say
    one_step, composed = conn.execute(
        "select (select row(v.sub_scores, v.top_reasons)::text"
        "          from matching.company_view(%s::jsonb) v),"
        " row(matching.company_sub_scores(matching.clean_sub_scores(%s::jsonb)),"
        "     matching.company_reasons(matching.top_reasons(%s::jsonb)))::text",
        (Jsonb(explanation), Jsonb(explanation), Jsonb(explanation)),
    ).fetchone()
    assert one_step == composed


@pytest.mark.parametrize(
    "change",
    [
        "industry = 'fintech'",
        "size = 'large'",
        "work_styles = '{async}'",
    ],
)
def test_preference_probe_is_capped_at_one_change_a_day(conn, world, change):
    xena = world.caller("xena")
    company = world.companies["x"]
    run(conn, xena, "update public.companies set size = 'medium' where id = %s", (company,))
    exc = fails(conn, xena, f"update public.companies set {change} where id = %s", (company,))
    assert exc.sqlstate == "MT023"
    # other fields stay editable
    run(conn, xena, "update public.companies set name = 'Xylo 2' where id = %s", (company,))


def test_preference_attack_recovers_nothing_within_a_day(conn, world, api):
    """The measured attack flips the company's attributes and reads the score
    back; the first flip passes, every further one is refused, and the company
    view never carries the culture sub-score that gave preferences away."""
    xena = world.caller("xena")
    company = world.companies["x"]
    refused = 0
    for industry in ("fintech", "healthcare", "education", "retail", "media"):
        try:
            run(
                conn,
                xena,
                "update public.companies set industry = %s where id = %s",
                (industry, company),
            )
        except psycopg.Error as exc:
            assert exc.sqlstate == "MT023"
            refused += 1
    assert refused == 4


# ================================================= 3. one score surface


def feedback(api: Api, world: World, talent: str, job: str, kind: str, who: str) -> Any:
    args = {
        "p_talent_id": str(world.talents[talent]),
        "p_job_id": str(world.jobs[job]),
        "p_feedback_type": kind,
    }
    return api.call("record_match_feedback", args, world.caller(who))


@pytest.mark.parametrize("kind", ["contacted", "shortlisted", "rejected"])
def test_company_feedback_returns_no_score(api, world, kind):
    row = feedback(api, world, "ann", "x_open", kind, "xena")[0]
    assert not {"score", "source", "model_version", "features"} & set(row)


@pytest.mark.parametrize("kind", ["applied", "interested", "dismissed"])
def test_talent_feedback_on_a_draft_job_is_refused(api, world, kind):
    exc = api.error(
        "record_match_feedback",
        {
            "p_talent_id": str(world.talents["ann"]),
            "p_job_id": str(world.jobs["x_draft"]),
            "p_feedback_type": kind,
        },
        world.caller("ann"),
    )
    assert exc.sqlstate == "MT404"


@pytest.mark.parametrize("kind", ["contacted", "shortlisted", "rejected"])
def test_company_feedback_on_a_talent_not_open_to_work_is_refused(api, world, kind):
    exc = api.error(
        "record_match_feedback",
        {
            "p_talent_id": str(world.talents["hidden"]),
            "p_job_id": str(world.jobs["x_open"]),
            "p_feedback_type": kind,
        },
        world.caller("xena"),
    )
    assert exc.sqlstate == "MT404"


@pytest.mark.parametrize("who", ["ann", "xena", "xavier", "yuri"])
def test_direct_reads_carry_no_score(conn, world, who):
    for column in ("score", "features", "explanation", "model_version"):
        exc = fails(conn, world.caller(who), f"select {column} from public.matches")
        assert exc.sqlstate == "42501"


def test_direct_reads_honour_open_to_work_and_job_status(conn, world):
    seen = {r[0] for r in run(conn, world.caller("xena"), "select talent_id from public.matches")}
    assert world.talents["hidden"] not in seen and world.talents["nobody"] in seen
    jobs = {r[0] for r in run(conn, world.caller("ann"), "select job_id from public.matches")}
    assert world.jobs["x_draft"] not in jobs and world.jobs["y_draft"] not in jobs
    assert world.jobs["x_open"] in jobs


def test_draft_jobs_never_return_scores_to_talents(api, world):
    rows = api.call(
        "get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, world.caller("ann")
    )
    assert {world.jobs["x_draft"], world.jobs["y_draft"]}.isdisjoint(
        {uuid.UUID(r["job_id"]) for r in rows}
    )


# ======================================== 4. SECURITY DEFINER hygiene


def test_every_security_definer_function_names_pg_temp_last(conn):
    bad = conn.execute(
        """
        select p.oid::regprocedure::text, p.proconfig
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where p.prosecdef and n.nspname not in ('pg_catalog', 'information_schema')
          and not exists (
            select 1 from unnest(coalesce(p.proconfig, '{}')) c
            where c ~ '^search_path=' and c ~ '(^|[ ,=])pg_temp$')
        """
    ).fetchall()
    assert bad == []


def test_lint_catches_a_function_without_pg_temp(conn):
    conn.execute(
        "create function public.zz_unsafe() returns int language sql security definer"
        " set search_path = '' as 'select 1'"
    )
    with pytest.raises(AssertionError):
        test_every_security_definer_function_names_pg_temp_last(conn)


@pytest.fixture
def fresh(db_url: str) -> Any:
    """A new session whose world was built without queueing anything: the
    escalation needs a session that has not run procrastinate's triggers yet
    (PL/pgSQL caches the plan, and with it the table it resolved)."""
    with psycopg.connect(db_url) as connection:
        connection.execute("select set_config('matching.skip_enqueue', 'on', true)")
        built = build_world(connection)
        connection.execute("select set_config('matching.skip_enqueue', '', true)")
        yield connection, built
        connection.rollback()


def test_temp_events_table_with_a_trigger_does_not_run_as_owner(fresh):
    """The escalation: a temp table named like procrastinate's events table,
    with a trigger that copies every bio, then an edit of one's own profile."""
    conn, world = fresh
    ann = world.caller("ann")
    conn.execute(
        "update public.talents set bio = 'secret bio of bob' where id = %s", (world.talents["bob"],)
    )
    with conn.transaction():
        begin(conn, ann)
        conn.execute(
            "create temp table procrastinate_events (id bigserial, job_id bigint, type text,"
            " at timestamptz default now())"
        )
        conn.execute("create temp table loot (bio text)")
        conn.execute(
            "create function pg_temp.steal() returns trigger language plpgsql as $$"
            " begin insert into pg_temp.loot select bio from public.talents; return null; end $$"
        )
        conn.execute(
            "create trigger steal after insert on pg_temp.procrastinate_events"
            " for each statement execute function pg_temp.steal()"
        )
        conn.execute(
            "update public.talents set headline = 'Edited' where id = %s", (world.talents["ann"],)
        )
        loot = conn.execute("select bio from pg_temp.loot").fetchall()
        # the trap is armed: an insert that does reach the temp table fires it
        conn.execute("insert into pg_temp.procrastinate_events (job_id, type) values (1, 'x')")
        armed = conn.execute("select count(*) from pg_temp.loot").fetchone()[0]
        end_request(conn)
    assert ("secret bio of bob",) not in loot
    assert loot == [] and armed > 0
    # and the edit still queued its rematch in the real queue
    queued = conn.execute(
        "select count(*) from procrastinate.procrastinate_jobs where queueing_lock = %s",
        (f"rematch_talent:{world.talents['ann']}",),
    ).fetchone()[0]
    assert queued == 1


# (temp *types* named text/uuid still break the non-SECURITY-DEFINER helpers
# for the session that made them; that is a self-inflicted error, no escalation,
# and those helpers' search paths are issue 14's)
@pytest.mark.parametrize("name", ["jsonb", "numeric", "matches", "talents", "jobs", "users"])
def test_temp_table_named_like_a_type_does_not_break_reads(conn, world, api, name):
    xena = world.caller("xena")
    # the helper reads signatures from the catalog; read them before the shadowing
    api.signature("get_job_matches")
    api.signature("get_talent_matches")
    with conn.transaction():
        begin(conn, xena)
        conn.execute(sql.SQL("create temp table {} (x int)").format(sql.Identifier(name)))
        end_request(conn)
    rows = api.call("get_job_matches", {"p_job_id": str(world.jobs["x_open"])}, xena)
    assert rows
    rows = api.call(
        "get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, world.caller("ann")
    )
    assert rows
    conn.execute(sql.SQL("drop table pg_temp.{}").format(sql.Identifier(name)))


# ================================================ 5. per-request caps


def test_one_request_updates_at_most_100_jobs(conn, world):
    company = world.companies["x"]
    conn.execute(
        "insert into public.jobs (company_id, title, experience_level, remote_policy, status)"
        " select %s, 'Bulk ' || g, 'mid', 'remote', 'open' from generate_series(1, 101) g",
        (company,),
    )
    exc = fails(
        conn,
        world.caller("xena"),
        "update public.jobs set title = title || '!' where company_id = %s",
        (company,),
    )
    assert exc.sqlstate == "MT021"
    # 100 at once is fine
    run(
        conn,
        world.caller("xena"),
        "update public.jobs set title = title || '!' where id in"
        " (select id from public.jobs where company_id = %s limit 100)",
        (company,),
    )


def queued_priorities(conn: psycopg.Connection, jobs: list[uuid.UUID]) -> set[int]:
    return {
        r[0]
        for r in conn.execute(
            "select priority from procrastinate.procrastinate_jobs"
            " where status = 'todo' and queueing_lock = any(%s)",
            ([f"rematch_job:{j}" for j in jobs],),
        )
    }


def clear_queue(conn: psycopg.Connection) -> None:
    # procrastinate's triggers name their tables unqualified
    path = conn.execute("show search_path").fetchone()[0]
    conn.execute("select set_config('search_path', 'procrastinate, pg_catalog', true)")
    conn.execute("delete from procrastinate.procrastinate_jobs")
    conn.execute("select set_config('search_path', %s, true)", (path,))


def test_multi_row_updates_enqueue_at_bulk_priority(conn, world):
    pair = [world.jobs["x_open"], world.jobs["x_other"]]
    clear_queue(conn)
    run(
        conn,
        world.caller("xena"),
        "update public.jobs set title = title || '!' where id = any(%s)",
        (pair,),
    )
    assert queued_priorities(conn, pair) == {-5}


def test_a_single_edit_keeps_edit_priority(conn, world):
    clear_queue(conn)
    run(
        conn,
        world.caller("xena"),
        "update public.jobs set title = 'One' where id = %s",
        (world.jobs["x_open"],),
    )
    assert queued_priorities(conn, [world.jobs["x_open"]]) == {0}


# ================================================== 6. time zones

REFUSED_ZONES = [
    "Europe/PARIS",
    "europe/paris",
    "EUROPE/BERLIN",
    "america/new_york",
    "Etc/GMT+99",
    "Etc/GMT-15",
    "+14:01",
    "-12:30",
    "+99:00",
    "EST",
    "Japan",
    "posix/Europe/Paris",
    "Europe/Paris ",
    "Mars/Olympus_Mons",
]
ACCEPTED_ZONES = [
    "Europe/Paris",
    "UTC",
    "America/Argentina/Buenos_Aires",
    "+05:30",
    "-12:00",
    "+14:00",
    "Etc/GMT+12",
    "Pacific/Kiritimati",
]


@pytest.mark.parametrize("tz", REFUSED_ZONES)
def test_non_canonical_time_zones_are_refused_at_the_boundary(conn, world, tz):
    exc = fails(
        conn,
        world.caller("ann"),
        "update public.talents set timezone = %s where id = %s",
        (tz, world.talents["ann"]),
    )
    assert exc.sqlstate in {"MT020", "23514"}
    assert is_valid_timezone(tz) is False
    assert conn.execute("select matching.is_valid_timezone(%s)", (tz,)).fetchone()[0] is False


@pytest.mark.parametrize("tz", ACCEPTED_ZONES)
def test_canonical_time_zones_are_accepted_on_both_sides(conn, world, tz):
    run(
        conn,
        world.caller("ann"),
        "update public.talents set timezone = %s where id = %s",
        (tz, world.talents["ann"]),
    )
    assert is_valid_timezone(tz) is True


def test_every_zone_postgres_accepts_loads_in_python(conn):
    names = [r[0] for r in conn.execute("select name from matching.iana_timezones")]
    assert len(names) > 300
    for name in names:
        zoneinfo.ZoneInfo(name)
        assert is_valid_timezone(name), name


def test_is_valid_timezone_is_declared_stable(conn):
    volatility = conn.execute(
        "select provolatile from pg_proc"
        " where oid = 'matching.is_valid_timezone(text)'::regprocedure"
    ).fetchone()[0]
    assert volatility == "s"


# ======================================================= 7. fuzzer

FUZZ_VALUES: list[Any] = [
    None,
    "",
    " ",
    "null",
    "0",
    "-1",
    "1e309",
    "NaN",
    "Infinity",
    "'; drop table x; --",
    "\u0000",
    "\u202e",
    "x" * 10_000,
    "00000000-0000-0000-0000-000000000000",
    "not-a-uuid",
    "{}",
    "[]",
    '{"skills": "x"}',
    '{"skills": 1e400}',
    '{"culture": 101}',
    "score",
    "-score",
    2**31,
    -(2**31) - 1,
    0,
    -1,
    1.5,
    1e308,
    True,
    [],
    {},
    {"a": None},
    ["x"],
]


def rpc_parameters(conn: psycopg.Connection) -> dict[str, list[str]]:
    rows = conn.execute(
        """
        select p.proname, coalesce(p.proargnames, '{}')
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.prokind = 'f'
          and has_function_privilege('authenticated', p.oid, 'execute')
          and p.proname not in ('check_rate_limit')
        """
    ).fetchall()
    return {name: [a for a in args if a.startswith("p_")] for name, args in rows}


def test_fuzzer_never_raises_an_internal_error_or_names_a_check(conn, world, api):
    rng = random.Random(1212)
    functions = rpc_parameters(conn)
    assert {"get_talent_matches", "get_job_matches", "record_match_feedback"} <= set(functions)
    checks = [c for c in constraint_names(conn) if c]
    callers = [world.caller("ann"), world.caller("xena"), ANON, world.caller("bob")]
    real_ids = [str(v) for v in (*world.talents.values(), *world.jobs.values())]
    cases = 0
    while cases < 520:
        fn = rng.choice(sorted(functions))
        params = functions[fn]
        args: dict[str, Any] = {}
        for p in params:
            if rng.random() < 0.2:
                continue
            args[p] = rng.choice([*FUZZ_VALUES, *real_ids])
        caller = rng.choice(callers)
        cases += 1
        try:
            api.call(fn, args, caller, hook=False)
        except psycopg.Error as exc:
            state = exc.sqlstate or ""
            # 22xxx data exceptions and 42883 come from PostgREST-style casting of bad
            # JSON into typed arguments; MTxxx and 42501 from the functions; never XX/P0
            assert not state.startswith(("XX", "P0", "58")), (fn, args, exc)
            assert state != "23514", (fn, args, exc)
            message = str(exc)
            assert not any(c in message for c in checks), (fn, args, message)
    assert cases >= 500
