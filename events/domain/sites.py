"""Sites: the rollout facts SophMate's SOP asks for before any automation touches a site."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from events.aggregates import Aggregate
from events.catalogue import CATALOGUE, Event, Severity
from events.domain.required_text import invalid_urls, is_blank, missing_values, require
from events.domain.row_rules import row_rule
from events.errors import Forbidden, InvalidCommand, NotFound, StateConflict

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
URL_FACTS = ("production_url", "staging_url")


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


@CATALOGUE.event
class SiteRecoveryPathsRecorded(Event):
    """A site's rollback or support path, recorded after its registration (SOP rollout: a
    documented rollback or support path before any write-capable workflow). Who is here, when
    is the envelope's `occurred_at`; a path not given keeps its earlier value."""

    severity = Severity.NOTICE

    site_id: str
    rollback_path: str | None
    support_path: str | None
    recorded_by: str


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
    if isinstance(event, SiteRecoveryPathsRecorded):
        given = {"rollback_path": event.rollback_path, "support_path": event.support_path}
        update = {name: path for name, path in given.items() if path is not None}
        return site.model_copy(update={"facts": site.facts.model_copy(update=update)})
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
    missing = missing_values({name: getattr(cmd.facts, name) for name in ROLLOUT_FACTS})
    missing += invalid_urls({name: getattr(cmd.facts, name) for name in URL_FACTS})
    if missing:
        raise InvalidCommand(
            "a site needs its rollout facts before registration, its URLs as http(s) URLs",
            missing=sorted(set(missing), key=ROLLOUT_FACTS.index),
        )
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
    require("retiring a key needs a reason", reason=reason)
    return [SiteKeyRetired(site_id=site.site_id, kid=kid, reason=reason)]


SiteChangeKind = Literal["hosting", "provider", "plugin", "other"]
PAUSING_CHANGES = frozenset({"hosting", "provider", "plugin"})
"""The pause rule: automation stops after a hosting, provider or plugin change (SOP kill
switches: "provider changes, hosting incidents, plugin updates"), until an operations lead or
administrator who has checked diagnostics releases it (kill_switches.decide_release)."""

row_rule(
    "record-site-change",
    "a hosting, provider or plugin change always pauses the site's automation: whoever records "
    "it may not switch the pause off",
)


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
    """None applies the pause rule (PAUSING_CHANGES); True pauses another kind of change too."""

    @property
    def pauses_automation(self) -> bool:
        return self.kind in PAUSING_CHANGES or bool(self.pause_automation)


def decide_record_change(site: Site, cmd: RecordSiteChange) -> list[Event]:
    """The pause of a hosting, provider or plugin change is not the recorder's to waive: the
    person who made the change is the last to judge that it did no harm. Only an operations
    lead or administrator releases it, with a reason (kill_switches.decide_release)."""
    if site.site_id is None:
        raise NotFound("site not found")
    if cmd.kind in PAUSING_CHANGES and cmd.pause_automation is False:
        raise Forbidden(
            f"a {cmd.kind} change pauses automation; whoever records it may not switch the "
            "pause off: an operations lead or administrator releases the kill switch",
            missing=["pause_automation"],
        )
    require("a site change needs a summary", summary=cmd.summary)
    return [
        SiteChangeRecorded(
            site_id=site.site_id,
            kind=cmd.kind,
            summary=cmd.summary,
            pauses_automation=cmd.pauses_automation,
        )
    ]


row_rule("record-site-recovery-paths", "needs a rollback path, a support path or both")


def decide_record_recovery_paths(
    site: Site, rollback_path: str | None, support_path: str | None, actor: str
) -> list[Event]:
    if site.site_id is None:
        raise NotFound("site not found")
    given = {"rollback_path": rollback_path, "support_path": support_path}
    if all(is_blank(path) for path in given.values()):
        raise InvalidCommand(
            "record a rollback path, a support path or both",
            missing=["rollback_path", "support_path"],
        )
    # A blank one beside a given one is not given: it never erases the recorded path.
    kept = {name: None if is_blank(path) else path for name, path in given.items()}
    if all(path in (None, getattr(site.facts, name)) for name, path in kept.items()):
        raise StateConflict("the site already has these paths")
    return [SiteRecoveryPathsRecorded(site_id=site.site_id, **kept, recorded_by=actor)]
