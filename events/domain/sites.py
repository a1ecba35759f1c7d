"""Sites: the rollout facts SophMate's SOP asks for before any automation touches a site."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from events.catalogue import CATALOGUE, Event, Severity
from events.deciders import Aggregate, require
from events.errors import InvalidCommand, StateConflict


class SiteFacts(BaseModel):
    """Recorded before rollout (SOP: owner, URLs, versions, theme); paths before any write."""

    model_config = ConfigDict(frozen=True)

    setup_owner: str | None = None
    production_url: str | None = None
    staging_url: str | None = None
    sophmate_version: str | None = None
    wordpress_version: str | None = None
    php_version: str | None = None
    active_theme: str | None = None
    rollback_path: str | None = None
    support_path: str | None = None


ROLLOUT_FACTS = (
    "setup_owner",
    "production_url",
    "staging_url",
    "sophmate_version",
    "wordpress_version",
    "php_version",
    "active_theme",
)


@CATALOGUE.event
class SiteRegistered(Event):
    severity = Severity.NOTICE

    site_id: str
    agency_id: str | None
    facts: SiteFacts


class RegisterSite(BaseModel):
    model_config = ConfigDict(frozen=True)

    site_id: str
    agency_id: str | None
    facts: SiteFacts


class Site(BaseModel):
    model_config = ConfigDict(frozen=True)

    site_id: str | None = None
    agency_id: str | None = None
    facts: SiteFacts = SiteFacts()

    @property
    def registered(self) -> bool:
        return self.site_id is not None


def evolve(site: Site, event: Event) -> Site:
    if isinstance(event, SiteRegistered):
        return Site(site_id=event.site_id, agency_id=event.agency_id, facts=event.facts)
    return site


SITES = Aggregate(stream_type="site", initial=Site(), evolve=evolve)


def decide_register(site: Site, cmd: RegisterSite) -> list[Event]:
    if site.registered:
        raise StateConflict(f"site {cmd.site_id} is already registered")
    missing = require({name: getattr(cmd.facts, name) for name in ROLLOUT_FACTS})
    if missing:
        raise InvalidCommand("a site needs its rollout facts before registration", missing=missing)
    return [SiteRegistered(site_id=cmd.site_id, agency_id=cmd.agency_id, facts=cmd.facts)]
