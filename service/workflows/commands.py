"""Workflow and run commands: load -> decide -> append.

A check that needs another stream's state (the site's rollback path, the site's kill switches)
loads that stream first and hands its state to the pure decider. Such a read is not locked: a
kill switch engaged while a run is being requested may land just after the request, which is the
order the log then shows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from events.catalogue import Event
from events.domain import runs
from events.domain.incident_links import decide_note_resume
from events.domain.incidents import INCIDENTS
from events.domain.kill_switches import (
    KILL_SWITCHES,
    KillSwitches,
    decide_engage,
    decide_release,
)
from events.domain.promotion import decide_promote
from events.domain.sites import SITES
from events.domain.workflow_events import RunViolationRecorded, WorkflowDefinition
from events.domain.workflows import (
    WORKFLOWS,
    RegisterWorkflow,
    Workflow,
    decide_pause,
    decide_register,
    decide_resume,
    decide_revise,
)
from events.errors import LedgerError, StateConflict
from service.ledger import CommandContext, CommandPlan, CommandReply, Ledger
from service.problems import TYPE_BASE
from service.workflows.schemas import (
    EngageKillSwitchBody,
    PromoteWorkflowBody,
    RecordRunResultBody,
    RegisterWorkflowBody,
    RequestRunBody,
    ReviseWorkflowBody,
)


def now() -> datetime:
    return datetime.now(UTC)


async def register_workflow(
    ledger: Ledger, ctx: CommandContext, body: RegisterWorkflowBody
) -> CommandReply:
    # The workflow's tenant is its site's: an unknown or foreign site answers 404.
    site = await ledger.load_visible(ctx.principal, SITES, SITES.stream_id(body.site_id), "site")
    definition = WorkflowDefinition.model_validate(
        body.model_dump(include=set(WorkflowDefinition.model_fields))
    )
    cmd = RegisterWorkflow(
        workflow_id=body.workflow_id,
        site_id=body.site_id,
        definition=definition,
        actor=ctx.principal.sub,
        environment=body.environment,
        read_only=body.read_only,
    )
    plan = CommandPlan(
        WORKFLOWS,
        WORKFLOWS.stream_id(body.workflow_id),
        lambda workflow: decide_register(workflow, cmd),
        what="workflow",
        new_tenant=site.tenant,
        status_code=201,
    )
    return await ledger.execute(ctx, plan)


def _plan(
    workflow_id: str,
    decide: Callable[[Workflow], list[Event]],
    status_code: int = 200,
    answer: dict[str, Any] | None = None,
) -> CommandPlan[Workflow]:
    stream_id = WORKFLOWS.stream_id(workflow_id)
    return CommandPlan(
        WORKFLOWS, stream_id, decide, "workflow", status_code=status_code, answer=answer or {}
    )


async def revise_workflow(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, body: ReviseWorkflowBody
) -> CommandReply:
    definition = WorkflowDefinition.model_validate(body.model_dump())
    actor, at = ctx.principal.sub, now()
    return await ledger.execute(
        ctx, _plan(workflow_id, lambda w: decide_revise(w, definition, actor, at))
    )


async def _site_kill_switches(
    ledger: Ledger, ctx: CommandContext, workflow_id: str
) -> KillSwitches:
    loaded = await ledger.load_visible(
        ctx.principal, WORKFLOWS, WORKFLOWS.stream_id(workflow_id), "workflow"
    )
    site_id = loaded.state.site_id
    if site_id is None:
        return KillSwitches()
    return (await ledger.load(KILL_SWITCHES, KILL_SWITCHES.stream_id(site_id))).state


async def request_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, body: RequestRunBody
) -> CommandReply:
    switches = await _site_kill_switches(ledger, ctx, workflow_id)
    actor = ctx.principal.sub
    plan = _plan(
        workflow_id,
        lambda w: runs.decide_request(w, body.run_id, actor, switches, body.inputs),
        status_code=201,
        answer={"run_id": body.run_id},
    )
    return await ledger.execute(ctx, plan)


async def approve_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str
) -> CommandReply:
    actor, at = ctx.principal.sub, now()
    plan = _plan(workflow_id, lambda w: runs.decide_approve(w, run_id, actor, at))
    return await ledger.execute(ctx, plan)


async def reject_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str, reason: str | None
) -> CommandReply:
    actor = ctx.principal.sub
    plan = _plan(workflow_id, lambda w: runs.decide_reject(w, run_id, actor, reason or ""))
    return await ledger.execute(ctx, plan)


async def review_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str, summary: str | None
) -> CommandReply:
    actor = ctx.principal.sub
    plan = _plan(workflow_id, lambda w: runs.decide_review(w, run_id, actor, summary or ""))
    return await ledger.execute(ctx, plan)


async def record_run_result(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str, body: RecordRunResultBody
) -> CommandReply:
    """A result for a run that lacked its approvals is not accepted, but the attempt is: the
    violation (and the automatic pause) is appended and the answer is a 409 problem that cites
    the violation's event ids. One decider gives both outcomes; the plan is chosen from a first
    look at the state and the decider's outcome must match it when the append happens."""
    result = runs.RunResult(run_id=run_id, **body.model_dump())
    actor, at = ctx.principal.sub, now()
    expected: list[str] = []
    try:
        loaded = await ledger.load_visible(
            ctx.principal, WORKFLOWS, WORKFLOWS.stream_id(workflow_id), "workflow"
        )
        first = runs.decide_record_result(loaded.state, result, actor, at)
        expected = _violation_missing(first)
    except LedgerError:
        pass  # execute() gives the same refusal, or the stored answer of a retried request

    def decide(workflow: Workflow) -> list[Event]:
        events = runs.decide_record_result(workflow, result, actor, at)
        if _violation_missing(events) != expected:
            raise StateConflict("the run changed while its result was being recorded; retry")
        return events

    if not expected:
        return await ledger.execute(ctx, _plan(workflow_id, decide))
    refusal = {
        "type": TYPE_BASE + "run-violation",
        "title": "Gate not satisfied",
        "status": 409,
        "detail": "the run lacked its approvals, so its result is refused; the attempt is "
        "recorded as a violation and the workflow is paused",
        "missing": expected,
    }
    return await ledger.execute(ctx, _plan(workflow_id, decide, status_code=409, answer=refusal))


