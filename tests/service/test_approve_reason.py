"""approve-run takes an optional reason: recorded with the approval (event metadata `reason`,
as the architecture page puts every command's why), and shown in the history."""

from __future__ import annotations

import json

import asyncpg

from tests.conftest import TokenFactory
from tests.service.conftest import Api, count_events
from tests.support import bearer

WF = "/v1/workflows/nightly-meta-descriptions"


async def approval_metadata(pool: asyncpg.Pool, run_id: str) -> dict[str, object]:
    raw = await pool.fetchval(
        "SELECT metadata FROM events WHERE type = 'RunApproved' AND data->>'run_id' = $1", run_id
    )
    found: dict[str, object] = json.loads(raw) if isinstance(raw, str) else dict(raw)
    return found


async def test_the_reason_is_recorded_with_the_approval_and_shown_in_history(
    api: Api, pool: asyncpg.Pool, token: TokenFactory
) -> None:
    assert (await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")).status_code == 201
    why = {"reason": "checked the 14 drafts in staging"}
    approved = await api.post(WF + "/runs/r1/approve", why, "olga")
    assert approved.status_code == 200, approved.text
    assert (await approval_metadata(pool, "r1"))["reason"] == why["reason"]
    root = bearer(token(sub="root", roles=("administrator",), sites=("*",)))
    history = await api.client.get(
        "/v1/events", params={"type": "RunApproved", "limit": 200}, headers=root
    )
    (record,) = history.json()["items"]
    assert record["metadata"]["reason"] == why["reason"]


async def test_approve_without_a_body_or_reason_records_no_reason(
    api: Api, pool: asyncpg.Pool
) -> None:
    for run_id, body in (("r1", None), ("r2", {}), ("r3", {"reason": "  "})):
        runs = WF + "/runs"
        assert (await api.post(runs, {"run_id": run_id}, "erin", "editor")).status_code == 201
        approved = await api.post(f"{runs}/{run_id}/approve", body, "olga")
        assert approved.status_code == 200, approved.text
        assert "reason" not in await approval_metadata(pool, run_id)


async def test_a_malformed_approve_body_is_refused_and_appends_nothing(
    api: Api, pool: asyncpg.Pool
) -> None:
    assert (await api.post(WF + "/runs", {"run_id": "r1"}, "erin", "editor")).status_code == 201
    before = await count_events(pool)
    for body in ({"reason": "x" * 2001}, {"why": "typo"}):
        refused = await api.post(WF + "/runs/r1/approve", body, "olga")
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert await count_events(pool) == before
