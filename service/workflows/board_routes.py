"""The workflow read models: a site's workflow board and the approval queue. Both are inline
projections, updated with each command before it answers."""

from __future__ import annotations

from fastapi import APIRouter, Request

from events.domain.sites import SITES
from projections.approval_queue import ApprovalQueue
from projections.workflow_board import WorkflowBoard
from service import clock
from service.auth.dependencies import Caller
from service.pagination import DEFAULT_LIMIT, Cursor, Limit
from service.paths import SiteId
from service.read_models.freshness import MinPosition, read_model
from service.requests import LedgerDep
from service.workflows import board_queries
from service.workflows.board_schemas import PendingApprovals, SiteWorkflows

router = APIRouter(tags=["read models"])
WORKFLOW_BOARD = WorkflowBoard()
APPROVAL_QUEUE = ApprovalQueue()


@router.get(
    "/v1/sites/{site_id}/workflows",
    operation_id="list-site-workflows",
    response_model=SiteWorkflows,
)
async def list_site_workflows(
    site_id: SiteId,
    who: Caller,
    request: Request,
    ledger: LedgerDep,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> SiteWorkflows:
    """A site's workflow board, by workflow id: each workflow's owner, category, mode
    (read-only or write), environment, whether it is paused (by whom and why) and its last run
    and result. The board is updated with each command, before the command answers."""
    after = board_queries.SITE_WORKFLOWS.decode(cursor)
    await ledger.load_visible(who, SITES, SITES.stream_id(site_id), "site")
    pool, tables = await read_model(request, WORKFLOW_BOARD, min_position)
    found = await board_queries.site_workflows(pool, tables, who, site_id, after, limit + 1)
    items, next_cursor = board_queries.SITE_WORKFLOWS.page(found, limit)
    return SiteWorkflows(items=items, next_cursor=next_cursor, limit=limit)


@router.get("/v1/approvals", operation_id="list-pending-approvals", response_model=PendingApprovals)
async def list_pending_approvals(
    who: Caller,
    request: Request,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> PendingApprovals:
    """Runs waiting for your approval, oldest request first: on sites you may see, never runs
    you requested or already approved. Only operations leads and administrators approve runs;
    for anyone else the list is empty."""
    after = board_queries.PENDING_APPROVALS.decode(cursor)
    pool, tables = await read_model(request, APPROVAL_QUEUE, min_position)
    found = await board_queries.pending_approvals(
        pool, tables, who, after, limit + 1, clock.now(request)
    )
    items, next_cursor = board_queries.PENDING_APPROVALS.page(found, limit)
    return PendingApprovals(items=items, next_cursor=next_cursor, limit=limit)
