"""One guard at the edge for text no handler can hold: a NUL, a lone surrogate, bytes that are
not UTF-8, in the path, the query, a header or the body.

Postgres text and jsonb cannot store a NUL or a lone surrogate, so each of them used to reach the
database and come back as a 500; invalid UTF-8 was FastAPI's 400 "HTTP error". Refusing them here
once, before routing, gives every operation the same 422 problem+json (401 for the Authorization
header, as any other unreadable credential), names only where, never what, and no handler,
validator or query needs to remember them.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.problems import problem

_ESCAPE = re.compile(rb"\\(?:u([0-9A-Fa-f]{4})|.)", re.DOTALL)
"""Every escape of a JSON text, in order: `\\\\` is consumed whole, so `\\\\u0000` is the text
`\\u0000` and not a NUL."""
_AUTHORIZATION = b"authorization"


def _unreadable(text: bytes) -> bool:
    """A NUL or bytes that are not UTF-8 (a surrogate's own encoding is not UTF-8 either)."""
    if b"\x00" in text:
        return True
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _bad_json_escape(body: bytes) -> bool:
    """A `\\u0000` or a lone surrogate escape: valid JSON, yet no text Postgres can hold. A
    high surrogate directly followed by a low one is a character (an emoji) and passes."""
    if b"\\u" not in body:
        return False
    pending_high_end = -1
    for match in _ESCAPE.finditer(body):
        code = int(match.group(1), 16) if match.group(1) else None
        if pending_high_end >= 0:
            if match.start() != pending_high_end or code is None or not 0xDC00 <= code <= 0xDFFF:
                return True
            pending_high_end = -1
            continue
        if code is None:
            continue
        if code == 0 or 0xDC00 <= code <= 0xDFFF:
            return True
        if 0xD800 <= code <= 0xDBFF:
            pending_high_end = match.end()
    return pending_high_end >= 0


def _unreadable_body(scope: Scope, body: bytes) -> bool:
    form = any(
        name == b"content-type" and value.startswith(b"application/x-www-form-urlencoded")
        for name, value in scope["headers"]
    )
    if form:  # the dashboard's forms: their values are percent-encoded
        return _unreadable(body) or _unreadable(unquote_to_bytes(body.replace(b"+", b" ")))
    return _unreadable(body) or _bad_json_escape(body)


def refusal(scope: Scope) -> tuple[str, str] | None:
    """What, in the request line and headers, cannot be read: (where, which status kind)."""
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    if _unreadable(unquote_to_bytes(raw_path)) or "\x00" in scope["path"]:
        return "the path", "invalid"
    if _unreadable(unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" "))):
        return "the query", "invalid"
    for name, value in scope["headers"]:
        if b"\x00" in value or b"\r" in value or b"\n" in value:
            if name.lower() == _AUTHORIZATION:
                return "the Authorization header", "unauthorized"
            return "a header", "invalid"
    return None


class InputGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = refusal(scope)
        if refused is not None:
            await _refuse(scope, receive, send, *refused)
            return
        # The body is read whole (the edge caps its size), checked, and handed on as one message.
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body and _unreadable_body(scope, body):
            await _refuse(scope, receive, send, "the body", "invalid")
            return
        replay: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([replay], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        if messages:
            return messages.pop(0)
        return await receive()

    return replayed


async def _refuse(scope: Scope, receive: Receive, send: Send, where: str, kind: str) -> None:
    detail = f"{where} holds a NUL, a lone surrogate or bytes that are not UTF-8"
    if kind == "unauthorized":
        answer = problem(
            401,
            "Unauthorized",
            f"{where} is not a readable credential",
            headers={"WWW-Authenticate": 'Bearer realm="sophmate-ledger"'},
        )
    else:
        answer = problem(422, "Invalid request", detail, kind="invalid-request")
    await answer(scope, receive, send)
