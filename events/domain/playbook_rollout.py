"""From an import to production on the target site (the SOP's import review and agency standard):
the import with the local changes it requires, completing them, the first run in staging or
read-only, a second person's approval, and the promotion gate that checks them all at once.

Who may import into which site (an agency lead only into their own agency's sites) is decided by
the tenancy check at the edge, before these deciders run.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from events.catalogue import Event
from events.domain.identity import among, same_person
from events.domain.playbook_events import (
    ImportedProvenance,
    LocalChangeCompleted,
    PlaybookAssumptions,
    PlaybookFirstRunRecorded,
    PlaybookImported,
    PlaybookPromoted,
    PlaybookPromotionApproved,
)
from events.domain.playbook_format import PlaybookExport, content_hash, local_changes
from events.domain.playbooks import Playbook, missing_in_content, registered_id
from events.domain.required_text import missing_values, require
from events.domain.row_rules import row_rule
from events.domain.workflow_events import Environment
from events.errors import GateNotSatisfied, InvalidCommand, NotFound, StateConflict

IMPORT_PREFIX = "imp-"
"""Ids of imported playbooks; register-playbook refuses them."""

row_rule(
    "approve-playbook-promotion",
    "never by whoever registered, revised or imported the version (subjects compared case- and "
    "Unicode-insensitively); after a successful first run and every local change",
)
row_rule("import-playbook", "an agency lead imports only into its own agency's sites")


class ImportPlaybook(BaseModel):
    """An import of a document whose format, schema, signature and redaction scan the edge has
    already checked; the target site's facts are what its operator states at import."""

    model_config = ConfigDict(frozen=True)

    playbook_id: str
    site_id: str
    owner: str
    document: PlaybookExport
    target_facts: PlaybookAssumptions = PlaybookAssumptions()
    actor: str


def decide_import(playbook: Playbook, cmd: ImportPlaybook) -> list[Event]:
    """Idempotent: the version already imported adds nothing. A newer version of the same
    lineage goes back to staging and read-only with its own local changes."""
    try:
        return _decide_import(playbook, cmd)
    except AlreadyImported:
        return []


def _decide_import(playbook: Playbook, cmd: ImportPlaybook) -> list[Event]:
    document = cmd.document
    lineage = document.provenance.lineage
    if playbook.registered:
        if not playbook.imported or playbook.site_id != cmd.site_id:
            raise StateConflict(f"playbook {cmd.playbook_id} is not an import into this site")
        if playbook.lineage != lineage:
            raise StateConflict(f"playbook {cmd.playbook_id} is of another lineage")
        if playbook.content_hash == content_hash(document.content):
            return []
        _require_newer(playbook, document)
    missing = _missing_in_import(cmd)
    if missing:
        raise InvalidCommand("the imported playbook is incomplete", missing=missing)
    provenance = ImportedProvenance(**document.provenance.model_dump(), kid=document.signature.kid)
    return [
        PlaybookImported(
            playbook_id=cmd.playbook_id,
            site_id=cmd.site_id,
            owner=cmd.owner,
            content=document.content,
            content_hash=document.provenance.content_hash,
            version=playbook.version + 1,
            provenance=provenance,
            target_facts=cmd.target_facts,
            local_changes=local_changes(document.content.assumptions, cmd.target_facts),
            imported_by=cmd.actor,
        )
    ]


def _require_newer(playbook: Playbook, document: PlaybookExport) -> None:
    """The version already imported adds nothing, even after a local revision; an older version
    never replaces a newer one (an old document in a drawer cannot roll a site back)."""
    current, incoming = playbook.provenance, document.provenance
    if current is None:
        return
    if incoming.content_hash == current.content_hash:
        raise AlreadyImported()
    if incoming.version <= current.version:
        raise StateConflict(
            f"version {incoming.version} is not newer than the imported version {current.version}"
        )


class AlreadyImported(Exception):
    """This version of the lineage is already imported here: the import is a no-op."""


def imported_playbook_id(site_id: str, lineage: str) -> str:
    """One stream per (site, lineage), in a namespace registrations may not use, and of fixed
    length whatever the site id."""
    digest = hashlib.sha256(f"{site_id}\n{lineage}".encode()).hexdigest()
    return f"{IMPORT_PREFIX}{digest[:24]}"


