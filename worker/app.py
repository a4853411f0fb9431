"""The procrastinate app.

Its connections use search_path = procrastinate, because procrastinate's SQL
is unqualified and its tables live in their own schema (a migration
installs them there), out of the API's reach.

`matching worker` runs it (with logging, metrics and warm-up). Plain
`procrastinate --app=worker.app.app worker` works too: the database is
resolved by the same rule as everywhere else (DATABASE_URL, else the
embedded server) when the app is first used.
"""

from __future__ import annotations

import procrastinate

from matching.db.connection import resolve_url
from matching.db.migrate import PROCRASTINATE_SCHEMA
from matching.settings import Settings, get_settings
from matching.side import TASK_NAMESPACE
from worker.tasks import blueprint

#: task names in the job table are "<NAMESPACE>:<task>" (see matching.side)
NAMESPACE = TASK_NAMESPACE


def build_connector(url: str, settings: Settings | None = None) -> procrastinate.PsycopgConnector:
    """procrastinate's pool (it checks connections on checkout itself), with a
    bounded reconnection backoff (see `Settings.pool_reconnect_timeout`) and a
    bounded wait for a connection, so the worker notices an outage and
    resumes soon after the server is back."""
    settings = settings or get_settings()
    return procrastinate.PsycopgConnector(
        conninfo=url,
        kwargs={"options": f"-c search_path={PROCRASTINATE_SCHEMA}", "connect_timeout": 10},
        reconnect_timeout=settings.pool_reconnect_timeout,
        timeout=10.0,
    )


def build_app(url: str | None = None, settings: Settings | None = None) -> procrastinate.App:
    settings = settings or get_settings()
    app = procrastinate.App(
        connector=build_connector(url or resolve_url(settings), settings),
        worker_defaults={
            "update_heartbeat_interval": settings.worker_heartbeat_seconds,
            "stalled_worker_timeout": settings.worker_stalled_seconds,
        },
    )
    app.add_tasks_from(blueprint, namespace=NAMESPACE)
    return app


def __getattr__(name: str) -> procrastinate.App:
    # `app` is built on first access, so importing this module never starts a
    # database server by itself.
    if name == "app":
        app = build_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
