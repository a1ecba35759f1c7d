"""Reads of the workflow board and the approval queue, tenant-scoped through service.tenancy."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from events.domain.identity import identity_key
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


AWAITING_APPROVAL = """w.approvals_required > 0 AND cardinality(w.halted_by) = 0
    AND NOT (r.approval_revision = w.revision AND coalesce(r.approved_until > {now}, false))"""
"""A queue row (`r`, joined to its workflow's, `w`) awaits approval at `now`: the approve
decider's refusals that hold for every approver are not true of it (its workflow needs
approvals, its gates do not halt it, and it has not enough approvals of the current revision
that hold then). The rules are the domain's, kept in the rows by projections/approval_queue.py;
here they only meet the clock. The queue and every count of runs pending (a site's activity)
ask this one condition."""
QUEUE_ROWS = """{runs} AS r JOIN (SELECT workflow_id, revision, approvals_required, halted_by
    FROM {workflows}) AS w USING (workflow_id)"""
"""The rows `AWAITING_APPROVAL` reads; of the workflow's, only what it asks (so `site_id` is
the run's, as the tenant condition expects)."""


async def pending_approvals(
    pool: asyncpg.Pool,
    tables: Tables,
    principal: Principal,
    after: RequestKey | None,
    limit: int,
    now: datetime,
) -> list[tuple[RequestKey, PendingApproval]]:
    """Runs waiting for this principal's approval at `now`, oldest request first, keyed by the
    position of their request: those awaiting approval (`AWAITING_APPROVAL`) that the requester
    never approves, nor anyone twice while their approval holds."""
    if not principal.has_any(APPROVERS):
        return []
    condition, params = scope_condition(principal, 5)
    rows = await pool.fetch(
        f"""SELECT r.workflow_id, r.run_id, site_id, agency_id, requested_by, requested_at,
                requested_position, w.approvals_required,
                CASE WHEN r.approval_revision = w.revision THEN ARRAY(
                    SELECT person FROM unnest(approvers, approvers_until) WITH ORDINALITY
                        AS a(person, until, n)
                    WHERE until > $4 ORDER BY n) ELSE '{{}}' END AS approvals
            FROM {QUEUE_ROWS.format(runs=tables["runs"], workflows=tables["workflows"])}
            WHERE {AWAITING_APPROVAL.format(now="$4")}
              AND requested_position > $1 AND requester_key <> $2
              AND NOT (r.approval_revision = w.revision AND EXISTS (
                  SELECT FROM unnest(approver_keys, approvers_until) AS a(key, until)
                  WHERE key = $2 AND until > $4))
              AND {condition}
            ORDER BY requested_position LIMIT $3""",  # noqa: S608 (our own names)
        after.requested_position if after else 0,
        identity_key(principal.sub),
        limit,
        now,
        *params,
    )
    return [
        (
            RequestKey(requested_position=row["requested_position"]),
            PendingApproval.model_validate(dict(row)),
        )
        for row in rows
    ]


async def runs_awaiting_approval(
    pool: asyncpg.Pool, tables: Tables, site_ids: list[str], now: datetime
) -> dict[str, int]:
    """How many runs of each site await approval at `now`, by the queue's own condition (the
    sites are those the caller was already allowed to see)."""
    rows = await pool.fetch(
        f"""SELECT r.site_id, count(*) AS runs
            FROM {QUEUE_ROWS.format(runs=tables["runs"], workflows=tables["workflows"])}
            WHERE r.site_id = ANY($1::text[]) AND {AWAITING_APPROVAL.format(now="$2")}
            GROUP BY r.site_id""",  # noqa: S608 (our own names)
        site_ids,
        now,
    )
    found = {row["site_id"]: row["runs"] for row in rows}
    return {site: found.get(site, 0) for site in site_ids}
