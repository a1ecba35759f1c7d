"""Operator rollout: role SOPs, acknowledgments, access grants, readiness, the first-week
review and the runbook (SOP: operator training and SOP rollout)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response

from events.domain.rollout_events import ReadinessCheck
from service.auth.dependencies import Caller
from service.command import CommandReply
from service.contract.headers import VERSIONED
from service.pagination import DEFAULT_LIMIT, Cursor, CursorCodec, CursorKey, KeyInt, Limit
from service.paths import SiteId
from service.read_models.freshness import MinPosition
from service.requests import Command, LedgerDep, reply
from service.rollout import commands, queries, views
from service.rollout.runbook import render_markdown
from service.rollout.schemas import (
    AcknowledgeSopBody,
    GrantAccessBody,
    OpenFindingList,
    OperatorAccessView,
    PublishSopBody,
    ReadinessView,
    RecordReviewFindingBody,
    RevokeAccessBody,
    RolloutCommandResult,
    RunbookView,
    SetGrantEnforcementBody,
    SopCoverageView,
    VerifyReadinessCheckBody,
)

router = APIRouter(prefix="/v1/sites/{site_id}/rollout", tags=["rollout"])
Result = RolloutCommandResult


async def answered(request: Request, outcome: CommandReply) -> Response:
    # This replica honours the change before it answers: a revoke that has answered is
    # enforced here from the next request on (service/auth/grants.py).
    await request.app.state.grant_index.refresh()
    return reply(outcome)


@router.post("/sops", operation_id="publish-sop", status_code=201, response_model=Result)
async def publish_sop(
    site_id: SiteId, body: PublishSopBody, ctx: Command, ledger: LedgerDep, request: Request
) -> Response:
    """Publish a version of the SOP of one role and topic: when to ask, approve, reject,
    escalate and stop, with examples, refusal rules, approval boundaries and the escalation
    path; a missing part is named in `missing`. Publishing again makes a new version (say why
    in `change_note`) and suspends that role's grants until their holders acknowledge it."""
    return await answered(request, await commands.publish_sop(ledger, ctx, site_id, body))


@router.post(
    "/acknowledgments", operation_id="acknowledge-sop", status_code=201, response_model=Result
)
async def acknowledge_sop(
    site_id: SiteId, body: AcknowledgeSopBody, ctx: Command, ledger: LedgerDep, request: Request
) -> Response:
    """Acknowledge the current version of one SOP of a role your token holds. Allowed without
    a grant, even where grants are enforced: it is how a suspended grant comes back."""
    return await answered(request, await commands.acknowledge_sop(ledger, ctx, site_id, body))


@router.post("/grants", operation_id="grant-access", status_code=201, response_model=Result)
async def grant_access(
    site_id: SiteId, body: GrantAccessBody, ctx: Command, ledger: LedgerDep, request: Request
) -> Response:
    """Grant a subject a role on the site. Refused, naming what is missing, until the subject
    has acknowledged every current SOP of the role and, for any role but administrator, the
    site is ready (facts recorded, every readiness check verified and not stale)."""
    return await answered(request, await commands.grant_access(ledger, ctx, site_id, body))


@router.post("/grants/revoke", operation_id="revoke-access", response_model=Result)
async def revoke_access(
    site_id: SiteId, body: RevokeAccessBody, ctx: Command, ledger: LedgerDep, request: Request
) -> Response:
    """Revoke a subject's grant of a role, with the reason."""
    return await answered(request, await commands.revoke_access(ledger, ctx, site_id, body))


@router.put("/enforcement", operation_id="set-grant-enforcement", response_model=Result)
async def set_grant_enforcement(
    site_id: SiteId,
    body: SetGrantEnforcementBody,
    ctx: Command,
    ledger: LedgerDep,
    request: Request,
) -> Response:
    """Switch grant enforcement on or off. While on, a token's roles count on this site only
    where the subject holds an active grant of them; otherwise 403 naming the missing grant or
    acknowledgment. Switching it on needs an active owner grant of your own."""
    outcome = await commands.set_grant_enforcement(ledger, ctx, site_id, body)
    return await answered(request, outcome)


@router.post("/readiness/{check}", operation_id="verify-readiness-check", response_model=Result)
async def verify_readiness_check(
    site_id: SiteId,
    check: ReadinessCheck,
    body: VerifyReadinessCheckBody,
    ctx: Command,
    ledger: LedgerDep,
    request: Request,
) -> Response:
    """Record that a readiness check was verified: by you, now, how, with a note of what you
    saw. A hosting or provider change makes every check stale until verified again."""
    outcome = await commands.verify_readiness_check(ledger, ctx, site_id, check, body)
    return await answered(request, outcome)


