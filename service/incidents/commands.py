"""Incident commands: redact -> load -> decide -> append.

Every body is masked by the one redaction module before a decider sees it, so nothing raw is
stored, logged or answered; the answer lists where something was masked (`masked`), never what.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

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
from events.errors import InvalidCommand
from service.attempts import Attempt
from service.incidents import handoff
from service.incidents.schemas import (
    CreateSupportHandoffBody,
    OpenIncidentBody,
    RecordEvidenceBody,
)
from service.ledger import Command, CommandContext, CommandPlan, CommandReply, Ledger, pinned_at
from service.redaction import Finding, outside_identities, redact

NAME_FIELDS = ("incident_id", "site_id", "evidence_id", "action_id", "handoff_id", "owner")
IDENTITY_POINTERS = ("/owner",)
"""Fields that name the ledger's own people, whose logins are often e-mail addresses."""


def masked_body(body: BaseModel) -> tuple[dict[str, Any], list[MaskedValue]]:
    """The body with every secret and personal-data shape masked, and where they were."""
    original = body.model_dump(mode="json")
    clean, found = redact(original)
    assert isinstance(clean, dict)
    kept = outside_identities(found, IDENTITY_POINTERS)
    for pointer in IDENTITY_POINTERS:
        if pointer in original_pointers(found) and pointer not in original_pointers(kept):
            clean[pointer.lstrip("/")] = original[pointer.lstrip("/")]
    # An id names a stream for ever, and a masked owner could never complete their action:
    # refused, not masked.
    refused = sorted({f.pointer for f in kept if _is_name(f.pointer)})
    if refused:
        raise InvalidCommand(
            "an id or owner may not hold a secret or personal data", missing=refused
        )
    return clean, [MaskedValue(pointer=f.pointer, kind=f.kind) for f in kept]


def original_pointers(findings: list[Finding]) -> set[str]:
    return {f.pointer for f in findings}


def _is_name(pointer: str) -> bool:
    return pointer.lstrip("/") in NAME_FIELDS or pointer.startswith("/linked/workflows/")


def _plan(
    incident_id: str,
    decide: Callable[[Incident], list[Event]],
    masked: list[MaskedValue] | None = None,
    status_code: int = 200,
) -> CommandPlan[Incident]:
    return CommandPlan(
        INCIDENTS,
        INCIDENTS.stream_id(incident_id),
        decide,
        "incident",
        status_code=status_code,
        answer=_masked_answer(masked or []),
    )


def _masked_answer(masked: list[MaskedValue]) -> dict[str, Any]:
    return {"masked": [m.model_dump() for m in masked]}


async def open_incident(
    ledger: Ledger, ctx: CommandContext, body: OpenIncidentBody
) -> CommandReply:
    clean, masked = masked_body(body)
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

    command = Command(stream_id, decide, status_code=201, answer=_masked_answer(masked))
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
    return await ledger.execute(ctx, _plan(incident_id, decide, masked, status_code=201))


async def run(
    ledger: Ledger,
    ctx: CommandContext,
    incident_id: str,
    body: BaseModel,
    decide: Callable[[Incident, dict[str, Any], str], list[Event]],
    status_code: int = 200,
) -> CommandReply:
    """A review command: mask the body, then decide on the incident with the masked fields."""
    clean, masked = masked_body(body)
    actor = ctx.principal.sub
    plan = _plan(incident_id, lambda i: decide(i, clean, actor), masked, status_code)
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
    ledger: Ledger, ctx: CommandContext, incident_id: str, action_id: str, body: BaseModel
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
        **plan.answer,
        "handoff_id": body.handoff_id,
        "report_sha256": digest,
        "report": report,
        "markdown": handoff.render_markdown(report),
    }
    pinned = pinned_at(ctx, loaded.version, INCIDENTS.stream_id(incident_id))
    return await ledger.execute(pinned, dataclasses.replace(plan, answer=answer))
