"""Incidents: open, review, close and hand off. The review's gates are the SOP's: an incident
closes, and the workflows it paused resume, only when the review is complete."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from events.domain.incidents import INCIDENTS
from service.auth.dependencies import Caller
from service.contract.headers import VERSIONED
from service.incidents import commands, queries
from service.incidents.schemas import (
    AddPreventionActionBody,
    CloseIncidentBody,
    CompletePreventionActionBody,
    CreateSupportHandoffBody,
    HandoffResult,
    HandoffView,
    IncidentCommandResult,
    IncidentTimeline,
    IncidentView,
    OpenIncidentBody,
    RecordDetectionGapsBody,
    RecordDocumentationChangeBody,
    RecordEvidenceBody,
    RecordRegressionCheckBody,
    RecordRootCauseBody,
    RecordSafeguardsBody,
    ReopenIncidentBody,
    SetEscalationBody,
    SetRestartCriteriaBody,
)
from service.pagination import DEFAULT_LIMIT, Cursor, Limit
from service.paths import ActionId, HandoffId, IncidentId
from service.requests import AsOf, AtVersion, Command, LedgerDep, reply, versioned

router = APIRouter(prefix="/v1/incidents", tags=["incidents"])
Result = IncidentCommandResult


@router.post("", operation_id="open-incident", status_code=201, response_model=Result)
async def open_incident(body: OpenIncidentBody, ctx: Command, ledger: LedgerDep) -> Response:
    """Open an incident with its exact facts (missing ones are listed in `missing`). Linked
    workflows are linked, and paused unless `pause_linked_workflows` is false, in the same
    transaction: they resume only after the review's prevention actions and regression check."""
    return reply(await commands.open_incident(ledger, ctx, body))


@router.get(
    "/{incident_id}",
    operation_id="get-incident",
    response_model=IncidentView,
    responses=VERSIONED,
)
async def get_incident(
    incident_id: IncidentId,
    who: Caller,
    ledger: LedgerDep,
    as_of: AsOf = None,
    at_version: AtVersion = None,
) -> JSONResponse:
    """The incident's facts and review, what its close still needs (`missing_for_close`) and
    what keeps its linked workflows paused (`restart_blockers`)."""
    loaded = await ledger.load_visible(
        who,
        INCIDENTS,
        INCIDENTS.stream_id(incident_id),
        "incident",
        to_version=at_version,
        as_of=as_of,
    )
    return versioned(queries.incident_view(loaded), loaded.version)


