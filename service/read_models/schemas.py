"""HTTP models of the read-model endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from events.domain.incident_events import EscalationTarget, IncidentSeverity, PreventionKind
from events.domain.workflow_events import Environment


class DailyCount(BaseModel):
    day: date
    type: str
    count: int


class SiteActivityView(BaseModel):
    site_id: str
    agency_id: str | None
    last_position: int
    last_event_type: str
    last_event_at: datetime
    event_count: int
    open_items: dict[str, int] = Field(examples=[{"runs_pending": 2, "incidents_open": 0}])
    daily: list[DailyCount] = Field(description="Counts by day and event type, newest first.")


class AgencyActivity(BaseModel):
    agency_id: str
    sites: list[SiteActivityView]
    next_cursor: str | None


class RebuildStarted(BaseModel):
    projection: str
    status: str = Field(examples=["rebuilding"])


class WorkflowCard(BaseModel):
    """One workflow on a site's board."""

    workflow_id: str
    site_id: str | None
    agency_id: str | None
    category: str | None
    owner: str | None
    mode: Literal["read-only", "write"]
    environment: Literal["staging", "production"]
    state: Literal["active", "paused"]
    paused_by: str | None
    pause_reason: str | None
    revision: int
    last_run_id: str | None = Field(description="The most recently requested run.")
    last_run_result: str | None = Field(
        description='"succeeded", "failed" or "rejected"; null while the run is open.'
    )
    last_event_position: int
    version: int = Field(description="The workflow stream's version this card reflects.")


class SiteWorkflows(BaseModel):
    site_id: str
    workflows: list[WorkflowCard]
    next_cursor: str | None


class PendingApproval(BaseModel):
    """A run waiting for approvals."""

    site_id: str | None
    agency_id: str | None
    workflow_id: str
    run_id: str
    requested_by: str
    requested_at: datetime
    approvals_required: int
    approvals: list[str] = Field(description="Who has approved it so far.")


class PendingApprovals(BaseModel):
    approvals: list[PendingApproval]
    next_cursor: str | None


IncidentStatus = Literal["open", "closed"]


class IncidentCard(BaseModel):
    """One incident on a board."""

    incident_id: str = Field(examples=["checkout-500s"])
    site_id: str | None = Field(examples=["acme-shop"])
    agency_id: str | None = Field(examples=["northwind-agency"])
    severity: IncidentSeverity | None = Field(examples=["high"])
    summary: str | None = Field(examples=["Checkout answers 500 after the payment plugin update"])
    occurred_at: datetime | None = Field(
        examples=["2026-11-22T01:58:00Z"], description="When the failure happened."
    )
    opened_at: datetime = Field(
        examples=["2026-11-22T02:10:04.512000Z"], description="When the incident was recorded."
    )
    age_seconds: int = Field(
        examples=[5400], description="Seconds since the failure occurred, at the time of the query."
    )
    status: IncidentStatus = Field(examples=["open"], description="Reopening makes it open again.")
    escalation: EscalationTarget | None = Field(
        examples=["provider_support"], description="Where the incident was escalated, if decided."
    )
    prevention_actions_open: int = Field(examples=[1])
    prevention_actions_total: int = Field(examples=[2])
    last_position: int = Field(
        examples=[1842], description="Position of the incident's latest event on the board."
    )


class SiteIncidents(BaseModel):
    site_id: str = Field(examples=["acme-shop"])
    status: Literal["open", "closed", "all"] = Field(examples=["open"])
    incidents: list[IncidentCard] = Field(description="Most severe first, then oldest first.")
    next_cursor: str | None = Field(examples=[None])


class AgencyIncidents(BaseModel):
    agency_id: str = Field(examples=["northwind-agency"])
    status: Literal["open", "closed", "all"] = Field(examples=["open"])
    incidents: list[IncidentCard] = Field(description="Most severe first, then oldest first.")
    next_cursor: str | None = Field(examples=[None])


class PreventionActionItem(BaseModel):
    """A prevention action of an incident's review."""

    incident_id: str = Field(examples=["checkout-500s"])
    action_id: str = Field(examples=["pin-plugin-version"])
    site_id: str | None = Field(examples=["acme-shop"])
    agency_id: str | None = Field(examples=["northwind-agency"])
    kind: PreventionKind = Field(examples=["test"])
    description: str = Field(examples=["Add a checkout smoke test to the plugin update runbook"])
    owner: str = Field(examples=["devon@acme.example"])
    due_on: date = Field(examples=["2026-12-01"])
    completed: bool = Field(examples=[False])
    completed_by: str | None = Field(examples=[None])
    incident_severity: IncidentSeverity | None = Field(examples=["high"])
    overdue: bool = Field(examples=[True], description="Not completed and due before today (UTC).")


