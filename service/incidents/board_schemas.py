"""HTTP models of the incident boards and the prevention actions by owner."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from events.domain.incident_events import EscalationTarget, IncidentSeverity, PreventionKind
from service.pagination import Page

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


class SiteIncidents(Page[IncidentCard]):
    items: list[IncidentCard] = Field(description="Most severe first, then oldest first.")


class AgencyIncidents(Page[IncidentCard]):
    items: list[IncidentCard] = Field(description="Most severe first, then oldest first.")


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


class PreventionActionsByOwner(Page[OwnerActions]):
    items: list[OwnerActions] = Field(description="By owner.")
