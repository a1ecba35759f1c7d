"""HTTP models of the sites API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from events.domain.sites import ROLLOUT_FACTS, SiteChangeKind, SiteFacts
from service.contract.text import NON_BLANK, RequiredParts, RequiredText, with_one_of
from service.pagination import Page
from service.redaction_gate import CommandBody

SITE_ID = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$", examples=["acme-shop"])

REGISTER_EXAMPLE: dict[str, Any] = {
    "site_id": "acme-shop",
    "agency_id": "northwind-agency",
    "setup_owner": "dana@acme.example",
    "production_url": "https://shop.acme.example",
    "staging_url": "https://staging.shop.acme.example",
    "sophmate_version": "2.4.1",
    "wordpress_version": "6.6.2",
    "php_version": "8.2",
    "active_theme": "storefront",
    "rollback_path": "Restore the nightly UpdraftPlus backup from the hosting panel",
    "support_path": "support@northwind.example, then CodeCanyon support",
}


class RegisterSiteBody(CommandBody, RequiredParts, SiteFacts):
    """The rollout facts are required; the URLs are http(s) URLs with a host (the decider's
    check, Python's `urlsplit`, which no pattern states exactly)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [REGISTER_EXAMPLE]})
    required_parts = ROLLOUT_FACTS

    site_id: str = SITE_ID
    agency_id: str | None = Field(None, max_length=64, examples=["northwind-agency"])


class SiteView(BaseModel):
    site_id: str
    agency_id: str | None
    facts: SiteFacts
    version: int = Field(description="The site stream's version this view was folded at.")


class SiteKeyCreated(BaseModel):
    """Shown once: the secret is never returned again, not even to a retried request."""

    kid: str = Field(examples=["acme-shop.3f9a1c2e"])
    secret: str | None = Field(
        description="HS256 secret for the WordPress plugin; null when this is a replayed answer."
    )
    algorithm: str = "HS256"
    event_ids: list[str]
    stream_id: str
    stream_version: int
    position: int


class RetireSiteKeyBody(CommandBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "rotated after the plugin update"}]},
    )

    reason: RequiredText = Field(min_length=1, max_length=500)


class SiteKeyView(BaseModel):
    kid: str
    fingerprint: str
    active: bool


class SiteKeyList(Page[SiteKeyView]):
    items: list[SiteKeyView] = Field(description="In the order they were registered.")


class RecordSiteChangeBody(CommandBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "provider",
                    "summary": "switched the AI provider from OpenAI to Anthropic",
                    "pause_automation": True,
                }
            ]
        },
    )

    kind: SiteChangeKind
    summary: RequiredText = Field(max_length=2000)
    pause_automation: bool | None = Field(
        None,
        description="Null applies the pause rule: hosting, provider and plugin changes pause "
        "all automation (false is refused for them: the recorder may not switch the pause "
        "off); true pauses automation for another kind of change too.",
    )


class RecordSiteRecoveryPathsBody(CommandBody, RequiredParts):
    """At least one path; a path left out (or blank) keeps the one recorded before."""

    rules = (with_one_of(("rollback_path", "support_path"), {"type": "string", **NON_BLANK}),)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "rollback_path": "Restore the nightly UpdraftPlus backup from the hosting "
                    "panel",
                    "support_path": "support@northwind.example, then CodeCanyon support",
                }
            ]
        },
    )

    rollback_path: str | None = Field(None, max_length=2000)
    support_path: str | None = Field(None, max_length=2000)


class SiteChangeRecordedResult(BaseModel):
    event_ids: list[str]
    stream_id: str
    stream_version: int
    position: int
    automation_paused: bool = Field(
        description='True when the change engaged the site\'s all-categories ("*") kill switch.'
    )
