"""Promotion: from staging and read-only to production writes, once the SOP's evidence is in."""

from __future__ import annotations

from events.catalogue import Event
from events.domain.sites import SiteFacts
from events.domain.workflow_events import WorkflowPromoted
from events.domain.workflows import Workflow, registered_id
from events.errors import GateNotSatisfied, StateConflict


def successful_reviewed_runs(workflow: Workflow) -> list[str]:
    return [
        run_id
        for run_id in workflow.results
        if workflow.runs[run_id].revision == workflow.revision
        and workflow.runs[run_id].outcome == "succeeded"
        and workflow.runs[run_id].reviewed_by is not None
    ]


def missing_for_promotion(workflow: Workflow, actor: str, site: SiteFacts) -> list[str]:
    """Promotion gate. The second person: the promoter is neither the workflow's owner nor the
    person who defined its current revision, so no one puts their own automation into production."""
    missing: list[str] = []
    if len(successful_reviewed_runs(workflow)) < workflow.definition.promotion_runs:
        missing.append("runs.successful_reviewed")
    current = [r for r in workflow.results if workflow.runs[r].revision == workflow.revision]
    if current and workflow.runs[current[-1]].outcome == "failed":
        missing.append("runs.success_after_last_failure")
    if not (site.rollback_path or site.support_path):
        missing.append("site.rollback_path")
    if actor in (workflow.definition.owner, workflow.defined_by):
        missing.append("approval.second_person")
    if workflow.paused:
        missing.append("workflow.resumed")
    return missing


def decide_promote(workflow: Workflow, actor: str, reason: str, site: SiteFacts) -> list[Event]:
    workflow_id = registered_id(workflow)
    if workflow.environment == "production" and not workflow.read_only:
        raise StateConflict(f"workflow {workflow_id} already runs production writes")
    missing = missing_for_promotion(workflow, actor, site)
    if missing:
        raise GateNotSatisfied("the workflow cannot be promoted yet", missing=missing)
    return [
        WorkflowPromoted(
            workflow_id=workflow_id,
            revision=workflow.revision,
            promoted_by=actor,
            successful_runs=successful_reviewed_runs(workflow),
            reason=reason,
        )
    ]
