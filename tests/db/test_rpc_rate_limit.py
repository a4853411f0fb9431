"""Rate limiting in PostgREST's db-pre-request hook, public.check_rate_limit().

Every request here is its own committed transaction, as behind PostgREST:
`set local role`, claims and headers, the hook, then the function. Subjects
(user ids, client IPs) are unique per test, so tests sharing the module's
database never count each other's requests.
"""

from __future__ import annotations

import ipaddress
import random
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors
from support.rpc import SERVICE, Api, Caller, World, build_world, end_request, start_request

pytestmark = pytest.mark.integration

LIMIT = 100


@pytest.fixture(scope="module")
def setup(db_url: str) -> Iterator[tuple[str, World]]:
    with psycopg.connect(db_url) as conn:
        world = build_world(conn)
        conn.commit()
    yield db_url, world


@pytest.fixture
def session(setup) -> Iterator[tuple[psycopg.Connection, World]]:
    url, world = setup
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn, world


def random_ip() -> str:
    """An address in 10.0.0.0/8 no other test uses."""
    return str(ipaddress.IPv4Address(0x0A000000 + random.getrandbits(24)))


def request(conn: psycopg.Connection, caller: Caller, *, read_only: bool = False) -> None:
    """One request through the hook in its own transaction (the hook alone: cheap)."""
    with conn.transaction():
        if read_only:
            conn.execute("set transaction read only")
        start_request(conn, caller, "GET" if read_only else "POST")
        conn.execute("select public.check_rate_limit()")
        end_request(conn)


def refused(conn: psycopg.Connection, caller: Caller, *, read_only: bool = False) -> bool:
    try:
        request(conn, caller, read_only=read_only)
    except psycopg.Error as exc:
        assert exc.sqlstate == "PT429", exc
        assert "rate limit exceeded" in str(exc)
        assert exc.diag.message_hint.startswith("retry in ")
        return True
    return False


def wait_for_a_fresh_window(margin: float = 5.0) -> None:
    """Windows are aligned to the minute: do not start 100 requests right before one ends."""
    into = time.time() % 60
    if into > 60 - margin:
        time.sleep(60 - into + 0.2)


def counter(conn: psycopg.Connection, subject: str) -> int:
    row = conn.execute(
        "select coalesce(sum(requests), 0) from matching.rate_limit_counters where subject = %s",
        (subject,),
    ).fetchone()
    return int(row[0])


def test_the_101st_call_in_a_minute_answers_429_and_the_next_minute_recovers(session):
    conn, world = session
    api = Api(conn)
    ann = world.caller("ann")
    args = {"p_talent_id": str(world.talents["ann"])}
    wait_for_a_fresh_window()
    for _ in range(LIMIT):
        assert len(api.call("get_talent_matches", args, ann)) == 2
    with pytest.raises(psycopg.Error) as caught:
        api.call("get_talent_matches", args, ann)
    assert caught.value.sqlstate == "PT429"
    # refused requests are not counted: the counter stays at the limit
    assert counter(conn, f"user:{world.users['ann']}") == LIMIT
    # other users are not affected
    assert (
        len(
            api.call(
                "get_talent_matches",
                {"p_talent_id": str(world.talents["bob"])},
                world.caller("bob"),
            )
        )
        == 3
    )
    # a minute later (the window moved on: age the counter instead of sleeping)
    conn.execute(
        "update matching.rate_limit_counters set window_start = window_start - interval '60 s'"
        " where subject = %s",
        (f"user:{world.users['ann']}",),
    )
    assert len(api.call("get_talent_matches", args, ann)) == 2


def test_anonymous_callers_are_limited_per_client_ip(session):
    conn, _ = session
    ip, other = random_ip(), random_ip()
    # the right-most address is the one our proxy appended; what the client
    # put to its left is ignored, so rotating it does not escape the limit
    anon = Caller("anon", {"role": "anon"}, {"x-forwarded-for": f"10.0.0.1, {ip}"})
    wait_for_a_fresh_window()
    for _ in range(LIMIT):
        assert not refused(conn, anon)
    assert refused(conn, anon)
    spoofed = Caller("anon", {"role": "anon"}, {"x-forwarded-for": f"{random_ip()}, {ip}"})
    assert refused(conn, spoofed)
    assert refused(conn, Caller("anon", {"role": "anon"}, {"x-forwarded-for": ip}))
    assert not refused(conn, Caller("anon", {"role": "anon"}, {"x-forwarded-for": other}))
    assert counter(conn, f"ip:{ip}") == LIMIT


def test_ipv6_clients_are_grouped_by_64_prefix(session):
    conn, _ = session
    prefix = f"2001:db8:{random.getrandbits(16):x}:{random.getrandbits(16):x}"
    wait_for_a_fresh_window()
    for i in range(LIMIT):
        request(conn, Caller("anon", {"role": "anon"}, {"x-forwarded-for": f"{prefix}::{i + 1:x}"}))
    assert refused(conn, Caller("anon", {"role": "anon"}, {"x-forwarded-for": f"{prefix}::ffff"}))


