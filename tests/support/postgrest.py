"""A test double of PostgREST (RPC only) and of GoTrue's password sign-in,
behind a stand-in for Supabase's API gateway.

Used only by tests: PostgREST and GoTrue cannot be installed everywhere the
tests run, and a browser end-to-end test of an example dashboard needs
something that answers `supabase.rpc(...)` and `supabase.auth.signInWithPassword`
over HTTP. The product never starts it and never imports it; a real
deployment runs Supabase's PostgREST, GoTrue and Kong.

What it does, as they do (PostgREST 13, GoTrue, Kong in Supabase's setup):

- gateway: `apikey` header (or `?apikey=`) required on /rest/v1 and /auth/v1,
  a missing Authorization header is filled from it, CORS (`*`), and
  X-Forwarded-For gets the client address appended (so the right-most
  entry is the peer's address, as behind Kong);
- PostgREST: `POST|GET|HEAD /rest/v1/rpc/<fn>` on functions in `public`: the
  JWT checked (HS256, exp/nbf/iat with 30 s of skew, PGRST301/PGRST303), one
  transaction per request (read-only for GET/HEAD and for STABLE/IMMUTABLE
  functions), the role and `request.*` settings set as PostgREST sets them,
  the db-pre-request function, the function found by name and argument names
  (PGRST202/PGRST203), JSON arguments cast with `json_to_record`, the result
  as PostgREST shapes it, Postgres errors as PostgREST's JSON with its
  SQLSTATE -> HTTP status mapping;
- GoTrue: `POST /auth/v1/token?grant_type=password|refresh_token`,
  `GET /auth/v1/user`, `POST /auth/v1/logout`, against `auth.users`
  (bcrypt `encrypted_password`), with GoTrue's session and error JSON.

Everything else (tables, storage, realtime, sign-up, ...) answers 404 with a
JSON error saying what the double serves.

Simplified: no schema cache (the catalog is read per request), no
`Prefer`/`select`/filters/`count` on RPC results, no bulk (array) bodies, no
form or text bodies; function hints use difflib, not PostgREST's fuzzy set;
GoTrue keeps refresh tokens in memory (no rotation reuse window, no
sessions table), checks no email confirmation, writes nothing to
`auth.users`, and returns no identities; Kong accepts any anon/service_role
key signed with the secret, not only the two it was configured with.
"""

from __future__ import annotations

import difflib
import json
import re
import secrets
import threading
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import bcrypt
import jwt
import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

__all__ = ["PostgrestDouble", "sign_jwt"]

# The demo keys' expiry (Supabase's local development keys use the same).
_FAR_FUTURE = 1983812996
_ISSUER = "supabase-demo"
_JWT_SKEW_SECONDS = 30  # PostgREST's allowed clock skew
_SESSION_SECONDS = 3600  # GoTrue's default JWT_EXP
_SCHEMA = "public"  # the only exposed schema
_EXTRA_SEARCH_PATH = ("extensions",)  # Supabase's db-extra-search-path (after public)
_RESERVED_QUERY_PARAMS = frozenset(
    {"select", "order", "limit", "offset", "columns", "on_conflict", "and", "or", "not", "apikey"}
)
_CORS_ALLOW_HEADERS = (
    "authorization",
    "apikey",
    "content-type",
    "x-client-info",
    "prefer",
    "accept-profile",
    "content-profile",
    "x-supabase-api-version",
    "accept",
)
# what PostgREST and GoTrue expose to browsers
_REST_EXPOSE = (
    "Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location,"
    " Server, Transfer-Encoding, Range-Unit"
)
_AUTH_EXPOSE = "X-Total-Count, Link, X-Supabase-Api-Version"
_GOTRUE_API_VERSION = "2024-01-01"


def sign_jwt(secret: str, claims: Mapping[str, Any]) -> str:
    """An HS256 JWT of `claims` signed with `secret` (as Supabase's keys and GoTrue's tokens)."""
    return jwt.encode(dict(claims), secret, algorithm="HS256")


# ----------------------------------------------------------------- plumbing


@dataclass
class _Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-case names, repeated headers joined with ", "
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def query_value(self, name: str) -> str | None:
        found = [v for k, v in self.query if k == name]
        return found[-1] if found else None


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str | None = None


def _json_response(
    status: int, payload: Any, headers: list[tuple[str, str]] | None = None
) -> _Response:
    return _Response(
        status,
        json.dumps(payload).encode(),
        [("Content-Type", "application/json; charset=utf-8"), *(headers or [])],
    )


def _pgrst_error(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    hint: Any = None,
    headers: list[tuple[str, str]] | None = None,
    reason: str | None = None,
) -> _Response:
    """PostgREST's error body, with its Proxy-Status header."""
    response = _json_response(
        status,
        {"code": code, "message": message, "details": details, "hint": hint},
        [("Proxy-Status", f"PostgREST; error={code}"), *(headers or [])],
    )
    response.reason = reason
    return response


class _Abort(Exception):
    """Leave the request's transaction (rolled back) and answer `response`."""

    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


