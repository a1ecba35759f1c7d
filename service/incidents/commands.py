"""Incident commands: load -> decide -> append.

Every body has passed the redaction gate (service/redaction_gate.py) before it gets here, so
nothing raw is stored, logged or answered; the answer lists where something was masked
(`masked`), never what, and evidence records it too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

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
    CreateSupportHandoffBody,
    OpenIncidentBody,
    RecordEvidenceBody,
)
from service.ledger import Ledger
from service.redaction_gate import CommandBody


def masked_body(body: CommandBody) -> tuple[dict[str, Any], list[MaskedValue]]:
    """The body as the redaction gate let it through (masked), and where it masked."""
    masked = [MaskedValue(pointer=r.pointer, kind=r.kind) for r in body.redactions]
    return body.model_dump(mode="json"), masked


def _plan(
    incident_id: str, decide: Callable[[Incident], list[Event]], status_code: int = 200
) -> CommandPlan[Incident]:
    return CommandPlan(
        INCIDENTS, INCIDENTS.stream_id(incident_id), decide, "incident", status_code=status_code
    )


async def open_incident(
    ledger: Ledger, ctx: CommandContext, body: OpenIncidentBody
) -> CommandReply:
    clean, _ = masked_body(body)
    cmd = OpenIncidentCommand(
        incident_id=body.incident_id,
        site_id=body.site_id,
        facts=IncidentFacts.model_validate(
            {name: clean[name] for name in IncidentFacts.model_fields}
        ),
        linked=LinkedWork.model_validate(clean["linked"]),
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

    command = Command(stream_id, decide, status_code=201)
    return await ledger.execute(ctx, command)


async def record_evidence(
    ledger: Ledger, ctx: CommandContext, incident_id: str, body: RecordEvidenceBody
) -> CommandReply:
    clean, masked = masked_body(body)
    # Pointers of the evidence itself, as the decider records them (within `content`).
    inside = [
        MaskedValue(pointer=m.pointer.removeprefix("/content"), kind=m.kind)
        for m in masked
        if m.pointer.startswith("/content")
    ]
    actor = ctx.principal.sub
    decide = lambda i: decide_record_evidence(  # noqa: E731
        i, body.evidence_id, clean["content"], actor, inside
    )
    return await ledger.execute(ctx, _plan(incident_id, decide, status_code=201))


async def run(
    ledger: Ledger,
    ctx: CommandContext,
    incident_id: str,
    body: CommandBody,
    decide: Callable[[Incident, dict[str, Any], str], list[Event]],
    status_code: int = 200,
) -> CommandReply:
    """A review command: decide on the incident with the body's (masked) fields."""
    clean, _ = masked_body(body)
    actor = ctx.principal.sub
    plan = _plan(incident_id, lambda i: decide(i, clean, actor), status_code)
    return await ledger.execute(ctx, plan)


def escalate(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    return decide_escalate(i, b["target"], b["reason"], actor)


def root_cause(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    return review.decide_record_root_cause(i, b["root_cause"], actor)


def detection_gaps(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    return review.decide_record_detection_gaps(i, b["gaps"], b["missing_evidence"], actor)


def safeguards(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    return review.decide_record_safeguards(i, b["worked"], b["failed"], actor)


def regression_check(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    return review.decide_record_regression_check(i, b["passed"], b["description"], actor)


def restart_criteria(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    return review.decide_define_restart_criteria(i, b["criteria"], actor)


def documentation_change(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    return review.decide_record_documentation_change(
        i, b["area"], b["description"], actor, b["reference"]
    )


def close(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    return decide_close(i, actor, b["summary"])


def reopen(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    return decide_reopen(i, actor, b["reason"])


def add_prevention_action(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
    cmd = review.AddPreventionAction.model_validate({**b, "actor": actor})
    return review.decide_add_prevention_action(i, cmd)


async def complete_prevention_action(
    ledger: Ledger, ctx: CommandContext, incident_id: str, action_id: str, body: CommandBody
) -> CommandReply:
    roles = [role.value for role in ctx.principal.roles]

    def decide(i: Incident, b: dict[str, Any], actor: str) -> list[Event]:
        return review.decide_complete_prevention_action(i, action_id, actor, roles, b["note"])

    return await run(ledger, ctx, incident_id, body, decide)


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
