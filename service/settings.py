"""Configuration from the environment (prefix LEDGER_). Production refuses development defaults.

Any variable may instead be given as a file: `LEDGER_<NAME>_FILE=/path` (the Docker and
Kubernetes convention), or a file named `LEDGER_<NAME>` in the folder `LEDGER_SECRETS_DIR` (a
mounted Kubernetes Secret whose keys are the variable names). `load_settings` reads them and
reports every problem of a configuration at once.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.auth.providers import IdentityProvider
from service.secret_box import SecretBox, decode_key, shannon_bits_per_symbol

DEV_JWT_SECRET = "dev-only-secret-do-not-use-in-production-0123456789"  # noqa: S105
PREFIX = "LEDGER_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000

    database_url: str | None = None
    """Unset: an embedded Postgres server is started with its data in `data_dir`."""
    migration_database_url: str | None = None
    """The owner role that runs migrations; defaults to database_url."""
    read_database_url: str | None = None
    """A hot standby for read-model and history queries; unset: the primary answers them."""
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

    idempotency_retention_days: int = Field(30, ge=1)
    """Idempotency records older than this are pruned (`sophmate-ledger prune-idempotency`):
    a client retrying later than this gets a new command, not the stored answer."""

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

    # --- security (issue 13): sealing, agency identity providers, token policy, proxies ----
    secret_kek: str | None = None
    """The key-encryption key that seals secrets at rest (site-key secrets): 32 random bytes,
    base64url. Required in production; unset elsewhere: derived from LEDGER_JWT_SECRET, so a
    development ledger opens its own secrets across restarts."""
    secret_kek_previous: str = ""
    """Comma-separated earlier KEKs: secrets they sealed still open until `rotate-kek` re-seals."""
    identity_providers: list[IdentityProvider] = []
    """Agency identity providers (JSON list): each names its issuer, the one agency it speaks for,
    the roles it may grant and its JWKS. Never administrator: that comes only from the ledger's
    own issuer (LEDGER_JWT_ISSUER: LEDGER_JWT_SECRET, site keys, LEDGER_JWKS_*)."""
    token_max_lifetime_seconds: int = Field(86_400, ge=60)
    """The longest `exp - iat` of a token of the ledger's issuer or an identity provider."""
    site_token_max_lifetime_seconds: int = Field(300, ge=30)
    """The longest `exp - iat` of a token a WordPress site signs with its site key."""
    api_docs: bool | None = None
    """Serve /docs, /redoc and /openapi.json. Unset: served outside production, closed in
    production (the committed openapi/openapi.json documents the API either way)."""
    trusted_proxies: str = ""
    """Comma-separated CIDRs of the reverse proxies whose X-Forwarded-For is believed; from any
    other peer the header is ignored and the peer's own address is recorded."""

    @field_validator("identity_providers", mode="before")
    @classmethod
    def _providers_from_json(cls, value: Any) -> Any:
        # Given as text by the environment or a file; pydantic-settings decodes only its own
        # environment source, and load_settings passes values in.
        if isinstance(value, str):
            return json.loads(value) if value.strip() else []
        return value

    # operator rollout (service/rollout/)
    rollout_escalate_after_findings: int = Field(3, ge=1)
    """Findings of one kind for one operator that raise an escalation to the SOP's owner."""
    grant_index_poll_seconds: float = Field(1.0, gt=0)
    """The longest another replica's grant change takes to be honoured here if its NOTIFY is
    lost (this replica's own changes are honoured before their command answers)."""
    # Webhooks (service/webhooks/): the dispatcher's fan-out and sender are subscribers.
    run_webhooks: bool = True
    """Run the webhook dispatcher in this process; false when `sophmate-ledger worker` does."""
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    """The longest one delivery attempt may take, connecting included."""
    webhook_max_response_bytes: int = Field(65_536, ge=0)
    """An endpoint's answer is read up to this much and no further (only its status counts)."""
    webhook_allow_private: bool = False
    """Deliver to loopback and private addresses: development and tests only (metadata
    addresses stay refused); refused in production."""
    webhook_concurrency: int = Field(64, ge=1, le=1024)
    """Deliveries one sender has in flight at once."""

    @model_validator(mode="after")
    def _refuse_defaults_in_production(self) -> Settings:
        missing = production_problems(self)
        if missing:
            raise ProductionIncomplete(missing)
        return self


