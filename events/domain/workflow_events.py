"""Workflow and run events: what the workflow-safety SOP asks to be on the record.

Aggregates sized by their consistency boundary: a run is its own stream (`run-<workflow>:<run>`,
run_stream_id) holding its request, approvals, rejection, result, reviews and violations; the
workflow stream (`workflow-<id>`) holds the definition, revisions, mode, pause state, links, and
the two counts the workflow's rules need from its runs (the failure streak, the reviewed
successes of the revision), recorded in the same atomic append as the run event they count. So
a run command reads two short streams, whatever the number of runs.

Streams written before runs had streams of their own hold run events in the workflow stream:
events/domain/workflows.py folds those too (see `legacy_runs` there).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from events.catalogue import CATALOGUE, Event, Severity

SYSTEM_ACTOR = "system"
"""Who pauses a workflow automatically (failures reaching the retry limit, a violation)."""

Outcome = Literal["succeeded", "failed"]
Environment = Literal["staging", "production"]


class WorkflowDefinition(BaseModel):
    """What the SOP's production checklist requires before a task becomes automation."""

    model_config = ConfigDict(frozen=True)

    owner: str | None = None
    category: str | None = None
    trigger: str | None = None
    input_scope: str | None = None
    expected_output: str | None = None
    writes_data: bool | None = None
    contacts_customers: bool | None = None
    approvals_required: int | None = None
    """Distinct approvers a run that writes or contacts customers needs."""
    retry_limit: int | None = None
    """Consecutive failed runs that pause the workflow automatically."""
    notification_path: str | None = None
    pause_rule: str | None = None
    rollback_path: str | None = None
    approval_ttl_hours: int = 24
    promotion_runs: int = 3
    """Successful reviewed runs (of the current revision) before promotion to production."""

    @property
    def has_side_effects(self) -> bool:
        return bool(self.writes_data or self.contacts_customers)


DEFINITION_FIELDS = (
    "owner",
    "category",
    "trigger",
    "input_scope",
    "expected_output",
    "writes_data",
    "contacts_customers",
    "approvals_required",
    "retry_limit",
    "notification_path",
    "pause_rule",
    "rollback_path",
)


@CATALOGUE.event
class WorkflowRegistered(Event):
    """A new workflow, always in staging and read-only, whatever was asked."""

    severity = Severity.NOTICE

    workflow_id: str
    site_id: str
    definition: WorkflowDefinition
    defined_by: str
    environment: Environment
    read_only: bool
    asked_environment: Environment
    asked_read_only: bool


@CATALOGUE.event
class WorkflowRevised(Event):
    """A new revision: back to staging and read-only; pending approvals no longer count."""

    severity = Severity.NOTICE

    workflow_id: str
    revision: int
    definition: WorkflowDefinition
    defined_by: str
    invalidated_approvals: list[str]
    """Runs whose pending approvals this revision invalidated."""


@CATALOGUE.event
class WorkflowPaused(Event):
    severity = Severity.WARNING

    workflow_id: str
    paused_by: str
    reason: str
    automatic: bool = False
    failed_runs: list[str] = []
    """The failures (or the violation) an automatic pause cites."""


@CATALOGUE.event
class IncidentLinked(Event):
    """An incident names this workflow: it resumes only once that incident's prevention actions
    and regression check are done."""

    severity = Severity.WARNING

    workflow_id: str
    incident_id: str
    linked_by: str


@CATALOGUE.event
class WorkflowResumed(Event):
    severity = Severity.NOTICE

    workflow_id: str
    resumed_by: str
    reason: str | None
    """Required since restarts became decisions with reasons; older events may have none."""
    restart_criteria_met: list[str] = []
    """The linked incidents whose restart criteria the resumer confirmed met."""


@CATALOGUE.event
class WorkflowPromoted(Event):
    """From staging and read-only to production writes."""

    severity = Severity.WARNING

    workflow_id: str
    revision: int
    promoted_by: str
    successful_runs: list[str]
    reason: str


def run_stream_id(workflow_id: str, run_id: str) -> str:
    """The run's stream. ":" is in neither id's alphabet, so no two runs share a stream (with
    "-" the run "b-c" of workflow "a" and the run "c" of workflow "a-b" would)."""
    return f"run-{workflow_id}:{run_id}"


@CATALOGUE.event
class FailedRunCounted(Event):
    """In the workflow stream, with a failed run's result: the failure streak that pauses the
    workflow at its retry limit grows by this run."""

    workflow_id: str
    run_id: str
    revision: int


@CATALOGUE.event
class FailuresCleared(Event):
    """In the workflow stream, with a success that ends a failure streak (or follows a failure
    of the current revision): the streak starts again from zero."""

    workflow_id: str
    run_id: str
    revision: int


@CATALOGUE.event
class ReviewedSuccessCounted(Event):
    """In the workflow stream, with the review of a successful run of the current revision,
    until the revision has the reviewed successes its promotion needs."""

    workflow_id: str
    run_id: str
    revision: int


@CATALOGUE.event
class RunRequested(Event):
    workflow_id: str
    run_id: str
    requested_by: str
    revision: int
    environment: Environment
    read_only: bool
    approvals_required: int
    inputs: str | None = None


@CATALOGUE.event
class RunApproved(Event):
    """An approval of one run for one workflow revision, until it expires."""

    severity = Severity.NOTICE

    workflow_id: str
    run_id: str
    approved_by: str
    revision: int
    approved_at: datetime
    expires_at: datetime


@CATALOGUE.event
class RunRejected(Event):
    severity = Severity.NOTICE

    workflow_id: str
    run_id: str
    rejected_by: str
    reason: str


@CATALOGUE.event
class RunResultRecorded(Event):
    workflow_id: str
    run_id: str
    outcome: Outcome
    recorded_by: str
    affected_records: int
    cost: float
    diagnostics: str | None
    notification_sent: bool


@CATALOGUE.event
class RunReviewed(Event):
    workflow_id: str
    run_id: str
    reviewed_by: str
    summary: str


@CATALOGUE.event
class RunViolationRecorded(Event):
    """A result was reported for a run that lacked its approvals: the plugin should not have run
    it. The result is not accepted; this event is the record of the attempt."""

    severity = Severity.CRITICAL

    workflow_id: str
    run_id: str
    attempted_by: str
    outcome: Outcome
    missing: list[str]
