"""RFC 9457 problem+json for every error the service gives, FastAPI's own included.

A problem never carries a stack trace or the offending input: a rejected value may be a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from events.errors import (
    Forbidden,
    GateNotSatisfied,
    IdempotencyKeyReused,
    InvalidCommand,
    LedgerError,
    NotFound,
    SecretsFound,
    StateConflict,
    VersionConflict,
)
from service.database import OUTAGES
from service.redaction import safe_location_part

log = logging.getLogger("sophmate.ledger")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://sophmate.dev/problems/"

STATUS_OF: dict[type[LedgerError], int] = {
    InvalidCommand: 422,
    IdempotencyKeyReused: 422,
    GateNotSatisfied: 409,
    StateConflict: 409,
    VersionConflict: 409,
    NotFound: 404,
    Forbidden: 403,
}


class Unauthorized(LedgerError):
    title = "Unauthorized"


class ServiceUnavailable(LedgerError):
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


STATUS_OF[Unauthorized] = 401
STATUS_OF[ServiceUnavailable] = 503


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    kind: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    slug = kind or title.lower().replace(" ", "-")
    body = {"type": TYPE_BASE + slug, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_for(error: LedgerError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


async def _ledger_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, LedgerError)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if error.missing:
        extra["missing"] = error.missing
    if isinstance(error, VersionConflict):
        extra["current_version"] = error.current
    if isinstance(error, SecretsFound):
        extra["findings"] = error.findings
    if isinstance(error, Unauthorized):
        headers["WWW-Authenticate"] = 'Bearer realm="sophmate-ledger"'
    if isinstance(error, ServiceUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    return problem(_status_for(error), error.title, error.detail, headers=headers, **extra)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    # Only where and what: `input` and `ctx` would echo the submitted (maybe secret) values,
    # and a key the schema does not know is itself masked, since a key can hold a secret too.
    errors = [
        {
            "loc": [safe_location_part(part) for part in item.get("loc", ())],
            "msg": item.get("msg", ""),
            "type": item.get("type"),
        }
        for item in error.errors()
    ]
    missing = [
        ".".join(str(part) for part in item["loc"][1:])
        for item in errors
        if item["type"] == "missing"
    ]
    malformed = any(item["type"] == "json_invalid" for item in errors)
    detail = "the body is not valid JSON" if malformed else "the request does not match the schema"
    extra: dict[str, Any] = {"errors": errors}
    if missing:
        extra["missing"] = missing
    return problem(422, "Invalid request", detail, kind="invalid-request", **extra)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 413: "Content too large"}
    title = titles.get(error.status_code, "HTTP error")
    detail = error.detail if isinstance(error.detail, str) else title
    if error.status_code == 404 and detail == "Not Found":
        detail = "no route for this method and path"
    headers = dict(error.headers or {})
    if error.status_code == 405:
        # Starlette names the methods of the first route of the path only; a path can have two.
        headers["Allow"] = ", ".join(_methods_of_path(request))
    return problem(error.status_code, title, detail, headers=headers)


def _methods_of_path(request: Request) -> list[str]:
    path, methods = request.scope["path"], set[str]()
    for route in _every_route(request.app.router.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _every_route(routes: Iterable[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # an included router, as FastAPI keeps it
        yield from _every_route(inner.routes) if inner is not None else (route,)


OUTAGE_RETRY_AFTER_SECONDS = 1


async def _outage(request: Request, error: Exception) -> JSONResponse:
    """The database is away or saturated: the request is fine, and worth repeating shortly."""
    log.warning(
        "database unavailable",
        extra={
            "request_id": getattr(request.state, "request_id", None),
            "error": type(error).__name__,
        },
    )
    return problem(
        503,
        "Service unavailable",
        "the database is unavailable or busy; retry shortly",
        kind="database-unavailable",
        headers={"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS)},
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception(
        "unhandled error", extra={"request_id": getattr(request.state, "request_id", None)}
    )
    return problem(500, "Internal error", "the server failed; the request id names it in our logs")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, _ledger_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for outage in OUTAGES:
        app.add_exception_handler(outage, _outage)
    app.add_exception_handler(Exception, _unexpected)
