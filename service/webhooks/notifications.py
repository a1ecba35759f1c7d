"""A workflow's notification path naming a subscription (`webhook:<id>`): its failed runs,
automatic pauses and violations go there whatever the subscription's event-type filter says.

The path is read from the workflow stream as it stood when the event was committed (its latest
definition before the event), so a later revision never re-routes an earlier failure. Naming
grants nothing: the fan-out still requires the subscription to be enabled and to cover the
event's site or agency, so a path naming another agency's subscription delivers nowhere.
"""

from __future__ import annotations

import asyncpg

from events.domain import webhooks as domain
from events.domain.workflows import WORKFLOWS
from events.envelope import StoredEvent

DEFINITION_AS_OF = """
SELECT u.position, d.path FROM unnest($1::bigint[], $2::text[]) AS u(position, stream_id)
CROSS JOIN LATERAL (
    SELECT e.data->'definition'->>'notification_path' AS path FROM events e
    WHERE e.stream_id = u.stream_id AND e.type = ANY($3::text[]) AND e.position < u.position
    ORDER BY e.stream_version DESC LIMIT 1) d
"""
"""Within one stream, a later version always has a larger position (the next append waits for
the previous one's commit), so `position <` is "before this event" there."""
DEFINING_TYPES = ["WorkflowRegistered", "WorkflowRevised"]


async def named_subscriptions(
    conn: asyncpg.Connection, events: list[StoredEvent]
) -> dict[int, str]:
    """For each event that notifies, by position: the subscription its workflow names."""
    notifying = [
        e for e in events if e.type in domain.NOTIFYING_TYPES and domain.notifies(e.type, e.data)
    ]
    workflow_ids = [e.data.get("workflow_id") for e in notifying]
    asked = [(e, w) for e, w in zip(notifying, workflow_ids, strict=True) if isinstance(w, str)]
    if not asked:
        return {}
    rows = await conn.fetch(
        DEFINITION_AS_OF,
        [e.position for e, _ in asked],
        [WORKFLOWS.stream_id(w) for _, w in asked],
        DEFINING_TYPES,
    )
    named = {r["position"]: domain.named_subscription(r["path"]) for r in rows}
    return {position: sub for position, sub in named.items() if sub is not None}
