"""Workflows, runs, approvals and kill switches: what the WordPress plugin calls before any
automation touches a production site."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse, Response

from events.domain.kill_switches import KILL_SWITCHES
from events.domain.sites import SITES
from events.domain.workflows import WORKFLOWS
from service.auth.dependencies import Caller
from service.command import CommandResult
from service.contract.headers import VERSIONED
from service.pagination import DEFAULT_LIMIT, Cursor, Limit
from service.paths import Category, RunId, SiteId, WorkflowId
from service.requests import AsOf, AtVersion, Command, LedgerDep, reply, versioned
from service.workflows import commands, kill_switch_commands, queries
from service.workflows.approval_schemas import ApproveRunBody
from service.workflows.schemas import (
    EngageKillSwitchBody,
    KillSwitchStatus,
    PauseWorkflowBody,
    PromoteWorkflowBody,
    RecordRunResultBody,
    RegisterWorkflowBody,
    RejectRunBody,
    ReleaseKillSwitchBody,
    RequestRunBody,
    ResumeWorkflowBody,
    ReviewRunBody,
    ReviseWorkflowBody,
    RunHistory,
    WorkflowExplanation,
    WorkflowView,
)

router = APIRouter(prefix="/v1", tags=["workflows"])
RUN = "/workflows/{workflow_id}/runs/{run_id}"


@router.post(
    "/workflows", operation_id="register-workflow", status_code=201, response_model=CommandResult
)
async def register_workflow(
    body: RegisterWorkflowBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Register a workflow with its owner, category, trigger, input scope, expected output, side
    effects, approvals, retry limit, notification path, pause rule and rollback path; missing
    ones are listed in `missing`. Every workflow starts in staging and read-only, whatever was
    asked."""
    return reply(await commands.register_workflow(ledger, ctx, body))


@router.get(
    "/workflows/{workflow_id}",
    operation_id="get-workflow",
    response_model=WorkflowView,
    responses=VERSIONED,
)
async def get_workflow(
    workflow_id: WorkflowId,
    who: Caller,
    ledger: LedgerDep,
    as_of: AsOf = None,
    at_version: AtVersion = None,
) -> JSONResponse:
    """A workflow's definition, mode and pause state, now or as it was at a time or version."""
    loaded = await ledger.load_visible(
        who,
        WORKFLOWS,
        WORKFLOWS.stream_id(workflow_id),
        "workflow",
        to_version=at_version,
        as_of=as_of,
    )
    return versioned(queries.workflow_view(loaded), loaded.version)