class OwnerActions(BaseModel):
    owner: str = Field(examples=["devon@acme.example"])
    actions: list[PreventionActionItem] = Field(description="Overdue ones first, then by due date.")


class PreventionActionsByOwner(BaseModel):
    owners: list[OwnerActions] = Field(description="By owner.")
    next_cursor: str | None = Field(examples=[None])


CONTENT_HASH_EXAMPLE = "sha256:5f1c0a3e9b7d24c86e0f4a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f"


class FirstRunResult(BaseModel):
    """The latest first run of a deployment's current version."""

    run_id: str = Field(examples=["first-run-2026-11-23"])
    succeeded: bool = Field(examples=[True])
    environment: Environment = Field(examples=["staging"])
    read_only: bool = Field(examples=[True])


class PlaybookDeployment(BaseModel):
    """One playbook on one site: a deployment of its lineage."""

    playbook_id: str = Field(examples=["refund-triage"])
    site_id: str | None = Field(examples=["client-shop"])
    agency_id: str | None = Field(examples=["northwind-agency"])
    lineage: str = Field(
        examples=[CONTENT_HASH_EXAMPLE],
        description="The content hash of the playbook's first version, the same on every site.",
    )
    name: str = Field(examples=["Refund request triage"])
    owner: str = Field(examples=["dana@client-shop.example"], description="This site's owner.")
    version: int = Field(
        examples=[1], description="This site's version number (each import counts as one)."
    )
    source_version: int = Field(
        examples=[3],
        description="The version's number on the site it was exported from; for a playbook "
        "registered here, its own version.",
    )
    content_hash: str = Field(examples=[CONTENT_HASH_EXAMPLE])
    imported: bool = Field(examples=[True])
    source_site: str | None = Field(
        examples=["agency-demo-shop"],
        description="The site the imported version was exported from; null for a playbook "
        "registered here.",
    )
    exported_at: datetime | None = Field(
        examples=["2026-11-22T10:00:00Z"],
        description="Imported: when the source site exported this version. Registered here: its "
        "latest export, if any.",
    )
    environment: Environment = Field(examples=["staging"])
    read_only: bool = Field(examples=[True])
    local_changes_open: list[str] = Field(
        examples=[["provider"]], description="Assumptions still to localize before production."
    )
    local_changes_done: list[str] = Field(examples=[["roles"]])
    first_run: FirstRunResult | None = Field(
        description="The current version's first run; null until one is recorded (a new "
        "version needs its own)."
    )
    promotion_approvals: int = Field(
        examples=[0], description="Approvals of the current version for production."
    )
    drift: bool = Field(
        examples=[True],
        description="Runs other content than its lineage's reference version (see the route).",
    )
    last_position: int = Field(examples=[2310])
    updated_at: datetime = Field(examples=["2026-11-23T09:12:40.118000Z"])


class PlaybookLineage(BaseModel):
    """A playbook across the agency's sites: every deployment of one lineage."""

    lineage: str = Field(examples=[CONTENT_HASH_EXAMPLE])
    name: str = Field(examples=["Refund request triage"], description="The reference's name.")
    owner: str = Field(examples=["dana@agency.example"], description="The reference's owner.")
    source_site: str | None = Field(
        examples=["agency-demo-shop"],
        description="Where the lineage was registered, if visible; else where the reference "
        "version was exported from.",
    )
    latest_version: int = Field(examples=[3], description="The reference's version at its source.")
    latest_content_hash: str = Field(
        examples=[CONTENT_HASH_EXAMPLE],
        description="The reference content, which every deployment is compared with (drift).",
    )
    deployments: list[PlaybookDeployment] = Field(description="By site id.")


class AgencyPlaybooks(BaseModel):
    agency_id: str = Field(examples=["northwind-agency"])
    playbooks: list[PlaybookLineage] = Field(description="By name, one entry per lineage.")
    next_cursor: str | None = Field(examples=[None])


class SitePlaybooks(BaseModel):
    site_id: str = Field(examples=["client-shop"])
    playbooks: list[PlaybookDeployment] = Field(description="By name.")
    next_cursor: str | None = Field(examples=[None])
