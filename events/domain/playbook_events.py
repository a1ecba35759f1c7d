"""Playbook events and the content model: what the playbook import/export SOP asks to be on the
record.

Everything about one playbook on one site lives in its stream (`playbook-<id>`): its versions
(registered, revised or imported), the exports that left it, the local changes an import requires,
the first run in staging or read-only, and the second person's approval before production.

The content is plain JSON all the way down (no opaque blobs, no encoded fields), so that the
redaction scan of an exported or imported document sees every value and every key name.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_validator

from events.catalogue import CATALOGUE, Event, Severity
from events.domain.workflow_events import Environment
from events.envelope import inexact_numbers

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

    @field_validator("default")
    @classmethod
    def _exact(cls, value: JsonValue) -> JsonValue:
        # The content is hashed as RFC 8785 JSON, which has no NaN and no integers beyond 2^53.
        if inexact_numbers(value):
            raise ValueError("numbers must be finite and within +/-(2^53 - 1)")
        return value


class ApprovalBoundaries(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    approvals_required: int = Field(default=0, ge=0)
    steps_requiring_approval: tuple[str, ...] = ()


NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN)]
Names = Annotated[tuple[Name, ...], Field(max_length=32)]


class PlaybookAssumptions(BaseModel):
    """What a playbook assumes of the site it runs on; the same shape states a target site's own
    facts at import, so that the two compare field by field.

    Every value is a name, never a text: a playbook names the provider, the policies and the
    conventions it assumes (`coupon_rules: "max-10-percent"`), and each site keeps the text of
    its own policies. So an export cannot carry one client's private policy or a key to another,
    and a name that differs on the target site becomes a local change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Name | None = None
    knowledge_base_sources: Names = ()
    roles: Names = ()
    approval_policy: Name | None = None
    product_language: Name | None = None
    coupon_rules: Name | None = None
    order_status_conventions: Names = ()
    support_ownership: Name | None = None


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

    name: str = Field(max_length=200)
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
