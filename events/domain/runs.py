"""Run deciders: request, approve, reject, review and record the result of a workflow run.

Each takes the workflow's state and the run's (two streams) and says what each stream gets; the
command appends both at the versions it read, in one transaction. `now` is always an argument:
approvals expire, and a decider never reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from events.catalogue import Event
from events.domain.identity import among, same_person
from events.domain.kill_switches import KillSwitches
from events.domain.required_text import is_blank, require
from events.domain.row_rules import row_rule
from events.domain.run_state import Run
from events.domain.workflow_events import (
    SYSTEM_ACTOR,
    FailedRunCounted,
    FailuresCleared,
    Outcome,
    ReviewedSuccessCounted,
    RunApproved,
    RunRejected,
    RunRequested,
    RunResultRecorded,
    RunReviewed,
    RunViolationRecorded,
    WorkflowPaused,
)
from events.domain.workflow_gates import halt_blockers
from events.domain.workflows import Workflow
from events.errors import Forbidden, GateNotSatisfied, InvalidCommand, NotFound, StateConflict

row_rule("request-run", "refused while the workflow is paused or a kill switch covers it")
row_rule(
    "approve-run",
    "never by the run's requester (subjects compared case- and Unicode-insensitively); each "
    "approver counts once; refused while the workflow is paused or a kill switch covers it",
)
row_rule("reject-run", "needs a reason")
row_rule(
    "review-run",
    "needs a summary; the requester's own review never counts towards promotion",
)
row_rule(
    "record-run-result",
    "a success is refused while the workflow is paused or a kill switch covers it (a failure "
    "is still recorded); a result without the run's approvals is recorded as a violation and "
    "pauses the workflow",
)


@dataclass(frozen=True)
class RunChanges:
    """What a run command appends to the run's stream and to its workflow's."""

    run: list[Event]
    workflow: list[Event] = field(default_factory=list)

    @property
    def events(self) -> list[Event]:
        return [*self.run, *self.workflow]


def _workflow_id(workflow: Workflow) -> str:
    if workflow.workflow_id is None:
        raise NotFound("workflow not found")
    return workflow.workflow_id


def _requested(run: Run) -> str:
    if run.run_id is None:
        raise NotFound("run not found")
    return run.run_id


def decide_request(
    workflow: Workflow,
    run: Run,
    run_id: str,
    actor: str,
    kill_switches: KillSwitches,
    inputs: str | None = None,
) -> list[Event]:
    workflow_id = _workflow_id(workflow)
    if run.requested:
        raise StateConflict(f"run {run_id} was already requested")
    missing = halt_blockers(workflow, kill_switches)
    if missing:
        raise GateNotSatisfied("no run of this workflow can be requested now", missing=missing)
    return [
        RunRequested(
            workflow_id=workflow_id,
            run_id=run_id,
            requested_by=actor,
            revision=workflow.revision,
            environment=workflow.environment,
            read_only=workflow.read_only,
            approvals_required=workflow.approvals_required(),
            inputs=inputs,
        )
    ]


def _open_run(run: Run) -> str:
    run_id = _requested(run)
    if run.rejected_by is not None:
        raise StateConflict(f"run {run_id} was rejected")
    if run.outcome is not None:
        raise StateConflict(f"run {run_id} already has its result")
    return run_id


def decide_approve(
    workflow: Workflow, run: Run, actor: str, now: datetime, kill_switches: KillSwitches
) -> list[Event]:
    """A run requested before its workflow was paused, or before a kill switch covered it, is
    not approved while either holds: an approval is a go-ahead for now."""
    workflow_id = _workflow_id(workflow)
    run_id = _open_run(run)
    if same_person(actor, run.requested_by):
        raise Forbidden(
            "the requester of a run can never approve it", missing=["approval.second_person"]
        )
    halted = halt_blockers(workflow, kill_switches)
    if halted:
        raise GateNotSatisfied("no run of this workflow can be approved now", missing=halted)
    required = workflow.approvals_required()
    approvers = workflow.valid_approvers(run, now)
    if required == 0:
        raise StateConflict(
            f"run {run_id} needs no approval: it neither writes nor contacts customers"
        )
    if among(actor, approvers):
        raise StateConflict(f"you have already approved run {run_id}")
    if len(approvers) >= required:
        raise StateConflict(f"run {run_id} already has its {required} approval(s)")
    ttl = timedelta(hours=workflow.definition.approval_ttl_hours)
    return [
        RunApproved(
            workflow_id=workflow_id,
            run_id=run_id,
            approved_by=actor,
            revision=workflow.revision,
            approved_at=now,
            expires_at=now + ttl,
        )
    ]


def decide_reject(workflow: Workflow, run: Run, actor: str, reason: str) -> list[Event]:
    workflow_id = _workflow_id(workflow)
    run_id = _open_run(run)
    require("rejecting a run needs a reason", reason=reason)
    return [RunRejected(workflow_id=workflow_id, run_id=run_id, rejected_by=actor, reason=reason)]


def decide_review(workflow: Workflow, run: Run, actor: str, summary: str) -> RunChanges:
    """A reviewed success of the current revision also counts towards promotion, in the
    workflow's stream, until the revision has as many as promotion needs; a review by the run's
    requester is recorded but never counts, as their approval never does."""
    workflow_id = _workflow_id(workflow)
    run_id = _requested(run)
    if run.outcome is None:
        raise GateNotSatisfied("a run is reviewed after its result", missing=["result"])
    if run.reviewed_by is not None:
        raise StateConflict(f"run {run_id} was already reviewed")
    require("a review needs a summary", summary=summary)
    review = RunReviewed(workflow_id=workflow_id, run_id=run_id, reviewed_by=actor, summary=summary)
    counts = (
        run.outcome == "succeeded"
        and run.revision == workflow.revision
        and workflow.needs_reviewed_successes()
        and not same_person(actor, run.requested_by)
    )
    if not counts:
        return RunChanges([review])
    counted = ReviewedSuccessCounted(workflow_id=workflow_id, run_id=run_id, revision=run.revision)
    return RunChanges([review], [counted])


class RunResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    outcome: Outcome
    affected_records: int
    cost: float
    diagnostics: str | None = None
    notification_sent: bool = False


def missing_approvals(workflow: Workflow, run: Run, now: datetime) -> list[str]:
    """What a run lacks to have been allowed to run at all."""
    if run.rejected_by is not None:
        return ["run.not_rejected"]
    if len(workflow.valid_approvers(run, now)) < workflow.approvals_required():
        return ["approvals"]
    return []


def decide_record_result(
    workflow: Workflow,
    run: Run,
    result: RunResult,
    actor: str,
    now: datetime,
    kill_switches: KillSwitches,
) -> RunChanges:
    """A run without its approvals cannot have a result: the attempt is recorded as a violation
    (and pauses the workflow) instead. Callers answer a violation as a refusal. A failure
    counts in the workflow's failure streak, which pauses it at the retry limit. A success is
    refused while the workflow is paused or a kill switch covers it; a failure is still
    recorded then: it is evidence of what happened."""
    workflow_id = _workflow_id(workflow)
    run_id = _requested(run)
    if run.outcome is not None:
        raise StateConflict(f"run {result.run_id} already has its result")
    lacking = missing_approvals(workflow, run, now)
    if lacking:
        violation = RunViolationRecorded(
            workflow_id=workflow_id,
            run_id=run_id,
            attempted_by=actor,
            outcome=result.outcome,
            missing=lacking,
        )
        return RunChanges(
            [violation], _pause(workflow, "a run reported a result without its approvals", [run_id])
        )
    halted = halt_blockers(workflow, kill_switches)
    if result.outcome == "succeeded" and halted:
        raise GateNotSatisfied(
            "no success can be recorded while the workflow is stopped", missing=halted
        )
    if result.outcome == "failed":
        missing = ["diagnostics"] if is_blank(result.diagnostics) else []
        missing += [] if result.notification_sent else ["notification_sent"]
        if missing:
            raise InvalidCommand(
                "a failed run needs diagnostics and a notification", missing=missing
            )
    recorded = RunResultRecorded(
        workflow_id=workflow_id,
        run_id=run_id,
        outcome=result.outcome,
        recorded_by=actor,
        affected_records=result.affected_records,
        cost=result.cost,
        diagnostics=result.diagnostics,
        notification_sent=result.notification_sent,
    )
    if result.outcome == "succeeded":
        failed_before = workflow.failure_streak or (
            run.revision == workflow.revision and workflow.last_outcome_in_revision == "failed"
        )
        if not failed_before:
            return RunChanges([recorded])  # nothing the workflow counts: its stream stays short
        cleared = FailuresCleared(workflow_id=workflow_id, run_id=run_id, revision=run.revision)
        return RunChanges([recorded], [cleared])
    counted = FailedRunCounted(workflow_id=workflow_id, run_id=run_id, revision=run.revision)
    failures = [*workflow.failure_streak, run_id]
    limit = workflow.definition.retry_limit or 1
    if len(failures) < limit:
        return RunChanges([recorded], [counted])
    reason = f"{len(failures)} consecutive failed runs reached the retry limit of {limit}"
    return RunChanges([recorded], [counted, *_pause(workflow, reason, failures)])


def _pause(workflow: Workflow, reason: str, runs: list[str]) -> list[Event]:
    if workflow.paused:
        return []
    assert workflow.workflow_id is not None
    return [
        WorkflowPaused(
            workflow_id=workflow.workflow_id,
            paused_by=SYSTEM_ACTOR,
            reason=reason,
            automatic=True,
            failed_runs=runs,
        )
    ]


def is_violation(changes: RunChanges) -> bool:
    return any(isinstance(event, RunViolationRecorded) for event in changes.run)
