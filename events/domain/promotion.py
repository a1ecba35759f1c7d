"""Promotion: from staging and read-only to production writes, once the SOP's evidence is in."""

from __future__ import annotations

from events.catalogue import Event
from events.domain.identity import among
from events.domain.required_text import is_blank
from events.domain.row_rules import row_rule
from events.domain.sites import SiteFacts
from events.domain.workflow_events import WorkflowPromoted
from events.domain.workflows import Workflow, registered_id
from events.errors import GateNotSatisfied, StateConflict

row_rule(
    "promote-workflow",
    "never by the workflow's owner or the author of its current revision; needs the reviewed "
    "successful runs (reviews by the runs' requesters do not count) and the site's rollback or "
    "support path",
)


def missing_for_promotion(workflow: Workflow, actor: str, site: SiteFacts) -> list[str]:
    """Promotion gate. The second person: the promoter is neither the workflow's owner nor the
    person who defined its current revision, so no one puts their own automation into production."""
    missing: list[str] = []
    # Counted in the workflow's own stream as runs are reviewed (ReviewedSuccessCounted), so
    # promotion reads no run.
    if workflow.needs_reviewed_successes():
        missing.append("runs.successful_reviewed")
    if workflow.last_outcome_in_revision == "failed":
        missing.append("runs.success_after_last_failure")
    if is_blank(site.rollback_path) and is_blank(site.support_path):
        missing.append("site.rollback_path")
    if among(actor, (workflow.definition.owner, workflow.defined_by)):
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
            successful_runs=list(workflow.reviewed_successes),
            reason=reason,
        )
    ]
