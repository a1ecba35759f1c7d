"""Agency identity providers: who may speak for which agency, with which roles.

A token is matched to its provider by its `iss`; the key is looked up in that provider's JWKS
only, so a key published by agency A's provider can never verify a token that names another
issuer, and whatever A's token claims, it speaks for A: its `agency` is A (a token naming another
agency is refused), tenancy keeps it to A's sites, and its roles are the provider's at most.
Administrator and `sites: ["*"]` are never granted by a provider: platform administrators come
only from the ledger's own issuer.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.auth.principal import Role


class IdentityProvider(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer: str = Field(min_length=1, max_length=500)
    """The `iss` its tokens carry (and are checked against)."""
    agency: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    """The one agency its tokens speak for."""
    roles: frozenset[Role] = Field(min_length=1)
    """The roles it may grant; a token with any other is refused."""
    jwks_url: str | None = None
    jwks_file: Path | None = None
    max_token_lifetime_seconds: int | None = Field(None, ge=60)
    """Overrides LEDGER_TOKEN_MAX_LIFETIME_SECONDS for this provider's tokens."""

    @field_validator("roles")
    @classmethod
    def _never_administrator(cls, roles: frozenset[Role]) -> frozenset[Role]:
        if Role.ADMINISTRATOR in roles:
            raise ValueError("an agency identity provider never grants administrator")
        return roles

    @model_validator(mode="after")
    def _one_jwks(self) -> IdentityProvider:
        if (self.jwks_url is None) == (self.jwks_file is None):
            raise ValueError("name exactly one of jwks_url and jwks_file")
        return self
