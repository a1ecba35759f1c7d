"""Playbooks: reuse across an agency's client sites without carrying one client's secrets,
customer data or assumptions into another (SOP: playbook import, export and agency reuse)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from events.domain.playbook_format import export_json_schema
from events.domain.playbooks import PLAYBOOKS
from service.auth.dependencies import Caller
from service.command import CommandResult
from service.contract.headers import VERSIONED
from service.paths import ChangeId, PlaybookId, SiteId
from service.playbooks import commands, queries
from service.playbooks.schemas import (
    CompleteLocalChangeBody,
    ExportPlaybookBody,
    ExportResult,
    ImportPlaybookBody,
    ImportResult,
    PlaybookView,
    RecordFirstRunBody,
    RegisterPlaybookBody,
    RevisePlaybookBody,
)
from service.playbooks.signing import PlaybookSigner
from service.requests import AsOf, AtVersion, Command, LedgerDep, reply, versioned

router = APIRouter(prefix="/v1", tags=["playbooks"])
PLAYBOOK = "/playbooks/{playbook_id}"


async def get_signer(request: Request) -> PlaybookSigner:
    signer: PlaybookSigner = request.app.state.playbook_signer
    return signer


Signer = Annotated[PlaybookSigner, Depends(get_signer)]


@router.get("/playbook-exports/schema", operation_id="get-playbook-export-schema")
async def get_playbook_export_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a signed playbook export document."""
    return export_json_schema()


@router.get("/playbook-exports/signing-keys", operation_id="get-playbook-signing-keys")
async def get_playbook_signing_keys(signer: Signer) -> dict[str, Any]:
    """The ledger's public Ed25519 key(s) for export signatures, as a JWKS."""
    return signer.jwks()


@router.post(
    "/playbooks", operation_id="register-playbook", status_code=201, response_model=CommandResult
)
async def register_playbook(
    body: RegisterPlaybookBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Register a playbook on a site: steps and prompt templates, structured inputs, approval
    boundaries and what it assumes of a site. Its version is named by its content hash. A
    secret or personal detail anywhere in it is refused with the pointers and kinds found."""
    return reply(await commands.register_playbook(ledger, ctx, body))


@router.get(PLAYBOOK, operation_id="get-playbook", response_model=PlaybookView, responses=VERSIONED)
async def get_playbook(
    playbook_id: PlaybookId,
    who: Caller,
    ledger: LedgerDep,
    as_of: AsOf = None,
    at_version: AtVersion = None,
) -> JSONResponse:
    """A playbook's current version, provenance, local changes, first run, approvals and what its
    promotion still needs."""
    loaded = await ledger.load_visible(
        who,
        PLAYBOOKS,
        PLAYBOOKS.stream_id(playbook_id),
        "playbook",
        to_version=at_version,
        as_of=as_of,
    )
    return versioned(queries.playbook_view(loaded), loaded.version)


@router.post(PLAYBOOK + "/revisions", operation_id="revise-playbook", response_model=CommandResult)
async def revise_playbook(
    playbook_id: PlaybookId, body: RevisePlaybookBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """A new version of the content. It returns to staging and read-only; its first run and
    approvals are for the old version and no longer count."""
    return reply(await commands.revise_playbook(ledger, ctx, playbook_id, body))


@router.post(
    PLAYBOOK + "/exports",
    operation_id="export-playbook",
    status_code=201,
    response_model=ExportResult,
)
async def export_playbook(
    playbook_id: PlaybookId,
    body: ExportPlaybookBody,
    ctx: Command,
    ledger: LedgerDep,
    signer: Signer,
) -> Response:
    """A portable, signed document of the current version: no site-local ids, secrets, provider
    keys or customer data, with its provenance (source site, export date, version, owner,
    content hash). The export is recorded on the playbook."""
    return reply(await commands.export_playbook(ledger, ctx, signer, playbook_id, body))


@router.post(
    "/sites/{site_id}/playbook-imports",
    operation_id="import-playbook",
    status_code=201,
    response_model=ImportResult,
)
async def import_playbook(
    site_id: SiteId, body: ImportPlaybookBody, ctx: Command, ledger: LedgerDep, signer: Signer
) -> Response:
    """Import a signed export into a site of the same agency. The document is scanned for
    secrets (422 with pointers and kinds, nothing appended), then its format, schema and
    signature are checked. The playbook starts in staging and read-only, with the local changes
    its assumptions need on this site. The same content twice is a no-op (200)."""
    return reply(await commands.import_playbook(ledger, ctx, signer, site_id, body))


@router.post(
    PLAYBOOK + "/local-changes/{change_id}/complete",
    operation_id="complete-local-change",
    response_model=CommandResult,
)
async def complete_local_change(
    playbook_id: PlaybookId,
    change_id: ChangeId,
    body: CompleteLocalChangeBody,
    ctx: Command,
    ledger: LedgerDep,
) -> Response:
    """Mark a local change (an assumption adapted or confirmed for this site) done."""
    return reply(await commands.complete_local_change(ledger, ctx, playbook_id, change_id, body))


@router.post(
    PLAYBOOK + "/first-runs",
    operation_id="record-playbook-first-run",
    status_code=201,
    response_model=CommandResult,
)
async def record_playbook_first_run(
    playbook_id: PlaybookId, body: RecordFirstRunBody, ctx: Command, ledger: LedgerDep
) -> Response:
    """Record the first run of this version, in staging or read-only, and its result."""
    return reply(await commands.record_first_run(ledger, ctx, playbook_id, body))


@router.post(
    PLAYBOOK + "/promotion-approvals",
    operation_id="approve-playbook-promotion",
    response_model=CommandResult,
)
async def approve_playbook_promotion(
    playbook_id: PlaybookId, ctx: Command, ledger: LedgerDep
) -> Response:
    """A second person's approval of this version for production: never its author."""
    return reply(await commands.approve_promotion(ledger, ctx, playbook_id))


@router.post(
    PLAYBOOK + "/promote",
    operation_id="promote-playbook",
    summary="Promote this version to production",
    response_model=CommandResult,
)
async def promote_playbook(playbook_id: PlaybookId, ctx: Command, ledger: LedgerDep) -> Response:
    """To production: refused (409) with the full `missing` list unless this version had a
    successful first run in staging or read-only, every local change is done, and a second
    person approved it."""
    return reply(await commands.promote_playbook(ledger, ctx, playbook_id))
