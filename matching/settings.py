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
    procrastinate_schema: str = Field(
        default="procrastinate", description="Schema holding procrastinate's tables."
    )
    log_level: str = Field(default="INFO")
    seed: int = Field(default=42, description="Seed of the synthetic data generator.")

    @field_validator("database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("procrastinate_schema")
    @classmethod
    def _plain_identifier(cls, value: str) -> str:
        if not value.isidentifier() or value.lower() != value:
            raise ValueError("must be a lower-case SQL identifier")
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