class _JwtError(Exception):
    def __init__(self, code: str, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _postgrest_claims(token: str, secret: str, now: int) -> dict[str, Any]:
    """PostgREST 13's JWT checks (src/PostgREST/Auth.hs) with a symmetric secret."""
    if token == "":
        raise _JwtError("PGRST301", "Empty JWT is sent in Authorization header")
    parts = token.split(".")
    if len(parts) != 3:
        raise _JwtError("PGRST301", f"Expected 3 parts in JWT; got {len(parts)}")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _JwtError("PGRST301", "JWT cryptographic operation failed") from exc
    if header.get("alg") not in ("HS256", "HS384", "HS512"):
        raise _JwtError(
            "PGRST301",
            "Wrong or unsupported encoding algorithm",
            f"the secret is symmetric; the token's alg is {header.get('alg')!r}",
        )
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256", "HS384", "HS512"],
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise _JwtError("PGRST301", "JWT cryptographic operation failed") from exc
    except jwt.DecodeError as exc:
        if "payload" in str(exc).lower():
            raise _JwtError("PGRST303", "Parsing claims failed") from exc
        raise _JwtError("PGRST301", "JWT cryptographic operation failed") from exc
    if not isinstance(claims, dict):
        raise _JwtError("PGRST303", "Parsing claims failed")
    # (claim, must lie in the past (else in the future), message when it does not)
    checks = (
        ("exp", False, "JWT expired"),
        ("nbf", True, "JWT not yet valid"),
        ("iat", True, "JWT issued at future"),
    )
    for name, past, message in checks:
        if name not in claims:
            continue
        if not _is_number(claims[name]):
            raise _JwtError("PGRST303", f"The JWT '{name}' claim must be a number")
        seconds = int(claims[name])
        ok = now >= seconds - _JWT_SKEW_SECONDS if past else now <= seconds + _JWT_SKEW_SECONDS
        if not ok:
            raise _JwtError("PGRST303", message)
    aud = claims.get("aud")
    if aud is not None and not (
        isinstance(aud, str) or (isinstance(aud, list) and all(isinstance(a, str) for a in aud))
    ):
        raise _JwtError("PGRST303", "The JWT 'aud' claim must be a string or an array of strings")
    return claims


def _status_for(sqlstate: str, message: str, authed: bool) -> int:
    """PostgREST's SQLSTATE -> HTTP status (src/PostgREST/Error.hs, mapSQLtoHTTP)."""
    exact = {
        "23503": 409,
        "23505": 409,
        "25006": 405,
        "53400": 500,
        "57P01": 503,
        "P0001": 400,
        "42P01": 404,
        "42P17": 500,
    }
    if sqlstate in exact:
        return exact[sqlstate]
    if sqlstate == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if sqlstate == "22023":
        return 401 if message.startswith("role") and message.endswith("does not exist") else 400
    if sqlstate == "42883":
        return 406 if message.startswith("function xmlagg(") else 404
    if sqlstate == "42501":
        return 403 if authed else 401
    if sqlstate.startswith("PT"):
        digits = sqlstate[2:]
        return int(digits) if digits.isdigit() and 100 <= int(digits) <= 999 else 500
    prefixes = {
        "08": 503,
        "09": 500,
        "0L": 403,
        "0P": 403,
        "25": 500,
        "28": 403,
        "2D": 500,
        "38": 500,
        "39": 500,
        "3B": 500,
        "40": 500,
        "53": 503,
        "54": 500,
        "55": 500,
        "57": 500,
        "58": 500,
        "F0": 500,
        "HV": 500,
        "P0": 500,
        "XX": 500,
    }
    return prefixes.get(sqlstate[:2], 400)


def _reason(text: str) -> str | None:
    """A status line's reason phrase from an error message, when it can be one."""
    if text and text.isascii() and text.isprintable():
        return text
    return None


@dataclass(frozen=True)
class _Routine:
    name: str
    params: tuple[tuple[str, str, str], ...]  # (name, qualified type, mode) of IN arguments
    display_types: tuple[str, ...]
    n_defaults: int
    returns_set: bool
    volatility: str  # i, s, v
    returns_void: bool
    returns_composite: bool

    @property
    def required(self) -> set[str]:
        return {p[0] for p in self.params[: len(self.params) - self.n_defaults]}

    @property
    def optional(self) -> set[str]:
        return {p[0] for p in self.params[len(self.params) - self.n_defaults :]}

    def matches(self, keys: set[str]) -> bool:
        """PostgREST's findProc: required arguments all given, the rest optional ones."""
        if not self.params:
            return not keys
        return keys - self.optional == self.required

    def single_unnamed_json(self) -> bool:
        return (
            len(self.params) == 1
            and self.params[0][0] == ""
            and self.display_types[0] in ("json", "jsonb")
        )


_ROUTINES_SQL = """
select coalesce(p.proargnames, '{}'::text[]) as argnames,
       coalesce(p.proargmodes::text[], '{}'::text[]) as argmodes,
       array(select quote_ident(tn.nspname) || '.' || quote_ident(ty.typname)
             from unnest(p.proargtypes) with ordinality a(t, i)
             join pg_type ty on ty.oid = a.t
             join pg_namespace tn on tn.oid = ty.typnamespace
             order by a.i) as in_types,
       array(select format_type(a.t, null)
             from unnest(p.proargtypes) with ordinality a(t, i) order by a.i) as display_types,
       p.pronargdefaults, p.proretset, p.provolatile::text as volatility,
       p.prorettype = 'void'::regtype as returns_void,
       (rt.typtype = 'c' or p.prorettype = 'record'::regtype) as returns_composite
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_type rt on rt.oid = p.prorettype
where n.nspname = %s and p.proname = %s and p.prokind = 'f'
"""


def _load_routines(conn: psycopg.Connection[Any], name: str) -> list[_Routine]:
    routines = []
    for row in conn.execute(_ROUTINES_SQL, (_SCHEMA, name)).fetchall():
        argnames, argmodes, in_types, display, n_defaults, retset, vol, void, composite = row
        if argmodes:
            in_names = [
                argnames[i] if i < len(argnames) else ""
                for i, mode in enumerate(argmodes)
                if mode in ("i", "b", "v")
            ]
            in_modes = [m for m in argmodes if m in ("i", "b", "v")]
        else:
            in_names = [argnames[i] if i < len(argnames) else "" for i in range(len(in_types))]
            in_modes = ["i"] * len(in_types)
        routines.append(
            _Routine(
                name=name,
                params=tuple(zip(in_names, in_types, in_modes, strict=True)),
                display_types=tuple(display),
                n_defaults=n_defaults,
                returns_set=retset,
                volatility=vol,
                returns_void=void,
                returns_composite=composite,
            )
        )
    return routines


# ------------------------------------------------------------------- double


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    double: PostgrestDouble


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds an idle keep-alive connection stays open
    server: _Server

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers: dict[str, str] = {}
        for name in self.headers:
            key = name.lower()
            if key not in headers:
                headers[key] = ", ".join(self.headers.get_all(name) or [])
        request = _Request(
            method=self.command,
            path=unquote(split.path),
            query=parse_qsl(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
        )
        double = self.server.double
        try:
            response = double._respond(request, self.client_address[0], self.server.server_port)
        except Exception:
            traceback.print_exc()
            response = _json_response(500, {"message": "the test double failed; see stderr"})
        double._log(request.method, request.path, response.status)  # before the client can look
        self._send(request, response)

    def _send(self, request: _Request, response: _Response) -> None:
        self.send_response(response.status, response.reason)
        names = {n.lower() for n, _ in response.headers}
        for name, value in response.headers:
            self.send_header(name, value)
        if "access-control-allow-origin" not in names:
            self.send_header("Access-Control-Allow-Origin", "*")
        if response.status != 204 and response.status >= 200:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if request.method != "HEAD" and response.status != 204:
            self.wfile.write(response.body)

    do_GET = do_POST = do_HEAD = do_OPTIONS = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: `PostgrestDouble.requests` records what was asked


class PostgrestDouble:
    """PostgREST (RPC) + GoTrue (password sign-in) + Supabase's gateway, for tests.

    `db_url` is used as PostgREST's `authenticator` would be (tests pass a
    superuser; the request role is switched per transaction), and as GoTrue's
    database user for `auth.users`. `pre_request` is PostgREST's
    `db-pre-request` (None: no hook).
    """

    def __init__(
        self,
        db_url: str,
        jwt_secret: str,
        *,
        pre_request: str | None = "public.check_rate_limit",
    ) -> None:
        if len(jwt_secret) < 32:
            # PostgREST 13 refuses to start with a shorter secret
            raise ValueError("jwt_secret must be at least 32 characters long")
        self.db_url = db_url
        self.jwt_secret = jwt_secret
        self.pre_request = pre_request
        #: (method, path, status) of each request answered, for debugging
        self.requests: list[tuple[str, str, int]] = []
        self.base_url: str | None = None
        self._anon_key = sign_jwt(jwt_secret, {"iss": _ISSUER, "role": "anon", "exp": _FAR_FUTURE})
        self._service_key = sign_jwt(
            jwt_secret, {"iss": _ISSUER, "role": "service_role", "exp": _FAR_FUTURE}
        )
        self._lock = threading.Lock()
        self._refresh_tokens: dict[str, tuple[str, str]] = {}  # token -> (user id, session id)
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- lifecycle

    @property
    def anon_key(self) -> str:
        """The project's anon key: HS256 {"role": "anon", "iss": "supabase-demo", "exp": ...}."""
        return self._anon_key

    @property
    def service_key(self) -> str:
        """The project's service_role key."""
        return self._service_key

    def start(self) -> str:
        """Serve on 127.0.0.1 at a free port (a daemon thread); returns the base URL."""
        if self._server is not None:
            assert self.base_url is not None
            return self.base_url
        pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self.db_url,
            min_size=1,
            max_size=4,
            kwargs={"autocommit": True},
            open=False,
            name="postgrest-double",
        )
        pool.open(wait=True, timeout=30)
        self._pool = pool
        server = _Server(("127.0.0.1", 0), _Handler)
        server.double = self
        self._server = server
        self.base_url = f"http://127.0.0.1:{server.server_port}"
        self._thread = threading.Thread(
            target=server.serve_forever, name="postgrest-double", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> PostgrestDouble:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._pool is None:
            raise RuntimeError("the double is not started")
        with self._pool.connection() as conn:
            yield conn

    # -------------------------------------------------------------- gateway

    def _respond(self, request: _Request, client_ip: str, port: int) -> _Response:
        """Kong's part: CORS, the apikey, forwarding headers; then route."""
        if request.method == "OPTIONS":
            return self._preflight(request)
        path = request.path
        is_rest = path == "/rest/v1" or path.startswith("/rest/v1/")
        is_auth = path == "/auth/v1" or path.startswith("/auth/v1/")
        if not (is_rest or is_auth):
            return self._not_served(request)
        apikey = request.header("apikey") or request.query_value("apikey")
        if not apikey:
            return _json_response(
                401,
                {
                    "message": "No API key found in request",
                    "hint": "No `apikey` request header or url param was found.",
                },
            )
        if not self._valid_apikey(apikey):
            return _json_response(
                401,
                {
                    "message": "Invalid API key",
                    "hint": "Double check your Supabase `anon` or `service_role` API key.",
                },
            )
        if "authorization" not in request.headers:
            request.headers["authorization"] = f"Bearer {apikey}"
        forwarded = request.headers.get("x-forwarded-for")
        request.headers["x-forwarded-for"] = f"{forwarded}, {client_ip}" if forwarded else client_ip
        request.headers["x-real-ip"] = client_ip
        request.headers["x-forwarded-proto"] = "http"
        request.headers["x-forwarded-host"] = (request.header("host") or "127.0.0.1").split(":")[0]
        request.headers["x-forwarded-port"] = str(port)
        if is_rest:
            response = self._rest(request, path[len("/rest/v1") :])
            response.headers.append(("Access-Control-Expose-Headers", _REST_EXPOSE))
        else:
            response = self._auth(request, path[len("/auth/v1") :])
            response.headers.append(("Access-Control-Expose-Headers", _AUTH_EXPOSE))
        return response

    def _valid_apikey(self, key: str) -> bool:
        """Kong knows the project's two keys; any key signed with the secret for
        anon or service_role is taken as one of them."""
        if key in (self._anon_key, self._service_key):
            return True
        try:
            claims = jwt.decode(
                key,
                self.jwt_secret,
                algorithms=["HS256"],
                options={"verify_exp": False, "verify_aud": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return False
        return claims.get("role") in ("anon", "service_role")

    def _preflight(self, request: _Request) -> _Response:
        wanted = [
            h.strip().lower()
            for h in (request.header("access-control-request-headers") or "").split(",")
            if h.strip()
        ]
        allowed = list(_CORS_ALLOW_HEADERS) + [h for h in wanted if h not in _CORS_ALLOW_HEADERS]
        return _Response(
            200,
            b"",
            [
                ("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                ("Access-Control-Allow-Headers", ", ".join(allowed)),
                ("Access-Control-Max-Age", "3600"),
            ],
        )

    def _not_served(self, request: _Request) -> _Response:
        return _json_response(
            404,
            {
                "code": "DOUBLE404",
                "message": (
                    "the PostgREST/GoTrue test double serves only /rest/v1/rpc/<function>"
                    " and /auth/v1/token (password, refresh_token), /auth/v1/user,"
                    " /auth/v1/logout"
                ),
                "details": f"{request.method} {request.path}",
                "hint": "tables, storage, realtime and the other auth endpoints need real Supabase",
            },
        )

    # ------------------------------------------------------------ PostgREST

    def _rest(self, request: _Request, path: str) -> _Response:
        match = re.fullmatch(r"/rpc/([^/]+)", path)
        if match is None:
            return self._not_served(request)
        fn = match.group(1)
        is_post = request.method == "POST"
        try:
            claims, role = self._authenticate(request)
        except _JwtError as exc:
            quoted = json.dumps(exc.message)
            return _pgrst_error(
                401,
                exc.code,
                exc.message,
                exc.details,
                headers=[
                    (
                        "WWW-Authenticate",
                        f'Bearer error="invalid_token", error_description={quoted}',
                    )
                ],
            )
        # then, as in PostgREST, the request itself (after the JWT)
        if request.method not in ("GET", "HEAD", "POST"):
            return _pgrst_error(405, "PGRST101", f"Cannot use the {request.method} method on RPC")
        profile = request.header("content-profile" if is_post else "accept-profile")
        if profile and profile != _SCHEMA:
            return _pgrst_error(
                406,
                "PGRST106",
                f"Invalid schema: {profile}",
                hint=f"Only the following schemas are exposed: {_SCHEMA}",
            )
        body_text = "{}"
        args: dict[str, Any] = {}
        if is_post:
            raw = request.body.decode("utf-8", errors="replace").strip()
            if raw:
                try:
                    parsed = json.loads(raw)
                except ValueError:
                    return _pgrst_error(400, "PGRST102", "Empty or invalid json")
                if not isinstance(parsed, dict):
                    return _pgrst_error(
                        400,
                        "PGRST102",
                        "the test double takes a JSON object of named arguments",
                    )
                args, body_text = parsed, raw
        else:
            args = {k: v for k, v in request.query if k not in _RESERVED_QUERY_PARAMS}
        with self._connection() as conn:
            routine, unnamed = self._find(conn, fn, set(args), is_post)
            if isinstance(routine, _Response):
                return routine
            read_only = not is_post or routine.volatility in ("s", "i")
            query, params = self._call_query(routine, args, body_text, unnamed, is_post)
            try:
                with conn.transaction():
                    if read_only:
                        conn.execute("set transaction read only")
                    self._set_locals(conn, request, claims, role, path)
                    if self.pre_request:
                        hook = sql.SQL(".").join(
                            sql.Identifier(p) for p in self.pre_request.split(".")
                        )
                        conn.execute(sql.SQL("select {}()").format(hook))
                    row = conn.execute(query, params).fetchone()
                    assert row is not None
                    response = self._shape(request, routine, row)
                    if response.status >= 400:
                        raise _Abort(response)
                    return response
            except _Abort as abort:
                return abort.response
            except psycopg.Error as exc:
                return self._pg_error(exc, authed=role != "anon")

    def _authenticate(self, request: _Request) -> tuple[dict[str, Any], str]:
        auth = request.header("authorization")
        token = None
        if auth is not None:
            scheme, _, value = auth.partition(" ")
            if scheme.lower() == "bearer":
                token = value.strip()
        if token is None:
            return {"role": "anon"}, "anon"
        claims = _postgrest_claims(token, self.jwt_secret, int(time.time()))
        role_claim = claims.get("role", "anon")
        role = role_claim if isinstance(role_claim, str) else json.dumps(role_claim)
        claims["role"] = role
        return claims, role

    def _find(
        self, conn: psycopg.Connection[Any], fn: str, keys: set[str], is_post: bool
    ) -> tuple[_Routine | _Response, bool]:
        """PostgREST's findProc: by name and argument names; (routine, called with the body)."""
        routines = _load_routines(conn, fn)
        named = [r for r in routines if r.matches(keys)]
        if len(named) == 1:
            return named[0], False
        if len(named) > 1:
            return self._ambiguous(named), False
        fallback = [r for r in routines if is_post and r.single_unnamed_json()]
        if len(fallback) == 1:
            return fallback[0], True
        if len(fallback) > 1:
            return self._ambiguous(fallback), False
        return self._no_rpc(conn, fn, keys, is_post, routines), False

    def _ambiguous(self, routines: list[_Routine]) -> _Response:
        listed = ", ".join(
            f"{_SCHEMA}.{r.name}("
            + ", ".join(f"{p[0]} => {t}" for p, t in zip(r.params, r.display_types, strict=True))
            + ")"
            for r in routines
        )
        return _pgrst_error(
            300,
            "PGRST203",
            f"Could not choose the best candidate function between: {listed}",
            hint=(
                "Try renaming the parameters or the function itself in the database so"
                " function overloading can be resolved"
            ),
        )

    def _no_rpc(
        self,
        conn: psycopg.Connection[Any],
        fn: str,
        keys: set[str],
        is_post: bool,
        routines: list[_Routine],
    ) -> _Response:
        ordered = sorted(keys)
        func = f"{_SCHEMA}.{fn}"
        listed = f"({', '.join(ordered)})" if ordered else " without parameters"
        if ordered:
            searched = f" with parameter{'s' if len(ordered) > 1 else ''} {', '.join(ordered)}"
        else:
            searched = " without parameters"
        if is_post:
            searched += " or with a single unnamed json/jsonb parameter"
        # PostgREST's fuzzy hint (its FuzzySet; difflib here, so hints can differ)
        hint = None
        if routines:
            candidates = {"(" + ", ".join(sorted(p[0] for p in r.params)) + ")" for r in routines}
            close = difflib.get_close_matches(
                "(" + ", ".join(ordered) + ")", sorted(candidates), n=1, cutoff=0.33
            )
            if close:
                hint = f"Perhaps you meant to call the function {func}{close[0]}"
        else:
            names = [
                r[0]
                for r in conn.execute(
                    "select distinct p.proname from pg_proc p"
                    " join pg_namespace n on n.oid = p.pronamespace where n.nspname = %s",
                    (_SCHEMA,),
                )
            ]
            close = difflib.get_close_matches(fn, names, n=1, cutoff=0.75)
            if close:
                hint = f"Perhaps you meant to call the function {_SCHEMA}.{close[0]}"
        return _pgrst_error(
            404,
            "PGRST202",
            f"Could not find the function {func}{listed} in the schema cache",
            f"Searched for the function {func}{searched},"
            " but no matches were found in the schema cache.",
            hint,
        )

    def _call_query(
        self,
        routine: _Routine,
        args: dict[str, Any],
        body_text: str,
        unnamed: bool,
        is_post: bool,
    ) -> tuple[sql.Composed, dict[str, Any]]:
        """PostgREST's callPlanToQuery: JSON arguments cast by json_to_record
        (POST), text arguments cast to the declared types (GET)."""
        params: dict[str, Any] = {}
        used = [p for p in routine.params if p[0] in args]
        source: sql.Composable
        if unnamed:
            source = sql.SQL("(select 1) pgrst_body")
            call_args: sql.Composable = sql.SQL("%(body)s::{}").format(
                sql.SQL(routine.params[0][1])
            )
            params["body"] = body_text
        elif is_post and used:
            record = sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t, _ in used
            )
            source = sql.SQL(
                "(select * from json_to_record(%(body)s::json) as _({}) limit 1) pgrst_body"
            ).format(record)
            call_args = sql.SQL(", ").join(
                sql.SQL("{}{} := pgrst_body.{}").format(
                    sql.SQL("variadic " if mode == "v" else ""),
                    sql.Identifier(n),
                    sql.Identifier(n),
                )
                for n, _, mode in used
            )
            params["body"] = body_text
        else:
            source = sql.SQL("(select 1) pgrst_body")
            parts = []
            for i, (n, t, mode) in enumerate(used):
                parts.append(
                    sql.SQL("{}{} := {}::{}").format(
                        sql.SQL("variadic " if mode == "v" else ""),
                        sql.Identifier(n),
                        sql.Placeholder(f"a{i}"),
                        sql.SQL(t),
                    )
                )
                params[f"a{i}"] = str(args[n])
            call_args = sql.SQL(", ").join(parts)
        target = sql.SQL("{}.{}({})").format(
            sql.Identifier(_SCHEMA), sql.Identifier(routine.name), call_args
        )
        if routine.returns_void:
            query = sql.SQL(
                "select null::text, count(*) from {} cross join lateral (select {}) pgrst_call"
            ).format(source, target)
            return query, params
        if routine.returns_composite:
            lateral = sql.SQL("{} pgrst_call").format(target)
            item = sql.SQL("pgrst_call")
        else:
            lateral = sql.SQL("(select {} as pgrst_scalar) pgrst_call").format(target)
            item = sql.SQL("pgrst_call.pgrst_scalar")
        if routine.returns_set:
            body = sql.SQL("coalesce(json_agg({}), '[]')::text").format(item)
        else:
            body = sql.SQL("coalesce((json_agg({})->0)::text, 'null')").format(item)
        query = sql.SQL("select {}, count(*) from {} cross join lateral {}").format(
            body, source, lateral
        )
        return query, params

    def _set_locals(
        self,
        conn: psycopg.Connection[Any],
        request: _Request,
        claims: dict[str, Any],
        role: str,
        path: str,
    ) -> None:
        """PostgREST's setPgLocals: search_path, role, claims, method, path, headers, cookies."""
        headers = {k: v for k, v in request.headers.items() if k != "cookie"}
        cookies: dict[str, str] = {}
        if "cookie" in request.headers:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(request.headers["cookie"])
            except Exception:  # a cookie PostgREST would not parse either
                jar = SimpleCookie()
            cookies = {k: m.value for k, m in jar.items()}
        # PostgREST logs in as `authenticator` and may only switch to a role
        # granted to it; this double's connection may switch to any, so it
        # refuses the others itself (a token claiming "postgres" must not
        # run as the superuser). An unknown role fails in set_config below.
        granted = conn.execute(
            "select case when not exists (select 1 from pg_catalog.pg_roles where rolname = %s)"
            " then true else pg_catalog.pg_has_role('authenticator', %s, 'member') end",
            (role, role),
        ).fetchone()
        if not (granted and granted[0]):
            raise _Abort(
                _pgrst_error(
                    401 if role == "anon" else 403,
                    "42501",
                    f'permission denied to set role "{role}"',
                )
            )
        search_path = ", ".join(
            sql.Identifier(s).as_string(conn) for s in (_SCHEMA, *_EXTRA_SEARCH_PATH)
        )
        conn.execute(
            "select set_config('search_path', %s, true), set_config('role', %s, true),"
            " set_config('request.jwt.claims', %s, true), set_config('request.method', %s, true),"
            " set_config('request.path', %s, true), set_config('request.headers', %s, true),"
            " set_config('request.cookies', %s, true)",
            (
                search_path,
                role,
                json.dumps(claims),
                request.method,
                path,
                json.dumps(headers),
                json.dumps(cookies),
            ),
        )

    def _shape(self, request: _Request, routine: _Routine, row: tuple[Any, ...]) -> _Response:
        body, count = row
        if routine.returns_void:
            return _Response(204)
        total = count if routine.returns_set else 1
        accept = request.header("accept") or ""
        if "application/vnd.pgrst.object" in accept and routine.returns_set:
            if total != 1:
                return _pgrst_error(
                    406,
                    "PGRST116",
                    "Cannot coerce the result to a single JSON object",
                    f"The result contains {total} rows",
                )
            items = json.loads(body)
            body = json.dumps(items[0])
        content_range = f"0-{total - 1}/*" if total else "*/*"
        return _Response(
            200,
            body.encode(),
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Range", content_range),
            ],
        )

    def _pg_error(self, exc: psycopg.Error, *, authed: bool) -> _Response:
        state = exc.sqlstate
        if state is None:  # connection trouble: no server error
            return _pgrst_error(
                503, "PGRST001", "Database client error. Retrying the connection.", str(exc)
            )
        diag = exc.diag
        message = diag.message_primary or str(exc)
        if state == "PGRST":
            # RAISE SQLSTATE 'PGRST': full control of the response
            try:
                shown = json.loads(message)
                extra = json.loads(diag.message_detail or "")
                status = int(extra["status"])
                headers = [(str(k), str(v)) for k, v in extra.get("headers", {}).items()]
                return _pgrst_error(
                    status,
                    shown["code"],
                    shown["message"],
                    shown.get("details"),
                    shown.get("hint"),
                    headers=headers,
                    reason=extra.get("status_text"),
                )
            except (ValueError, KeyError, TypeError):
                return _pgrst_error(
                    500,
                    "PGRST121",
                    "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
                )
        status = _status_for(state, message, authed)
        headers = [("WWW-Authenticate", "Bearer")] if status == 401 else []
        return _pgrst_error(
            status,
            state,
            message,
            diag.message_detail,
            diag.message_hint,
            headers=headers,
            reason=_reason(message) if state.startswith("PT") else None,
        )

    # ---------------------------------------------------------------- GoTrue

    def _auth(self, request: _Request, path: str) -> _Response:
        if path == "/token" and request.method == "POST":
            grant = request.query_value("grant_type")
            if grant == "password":
                return self._password_grant(request)
            if grant == "refresh_token":
                return self._refresh_grant(request)
            return self._gotrue_error(request, 400, "invalid_credentials", "unsupported_grant_type")
        if path == "/user" and request.method == "GET":
            user_or_error = self._authenticated_user(request)
            if isinstance(user_or_error, _Response):
                return user_or_error
            return self._gotrue_json(request, 200, self._user_json(user_or_error[0]))
        if path == "/logout" and request.method == "POST":
            user_or_error = self._authenticated_user(request)
            if isinstance(user_or_error, _Response):
                return user_or_error
            user, claims = user_or_error
            scope = request.query_value("scope") or "global"
            if scope not in ("global", "local", "others"):
                return self._gotrue_error(
                    request, 400, "validation_failed", f'Unsupported logout scope "{scope}"'
                )
            session = claims.get("session_id")
            with self._lock:
                for token, (uid, sid) in list(self._refresh_tokens.items()):
                    same = sid == session
                    if uid == str(user["id"]) and (
                        scope == "global"
                        or (scope == "local" and same)
                        or (scope == "others" and not same)
                    ):
                        del self._refresh_tokens[token]
            return _Response(204)
        return self._not_served(request)

    def _api_version(self, request: _Request) -> bool:
        """Whether the client asked for GoTrue's 2024-01-01 error format (auth-js does)."""
        version = request.header("x-supabase-api-version") or ""
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", version)) and version >= _GOTRUE_API_VERSION

    def _gotrue_json(self, request: _Request, status: int, payload: Any) -> _Response:
        headers = []
        if self._api_version(request):
            headers.append(("X-Supabase-Api-Version", _GOTRUE_API_VERSION))
        return _json_response(status, payload, headers)

    def _gotrue_error(self, request: _Request, status: int, code: str, message: str) -> _Response:
        """GoTrue's HTTPError: {"code", "message"} for API version 2024-01-01, else
        {"code": status, "error_code", "msg"}; x-sb-error-code either way."""
        if self._api_version(request):
            payload: dict[str, Any] = {"code": code, "message": message}
        else:
            payload = {"code": status, "error_code": code, "msg": message}
        response = self._gotrue_json(request, status, payload)
        response.headers.append(("x-sb-error-code", code))
        return response

    def _request_json(self, request: _Request) -> dict[str, Any] | None:
        try:
            parsed = json.loads(request.body or b"{}")
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def _user_row(
        self, conn: psycopg.Connection[Any], where: str, value: Any
    ) -> dict[str, Any] | None:
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                sql.SQL("select to_jsonb(u) as u from auth.users u where {} limit 1").format(
                    sql.SQL(where)
                ),
                (value,),
            ).fetchone()
        return None if row is None else dict(row["u"])

    def _password_grant(self, request: _Request) -> _Response:
        params = self._request_json(request)
        if params is None:
            return self._gotrue_error(
                request, 400, "bad_json", "Could not parse request body as JSON"
            )
        email = params.get("email") or ""
        password = params.get("password") or ""
        if params.get("phone") and email:
            return self._gotrue_error(
                request,
                400,
                "validation_failed",
                "Only an email address or phone number should be provided on login.",
            )
        if not email:
            if params.get("phone"):
                return self._gotrue_error(
                    request, 400, "invalid_credentials", "Invalid login credentials"
                )
            return self._gotrue_error(request, 400, "validation_failed", "missing email or phone")
        with self._connection() as conn:
            user = self._user_row(conn, "lower(u.email) = lower(%s)", str(email))
        hashed = (user or {}).get("encrypted_password")
        valid = False
        if isinstance(hashed, str) and hashed.startswith(("$2a$", "$2b$", "$2y$")):
            try:
                valid = bcrypt.checkpw(str(password).encode(), hashed.encode())
            except ValueError:
                valid = False
        if user is None or not valid:
            return self._gotrue_error(
                request, 400, "invalid_credentials", "Invalid login credentials"
            )
        if _in_future(user.get("banned_until")):
            return self._gotrue_error(request, 400, "user_banned", "User is banned")
        return self._issue_session(request, user, str(uuid.uuid4()))

    def _refresh_grant(self, request: _Request) -> _Response:
        params = self._request_json(request) or {}
        token = str(params.get("refresh_token") or "")
        with self._lock:
            found = self._refresh_tokens.get(token)
        if found is None:
            return self._gotrue_error(
                request,
                400,
                "refresh_token_not_found",
                "Invalid Refresh Token: Refresh Token Not Found",
            )
        user_id, session_id = found
        with self._connection() as conn:
            user = self._user_row(conn, "u.id = %s::uuid", user_id)
        if user is None:
            return self._gotrue_error(
                request,
                400,
                "refresh_token_not_found",
                "Invalid Refresh Token: Refresh Token Not Found",
            )
        return self._issue_session(request, user, session_id)

    def _issue_session(self, request: _Request, user: dict[str, Any], session_id: str) -> _Response:
        now = int(time.time())
        user_json = self._user_json(user, last_sign_in_at=_now_iso())
        claims = {
            "aud": user_json["aud"],
            "exp": now + _SESSION_SECONDS,
            "iat": now,
            "iss": f"{self.base_url}/auth/v1",
            "sub": user_json["id"],
            "email": user_json["email"] or "",
            "phone": user_json["phone"] or "",
            "app_metadata": user_json["app_metadata"],
            "user_metadata": user_json["user_metadata"],
            "role": user_json["role"],
            "aal": "aal1",
            "amr": [{"method": "password", "timestamp": now}],
            "session_id": session_id,
            "is_anonymous": user_json["is_anonymous"],
        }
        refresh = secrets.token_urlsafe(9)
        with self._lock:
            self._refresh_tokens[refresh] = (user_json["id"], session_id)
        return self._gotrue_json(
            request,
            200,
            {
                "access_token": sign_jwt(self.jwt_secret, claims),
                "token_type": "bearer",
                "expires_in": _SESSION_SECONDS,
                "expires_at": now + _SESSION_SECONDS,
                "refresh_token": refresh,
                "user": user_json,
            },
        )

    def _user_json(self, row: dict[str, Any], last_sign_in_at: str | None = None) -> dict[str, Any]:
        """GoTrue's models.User JSON from an auth.users row (whatever columns it has)."""
        user: dict[str, Any] = {
            "id": str(row["id"]),
            "aud": row.get("aud") or "authenticated",
            "role": row.get("role") or "authenticated",
            "email": row.get("email") or "",
        }
        for name in ("email_confirmed_at", "invited_at"):
            if row.get(name):
                user[name] = row[name]
        user["phone"] = row.get("phone") or ""
        for name in ("phone_confirmed_at", "confirmation_sent_at", "confirmed_at"):
            if row.get(name):
                user[name] = row[name]
        signed_in = last_sign_in_at or row.get("last_sign_in_at")
        if signed_in:
            user["last_sign_in_at"] = signed_in
        user["app_metadata"] = row.get("raw_app_meta_data") or {}
        user["user_metadata"] = row.get("raw_user_meta_data") or {}
        user["identities"] = []
        user["created_at"] = row.get("created_at")
        user["updated_at"] = row.get("updated_at") or row.get("created_at")
        user["is_anonymous"] = bool(row.get("is_anonymous"))
        return user

    def _authenticated_user(
        self, request: _Request
    ) -> tuple[dict[str, Any], dict[str, Any]] | _Response:
        """GoTrue's requireAuthentication: a valid user JWT whose user exists."""
        auth = request.header("authorization") or ""
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return self._gotrue_error(
                request, 401, "no_authorization", "This endpoint requires a valid Bearer token"
            )
        try:
            claims = jwt.decode(
                token, self.jwt_secret, algorithms=["HS256"], options={"verify_aud": False}
            )
        except jwt.PyJWTError as exc:
            return self._gotrue_error(
                request,
                403,
                "bad_jwt",
                f"invalid JWT: unable to parse or verify signature, {exc}",
            )
        sub = claims.get("sub")
        if not sub:
            return self._gotrue_error(request, 403, "bad_jwt", "invalid claim: missing sub claim")
        try:
            uuid.UUID(str(sub))
        except ValueError:
            return self._gotrue_error(
                request, 400, "bad_jwt", "invalid claim: sub claim must be a UUID"
            )
        with self._connection() as conn:
            user = self._user_row(conn, "u.id = %s::uuid", str(sub))
        if user is None:
            return self._gotrue_error(
                request, 403, "user_not_found", "User from sub claim in JWT does not exist"
            )
        return user, claims


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _in_future(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value) > datetime.now(UTC)
    except ValueError:
        return False
