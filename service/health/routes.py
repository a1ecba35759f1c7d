"""Liveness and readiness. No token: load balancers and orchestrators call these."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from service.audit.status import integrity
from service.database import head_revision, schema_revision
from service.metrics import projection_lag

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz")
async def healthz() -> dict[str, str]:
    """The process is up. Says nothing about the database."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready to serve: the database answers and its schema is the one this build needs."""
    checks: dict[str, object] = {}
    try:
        current = await schema_revision(request.app.state.pool)
        checks["database"] = "ok"
    except Exception as error:  # any failure to reach the database means not ready
        checks["database"] = f"unreachable: {type(error).__name__}"
        current = None
    head = head_revision()
    checks["schema"] = {"current": current, "required": head}
    ready = checks["database"] == "ok" and current == head
    if ready:
        checks["projections"] = await projection_lag(request.app.state.pool)
        checks["integrity"] = await integrity(request.app.state.pool)
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )
