"""ASGI middleware at the edge: request id, body size cap, access log."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import logs
from service.serving import is_draining

log = logging.getLogger("sophmate.ledger.access")

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode()
_NOSNIFF = (b"x-content-type-options", b"nosniff")
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
_SAFE_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)


class _BodyTooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing passes it on to the problem handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class EdgeMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, on_response: Callable[[int], None] | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.on_response = on_response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered, length = "", "0"
        for name, value in scope["headers"]:  # the two it needs, not a dict of them all
            if name == _REQUEST_ID_KEY:
                offered = value.decode("latin-1")
            elif name == b"content-length":
                length = value.decode("latin-1")
        # A client's id is kept only if it cannot inject anything into logs or headers.
        request_id = offered if _SAFE_REQUEST_ID.match(offered) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        bound = logs.begin_request(request_id)
        started, status = time.perf_counter(), 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((_REQUEST_ID_KEY, request_id.encode()))
                # No answer is ever to be sniffed into HTML or script by a browser (the
                # dashboard's pages set it themselves: not twice).
                if all(name.lower() != _NOSNIFF[0] for name, _ in headers):
                    headers.append(_NOSNIFF)
                message["headers"] = headers
                if is_draining(scope):
                    # Shutting down: keep-alive clients reconnect (to another replica) instead
                    # of sending their next request into a connection about to close.
                    message["headers"].append((b"connection", b"close"))
            await send(message)

        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge(self.max_body_bytes)
            return message

        try:
            declared = int(length or 0)
        except ValueError:
            declared = 0
        try:
            if declared > self.max_body_bytes:
                raise _BodyTooLarge(self.max_body_bytes)
            await self.app(scope, capped_receive, send_with_id)
        except _BodyTooLarge:
            if response_started:
                raise
            await _send_too_large(send_with_id, self.max_body_bytes)
        finally:
            if self.on_response is not None:
                self.on_response(status)
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
            logs.end_request(bound)


async def _send_too_large(send: Send, limit: int) -> None:
    body: dict[str, Any] = {
        "type": "https://sophmate.dev/problems/content-too-large",
        "title": "Content too large",
        "status": 413,
        "detail": f"the request body is larger than {limit} bytes",
    }
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
