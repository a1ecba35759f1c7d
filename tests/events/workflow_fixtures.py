"""Givens shared by the workflow decider tests: a definition, events, folding."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from events.catalogue import Event
from events.domain.kill_switches import KILL_SWITCHES, KillSwitchEngaged, KillSwitches
from events.domain.run_state import Run
from events.domain.workflow_events import (
    RunApproved,
    RunRequested,
    RunResultRecorded,
    RunReviewed,
    WorkflowDefinition,
    WorkflowRegistered,
)
from events.domain.workflows import WORKFLOWS, Workflow

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
WF = "nightly-seo"
SITE = "acme-shop"

DEFINITION: dict[str, Any] = {
    "owner": "dana",
    "category": "content",
    "trigger": "nightly at 02:00",
    "input_scope": "published posts of the last 7 days",
    "expected_output": "meta descriptions written to the posts",
    "writes_data": True,
    "contacts_customers": False,
    "approvals_required": 2,
    "retry_limit": 3,
    "notification_path": "#ops-alerts",
    "pause_rule": "pause after provider changes or 3 failures",
    "rollback_path": "restore post revisions",
}


def definition(**overrides: Any) -> WorkflowDefinition:
    return WorkflowDefinition(**{**DEFINITION, **overrides})


def registered(**overrides: Any) -> WorkflowRegistered:
    return WorkflowRegistered(
        workflow_id=WF,
        site_id=SITE,
        definition=definition(**overrides),
        defined_by="devon",
        environment="staging",
        read_only=True,
        asked_environment="staging",
        asked_read_only=True,
    )


def requested(run_id: str = "r1", by: str = "erin", revision: int = 1) -> RunRequested:
    return RunRequested(
        workflow_id=WF,
        run_id=run_id,
        requested_by=by,
        revision=revision,
        environment="staging",
        read_only=True,
        approvals_required=2,
    )


def approved(
    run_id: str = "r1", by: str = "olga", at: datetime = NOW, revision: int = 1
) -> RunApproved:
    return RunApproved(
        workflow_id=WF,
        run_id=run_id,
        approved_by=by,
        revision=revision,
        approved_at=at,
        expires_at=at + timedelta(hours=24),
    )


def result(run_id: str = "r1", outcome: str = "succeeded") -> RunResultRecorded:
    return RunResultRecorded.model_validate(
        {
            "workflow_id": WF,
            "run_id": run_id,
            "outcome": outcome,
            "recorded_by": "plugin",
            "affected_records": 12,
            "cost": 0.4,
            "diagnostics": "timeout" if outcome == "failed" else None,
            "notification_sent": outcome == "failed",
        }
    )


def reviewed(run_id: str = "r1") -> RunReviewed:
    return RunReviewed(workflow_id=WF, run_id=run_id, reviewed_by="olga", summary="looks right")


def approved_success(run_id: str) -> list[Event]:
    """A run that was requested, approved twice, succeeded and was reviewed."""
    return [
        requested(run_id),
        approved(run_id, "olga"),
        approved(run_id, "omar"),
        result(run_id),
        reviewed(run_id),
    ]


def fold(events: Iterable[Event]) -> Workflow:
    return WORKFLOWS.fold(events)


def states(events: Iterable[Event], run_id: str = "r1") -> tuple[Workflow, Run]:
    """The workflow and one run, from events as the previous version stored them (runs inside
    the workflow stream): the rules must decide the same on those."""
    workflow = fold(events)
    return workflow, workflow.legacy_runs.get(run_id, Run())


def switches(*categories: str) -> KillSwitches:
    return KILL_SWITCHES.fold(
        KillSwitchEngaged(site_id=SITE, category=c, engaged_by="sam", reason="provider outage")
        for c in categories
    )
