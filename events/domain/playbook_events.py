"""Playbook events and the content model: what the playbook import/export SOP asks to be on the
record.

Everything about one playbook on one site lives in its stream (`playbook-<id>`): its versions
(registered, revised or imported), the exports that left it, the local changes an import requires,
the first run in staging or read-only, and the second person's approval before production.

The content is plain JSON all the way down (no opaque blobs, no encoded fields), so that the
redaction scan of an exported or imported document sees every value and every key name.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from events.catalogue import CATALOGUE, Event, Severity
from events.domain.workflow_events import Environment

InputType = Literal["string", "number", "boolean", "date", "choice"]
ChangeAction = Literal["adapt", "confirm"]
"""adapt: the target site states another value; confirm: the target site states nothing."""


class PlaybookStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    step_id: str
    title: str
    prompt_template: str
    tool: str | None = None
    writes_data: bool = False
    contacts_customers: bool = False


class PlaybookInput(BaseModel):
    """A structured input the operator fills in before a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    type: InputType
    required: bool = False
    default: JsonValue = None
    choices: tuple[str, ...] = ()
    description: str = ""


class ApprovalBoundaries(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    approvals_required: int = Field(default=0, ge=0)
    steps_requiring_approval: tuple[str, ...] = ()


class PlaybookAssumptions(BaseModel):
    """What a playbook assumes of the site it runs on; the same shape states a target site's own
    facts at import, so that the two compare field by field. Nothing here is a secret: a provider
    is named, never keyed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str | None = None
    knowledge_base_sources: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    approval_policy: str | None = None
    product_language: str | None = None
    coupon_rules: str | None = None
    order_status_conventions: tuple[str, ...] = ()
    support_ownership: str | None = None


ASSUMPTION_FIELDS = (
    "provider",
    "knowledge_base_sources",
    "roles",
    "approval_policy",
    "product_language",
    "coupon_rules",
    "order_status_conventions",
    "support_ownership",
)


class PlaybookContent(BaseModel):
    """The repeatable structure of a playbook: what is exported, hashed and signed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    steps: tuple[PlaybookStep, ...]
    inputs: tuple[PlaybookInput, ...] = ()
    approval_boundaries: ApprovalBoundaries = ApprovalBoundaries()
    assumptions: PlaybookAssumptions = PlaybookAssumptions()


class LocalChange(BaseModel):
    """One assumption the target site does not meet as stated: localize it before production."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    change_id: str
    """The assumption's name: "provider", "knowledge_base_sources"..."""
    assumption: JsonValue
    """What the playbook assumes."""
    target: JsonValue = None
    """What the target site states; None when it states nothing."""
    action: ChangeAction


class PlaybookProvenance(BaseModel):
    """Where an exported playbook comes from. No site-local id but the source site's own name:
    not the playbook's id, not a run id, no actor but the owner."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_site: str
    lineage: str
    """The content hash of the playbook's first version, kept across sites and versions."""
    exported_at: AwareDatetime
    version: int = Field(ge=1)
    owner: str
    content_hash: str
    export_id: str


class ImportedProvenance(PlaybookProvenance):
    """The provenance as recorded at import, with the key id the document was verified with."""

    kid: str


@CATALOGUE.event
class PlaybookRegistered(Event):
    """A new playbook, always in staging and read-only."""

    severity = Severity.NOTICE

    playbook_id: str
    site_id: str
    owner: str
    content: PlaybookContent
    content_hash: str
    version: int = 1
    registered_by: str


@CATALOGUE.event
class PlaybookRevised(Event):
    """A new version: back to staging and read-only; the first run and approvals no longer count."""

    severity = Severity.NOTICE

    playbook_id: str
    content: PlaybookContent
    content_hash: str
    version: int
    revised_by: str


@CATALOGUE.event
class PlaybookExported(Event):
    """A signed, portable copy of one version left the ledger."""

    severity = Severity.NOTICE

    playbook_id: str
    export_id: str
    content_hash: str
    version: int
    exported_by: str
    exported_at: AwareDatetime
    kid: str


@CATALOGUE.event
class PlaybookImported(Event):
    """A version from another site, in staging and read-only, with the local changes it needs.
    The same stream takes later versions of the same lineage."""

    severity = Severity.NOTICE

    playbook_id: str
    site_id: str
    owner: str
    content: PlaybookContent
    content_hash: str
    version: int
    provenance: ImportedProvenance
    target_facts: PlaybookAssumptions
    """The target site's facts as stated at import, kept to explain the local changes."""
    local_changes: list[LocalChange]
    imported_by: str


@CATALOGUE.event
class LocalChangeCompleted(Event):
    severity = Severity.NOTICE

    playbook_id: str
    change_id: str
    completed_by: str
    note: str | None = None


@CATALOGUE.event
class PlaybookFirstRunRecorded(Event):
    playbook_id: str
    run_id: str
    content_hash: str
    """The version the run exercised: a later version needs its own first run."""
    succeeded: bool
    environment: Environment
    read_only: bool
    summary: str
    recorded_by: str


@CATALOGUE.event
class PlaybookPromotionApproved(Event):
    """A second person's approval of one version for production."""

    severity = Severity.NOTICE

    playbook_id: str
    approved_by: str
    content_hash: str


@CATALOGUE.event
class PlaybookPromoted(Event):
    """From staging and read-only to production."""

    severity = Severity.WARNING

    playbook_id: str
    promoted_by: str
    content_hash: str
    environment: Environment = "production"