@router.post(
    "/workflows/{workflow_id}/revisions",
    operation_id="revise-workflow",
    response_model=CommandResult,
)
async def revise_workflow(
    workflow_id: WorkflowId, body: ReviseWorkflowBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Replace the workflow's definition. The workflow returns to staging and read-only, and
    approvals given to pending runs no longer count."""
    return reply(await commands.revise_workflow(ledger, ctx, workflow_id, body))


@router.get(
    "/workflows/{workflow_id}/explain",
    operation_id="explain-workflow",
    summary="Explain a workflow: owner, last run and approvals, who can pause it, and why",
    response_model=WorkflowExplanation,
)
async def explain_workflow(
    workflow_id: WorkflowId, who: Caller, ledger: LedgerDep, as_of: AsOf = None
) -> WorkflowExplanation:
    """Who owns the workflow, its last run with its approvals and result, who can pause it, and
    the ids of the events that say so; with `as_of`, all of it as the log stood at that time
    (an approval counts if it was valid then). Unknown before the workflow was registered."""
    stream = WORKFLOWS.stream_id(workflow_id)
    loaded = await ledger.load_visible(who, WORKFLOWS, stream, "workflow", as_of=as_of)
    now = as_of or commands.now()
    return await queries.explain(ledger.store, loaded, now, as_of=as_of)


@router.get(
    "/workflows/{workflow_id}/runs", operation_id="list-workflow-runs", response_model=RunHistory
)
async def list_workflow_runs(
    workflow_id: WorkflowId,
    who: Caller,
    ledger: LedgerDep,
    as_of: AsOf = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> RunHistory:
    """The workflow's runs in the order they were requested, with approvals and results: each
    run's outcome, cost, affected records, diagnostics summary and whether it notified; with
    `as_of`, as the log stood at that time."""
    after = queries.WORKFLOW_RUNS.decode(cursor)
    stream = WORKFLOWS.stream_id(workflow_id)
    loaded = await ledger.load_visible(who, WORKFLOWS, stream, "workflow", as_of=as_of)
    now = as_of or commands.now()
    return await queries.run_history(ledger.store, loaded, now, after, limit, as_of=as_of)


@router.post(
    "/workflows/{workflow_id}/runs",
    operation_id="request-run",
    status_code=201,
    response_model=CommandResult,
)
async def request_run(
    workflow_id: WorkflowId, body: RequestRunBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Ask to run the workflow. Refused while the workflow is paused or a kill switch covers its
    category on its site."""
    return reply(await commands.request_run(ledger, ctx, workflow_id, body))


@router.post(RUN + "/approve", operation_id="approve-run", response_model=CommandResult)
async def approve_run(
    workflow_id: WorkflowId,
    run_id: RunId,
    ctx: Command,
    ledger: LedgerDep,
    body: Annotated[ApproveRunBody, Body(default_factory=ApproveRunBody)],
) -> Response:
    """Approve a pending run for the workflow's current revision; the approval expires (24 hours
    by default). The requester can never approve their own run, and each approver counts once
    (subjects compare case- and Unicode-insensitively). Refused while the workflow is paused or
    a kill switch covers it, however long ago the run was requested. The body is optional; its
    `reason` is recorded with the approval."""
    return reply(await commands.approve_run(ledger, ctx, workflow_id, run_id, body))


@router.post(RUN + "/reject", operation_id="reject-run", response_model=CommandResult)
async def reject_run(
    workflow_id: WorkflowId, run_id: RunId, body: RejectRunBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Reject a pending run; a reason is required."""
    return reply(await commands.reject_run(ledger, ctx, workflow_id, run_id, body))


@router.post(RUN + "/review", operation_id="review-run", response_model=CommandResult)
async def review_run(
    workflow_id: WorkflowId, run_id: RunId, body: ReviewRunBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record a human review of a run's result. Reviewed successes count towards promotion,
    except a review by the run's own requester."""
    return reply(await commands.review_run(ledger, ctx, workflow_id, run_id, body))


@router.post(
    RUN + "/result",
    operation_id="record-run-result",
    response_model=CommandResult,
    responses={
        409: {
            "description": "Refused; a run without its approvals is also recorded as "
            "a violation and the answer cites its event ids."
        }
    },
)
async def record_run_result(
    workflow_id: WorkflowId,
    run_id: RunId,
    body: RecordRunResultBody,
    ctx: Command,
    ledger: LedgerDep,
) -> Response:
    """Record a run's outcome, affected records, cost, diagnostics and notification. A run that
    writes or contacts customers without its approvals must not have run: the attempt is recorded
    as a violation, the workflow is paused, and the answer is 409 with `missing` and `event_ids`.
    A success is refused while the workflow is paused or a kill switch covers it; a failure is
    still recorded. Failures reaching the retry limit pause the workflow automatically."""
    return reply(await commands.record_run_result(ledger, ctx, workflow_id, run_id, body))


@router.post(
    "/workflows/{workflow_id}/pause",
    operation_id="pause-workflow",
    summary="Pause a workflow, with a reason",
    response_model=CommandResult,
)
async def pause_workflow(
    workflow_id: WorkflowId, body: PauseWorkflowBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Pause a workflow: its owner, an operations lead or an administrator; a reason is required."""
    return reply(await commands.pause_workflow(ledger, ctx, workflow_id, body))


@router.post(
    "/workflows/{workflow_id}/resume", operation_id="resume-workflow", response_model=CommandResult
)
async def resume_workflow(
    workflow_id: WorkflowId, body: ResumeWorkflowBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Resume a paused workflow, with a reason. Refused while a kill switch covers it, or while
    an incident that names it lacks completed prevention actions, a passed regression check,
    restart criteria or a documentation change; the resumer confirms each such incident's
    restart criteria are met in `restart_criteria_met`. `missing` names what is lacking."""
    return reply(await commands.resume_workflow(ledger, ctx, workflow_id, body))


@router.post(
    "/workflows/{workflow_id}/promote",
    operation_id="promote-workflow",
    response_model=CommandResult,
)
async def promote_workflow(
    workflow_id: WorkflowId, body: PromoteWorkflowBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Promote a workflow from staging and read-only to production writes. Needs the configured
    number (default 3) of reviewed successful runs of the current revision with no failure after
    the last one, a rollback or support path for the site, and a second person: the promoter is
    neither the workflow's owner nor the author of its current revision."""
    return reply(await commands.promote_workflow(ledger, ctx, workflow_id, body))


@router.get(
    "/sites/{site_id}/kill-switches",
    operation_id="get-kill-switches",
    response_model=KillSwitchStatus,
)
async def get_kill_switches(site_id: SiteId, who: Caller, ledger: LedgerDep) -> JSONResponse:
    """The site's engaged kill switches, by category ("*" covers every category). The ETag is
    the kill-switch stream's version, for If-Match on engage-kill-switch."""
    await ledger.load_visible(who, SITES, SITES.stream_id(site_id), "site")
    loaded = await ledger.load(KILL_SWITCHES, KILL_SWITCHES.stream_id(site_id))
    return versioned(queries.kill_switch_status(site_id, loaded), loaded.version)


@router.post(
    "/sites/{site_id}/kill-switches",
    operation_id="engage-kill-switch",
    response_model=CommandResult,
)
async def engage_kill_switch(
    site_id: SiteId, body: EngageKillSwitchBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Stop automation of one category on a site, or of all ("*"). Needs a reason, no approval.
    While engaged, no run of that scope can be requested and no covered workflow can resume."""
    return reply(await kill_switch_commands.engage_kill_switch(ledger, ctx, site_id, body))


@router.post(
    "/sites/{site_id}/kill-switches/{category}/release",
    operation_id="release-kill-switch",
    response_model=CommandResult,
)
async def release_kill_switch(
    site_id: SiteId,
    category: Category,
    body: ReleaseKillSwitchBody,
    ctx: Command,
    ledger: LedgerDep,
) -> Response:
    """Release an engaged kill switch, with a reason. The switch a hosting, provider or plugin
    change engaged is released only by an operations lead or administrator other than whoever
    recorded the change. Paused workflows stay paused until resumed."""
    return reply(
        await kill_switch_commands.release_kill_switch(ledger, ctx, site_id, category, body)
    )
