"""FastAPI dependencies: the Bearer token becomes a Principal, the matrix gates the route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from events.errors import Forbidden
from service import logs
from service.auth import grants
from service.auth.principal import Principal
from service.auth.roles import allowed_roles
from service.auth.tokens import TokenVerifier
from service.problems import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="A JWT signed by a key this ledger trusts.")


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("a Bearer token is required")
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(credentials.credentials)
    logs.bind(actor=principal.sub)
    return principal


async def authorize(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Principal:
    """Checks the role matrix entry of the route's operationId."""
    operation_id = request.scope["route"].operation_id
    if not principal.has_any(allowed_roles(operation_id)):
        raise Forbidden(f"your roles may not call {operation_id}")
    # Sites that enforce access grants honour only the granted roles (operator rollout).
    return grants.honoured(request, principal, operation_id)


Caller = Annotated[Principal, Depends(authorize)]
"""A verified principal whose roles the matrix allows for this route."""