def test_unusable_headers_fall_into_one_shared_bucket(session):
    conn, _ = session
    for headers in ({}, {"x-forwarded-for": "not an ip"}, {"x-forwarded-for": "'; drop --"}):
        request(conn, Caller("anon", {"role": "anon"}, headers))
    assert counter(conn, "ip:unknown") >= 3


def test_service_role_is_exempt(session):
    conn, _ = session
    total = "select coalesce(sum(requests), 0) from matching.rate_limit_counters"
    before = conn.execute(total).fetchone()[0]
    for _ in range(LIMIT + 20):
        request(conn, SERVICE)
    assert conn.execute(total).fetchone()[0] == before


def test_read_only_requests_are_refused_when_the_window_is_full_but_not_counted(session):
    conn, _ = session
    caller = Caller("authenticated", {"sub": str(uuid.uuid4()), "role": "authenticated"})
    subject = f"user:{caller.sub}"
    wait_for_a_fresh_window()
    for _ in range(5):
        request(conn, caller, read_only=True)  # a GET cannot write
    assert counter(conn, subject) == 0
    for _ in range(LIMIT):
        request(conn, caller)
    assert refused(conn, caller, read_only=True)
    assert refused(conn, caller)


def test_the_limit_is_configurable_and_can_be_switched_off(fresh_db_url):
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(
            "update matching.api_settings set rate_limit_requests = 3,"
            " rate_limit_window_seconds = 3600"
        )
        caller = Caller("authenticated", {"sub": str(uuid.uuid4())})
        assert [refused(conn, caller) for _ in range(4)] == [False, False, False, True]
        conn.execute("update matching.api_settings set rate_limit_enabled = false")
        assert not refused(conn, caller)
        conn.execute(
            "update matching.api_settings set rate_limit_enabled = true,"
            " client_ip_header = 'cf-connecting-ip', rate_limit_requests = 1"
        )
        first = Caller("anon", {"role": "anon"}, {"cf-connecting-ip": "203.0.113.9"})
        assert not refused(conn, first)
        # a different X-Forwarded-For does not help: the configured header counts
        spoof = Caller(
            "anon",
            {"role": "anon"},
            {"cf-connecting-ip": "203.0.113.9", "x-forwarded-for": "198.51.100.1"},
        )
        assert refused(conn, spoof)
        for bad in (
            "rate_limit_requests = 0",
            "rate_limit_window_seconds = 0",
            "client_ip_header = 'X-Forwarded-For'",
            "fallback_candidates = 5",
            "id = false",
        ):
            with pytest.raises(psycopg.Error) as caught:
                conn.execute(f"update matching.api_settings set {bad}")
            assert caught.value.sqlstate == "MT021", bad


def test_api_roles_cannot_touch_the_counters_or_settings(session):
    conn, world = session
    for caller in (world.caller("ann"), Caller("anon", {"role": "anon"})):
        for statement in (
            "delete from matching.rate_limit_counters",
            "update matching.api_settings set rate_limit_enabled = false",
        ):
            with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
                start_request(conn, caller)
                conn.execute(statement)


def test_expired_windows_are_purged_a_bounded_batch_at_a_time(session):
    conn, _ = session
    conn.execute(
        "insert into matching.rate_limit_counters (subject, window_start, requests)"
        " select 'old:' || g || ':' || %s, now() - interval '1 hour', 5"
        " from generate_series(1, 150) g",
        (uuid.uuid4().hex,),
    )
    old = (
        "select count(*) from matching.rate_limit_counters"
        " where window_start < now() - interval '2 minutes'"
    )
    assert conn.execute(old).fetchone()[0] >= 150
    # the first request of a new subject in a window deletes up to 100 expired rows
    request(conn, Caller("authenticated", {"sub": str(uuid.uuid4())}))
    left = conn.execute(old).fetchone()[0]
    request(conn, Caller("authenticated", {"sub": str(uuid.uuid4())}))
    request(conn, Caller("authenticated", {"sub": str(uuid.uuid4())}))
    assert conn.execute(old).fetchone()[0] == 0 and left <= 50
    purged = conn.execute("select matching.purge_api_counters()").fetchone()[0]
    assert purged >= 0


def test_the_hook_is_one_cheap_indexed_upsert(session):
    conn, _ = session
    caller = Caller("authenticated", {"sub": str(uuid.uuid4())})
    started = time.perf_counter()
    for _ in range(50):
        request(conn, caller)
    per_request_ms = (time.perf_counter() - started) * 1000 / 50
    # generous: it includes four round trips and a commit per request
    assert per_request_ms < 20
    plan = conn.execute(
        "explain (format json) insert into matching.rate_limit_counters as c"
        " (subject, window_start, requests) values ('x', now(), 1)"
        " on conflict (subject, window_start) do update set requests = c.requests + 1"
    ).fetchone()[0]
    assert plan[0]["Plan"]["Conflict Arbiter Indexes"] == ["rate_limit_counters_pkey"]


def test_a_signed_in_token_without_subject_is_refused(session):
    conn, _ = session
    nosub = Caller("authenticated", {"role": "authenticated"}, {"x-forwarded-for": random_ip()})
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="no subject"),
        conn.transaction(),
    ):
        start_request(conn, nosub)
        conn.execute("select public.check_rate_limit()")
    conn.execute("reset role")