def _violation_missing(events: list[Event]) -> list[str]:
    for event in events:
        if isinstance(event, RunViolationRecorded):
            return event.missing
    return []


async def pause_workflow(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, reason: str | None
) -> CommandReply:
    actor, roles = ctx.principal.sub, [role.value for role in ctx.principal.roles]
    plan = _plan(workflow_id, lambda w: decide_pause(w, actor, roles, reason or ""))
    return await ledger.execute(ctx, plan)


async def resume_workflow(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, reason: str | None
) -> CommandReply:
    """Refused while a kill switch covers the workflow or an incident linked to it has open
    prevention actions or no passed regression check. Each linked incident records the resume
    in the same transaction, at the version whose gate was checked: a change to an incident in
    between is a conflict, never a resume past an open action."""
    loaded = await ledger.load_visible(
        ctx.principal, WORKFLOWS, WORKFLOWS.stream_id(workflow_id), "workflow"
    )
    site_id = loaded.state.site_id or ""
    switches = (await ledger.load(KILL_SWITCHES, KILL_SWITCHES.stream_id(site_id))).state
    linked = loaded.state.incident_ids
    incidents = [
        (await ledger.load(INCIDENTS, INCIDENTS.stream_id(incident_id))).state
        for incident_id in linked
    ]
    actor = ctx.principal.sub

    def decide(workflow: Workflow) -> list[Event]:
        if workflow.incident_ids != linked:
            raise StateConflict("an incident was linked to the workflow meanwhile; retry")
        return decide_resume(workflow, actor, reason, switches, incidents)

    notes = tuple(
        CommandPlan(
            INCIDENTS,
            INCIDENTS.stream_id(incident_id),
            partial(decide_note_resume, workflow_id=workflow_id, actor=actor),
            "incident",
        )
        for incident_id in linked
    )
    return await ledger.execute(ctx, dataclasses.replace(_plan(workflow_id, decide), also=notes))


async def promote_workflow(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, body: PromoteWorkflowBody
) -> CommandReply:
    loaded = await ledger.load_visible(
        ctx.principal, WORKFLOWS, WORKFLOWS.stream_id(workflow_id), "workflow"
    )
    site_id = loaded.state.site_id or ""
    site = (await ledger.load(SITES, SITES.stream_id(site_id))).state
    actor, reason = ctx.principal.sub, body.reason or ""
    plan = _plan(workflow_id, lambda w: decide_promote(w, actor, reason, site.facts))
    return await ledger.execute(ctx, plan)


async def engage_kill_switch(
    ledger: Ledger, ctx: CommandContext, site_id: str, body: EngageKillSwitchBody
) -> CommandReply:
    site = await ledger.load_visible(ctx.principal, SITES, SITES.stream_id(site_id), "site")
    actor, reason = ctx.principal.sub, body.reason or ""
    plan = CommandPlan(
        KILL_SWITCHES,
        KILL_SWITCHES.stream_id(site_id),
        lambda switches: decide_engage(switches, site_id, body.category, actor, reason),
        what="site",
        new_tenant=site.tenant,
    )
    return await ledger.execute(ctx, plan)


async def release_kill_switch(
    ledger: Ledger, ctx: CommandContext, site_id: str, category: str, reason: str | None
) -> CommandReply:
    await ledger.load_visible(ctx.principal, SITES, SITES.stream_id(site_id), "site")
    actor = ctx.principal.sub
    plan = CommandPlan(
        KILL_SWITCHES,
        KILL_SWITCHES.stream_id(site_id),
        lambda switches: decide_release(switches, site_id, category, actor, reason),
        what="kill switch",
    )
    return await ledger.execute(ctx, plan)