def _missing_in_import(cmd: ImportPlaybook) -> list[str]:
    missing = missing_values({"owner": cmd.owner})
    missing += missing_in_content(cmd.document.content, prefix="content.")
    # The signature covers the provenance, so a hash that does not match the content is a
    # document the ledger never produced for this content.
    if content_hash(cmd.document.content) != cmd.document.provenance.content_hash:
        missing.append("provenance.content_hash")
    return missing


def _changeable_id(playbook: Playbook) -> str:
    """A version in production has passed its gate; only a new version changes its rollout."""
    playbook_id = registered_id(playbook)
    if playbook.environment == "production":
        raise StateConflict(f"playbook {playbook_id} is already in production")
    return playbook_id


def decide_complete_local_change(
    playbook: Playbook, change_id: str, actor: str, note: str | None = None
) -> list[Event]:
    playbook_id = registered_id(playbook)
    change = next((c for c in playbook.local_changes if c.change_id == change_id), None)
    if change is None:
        raise NotFound("local change not found")
    if change.done:
        raise StateConflict(f"local change {change_id} is already done")
    return [
        LocalChangeCompleted(
            playbook_id=playbook_id, change_id=change_id, completed_by=actor, note=note
        )
    ]


class RecordFirstRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    succeeded: bool
    environment: Environment
    read_only: bool
    summary: str
    actor: str


def decide_record_first_run(playbook: Playbook, cmd: RecordFirstRun) -> list[Event]:
    playbook_id = _changeable_id(playbook)
    require("a first run needs a summary of its result", summary=cmd.summary)
    # SOP: an imported playbook runs read-only or in staging before client production execution.
    if cmd.environment == "production" and not cmd.read_only:
        raise GateNotSatisfied(
            "a first run runs in staging or read-only", missing=["first_run.staging_or_read_only"]
        )
    if playbook.first_run is not None and playbook.first_run.run_id == cmd.run_id:
        raise StateConflict(f"run {cmd.run_id} is already recorded")
    open_changes = [f"local_changes.{c}.done" for c in playbook.open_local_changes()]
    if open_changes:
        # SOP order: localise, then run in staging or read-only, then production.
        raise GateNotSatisfied("localise the playbook before its first run", missing=open_changes)
    return [
        PlaybookFirstRunRecorded(
            playbook_id=playbook_id,
            run_id=cmd.run_id,
            content_hash=playbook.content_hash,
            succeeded=cmd.succeeded,
            environment=cmd.environment,
            read_only=cmd.read_only,
            summary=cmd.summary,
            recorded_by=cmd.actor,
        )
    ]


def decide_approve_promotion(playbook: Playbook, actor: str) -> list[Event]:
    """The second person: never whoever registered, revised or imported the current version,
    and only for what the gate has seen (a successful first run, every local change done)."""
    playbook_id = _changeable_id(playbook)
    unseen = [item for item in missing_for_promotion(playbook) if item != "promotion_approval"]
    if unseen:
        raise GateNotSatisfied("approve after the first run and the local changes", missing=unseen)
    if same_person(actor, playbook.defined_by):
        raise GateNotSatisfied(
            "the author of a version cannot approve it",
            missing=["promotion_approval.second_person"],
        )
    if among(actor, playbook.promotion_approvals):
        raise StateConflict(f"{actor} has already approved this version")
    return [
        PlaybookPromotionApproved(
            playbook_id=playbook_id, approved_by=actor, content_hash=playbook.content_hash
        )
    ]


def missing_for_promotion(playbook: Playbook) -> list[str]:
    """Promotion gate, everything at once: a successful first run of this version in staging or
    read-only, every local change done, and a second person's approval."""
    run = playbook.first_run
    missing = [] if run is not None and run.succeeded else ["first_run.succeeded"]
    missing += [f"local_changes.{change_id}.done" for change_id in playbook.open_local_changes()]
    if all(same_person(actor, playbook.defined_by) for actor in playbook.promotion_approvals):
        missing.append("promotion_approval")
    return missing


def decide_promote(playbook: Playbook, actor: str) -> list[Event]:
    playbook_id = _changeable_id(playbook)
    missing = missing_for_promotion(playbook)
    if missing:
        raise GateNotSatisfied("the playbook cannot be promoted yet", missing=missing)
    return [
        PlaybookPromoted(
            playbook_id=playbook_id, promoted_by=actor, content_hash=playbook.content_hash
        )
    ]