@router.get(
    "/{incident_id}/timeline", operation_id="get-incident-timeline", response_model=IncidentTimeline
)
async def get_incident_timeline(
    incident_id: IncidentId,
    who: Caller,
    ledger: LedgerDep,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> IncidentTimeline:
    """Every event of the incident, oldest first, with who recorded it, a page at a time."""
    after = queries.INCIDENT_TIMELINE.decode(cursor)
    loaded = await ledger.load_visible(who, INCIDENTS, INCIDENTS.stream_id(incident_id), "incident")
    return queries.timeline(loaded, after, limit)


@router.post(
    "/{incident_id}/evidence",
    operation_id="record-evidence",
    status_code=201,
    response_model=Result,
)
async def record_evidence(
    incident_id: IncidentId, body: RecordEvidenceBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record evidence (text or JSON). Secrets and personal data are masked before anything is
    stored; `masked` says where and of what kind, never the values."""
    return reply(await commands.record_evidence(ledger, ctx, incident_id, body))


@router.post("/{incident_id}/escalation", operation_id="set-escalation", response_model=Result)
async def set_escalation(
    incident_id: IncidentId, body: SetEscalationBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Decide where the incident goes: hosting, provider support, CodeCanyon support or internal
    operations, with the reason."""
    return reply(await commands.set_escalation(ledger, ctx, incident_id, body))


@router.post("/{incident_id}/root-cause", operation_id="record-root-cause", response_model=Result)
async def record_root_cause(
    incident_id: IncidentId, body: RecordRootCauseBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record what failed."""
    return reply(await commands.record_root_cause(ledger, ctx, incident_id, body))


@router.post(
    "/{incident_id}/detection-gaps", operation_id="record-detection-gaps", response_model=Result
)
async def record_detection_gaps(
    incident_id: IncidentId, body: RecordDetectionGapsBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record what was detected late or not at all, and what evidence was missing."""
    return reply(await commands.record_detection_gaps(ledger, ctx, incident_id, body))


@router.post("/{incident_id}/safeguards", operation_id="record-safeguards", response_model=Result)
async def record_safeguards(
    incident_id: IncidentId, body: RecordSafeguardsBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record which safeguards worked and which failed."""
    return reply(await commands.record_safeguards(ledger, ctx, incident_id, body))


@router.post(
    "/{incident_id}/prevention-actions",
    operation_id="add-prevention-action",
    status_code=201,
    response_model=Result,
)
async def add_prevention_action(
    incident_id: IncidentId, body: AddPreventionActionBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Assign a prevention action (prompt, permission, source correction, provider settings, rate
    limit, test, alert tuning or documentation) to an owner, with a due date."""
    return reply(await commands.add_prevention_action(ledger, ctx, incident_id, body))


@router.post(
    "/{incident_id}/prevention-actions/{action_id}/complete",
    operation_id="complete-prevention-action",
    response_model=Result,
)
async def complete_prevention_action(
    incident_id: IncidentId,
    action_id: ActionId,
    body: CompletePreventionActionBody,
    ctx: Command,
    ledger: LedgerDep,
) -> Response:
    """Mark a prevention action done: by its owner, a support lead, an operations lead or an
    administrator."""
    return reply(
        await commands.complete_prevention_action(ledger, ctx, incident_id, action_id, body)
    )


@router.post(
    "/{incident_id}/regression-checks",
    operation_id="record-regression-check",
    response_model=Result,
)
async def record_regression_check(
    incident_id: IncidentId, body: RecordRegressionCheckBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record a regression check; the latest one counts, so a failure undoes an earlier pass."""
    return reply(await commands.record_regression_check(ledger, ctx, incident_id, body))


@router.post(
    "/{incident_id}/restart-criteria", operation_id="set-restart-criteria", response_model=Result
)
async def set_restart_criteria(
    incident_id: IncidentId, body: SetRestartCriteriaBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Say when paused work may return to normal scope."""
    return reply(await commands.set_restart_criteria(ledger, ctx, incident_id, body))


@router.post(
    "/{incident_id}/documentation-changes",
    operation_id="record-documentation-change",
    response_model=Result,
)
async def record_documentation_change(
    incident_id: IncidentId, body: RecordDocumentationChangeBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record the change the incident produced in runbooks, sources, prompts, tests, permissions
    or monitoring."""
    return reply(await commands.record_documentation_change(ledger, ctx, incident_id, body))


@router.post("/{incident_id}/close", operation_id="close-incident", response_model=Result)
async def close_incident(
    incident_id: IncidentId, body: CloseIncidentBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Close the incident. Refused (409) with the full `missing` list unless it has a root cause,
    prevention actions that all have owners and are complete, a passed regression check, restart
    criteria, a documented change and an escalation decision."""
    return reply(await commands.close_incident(ledger, ctx, incident_id, body))


@router.post("/{incident_id}/reopen", operation_id="reopen-incident", response_model=Result)
async def reopen_incident(
    incident_id: IncidentId, body: ReopenIncidentBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Reopen a closed incident, with the reason. Its linked workflows are gated again."""
    return reply(await commands.reopen_incident(ledger, ctx, incident_id, body))


@router.post(
    "/{incident_id}/handoffs",
    operation_id="create-support-handoff",
    status_code=201,
    response_model=HandoffResult,
)
async def create_support_handoff(
    incident_id: IncidentId, body: CreateSupportHandoffBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Build the support report (JSON and Markdown) for the escalation target: timestamp,
    affected screen, versions, reproduction steps, escalation and evidence, with provider keys,
    credentials, payment data and customer details removed. The handoff is recorded as an event
    with what was shared, with whom, and the report's SHA-256."""
    return reply(await commands.create_support_handoff(ledger, ctx, incident_id, body))


@router.get(
    "/{incident_id}/handoffs/{handoff_id}",
    operation_id="get-support-handoff",
    response_model=HandoffView,
)
async def get_support_handoff(
    incident_id: IncidentId, handoff_id: HandoffId, who: Caller, ledger: LedgerDep
) -> HandoffView:
    """The report of a handoff, rebuilt from the log, and whether it still has the recorded hash."""
    loaded = await ledger.load_visible(who, INCIDENTS, INCIDENTS.stream_id(incident_id), "incident")
    return queries.support_handoff(loaded, handoff_id)
