"""A projection whose version changed in code rebuilds itself on start."""

from __future__ import annotations

import asyncpg

from projections import generations
from projections.site_activity import SiteActivity
from service.read_models.subscribers import _rebuild_if_outdated
from tests.projections.history import write_history


class OldSiteActivity(SiteActivity):
    version = SiteActivity.version - 1


async def test_an_outdated_live_generation_is_rebuilt_and_swapped(
    pool: asyncpg.Pool, owner: asyncpg.Connection
) -> None:
    await write_history(owner, 3_000)
    async with pool.acquire() as conn:
        old = await generations.create(conn, OldSiteActivity(), "live")
    await _rebuild_if_outdated(pool)
    live = await generations.live(pool, SiteActivity.name)
    assert live is not None
    assert live.generation == old.generation + 1
    assert live.version == SiteActivity.version
    assert live.events_applied == 3_000
