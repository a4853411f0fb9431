"""The PostgREST/GoTrue test double (tests/support/postgrest.py), over HTTP.

A browser end-to-end test of the example dashboard talks to the double
instead of Supabase; these tests hold it to what PostgREST 13 and GoTrue
answer: a session from the password grant, the JWT checks, the function
lookup, the casts, Postgres errors with PostgREST's status mapping, the
db-pre-request hook seeing the request's headers, GoTrue's error bodies and
the gateway's CORS.

One double per module, on the module's database; the world is committed
once (build_world). Tests that change shared state (the rate limit) put it
back.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import bcrypt
import jwt
import psycopg
import pytest
from support.postgrest import PostgrestDouble, sign_jwt
from support.rpc import World, build_world

pytestmark = pytest.mark.integration

SECRET = "test-double-jwt-secret-of-at-least-32-chars"
PASSWORD = "correct horse battery staple"
API_VERSION = {"X-Supabase-Api-Version": "2024-01-01"}  # what auth-js sends


@dataclass
class Site:
    double: PostgrestDouble
    url: str
    db_url: str
    world: World


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: Any


@pytest.fixture(scope="module")
def site(db_url: str) -> Iterator[Site]:
    with psycopg.connect(db_url) as conn:
        conn.execute("alter table auth.users add column if not exists encrypted_password text")
        world = build_world(conn)
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
        # GoTrue (Go's bcrypt) writes $2a$ hashes; Python's bcrypt writes $2b$
        conn.execute(
            "update auth.users set encrypted_password = %s where id = %s",
            ("$2a$" + hashed.removeprefix("$2b$"), world.users["ann"]),
        )
        conn.execute(
            "update auth.users set encrypted_password = %s where id = %s",
            (hashed, world.users["bob"]),
        )
        # what a request looks like from inside the database (this module's database only)
        conn.execute(
            """
            create function public.test_double_echo(p_echo jsonb default null) returns jsonb
            language sql stable as $$
              select jsonb_build_object(
                'echo', p_echo,
                'role', current_user,
                'read_only', current_setting('transaction_read_only'),
                'claims', current_setting('request.jwt.claims', true)::jsonb,
                'headers', current_setting('request.headers', true)::jsonb,
                'cookies', current_setting('request.cookies', true)::jsonb,
                'method', current_setting('request.method', true),
                'path', current_setting('request.path', true))
            $$;
            grant execute on function public.test_double_echo(jsonb) to anon, authenticated;
            """
        )
        conn.commit()
    with PostgrestDouble(db_url, SECRET) as double:
        assert double.base_url is not None
        yield Site(double, double.base_url, db_url, world)


def http(
    site: Site,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    apikey: str | None = "anon",
) -> Answer:
    sent = {"Content-Type": "application/json"} if body is not None else {}
    if apikey == "anon":
        sent["apikey"] = site.double.anon_key
    elif apikey is not None:
        sent["apikey"] = apikey
    sent.update(headers or {})
    request = urllib.request.Request(
        site.url + path,
        data=None if body is None else json.dumps(body).encode(),
        headers=sent,
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, got, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, got, raw = error.code, error.headers, error.read()
    return Answer(
        status,
        {k.lower(): v for k, v in got.items()},
        json.loads(raw) if raw else None,
    )


def rpc(
    site: Site,
    fn: str,
    args: dict[str, Any] | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    sent = {"Authorization": f"Bearer {token}"} if token else {}
    return http(site, "POST", f"/rest/v1/rpc/{fn}", args or {}, sent | (headers or {}))


def sign_in(site: Site, email: str, password: str = PASSWORD) -> Answer:
    return http(
        site,
        "POST",
        "/auth/v1/token?grant_type=password",
        {"email": email, "password": password},
        API_VERSION,
    )


@pytest.fixture(scope="module")
def tokens(site: Site) -> dict[str, str]:
    """Access tokens from the password grant, as supabase-js gets them."""
    found = {}
    for name in ("ann", "bob"):
        answer = sign_in(site, f"{name}@example.test")
        assert answer.status == 200, answer.body
        found[name] = answer.body["access_token"]
    return found


def assert_pgrst_error(answer: Answer, status: int, code: str) -> dict[str, Any]:
    assert answer.status == status, (answer.status, answer.body)
    assert set(answer.body) == {"code", "message", "details", "hint"}, answer.body
    assert answer.body["code"] == code, answer.body
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["access-control-allow-origin"] == "*"
    body: dict[str, Any] = answer.body
    return body


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


# ------------------------------------------------------------------- GoTrue


def test_the_password_grant_returns_a_session_supabase_js_accepts(site):
    answer = sign_in(site, "ANN@example.test")  # GoTrue matches the email case-insensitively
    assert answer.status == 200, answer.body
    session = answer.body
    # auth-js keeps a session only with access_token, refresh_token and expires_in, and a user
    assert session["token_type"] == "bearer" and session["expires_in"] == 3600
    assert session["refresh_token"] and session["expires_at"] > time.time() + 3500
    user = session["user"]
    ann = str(site.world.users["ann"])
    assert user["id"] == ann and user["email"] == "ann@example.test"
    assert user["aud"] == "authenticated" and user["role"] == "authenticated"
    assert {"app_metadata", "user_metadata", "created_at", "identities"} <= set(user)
    claims = jwt.decode(
        session["access_token"], SECRET, algorithms=["HS256"], audience="authenticated"
    )
    assert claims["sub"] == ann and claims["role"] == "authenticated"
    assert claims["email"] == "ann@example.test" and claims["exp"] - claims["iat"] == 3600
    assert claims["session_id"] and claims["app_metadata"] == {}
    assert claims["iss"] == f"{site.url}/auth/v1"

    me = http(
        site, "GET", "/auth/v1/user", headers={"Authorization": f"Bearer {session['access_token']}"}
    )
    assert me.status == 200 and me.body["id"] == ann


@pytest.mark.parametrize(
    ("email", "password"),
    [("ann@example.test", "wrong password"), ("nobody@example.test", PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_wrong_credentials_answer_400_invalid_credentials(site, email, password):
    answer = sign_in(site, email, password)
    # GoTrue's 2024-01-01 error body (auth-js: error.code, error.message)
    assert answer.status == 400
    assert answer.body == {"code": "invalid_credentials", "message": "Invalid login credentials"}
    assert answer.headers["x-sb-error-code"] == "invalid_credentials"
    # older clients (no API version header) get the legacy body
    legacy = http(
        site, "POST", "/auth/v1/token?grant_type=password", {"email": email, "password": password}
    )
    assert legacy.status == 400
    assert legacy.body == {
        "code": 400,
        "error_code": "invalid_credentials",
        "msg": "Invalid login credentials",
    }


def test_a_user_without_a_password_cannot_sign_in(site):
    # xena has no encrypted_password (a shimmed database, or an OAuth-only user)
    assert sign_in(site, "xena@example.test").status == 400


def test_refresh_and_logout(site):
    session = sign_in(site, "bob@example.test").body
    refreshed = http(
        site,
        "POST",
        "/auth/v1/token?grant_type=refresh_token",
        {"refresh_token": session["refresh_token"]},
        API_VERSION,
    )
    assert refreshed.status == 200, refreshed.body
    token = refreshed.body["access_token"]
    assert jwt_claims(token)["session_id"] == jwt_claims(session["access_token"])["session_id"]
    out = http(site, "POST", "/auth/v1/logout", {}, {"Authorization": f"Bearer {token}"})
    assert out.status == 204
    again = http(
        site,
        "POST",
        "/auth/v1/token?grant_type=refresh_token",
        {"refresh_token": refreshed.body["refresh_token"]},
        API_VERSION,
    )
    assert again.status == 400 and again.body["code"] == "refresh_token_not_found"


# -------------------------------------------------------------------- gateway


def test_the_gateway_wants_an_apikey(site):
    answer = http(site, "POST", "/rest/v1/rpc/get_my_context", {}, apikey=None)
    assert answer.status == 401 and answer.body["message"] == "No API key found in request"
    forged = sign_jwt("another-secret-that-is-at-least-32-characters", {"role": "anon"})
    assert http(site, "POST", "/auth/v1/token?grant_type=password", {}, apikey=forged).status == 401


def test_cors_preflight_and_headers(site):
    wanted = "authorization, apikey, content-type, x-client-info, x-supabase-api-version"
    for path in ("/rest/v1/rpc/get_talent_matches", "/auth/v1/token?grant_type=password"):
        answer = http(
            site,
            "OPTIONS",
            path,
            headers={
                "Origin": "http://localhost:5173",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": wanted,
            },
            apikey=None,  # a preflight carries no credentials
        )
        assert answer.status in (200, 204)
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "POST" in answer.headers["access-control-allow-methods"]
        allowed = {h.strip() for h in answer.headers["access-control-allow-headers"].split(",")}
        assert {h.strip() for h in wanted.split(",")} <= allowed


def test_other_paths_are_not_served(site):
    answer = http(site, "GET", "/rest/v1/talents?select=*")
    assert answer.status == 404 and "serves only" in answer.body["message"]
    assert http(site, "POST", "/auth/v1/signup", {"email": "a@b.c"}).status == 404


# ------------------------------------------------------------------ PostgREST


def test_a_talent_reads_their_matches(site, tokens):
    world = site.world
    answer = rpc(
        site, "get_talent_matches", {"p_talent_id": str(world.talents["ann"])}, tokens["ann"]
    )
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert isinstance(answer.body, list)
    assert [r["job_id"] for r in answer.body] == [
        str(world.jobs["x_open"]),
        str(world.jobs["x_other"]),
    ]
    assert answer.body[0]["score"] == 85.5 and all("score" in r for r in answer.body)
    assert answer.headers["content-range"] == "0-1/*"
    # arguments left out take their defaults; given ones are cast from JSON
    limited = rpc(
        site,
        "get_talent_matches",
        {"p_talent_id": str(world.talents["ann"]), "p_limit": 1, "p_min_score": "80"},
        tokens["ann"],
    )
    assert limited.status == 200 and len(limited.body) == 1
    # .single(): one object, or 406 PGRST116
    single = {"Accept": "application/vnd.pgrst.object+json"}
    args = {"p_talent_id": str(world.talents["ann"])}
    one = rpc(site, "get_talent_matches", args | {"p_limit": 1}, tokens["ann"], single)
    assert one.status == 200 and one.body["job_id"] == str(world.jobs["x_open"])
    two = rpc(site, "get_talent_matches", args | {"p_limit": 2}, tokens["ann"], single)
    assert assert_pgrst_error(two, 406, "PGRST116")["details"] == "The result contains 2 rows"


def test_the_anon_key_alone_is_anonymous(site):
    args = {"p_talent_id": str(site.world.talents["ann"])}
    for token in (site.double.anon_key, None):  # Authorization: Bearer <anon key>, or none
        answer = rpc(site, "get_talent_matches", args, token)
        assert_pgrst_error(answer, 401, "42501")
        assert answer.headers["www-authenticate"] == "Bearer"
    # no EXECUTE for anon: Postgres' own 42501, same status
    assert_pgrst_error(rpc(site, "get_my_context"), 401, "42501")


def test_another_users_talent_is_403(site, tokens):
    args = {"p_talent_id": str(site.world.talents["ann"])}
    body = assert_pgrst_error(rpc(site, "get_talent_matches", args, tokens["bob"]), 403, "42501")
    assert body["message"] == "you may only read your own matches"


def test_the_service_key_is_service_role(site):
    args = {"p_talent_id": str(site.world.talents["ann"])}
    answer = rpc(site, "get_talent_matches", args, site.double.service_key)
    assert answer.status == 200 and len(answer.body) == 2


def bad_tokens() -> list[tuple[str, str, str]]:
    now = int(time.time())
    good = {"sub": "00000000-0000-0000-0000-000000000001", "role": "authenticated"}
    return [
        (
            sign_jwt("a-different-secret-of-at-least-32-chars", good | {"exp": now + 60}),
            "PGRST301",
            "JWT cryptographic operation failed",
        ),
        (sign_jwt(SECRET, good | {"exp": now - 120}), "PGRST303", "JWT expired"),
        (sign_jwt(SECRET, good | {"iat": now + 600}), "PGRST303", "JWT issued at future"),
        ("not-a-jwt", "PGRST301", "Expected 3 parts in JWT; got 1"),
    ]


@pytest.mark.parametrize(
    "case", range(len(bad_tokens())), ids=["signature", "expired", "future", "garbage"]
)
def test_bad_tokens_answer_401(site, case):
    token, code, message = bad_tokens()[case]
    answer = rpc(site, "get_my_context", {}, token)
    body = assert_pgrst_error(answer, 401, code)
    assert body["message"] == message
    assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_a_role_that_does_not_exist_is_401(site):
    token = sign_jwt(SECRET, {"role": "nobody_here", "exp": int(time.time()) + 60})
    assert_pgrst_error(rpc(site, "get_my_context", {}, token), 401, "22023")


def test_a_role_not_granted_to_the_login_role_is_refused(site):
    # behind PostgREST a token claiming the database owner gets no further
    # than `set role`; the double must not run it as its superuser connection
    token = sign_jwt(SECRET, {"role": "postgres", "exp": int(time.time()) + 60})
    body = assert_pgrst_error(rpc(site, "get_my_context", {}, token), 403, "42501")
    assert body["message"] == 'permission denied to set role "postgres"'


def test_unknown_functions_and_arguments_are_pgrst202(site, tokens):
    body = assert_pgrst_error(
        rpc(site, "no_such_function", {"p_x": 1}, tokens["ann"]), 404, "PGRST202"
    )
    assert body["message"] == (
        "Could not find the function public.no_such_function(p_x) in the schema cache"
    )
    assert body["details"].startswith("Searched for the function public.no_such_function")
    # a close name is suggested
    close = rpc(site, "get_talent_match", {"p_talent_id": "x"}, tokens["ann"])
    assert assert_pgrst_error(close, 404, "PGRST202")["hint"] == (
        "Perhaps you meant to call the function public.get_talent_matches"
    )
    # a known function, an argument it does not have, or a required one left out
    talent = str(site.world.talents["ann"])
    wrong = rpc(site, "get_talent_matches", {"p_talent_id": talent, "p_nope": 1}, tokens["ann"])
    body = assert_pgrst_error(wrong, 404, "PGRST202")
    assert body["message"] == (
        "Could not find the function public.get_talent_matches(p_nope, p_talent_id)"
        " in the schema cache"
    )
    assert body["hint"].startswith("Perhaps you meant to call the function")
    assert_pgrst_error(rpc(site, "get_talent_matches", {}, tokens["ann"]), 404, "PGRST202")


def test_a_function_error_keeps_code_message_details_hint(site, tokens):
    args = {"p_talent_id": str(site.world.talents["ann"]), "p_limit": 0}
    body = assert_pgrst_error(rpc(site, "get_talent_matches", args, tokens["ann"]), 400, "MT005")
    assert "p_limit" in body["message"]


def test_arguments_are_cast_before_the_function_runs(site, tokens):
    bad_uuid = rpc(site, "get_talent_matches", {"p_talent_id": "not-a-uuid"}, tokens["ann"])
    body = assert_pgrst_error(bad_uuid, 400, "22P02")
    assert "uuid" in body["message"]
    args = {"p_talent_id": str(site.world.talents["ann"]), "p_limit": 1e12}
    assert rpc(site, "get_talent_matches", args, tokens["ann"]).status == 400


def test_get_is_read_only(site, tokens):
    ann = {"Authorization": f"Bearer {tokens['ann']}"}
    talent = site.world.talents["ann"]
    answer = http(site, "GET", f"/rest/v1/rpc/get_talent_matches?p_talent_id={talent}", None, ann)
    assert_pgrst_error(answer, 405, "25006")
    # a STABLE function answers GET (and POST runs it read-only too)
    for method in ("GET", "POST"):
        mine = http(
            site, method, "/rest/v1/rpc/get_my_context", None if method == "GET" else {}, ann
        )
        assert mine.status == 200, mine.body
        assert [(r["kind"], r["id"]) for r in mine.body] == [("talent", str(talent))]


def test_the_request_as_the_database_sees_it(site, tokens):
    headers = {
        "Authorization": f"Bearer {tokens['ann']}",
        "X-Forwarded-For": "203.0.113.5",
        "X-Client-Info": "supabase-js-web/2.50.0",
        "Cookie": "theme=dark",
    }
    echo = {"nested": [1, {"a": None}], "text": "x'; drop table y; --"}
    answer = http(site, "POST", "/rest/v1/rpc/test_double_echo", {"p_echo": echo}, headers)
    assert answer.status == 200, answer.body
    seen = answer.body  # a scalar (jsonb) function: the value itself
    assert seen["echo"] == echo
    assert seen["role"] == "authenticated" and seen["read_only"] == "on"  # STABLE: read-only
    assert seen["claims"]["sub"] == str(site.world.users["ann"])
    assert seen["method"] == "POST" and seen["path"] == "/rpc/test_double_echo"
    # lower-case names; the gateway appends the peer to X-Forwarded-For; cookies apart
    assert seen["headers"]["x-forwarded-for"] == "203.0.113.5, 127.0.0.1"
    assert seen["headers"]["x-client-info"] == "supabase-js-web/2.50.0"
    assert seen["headers"]["apikey"] == site.double.anon_key
    assert "cookie" not in seen["headers"] and seen["cookies"] == {"theme": "dark"}
    # GET: arguments from the query string, cast from text; anon claims without a token
    got = http(site, "GET", "/rest/v1/rpc/test_double_echo?p_echo=%7B%22a%22%3A1%7D")
    assert got.status == 200 and got.body["echo"] == {"a": 1}
    assert got.body["method"] == "GET" and got.body["role"] == "anon"
    assert got.body["claims"]["role"] == "anon"


def test_a_void_function_answers_204(site, tokens):
    # the pre-request hook itself is a public function returning void
    assert rpc(site, "check_rate_limit", {}, tokens["ann"]).status == 204


def test_feedback_is_written(site, tokens):
    world = site.world
    args = {
        "p_talent_id": str(world.talents["ann"]),
        "p_job_id": str(world.jobs["x_other"]),
        "p_feedback_type": "interested",
    }
    answer = rpc(site, "record_match_feedback", args, tokens["ann"])
    assert answer.status == 200, answer.body
    [row] = answer.body
    assert row["created"] is True and row["actor"] == "talent"
    with psycopg.connect(site.db_url) as conn:
        stored = conn.execute(
            "select feedback_type::text, actor_user_id from public.match_feedback where id = %s",
            (row["feedback_id"],),
        ).fetchone()
    assert stored == ("interested", world.users["ann"])
    # idempotent; a talent cannot record a company's feedback type
    assert rpc(site, "record_match_feedback", args, tokens["ann"]).body[0]["created"] is False
    company = args | {"p_feedback_type": "shortlisted"}
    assert_pgrst_error(rpc(site, "record_match_feedback", company, tokens["ann"]), 403, "42501")


@pytest.fixture
def low_rate_limit(site: Site) -> Iterator[str]:
    """Two requests per hour per client IP, the IP read from a header of the test's own."""
    header = "x-test-client-ip"
    with psycopg.connect(site.db_url) as conn:
        before = conn.execute(
            "select rate_limit_requests, rate_limit_window_seconds, client_ip_header"
            " from matching.api_settings"
        ).fetchone()
        conn.execute(
            "update matching.api_settings set rate_limit_requests = 2,"
            " rate_limit_window_seconds = 3600, client_ip_header = %s",
            (header,),
        )
        conn.commit()
        try:
            yield header
        finally:
            conn.execute(
                "update matching.api_settings set rate_limit_requests = %s,"
                " rate_limit_window_seconds = %s, client_ip_header = %s",
                before,
            )
            conn.commit()


