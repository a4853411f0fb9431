"""The real Supabase CLI, at the version pinned in tools/supabase, for tests.

`make test` installs it with npm; when it is missing and npm is present it is
installed here, so running pytest directly works too. Only a machine without
npm skips its tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parent.parent.parent
CLI_DIR = ROOT / "tools" / "supabase"
CLI_BIN = CLI_DIR / "node_modules" / ".bin" / "supabase"


def pinned_version() -> str:
    import json

    return json.loads((CLI_DIR / "package.json").read_text())["dependencies"]["supabase"]


def ensure_cli() -> Path:
    """Path of the pinned CLI, installing it with `npm ci` when needed."""
    if not CLI_BIN.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip(
                "npm is not installed, so the pinned Supabase CLI"
                f" ({pinned_version()}, tools/supabase) cannot be installed"
            )
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=CLI_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"
    return CLI_BIN


def as_url(conninfo: str) -> str:
    """A postgresql:// URL for any libpq conninfo that the Supabase CLI parses.

    The CLI refuses an empty host, so a Unix-socket directory travels in the
    `host` query parameter behind a `localhost` placeholder (libpq lets the
    parameter win); over TCP it needs `sslmode=disable` for a server without TLS.
    """
    params = {k: v for k, v in conninfo_to_dict(conninfo).items() if v is not None}
    host = str(params.pop("host", "localhost"))
    user = quote(str(params.pop("user", "postgres")), safe="")
    password = params.pop("password", None)
    port = params.pop("port", None)
    dbname = quote(str(params.pop("dbname", "postgres")), safe="")
    auth = f"{user}:{quote(str(password), safe='')}" if password else user
    if host.startswith("/"):
        netloc = f"{auth}@localhost"
        params = {"host": host, **({"port": port} if port else {}), **params}
    else:
        netloc = f"{auth}@{host}" + (f":{port}" if port else "")
        params.setdefault("sslmode", "disable")
    return f"postgresql://{netloc}/{dbname}?{urlencode(params, safe='/')}"


def run_cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run the CLI from the repository root, where it finds supabase/config.toml."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPABASE_")}
    env["DO_NOT_TRACK"] = "1"
    return subprocess.run(
        [str(ensure_cli()), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
