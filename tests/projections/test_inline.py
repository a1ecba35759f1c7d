"""Inline projections: applied in the append transaction, and again by the runner, exactly once
in effect."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from projections import generations
from projections.rebuild import rebuild
from projections.runner import Runner
from projections.stream_heads import StreamHeads
from tests.conftest import TokenFactory
from tests.support import bearer, site_body

HEADS = StreamHeads()


async def test_a_command_is_readable_inline_before_its_answer_returns(
    client: httpx.AsyncClient, token: TokenFactory, pool: asyncpg.Pool
) -> None:
    for _ in range(100):  # the in-process runner creates the first generation at start
        live = await generations.live(pool, HEADS.name)
        if live is not None:
            break
        await asyncio.sleep(0.05)
    assert live is not None
    created = await client.post("/v1/sites", json=site_body(), headers=bearer(token()))
    assert created.status_code == 201
    row = await pool.fetchrow(
        f"SELECT version, last_event_type, last_position FROM {live.tables['heads']} "
        "WHERE stream_id = 'site-acme-shop'"
    )
    assert row is not None
    assert tuple(row.values()) == (1, "SiteRegistered", created.json()["position"])
    key = await client.post("/v1/sites/acme-shop/keys", headers=bearer(token()))
    assert key.status_code == 201
    version = await pool.fetchval(
        f"SELECT version FROM {live.tables['heads']} WHERE stream_id = 'site-acme-shop'"
    )
    assert version == 2
    # The runner applies the same events again; the rows equal a rebuild from zero.
    await Runner(pool, HEADS).catch_up(live.generation)
    rebuilt = await rebuild(pool, HEADS)
    query = "SELECT stream_id, version, last_event_type, last_position FROM {} ORDER BY 1"
    assert await pool.fetch(query.format(live.tables["heads"])) == await pool.fetch(
        query.format(rebuilt.tables["heads"])
    )