def test_the_pre_request_hook_sees_the_request_headers(site, low_rate_limit):
    # Anonymous callers are counted per client IP, read from request.headers.
    # A request that fails rolls its count back with everything else, and
    # anon may call no API function but the hook itself: an anonymous call of
    # check_rate_limit counts twice (the hook, then the call).
    ip = str(ipaddress.IPv4Address(0x0A000000 + random.getrandbits(24)))
    first = rpc(site, "check_rate_limit", headers={low_rate_limit: ip})
    assert first.status == 204
    answer = rpc(site, "check_rate_limit", headers={low_rate_limit: ip})
    body = assert_pgrst_error(answer, 429, "PT429")
    assert body["details"] == "subject: ip"
    assert re.fullmatch(r"retry in \d+ seconds", body["hint"]), body
    with psycopg.connect(site.db_url) as conn:
        counted = conn.execute(
            "select sum(requests) from matching.rate_limit_counters where subject = %s",
            (f"ip:{ip}",),
        ).fetchone()
    assert counted == (2,)  # the refused request rolled its increment back
    # another address has its own bucket
    assert rpc(site, "check_rate_limit", headers={low_rate_limit: "192.0.2.1"}).status == 204


def test_requests_are_logged(site):
    http(site, "GET", "/rest/v1/nothing-here")
    assert ("GET", "/rest/v1/nothing-here", 404) in site.double.requests


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError, match="32"):
        PostgrestDouble("postgresql://unused", "short")
