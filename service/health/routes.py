"""Liveness and readiness. No token: load balancers and orchestrators call these."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from service.audit.status import integrity
from service.database import OUTAGES, head_revision, schema_revision
from service.metrics import projection_lag
from service.serving import is_draining

router = APIRouter(tags=["health"])


class Readiness(BaseModel):
    """Whether this process should get traffic, and each check that says so."""

    status: Literal["ready", "not ready"]
    checks: dict[str, Any] = Field(
        description="`database`: ok or why not; `schema`: the current and required "
        "revision; `subscribers`, `projections` and `integrity` once the database answers; "
        "`shutdown` while draining.",
        examples=[{"database": "ok", "schema": {"current": "0042", "required": "0042"}}],
    )


class Liveness(BaseModel):
    status: Literal["ok"]


_READINESS = {"model": Readiness}


@router.get("/healthz", operation_id="healthz", response_model=Liveness)
async def healthz() -> dict[str, str]:
    """The process is up. Says nothing about the database."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    summary="Ready to serve",
    responses={
        200: {**_READINESS, "description": "Ready."},
        503: {**_READINESS, "description": "Not ready: the checks say why."},
    },
)
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: not shutting down, the database answers, its schema is the one this build
    needs, and every subscriber of this process (the projection runners) runs, within
    LEDGER_SUBSCRIBER_MAX_LAG_EVENTS of the log."""
    state = request.app.state
    checks: dict[str, object] = {}
    # First of all on SIGTERM, so a load balancer stops sending before the listener closes.
    ready = not is_draining(request.scope)
    if not ready:
        checks["shutdown"] = "draining"
    try:
        current = await schema_revision(state.pool)
        checks["database"] = "ok"
    except OUTAGES as error:
        checks["database"] = f"unreachable: {type(error).__name__}"
        current = None
    head = head_revision()
    checks["schema"] = {"current": current, "required": head}
    ready = ready and checks["database"] == "ok" and current == head
    supervisor = getattr(state, "supervisor", None)
    if checks["database"] != "ok" and supervisor is not None:
        checks["subscribers"] = {n: {"status": s.status} for n, s in supervisor.states.items()}
    if checks["database"] == "ok" and supervisor is not None:
        try:
            running, checks["subscribers"] = await supervisor.report(
                state.pool, state.settings.subscriber_max_lag_events
            )
            checks["projections"] = await projection_lag(state.pool)
            checks["integrity"] = await integrity(state.pool)
            ready = ready and running
        except OUTAGES as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
            ready = False
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
