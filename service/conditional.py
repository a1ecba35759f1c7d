"""Conditional reads (RFC 9110 13.1.2): a GET whose If-None-Match names the ETag the answer
carries is a 304 without a body. Every versioned read sends its stream version as ETag
(service/requests.py `versioned`), so this one wrapper serves all of them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_DROPPED = {b"content-length", b"content-type"}


def _tags(value: bytes) -> set[bytes]:
    return {tag.strip().removeprefix(b"W/") for tag in value.split(b",")}


class ConditionalReads:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = None
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            wanted = next((v for n, v in scope["headers"] if n == b"if-none-match"), None)
        if wanted is None:
            await self.app(scope, receive, send)
            return
        listed = _tags(wanted)
        unchanged = False

        async def send_conditionally(message: Message) -> None:
            nonlocal unchanged
            if message["type"] == "http.response.start" and message["status"] == 200:
                etag = next((v for n, v in message.get("headers", []) if n == b"etag"), None)
                if etag is not None and (b"*" in listed or etag.removeprefix(b"W/") in listed):
                    unchanged = True
                    headers = [(n, v) for n, v in message["headers"] if n not in _DROPPED]
                    message = {**message, "status": 304, "headers": headers}
            elif message["type"] == "http.response.body" and unchanged:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, send_conditionally)
