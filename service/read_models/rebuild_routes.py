"""Administration of the read models: rebuild one from the whole log (blue/green)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from events.errors import NotFound
from projections import by_name
from projections.rebuild import rebuild
from service.auth.dependencies import Caller
from service.paths import ProjectionName
from service.tenancy import require_platform

router = APIRouter(tags=["read models"])


class RebuildStarted(BaseModel):
    projection: str
    status: str = Field(examples=["rebuilding"])


@router.post(
    "/v1/admin/projections/{name}/rebuild",
    operation_id="rebuild-projection",
    status_code=202,
    response_model=RebuildStarted,
)
async def rebuild_projection(name: ProjectionName, who: Caller, request: Request) -> RebuildStarted:
    """Rebuild a read model from the whole log into a fresh copy, and swap it in when it has
    caught up. Queries keep answering from the current copy meanwhile. Platform administrators
    only (a token with sites ["*"])."""
    require_platform(who, "rebuilding a read model")
    try:
        projection = by_name(name)
    except KeyError:
        raise NotFound(f"no projection named {name}") from None
    task = asyncio.create_task(rebuild(request.app.state.pool, projection))
    request.app.state.background.add(task)
    task.add_done_callback(request.app.state.background.discard)
    return RebuildStarted(projection=name, status="rebuilding")