class ProductionIncomplete(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class ConfigurationRefused(ValueError):
    """Every problem of a configuration, each naming its variable, never its value."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{len(problems)} problem(s):\n{lines}")


def production_problems(settings: Settings) -> list[str]:
    problems = [
        # Else the command would quietly use the embedded server, not the database named.
        f"{_variable(name)} is set but LEDGER_DATABASE_URL is not: set it to the same database"
        for name in ("migration_database_url", "read_database_url")
        if getattr(settings, name) is not None and settings.database_url is None
    ]
    problems.extend(security_problems(settings))
    if settings.env != "production":
        return problems
    if settings.jwt_secret == DEV_JWT_SECRET or len(settings.jwt_secret) < 32:
        problems.append(
            "LEDGER_JWT_SECRET must be set to a secret of at least 32 characters in production"
        )
    elif weak(settings.jwt_secret):
        problems.append("LEDGER_JWT_SECRET is too regular to be random: use 32+ random characters")
    if settings.secret_kek is None:
        problems.append("LEDGER_SECRET_KEK must be set in production")
    for name in ("secret_kek", "playbook_signing_key", "log_signing_key"):
        value = getattr(settings, name)
        key = None if value is None else decode_key(value)
        if key is not None and shannon_bits_per_symbol(key) < MIN_BITS_PER_SYMBOL:
            problems.append(f"{_variable(name)} is too regular to be random: use 32 random bytes")
    for provider in settings.identity_providers:
        if provider.jwks_url is not None and not provider.jwks_url.startswith("https://"):
            problems.append("LEDGER_IDENTITY_PROVIDERS: a jwks_url must be https in production")
    if settings.database_url is None:
        problems.append("LEDGER_DATABASE_URL must be set in production")
    if settings.playbook_signing_key is None:
        problems.append("LEDGER_PLAYBOOK_SIGNING_KEY must be set in production")
    if settings.log_signing_key is None:
        problems.append("LEDGER_LOG_SIGNING_KEY must be set in production")
    if settings.webhook_allow_private:
        problems.append("LEDGER_WEBHOOK_ALLOW_PRIVATE must not be true in production")
    return problems


MIN_BITS_PER_SYMBOL = 3.0
"""Shannon entropy per character (or byte) below which a secret is refused in production: 32
random base64 characters or bytes score about 4.3 to 5; 32 times one character scores 0."""


def weak(secret: str) -> bool:
    return shannon_bits_per_symbol(secret) < MIN_BITS_PER_SYMBOL


def security_problems(settings: Settings) -> list[str]:
    """What is wrong with the security block in any environment (never naming a value)."""
    problems: list[str] = []
    for name in ("secret_kek", "secret_kek_previous"):
        value = getattr(settings, name) or ""
        if any(decode_key(part) is None for part in value.split(",") if part.strip()):
            problems.append(f"{_variable(name)} must be 32 bytes, base64url (comma-separated)")
    try:
        trusted_networks(settings)
    except ValueError:
        problems.append("LEDGER_TRUSTED_PROXIES must be comma-separated IP addresses or CIDRs")
    issuers = [provider.issuer for provider in settings.identity_providers]
    if settings.jwt_issuer in issuers:
        problems.append("LEDGER_IDENTITY_PROVIDERS: an issuer equals LEDGER_JWT_ISSUER")
    if len(set(issuers)) != len(issuers):
        problems.append("LEDGER_IDENTITY_PROVIDERS: two providers name the same issuer")
    return problems


def trusted_networks(
    settings: Settings,
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    parts = [part.strip() for part in settings.trusted_proxies.split(",") if part.strip()]
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts)


def secret_box_of(settings: Settings) -> SecretBox:
    """The settings' KEKs; outside production without LEDGER_SECRET_KEK, one derived from the
    JWT secret (production refuses to start without LEDGER_SECRET_KEK)."""
    current = decode_key(settings.secret_kek) if settings.secret_kek else None
    if current is None:
        current = hashlib.sha256(b"sophmate-ledger kek\n" + settings.jwt_secret.encode()).digest()
    previous = [decode_key(part) for part in settings.secret_kek_previous.split(",")]
    return SecretBox.of(current, [key for key in previous if key is not None])


def _variable(field: str) -> str:
    return f"{PREFIX}{field.upper()}"


def _from_files(environ: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Values given as files (`*_FILE`, then the secrets folder), and what could not be read."""
    values: dict[str, str] = {}
    problems: list[str] = []
    folder = environ.get(f"{PREFIX}SECRETS_DIR")
    if folder is not None and not Path(folder).is_dir():
        problems.append(f"{PREFIX}SECRETS_DIR names no readable folder")
        folder = None
    for field in Settings.model_fields:
        variable = _variable(field)
        path = environ.get(f"{variable}_FILE")
        if path is not None and variable in environ:
            problems.append(f"{variable} and {variable}_FILE are both set: keep one")
            continue
        if path is None and folder is not None and (Path(folder) / variable).is_file():
            path = str(Path(folder) / variable)
        if path is None or variable in environ:
            continue
        try:
            # A trailing newline is how editors and `echo` end a file, never part of a secret.
            values[field] = Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError):
            problems.append(f"{variable}_FILE names a file that cannot be read")
    return values, problems


def _field_problems(error: ValidationError) -> tuple[list[str], set[str]]:
    """Field errors by variable, without the offending input (it may be a secret)."""
    problems, fields = [], set()
    for detail in error.errors(include_input=False, include_url=False):
        cause = detail.get("ctx", {}).get("error")
        if isinstance(cause, ProductionIncomplete):
            problems.extend(cause.problems)
        elif detail["loc"]:
            fields.add(str(detail["loc"][0]))
            problems.append(f"{_variable(str(detail['loc'][0]))}: {detail['msg']}")
    return problems, fields


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """The settings, or ConfigurationRefused listing everything that is wrong, once each."""
    environ = dict(os.environ if environ is None else environ)
    files, problems = _from_files(environ)
    # Passed in, not left to pydantic's own environment source, so `environ` is the whole truth.
    given = {f: environ[_variable(f)] for f in Settings.model_fields if _variable(f) in environ}
    overrides: dict[str, Any] = {**given, **files}
    for _attempt in range(2):
        try:
            settings = Settings(**overrides)
        except ValidationError as error:
            found, fields = _field_problems(error)
            problems.extend(p for p in found if p not in problems)
            if not fields:
                break
            # Again with the bad fields at their defaults: what else is missing shows too.
            for field in fields:
                overrides[field] = Settings.model_fields[field].default
            continue
        if not problems:
            return settings
        break
    raise ConfigurationRefused(problems)


@lru_cache
def get_settings() -> Settings:
    return load_settings()


def serves_api_docs(settings: Settings) -> bool:
    return settings.api_docs if settings.api_docs is not None else settings.env != "production"
