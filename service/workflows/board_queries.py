"""Reads of the workflow board and the approval queue, tenant-scoped through service.tenancy."""

from __future__ import annotations

import asyncpg

from projections.base import Tables
from service.auth.principal import Principal
from service.auth.roles import MATRIX
from service.pagination import CursorCodec, CursorKey, KeyInt, KeyText
from service.tenancy import scope_condition
from service.workflows.board_schemas import PendingApproval, WorkflowCard

APPROVERS = MATRIX["approve-run"]


class WorkflowKey(CursorKey):
    workflow_id: KeyText


class RequestKey(CursorKey):
    requested_position: KeyInt


SITE_WORKFLOWS = CursorCodec("list-site-workflows", WorkflowKey)
PENDING_APPROVALS = CursorCodec("list-pending-approvals", RequestKey)


async def site_workflows(
    pool: asyncpg.Pool,
    tables: Tables,
    principal: Principal,
    site_id: str,
    after: WorkflowKey | None,
    limit: int,
) -> list[tuple[WorkflowKey, WorkflowCard]]:
    """The site's workflows after `after` by workflow id, at most `limit` (ask one more to
    know whether another page exists), each with its key."""
    condition, params = scope_condition(principal, 4)
    rows = await pool.fetch(
        f"SELECT * FROM {tables['workflows']} "  # noqa: S608 (our own names)
        f"WHERE site_id = $1 AND workflow_id > $2 AND {condition} ORDER BY workflow_id LIMIT $3",
        site_id,
        after.workflow_id if after else "",
        limit,
        *params,
    )
    return [
        (WorkflowKey(workflow_id=row["workflow_id"]), WorkflowCard.model_validate(dict(row)))
        for row in rows
    ]


async def pending_approvals(
    pool: asyncpg.Pool,
    tables: Tables,
    principal: Principal,
    after: RequestKey | None,
    limit: int,
) -> list[tuple[RequestKey, PendingApproval]]:
    """Runs waiting for this principal's approval, oldest request first, keyed by the position
    of their request. The requester never approves their own run, nor anyone twice."""
    if not principal.has_any(APPROVERS):
        return []
    condition, params = scope_condition(principal, 4)
    rows = await pool.fetch(
        f"""SELECT * FROM {tables["runs"]}
            WHERE waiting AND requested_position > $1 AND requested_by <> $2
              AND NOT $2 = ANY(approvals) AND {condition}
            ORDER BY requested_position LIMIT $3""",  # noqa: S608 (our own names)
        after.requested_position if after else 0,
        principal.sub,
        limit,
        *params,
    )
    return [
        (
            RequestKey(requested_position=row["requested_position"]),
            PendingApproval.model_validate(dict(row)),
        )
        for row in rows
    ]