@router.post(
    "/findings", operation_id="record-review-finding", status_code=201, response_model=Result
)
async def record_review_finding(
    site_id: SiteId,
    body: RecordReviewFindingBody,
    ctx: Command,
    ledger: LedgerDep,
    request: Request,
) -> Response:
    """Record a first-week review finding about an operator, citing events of this site. It
    marks the SOP of that role and topic as needing an update until a new version is
    published; repeated findings of one kind for one operator escalate to the SOP's owner."""
    after = request.app.state.settings.rollout_escalate_after_findings
    outcome = await commands.record_review_finding(ledger, ctx, site_id, body, after)
    return await answered(request, outcome)


@router.get("/readiness", operation_id="get-site-readiness", response_model=ReadinessView)
async def get_site_readiness(
    site_id: SiteId, who: Caller, request: Request, min_position: MinPosition = None
) -> ReadinessView:
    """Whether the site is ready for the wider team: its setup facts, and each readiness check
    with who verified it, when, how and their note, or why it is missing or stale."""
    found = await queries.site_rollout(request, who, site_id, min_position)
    return views.readiness(site_id, found.rollout, found.site)


@router.get("/sops", operation_id="get-sop-coverage", response_model=SopCoverageView)
async def get_sop_coverage(
    site_id: SiteId, who: Caller, request: Request, min_position: MinPosition = None
) -> SopCoverageView:
    """SOP coverage per role and topic: missing, current, or needing an update (an open
    review finding against the current version)."""
    found = await queries.site_rollout(request, who, site_id, min_position)
    return SopCoverageView(site_id=site_id, coverage=views.coverage(found.rollout))


@router.get("/operators", operation_id="get-operator-access", response_model=OperatorAccessView)
async def get_operator_access(
    site_id: SiteId, who: Caller, request: Request, min_position: MinPosition = None
) -> OperatorAccessView:
    """Each operator's acknowledgments (current or not) and grants (active, suspended with
    what would bring them back, or revoked)."""
    found = await queries.site_rollout(request, who, site_id, min_position)
    operators = views.operators(found.rollout)
    return OperatorAccessView(site_id=site_id, enforced=found.rollout.enforced, operators=operators)


class FindingKey(CursorKey):
    """Where a page of open findings ends: its last finding's number in recording order."""

    recorded: KeyInt


OPEN_FINDINGS = CursorCodec("list-open-findings", FindingKey)


@router.get("/findings", operation_id="list-open-findings", response_model=OpenFindingList)
async def list_open_findings(
    site_id: SiteId,
    who: Caller,
    request: Request,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> OpenFindingList:
    """Review findings whose SOP has not had a new version since, in the order recorded."""
    after = OPEN_FINDINGS.decode(cursor)
    found = await queries.site_rollout(request, who, site_id, min_position)
    # Findings are only ever added, so a finding's place in recording order is a stable keyset.
    keyed = [
        (FindingKey(recorded=number), views.finding(f))
        for number, f in enumerate(found.rollout.findings, start=1)
        if found.rollout.is_open(f) and (after is None or number > after.recorded)
    ]
    items, next_cursor = OPEN_FINDINGS.page(keyed[: limit + 1], limit)
    return OpenFindingList(items=items, next_cursor=next_cursor, limit=limit)


@router.get(
    "/runbook",
    operation_id="get-rollout-runbook",
    response_model=RunbookView,
    responses={200: {"content": {"text/markdown": {}}, **VERSIONED[200]}},
)
async def get_rollout_runbook(
    site_id: SiteId,
    who: Caller,
    ledger: LedgerDep,
    format: Annotated[Literal["json", "markdown"] | None, Query()] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """The site's rollout runbook, generated from the log: setup facts, readiness checks with
    their evidence, SOP versions and who acknowledged them, grants and open findings. JSON, or
    Markdown with `format=markdown` or `Accept: text/markdown`."""
    book = await queries.runbook(ledger, who, site_id)
    headers = {"ETag": f'"{book.stream_version}"'}
    if format == "markdown" or (format is None and "text/markdown" in (accept or "")):
        return Response(render_markdown(book), media_type="text/markdown", headers=headers)
    return JSONResponse(book.model_dump(mode="json"), headers=headers)
