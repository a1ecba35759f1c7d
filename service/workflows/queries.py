"""Views folded from the workflow stream and its runs' streams: the workflow, its run history,
and its explanation."""

from __future__ import annotations

from datetime import datetime

from events.catalogue import CATALOGUE
from events.domain.kill_switches import KillSwitches
from events.domain.run_state import RUN_EVENTS, Run, diagnostics_summary
from events.domain.workflow_events import (
    WorkflowPaused,
    WorkflowPromoted,
    WorkflowRegistered,
    WorkflowRevised,
)
from events.domain.workflows import PAUSING_ROLES, Workflow
from events.errors import NotFound
from events.store import EventStore
from service.attempts import Loaded
from service.pagination import CursorCodec, CursorKey, KeyInt
from service.workflows.run_reads import run_page
from service.workflows.schemas import (
    ApprovalView,
    Evidence,
    KillSwitchStatus,
    KillSwitchView,
    RunHistory,
    RunView,
    WorkflowExplanation,
    WorkflowView,
)


def _registered(loaded: Loaded[Workflow]) -> Workflow:
    if loaded.state.workflow_id is None or loaded.state.site_id is None:
        raise NotFound("workflow not found")
    return loaded.state


def workflow_view(loaded: Loaded[Workflow]) -> WorkflowView:
    workflow = _registered(loaded)
    assert workflow.workflow_id is not None
    assert workflow.site_id is not None
    return WorkflowView(
        workflow_id=workflow.workflow_id,
        site_id=workflow.site_id,
        definition=workflow.definition,
        revision=workflow.revision,
        environment=workflow.environment,
        read_only=workflow.read_only,
        paused=workflow.paused,
        paused_by=workflow.paused_by,
        pause_reason=workflow.pause_reason,
        version=loaded.version,
    )


def run_view(workflow: Workflow, run: Run, now: datetime) -> RunView:
    valid = workflow.valid_approvers(run, now)
    approvals = [
        ApprovalView(
            approved_by=a.approved_by,
            revision=a.revision,
            approved_at=a.approved_at,
            expires_at=a.expires_at,
            valid=a.approved_by in valid and a.revision == workflow.revision and a.expires_at > now,
        )
        for a in run.approvals
    ]
    return RunView(
        run_id=run.run_id,
        requested_by=run.requested_by,
        revision=run.revision,
        approvals_required=workflow.approvals_required(),
        approvals=approvals,
        rejected_by=run.rejected_by,
        rejection_reason=run.rejection_reason,
        outcome=run.outcome,
        affected_records=run.affected_records,
        cost=run.cost,
        diagnostics_summary=diagnostics_summary(run.diagnostics),
        notification_sent=run.notification_sent,
        reviewed_by=run.reviewed_by,
        violations=run.violations,
    )


class RunKey(CursorKey):
    """Where a page of runs ends: the position of its last run's request."""

    requested_position: KeyInt


WORKFLOW_RUNS = CursorCodec("list-workflow-runs", RunKey)


async def run_history(
    store: EventStore,
    loaded: Loaded[Workflow],
    now: datetime,
    after: RunKey | None,
    limit: int,
    *,
    as_of: datetime | None = None,
) -> RunHistory:
    """Runs in request order, a page at a time; with `as_of`, as they stood then (`now` is
    then `as_of`: an approval counts if it was valid at that moment)."""
    workflow = _registered(loaded)
    start = after.requested_position if after else 0
    found = await run_page(store, workflow, start, limit + 1, as_of=as_of)
    keyed = [
        (RunKey(requested_position=r.requested_position), run_view(workflow, r.run, now))
        for r in found
    ]
    items, next_cursor = WORKFLOW_RUNS.page(keyed, limit)
    return RunHistory(items=items, next_cursor=next_cursor, limit=limit)


async def explain(
    store: EventStore, loaded: Loaded[Workflow], now: datetime, *, as_of: datetime | None = None
) -> WorkflowExplanation:
    """Owner, last run, its approvals and result, who can pause, and the events that say so;
    with `as_of` (and `loaded` folded as of then), as an auditor would have read it then."""
    workflow = _registered(loaded)
    assert workflow.workflow_id is not None
    newest = await run_page(store, workflow, 0, 1, newest_first=True, as_of=as_of)
    last = newest[0] if newest else None
    last_run = last.run if last else None
    definition: list[Evidence] = []
    pause: list[Evidence] = []
    run: list[Evidence] = []
    # An old-shape stream holds its runs' events too; a run's own stream comes after them.
    for stored in [*loaded.events, *(last.events if last else [])]:
        event = CATALOGUE.decode(stored)
        cited = Evidence(claim="", event_id=str(stored.event_id), type=stored.type)
        if isinstance(event, WorkflowRegistered | WorkflowRevised):
            definition = [cited.model_copy(update={"claim": "owner and definition"})]
        elif isinstance(event, WorkflowPromoted):
            definition.append(cited.model_copy(update={"claim": "promoted to production"}))
        elif isinstance(event, WorkflowPaused):
            pause = [cited.model_copy(update={"claim": "paused"})]
        elif isinstance(event, RUN_EVENTS) and last_run and event.run_id == last_run.run_id:
            run.append(cited.model_copy(update={"claim": f"last run: {stored.type}"}))
    owner = workflow.definition.owner
    return WorkflowExplanation(
        workflow_id=workflow.workflow_id,
        owner=owner,
        environment=workflow.environment,
        read_only=workflow.read_only,
        state="paused" if workflow.paused else "active",
        paused_by=workflow.paused_by,
        pause_reason=workflow.pause_reason,
        who_can_pause=[*([owner] if owner else []), *(f"role:{r}" for r in sorted(PAUSING_ROLES))],
        last_run=run_view(workflow, last_run, now) if last_run else None,
        evidence=[*definition, *(pause if workflow.paused else []), *run],
    )


def kill_switch_status(site_id: str, loaded: Loaded[KillSwitches]) -> KillSwitchStatus:
    engaged = [
        KillSwitchView(category=category, engaged_by=e.engaged_by, reason=e.reason)
        for category, e in sorted(loaded.state.engaged.items())
    ]
    return KillSwitchStatus(site_id=site_id, engaged=engaged, version=loaded.version)
