"""Playbook commands: load -> decide -> append.

Nothing with a secret shape enters a playbook or leaves in an export: every playbook body is a
SecretFreeBody, so the redaction gate refuses it (422) with the JSON pointers and kinds it found,
never the values, before any of this runs; an export is checked the same way on its way out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import JsonValue, ValidationError

from events.catalogue import Event
from events.domain import playbook_rollout as rollout
from events.domain.playbook_events import PlaybookContent
from events.domain.playbook_format import (
    FORMAT,
    SIGNED_FIELDS,
    PlaybookExport,
    build_export,
    local_changes,
)
from events.domain.playbooks import (
    PLAYBOOKS,
    Playbook,
    RegisterPlaybook,
    decide_export,
    decide_register,
    decide_revise,
)
from events.domain.sites import SITES
from events.envelope import canonical_json
from events.errors import InvalidCommand
from service.attempts import Attempt
from service.command import Command, CommandContext, CommandPlan, CommandReply, pinned_at
from service.ledger import Ledger
from service.playbooks.schemas import (
    CompleteLocalChangeBody,
    ExportPlaybookBody,
    ImportPlaybookBody,
    RecordFirstRunBody,
    RegisterPlaybookBody,
    RevisePlaybookBody,
)
from service.playbooks.signing import PlaybookSigner
from service.redaction import safe_location_part
from service.redaction_gate import refuse_secrets
from service.tenancy import Tenant, require_same_customer


def plan(
    playbook_id: str,
    decide: Callable[[Playbook], list[Event]],
    status_code: int = 200,
    *,
    new_tenant: Tenant | None = None,
    answer: dict[str, object] | None = None,
    unchanged: Callable[[Playbook], dict[str, object]] | None = None,
) -> CommandPlan[Playbook]:
    return CommandPlan(
        PLAYBOOKS,
        PLAYBOOKS.stream_id(playbook_id),
        decide,
        "playbook",
        new_tenant=new_tenant,
        status_code=status_code,
        answer=answer or {},
        unchanged=unchanged,
    )


async def register_playbook(
    ledger: Ledger, ctx: CommandContext, body: RegisterPlaybookBody
) -> CommandReply:
    cmd = RegisterPlaybook(**body.model_dump(), actor=ctx.principal.sub)
    stream_id = PLAYBOOKS.stream_id(body.playbook_id)

    async def decide(attempt: Attempt) -> None:
        # The playbook's tenant is its site's: an unknown or foreign site answers 404.
        site = await attempt.load(SITES, SITES.stream_id(body.site_id), "site")
        playbook = await attempt.load(PLAYBOOKS, stream_id, "playbook", new_tenant=site.tenant)
        attempt.append(playbook, decide_register(playbook.state, cmd))

    return await ledger.execute(ctx, Command(stream_id, decide, status_code=201))


async def revise_playbook(
    ledger: Ledger, ctx: CommandContext, playbook_id: str, body: RevisePlaybookBody
) -> CommandReply:
    actor = ctx.principal.sub
    content = PlaybookContent.model_validate(body.content.model_dump())
    return await ledger.execute(ctx, plan(playbook_id, lambda p: decide_revise(p, content, actor)))


async def export_playbook(
    ledger: Ledger,
    ctx: CommandContext,
    signer: PlaybookSigner,
    playbook_id: str,
    body: ExportPlaybookBody,
) -> CommandReply:
    export_id = body.export_id
    loaded = await ledger.load_visible(
        ctx.principal, PLAYBOOKS, PLAYBOOKS.stream_id(playbook_id), "playbook"
    )
    exported_at = datetime.now(UTC).replace(microsecond=0)
    unsigned = build_export(loaded.state, exported_at, export_id)
    # Registered content was scanned on the way in; this guards what older rules let through.
    refuse_secrets(unsigned.model_dump(mode="json"), "the export")
    document = signer.sign(unsigned).model_dump(mode="json")
    actor, kid = ctx.principal.sub, signer.kid
    decide = lambda p: decide_export(p, export_id, actor, exported_at, kid)  # noqa: E731
    pinned = pinned_at(ctx, loaded.version, PLAYBOOKS.stream_id(playbook_id))
    return await ledger.execute(
        pinned, plan(playbook_id, decide, 201, answer={"document": document})
    )


def verified_document(signer: PlaybookSigner, document: dict[str, JsonValue]) -> PlaybookExport:
    """Format, schema, signature, in that order, after the redaction gate has scanned the whole
    body: a refusal never echoes a value the scan would have caught. The signature is checked
    over the document as received, and the document
    must be exactly what the schema gives back (no coercion, no dropped defaults), so an export
    verifies whatever later versions of this code fill in."""
    if document.get("format") != FORMAT:
        raise InvalidCommand(
            f"the document is not in the {FORMAT} format", missing=["document.format"]
        )
    try:
        parsed = PlaybookExport.model_validate_json(json.dumps(document), strict=True)
    except ValidationError as error:
        paths = sorted(
            {
                ".".join(str(safe_location_part(p)) for p in ("document", *e["loc"]))
                for e in error.errors()
            }
        )
        raise InvalidCommand("the document does not match its JSON Schema", missing=paths) from None
    received = {name: document[name] for name in SIGNED_FIELDS}
    signer.verify(parsed, canonical_json(received))
    if canonical_json(parsed.model_dump(mode="json", include=SIGNED_FIELDS)) != canonical_json(
        received
    ):
        raise InvalidCommand(
            "the document is not in the form the ledger exported", missing=["document"]
        )
    return parsed


async def import_playbook(
    ledger: Ledger,
    ctx: CommandContext,
    signer: PlaybookSigner,
    site_id: str,
    body: ImportPlaybookBody,
) -> CommandReply:
    target = await ledger.load_visible(ctx.principal, SITES, SITES.stream_id(site_id), "site")
    document = verified_document(signer, body.document)
    provenance = document.provenance
    source = await ledger.load(SITES, SITES.stream_id(provenance.source_site))
    require_same_customer(source.tenant, target.tenant)
    # One stream per lineage on a site: importing the same lineage again lands on it, so the
    # same content twice is a no-op and a newer version is a new import version.
    playbook_id = rollout.imported_playbook_id(site_id, provenance.lineage)
    cmd = rollout.ImportPlaybook(
        playbook_id=playbook_id,
        site_id=site_id,
        owner=body.owner,
        document=document,
        target_facts=body.target_facts,
        actor=ctx.principal.sub,
    )

    def decide(playbook: Playbook) -> list[Event]:
        return rollout.decide_import(playbook, cmd)

    changes = local_changes(document.content.assumptions, body.target_facts)
    answer = {
        "playbook_id": playbook_id,
        "imported": True,
        "local_changes": [change.model_dump(mode="json") for change in changes],
    }

    def unchanged(playbook: Playbook) -> dict[str, object]:
        # Already imported: say what the site has, not what this request would have made.
        recorded = [
            c.model_dump(mode="json", exclude={"completed_by"}) for c in playbook.local_changes
        ]
        return {"imported": False, "local_changes": recorded}

    return await ledger.execute(
        ctx,
        plan(
            playbook_id, decide, 201, new_tenant=target.tenant, answer=answer, unchanged=unchanged
        ),
    )


async def complete_local_change(
    ledger: Ledger,
    ctx: CommandContext,
    playbook_id: str,
    change_id: str,
    body: CompleteLocalChangeBody,
) -> CommandReply:
    actor, note = ctx.principal.sub, body.note
    decide = lambda p: rollout.decide_complete_local_change(p, change_id, actor, note)  # noqa: E731
    return await ledger.execute(ctx, plan(playbook_id, decide))


async def record_first_run(
    ledger: Ledger, ctx: CommandContext, playbook_id: str, body: RecordFirstRunBody
) -> CommandReply:
    actor = ctx.principal.sub

    def decide(playbook: Playbook) -> list[Event]:
        cmd = rollout.RecordFirstRun(
            run_id=body.run_id,
            succeeded=body.succeeded,
            environment=body.environment or playbook.environment,
            read_only=playbook.read_only if body.read_only is None else body.read_only,
            summary=body.summary,
            actor=actor,
        )
        return rollout.decide_record_first_run(playbook, cmd)

    return await ledger.execute(ctx, plan(playbook_id, decide, 201))


async def approve_promotion(ledger: Ledger, ctx: CommandContext, playbook_id: str) -> CommandReply:
    actor = ctx.principal.sub
    decide = lambda p: rollout.decide_approve_promotion(p, actor)  # noqa: E731
    return await ledger.execute(ctx, plan(playbook_id, decide))


async def promote_playbook(ledger: Ledger, ctx: CommandContext, playbook_id: str) -> CommandReply:
    actor = ctx.principal.sub
    return await ledger.execute(ctx, plan(playbook_id, lambda p: rollout.decide_promote(p, actor)))
