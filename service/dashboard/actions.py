"""Actions from the pages: the API's own command functions, the same role matrix entries.

Every form carries the session's CSRF secret, a confirmation box and a one-time form id. The
form id is the command's Idempotency-Key, so a double-clicked or resubmitted form gets the first
answer again instead of acting twice. A refusal is shown with its `missing` list in words.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from events.errors import Forbidden, InvalidCommand, LedgerError
from service.auth import grants
from service.dashboard import sources
from service.dashboard.rendering import PageRoute, Viewer, form_fields, render, status_of, viewer
from service.dashboard.session import csrf_matches
from service.ledger import Ledger

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Who = Annotated[Viewer, Depends(viewer)]


class CsrfRefused(Forbidden):
    title = "Form refused"


def context(
    request: Request, who: Viewer, operation_id: str, fields: dict[str, str]
) -> sources.CommandContext:
    if not who.may(operation_id):
        raise Forbidden(f"your roles may not call {operation_id}")
    # The same grant hook as the API's role layer, for the command itself (the page's read
    # was gated when the viewer was made).
    principal = grants.honoured(request, who.principal, operation_id)
    form_id = fields.get("form_id", "")
    key = request.app.state.request_hash_key
    signed = {k: v for k, v in sorted(fields.items()) if k != "csrf"}
    message = f"POST {request.url.path}\n".encode() + json.dumps(signed).encode()
    return sources.CommandContext(
        principal=principal,
        operation_id=operation_id,
        request_id=request.state.request_id,
        client_ip=request.client.host if request.client else None,
        idempotency_key=f"dashboard-{form_id}" if 8 <= len(form_id) <= 64 else None,
        request_hash=hmac.new(key, message, hashlib.sha256).digest(),
        if_match=None,
    )


Command = Callable[[Ledger, sources.CommandContext, str | None], Awaitable[sources.CommandReply]]


async def act(
    request: Request,
    who: Viewer,
    operation_id: str,
    command: Command,
    back: str,
    done: str,
) -> Response:
    fields = await form_fields(request)
    if not csrf_matches(who.session.csrf, fields.get("csrf")):
        raise CsrfRefused("the form has expired or did not come from this dashboard; reload it")
    reason = fields.get("reason", "").strip() or None
    try:
        if fields.get("confirm") != "yes":
            raise InvalidCommand("tick the confirmation box to go ahead", missing=["confirm"])
        ctx = context(request, who, operation_id, fields)
        reply = await command(request.app.state.ledger, ctx, reason)
    except ValidationError:
        return refused(request, who, InvalidCommand("the form's values are not valid"), back)
    except LedgerError as error:
        return refused(request, who, error, back)
    if reply.status_code >= 400:
        detail = str(reply.body.get("detail", "refused"))
        missing = [str(m) for m in reply.body.get("missing", [])]
        status = reply.status_code
        page = {"detail": detail, "missing": missing, "back": back}
        return render(request, "refused.html", who, status, **page)
    position = int(reply.body.get("position", 0))
    at = f"&at={position}" if position > 0 else ""
    return RedirectResponse(f"{back}?done={done}{at}", 303)


def refused(request: Request, who: Viewer, error: LedgerError, back: str) -> Response:
    return render(
        request,
        "refused.html",
        who,
        status_of(error),
        detail=error.detail,
        missing=list(error.missing or []),
        back=back,
    )


@router.post("/dashboard/workflows/{workflow_id}/runs/{run_id}/approve")
async def approve_run(request: Request, workflow_id: str, run_id: str, who: Who) -> Response:
    async def command(
        ledger: Ledger, ctx: sources.CommandContext, reason: str | None
    ) -> sources.CommandReply:
        return await sources.approve_run(ledger, ctx, workflow_id, run_id, reason)

    return await act(request, who, "approve-run", command, "/dashboard/approvals", "approved")


@router.post("/dashboard/workflows/{workflow_id}/runs/{run_id}/reject")
async def reject_run(request: Request, workflow_id: str, run_id: str, who: Who) -> Response:
    async def command(
        ledger: Ledger, ctx: sources.CommandContext, reason: str | None
    ) -> sources.CommandReply:
        return await sources.reject_run(ledger, ctx, workflow_id, run_id, reason)

    return await act(request, who, "reject-run", command, "/dashboard/approvals", "rejected")


@router.post("/dashboard/workflows/{workflow_id}/pause")
async def pause_workflow(request: Request, workflow_id: str, who: Who) -> Response:
    async def command(
        ledger: Ledger, ctx: sources.CommandContext, reason: str | None
    ) -> sources.CommandReply:
        return await sources.pause_workflow(ledger, ctx, workflow_id, reason)

    back = f"/dashboard/workflows/{quote(workflow_id, safe='')}"
    return await act(request, who, "pause-workflow", command, back, "paused")


@router.post("/dashboard/sites/{site_id}/kill-switches")
async def engage_kill_switch(request: Request, site_id: str, who: Who) -> Response:
    fields = await form_fields(request)
    category = fields.get("category", "").strip() or "*"

    async def command(
        ledger: Ledger, ctx: sources.CommandContext, reason: str | None
    ) -> sources.CommandReply:
        return await sources.engage_kill_switch(ledger, ctx, site_id, category, reason)

    back = f"/dashboard/sites/{quote(site_id, safe='')}"
    return await act(request, who, "engage-kill-switch", command, back, "engaged")


@router.post("/dashboard/sites/{site_id}/kill-switches/{category}/release")
async def release_kill_switch(request: Request, site_id: str, category: str, who: Who) -> Response:
    async def command(
        ledger: Ledger, ctx: sources.CommandContext, reason: str | None
    ) -> sources.CommandReply:
        return await sources.release_kill_switch(ledger, ctx, site_id, category, reason)

    back = f"/dashboard/sites/{quote(site_id, safe='')}"
    return await act(request, who, "release-kill-switch", command, back, "released")
