"""What a command route takes from the HTTP request (context, If-Match, Idempotency-Key) and
what it gives back (the result, with the stream version as ETag)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from events.errors import InvalidCommand
from service.auth.dependencies import Caller
from service.bounds import INT_MAX
from service.command import CommandContext, CommandReply
from service.history.schemas import UtcDatetime
from service.ledger import Ledger
from service.problems import PROBLEM_JSON

_IF_MATCH = re.compile(r'^(?:W/)?"?(\d{1,9})"?$')
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


async def get_ledger(request: Request) -> Ledger:
    # async: a plain `def` dependency is run in the thread pool, on every request.
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(trusted_proxies: str) -> tuple[Network, ...]:
    parts = (part.strip() for part in trusted_proxies.split(","))
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)


_IP_TEXT = re.compile(r"^[0-9A-Fa-f:.]{2,45}$")
"""Digits, hex, dots and colons only: no port, no IPv6 zone id, no NUL, nothing to inject."""


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if not _IP_TEXT.match(text):
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(request: Request) -> str | None:
    """The audited client address: the peer's, or, when the peer is a trusted proxy, the
    nearest X-Forwarded-For entry that is not one. Anyone can write X-Forwarded-For, so it is
    read only behind LEDGER_TRUSTED_PROXIES, right to left (each proxy appends the address it
    saw); an entry that is not an IP address breaks the chain and nothing is recorded."""
    peer = _address(request.client.host) if request.client else None
    trusted = _networks(request.app.state.settings.trusted_proxies)
    if peer is None or not any(peer in net for net in trusted):
        return None if peer is None else str(peer)
    values = request.headers.getlist("x-forwarded-for")
    if not values:
        return str(peer)
    hop = peer
    for entry in reversed([part for value in values for part in value.split(",")]):
        found = _address(entry)
        if found is None:
            return None
        hop = found
        if not any(hop in net for net in trusted):
            break
    # The first hop that is not one of our proxies, or the farthest if all of them are.
    return str(hop)


async def command_context(
    request: Request,
    principal: Caller,
    idempotency_key: Annotated[
        str | None,
        Header(description="Repeat a request safely: the same key and body get the same answer."),
    ] = None,
    if_match: Annotated[
        str | None,
        Header(description="The stream version you read (the ETag); a different one gives 409."),
    ] = None,
) -> CommandContext:
    expected: int | None = None
    if if_match is not None and if_match.strip() == "*":
        pass  # RFC 9110: any current version; the command runs at whatever it loads
    elif if_match is not None:
        match = _IF_MATCH.match(if_match.strip())
        if match is None:
            raise InvalidCommand("If-Match must be a stream version, as the ETag gives it")
        expected = int(match.group(1))
    if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
        raise InvalidCommand("Idempotency-Key must be 1 to 255 visible ASCII characters")
    body = await request.body()
    # Keyed: a stored hash of a body holding a secret must not let anyone confirm a guess of it.
    key = request.app.state.request_hash_key
    message = f"{request.method} {request.url.path}\n".encode() + body
    request_hash = hmac.new(key, message, hashlib.sha256).digest()
    return CommandContext(
        principal=principal,
        operation_id=request.scope["route"].operation_id,
        request_id=request.state.request_id,
        client_ip=client_address(request),
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        if_match=expected,
    )


Command = Annotated[CommandContext, Depends(command_context)]

AsOf = Annotated[
    UtcDatetime | None,
    Query(description="State as it was at this time (ISO 8601; without an offset, UTC)."),
]
AtVersion = Annotated[int | None, Query(ge=1, le=INT_MAX, description="State at this version.")]
"""Time travel: a single-aggregate read folds its stream up to a moment or a version."""


class _SerialisedJSON(JSONResponse):
    """A JSON response whose body is already JSON: serialised once, by pydantic, instead of
    dumped to dicts first and then encoded by json.dumps."""

    def render(self, content: Any) -> bytes:
        assert isinstance(content, bytes)
        return content


def versioned(view: BaseModel, version: int) -> JSONResponse:
    """A read folded from one stream, with the version it was folded at as ETag (for If-Match)."""
    return _SerialisedJSON(view.model_dump_json().encode(), headers={"ETag": f'"{version}"'})


def reply(outcome: CommandReply) -> Response:
    """Every command's answer; a refusal that was itself recorded (a violation) is problem+json."""
    headers = {"ETag": f'"{outcome.stream_version}"'}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    # Sorted keys: a replayed answer (read back from jsonb) is byte-identical to the first one.
    content = json.dumps(outcome.body, sort_keys=True, separators=(",", ":"))
    media = PROBLEM_JSON if outcome.status_code >= 400 else "application/json"
    return Response(content, outcome.status_code, headers, media_type=media)
