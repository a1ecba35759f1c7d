"""Incident commands: load -> decide -> append.

Every body has passed the redaction gate (service/redaction_gate.py) before it gets here, so
nothing raw is stored, logged or answered; the answer lists where something was masked
(`masked`), never what, and evidence records it too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

from events.catalogue import CATALOGUE, Event
from events.domain import incident_review as review
from events.domain.incident_events import IncidentFacts, LinkedWork, MaskedValue
from events.domain.incident_links import decide_link_incident
from events.domain.incidents import (
    INCIDENTS,
    Incident,
    OpenIncidentCommand,
    decide_close,
    decide_escalate,
    decide_open,
    decide_record_evidence,
    decide_reopen,
)
from events.domain.sites import SITES
from events.domain.workflows import WORKFLOWS
from service.attempts import Attempt
from service.command import Command, CommandContext, CommandPlan, CommandReply, pinned_at
from service.incidents import handoff
from service.incidents.schemas import (
    AddPreventionActionBody,
    CloseIncidentBody,
    CompletePreventionActionBody,
    CreateSupportHandoffBody,
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
from service.ledger import Ledger


def _plan(
    incident_id: str, decide: Callable[[Incident], list[Event]], status_code: int = 200
) -> CommandPlan[Incident]:
    return CommandPlan(
        INCIDENTS, INCIDENTS.stream_id(incident_id), decide, "incident", status_code=status_code
    )


async def open_incident(
    ledger: Ledger, ctx: CommandContext, body: OpenIncidentBody
) -> CommandReply:
    cmd = OpenIncidentCommand(
        incident_id=body.incident_id,
        site_id=body.site_id,
        facts=IncidentFacts.model_validate(
            body.model_dump(include=set(IncidentFacts.model_fields))
        ),
        linked=LinkedWork.model_validate(body.linked.model_dump()),
        actor=ctx.principal.sub,
    )
    summary = cmd.facts.summary or ""
    actor, roles = ctx.principal.sub, [role.value for role in ctx.principal.roles]
    pause = body.pause_linked_workflows
    stream_id = INCIDENTS.stream_id(body.incident_id)

    async def decide(attempt: Attempt) -> None:
        # One transaction: the incident, and each linked workflow's link (and pause).
        site = await attempt.load(SITES, SITES.stream_id(body.site_id), "site")
        incident = await attempt.load(INCIDENTS, stream_id, "incident", new_tenant=site.tenant)
        attempt.append(incident, decide_open(incident.state, cmd))
        for workflow_id in cmd.linked.workflows:
            workflow = await attempt.load(WORKFLOWS, WORKFLOWS.stream_id(workflow_id), "workflow")
            link = decide_link_incident(
                workflow.state, body.incident_id, body.site_id, actor, roles, pause, summary
            )
            attempt.append(workflow, link)

    return await ledger.execute(ctx, Command(stream_id, decide, status_code=201))


async def record_evidence(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: RecordEvidenceBody
) -> CommandReply:
    # Pointers of the evidence itself, as the decider records them (within `content`).
    inside = [
        MaskedValue(pointer=r.pointer.removeprefix("/content"), kind=r.kind)
        for r in body.redactions
        if r.pointer.startswith("/content")
    ]
    actor = ctx.principal.sub
    decide = lambda i: decide_record_evidence(  # noqa: E731
        i, body.evidence_id, body.content, actor, inside
    )
    return await ledger.execute(ctx, _plan(incident_id, decide, status_code=201))


async def set_escalation(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: SetEscalationBody
) -> CommandReply:
    actor = ctx.principal.sub
    plan = _plan(incident_id, lambda i: decide_escalate(i, body.target, body.reason, actor))
    return await ledger.execute(ctx, plan)


async def record_root_cause(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: RecordRootCauseBody
) -> CommandReply:
    actor = ctx.principal.sub
    plan = _plan(incident_id, lambda i: review.decide_record_root_cause(i, body.root_cause, actor))
    return await ledger.execute(ctx, plan)


async def record_detection_gaps(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: RecordDetectionGapsBody
) -> CommandReply:
    actor, gaps, missing = ctx.principal.sub, body.gaps, body.missing_evidence
    plan = _plan(
        incident_id, lambda i: review.decide_record_detection_gaps(i, gaps, missing, actor)
    )
    return await ledger.execute(ctx, plan)


async def record_safeguards(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: RecordSafeguardsBody
) -> CommandReply:
    actor, worked, failed = ctx.principal.sub, body.worked, body.failed
    plan = _plan(incident_id, lambda i: review.decide_record_safeguards(i, worked, failed, actor))
    return await ledger.execute(ctx, plan)


async def add_prevention_action(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: AddPreventionActionBody
) -> CommandReply:
    cmd = review.AddPreventionAction(**body.model_dump(), actor=ctx.principal.sub)
    plan = _plan(incident_id, lambda i: review.decide_add_prevention_action(i, cmd), 201)
    return await ledger.execute(ctx, plan)


async def complete_prevention_action(
    ledger: Ledger,
    ctx: CommandContext,
    incident_id: str,
    action_id: str,
    body: CompletePreventionActionBody,
) -> CommandReply:
    actor, roles = ctx.principal.sub, [role.value for role in ctx.principal.roles]

    def decide(incident: Incident) -> list[Event]:
        return review.decide_complete_prevention_action(
            incident, action_id, actor, roles, body.note
        )

    return await ledger.execute(ctx, _plan(incident_id, decide))


async def record_regression_check(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: RecordRegressionCheckBody
) -> CommandReply:
    actor, passed, description = ctx.principal.sub, body.passed, body.description

    def decide(incident: Incident) -> list[Event]:
        return review.decide_record_regression_check(incident, passed, description, actor)

    return await ledger.execute(ctx, _plan(incident_id, decide))


async def set_restart_criteria(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: SetRestartCriteriaBody
) -> CommandReply:
    actor = ctx.principal.sub
    plan = _plan(
        incident_id, lambda i: review.decide_define_restart_criteria(i, body.criteria, actor)
    )
    return await ledger.execute(ctx, plan)


async def record_documentation_change(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: RecordDocumentationChangeBody
) -> CommandReply:
    actor = ctx.principal.sub

    def decide(incident: Incident) -> list[Event]:
        return review.decide_record_documentation_change(
            incident, body.area, body.description, actor, body.reference
        )

    return await ledger.execute(ctx, _plan(incident_id, decide))


async def close_incident(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: CloseIncidentBody
) -> CommandReply:
    actor = ctx.principal.sub
    plan = _plan(incident_id, lambda i: decide_close(i, actor, body.summary))
    return await ledger.execute(ctx, plan)


async def reopen_incident(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: ReopenIncidentBody
) -> CommandReply:
    actor = ctx.principal.sub
    plan = _plan(incident_id, lambda i: decide_reopen(i, actor, body.reason))
    return await ledger.execute(ctx, plan)


async def create_support_handoff(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: CreateSupportHandoffBody
) -> CommandReply:
    loaded = await ledger.load_visible(
        ctx.principal, INCIDENTS, INCIDENTS.stream_id(incident_id), "incident"
    )
    events = [CATALOGUE.decode(event) for event in loaded.events]
    generated_at = datetime.now(UTC)
    report = handoff.build_report(events, body.handoff_id, generated_at)
    digest = handoff.report_sha256(report)
    actor = ctx.principal.sub

    def decide(incident: Incident) -> list[Event]:
        return review.decide_create_handoff(
            incident, body.handoff_id, actor, handoff.SHARED_FIELDS, digest, generated_at, report
        )

    plan = _plan(incident_id, decide, status_code=201)
    answer = {
        "handoff_id": body.handoff_id,
        "report_sha256": digest,
        "report": report,
        "markdown": handoff.render_markdown(report),
    }
    pinned = pinned_at(ctx, loaded.version, INCIDENTS.stream_id(incident_id))
    return await ledger.execute(pinned, dataclasses.replace(plan, answer=answer))
