"""Workflow and run commands: load -> decide -> append, each stream loaded once per attempt.

A run command loads the workflow and the run (two short streams) and appends to both at the
versions it read, in one transaction: the rules that span them (approval for the current
revision, no request while paused or under a kill switch, the automatic pause at the retry
limit, promotion after K reviewed runs) are decided on one consistent pair of states. Other
streams a check reads (the site's kill switches, its rollback path) are pinned the same way: a
kill switch engaged between an approval's reads and its append is a conflict, never an approval
under the switch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

from events.catalogue import Event
from events.domain import runs
from events.domain.incident_links import decide_note_resume
from events.domain.incidents import INCIDENTS
from events.domain.kill_switches import KILL_SWITCHES, KillSwitches
from events.domain.promotion import decide_promote
from events.domain.run_state import Run
from events.domain.sites import SITES
from events.domain.workflow_events import RunViolationRecorded, WorkflowDefinition, run_stream_id
from events.domain.workflow_gates import decide_resume, decide_revise_gated
from events.domain.workflows import (
    WORKFLOWS,
    RegisterWorkflow,
    Workflow,
    decide_pause,
    decide_register,
    runs_of,
)
from service.attempts import Attempt, Decide, Loaded
from service.command import Command, CommandContext, CommandPlan, CommandReply
from service.ledger import Ledger
from service.problems import TYPE_BASE
from service.workflows.approval_schemas import ApproveRunBody
from service.workflows.schemas import (
    PauseWorkflowBody,
    PromoteWorkflowBody,
    RecordRunResultBody,
    RegisterWorkflowBody,
    RejectRunBody,
    RequestRunBody,
    ResumeWorkflowBody,
    ReviewRunBody,
    ReviseWorkflowBody,
)


def now() -> datetime:
    return datetime.now(UTC)


async def register_workflow(
    ledger: Ledger, ctx: CommandContext, body: RegisterWorkflowBody
) -> CommandReply:
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
    stream_id = WORKFLOWS.stream_id(body.workflow_id)

    async def decide(attempt: Attempt) -> None:
        # The workflow's tenant is its site's: an unknown or foreign site answers 404.
        site = await attempt.load(SITES, SITES.stream_id(body.site_id), "site")
        workflow = await attempt.load(WORKFLOWS, stream_id, "workflow", new_tenant=site.tenant)
        attempt.append(workflow, decide_register(workflow.state, cmd))

    return await ledger.execute(ctx, Command(stream_id, decide, status_code=201))


def _workflow_plan(
    workflow_id: str, decide: Callable[[Workflow], list[Event]]
) -> CommandPlan[Workflow]:
    return CommandPlan(WORKFLOWS, WORKFLOWS.stream_id(workflow_id), decide, "workflow")


async def revise_workflow(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, body: ReviseWorkflowBody
) -> CommandReply:
    definition = WorkflowDefinition.model_validate(body.model_dump())
    actor, at = ctx.principal.sub, now()
    stream_id = WORKFLOWS.stream_id(workflow_id)

    async def decide(attempt: Attempt) -> None:
        workflow = await attempt.load(WORKFLOWS, stream_id, "workflow")
        switches = await load_switches(attempt, workflow)
        revised = decide_revise_gated(workflow.state, definition, actor, at, switches.state)
        attempt.append(workflow, revised)

    return await ledger.execute(ctx, Command(stream_id, decide))


async def pause_workflow(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, body: PauseWorkflowBody
) -> CommandReply:
    actor, roles = ctx.principal.sub, [role.value for role in ctx.principal.roles]
    plan = _workflow_plan(workflow_id, lambda w: decide_pause(w, actor, roles, body.reason or ""))
    return await ledger.execute(ctx, plan)


async def load_switches(attempt: Attempt, workflow: Loaded[Workflow]) -> Loaded[KillSwitches]:
    """The kill switches of the workflow's site (their own stream, read and pinned)."""
    site_id = workflow.state.site_id or ""
    return await attempt.load(
        KILL_SWITCHES, KILL_SWITCHES.stream_id(site_id), "site", new_tenant=workflow.tenant
    )


async def load_run(
    attempt: Attempt, workflow_id: str, run_id: str
) -> tuple[Loaded[Workflow], Loaded[Run]]:
    """The workflow, then its run: a run's stream takes its workflow's tenant. Both read in
    one round trip."""
    await attempt.prefetch(WORKFLOWS.stream_id(workflow_id), run_stream_id(workflow_id, run_id))
    workflow = await attempt.load(WORKFLOWS, WORKFLOWS.stream_id(workflow_id), "workflow")
    run = await attempt.load(
        runs_of(workflow.state, run_id),
        run_stream_id(workflow_id, run_id),
        "run",
        new_tenant=workflow.tenant,
    )
    return workflow, run


def _run_command(
    workflow_id: str,
    run_id: str,
    decide: Decide,
    status_code: int = 200,
    answer: dict[str, object] | None = None,
) -> Command:
    return Command(run_stream_id(workflow_id, run_id), decide, status_code, answer=answer or {})


