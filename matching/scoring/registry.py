"""The model registry in Postgres (`matching.model_versions`).

Registering stores LightGBM text plus metadata; activating and rolling back
go through the SQL functions `matching.activate_model` / `rollback_model`,
which keep exactly one version active and log every change. `ActiveModel`
is what a long-running process holds: it reloads when the active version
changes and keeps serving the last good model if a load fails.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import structlog
from psycopg.types.json import Jsonb

from matching.scoring.model import MatchingModel

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    version: str
    is_active: bool
    trained_at: datetime
    activated_at: datetime | None
    training_samples: int
    metrics: dict[str, Any]


def register(conn: psycopg.Connection, model: MatchingModel) -> None:
    """Store a model (inactive). The version must be new."""
    meta = model.metadata
    conn.execute(
        "insert into matching.model_versions (version, model_text, feature_names, metrics,"
        " params, metadata, training_samples)"
        " values (%s, %s, %s, %s, %s, %s, %s)",
        (
            meta.version,
            model.to_text(),
            list(meta.feature_names),
            Jsonb(meta.metrics),
            Jsonb(meta.params),
            Jsonb(meta.to_json()),
            meta.training_samples,
        ),
    )


def activate(conn: psycopg.Connection, version: str, reason: str = "activate") -> str:
    return conn.execute("select matching.activate_model(%s, %s)", (version, reason)).fetchone()[0]


def rollback(conn: psycopg.Connection) -> str:
    return conn.execute("select matching.rollback_model()").fetchone()[0]


def list_models(conn: psycopg.Connection) -> list[ModelInfo]:
    rows = conn.execute(
        "select version, is_active, trained_at, activated_at, training_samples, metrics"
        " from matching.model_versions order by trained_at desc, id desc"
    ).fetchall()
    return [ModelInfo(*row) for row in rows]


def active_version(conn: psycopg.Connection) -> str | None:
    row = conn.execute("select version from matching.model_versions where is_active").fetchone()
    return row[0] if row else None


def load(conn: psycopg.Connection, version: str) -> MatchingModel:
    row = conn.execute(
        "select model_text, metadata from matching.model_versions where version = %s",
        (version,),
    ).fetchone()
    if row is None:
        raise LookupError(f"unknown model version {version!r}")
    return MatchingModel.from_text(row[0], row[1])


def load_active(conn: psycopg.Connection) -> MatchingModel | None:
    version = active_version(conn)
    return load(conn, version) if version else None


class ActiveModel:
    """The active model of a long-running process.

    `get(conn)` costs one indexed lookup when nothing changed. When the active
    version changes it loads the new one; if that fails (corrupt text, a
    feature list this code does not know) it logs why and keeps serving the
    last good model.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: MatchingModel | None = None
        self._failed_version: str | None = None

    @property
    def model(self) -> MatchingModel | None:
        return self._model

    def get(self, conn: psycopg.Connection) -> MatchingModel | None:
        wanted = active_version(conn)
        with self._lock:
            current = self._model.version if self._model else None
            if wanted is None:
                # nothing is active any more: the database says fallback, and a
                # cached model would keep scoring with a version nobody chose
                if self._model is not None:
                    log.info("model_unloaded", previous=current)
                self._model = None
                return None
            if wanted == current or wanted == self._failed_version:
                return self._model
            try:
                model = load(conn, wanted)
            # LightGBM raises its own error types on malformed text, so any
            # failure counts: the process must keep serving what it has.
            except Exception as exc:
                self._failed_version = wanted
                log.error("model_load_failed", version=wanted, serving=current, error=str(exc))
                return self._model
            self._model = model
            self._failed_version = None
            log.info("model_loaded", version=wanted, previous=current)
            return model
