"""The public RPC API, called exactly as PostgREST calls it.

A PostgREST request is one transaction: `set local role <role>`, the JWT
claims and request headers as transaction-local settings, the db-pre-request
hook (`public.check_rate_limit()`), then the function, its JSON arguments
cast with `json_to_record` to the declared argument types. `Api.call` does
the same, so a malformed UUID or number fails in the cast (22P02/22003) just
as it would behind PostgREST, and everything else reaches the function.

Each test runs in the rolled-back `conn` fixture (PostgREST's requests are
emulated as savepoints inside it). The helpers here are shared with the other
tests/db/test_rpc_*.py modules
(they live in tests/support/rpc.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors
from support.rpc import (
    ANON,
    MODEL,
    SERVICE,
    Api,
    Caller,
    assert_clean,
    build_world,
    end_request,
    start_request,
    user,
)

pytestmark = pytest.mark.integration

# Text that tries to break out of a literal, an identifier, a format string or a
# JSON value. Every text argument of every function gets each of them.
INJECTIONS = [
    "'; drop table public.talents; --",
    '"; drop table public.talents; --',
    "x' or '1'='1",
    "1) union select id, user_id::text from public.talents --",
    "$$; delete from public.matches; $$",
    "%s %n %x %L",
    "\\x27; select pg_sleep(10); --",
    "score desc; drop table public.jobs",
    "a" * 10_000,
    "ünïcödé ✓ 𝔘",
]

# Codes a bad argument may produce: ours, or PostgREST's cast of the JSON body.
CLEAN_CODES = {
    "42501",
    "MT001",
    "MT005",
    "MT010",
    "MT011",
    "MT012",
    "MT013",
    "MT404",
    "22P02",  # invalid text representation (uuid, integer, numeric, json)
    "22003",  # numeric value out of range (integer argument)
}


@pytest.fixture
def tables_intact(conn: psycopg.Connection) -> Iterator[None]:
    counts = "select (select count(*) from public.talents), (select count(*) from public.jobs),"
    counts += " (select count(*) from public.matches)"
    before = conn.execute(counts).fetchone()
    yield
    assert conn.execute(counts).fetchone() == before


# ------------------------------------------------------------ get_talent_matches


def test_a_talent_reads_their_stored_matches_best_first(api, world):
    rows = api.call(
        "get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, world.caller("ann")
    )
    # drafts are never shown, whatever their score
    assert [r["job_id"] for r in rows] == [str(world.jobs["x_open"]), str(world.jobs["x_other"])]
    best = rows[0]
    assert best["score"] == 85.5 and best["source"] == "ml" and best["model_version"] == MODEL
    assert best["highly_recommended"] is True and rows[1]["highly_recommended"] is False
    assert best["sub_scores"] == {"skills": 90.0, "location": 70.0, "semantic": 50.0}
    assert [f["feature"] for f in best["top_reasons"]] == [
        "required_coverage",
        "distance_km",
        "salary_ratio",
    ]
    assert best["stale"] is False
    assert best["title"] == "Engineer x_open" and best["company_name"] == "Xylo"
    assert best["salary_currency"] == "EUR" and best["skills"][0].startswith("Python")
    assert best["feedback"] == []
    assert set(best) >= {"computed_at", "company_id", "company_industry", "remote_policy"}


def test_limit_and_min_score(api, world):
    args = {"p_talent_id": str(world.talents["ann"])}
    ann = world.caller("ann")
    assert len(api.call("get_talent_matches", args | {"p_limit": 1}, ann)) == 1
    rows = api.call("get_talent_matches", args | {"p_min_score": 80}, ann)
    assert [r["job_id"] for r in rows] == [str(world.jobs["x_open"])]
    assert api.call("get_talent_matches", args | {"p_min_score": 100}, ann) == []


def test_matches_go_stale_when_the_profile_its_skills_or_the_job_change(fresh_db_url):
    # Separate transactions, as in production: the worker computes, the user
    # edits later (inside one transaction now() never moves).
    with psycopg.connect(fresh_db_url) as conn:
        world = build_world(conn)
        conn.commit()
        api = Api(conn)
        ann = world.caller("ann")
        args = {"p_talent_id": str(world.talents["ann"])}

        def stale() -> dict[str, bool]:
            rows = api.call("get_talent_matches", args, ann)
            conn.commit()
            return {r["title"]: r["stale"] for r in rows}

        assert stale() == {"Engineer x_open": False, "Engineer x_other": False}
        # the job changes: only its match goes stale
        conn.execute(
            "update public.jobs set title = 'Renamed' where id = %s", (world.jobs["x_open"],)
        )
        conn.commit()
        assert stale() == {"Renamed": True, "Engineer x_other": False}
        # the worker recomputes; then a skill edit through the API moves the
        # talent's updated_at, so all of ann's matches go stale
        conn.execute("update public.matches set computed_at = clock_timestamp()")
        conn.commit()
        assert stale() == {"Renamed": False, "Engineer x_other": False}
        with conn.transaction():
            start_request(conn, ann)
            conn.execute(
                "insert into public.talent_skills (talent_id, skill_id, proficiency)"
                " values (%s, %s, 2)",
                (world.talents["ann"], world.skills["Go"]),
            )
            end_request(conn)
        conn.commit()
        assert stale() == {"Renamed": True, "Engineer x_other": True}


def test_a_new_profile_gets_fallback_scores_immediately(api, world):
    rows = api.call(
        "get_talent_matches", {"p_talent_id": str(world.talents["bob"])}, world.caller("bob")
    )
    open_jobs = {str(world.jobs[k]) for k in ("x_open", "x_other", "y_open")}
    assert {r["job_id"] for r in rows} == open_jobs
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 100 for s in scores)
    for r in rows:
        assert r["source"] == "fallback" and r["model_version"] is None and r["stale"] is False
        assert set(r["sub_scores"]) == {
            "skills", "experience", "location", "salary", "culture", "semantic"
        }  # fmt: skip
        assert 1 <= len(r["top_reasons"]) <= 3
        for reason in r["top_reasons"]:
            assert re.match(r"^[+-]\d+\.\d points: ", reason["sentence"]), reason
            assert isinstance(reason["contribution"], float | int)
        assert r["highly_recommended"] == (r["score"] > 80)


def test_fallback_scores_equal_the_fallback_scorer(api, world, conn):
    rows = api.call(
        "get_talent_matches", {"p_talent_id": str(world.talents["bob"])}, world.caller("bob")
    )
    for r in rows:
        expected = conn.execute(
            "select score, skills_score from matching.fallback_score(%s, %s)",
            (world.talents["bob"], r["job_id"]),
        ).fetchone()
        assert r["score"] == pytest.approx(expected[0], abs=0.006)
        assert r["sub_scores"]["skills"] == pytest.approx(expected[1], abs=0.051)


@pytest.mark.parametrize(
    ("who", "talent", "code"),
    [
        ("ann", "bob", "42501"),  # another talent's matches
        ("ann", "nobody", "42501"),  # a profile without an account
        ("xena", "ann", "42501"),  # a company member is not the talent
        ("admin", "ann", "42501"),  # an admin JWT reads through service_role only
        ("anon", "ann", "42501"),
        ("ann", "unknown", "MT404"),
    ],
)
def test_nobody_reads_another_talents_matches(api, world, who, talent, code):
    caller = ANON if who == "anon" else world.caller(who, admin=who == "admin")
    talent_id = str(uuid.uuid4()) if talent == "unknown" else str(world.talents[talent])
    exc = api.error("get_talent_matches", {"p_talent_id": talent_id}, caller)
    assert_clean(api.conn, exc, code)


def test_service_role_reads_any_talents_matches(api, world):
    rows = api.call("get_talent_matches", {"p_talent_id": str(world.talents["nobody"])}, SERVICE)
    assert [r["job_id"] for r in rows] == [str(world.jobs["x_open"])]


# --------------------------------------------------------------- get_job_matches


def test_members_read_their_jobs_matches_open_to_work_talents_only(api, world):
    rows = api.call(
        "get_job_matches", {"p_job_id": str(world.jobs["x_open"])}, world.caller("xavier")
    )
    # `hidden` scored 95 but is not open to work
    assert [r["talent_id"] for r in rows] == [
        str(world.talents["nobody"]),
        str(world.talents["ann"]),
    ]
    top = rows[0]
    assert top["score"] == 91.0 and top["source"] == "ml" and top["model_version"] == MODEL
    assert top["headline"] == "Engineer nobody" and "user_id" not in top and "bio" not in top
    # the company view is coarsened: whole numbers, location in steps of 25,
    # no reasons about distance (see matching.company_sub_scores)
    assert top["skills"] and top["sub_scores"]["location"] == 100
    assert all(float(v).is_integer() for v in top["sub_scores"].values())
    assert 1 <= len(top["top_reasons"]) <= 3
    assert not any("km" in r["sentence"] for r in top["top_reasons"])


def test_job_matches_sort_and_filter_by_sub_scores(api, world):
    args = {"p_job_id": str(world.jobs["x_open"])}
    xena = world.caller("xena")
    by_skills = api.call("get_job_matches", args | {"p_sort": "skills"}, xena)
    assert [r["talent_id"] for r in by_skills] == [
        str(world.talents["ann"]),
        str(world.talents["nobody"]),
    ]
    filtered = api.call("get_job_matches", args | {"p_min_sub_scores": {"skills": 60}}, xena)
    assert [r["talent_id"] for r in filtered] == [str(world.talents["ann"])]
    both = {"skills": 60, "location": 80}
    assert api.call("get_job_matches", args | {"p_min_sub_scores": both}, xena) == []
    assert len(api.call("get_job_matches", args | {"p_min_score": 90}, xena)) == 1


def test_a_job_without_stored_matches_gets_fallback_scores(api, world):
    rows = api.call(
        "get_job_matches", {"p_job_id": str(world.jobs["y_open"])}, world.caller("yuri")
    )
    open_to_work = {str(world.talents[k]) for k in ("ann", "bob", "nobody")}
    assert {r["talent_id"] for r in rows} == open_to_work
    assert all(r["source"] == "fallback" and r["model_version"] is None for r in rows)
    by_salary = api.call(
        "get_job_matches",
        {"p_job_id": str(world.jobs["y_open"]), "p_sort": "salary", "p_limit": 2},
        world.caller("yuri"),
    )
    assert len(by_salary) == 2
    salaries = [r["sub_scores"]["salary"] for r in by_salary]
    assert salaries == sorted(salaries, reverse=True)


def test_members_preview_candidates_of_a_draft(api, world):
    rows = api.call(
        "get_job_matches", {"p_job_id": str(world.jobs["x_draft"])}, world.caller("xena")
    )
    # ann has a stored match with the draft; the others are not stored
    assert [r["talent_id"] for r in rows] == [str(world.talents["ann"])]


@pytest.mark.parametrize(
    ("who", "job", "code"),
    [
        ("yuri", "x_open", "42501"),  # another company's job
        ("xena", "y_draft", "42501"),
        ("ann", "x_open", "42501"),  # a talent
        ("admin", "x_open", "42501"),
        ("anon", "x_open", "42501"),
        ("xena", "unknown", "MT404"),
    ],
)
def test_nobody_reads_another_companys_job_matches(api, world, who, job, code):
    caller = ANON if who == "anon" else world.caller(who, admin=who == "admin")
    job_id = str(uuid.uuid4()) if job == "unknown" else str(world.jobs[job])
    exc = api.error("get_job_matches", {"p_job_id": job_id}, caller)
    assert_clean(api.conn, exc, code)


# ------------------------------------------------------------------- validation

TALENT_ARGS_BAD = [
    ({"p_talent_id": None}, "MT001"),
    ({"p_limit": None}, "MT001"),
    ({"p_min_score": None}, "MT001"),
    ({"p_limit": 0}, "MT005"),
    ({"p_limit": 101}, "MT005"),
    ({"p_limit": -5}, "MT005"),
    ({"p_min_score": -0.01}, "MT010"),
    ({"p_min_score": 100.01}, "MT010"),
    ({"p_min_score": "NaN"}, "MT010"),
    ({"p_min_score": "Infinity"}, "MT010"),
    ({"p_talent_id": "not-a-uuid"}, "22P02"),
    ({"p_talent_id": "00000000-0000-0000-0000-00000000000g"}, "22P02"),
    ({"p_limit": "ten"}, "22P02"),
    ({"p_limit": 1.5}, "22P02"),
    ({"p_limit": 10**12}, "22003"),
    ({"p_min_score": "high"}, "22P02"),
]


@pytest.mark.parametrize(("bad", "code"), TALENT_ARGS_BAD)
def test_get_talent_matches_validation_codes(api, world, bad, code):
    args = {"p_talent_id": str(world.talents["ann"])} | bad
    assert_clean(api.conn, api.error("get_talent_matches", args, world.caller("ann")), code)


JOB_ARGS_BAD = [
    ({"p_job_id": None}, "MT001"),
    ({"p_sort": None}, "MT001"),
    ({"p_min_sub_scores": None}, "MT001"),
    ({"p_limit": 1000}, "MT005"),
    ({"p_min_score": 250}, "MT010"),
    ({"p_sort": "title"}, "MT011"),
    ({"p_sort": "Score"}, "MT011"),
    # the talent's preference fit: not shown to companies, so no order or filter by it
    ({"p_sort": "culture"}, "MT011"),
    ({"p_min_sub_scores": {"culture": 1}}, "MT012"),
    ({"p_min_sub_scores": [60]}, "MT012"),
    ({"p_min_sub_scores": "skills"}, "MT012"),
    ({"p_min_sub_scores": {"charm": 50}}, "MT012"),
    ({"p_min_sub_scores": {"skills": 101}}, "MT012"),
    ({"p_min_sub_scores": {"skills": -1}}, "MT012"),
    ({"p_min_sub_scores": {"skills": "60"}}, "MT012"),
    ({"p_min_sub_scores": {"skills": None}}, "MT012"),
    ({"p_job_id": "x"}, "22P02"),
]


@pytest.mark.parametrize(("bad", "code"), JOB_ARGS_BAD)
def test_get_job_matches_validation_codes(api, world, bad, code):
    args = {"p_job_id": str(world.jobs["x_open"])} | bad
    assert_clean(api.conn, api.error("get_job_matches", args, world.caller("xena")), code)


def test_validation_comes_before_authorisation_and_reveals_nothing(api, world):
    # a stranger with bad arguments learns about the arguments, not the job
    exc = api.error(
        "get_job_matches",
        {"p_job_id": str(world.jobs["x_open"]), "p_limit": 0},
        world.caller("yuri"),
    )
    assert_clean(api.conn, exc, "MT005")


# (function, text argument, other arguments builder)
TEXT_ARGUMENTS = [
    ("get_talent_matches", "p_talent_id", lambda w: {}),
    ("get_talent_matches", "p_limit", lambda w: {"p_talent_id": str(w.talents["ann"])}),
    ("get_talent_matches", "p_min_score", lambda w: {"p_talent_id": str(w.talents["ann"])}),
    ("get_job_matches", "p_job_id", lambda w: {}),
    ("get_job_matches", "p_sort", lambda w: {"p_job_id": str(w.jobs["x_open"])}),
    ("get_job_matches", "p_min_sub_scores", lambda w: {"p_job_id": str(w.jobs["x_open"])}),
    ("get_job_matches", "p_min_sub_scores.key", lambda w: {"p_job_id": str(w.jobs["x_open"])}),
    (
        "record_match_feedback",
        "p_feedback_type",
        lambda w: {"p_talent_id": str(w.talents["ann"]), "p_job_id": str(w.jobs["x_open"])},
    ),
    (
        "record_match_feedback",
        "p_talent_id",
        lambda w: {"p_job_id": str(w.jobs["x_open"]), "p_feedback_type": "applied"},
    ),
    (
        "record_match_feedback",
        "p_job_id",
        lambda w: {"p_talent_id": str(w.talents["ann"]), "p_feedback_type": "applied"},
    ),
    ("activate_model", "p_version", lambda w: {}),
    ("request_retrain", "p_force", lambda w: {}),
]


@pytest.mark.parametrize("injection", INJECTIONS, ids=range(len(INJECTIONS)))
@pytest.mark.parametrize(
    ("fn", "arg", "others"), TEXT_ARGUMENTS, ids=[f"{f}.{a}" for f, a, _ in TEXT_ARGUMENTS]
)
def test_injection_strings_get_clean_errors(api, world, tables_intact, fn, arg, others, injection):
    args = others(world)
    if arg == "p_min_sub_scores.key":
        args["p_min_sub_scores"] = {injection: 50}
    else:
        args[arg] = injection
    caller = {
        "get_talent_matches": world.caller("ann"),
        "get_job_matches": world.caller("xena"),
        "record_match_feedback": world.caller("ann"),
    }.get(fn, world.caller("admin", admin=True))
    exc = api.error(fn, args, caller)
    assert_clean(api.conn, exc, CLEAN_CODES)
    if exc.sqlstate.startswith("MT"):
        # our messages quote at most a short prefix of what was sent
        assert len(str(exc)) < 400


def test_injection_strings_in_claims_and_headers_are_inert(api, world, tables_intact):
    for injection in INJECTIONS:
        caller = Caller(
            "authenticated",
            {"sub": str(world.users["ann"]), "role": "authenticated", "email": injection},
            {"x-forwarded-for": injection, "user-agent": injection},
        )
        rows = api.call("get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, caller)
        assert len(rows) == 2
        anon = Caller("anon", {"role": "anon"}, {"x-forwarded-for": injection})
        exc = api.error("get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, anon)
        assert_clean(api.conn, exc, "42501")


def test_a_sub_that_is_not_a_uuid_is_refused_cleanly(api, world):
    caller = Caller("authenticated", {"sub": "'; drop table public.talents; --"})
    exc = api.error("get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, caller)
    assert_clean(api.conn, exc, "22P02")


# -------------------------------------------------------------------- feedback


def feedback_rows(conn: psycopg.Connection, talent: uuid.UUID) -> list[tuple]:
    return conn.execute(
        "select job_id, feedback_type::text, actor::text, actor_user_id, score, source::text,"
        " model_version, features from public.match_feedback where talent_id = %s order by id",
        (talent,),
    ).fetchall()


@pytest.mark.parametrize("kind", ["applied", "interested", "dismissed"])
def test_talents_record_their_own_feedback_idempotently(api, world, conn, kind):
    args = {
        "p_talent_id": str(world.talents["ann"]),
        "p_job_id": str(world.jobs["x_open"]),
        "p_feedback_type": kind,
    }
    first = api.call("record_match_feedback", args, world.caller("ann"))
    again = api.call("record_match_feedback", args, world.caller("ann"))
    assert first[0]["created"] is True and again[0]["created"] is False
    assert first[0]["feedback_id"] == again[0]["feedback_id"]
    assert first[0]["actor"] == "talent"
    # the response carries no score, source or model version (issue 12)
    assert not {"score", "source", "model_version"} & set(first[0])
    # the snapshot of the stored match: score, version and feature vector
    assert feedback_rows(conn, world.talents["ann"]) == [
        (
            world.jobs["x_open"],
            kind,
            "talent",
            world.users["ann"],
            85.5,
            "ml",
            MODEL,
            [0.5, 1.0, 2.0],
        ),
    ]
    rows = api.call(
        "get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, world.caller("ann")
    )
    assert rows[0]["feedback"] == [kind]


def test_feedback_on_a_pair_without_a_stored_match_records_the_fallback_score(api, world, conn):
    api.call(
        "record_match_feedback",
        {
            "p_talent_id": str(world.talents["bob"]),
            "p_job_id": str(world.jobs["y_open"]),
            "p_feedback_type": "applied",
        },
        world.caller("bob"),
    )
    ((_job, kind, actor, _who, score, source, version, features),) = feedback_rows(
        conn, world.talents["bob"]
    )
    expected = conn.execute(
        "select score from matching.fallback_score(%s, %s)",
        (world.talents["bob"], world.jobs["y_open"]),
    ).fetchone()[0]
    assert (kind, actor, source, version, features) == ("applied", "talent", "fallback", None, None)
    assert score == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize("kind", ["contacted", "shortlisted", "rejected"])
def test_company_members_record_feedback_for_their_jobs(api, world, conn, kind):
    args = {
        "p_talent_id": str(world.talents["ann"]),
        "p_job_id": str(world.jobs["x_open"]),
        "p_feedback_type": kind,
    }
    row = api.call("record_match_feedback", args, world.caller("xavier"))[0]
    assert row["actor"] == "company" and row["created"] is True
    assert feedback_rows(conn, world.talents["ann"])[0][2:4] == ("company", world.users["xavier"])
    again = api.call("record_match_feedback", args, world.caller("xena"))[0]
    assert again["created"] is False and again["feedback_id"] == row["feedback_id"]


@pytest.mark.parametrize(
    ("who", "talent", "job", "kind", "code"),
    [
        ("ann", "bob", "x_open", "applied", "42501"),  # for someone else
        ("ann", "ann", "x_open", "shortlisted", "42501"),  # a company's feedback type
        ("xena", "ann", "x_open", "applied", "42501"),  # a talent's feedback type
        ("yuri", "ann", "x_open", "shortlisted", "42501"),  # another company's job
        ("admin", "ann", "x_open", "applied", "42501"),
        ("anon", "ann", "x_open", "applied", "42501"),
        ("bob", "bob", "y_draft", "applied", "MT404"),  # a draft is not visible to bob
        ("xena", "hidden", "x_other", "contacted", "MT404"),  # not open to work, no match
        ("ann", "ann", "unknown", "applied", "MT404"),
        ("xena", "unknown", "x_open", "contacted", "MT404"),
        ("ann", "ann", "x_open", "like", "MT013"),
        ("ann", "ann", "x_open", "Applied", "MT013"),
        ("ann", "ann", "x_open", "", "MT013"),
        ("ann", "ann", "x_open", None, "MT001"),
    ],
)
def test_feedback_is_refused_with_the_documented_code(api, world, who, talent, job, kind, code):
    caller = ANON if who == "anon" else world.caller(who, admin=who == "admin")
    args = {
        "p_talent_id": str(uuid.uuid4()) if talent == "unknown" else str(world.talents[talent]),
        "p_job_id": str(uuid.uuid4()) if job == "unknown" else str(world.jobs[job]),
        "p_feedback_type": kind,
    }
    assert_clean(api.conn, api.error("record_match_feedback", args, caller), code)
    assert api.conn.execute("select count(*) from public.match_feedback").fetchone()[0] == 0


def test_service_role_records_any_feedback(api, world, conn):
    for kind in ("interested", "rejected"):
        api.call(
            "record_match_feedback",
            {
                "p_talent_id": str(world.talents["nobody"]),
                "p_job_id": str(world.jobs["x_open"]),
                "p_feedback_type": kind,
            },
            SERVICE,
        )
    rows = feedback_rows(conn, world.talents["nobody"])
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("interested", "talent", None),
        ("rejected", "company", None),
    ]


def test_a_deleted_users_token_does_not_break_feedback(api, world, conn):
    conn.execute("update public.talents set user_id = null where id = %s", (world.talents["bob"],))
    conn.execute("delete from auth.users where id = %s", (world.users["bob"],))
    # bob's token still carries his sub: he owns nothing any more
    exc = api.error(
        "record_match_feedback",
        {
            "p_talent_id": str(world.talents["bob"]),
            "p_job_id": str(world.jobs["x_open"]),
            "p_feedback_type": "applied",
        },
        world.caller("bob"),
    )
    assert_clean(conn, exc, "42501")


# --------------------------------------------------------------- admin functions


def pending_retrains(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "select id, task_name, queue_name, args from procrastinate.procrastinate_jobs"
        " where queueing_lock = 'retrain' and status = 'todo'"
    ).fetchall()


def test_request_retrain_enqueues_exactly_one_pending_job(api, world, conn):
    admin = world.caller("admin", admin=True)
    first = api.call("request_retrain", {}, admin)
    second = api.call("request_retrain", {"p_force": False}, admin)
    assert first[0]["enqueued"] is True and second[0]["enqueued"] is False
    assert first[0]["job_id"] == second[0]["job_id"]
    assert pending_retrains(conn) == [
        (first[0]["job_id"], "matching:retrain", "retrain", {"force": False})
    ]
    forced = api.call("request_retrain", {"p_force": True}, SERVICE)
    assert forced == [{"job_id": first[0]["job_id"], "enqueued": False, "forced": True}]
    assert pending_retrains(conn)[0][3] == {"force": True}
    # and from SQL, as the issue spells it
    again = conn.execute("select * from matching.request_retrain(force => true)").fetchone()
    assert again == (first[0]["job_id"], False, True)
    assert len(pending_retrains(conn)) == 1


def test_a_retrain_requested_while_one_runs_is_queued_behind_it(api, world, conn):
    job = api.call("request_retrain", {}, SERVICE)[0]["job_id"]
    # the worker takes it (procrastinate's triggers need its schema on the path)
    conn.execute("set local search_path = procrastinate")
    conn.execute("update procrastinate_jobs set status = 'doing' where id = %s", (job,))
    conn.execute("set local search_path = public")
    nxt = api.call("request_retrain", {}, SERVICE)[0]
    assert nxt["enqueued"] is True and nxt["job_id"] != job


@pytest.mark.parametrize(
    ("fn", "args"),
    [
        ("request_retrain", {}),
        ("activate_model", {"p_version": MODEL}),
        ("rollback_model", {}),
        ("matching_health", {}),
    ],
)
@pytest.mark.parametrize(
    "who",
    ["user", "talent", "member", "self_made_admin", "anon", "anon_admin"],
)
def test_admin_functions_refuse_everyone_else(api, world, conn, fn, args, who):
    callers = {
        "user": user(uuid.uuid4()),
        "talent": world.caller("ann"),
        "member": world.caller("xena"),
        # user_metadata is editable by the user: it grants nothing
        "self_made_admin": Caller(
            "authenticated", {"sub": str(world.users["ann"]), "user_metadata": {"role": "admin"}}
        ),
        "anon": ANON,
        "anon_admin": Caller("anon", {"role": "anon", "app_metadata": {"role": "admin"}}),
    }
    assert_clean(conn, api.error(fn, args, callers[who]), "42501")
    assert pending_retrains(conn) == []
    assert conn.execute("select count(*) from matching.model_activations").fetchone()[0] == 0


def test_internal_admin_functions_are_unreachable_for_api_roles(conn, world):
    for caller in (world.caller("admin", admin=True), ANON):
        for statement in (
            "select matching.request_retrain()",
            "select matching.activate_model('x')",
            "select * from procrastinate.procrastinate_jobs",
        ):
            with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
                start_request(conn, caller)
                conn.execute(statement)


def test_an_admin_activates_and_rolls_back_models(api, world, conn):
    conn.execute(
        "insert into matching.model_versions (version, model_text, feature_names,"
        " training_samples) values ('rpc-test-2', 'tree', '{a}', 1)"
    )
    admin = world.caller("admin", admin=True)
    assert api.call("activate_model", {"p_version": MODEL}, admin) == MODEL
    assert api.call("activate_model", {"p_version": "rpc-test-2"}, SERVICE) == "rpc-test-2"
    assert api.call("rollback_model", {}, admin) == MODEL
    log = conn.execute(
        "select version, activated_by, reason from matching.model_activations order by id"
    ).fetchall()
    assert log == [
        (MODEL, f"admin:{world.users['admin']}", "activate"),
        ("rpc-test-2", "service_role", "activate"),
        (MODEL, f"admin:{world.users['admin']}", "rollback"),
    ]


@pytest.mark.parametrize(
    ("version", "code"),
    [(None, "MT001"), ("no-such-model", "MT404"), ("bad version!", "MT404"), ("", "MT404")],
)
def test_activate_model_codes(api, world, version, code):
    exc = api.error("activate_model", {"p_version": version}, world.caller("admin", admin=True))
    assert_clean(api.conn, exc, code)


def test_matching_health_reports_model_queue_workers_and_fallback_share(api, world, conn):
    admin = world.caller("admin", admin=True)
    empty = api.call("matching_health", {}, admin)[0]
    assert empty["active_model_version"] is None
    assert empty["workers"] == 0 and empty["worker_heartbeat_age_seconds"] is None
    # building the world enqueued rematch jobs (the edit triggers); no retrain yet
    assert "retrain" not in empty["queue_depth_by_queue"]
    before = empty["rows_served_last_hour"]

    api.call("activate_model", {"p_version": MODEL}, SERVICE)
    api.call("request_retrain", {}, SERVICE)
    conn.execute(
        "insert into procrastinate.procrastinate_workers (last_heartbeat)"
        " values (now() - interval '20 seconds')"
    )
    # 2 stored rows for ann, 3 fallback rows for bob
    api.call("get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, world.caller("ann"))
    api.call("get_talent_matches", {"p_talent_id": str(world.talents["bob"])}, world.caller("bob"))

    health = api.call("matching_health", {}, admin)[0]
    assert health["active_model_version"] == MODEL
    assert health["active_model_trained_at"] is not None
    # the retrain request, and the re-rank every activation queues
    assert health["queue_depth"] == empty["queue_depth"] + 2
    assert health["queue_depth_by_queue"]["retrain"] == 1
    assert health["workers"] == 1 and health["worker_heartbeat_age_seconds"] >= 19
    assert health["oldest_pending_age_seconds"] >= 0
    assert health["rows_served_last_hour"] - before == 5
    assert health["fallback_rows_last_hour"] >= 3
    assert 0 < health["fallback_share_last_hour"] <= 1


# ------------------------------------------------------------------ documentation


def test_every_api_function_is_documented(conn):
    # the API: every function in the exposed schema an API role may execute
    rows = conn.execute(
        "select p.proname, obj_description(p.oid, 'pg_proc') from pg_proc p"
        " join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'"
        " and (has_function_privilege('anon', p.oid, 'execute')"
        "      or has_function_privilege('authenticated', p.oid, 'execute'))"
    ).fetchall()
    assert rows
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    for name, comment in rows:
        assert comment, f"public.{name} has no comment"
        assert f"`{name}" in doc, f"public.{name} is not in docs/api.md"
    for code in sorted({c for c in CLEAN_CODES | {"MT020", "MT021", "MT022", "MT503", "PT429"}}):
        assert f"`{code}`" in doc, f"{code} is not documented"


def test_signatures_are_stable(conn):
    expected = {
        "get_talent_matches": "p_talent_id uuid, p_limit integer DEFAULT 20,"
        " p_min_score numeric DEFAULT 0",
        "get_job_matches": "p_job_id uuid, p_limit integer DEFAULT 20, p_min_score numeric"
        " DEFAULT 0, p_sort text DEFAULT 'score'::text, p_min_sub_scores jsonb DEFAULT"
        " '{}'::jsonb",
        "record_match_feedback": "p_talent_id uuid, p_job_id uuid, p_feedback_type text",
        "request_retrain": "p_force boolean DEFAULT false",
        "activate_model": "p_version text",
        "rollback_model": "",
        "matching_health": "",
        "check_rate_limit": "",
    }
    rows = dict(
        conn.execute(
            "select p.proname, pg_get_function_arguments(p.oid) from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'"
        ).fetchall()
    )
    assert {name: rows.get(name) for name in expected} == expected
    volatile = dict(
        conn.execute(
            "select p.proname, p.provolatile from pg_proc p"
            " join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'"
        ).fetchall()
    )
    # PostgREST runs STABLE functions read-only: everything that writes is VOLATILE
    assert {n for n in expected if volatile[n] != "v"} == {"matching_health"}
