"""`Location` on creates (RFC 9110 10.2.2): a 201 names the read of what it created.

What a create made is read by the GET one path segment deeper, whose new parameter the create's
body names (POST /v1/sites with `site_id` -> GET /v1/sites/{site_id}). `created_read` finds it
from the route table, so a create added later gets its Location (and its OpenAPI link) by
having such a read, not by a line of its own. A replayed create answers the same Location.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PATH_PARAM = re.compile(r"\{(\w+)(?::path)?\}")


@dataclass(frozen=True)
class CreatedRead:
    read: APIRoute
    parameter: str
    """The read's one new path parameter, taken from the create's body."""


def created_read(create: APIRoute, routes: Iterable[APIRoute]) -> CreatedRead | None:
    """The GET of what `create` (a 201 command) made, or None when it has no read of its own."""
    if create.status_code != 201:
        return None
    base = create.path_format
    for read in routes:
        if "GET" not in (read.methods or ()) or not read.path_format.startswith(base + "/{"):
            continue
        new = PATH_PARAM.findall(read.path_format[len(base) :])
        if len(new) == 1 and read.path_format.count("/") == base.count("/") + 1:
            return CreatedRead(read, new[0])
    return None


class CreatedLocation:
    """Adds `Location` to a 201 whose route has a created read (see `created_read`)."""

    def __init__(self, app: ASGIApp, routes: list[APIRoute]) -> None:
        self.app = app
        # By path: the app may hold copies of the routers' route objects.
        self.reads = {r.path_format: f for r in routes if (f := created_read(r, routes))}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = bytearray()

        async def keep() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def send_located(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 201:
                location = self._location(scope, bytes(body))
                if location is not None:
                    headers = [*message.get("headers", []), (b"location", location.encode())]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, keep, send_located)

    def _location(self, scope: Scope, body: bytes) -> str | None:
        route = scope.get("route")
        found = self.reads.get(getattr(route, "path_format", ""))
        if found is None:
            return None
        try:
            value = json.loads(body).get(found.parameter)
        except (ValueError, AttributeError):
            return None
        if not isinstance(value, str):
            return None
        values = {**scope.get("path_params", {}), found.parameter: value}
        return PATH_PARAM.sub(lambda m: quote(str(values[m[1]]), safe=""), found.read.path_format)
