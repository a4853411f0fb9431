"""The one settings object: every knob the engine reads, from the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def project_root() -> Path:
    """Where migrations/ and supabase/ live.

    A source checkout (editable install) keeps them next to the package; an
    installed package (Docker image) finds them in the working directory.
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "migrations").is_dir():
        return checkout
    return Path.cwd()


class Settings(BaseSettings):
    """Configuration, read from environment variables (and `.env` if present)."""

    model_config = SettingsConfigDict(
        env_prefix="MATCHING_", env_file=".env", extra="ignore", frozen=True
    )

    # Not prefixed: the name every Postgres host (Supabase, compose, CI) uses.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    pgdata: Path = Field(
        default_factory=lambda: project_root() / ".pgdata",
        description="Data directory of the embedded PostgreSQL (used when DATABASE_URL is unset).",
    )
    embedded_database: str = Field(
        default="matching", description="Database created inside the embedded server."
    )
    migrations_dir: Path = Field(default_factory=lambda: project_root() / "migrations")
    auth_shim: Path = Field(default_factory=lambda: project_root() / "supabase" / "auth_shim.sql")
    log_level: str = Field(default="INFO")
    seed: int = Field(default=42, description="Seed of the synthetic data generator.")

    # ranking pipeline
    candidates_k: int = Field(
        default=200, ge=1, le=2000, description="Candidates retrieved from the ANN index."
    )
    stored_matches: int = Field(
        default=50, ge=1, le=500, description="Matches stored (and explained) per entity."
    )
    slow_rematch_seconds: float = Field(
        default=3.0, gt=0, description="A rematch slower than this logs its stage breakdown."
    )
    rematch_batch_size: int = Field(
        default=8,
        ge=1,
        le=500,
        description=(
            "Entities per bulk re-rank job (rematch_batch). Larger batches share more work;"
            " an edit waits for at most one running batch per worker, so this bounds the"
            " extra latency of edits during a re-rank (benchmarks/rerank.py)."
        ),
    )
    rematch_job_batch_size: int | None = Field(
        default=None,
        ge=1,
        le=500,
        description=(
            "Jobs per bulk re-rank job; unset: rematch_batch_size. A job has hundreds of"
            " candidate pairs where a talent has ~50, so its batches take longer to compute"
            " before their first write (what an edit waits behind)."
        ),
    )

    # worker
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    worker_heartbeat_seconds: float = Field(default=5.0, gt=0)
    worker_stalled_seconds: float = Field(
        default=30.0, gt=0, description="A job whose worker is silent this long is requeued."
    )
    metrics_port: int = Field(
        default=9464, ge=0, le=65535, description="Prometheus port of the worker; 0 disables."
    )
    retry_max_attempts: int = Field(default=5, ge=1, le=20)
    retry_base_seconds: float = Field(default=1.0, gt=0)
    db_pool_size: int = Field(default=4, ge=1, le=64)
    db_reconnect_give_up_seconds: float = Field(
        default=300.0,
        ge=0,
        description=(
            "The worker exits (status 1, one-line reason) after the database has been"
            " unreachable this long; 0 = keep trying forever."
        ),
    )
    db_reconnect_max_delay_seconds: float = Field(
        default=10.0, gt=0, le=300, description="Longest wait between reconnection attempts."
    )
    reconcile_interval_seconds: float = Field(
        default=300.0,
        ge=0,
        description=(
            "Reconciliation (enqueue every entity with an edit no rematch has seen) runs at"
            " start, after every reconnect and this often; 0 = only at start and reconnects."
        ),
    )
    reconcile_batch_size: int = Field(
        default=5000, ge=100, le=100_000, description="Entities scanned per reconciliation query."
    )

    # retraining from feedback
    retrain_min_samples: int = Field(
        default=100, ge=10, description="Feedback pairs needed before retraining."
    )
    retrain_margin: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="The lower confidence bound of the NDCG@10 gain must exceed this (strictly).",
    )
    retrain_confidence: float = Field(
        default=0.95,
        gt=0.5,
        lt=1,
        description="One-sided confidence of the gate's paired bootstrap lower bound.",
    )
    retrain_bootstrap_samples: int = Field(
        default=2000, ge=100, le=100_000, description="Bootstrap resamples of held-out lists."
    )
    retrain_min_lists: int = Field(
        default=20,
        ge=2,
        description="Held-out lists (>= 2 rows, >= 2 distinct labels, either side) needed.",
    )
    retrain_min_accounts: int = Field(
        default=20, ge=1, description="Distinct accounts whose feedback a retrain needs."
    )
    retrain_max_account_share: float = Field(
        default=0.05,
        gt=0,
        le=1,
        description="Most of the total training (and evaluation) weight one account may carry.",
    )
    retrain_propensity_eta: float = Field(
        default=1.0,
        ge=0,
        le=3,
        description="Examination propensity of rank r is r^-eta; feedback is weighted by r^eta.",
    )
    retrain_max_propensity_weight: float = Field(
        default=20.0, ge=1, description="Clip of the inverse-propensity weight."
    )
    retrain_drift_min_rank_correlation: float = Field(
        default=0.5,
        ge=-1,
        le=1,
        description="Spearman correlation with the active model below which drift is declared.",
    )
    retrain_drift_max_mean_shift: float = Field(
        default=15.0, ge=0, description="Mean score shift (points) beyond which drift is declared."
    )
    retrain_drift_extra_margin: float = Field(
        default=0.03, ge=0, le=1, description="Extra NDCG@10 gain required under drift."
    )
    retrain_reference_pairs: int = Field(
        default=2000, ge=10, description="Stored pairs in the drift guard's reference sample."
    )
    retrain_interval_days: int = Field(
        default=7, ge=1, description="Unforced retraining runs at most this often."
    )
    # Text embeddings (matching/retrieval/embedder.py), ANN retrieval (matching/retrieval/store.py).
    embedding_batch_size: int = Field(
        default=32, ge=1, le=1024, description="Texts per forward pass of the embedding model."
    )
    embedding_cache_size: int = Field(
        default=20_000,
        ge=0,
        description="Vectors kept in the in-process LRU cache (keyed by text sha256); 0 disables.",
    )
    embedding_threads: int = Field(
        default=2, ge=1, le=256, description="torch.set_num_threads for the embedding model."
    )
    ann_ef_search: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="hnsw.ef_search floor for ANN queries (small k).",
    )
    ann_ef_search_factor: float = Field(
        default=3.0,
        ge=1.0,
        le=10.0,
        description=(
            "hnsw.ef_search = max(ann_ef_search, factor * k / live share of the index),"
            " capped at 1000 (beyond it, when only dead entries push it there, an exact scan)."
            " Measured by benchmarks/ann_recall.py on 24,000 vectors at k=200: factor 2"
            " left 3.3% of queries under recall 0.98, factor 3 none (README, ANN recall)."
        ),
    )

    @field_validator("database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    def bulk_batch_size(self, kind: str) -> int:
        """Entities per bulk re-rank job of one side ("talent" or "job")."""
        if kind == "job" and self.rematch_job_batch_size is not None:
            return self.rematch_job_batch_size
        return self.rematch_batch_size

    @property
    def pool_reconnect_timeout(self) -> float:
        """How long a connection pool keeps retrying one reconnection.

        psycopg_pool doubles its delay between attempts until this timeout
        (1, 2, 4, 8 s ...): a long timeout means a server that is back can
        wait for minutes for the next attempt. Bounded, the pool gives the
        attempt up and the next request for a connection starts a fresh one.
        """
        return max(5.0, 2 * self.db_reconnect_max_delay_seconds)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
