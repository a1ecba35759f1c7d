"""Sites: the rollout facts SophMate's SOP asks for before any automation touches a site."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate, require
from events.catalogue import CATALOGUE, Event, Severity
from events.errors import InvalidCommand, NotFound, StateConflict

MAX_ACTIVE_KEYS = 2
"""Two keys may be active at once, so a site can rotate without a moment of refused tokens."""


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


@CATALOGUE.event
class SiteKeyRegistered(Event):
    """A per-site HS256 key. The secret is never in the log: only its fingerprint."""

    severity = Severity.WARNING

    site_id: str
    kid: str
    fingerprint: str


@CATALOGUE.event
class SiteKeyRetired(Event):
    severity = Severity.WARNING

    site_id: str
    kid: str
    reason: str


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
    active_keys: tuple[str, ...] = ()
    retired_keys: tuple[str, ...] = ()
    fingerprints: dict[str, str] = {}

    @property
    def registered(self) -> bool:
        return self.site_id is not None


def evolve(site: Site, event: Event) -> Site:
    if isinstance(event, SiteRegistered):
        return Site(site_id=event.site_id, agency_id=event.agency_id, facts=event.facts)
    if isinstance(event, SiteKeyRegistered):
        return site.model_copy(
            update={
                "active_keys": (*site.active_keys, event.kid),
                "fingerprints": {**site.fingerprints, event.kid: event.fingerprint},
            }
        )
    if isinstance(event, SiteKeyRetired):
        return site.model_copy(
            update={
                "active_keys": tuple(k for k in site.active_keys if k != event.kid),
                "retired_keys": (*site.retired_keys, event.kid),
            }
        )
    return site


SITES = Aggregate(stream_type="site", initial=Site(), evolve=evolve)


def decide_register(site: Site, cmd: RegisterSite) -> list[Event]:
    if site.registered:
        raise StateConflict(f"site {cmd.site_id} is already registered")
    missing = require({name: getattr(cmd.facts, name) for name in ROLLOUT_FACTS})
    if missing:
        raise InvalidCommand("a site needs its rollout facts before registration", missing=missing)
    return [SiteRegistered(site_id=cmd.site_id, agency_id=cmd.agency_id, facts=cmd.facts)]


def decide_register_key(site: Site, kid: str, fingerprint: str) -> list[Event]:
    assert site.site_id is not None
    if len(site.active_keys) >= MAX_ACTIVE_KEYS:
        raise StateConflict(
            f"site {site.site_id} already has {MAX_ACTIVE_KEYS} active keys: retire one first"
        )
    return [SiteKeyRegistered(site_id=site.site_id, kid=kid, fingerprint=fingerprint)]


def decide_retire_key(site: Site, kid: str, reason: str) -> list[Event]:
    assert site.site_id is not None
    if kid not in site.active_keys:
        raise NotFound(f"no active key {kid} on this site")
    if not reason.strip():
        raise InvalidCommand("retiring a key needs a reason", missing=["reason"])
    return [SiteKeyRetired(site_id=site.site_id, kid=kid, reason=reason)]


SiteChangeKind = Literal["hosting", "provider", "plugin", "other"]
PAUSING_CHANGES = frozenset({"hosting", "provider"})
"""The default pause rule: automation stops after a hosting or provider change (SOP kill
switches), until someone who has checked diagnostics releases it."""


@CATALOGUE.event
class SiteChangeRecorded(Event):
    severity = Severity.WARNING

    site_id: str
    kind: SiteChangeKind
    summary: str
    pauses_automation: bool


class RecordSiteChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: SiteChangeKind
    summary: str
    pause_automation: bool | None = None
    """None applies the default pause rule (PAUSING_CHANGES)."""

    @property
    def pauses_automation(self) -> bool:
        if self.pause_automation is None:
            return self.kind in PAUSING_CHANGES
        return self.pause_automation


def decide_record_change(site: Site, cmd: RecordSiteChange) -> list[Event]:
    if site.site_id is None:
        raise NotFound("site not found")
    if not cmd.summary.strip():
        raise InvalidCommand("a site change needs a summary", missing=["summary"])
    return [
        SiteChangeRecorded(
            site_id=site.site_id,
            kind=cmd.kind,
            summary=cmd.summary,
            pauses_automation=cmd.pauses_automation,
        )
    ]
