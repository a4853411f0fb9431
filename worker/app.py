"""The procrastinate app.

Its connections use search_path = the procrastinate schema, because
procrastinate's SQL is unqualified and its tables live in their own schema
(`matching migrate` installs them there), out of the API's reach.

`matching worker` runs it. `procrastinate --app=worker.app.app worker` works
too: the database is resolved by the same rule as everywhere else
(DATABASE_URL, else the embedded server) when the app is first used.
"""

from __future__ import annotations

import procrastinate

from matching.db import resolve_url
from matching.settings import Settings, get_settings


def build_connector(url: str, settings: Settings | None = None) -> procrastinate.PsycopgConnector:
    settings = settings or get_settings()
    return procrastinate.PsycopgConnector(
        conninfo=url,
        kwargs={"options": f"-c search_path={settings.procrastinate_schema}"},
    )


def build_app(url: str | None = None, settings: Settings | None = None) -> procrastinate.App:
    settings = settings or get_settings()
    return procrastinate.App(
        connector=build_connector(url or resolve_url(settings), settings),
        import_paths=["worker.tasks"],
    )


def __getattr__(name: str) -> procrastinate.App:
    # `app` is built on first access, so importing this module never starts a
    # database server by itself.
    if name == "app":
        app = build_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
