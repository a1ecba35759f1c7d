"""Configuration from the environment (prefix LEDGER_). Production refuses development defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-do-not-use-in-production-0123456789"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str | None = None
    """Unset: an embedded Postgres server is started with its data in `data_dir`."""
    migration_database_url: str | None = None
    """The owner role that runs migrations; defaults to database_url."""
    app_role: str = Field("ledger_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    data_dir: Path = Path(".ledger")
    pool_min_size: int = 2
    pool_max_size: int = 20
    idle_in_transaction_timeout_ms: int = 10_000
    pool_acquire_timeout_seconds: float = Field(5.0, gt=0)
    """The longest a request waits for a database connection; then 503 with Retry-After."""

    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "sophmate-ledger"
    jwt_audience: str = "sophmate-ledger"
    jwt_leeway_seconds: int = Field(10, ge=0, le=30)
    jwks_file: Path | None = None
    jwks_url: str | None = None
    jwks_ttl_seconds: int = 300

    playbook_signing_key: str | None = None
    """The Ed25519 key that signs playbook exports: 32 random bytes, base64url. Unset outside
    production: derived from the JWT secret, so a development ledger verifies its own exports
    across restarts."""

    run_projections: bool = True
    """Run the projection runners in this process; false when `sophmate-ledger worker` does."""
    projection_poll_seconds: float = 1.0
    min_position_wait_seconds: float = 2.0
    subscriber_max_lag_events: int = Field(10_000, ge=0)
    """/readyz fails while a subscriber of this process is further behind the log than this."""
    subscriber_retry_max_seconds: float = Field(5.0, gt=0)
    """The cap of a failed subscriber's restart backoff (it doubles from 0.1 s, with jitter)."""

    shutdown_drain_seconds: float = Field(1.0, ge=0)
    """On SIGTERM, /readyz fails this long while requests are still served, so a load
    balancer stops sending before the listener closes."""
    shutdown_grace_seconds: float = Field(20.0, gt=0)
    """Then in-flight requests get this long to finish before their connections are closed."""

    max_body_bytes: int = 1_048_576
    log_level: str = "INFO"

    log_signing_key: str | None = None
    """The Ed25519 key that signs every event and every checkpoint: 32 random bytes, base64url.
    Required in production; unset elsewhere: events/keys.py's public development key."""
    log_retired_public_keys: str = ""
    """Comma-separated public keys (base64 or vkeys) of earlier log keys, still trusted."""
    log_origin: str = "sophmate-ledger"
    """The prefix of every log's origin line: <log_origin>/agency/<id>, <log_origin>/platform."""
    run_sealer: bool = True
    """Run the sealer in this process; false when `sophmate-ledger worker` does."""
    checkpoint_seconds: float = 1.0
    playbook_retired_public_keys: str = ""
    """Comma-separated base64url public keys of earlier playbook keys: old exports still import."""

    @model_validator(mode="after")
    def _refuse_defaults_in_production(self) -> Settings:
        if self.env == "production":
            if self.jwt_secret == DEV_JWT_SECRET or len(self.jwt_secret) < 32:
                raise ValueError(
                    "LEDGER_JWT_SECRET must be set to a secret of at least 32 characters "
                    "in production"
                )
            if self.database_url is None:
                raise ValueError("LEDGER_DATABASE_URL must be set in production")
            if self.playbook_signing_key is None:
                raise ValueError("LEDGER_PLAYBOOK_SIGNING_KEY must be set in production")
            if self.log_signing_key is None:
                raise ValueError("LEDGER_LOG_SIGNING_KEY must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
