"""Administration of the read models: rebuild one from the whole log (blue/green)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from events.errors import NotFound, StateConflict
from projections import by_name
from projections.rebuild import rebuild
from service.auth.dependencies import Caller
from service.paths import ProjectionName
from service.tenancy import require_platform

log = logging.getLogger("sophmate.ledger")
router = APIRouter(tags=["read models"])


class RebuildStarted(BaseModel):
    projection: str
    status: str = Field(examples=["rebuilding"])


async def _free(pool: asyncpg.Pool, name: str) -> bool:
    """Whether no rebuild holds the read model's lock (another replica, or the CLI): asked
    before answering, since the rebuild itself runs after the answer."""
    async with pool.acquire() as conn:
        key = f"rebuild:{name}"
        if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):
            return False
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", key)
        return True


@router.post(
    "/v1/admin/projections/{name}/rebuild",
    operation_id="rebuild-projection",
    status_code=202,
    response_model=RebuildStarted,
    responses={409: {"description": "A rebuild of this read model is already running."}},
)
async def rebuild_projection(name: ProjectionName, who: Caller, request: Request) -> RebuildStarted:
    """Rebuild a read model from the whole log into a fresh copy, and swap it in when it has
    caught up. Queries keep answering from the current copy meanwhile. Platform administrators
    only (a token with sites ["*"])."""
    require_platform(who, "rebuilding a read model")
    try:
        projection = by_name(name)
    except KeyError:
        raise NotFound("no read model of that name") from None
    running: dict[str, asyncio.Task[Any]] = request.app.state.rebuilds
    if name in running or not await _free(request.app.state.pool, name):
        raise StateConflict("a rebuild of this read model is already running")
    task = asyncio.create_task(rebuild(request.app.state.pool, projection))
    running[name] = task
    request.app.state.background.add(task)

    def finished(done: asyncio.Task[Any]) -> None:
        running.pop(name, None)
        request.app.state.background.discard(done)
        # Retrieved here, so a failed rebuild is logged once, never "never retrieved".
        if not done.cancelled() and done.exception() is not None:
            log.error("rebuild failed", exc_info=done.exception(), extra={"projection": name})

    task.add_done_callback(finished)
    return RebuildStarted(projection=name, status="rebuilding")
