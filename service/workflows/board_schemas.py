"""HTTP models of the workflow board and the approval queue."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from service.pagination import Page


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


class SiteWorkflows(Page[WorkflowCard]):
    items: list[WorkflowCard] = Field(description="By workflow id.")


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


class PendingApprovals(Page[PendingApproval]):
    items: list[PendingApproval] = Field(description="Oldest request first.")
