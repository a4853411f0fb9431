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
from datetime import UTC, datetime
from typing import Any

import psycopg
import structlog
from psycopg.rows import class_row, scalar_row
from psycopg.types.json import Jsonb

from matching.db import queries
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


@dataclass(frozen=True)
class _StoredModel:
    model_text: str
    metadata: dict[str, Any]


def new_version(prefix: str) -> str:
    """A version name that sorts by training time (registered versions are unique)."""
    return f"{prefix}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"[:64]


def register(conn: psycopg.Connection[Any], model: MatchingModel) -> None:
    """Store a model (inactive). The version must be new."""
    meta = model.metadata
    conn.execute(
        queries.query("register_model"),
        {
            "version": meta.version,
            "model_text": model.to_text(),
            "feature_names": list(meta.feature_names),
            "metrics": Jsonb(meta.metrics),
            "params": Jsonb(meta.params),
            "metadata": Jsonb(meta.to_json()),
            "training_samples": meta.training_samples,
        },
    )


def activate(conn: psycopg.Connection[Any], version: str, reason: str = "activate") -> str:
    """Make `version` the active one; returns the active version as the database reports it."""
    with conn.cursor(row_factory=scalar_row) as cur:
        active: str = _one(
            cur.execute(queries.query("activate_model"), {"version": version, "reason": reason})
        )
    return active


def rollback(conn: psycopg.Connection[Any]) -> str:
    """Reactivate the previous version; returns the now active one."""
    with conn.cursor(row_factory=scalar_row) as cur:
        active: str = _one(cur.execute(queries.query("rollback_model")))
    return active


def list_models(conn: psycopg.Connection[Any]) -> list[ModelInfo]:
    with conn.cursor(row_factory=class_row(ModelInfo)) as cur:
        return cur.execute(queries.query("list_models")).fetchall()


def active_version(conn: psycopg.Connection[Any]) -> str | None:
    with conn.cursor(row_factory=scalar_row) as cur:
        version: str | None = cur.execute(queries.query("active_model_version")).fetchone()
    return version


def load(conn: psycopg.Connection[Any], version: str) -> MatchingModel:
    with conn.cursor(row_factory=class_row(_StoredModel)) as cur:
        row = cur.execute(queries.query("load_model"), {"version": version}).fetchone()
    if row is None:
        raise LookupError(f"unknown model version {version!r}")
    return MatchingModel.from_text(row.model_text, row.metadata)


def _one(cur: psycopg.Cursor[Any]) -> Any:
    """The single value a function call returns (it always returns a row)."""
    row = cur.fetchone()
    assert row is not None, "a select of one function call returns one row"
    return row


def load_active(conn: psycopg.Connection[Any]) -> MatchingModel | None:
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

    def get(self, conn: psycopg.Connection[Any]) -> MatchingModel | None:
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
