"""HTTP models of the read-model endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from events.domain.incident_events import EscalationTarget, IncidentSeverity, PreventionKind


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