async def request_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, body: RequestRunBody
) -> CommandReply:
    actor = ctx.principal.sub

    async def decide(attempt: Attempt) -> None:
        workflow, run = await load_run(attempt, workflow_id, body.run_id)
        switches = await load_switches(attempt, workflow)
        events = runs.decide_request(
            workflow.state, run.state, body.run_id, actor, switches.state, body.inputs
        )
        attempt.append(run, events)

    command = _run_command(workflow_id, body.run_id, decide, 201, {"run_id": body.run_id})
    return await ledger.execute(ctx, command)


async def approve_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str, body: ApproveRunBody
) -> CommandReply:
    """The approval event has no field for a reason: it goes into the events' metadata."""
    actor, at = ctx.principal.sub, now()
    reason = (body.reason or "").strip()
    if reason:
        ctx = replace(ctx, reason=reason)

    async def decide(attempt: Attempt) -> None:
        workflow, run = await load_run(attempt, workflow_id, run_id)
        switches = await load_switches(attempt, workflow)
        approval = runs.decide_approve(workflow.state, run.state, actor, at, switches.state)
        attempt.append(run, approval)

    return await ledger.execute(ctx, _run_command(workflow_id, run_id, decide))


async def reject_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str, body: RejectRunBody
) -> CommandReply:
    actor, reason = ctx.principal.sub, body.reason or ""

    async def decide(attempt: Attempt) -> None:
        workflow, run = await load_run(attempt, workflow_id, run_id)
        attempt.append(run, runs.decide_reject(workflow.state, run.state, actor, reason))

    return await ledger.execute(ctx, _run_command(workflow_id, run_id, decide))


async def review_run(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str, body: ReviewRunBody
) -> CommandReply:
    actor, summary = ctx.principal.sub, body.summary or ""

    async def decide(attempt: Attempt) -> None:
        workflow, run = await load_run(attempt, workflow_id, run_id)
        changes = runs.decide_review(workflow.state, run.state, actor, summary)
        attempt.append(run, changes.run)
        attempt.append(workflow, changes.workflow)

    return await ledger.execute(ctx, _run_command(workflow_id, run_id, decide))


async def record_run_result(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, run_id: str, body: RecordRunResultBody
) -> CommandReply:
    """A result for a run that lacked its approvals is not accepted, but the attempt is: the
    violation (and the automatic pause) is appended and the answer is a 409 problem that cites
    the violation's event ids."""
    result = runs.RunResult(run_id=run_id, **body.model_dump())
    actor, at = ctx.principal.sub, now()

    async def decide(attempt: Attempt) -> None:
        workflow, run = await load_run(attempt, workflow_id, run_id)
        switches = await load_switches(attempt, workflow)
        changes = runs.decide_record_result(
            workflow.state, run.state, result, actor, at, switches.state
        )
        missing = _violation_missing(changes.run)
        if missing:
            attempt.refuse(409, _violation_problem(missing))
        attempt.append(run, changes.run)
        attempt.append(workflow, changes.workflow)

    return await ledger.execute(ctx, _run_command(workflow_id, run_id, decide))


def _violation_problem(missing: list[str]) -> dict[str, object]:
    return {
        "type": TYPE_BASE + "run-violation",
        "title": "Gate not satisfied",
        "status": 409,
        "detail": "the run lacked its approvals, so its result is refused; the attempt is "
        "recorded as a violation and the workflow is paused",
        "missing": missing,
    }


def _violation_missing(events: list[Event]) -> list[str]:
    for event in events:
        if isinstance(event, RunViolationRecorded):
            return event.missing
    return []


async def resume_workflow(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, body: ResumeWorkflowBody
) -> CommandReply:
    """Refused without a reason, while a kill switch covers the workflow, or while an incident
    linked to it has open prevention actions, no passed regression check, no restart criteria
    confirmed met or no documentation change. Each linked incident records the resume in the
    same transaction, at the version whose gate was checked: a change to an incident in between
    is a conflict, never a resume past an open action."""
    actor, reason, met = ctx.principal.sub, body.reason, body.restart_criteria_met
    stream_id = WORKFLOWS.stream_id(workflow_id)

    async def decide(attempt: Attempt) -> None:
        workflow = await attempt.load(WORKFLOWS, stream_id, "workflow")
        switches = await load_switches(attempt, workflow)
        incidents = [
            await attempt.load(INCIDENTS, INCIDENTS.stream_id(incident_id), "incident")
            for incident_id in workflow.state.incident_ids
        ]
        states = [incident.state for incident in incidents]
        events = decide_resume(workflow.state, actor, reason, switches.state, states, met)
        attempt.append(workflow, events)
        for incident in incidents:
            confirmed = incident.state.incident_id in met
            noted = decide_note_resume(incident.state, workflow_id, actor, reason, confirmed)
            attempt.append(incident, noted)

    return await ledger.execute(ctx, Command(stream_id, decide))


async def promote_workflow(
    ledger: Ledger, ctx: CommandContext, workflow_id: str, body: PromoteWorkflowBody
) -> CommandReply:
    actor, reason = ctx.principal.sub, body.reason or ""
    stream_id = WORKFLOWS.stream_id(workflow_id)

    async def decide(attempt: Attempt) -> None:
        workflow = await attempt.load(WORKFLOWS, stream_id, "workflow")
        site = await attempt.load(SITES, SITES.stream_id(workflow.state.site_id or ""), "workflow")
        attempt.append(workflow, decide_promote(workflow.state, actor, reason, site.state.facts))

    return await ledger.execute(ctx, Command(stream_id, decide))
