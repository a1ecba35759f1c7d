"""Dashboard settings (prefix LEDGER_DASHBOARD_), apart from the API's so the two evolve apart."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_DASHBOARD_", extra="ignore")

    session_minutes: int = Field(480, ge=5, le=24 * 60)
    """A session ends after this long, or when its token expires, whichever comes first."""
    oidc_issuer_url: str | None = None
    """The agency identity provider (its /.well-known/openid-configuration is read). Its access
    tokens must verify with the keys and issuer the API trusts (LEDGER_JWKS_*)."""
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    """Unset for a public client: PKCE alone protects the code exchange."""
    oidc_scope: str = "openid profile"
    oidc_redirect_url: str | None = None
    """The callback URL registered with the provider; unset: this server's /dashboard/oidc/
    callback as the request reached it (set it behind a proxy that rewrites the host)."""

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer_url is not None and self.oidc_client_id is not None


def dashboard_settings(state: Any) -> DashboardSettings:
    """The app's dashboard settings: from the environment unless a test set its own."""
    found = getattr(state, "dashboard_settings", None)
    if not isinstance(found, DashboardSettings):
        found = DashboardSettings()
        state.dashboard_settings = found
    return found
